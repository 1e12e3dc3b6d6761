//! Writing files from typed rows: cells in layout order, フリーテキスト always quoted (other
//! cells only when they hold `,` `"` or a line break), CRLF after every record, no header,
//! MS932 bytes (spec §2.2). Every written file is parsed back and must produce zero
//! findings, and every written send unit must pass the cross-file checks; otherwise the
//! write fails with those findings. So the writer can never emit what the parser rejects.

use time::Date;

use super::cross::check_send_unit;
use super::encoding::{encode_ms932, first_unmappable};
use super::finding::Finding;
use super::layout::RecordKind;
use super::names::{Endpoint, FileKind, FileName, FileSerial, NameBuildError};
use super::parse::{ParsedFile, parse_bytes, parse_file};
use super::rows::{SupplementRow, Table1Row, Table2Row, Table3Row, Table6Row, Table7Row, TypedRow};
use super::syntax::write_field;
use super::values::{CsvVersion, Generation, YearMonth};

/// A file ready to send: its name and MS932 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    /// The standard's file name.
    pub name: FileName,
    /// The content.
    pub bytes: Vec<u8>,
}

/// Why rows could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// No rows were given.
    #[error("no rows to write for {0:?}")]
    Empty(RecordKind),
    /// Rows of different CSV versions.
    #[error("rows mix CSV versions {first} and {other}: one file holds one version (spec §2.3)")]
    MixedVersions {
        /// The first row's version.
        first: CsvVersion,
        /// A different one.
        other: CsvVersion,
    },
    /// The layout does not exist for the rows' version (the 3表 before v4).
    #[error("the {kind:?} layout does not exist for CSV version {version}")]
    NoLayout {
        /// The layout.
        kind: RecordKind,
        /// The rows' version.
        version: CsvVersion,
    },
    /// A v4 column holds a value but the rows' version is v3.
    #[error(
        "row {row}: column No.{column_no} {column_name} is not in the layout of CSV version {version} but holds a value"
    )]
    NotInVersion {
        /// 1-based row.
        row: usize,
        /// v4.1 column number.
        column_no: u16,
        /// Column name.
        column_name: &'static str,
        /// The rows' version.
        version: CsvVersion,
    },
    /// A character outside MS932.
    #[error("row {row}: column No.{column_no} {column_name}: character {} (U+{:04X}) is not in ms932{}", super::encoding::quote(*character), u32::from(*character), super::encoding::hint(*character))]
    Unmappable {
        /// 1-based row.
        row: usize,
        /// v4.1 column number.
        column_no: u16,
        /// Column name.
        column_name: &'static str,
        /// The character.
        character: char,
    },
    /// The file name's kind does not hold these rows.
    #[error("a {name} file does not hold {rows:?} rows")]
    KindMismatch {
        /// The file name's kind.
        name: FileKind,
        /// The rows' layout.
        rows: RecordKind,
    },
    /// The file name could not be built.
    #[error(transparent)]
    Name(#[from] NameBuildError),
    /// The written bytes did not pass the parser or the send-unit checks.
    #[error("the written data does not pass the checks ({} findings); first: {}", findings.len(), findings.first().map(ToString::to_string).unwrap_or_default())]
    Rejected {
        /// The findings.
        findings: Vec<Finding>,
    },
}

/// Encodes rows as file content (no name checks), verifying that the parser accepts the
/// result with zero findings.
pub fn write_rows<R: TypedRow>(rows: &[R]) -> Result<Vec<u8>, WriteError> {
    let bytes = encode_rows(rows)?;
    let parsed = parse_bytes(R::KIND, "(written)", &bytes);
    accept(&parsed)?;
    Ok(bytes)
}

/// Writes one named file, verifying that the parser accepts it (name included) with zero
/// findings.
pub fn write_file<R: TypedRow>(name: &FileName, rows: &[R]) -> Result<OutgoingFile, WriteError> {
    if name.kind().record_kind() != Some(R::KIND) {
        return Err(WriteError::KindMismatch {
            name: name.kind(),
            rows: R::KIND,
        });
    }
    let bytes = encode_rows(rows)?;
    accept(&parse_file(&name.to_string(), &bytes))?;
    Ok(OutgoingFile {
        name: name.clone(),
        bytes,
    })
}

fn accept(parsed: &ParsedFile) -> Result<(), WriteError> {
    if parsed.findings.is_empty() {
        Ok(())
    } else {
        Err(WriteError::Rejected {
            findings: parsed.findings.clone(),
        })
    }
}

fn encode_rows<R: TypedRow>(rows: &[R]) -> Result<Vec<u8>, WriteError> {
    let first = rows
        .first()
        .ok_or(WriteError::Empty(R::KIND))?
        .csv_version();
    if let Some(other) = rows.iter().map(TypedRow::csv_version).find(|v| *v != first) {
        return Err(WriteError::MixedVersions { first, other });
    }
    let generation = first.generation();
    let layout = R::KIND.layout();
    if !layout.exists_in(generation) {
        return Err(WriteError::NoLayout {
            kind: R::KIND,
            version: first,
        });
    }
    let mut text = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells = row.to_cells();
        let mut first_cell = true;
        for (column, cell) in layout.columns.iter().zip(&cells) {
            if generation == Generation::V3 && column.since_v4 {
                if !cell.is_empty() {
                    return Err(WriteError::NotInVersion {
                        row: i + 1,
                        column_no: column.no,
                        column_name: column.name,
                        version: first,
                    });
                }
                continue;
            }
            if let Some((_, character)) = first_unmappable(cell) {
                return Err(WriteError::Unmappable {
                    row: i + 1,
                    column_no: column.no,
                    column_name: column.name,
                    character,
                });
            }
            if !first_cell {
                text.push(',');
            }
            first_cell = false;
            write_field(&mut text, cell, column.is_free_text());
        }
        text.push_str("\r\n");
    }
    // Every cell was checked above, so encoding cannot fail; map it anyway.
    encode_ms932(&text).map_err(|e| WriteError::Unmappable {
        row: 0,
        column_no: 0,
        column_name: "",
        character: e.character,
    })
}

/// Where a send unit goes: sender, receiver and the ファイル連番 all its files share
/// (spec §2.1, §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The sending office (and service type, for v4.1 names).
    pub sender: Endpoint,
    /// The receiving office (and service type).
    pub receiver: Endpoint,
    /// The ファイル連番.
    pub serial: FileSerial,
}

impl Route {
    /// The name of a file of this unit.
    pub fn name(&self, kind: FileKind, month: Option<YearMonth>) -> Result<FileName, WriteError> {
        Ok(FileName::new(
            kind,
            month,
            self.sender,
            self.receiver,
            self.serial,
        )?)
    }
}

/// Checks a written unit as a receiver would.
fn accept_unit(files: &[OutgoingFile]) -> Result<(), WriteError> {
    let parsed: Vec<ParsedFile> = files
        .iter()
        .map(|f| parse_file(&f.name.to_string(), &f.bytes))
        .collect();
    let refs: Vec<&ParsedFile> = parsed.iter().collect();
    let findings = check_send_unit(&refs);
    if findings.is_empty() {
        Ok(())
    } else {
        Err(WriteError::Rejected { findings })
    }
}

/// The plan send unit (spec §4.4 unit 1): 1表 + 2表 + 3表 + 利用者補足情報 (`000000`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanSet {
    /// 1表 rows (one per plan).
    pub table1: Vec<Table1Row>,
    /// 2表 rows.
    pub table2: Vec<Table2Row>,
    /// 3表 rows (required from v4; leave empty for a v3 unit).
    pub table3: Vec<Table3Row>,
    /// 補足 rows made with [`SupplementRow::for_plan`].
    pub supplement: Vec<SupplementRow>,
}

impl PlanSet {
    /// Writes the unit's files (UP1KYO, UP2KYO, UP3KYO, UPHOSOKU) and checks them together.
    pub fn write(&self, route: &Route) -> Result<Vec<OutgoingFile>, WriteError> {
        let mut files = vec![
            write_file(&route.name(FileKind::Table1, None)?, &self.table1)?,
            write_file(&route.name(FileKind::Table2, None)?, &self.table2)?,
        ];
        let v4 = self
            .table1
            .first()
            .is_some_and(|r| r.csv_version.generation() == Generation::V4);
        if v4 || !self.table3.is_empty() {
            files.push(write_file(
                &route.name(FileKind::Table3, None)?,
                &self.table3,
            )?);
        }
        files.push(write_file(
            &route.name(FileKind::Supplement, None)?,
            &self.supplement,
        )?);
        accept_unit(&files)?;
        Ok(files)
    }
}

/// The monthly 利用票 send unit (spec §4.4 unit 2): 第6表 予定 + 第7表 + 利用者補足情報.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSet {
    /// The 対象年月.
    pub month: YearMonth,
    /// 第6表 予定 lines (every provider's services, spec §4.3).
    pub table6: Vec<Table6Row>,
    /// 第7表 rows, with one 全合計 row per person.
    pub table7: Vec<Table7Row>,
    /// 補足 rows made with [`SupplementRow::for_usage`].
    pub supplement: Vec<SupplementRow>,
}

impl UsageSet {
    /// Writes the unit's files (UPPLAN, UPSIKYU, UPHOSOKU) and checks them together.
    pub fn write(&self, route: &Route) -> Result<Vec<OutgoingFile>, WriteError> {
        let month = Some(self.month);
        let files = vec![
            write_file(&route.name(FileKind::Plan, month)?, &self.table6)?,
            write_file(&route.name(FileKind::Table7, month)?, &self.table7)?,
            write_file(&route.name(FileKind::Supplement, month)?, &self.supplement)?,
        ];
        accept_unit(&files)?;
        Ok(files)
    }
}

/// Writes a provider's 実績 file for a month (spec §4.4 provider unit 1).
pub fn write_actuals(
    route: &Route,
    month: YearMonth,
    rows: &[Table6Row],
) -> Result<OutgoingFile, WriteError> {
    write_file(&route.name(FileKind::Actual, Some(month))?, rows)
}

/// Turns planned lines into the 実績 a provider reports back when every planned visit
/// happened as planned: its own lines only (spec §3.6 No.20), 作成年月日 `on`, 更新業者コード
/// its office number.
pub fn actuals_as_planned(planned: &[Table6Row], provider: Endpoint, on: Date) -> Vec<Table6Row> {
    planned
        .iter()
        .filter(|r| {
            r.office == provider.office
                && provider
                    .service_type
                    .is_none_or(|t| r.service_code.service_type() == t)
        })
        .map(|r| {
            let mut row = r.clone();
            row.created_on = on;
            row.updater_code = Some(provider.office.as_str().to_owned());
            row
        })
        .collect()
}
