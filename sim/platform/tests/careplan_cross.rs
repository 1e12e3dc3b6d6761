//! Cross-file checks (spec §4.4–§4.6): send-unit grouping and order, the writer refusing
//! inconsistent units, and 実績 reconciliation against the latest 予定.

mod careplan_support;

use careplan_support::*;
use kiban_platform::careplan::{
    FileKind, FindingCode, ParsedFile, Route, Table6Row, WriteError, actuals_as_planned,
    check_files, parse_file, send_units, write_actuals,
};

fn parse_all(files: &[kiban_platform::careplan::OutgoingFile]) -> Vec<ParsedFile> {
    files
        .iter()
        .map(|f| parse_file(&f.name.to_string(), &f.bytes))
        .collect()
}

#[test]
fn units_group_by_serial_and_route_in_import_order() {
    let parsed = parse_all(&valid_files());
    let units = send_units(&parsed);
    let shape: Vec<(String, Vec<FileKind>)> = units
        .iter()
        .map(|(key, files)| {
            let mut kinds: Vec<FileKind> = files.iter().filter_map(|f| f.kind).collect();
            kinds.sort();
            (key.serial.to_string(), kinds)
        })
        .collect();
    use FileKind::*;
    assert_eq!(
        shape,
        vec![
            ("20250225170000".into(), vec![Supplement, Plan, Table7]),
            (
                "20250425100000".into(),
                vec![Supplement, Table1, Table2, Table3]
            ),
            ("20250425100500".into(), vec![Supplement, Plan, Table7]),
            ("20250428120000".into(), vec![Table1Delete]),
            ("20250428120100".into(), vec![PlanDelete]),
            ("20250603093000".into(), vec![Actual]),
            ("20250604080000".into(), vec![ActualDelete]),
        ]
    );
}

fn rejected_codes(err: WriteError) -> Vec<FindingCode> {
    match err {
        WriteError::Rejected { findings } => findings.iter().map(|f| f.code).collect(),
        other => panic!("expected a rejection, got {other}"),
    }
}

#[test]
fn the_writer_refuses_units_that_break_the_links() {
    let mut plan = plan_set();
    plan.table2[1].plan_date = date(2025, 4, 19);
    let err = plan.write(&route_to_home_help()).unwrap_err();
    assert_eq!(rejected_codes(err), vec![FindingCode::OrphanRow]);

    let mut usage = usage_set();
    usage.table7.retain(|r| r.person() != cast().b);
    let err = usage.write(&route_to_home_help()).unwrap_err();
    assert_eq!(rejected_codes(err), vec![FindingCode::Table7Missing]);

    let mut usage = usage_set();
    usage.supplement.pop();
    let err = usage.write(&route_to_home_help()).unwrap_err();
    assert_eq!(rejected_codes(err), vec![FindingCode::SupplementMissing]);

    let mut usage = usage_set();
    usage.table7.remove(4);
    let err = usage.write(&route_to_home_help()).unwrap_err();
    assert_eq!(rejected_codes(err), vec![FindingCode::TotalMissing]);
}

#[test]
fn actuals_as_planned_keep_the_providers_own_lines() {
    let c = cast();
    let planned = usage_set().table6;
    let actual = actuals_as_planned(&planned, c.home_help, date(2025, 6, 2));
    assert_eq!(actual.len(), 7);
    assert!(actual.iter().all(|r| r.office == c.home_help.office));
    let equipment = actuals_as_planned(&planned, c.equipment, date(2025, 6, 2));
    assert_eq!(equipment.len(), 2);
}

#[test]
fn actuals_are_reconciled_with_the_latest_plan_only() {
    let c = cast();
    let usage = usage_set();
    let first = usage.write(&route_to_home_help()).unwrap();
    // A resend for the same month without person B's visit on the 20th.
    let mut resend = usage.clone();
    resend
        .table6
        .retain(|r| r.service_date != date(2025, 5, 20));
    let later = Route {
        serial: serial("20250510090000"),
        ..route_to_home_help()
    };
    let second = resend.write(&later).unwrap();
    let actual: Vec<Table6Row> = actuals_as_planned(&usage.table6, c.home_help, date(2025, 6, 2));
    let jsk = write_actuals(&route_back(), ym(2025, 5), &actual).unwrap();
    let mut files = first;
    files.extend(second);
    files.push(jsk);
    let findings = check_files(&parse_all(&files));
    assert!(
        findings.is_empty(),
        "the code is still planned on another day: {findings:#?}"
    );

    // Drop B's code from the latest plan entirely: the 実績 line no longer matches.
    let mut resend = usage.clone();
    resend.table6.retain(|r| r.person() != c.b);
    resend.table7.retain(|r| r.person() != c.b);
    resend.supplement.retain(|r| r.person() != c.b);
    let last = Route {
        serial: serial("20250520090000"),
        ..route_to_home_help()
    };
    files.extend(resend.write(&last).unwrap());
    let findings = check_files(&parse_all(&files));
    let got: Vec<(Option<u32>, FindingCode)> = findings.iter().map(|f| (f.line, f.code)).collect();
    assert_eq!(got, vec![(Some(6), FindingCode::ActualUnplanned)]);
    assert!(findings[0].message.contains("no 予定 in the plans given"));
}
