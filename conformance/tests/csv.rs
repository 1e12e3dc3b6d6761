//! The care-plan CSV validator: it accepts the files the codec's writer produces (committed
//! copies and a unit written here) and rejects the hand-made invalid files in
//! `tests/data/careplan/invalid/` with the right code and spec clause.

use std::path::{Path, PathBuf};

use kiban_conformance::csv::{clause, validate, validate_bytes};
use kiban_core::id::{CareOfficeNumber, InsuredNumber, InsurerNumber};
use kiban_platform::careplan::{
    Endpoint, FileSerial, FindingCode, Person, PlanSet, Route, ServiceTypeCode, Severity,
    SupplementRow, Table1Row, Table2Row, Table3Row,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/careplan")
        .join(rel)
}

#[test]
fn the_codec_writers_files_are_accepted() {
    let report = validate(&[data("valid")]).unwrap();
    assert_eq!(report.files.len(), 14);
    assert!(report.is_valid(), "{}", report.to_text());
    assert!(
        report
            .files
            .iter()
            .all(|f| f.records > 0 && f.kind.is_some())
    );
    assert!(
        report
            .files
            .iter()
            .any(|f| f.name_format.as_deref() == Some("V3")),
        "a v3.2 name is among them"
    );
}

#[test]
fn a_plan_unit_written_here_by_the_codec_is_accepted() {
    let person = Person {
        insurer: InsurerNumber::parse("141002").unwrap(),
        insured: InsuredNumber::parse("0000004242").unwrap(),
    };
    let cm: CareOfficeNumber = "1470100015".parse().unwrap();
    let route = Route {
        sender: Endpoint {
            office: cm,
            service_type: ServiceTypeCode::parse("43"),
        },
        receiver: Endpoint {
            office: "1471100048".parse().unwrap(),
            service_type: ServiceTypeCode::parse("11"),
        },
        serial: FileSerial::parse("20261001090000").unwrap(),
    };
    let day = time::Date::from_calendar_date(2026, time::Month::September, 28).unwrap();
    let mut t2 = Table2Row::new(person, day);
    t2.need_no = Some(1);
    t2.need = "歩行が不安定".to_owned();
    let mut t3 = Table3Row::new(person, day);
    t3.daily_activity = "起床".to_owned();
    let mut s = SupplementRow::for_plan(person, day);
    s.name = "適合 花子".to_owned();
    let unit = PlanSet {
        table1: vec![Table1Row::new(
            person,
            day,
            cm,
            "適合 一郎",
            "適合居宅介護支援",
        )],
        table2: vec![t2],
        table3: vec![t3],
        supplement: vec![s],
    }
    .write(&route)
    .unwrap();
    let files: Vec<(String, Vec<u8>)> = unit
        .into_iter()
        .map(|f| (f.name.to_string(), f.bytes))
        .collect();
    let report = validate_bytes(&files);
    assert_eq!(report.files.len(), 4);
    assert!(report.is_valid(), "{}", report.to_text());
}

/// Validates one invalid folder and returns its error findings as (code, clause).
fn errors_of(case: &str) -> Vec<(FindingCode, &'static str)> {
    let report = validate(&[data(&format!("invalid/{case}"))]).unwrap();
    assert!(!report.is_valid(), "{case} must be refused");
    report
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (f.code, f.clause))
        .collect()
}

#[test]
fn hand_made_invalid_files_are_refused_with_the_right_clause() {
    for (case, code, section) in [
        ("wrong-encoding", FindingCode::NotMs932, "§2.2"),
        ("bad-name", FindingCode::BadFileName, "§2.1"),
        ("missing-column", FindingCode::ColumnCount, "§3"),
        ("bad-code", FindingCode::BadCode, "§4.1"),
        ("supplement-missing", FindingCode::SupplementMissing, "§4.4"),
    ] {
        let errors = errors_of(case);
        let hit = errors.iter().find(|(c, _)| *c == code);
        assert!(hit.is_some(), "{case}: expected {code:?} among {errors:?}");
        assert!(
            hit.unwrap().1.starts_with(section),
            "{case}: clause {:?}",
            hit.unwrap().1
        );
        assert_eq!(clause(code), hit.unwrap().1);
    }
}

#[test]
fn the_bad_code_finding_names_the_column_and_the_text_report_cites_the_clause() {
    let report = validate(&[data("invalid/bad-code")]).unwrap();
    let finding = report
        .findings()
        .find(|f| f.code == FindingCode::BadCode)
        .unwrap();
    assert_eq!(finding.column_no, Some(16));
    assert_eq!(finding.column_name, Some("計画書区分"));
    let text = report.to_text();
    assert!(
        text.contains("bad-code [No.16 計画書区分] (§4.1 code lists)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["schema"], "kiban-conformance-csv/1");
    assert_eq!(json["errors"].as_u64(), Some(report.errors as u64));
}

#[test]
fn files_and_folders_are_read_and_an_empty_selection_is_an_error() {
    let one = data("invalid/bad-name/UP1KYO_1370000018_43_1371000025_11_2025042510000.CSV");
    let report = validate(&[one]).unwrap();
    assert_eq!(report.files.len(), 1);
    let empty = tempfile::tempdir().unwrap();
    assert!(validate(&[empty.path().to_path_buf()]).is_err());
    assert!(validate(&[data("no-such-file.CSV")]).is_err());
}
