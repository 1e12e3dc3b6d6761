//! The care-plan CSV standard (ケアプランデータ連携標準仕様 v4.1, `shared/spec/careplan-csv.md`):
//! the one codec the platform's exchange and the `kiban conformance csv` command share.
//!
//! - [`FileName`] parses and writes the standard's file names (v4.1 and v3.x, spec §2.1).
//! - [`decode_ms932`] / [`encode_ms932`] are the strict MS932 codec (spec §2.2).
//! - [`RecordKind::layout`] gives each covered file's columns as data (spec §3, §4.1).
//! - [`parse_file`] reads a whole file into [`Record`]s and [`Finding`]s, never stopping at
//!   the first problem; [`ParsedFile::rows`] gives the typed rows ([`Table1Row`], …).
//! - [`write_file`], [`PlanSet`], [`UsageSet`] and [`write_actuals`] build files and send
//!   units from typed rows; whatever they write parses back with zero findings.
//! - [`check_files`] / [`check_send_unit`] / [`check_actuals`] check send units and the
//!   relationships between files (spec §4.4).
//!
//! Covered layouts: UPHOSOKU, UP1KYO, DLT1KYO, UP2KYO, UP3KYO, UPPLAN/UPJSK, DLTPLAN,
//! DLTJSK, UPSIKYU. The 予防 files (UPKIHON…, UPYOBO…) are recognised by name and checked
//! for encoding and CSV syntax only (`not-covered`).
//!
//! Decisions on what the spec marks `[R]` or `[NC]` (each also stated where it is implemented):
//! - Lengths are MS932 bytes; rules on `[NC]` columns are warnings (`layout.rs`).
//! - CRLF is written; LF or CR alone is read with a warning; any cell may be quoted; free text
//!   is always written quoted and an unquoted non-empty free-text cell is a warning; a header
//!   row is an error (`syntax.rs`, `parse.rs`).
//! - The layout follows the CSVバージョン of the first record: v3 versions use the v4.1
//!   layouts minus the columns v4 added (`layout.rs`).
//! - v3 names of DLT1KYO/DLTPLAN/DLTJSK/UPSIKYU are accepted in the presumed form; the v4.0
//!   3-digit names are rejected (`names.rs`).
//! - File name vs records is a warning (`name-mismatch`); 実績 vs 予定 and 第6表 vs 第7表
//!   reconciliation are warnings (`cross.rs`).

mod cross;
mod encoding;
mod finding;
mod layout;
mod names;
mod parse;
mod rows;
mod rules;
mod syntax;
mod validate;
mod values;
mod write;

pub use cross::{SendUnitKey, check_actuals, check_files, check_send_unit, send_units};
pub use encoding::{
    DecodeError, EncodeError, decode_ms932, encode_ms932, is_ms932_char, to_ms932_compatible,
};
pub use finding::{Finding, FindingCode, MAX_FINDINGS_PER_FILE, Severity};
pub use layout::{
    CARE_LEVEL, CERTIFICATION_STATUS, CodeList, Column, Confidence, Format, INSURANCE_COVERAGE,
    LIVING_SUPPORT_REASON, Layout, OVER_30_DAYS, PLAN_KIND, RecordKind, SEX, WEEKDAY,
};
pub use names::{
    Endpoint, FileKind, FileName, FileSerial, NameBuildError, NameError, NameFormat, Sender,
};
pub use parse::{ParsedFile, Record, RowsError, parse_bytes, parse_file};
pub use rows::{
    ActualDeleteRow, Person, PlanDeleteRow, SupplementRow, Table1DeleteRow, Table1Row, Table2Row,
    Table3Row, Table6Row, Table7Row, TypeLimit, TypedRow,
};
pub use values::{
    CertificationStatus, ClockTime, CsvVersion, Generation, InsuranceCoverage, LivingSupportReason,
    PlanKind, PostalCode, ProratedDays, ServiceCode, ServiceScope, ServiceTime, ServiceTypeCode,
    Sex, Table7Code, Table7Office, UnitPrice, Weekday, YearMonth,
};
pub use write::{
    OutgoingFile, PlanSet, Route, UsageSet, WriteError, actuals_as_planned, write_actuals,
    write_file, write_rows,
};
