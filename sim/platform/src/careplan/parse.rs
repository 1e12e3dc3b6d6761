//! Parsing a whole file: name (spec §2.1), encoding (§2.2), CSV syntax (§2.2), header
//! absence, CSV version (§2.3), column count and every cell (§3, §4.1), then the rules that
//! span the records of one file (`rules.rs`). Parsing never panics and never stops early: it
//! collects every finding up to [`MAX_FINDINGS_PER_FILE`](super::MAX_FINDINGS_PER_FILE).
//!
//! Which layout applies: the generation of the first record's known CSVバージョン; without
//! one, the file name's format (v3 name → v3 layout); otherwise v4.1.

use super::encoding::{DecodeError, decode_lenient};
use super::finding::{Finding, FindingCode, Findings, Severity};
use super::layout::{Column, RecordKind};
use super::names::{FileKind, FileName, NameFormat};
use super::rows::TypedRow;
use super::rules;
use super::syntax::{RawRecord, split_records};
use super::validate::check_cell;
use super::values::{CsvVersion, Generation};

/// One data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line the record starts on (1-based).
    pub line: u32,
    /// The cells. When `shaped`, in v4.1 column order (a v3 record is widened with empty
    /// cells for the v4 columns); otherwise as read.
    pub cells: Vec<String>,
    /// The record had the layout's column count, so `cells` is in v4.1 order.
    pub shaped: bool,
    /// Shaped, every cell satisfies its format, and no error was reported on it.
    pub clean: bool,
}

impl Record {
    /// The cell of v4.1 column `no` (1-based), for shaped records.
    pub fn cell(&self, no: u16) -> Option<&str> {
        if !self.shaped {
            return None;
        }
        self.cells
            .get(usize::from(no).checked_sub(1)?)
            .map(String::as_str)
    }
}

/// A parsed file: its name, layout, records and findings.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// The file name as given (used in findings).
    pub file: String,
    /// The parsed name, when valid.
    pub name: Option<FileName>,
    /// The kind, when the prefix was recognised (even if the rest of the name is bad).
    pub kind: Option<FileKind>,
    /// The layout the records were checked against, when covered.
    pub record_kind: Option<RecordKind>,
    /// The CSVバージョン of the first record that has a known one.
    pub version: Option<CsvVersion>,
    /// The layout generation used.
    pub generation: Generation,
    /// The data records (a header row is not included).
    pub records: Vec<Record>,
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
}

/// Why typed rows could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowsError {
    /// The file's layout is not the row type's.
    #[error("the file's layout is {found:?}, not {expected:?}")]
    WrongKind {
        /// The row type's layout.
        expected: RecordKind,
        /// The file's layout.
        found: Option<RecordKind>,
    },
    /// A clean record did not convert (a bug: validation and conversion disagree).
    #[error("record at line {line} validated but did not convert")]
    Conversion {
        /// The record's line.
        line: u32,
    },
}

impl ParsedFile {
    /// The typed rows of the clean records (records with errors are left out; their
    /// findings say why).
    pub fn rows<R: TypedRow>(&self) -> Result<Vec<R>, RowsError> {
        if self.record_kind != Some(R::KIND) {
            return Err(RowsError::WrongKind {
                expected: R::KIND,
                found: self.record_kind,
            });
        }
        self.records
            .iter()
            .filter(|r| r.clean)
            .map(|r| R::from_cells(&r.cells).ok_or(RowsError::Conversion { line: r.line }))
            .collect()
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The 1-based file position of v4.1 column `no` in this file's layout.
    pub fn position_of(&self, no: u16) -> Option<u16> {
        position(self.record_kind?, self.generation, no)
    }
}

/// The 1-based file position of v4.1 column `no` in a generation's layout.
pub(crate) fn position(kind: RecordKind, generation: Generation, no: u16) -> Option<u16> {
    kind.layout()
        .columns(generation)
        .iter()
        .position(|c| c.no == no)
        .and_then(|i| u16::try_from(i + 1).ok())
}

/// Parses a file given its name (a path is allowed; the last component is the name). The
/// name decides the layout; a bad name is a finding, and the content is still checked when
/// the prefix was recognised.
pub fn parse_file(file: &str, bytes: &[u8]) -> ParsedFile {
    let mut findings = Findings::new(file);
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let (name, kind) = match FileName::parse(base) {
        Ok(name) => {
            if name.extension_case_differs() {
                findings.push(
                    None,
                    Severity::Warning,
                    FindingCode::FileNameCase,
                    "extension case differs from the spec's (.CSV, .jpg)",
                );
            }
            let kind = name.kind();
            (Some(name), Some(kind))
        }
        Err(e) => {
            findings.push(
                None,
                Severity::Error,
                FindingCode::BadFileName,
                e.to_string(),
            );
            (None, e.kind())
        }
    };
    parse_inner(
        file,
        findings,
        name,
        kind,
        kind.and_then(FileKind::record_kind),
        bytes,
    )
}

/// Parses bytes against a layout without a file name (no name checks).
pub fn parse_bytes(kind: RecordKind, file: &str, bytes: &[u8]) -> ParsedFile {
    parse_inner(file, Findings::new(file), None, None, Some(kind), bytes)
}

fn parse_inner(
    file: &str,
    mut findings: Findings,
    name: Option<FileName>,
    kind: Option<FileKind>,
    record_kind: Option<RecordKind>,
    bytes: &[u8],
) -> ParsedFile {
    let mut parsed = ParsedFile {
        file: file.to_owned(),
        name,
        kind,
        record_kind,
        version: None,
        generation: Generation::V4,
        records: Vec::new(),
        findings: Vec::new(),
    };
    if kind == Some(FileKind::PreventionBasicImage) {
        findings.push(
            None,
            Severity::Warning,
            FindingCode::NotCovered,
            "家族構成 image files are not checked (jpeg content)",
        );
        parsed.findings = findings.finish();
        return parsed;
    }
    let (text, issues) = decode_lenient(bytes);
    for issue in issues {
        let (code, line) = match &issue {
            DecodeError::Bom => (FindingCode::Bom, Some(1)),
            DecodeError::Utf8 { line, .. } => (FindingCode::NotMs932, Some(*line)),
            DecodeError::Malformed { line, .. } => (FindingCode::BadEncoding, Some(*line)),
            DecodeError::Gaiji { line, .. } => (FindingCode::Gaiji, Some(*line)),
        };
        findings.push(line, Severity::Error, code, issue.to_string());
    }
    let raw = split_records(&text, &mut findings);
    let Some(record_kind) = record_kind else {
        if kind.is_some_and(FileKind::is_prevention) {
            findings.push(
                None,
                Severity::Warning,
                FindingCode::NotCovered,
                "予防 file layouts are not covered by this codec (spec §3.9 gives names only); only encoding and csv syntax were checked",
            );
        }
        parsed.records = raw
            .into_iter()
            .map(|r| Record {
                line: r.line,
                cells: r.fields.into_iter().map(|f| f.text).collect(),
                shaped: false,
                clean: false,
            })
            .collect();
        parsed.findings = findings.finish();
        return parsed;
    };
    check_records(&mut parsed, record_kind, raw, &mut findings);
    rules::check_file(&parsed, &mut findings);
    parsed.findings = findings.finish();
    parsed
}

/// Header, version, column count and cells.
fn check_records(
    parsed: &mut ParsedFile,
    kind: RecordKind,
    mut raw: Vec<RawRecord>,
    findings: &mut Findings,
) {
    let layout = kind.layout();
    let first_name = layout.columns[0].name;
    if raw
        .first()
        .and_then(|r| r.fields.first())
        .is_some_and(|f| f.text == first_name)
    {
        let header = raw.remove(0);
        findings.push(
            Some(header.line),
            Severity::Error,
            FindingCode::HeaderRow,
            "header row found: the layouts define data records only; column names must not be written",
        );
    }
    if raw.is_empty() {
        findings.push(
            None,
            Severity::Warning,
            FindingCode::EmptyFile,
            "the file holds no record",
        );
    }
    let version_of = |r: &RawRecord| {
        r.fields
            .first()
            .and_then(|f| CsvVersion::from_code(&f.text))
    };
    let first_version = raw.iter().find_map(version_of);
    parsed.version = first_version;
    let mut generation = match (first_version, &parsed.name) {
        (Some(v), _) => v.generation(),
        (None, Some(name)) if name.format() == NameFormat::V3 => Generation::V3,
        _ => Generation::V4,
    };
    if !layout.exists_in(generation) {
        findings.push_at(
            raw.first().map(|r| r.line),
            Some((1, first_name)),
            Severity::Error,
            FindingCode::CsvVersionUnknown,
            format!(
                "the 3表 exists only from v4 (CSVバージョン {}); the file's version is older",
                CsvVersion::CURRENT
            ),
        );
        generation = Generation::V4;
    }
    parsed.generation = generation;
    let mixed = first_version.and_then(|first| {
        raw.iter()
            .find(|r| version_of(r).is_some_and(|v| v != first))
            .map(|other| (first, other))
    });
    if let Some((first, other)) = mixed {
        let found = version_of(other).map_or("", CsvVersion::code);
        findings.push_at(
            Some(other.line),
            Some((1, first_name)),
            Severity::Error,
            FindingCode::CsvVersionMixed,
            format!(
                "CSVバージョン {found} differs from the first record's {first}: one file must not mix versions"
            ),
        );
    }
    let columns = layout.columns(generation);
    let other_generation = match generation {
        Generation::V3 => Generation::V4,
        Generation::V4 => Generation::V3,
    };
    let other_count = layout.columns(other_generation).len();
    for record in raw {
        parsed
            .records
            .push(check_record(kind, &columns, other_count, record, findings));
    }
}

fn check_record(
    kind: RecordKind,
    columns: &[&'static Column],
    other_count: usize,
    record: RawRecord,
    findings: &mut Findings,
) -> Record {
    let line = record.line;
    if record.fields.len() != columns.len() {
        let hint = if record.fields.len() == other_count && other_count != columns.len() {
            " (that is the other generation's layout; check the CSVバージョン)"
        } else {
            ""
        };
        findings.push(
            Some(line),
            Severity::Error,
            FindingCode::ColumnCount,
            format!(
                "expected {} columns ({:?} layout), found {}{hint}",
                columns.len(),
                kind,
                record.fields.len()
            ),
        );
        return Record {
            line,
            cells: record.fields.into_iter().map(|f| f.text).collect(),
            shaped: false,
            clean: false,
        };
    }
    let mut clean = true;
    for (i, (column, field)) in columns.iter().zip(&record.fields).enumerate() {
        let position = u16::try_from(i + 1).unwrap_or(u16::MAX);
        let check = check_cell(
            column,
            position,
            &field.text,
            field.quoted,
            Some(line),
            findings,
        );
        clean &= check.convertible && !check.error;
    }
    // Widen to v4.1 order: the v4 columns absent from a v3 record are empty.
    let mut fields = record.fields.into_iter();
    let cells = kind
        .layout()
        .columns
        .iter()
        .map(|c| {
            if columns.iter().any(|k| k.no == c.no) {
                fields.next().map(|f| f.text).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .collect();
    Record {
        line,
        cells,
        shaped: true,
        clean,
    }
}
