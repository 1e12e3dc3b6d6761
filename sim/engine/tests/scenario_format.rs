//! The scenario format: every library scenario loads; unknown keys and bad values are
//! reported with their line; wire mode is parsed and refused by the runner with a typed error.

use kiban_engine::{EngineError, RunOptions, Scenario, run};

const MINIMAL: &str = r#"[scenario]
name = "t"
mode = "model"
seed = 1
start = "2026-04-01"
end = "2026-06-30"

[world]
municipalities = ["141003"]
scale = 0.001

[rollout]
generator = "explicit"
default = "2026-05-01"
"#;

fn library() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = format!("scenarios/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_library_scenario_loads() {
    let all = library();
    assert!(all.len() >= 6, "{}", all.len());
    for (name, text) in all {
        let s = Scenario::from_toml(&text, &name).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.steps.is_empty(), "{name} has no expectations");
    }
}

#[test]
fn a_minimal_scenario_loads() {
    let s = Scenario::from_toml(MINIMAL, "t.toml").unwrap();
    assert_eq!(s.variants.len(), 1);
    assert_eq!(s.variants[0].name, "baseline");
    assert_eq!(s.hash.len(), 64);
}

fn error_of(text: &str) -> kiban_engine::ScenarioError {
    Scenario::from_toml(text, "bad.toml").unwrap_err()
}

#[test]
fn unknown_keys_are_reported_with_their_line() {
    let text = MINIMAL.replace("scale = 0.001", "scale = 0.001\ncolour = \"blue\"");
    let err = error_of(&text);
    assert_eq!(err.line, 11, "{err}");
    assert!(err.message.contains("colour"), "{err}");
    assert!(err.to_string().starts_with("bad.toml:11: "), "{err}");

    let text = format!("{MINIMAL}\n[model]\ncard-rate = 0.5\n");
    let err = error_of(&text);
    assert_eq!(err.line, 17, "{err}");
    assert!(err.message.contains("card-rate"), "{err}");

    let text = format!(
        "{MINIMAL}\n[policy]\nconsent = {{ model = \"comprehensive\", expiry = \"never\", colour = 1 }}\nlapse = {{ kind = \"never\" }}\nrollout = {{ cross-municipality-rule = true }}\n"
    );
    let err = error_of(&text);
    assert_eq!(err.line, 17, "{err}");
    assert!(err.message.contains("colour"), "{err}");
}

#[test]
fn bad_values_name_the_line_and_the_value() {
    let cases: [(&str, &str, usize, &str); 6] = [
        (
            "municipalities = [\"141003\"]",
            "municipalities = [\"141004\"]",
            9,
            "141004",
        ),
        (
            "generator = \"explicit\"",
            "generator = \"someday\"",
            12,
            "someday",
        ),
        (
            "start = \"2026-04-01\"",
            "start = \"2026-04-31\"",
            5,
            "2026-04-31",
        ),
        ("scale = 0.001", "scale = 2.0", 8, "scale"),
        ("mode = \"model\"", "mode = \"dream\"", 3, "dream"),
        (
            "end = \"2026-06-30\"",
            "end = \"2026-06-29\"",
            1,
            "last day of a month",
        ),
    ];
    for (from, to, line, needle) in cases {
        let err = error_of(&MINIMAL.replace(from, to));
        assert_eq!(err.line, line, "{to}: {err}");
        assert!(err.message.contains(needle), "{to}: {err}");
    }
}

#[test]
fn steps_are_checked_against_the_world_and_the_period() {
    let step = |body: &str| format!("{MINIMAL}\n[[step]]\n{body}\n");
    let cases = [
        (
            "at = \"2026-05\"\nmetric = \"no-such-metric\"\nequals = 1",
            "no-such-metric",
        ),
        (
            "at = \"2027-05\"\nmetric = \"municipalities-live\"\nequals = 1",
            "outside",
        ),
        (
            "at = \"2026-05\"\nmetric = \"municipalities-live\"",
            "exactly one of equals",
        ),
        (
            "at = \"2026-05-01\"\ndecide = { office = \"x\", person = \"y\", class = \"insurance-card\" }\nexpect = \"permit\"",
            "unknown office",
        ),
        (
            "at = \"2026-05\"\nmetric = \"municipalities-live\"\nequals = 1\nvariant = \"other\"",
            "unknown variant",
        ),
        ("at = \"2026-05-01\"\naction = \"dance\"", "unknown action"),
    ];
    for (body, needle) in cases {
        let err = error_of(&step(body));
        assert_eq!(err.line, 16, "{body}: {err}");
        assert!(err.message.contains(needle), "{body}: {err}");
    }
}

#[test]
fn wire_mode_is_parsed_and_refused_with_a_typed_error() {
    let s = Scenario::from_toml(
        &MINIMAL.replace("mode = \"model\"", "mode = \"wire\""),
        "w.toml",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = run(&s, &RunOptions::new(dir.path())).unwrap_err();
    assert!(matches!(err, EngineError::WireModeUnavailable));
    assert!(err.to_string().contains("wire mode is not available yet"));
}

#[test]
fn a_failing_expectation_is_a_verdict_not_an_error() {
    let text = format!(
        "{MINIMAL}\n[[step]]\nat = \"2026-05\"\nmetric = \"municipalities-live\"\nequals = 0\nnote = \"wrong on purpose: Yokohama is live from 2026-05-01\"\n"
    );
    let s = Scenario::from_toml(&text, "f.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(&s, &RunOptions::new(dir.path())).unwrap();
    assert!(!outcome.passed());
    let v = &outcome.verdicts[0];
    assert_eq!(
        (v.step, v.line, v.expected.as_str(), v.actual.as_str()),
        (1, 16, "= 0", "1")
    );
}
