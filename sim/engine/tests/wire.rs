//! Wire mode end to end: a scenario runs against the reference platform and the actors over
//! loopback mTLS, the same seed writes byte-identical report folders (no port, serial,
//! token, nonce, card link or wall-clock value in them), another seed changes the seeded
//! numbers, the report is snapshotted, and a wrong expectation is a failing verdict naming
//! the step, expected and actual.

use std::collections::BTreeMap;
use std::path::Path;

use kiban_engine::{Lang, RunOptions, Scenario, run};

fn scenario(file: &str) -> Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/");
    let text = std::fs::read_to_string(format!("{path}{file}")).unwrap();
    Scenario::from_toml(&text, &format!("scenarios/{file}")).unwrap()
}

fn folder(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

fn run_into(
    s: &Scenario,
    dir: &Path,
    seed: Option<u64>,
    lang: Option<Lang>,
) -> BTreeMap<String, Vec<u8>> {
    let mut options = RunOptions::new(dir);
    options.seed = seed;
    options.lang = lang;
    options.git_commit = Some("0000000".to_owned());
    let outcome = run(s, &options).unwrap();
    assert!(
        outcome.passed(),
        "{:#?}",
        outcome
            .verdicts
            .iter()
            .filter(|v| !v.passed)
            .collect::<Vec<_>>()
    );
    folder(dir)
}

#[test]
fn a_wire_run_writes_byte_identical_folders_for_the_same_seed() {
    let s = scenario("certificate-lifecycle.toml");
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let first = run_into(&s, a.path(), None, None);
    let second = run_into(&s, b.path(), None, None);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["inputs.json", "report.md", "scenario.toml", "steps.json"]
    );
    for (name, bytes) in &first {
        assert!(bytes == &second[name], "{name} differs between two runs");
    }
    let md = String::from_utf8(first["report.md"].clone()).unwrap();
    assert!(!md.contains("127.0.0.1") && !md.contains("CL-"), "{md}");
    // Another seed draws other office and insured numbers; the story is the same.
    let other = run_into(&s, c.path(), Some(99), None);
    assert_ne!(first["steps.json"], other["steps.json"]);
    insta::assert_snapshot!("certificate_lifecycle_report_en", md);
}

#[test]
fn a_wire_report_in_japanese() {
    let s = scenario("representatives.toml");
    let dir = tempfile::tempdir().unwrap();
    let files = run_into(&s, dir.path(), None, Some(Lang::Ja));
    let md = String::from_utf8(files["report.md"].clone()).unwrap();
    insta::assert_snapshot!("representatives_report_ja", md);
}

#[test]
fn a_wrong_expectation_fails_with_the_step_expected_and_actual() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/cross-municipality-yokohama-kawasaki-wire.toml"
    );
    let text = std::fs::read_to_string(path).unwrap().replace(
        "expect = \"office-municipality-not-live\"",
        "expect = \"permit\"",
    );
    let s = Scenario::from_toml(&text, "x.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(&s, &RunOptions::new(dir.path())).unwrap();
    let failed: Vec<_> = outcome.verdicts.iter().filter(|v| !v.passed).collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].step, 7);
    assert_eq!(failed[0].expected, "permit");
    assert_eq!(failed[0].actual, "office-municipality-not-live");
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| FAIL |"), "{md}");
}

#[test]
fn a_wire_run_refuses_to_block_inside_a_runtime() {
    let s = scenario("representatives.toml");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = rt
        .block_on(async { run(&s, &RunOptions::new(dir.path())) })
        .unwrap_err();
    assert!(
        matches!(err, kiban_engine::EngineError::InsideRuntime),
        "{err}"
    );
}
