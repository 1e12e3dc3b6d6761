//! Parsing whole files (spec §2–§4): typed rows back from written files, the v3 layout,
//! lenient points ([NC]), warnings on [NC] columns, and robustness (no panic, the cap).

mod careplan_support;

use careplan_support::*;
use kiban_platform::careplan::{
    FileKind, FindingCode, Generation, MAX_FINDINGS_PER_FILE, RecordKind, RowsError, Severity,
    SupplementRow, Table1Row, Table6Row, Table7Row, parse_bytes, parse_file,
};
use proptest::prelude::*;

fn codes(p: &kiban_platform::careplan::ParsedFile) -> Vec<(FindingCode, Severity)> {
    p.findings.iter().map(|f| (f.code, f.severity)).collect()
}

#[test]
fn written_files_give_their_rows_back() {
    let f = valid(FileKind::Plan);
    let parsed = parse_file(&f.name.to_string(), &f.bytes);
    assert!(parsed.findings.is_empty());
    assert_eq!(parsed.generation, Generation::V4);
    assert_eq!(parsed.rows::<Table6Row>().unwrap(), usage_set().table6);
    assert_eq!(
        parsed.rows::<Table7Row>().unwrap_err(),
        RowsError::WrongKind {
            expected: RecordKind::Table7,
            found: Some(RecordKind::Table6)
        }
    );
    let s = file_of_prefix("UPHOSOKU_000000");
    let parsed = parse_file(&s.name.to_string(), &s.bytes);
    assert_eq!(
        parsed.rows::<SupplementRow>().unwrap(),
        plan_set().supplement
    );
}

fn file_of_prefix(prefix: &str) -> kiban_platform::careplan::OutgoingFile {
    valid_files()
        .into_iter()
        .find(|f| f.name.to_string().starts_with(prefix))
        .unwrap()
}

#[test]
fn v3_records_use_the_v3_layout_and_are_widened_to_v41_positions() {
    let (_, set) = usage_set_v3();
    let f = file_of_prefix("UPPLAN_202503");
    let parsed = parse_file(&f.name.to_string(), &f.bytes);
    assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
    assert_eq!(parsed.generation, Generation::V3);
    assert_eq!(lines(&f.bytes)[0].split(',').count(), 22);
    let record = &parsed.records[0];
    assert_eq!(record.cells.len(), 25);
    assert_eq!(record.cell(16), Some(""));
    assert_eq!(record.cell(20), Some(cast().home_help.office.as_str()));
    assert_eq!(parsed.position_of(20), Some(17));
    assert_eq!(parsed.rows::<Table6Row>().unwrap(), set.table6);
}

#[test]
fn a_v3_record_with_a_v4_version_gets_a_column_count_hint() {
    let f = file_of_prefix("UPPLAN_202503");
    let bytes = set_cell(&f.bytes, 0, 1, "202407");
    let parsed = parse_bytes(RecordKind::Table6, "x.CSV", &bytes);
    let message = &parsed.findings[0].message;
    assert!(
        message.contains("that is the other generation's layout"),
        "{message}"
    );
}

#[test]
fn the_3hyo_has_no_v3_layout() {
    let f = valid(FileKind::Table3);
    let mut bytes = f.bytes.clone();
    for i in 0..lines(&f.bytes).len() {
        bytes = set_cell(&bytes, i, 1, "202208");
    }
    let parsed = parse_file(&f.name.to_string(), &bytes);
    assert_eq!(
        codes(&parsed),
        vec![(FindingCode::CsvVersionUnknown, Severity::Error)]
    );
    assert!(
        parsed.findings[0]
            .message
            .contains("the 3表 exists only from v4")
    );
}

#[test]
fn quoting_line_endings_and_names_are_lenient_where_the_spec_is_silent() {
    let f = valid(FileKind::Plan);
    let name = f.name.to_string();
    // Quoted non-free-text cells: accepted silently ([NC]).
    let quoted = set_cell(&f.bytes, 0, 2, &format!("\"{}\"", cast().a.insurer));
    assert!(parse_file(&name, &quoted).findings.is_empty());
    // LF line endings: one warning, same rows.
    let lf = encode(&decode(&f.bytes).replace("\r\n", "\n"));
    let parsed = parse_file(&name, &lf);
    assert_eq!(
        codes(&parsed),
        vec![(FindingCode::LineEnding, Severity::Warning)]
    );
    assert_eq!(parsed.rows::<Table6Row>().unwrap(), usage_set().table6);
    // No final line break: accepted.
    let trimmed = &f.bytes[..f.bytes.len() - 2];
    assert!(parse_file(&name, trimmed).findings.is_empty());
    // A path is fine; the last component is the name.
    assert!(
        parse_file(&format!("in/box/{name}"), &f.bytes)
            .findings
            .is_empty()
    );
}

#[test]
fn rules_on_not_confirmed_columns_are_warnings_and_the_row_still_converts() {
    let f = valid(FileKind::Table7);
    // 第7表 No.17 サービス単位金額: length 5 is [NC].
    let bytes = set_cell(&f.bytes, 0, 17, "123456");
    let parsed = parse_file(&f.name.to_string(), &bytes);
    assert_eq!(
        codes(&parsed),
        vec![(FindingCode::TooLong, Severity::Warning)]
    );
    let rows = parsed.rows::<Table7Row>().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0].unit_amount, Some(123_456));
}

#[test]
fn a_record_with_an_error_is_left_out_of_the_rows_and_parsing_goes_on() {
    let f = valid(FileKind::Plan);
    let bytes = set_cell(&set_cell(&f.bytes, 1, 10, "20250230"), 3, 14, "x");
    let parsed = parse_file(&f.name.to_string(), &bytes);
    let lines: Vec<_> = parsed.findings.iter().map(|f| (f.line, f.code)).collect();
    assert_eq!(
        lines,
        vec![
            (Some(2), FindingCode::BadDate),
            (Some(4), FindingCode::NotDigits)
        ]
    );
    assert_eq!(parsed.rows::<Table6Row>().unwrap().len(), 7);
    assert_eq!(parsed.records.len(), 9);
}

#[test]
fn findings_do_not_repeat_personal_data() {
    let f = file_of_prefix("UPHOSOKU_202505");
    let bytes = set_cell(&set_cell(&f.bytes, 0, 8, "19401332"), 0, 9, "1000001");
    let parsed = parse_file(&f.name.to_string(), &bytes);
    assert_eq!(parsed.findings.len(), 2);
    for finding in &parsed.findings {
        assert!(!finding.message.contains("19401332") && !finding.message.contains("1000001"));
    }
}

#[test]
fn parse_bytes_checks_content_without_a_name() {
    let f = valid(FileKind::Actual);
    let parsed = parse_bytes(RecordKind::Table6, "upload-1", &f.bytes);
    assert!(parsed.findings.is_empty());
    assert!(parsed.name.is_none());
    assert_eq!(parsed.rows::<Table6Row>().unwrap().len(), 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn damaged_files_never_panic_and_respect_the_cap(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20),
        kind in prop::sample::select(vec![FileKind::Plan, FileKind::Table7, FileKind::Table1, FileKind::Supplement]),
    ) {
        let f = valid(kind);
        let mut bytes = f.bytes.clone();
        for (i, b) in edits {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let parsed = parse_file(&f.name.to_string(), &bytes);
        prop_assert!(parsed.findings.len() <= MAX_FINDINGS_PER_FILE + 1);
        // Every clean record converts to its typed row.
        let converted = match kind {
            FileKind::Plan => parsed.rows::<Table6Row>().map(|r| r.len()),
            FileKind::Table7 => parsed.rows::<Table7Row>().map(|r| r.len()),
            FileKind::Table1 => parsed.rows::<Table1Row>().map(|r| r.len()),
            _ => parsed.rows::<SupplementRow>().map(|r| r.len()),
        };
        prop_assert!(converted.is_ok(), "{:?}", converted);
    }

    #[test]
    fn long_values_in_not_confirmed_columns_never_break_conversion(
        digits in "[0-9]{1,14}",
        column in prop::sample::select(vec![17usize, 24, 25, 30]),
    ) {
        let f = valid(FileKind::Table7);
        let bytes = set_cell(&f.bytes, 0, column, &digits);
        let parsed = parse_file(&f.name.to_string(), &bytes);
        prop_assert!(parsed.findings.iter().all(|f| f.severity == Severity::Warning), "{:?}", parsed.findings);
        prop_assert!(parsed.rows::<Table7Row>().is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let f = valid(FileKind::Table7);
        let parsed = parse_file(&f.name.to_string(), &bytes);
        prop_assert!(parsed.findings.len() <= MAX_FINDINGS_PER_FILE + 1);
    }
}
