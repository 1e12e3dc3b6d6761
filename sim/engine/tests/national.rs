//! The national model's population: certified persons ≈ population × 7.08 M / 126.2 M ×
//! scale (domain-facts §7), spread over every municipality, with care relationships, and
//! the survey calibration visible in a short run.

use kiban_engine::{RunOptions, Scenario, run};

const NATIONAL: &str = r#"[scenario]
name = "national-population"
mode = "model"
seed = 3
start = "2026-04-01"
end = "2026-05-31"

[world]
municipalities = "all"
scale = 0.001

[rollout]
generator = "survey-2025"

[[step]]
at = "2026-04"
metric = "certified-persons"
within = [6850, 7300]
note = "7.08 M × 0.001, less a month of deaths, plus a month of new certifications"

[[step]]
at = "2026-04"
metric = "municipalities-live"
scope = "nation"
within = [60, 150]
note = "FY2026 go-lives spread over twelve months: about a twelfth of 66% of 1,741"

[[step]]
at = "2026-05"
metric = "relationships"
within = [10000, 16000]
note = "80% users; home users have a care manager and one or two service offices"

[[step]]
at = "2026-05"
metric = "cross-municipality-relationships"
at-least = 1000
note = "some offices are in a neighbouring municipality"
"#;

#[test]
fn the_national_population_follows_the_certified_ratio() {
    let scenario = Scenario::from_toml(NATIONAL, "national.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(&scenario, &RunOptions::new(dir.path())).unwrap();
    for v in &outcome.verdicts {
        assert!(
            v.passed,
            "{} expected {}, got {}",
            v.subject, v.expected, v.actual
        );
    }
    let stats = &outcome.stats[0];
    assert!(
        stats.offices > 150_000,
        "offices at their national density: {}",
        stats.offices
    );
    assert!(stats.decisions > 0);
}
