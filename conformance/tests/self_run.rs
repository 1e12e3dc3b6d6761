//! The whole suite against the reference platform started in-process: every case passes
//! (none skipped: the reference offers every capability), the four reports are written, and
//! the JSON digest verifies. Also the reference under the per-office consent model, for the
//! consent area (its other cases are covered by the first run).

use std::time::{Duration, Instant};

use kiban_conformance::catalogue::Area;
use kiban_conformance::reference::{self, ReferenceOptions, reference_policy};
use kiban_conformance::report::{FILES, Outcome, verify_json};
use kiban_conformance::{Filter, RunOptions, run};
use kiban_core::rules::ConsentModel;

#[test]
fn the_whole_suite_passes_against_the_reference_platform() {
    let reference = reference::start(&ReferenceOptions::default()).unwrap();
    let started = Instant::now();
    let options = RunOptions {
        jobs: 4,
        timeout: Duration::from_secs(60),
        ..RunOptions::default()
    };
    let report = run(reference.target(), &options).unwrap();
    let elapsed = started.elapsed();
    let summary = report.console_summary();
    let failed: Vec<&str> = report
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Pass | Outcome::Skip { .. }))
        .map(|r| r.id.as_str())
        .collect();
    let deviations = kiban_conformance::reference_deviations();
    let expected: Vec<&str> = deviations.keys().map(String::as_str).collect();
    assert_eq!(
        failed, expected,
        "only the ledgered deviations (deviations.toml) may fail against the reference; \
         a fixed deviation must leave the ledger\n{summary}"
    );
    for id in &expected {
        assert_eq!(
            report.result(id).map(|r| r.outcome.as_str()),
            Some("fail"),
            "{id}: a deviation fails, it does not error"
        );
    }
    let skipped: Vec<_> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skip { .. }))
        .map(|r| r.id.as_str())
        .collect();
    // Only the per-office consent case is skipped: the reference runs the comprehensive model.
    assert_eq!(skipped, ["CON-05"], "{summary}");
    assert_eq!(report.summary.total, kiban_conformance::cases::all().len());
    assert!(
        elapsed < Duration::from_secs(60),
        "the suite took {elapsed:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let written = report.write_all(dir.path()).unwrap();
    assert_eq!(written.len(), FILES.len());
    let json = std::fs::read_to_string(dir.path().join("conformance.json")).unwrap();
    assert!(verify_json(&json).unwrap(), "the report's digest verifies");
    let edited = json.replacen("\"status\": \"pass\"", "\"status\": \"fail\"", 1);
    assert!(
        !verify_json(&edited).unwrap(),
        "an edited report must not verify"
    );
}

#[test]
fn the_consent_area_passes_under_the_per_office_model() {
    let mut policy = reference_policy();
    policy.consent.model = ConsentModel::PerOffice;
    let reference = reference::start(&ReferenceOptions {
        policy,
        ..ReferenceOptions::default()
    })
    .unwrap();
    let options = RunOptions {
        jobs: 2,
        filter: Filter {
            areas: vec![Area::Consent, Area::Access],
            ..Filter::default()
        },
        ..RunOptions::default()
    };
    let report = run(reference.target(), &options).unwrap();
    assert!(report.all_passed(), "{}", report.console_summary());
    let ran = |id: &str| report.result(id).map(|r| r.outcome.as_str());
    assert_eq!(ran("CON-05"), Some("pass"));
    assert_eq!(ran("CON-02"), Some("skip"), "comprehensive-only case");
}
