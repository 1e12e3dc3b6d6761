//! Every scenario of the library passes its expectations, model and wire alike. The
//! generated population of model scenarios is run at a small scale (at most 0.001 of the
//! national one) so the suite stays fast in debug builds; the expectations are written to
//! hold at any scale. Wire scenarios have no generated population.

use kiban_engine::{RunOptions, Scenario, run};

#[test]
fn every_library_scenario_passes_at_a_small_scale() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let out = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let scenario = Scenario::from_toml(&text, &name).unwrap();
        let mut options = RunOptions::new(out.path().join(&name));
        if scenario.world.scale > 0.0 {
            options.scale = Some(scenario.world.scale.min(0.001));
        }
        let outcome = run(&scenario, &options).unwrap();
        assert!(outcome.files.iter().any(|f| f.ends_with("report.md")));
        for v in outcome.verdicts.iter().filter(|v| !v.passed) {
            failures.push(format!(
                "{name} step {} (line {}, {}): {} expected {}, got {}",
                v.step, v.line, v.variant, v.subject, v.expected, v.actual
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The named world asks the core's registration gate (`may_register`) like the platform
/// does, so a card verification before the insurer is live is refused in model mode too
/// (it used to be applied in model mode and refused over the wire).
#[test]
fn model_mode_refuses_a_registration_before_the_insurer_is_live_like_the_platform() {
    let text = r#"
[scenario]
name = "register-before-go-live"
mode = "model"
seed = 1
start = "2026-10-01"
end = "2026-12-31"

[world]
municipalities = ["141003"]
scale = 0

[[world.office]]
name = "cm"
role = "care-management"
municipality = "141003"

[[world.person]]
name = "p"
insurer = "141003"

[rollout]
generator = "explicit"
dates = { "141003" = "2026-11-01" }

[[step]]
at = "2026-10-15"
action = "register"
office = "cm"
person = "p"

[[step]]
at = "2026-11-01"
action = "register"
office = "cm"
person = "p"
"#;
    let scenario = Scenario::from_toml(text, "register-before-go-live").unwrap();
    let out = tempfile::tempdir().unwrap();
    let outcome = run(&scenario, &RunOptions::new(out.path())).unwrap();
    let actual: Vec<(&str, bool)> = outcome
        .verdicts
        .iter()
        .map(|v| (v.actual.as_str(), v.passed))
        .collect();
    assert_eq!(
        actual,
        [("refused: insurer-not-live", false), ("applied", true)]
    );
}
