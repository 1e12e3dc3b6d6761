//! The suite's strength: each named fault of the reference platform (kiban_platform::faults,
//! switched on through the test-only `faults` feature) is run against the whole suite on a
//! reference of its own; every fault must be caught by at least one case (ledgered deviations
//! do not count), and the measured catch rate is recorded in the report.

use kiban_conformance::reference::{self, ReferenceOptions, measure_strength};
use kiban_conformance::{RunOptions, run};
use kiban_platform::faults::{Fault, Faults};

#[test]
fn every_fault_is_caught_by_at_least_one_case() {
    let sets: Vec<(Fault, Faults)> = Fault::ALL
        .iter()
        .map(|f| (*f, Faults::NONE.with(*f)))
        .collect();
    let options = RunOptions {
        jobs: 4,
        ..RunOptions::default()
    };
    let strength = measure_strength(&sets, &options).unwrap();
    let missed: Vec<&str> = strength
        .faults
        .iter()
        .filter(|f| f.caught_by.is_empty())
        .map(|f| f.fault.as_str())
        .collect();
    assert!(
        missed.is_empty(),
        "faults not caught: {missed:?}\n{strength:#?}"
    );
    assert_eq!(strength.total, Fault::ALL.len());
    assert_eq!(strength.caught, strength.total);
    assert!((strength.catch_rate - 1.0).abs() < f64::EPSILON);
    // The catch rate is part of the report a baseline run writes.
    let baseline = reference::start(&ReferenceOptions::default()).unwrap();
    let report = run(baseline.target(), &options)
        .unwrap()
        .with_strength(strength);
    assert!(
        report
            .console_summary()
            .contains("strength: 13/13 faults caught (catch rate 100%)"),
        "{}",
        report.console_summary()
    );
    assert!(report.to_markdown().contains("catch rate 100%"));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["strength"]["catch_rate"], 1.0);
    assert_eq!(
        json["strength"]["faults"].as_array().map(Vec::len),
        Some(13)
    );
}

#[test]
fn a_fault_is_caught_by_the_cases_that_test_its_rule() {
    // The mapping comes from runs, not from the tags; the tags name the case written for
    // each fault, and that case must be among the catchers.
    let sets: Vec<(Fault, Faults)> = Fault::ALL
        .iter()
        .map(|f| (*f, Faults::NONE.with(*f)))
        .collect();
    let options = RunOptions {
        jobs: 4,
        filter: kiban_conformance::Filter {
            tags: Fault::ALL
                .iter()
                .map(|f| format!("fault:{}", f.name()))
                .collect(),
            ..Default::default()
        },
        ..RunOptions::default()
    };
    let strength = measure_strength(&sets, &options).unwrap();
    for fault in &strength.faults {
        let tagged: Vec<&str> = kiban_conformance::cases::all()
            .into_iter()
            .filter(|c| c.tags.contains(&format!("fault:{}", fault.fault).as_str()))
            .map(|c| c.id)
            .collect();
        assert!(
            tagged
                .iter()
                .any(|id| fault.caught_by.iter().any(|c| c == id)),
            "{}: tagged {tagged:?}, caught by {:?}",
            fault.fault,
            fault.caught_by
        );
    }
}
