//! Target files and run options: the file the reference writes loads and drives a run on its
//! own (identity cases then skip, naming what is missing), unknown keys and slots are refused,
//! and a run's verdicts do not depend on `jobs`.

use std::collections::BTreeMap;

use kiban_conformance::reference::{self, ReferenceOptions};
use kiban_conformance::target::{Target, TargetError};
use kiban_conformance::{RunOptions, run};

#[test]
fn the_written_target_file_drives_a_run_without_the_in_process_jlis() {
    let reference = reference::start(&ReferenceOptions::default()).unwrap();
    let target = Target::load(reference.target_file()).unwrap();
    assert!(target.jlis.is_none(), "the file has no [jlis]");
    assert!(target.sim_clock && target.pki.is_some());
    assert_eq!(target.clients.len(), 10);
    let report = run(&target, &RunOptions::default()).unwrap();
    let ledger = kiban_conformance::reference_deviations();
    for r in &report.results {
        match r.outcome.as_str() {
            "skip" => {
                let needs_jlis = kiban_conformance::cases::all().iter().any(|c| {
                    c.id == r.id && c.needs.contains(&kiban_conformance::suite::Need::Jlis)
                });
                assert!(
                    needs_jlis || r.id == "CON-05",
                    "{} skipped: {:?}",
                    r.id,
                    r.outcome
                );
            }
            "pass" => {}
            _ => assert!(
                ledger.contains_key(&r.id),
                "{}\n{}",
                r.id,
                report.console_summary()
            ),
        }
    }
    assert!(report.result("IDV-01").is_some_and(|r| matches!(&r.outcome, kiban_conformance::report::Outcome::Skip { reason } if reason.contains("J-LIS"))));
    assert_eq!(
        report.result("TLS-07").map(|r| r.outcome.as_str()),
        Some("pass"),
        "revocation through the PKI folder"
    );
}

#[test]
fn verdicts_do_not_depend_on_jobs() {
    let reference = reference::start(&ReferenceOptions::default()).unwrap();
    let verdicts = |jobs| {
        let report = run(
            reference.target(),
            &RunOptions {
                jobs,
                ..RunOptions::default()
            },
        )
        .unwrap();
        let verdicts = report
            .results
            .iter()
            .map(|r| (r.id.clone(), r.outcome.as_str()))
            .collect::<BTreeMap<_, _>>();
        (verdicts, report.console_summary())
    };
    let (one, one_text) = verdicts(1);
    assert_eq!(one.len(), kiban_conformance::cases::all().len());
    let (six, six_text) = verdicts(6);
    assert!(one == six, "jobs 1:\n{one_text}\njobs 6:\n{six_text}");
}

#[test]
fn target_files_with_unknown_keys_slots_or_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    std::fs::write(base.join("ca.pem"), "").unwrap();
    let load = |text: &str| Target::from_toml(text, base);
    let head = "format = \"kiban-conformance-target/1\"\nbase_url = \"https://127.0.0.1:8443\"\n";
    assert!(matches!(
        load(&format!("{head}server_ca = \"ca.pem\"\ncolour = 1\n")),
        Err(TargetError::Toml { .. })
    ));
    assert!(matches!(
        load("format = \"kiban-conformance-target/9\"\nbase_url = \"https://127.0.0.1:8443\"\nserver_ca = \"ca.pem\"\n"),
        Err(TargetError::Invalid(m)) if m.contains("format")
    ));
    assert!(matches!(
        load("format = \"kiban-conformance-target/1\"\nbase_url = \"http://127.0.0.1:8443\"\nserver_ca = \"ca.pem\"\n"),
        Err(TargetError::Invalid(m)) if m.contains("https://")
    ));
    let reference = reference::start(&ReferenceOptions::default()).unwrap();
    let text = std::fs::read_to_string(reference.target_file()).unwrap();
    let folder = reference.target_file().parent().unwrap();
    let renamed = text.replace("[clients.facility]", "[clients.hospital]");
    assert!(
        matches!(Target::from_toml(&renamed, folder), Err(TargetError::Invalid(m)) if m.contains("unknown slot"))
    );
    let swapped = text
        .replacen("[clients.facility]", "[clients.facility-x]", 0)
        .replace("[clients.operator]", "[clients.unused]")
        .replace("[clients.person]", "[clients.operator]");
    assert!(matches!(
        Target::from_toml(&swapped, folder),
        Err(TargetError::Invalid(_))
    ));
}
