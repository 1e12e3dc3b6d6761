//! The JUnit report parses with a maintained XML reader (quick-xml) and has the structure CI
//! consumers expect: `testsuites` → one `testsuite` per area with counts → `testcase` with
//! classname, name and time, and `failure`/`skipped` children carrying the requirement or the
//! reason. The run is against a reference with a fault, so a failure is certain.

use std::collections::BTreeMap;

use kiban_conformance::reference::{self, ReferenceOptions};
use kiban_conformance::{Filter, RunOptions, run};
use kiban_platform::faults::{Fault, Faults};
use quick_xml::Reader;
use quick_xml::events::Event;

#[derive(Debug, Default)]
struct Case {
    classname: String,
    time: Option<String>,
    failure: Option<String>,
    skipped: Option<String>,
}

#[test]
fn the_junit_report_parses_and_has_the_expected_structure() {
    let reference = reference::start(&ReferenceOptions {
        faults: Faults::NONE.with(Fault::ConsentNotChecked),
        ..ReferenceOptions::default()
    })
    .unwrap();
    let options = RunOptions {
        jobs: 2,
        filter: Filter {
            ids: vec!["CON-".into(), "TLS-01".into()],
            ..Filter::default()
        },
        ..RunOptions::default()
    };
    let report = run(reference.target(), &options).unwrap();
    assert_eq!(
        report.result("CON-01").map(|r| r.outcome.as_str()),
        Some("fail")
    );
    assert_eq!(
        report.result("CON-05").map(|r| r.outcome.as_str()),
        Some("skip")
    );
    let xml = report.to_junit().unwrap();

    let mut reader = Reader::from_str(&xml);
    let mut roots = Vec::new();
    let mut suites: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().unwrap();
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                depth -= 1;
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(element) = start else { continue };
        let name = String::from_utf8(element.name().as_ref().to_vec()).unwrap();
        let attrs: BTreeMap<String, String> = element
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        match (depth, name.as_str()) {
            (0, root) => roots.push(root.to_owned()),
            (1, "testsuite") => {
                suites.insert(attrs["name"].clone(), attrs.clone());
            }
            (2, "testcase") => {
                let id = attrs["name"].split(' ').next().unwrap().to_owned();
                cases.insert(
                    id.clone(),
                    Case {
                        classname: attrs["classname"].clone(),
                        time: attrs.get("time").cloned(),
                        ..Case::default()
                    },
                );
                current = Some(id);
            }
            (3, "failure") => {
                cases.get_mut(current.as_ref().unwrap()).unwrap().failure =
                    attrs.get("message").cloned()
            }
            (3, "skipped") => {
                cases.get_mut(current.as_ref().unwrap()).unwrap().skipped =
                    attrs.get("message").cloned()
            }
            _ => {}
        }
        if !empty {
            depth += 1;
        }
    }
    assert_eq!(roots, ["testsuites"]);
    let consent = &suites["kiban.conformance.consent"];
    assert_eq!(consent["tests"], "7");
    assert_eq!(
        consent["failures"].parse::<usize>().unwrap(),
        report
            .results
            .iter()
            .filter(|r| r.area == kiban_conformance::Area::Consent && r.outcome.as_str() == "fail")
            .count()
    );
    assert_eq!(consent["skipped"], "1");
    assert!(suites.contains_key("kiban.conformance.tls"));
    assert_eq!(cases.len(), report.results.len());
    let con01 = &cases["CON-01"];
    assert_eq!(con01.classname, "kiban.conformance.consent");
    assert!(con01.time.is_some());
    let failure = con01.failure.as_deref().unwrap();
    assert!(failure.starts_with("KIBAN-CON-001: "), "{failure}");
    assert!(
        failure.contains("expected 403 consent-missing, got 200"),
        "{failure}"
    );
    assert!(
        cases["CON-05"]
            .skipped
            .as_deref()
            .unwrap()
            .contains("per-office")
    );
    assert!(cases["TLS-01"].failure.is_none() && cases["TLS-01"].skipped.is_none());
    // The failure's description carries the exchange that showed it.
    assert!(
        xml.contains("&gt; GET /v1/persons/"),
        "the exchange is in the failure text"
    );
}
