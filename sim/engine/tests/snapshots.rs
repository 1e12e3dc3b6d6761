//! Snapshot of a small scenario's report (named offices and a person, a small generated
//! population in Yokohama and Kawasaki): any change to the report's content or layout shows
//! up as a reviewed snapshot diff.

use kiban_engine::{Lang, RunOptions, Scenario, run};

fn report(lang: Lang) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/cross-municipality-yokohama-kawasaki.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let scenario =
        Scenario::from_toml(&text, "scenarios/cross-municipality-yokohama-kawasaki.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = RunOptions::new(dir.path());
    options.lang = Some(lang);
    let outcome = run(&scenario, &options).unwrap();
    assert!(outcome.passed(), "{:#?}", outcome.verdicts);
    std::fs::read_to_string(dir.path().join("report.md")).unwrap()
}

#[test]
fn small_scenario_report_en() {
    insta::assert_snapshot!(report(Lang::En));
}

#[test]
fn small_scenario_report_ja() {
    insta::assert_snapshot!(report(Lang::Ja));
}
