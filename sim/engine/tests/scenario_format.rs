//! The scenario format: every library scenario loads; unknown keys and bad values are
//! reported with their line; each mode rejects at load, with the line, what it cannot run.

use kiban_engine::{RunOptions, Scenario, run};

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

const WIRE: &str = r#"[scenario]
name = "w"
mode = "wire"
seed = 1
start = "2026-10-01"
end = "2026-12-31"

[world]
municipalities = ["141003"]

[[world.office]]
name = "cm"
role = "care-management"
municipality = "141003"
terminals = [{ name = "pc-1" }, { name = "byod-1", staff = "sato", days = 30 }]

[[world.person]]
name = "p"
insurer = "141003"

[[world.person]]
name = "q"
insurer = "141003"
card = false
representative = "guardian"

[rollout]
generator = "explicit"
dates = { "141003" = "2026-10-01" }
"#;

#[test]
fn wire_scenarios_load_with_their_wire_only_keys() {
    let text = format!(
        "{WIRE}\n[[step]]\nat = \"2026-10-02\"\ndecide = {{ office = \"cm\", person = \"p\", class = \"insurance-card\" }}\nterminal = \"byod-1\"\nexpect = \"staff-disabled\"\n\n[[step]]\nat = \"2026-10-02\"\naction = \"retire-terminal\"\noffice = \"cm\"\nterminal = \"byod-1\"\n\n[[step]]\nat = \"2026-10-02\"\ndecide = {{ portal = \"representative\", person = \"q\", class = \"insurance-card\" }}\nexpect = \"holder-unknown\"\n"
    );
    let s = Scenario::from_toml(&text, "w.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.world.offices[0].terminals.len(), 2);
    assert_eq!(s.world.offices[0].terminals[1].days, 30);
    assert!(!s.world.people[1].card);
    assert_eq!(s.steps[0].terminal, Some(1));
    // A default terminal is valid through the period (92 days).
    let plain = WIRE.replace(
        "terminals = [{ name = \"pc-1\" }, { name = \"byod-1\", staff = \"sato\", days = 30 }]\n",
        "",
    );
    let s = Scenario::from_toml(&plain, "w.toml").unwrap();
    assert_eq!(s.world.offices[0].terminals[0].name, "pc-1");
    assert_eq!(s.world.offices[0].terminals[0].days, 92);
    assert_eq!(s.world.offices[0].terminals[0].staff, "admin");
}

/// The line of the first `[[step]]` appended to `base`.
fn step_line(base: &str) -> usize {
    base.lines().count() + 2
}

#[test]
fn wire_mode_rejects_what_a_platform_run_cannot_do_with_the_line() {
    let line = step_line(WIRE);
    let cases = [
        (
            "at = \"2026-10\"\nmetric = \"municipalities-live\"\nequals = 1",
            "metric steps need the national model",
        ),
        (
            "at = \"2026-10-02\"\naction = \"stay-start\"\nperson = \"p\"\nstay = \"hospital\"",
            "no route for hospital and short stays",
        ),
        (
            "at = \"2026-10-02\"\naction = \"register\"\noffice = \"cm\"\nperson = \"q\"",
            "has no card",
        ),
        (
            "at = \"2026-10-02\"\naction = \"register-without-card\"\noffice = \"cm\"\nperson = \"p\"",
            "holds a card",
        ),
        (
            "at = \"2026-10-02\"\naction = \"register-representative\"\nperson = \"p\"",
            "has no representative",
        ),
        (
            "at = \"2026-10-02\"\naction = \"staff-leaves\"\noffice = \"cm\"\nstaff = \"tanaka\"",
            "no staff member \"tanaka\"",
        ),
        (
            "at = \"2026-10-02\"\ndecide = { office = \"cm\", person = \"p\", class = \"insurance-card\" }\nterminal = \"pc-9\"\nexpect = \"permit\"",
            "no terminal \"pc-9\"",
        ),
        (
            "at = \"2026-10-02\"\ndecide = { office = \"cm\", person = \"p\", class = \"insurance-card\" }\nexpect = \"no-such-code\"",
            "neither permit, a reason code of kiban-core nor a refusal code",
        ),
        (
            "at = \"2026-10-02\"\ndecide = { portal = \"person\", person = \"q\", class = \"insurance-card\" }\nexpect = \"permit\"",
            "no card to sign in",
        ),
    ];
    for (body, needle) in cases {
        let err = error_of(&format!("{WIRE}\n[[step]]\n{body}\n"));
        assert_eq!(err.line, line, "{body}: {err}");
        assert!(err.message.contains(needle), "{body}: {err}");
    }
    let scaled = WIRE.replace(
        "municipalities = [\"141003\"]",
        "municipalities = [\"141003\"]\nscale = 0.001",
    );
    let err = error_of(&scaled);
    assert_eq!(err.line, 8, "{err}");
    assert!(err.message.contains("world.scale must be 0"), "{err}");
    let err = error_of(&format!("{WIRE}\n[[variant]]\nname = \"v\"\n"));
    assert_eq!(err.line, line, "{err}");
    assert!(err.message.contains("variants are model-only"), "{err}");
    let err = error_of(&format!("{WIRE}\n[model]\ncard-holding-rate = 0.5\n"));
    assert_eq!(err.line, line, "{err}");
    assert!(err.message.contains("no model"), "{err}");
}

#[test]
fn model_mode_rejects_wire_only_keys_and_actions_with_the_line() {
    let named = format!(
        "{MINIMAL}\n[[world.office]]\nname = \"cm\"\nrole = \"care-management\"\nmunicipality = \"141003\"\n\n[[world.person]]\nname = \"p\"\ninsurer = \"141003\"\n"
    );
    let line = step_line(&named);
    let cases = [
        (
            "at = \"2026-05-02\"\naction = \"staff-leaves\"\noffice = \"cm\"\nstaff = \"sato\"",
            "wire-only keys",
        ),
        (
            "at = \"2026-05-02\"\naction = \"register-representative\"\nperson = \"p\"",
            "is wire-only",
        ),
        (
            "at = \"2026-05-02\"\ndecide = { portal = \"person\", person = \"p\", class = \"insurance-card\" }\nexpect = \"permit\"",
            "portal reads are wire-only",
        ),
        (
            "at = \"2026-05-02\"\ndecide = { office = \"cm\", person = \"p\", class = \"insurance-card\" }\nexpect = \"staff-disabled\"",
            "neither permit nor a reason code",
        ),
    ];
    for (body, needle) in cases {
        let err = error_of(&format!("{named}\n[[step]]\n{body}\n"));
        assert_eq!(err.line, line, "{body}: {err}");
        assert!(err.message.contains(needle), "{body}: {err}");
    }
    let err = error_of(&named.replace(
        "insurer = \"141003\"\n",
        "insurer = \"141003\"\ncard = false\n",
    ));
    assert!(err.message.contains("wire-only"), "{err}");
    let err = error_of(&named.replace(
        "municipality = \"141003\"\n\n[[world.person]]",
        "municipality = \"141003\"\nterminals = [{ name = \"pc-1\" }]\n\n[[world.person]]",
    ));
    assert!(err.message.contains("terminals are wire-only"), "{err}");
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
