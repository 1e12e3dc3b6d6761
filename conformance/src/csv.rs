//! The care-plan CSV validator (`kiban conformance csv FILES…|DIR`): every file through the
//! platform's own codec ([`kiban_platform::careplan::parse_file`]: name, encoding, CSV syntax,
//! CSVバージョン, columns, formats, code values, in-file rules), then the cross-file checks
//! ([`kiban_platform::careplan::check_files`]: send units, links, 補足 for every parent). No CSV
//! rule lives here; this module only collects the files, orders the findings and cites the
//! clause of `shared/spec/careplan-csv.md` each finding code stands for ([`clause`]).

use std::path::{Path, PathBuf};

use kiban_platform::careplan::{
    Finding, FindingCode, ParsedFile, Severity, check_files, parse_file,
};
use serde::Serialize;

/// The schema of the validator's JSON.
pub const CSV_SCHEMA: &str = "kiban-conformance-csv/1";

/// One finding with its spec clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvFinding {
    /// The file (as given).
    pub file: String,
    /// The line the record starts on.
    pub line: Option<u32>,
    /// The column position.
    pub column_no: Option<u16>,
    /// The column's Japanese name.
    pub column_name: Option<&'static str>,
    /// error or warning.
    pub severity: Severity,
    /// The stable code.
    pub code: FindingCode,
    /// What is wrong.
    pub message: String,
    /// The clause of the CSV standard (spec/careplan-csv.md section) the rule comes from.
    pub clause: &'static str,
}

impl From<Finding> for CsvFinding {
    fn from(f: Finding) -> Self {
        CsvFinding {
            clause: clause(f.code),
            file: f.file,
            line: f.line,
            column_no: f.column_no,
            column_name: f.column_name,
            severity: f.severity,
            code: f.code,
            message: f.message,
        }
    }
}

/// One file's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file as given.
    pub file: String,
    /// The file-name prefix, if recognised (`UPPLAN`, …).
    pub kind: Option<String>,
    /// The name format (`v4.1` or `v3`), if the name is valid.
    pub name_format: Option<String>,
    /// The CSVバージョン of the records.
    pub csv_version: Option<String>,
    /// Data records read.
    pub records: usize,
    /// Its findings, in file order.
    pub findings: Vec<CsvFinding>,
}

/// The validator's result over a set of files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvReport {
    /// [`CSV_SCHEMA`].
    pub schema: &'static str,
    /// Per file, ordered by path.
    pub files: Vec<FileReport>,
    /// Findings across files (send units, links).
    pub cross_file: Vec<CsvFinding>,
    /// Error findings in all.
    pub errors: usize,
    /// Warning findings in all.
    pub warnings: usize,
}

impl CsvReport {
    /// Whether no finding is an error.
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// Every finding, per file then cross-file.
    pub fn findings(&self) -> impl Iterator<Item = &CsvFinding> {
        self.files
            .iter()
            .flat_map(|f| f.findings.iter())
            .chain(self.cross_file.iter())
    }

    /// One line per finding (`file:line: severity code [No.n name] (§clause): message`) and a
    /// closing count.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in self.findings() {
            out.push_str(&f.file);
            if let Some(line) = f.line {
                out.push_str(&format!(":{line}"));
            }
            out.push_str(&format!(": {} {}", f.severity, f.code.as_str()));
            if let Some(no) = f.column_no {
                out.push_str(&format!(" [No.{no} {}]", f.column_name.unwrap_or("")));
            }
            out.push_str(&format!(" ({}): {}\n", f.clause, f.message));
        }
        out.push_str(&format!(
            "{} file(s): {} error(s), {} warning(s)\n",
            self.files.len(),
            self.errors,
            self.warnings
        ));
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Why files could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// A path could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No file was given or found.
    #[error("no file to validate")]
    Empty,
}

/// Validates files and folders (a folder contributes its regular files, not recursively).
pub fn validate(paths: &[PathBuf]) -> Result<CsvReport, CsvError> {
    let mut files = Vec::new();
    for path in paths {
        let io = |source| CsvError::Io {
            path: path.clone(),
            source,
        };
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for entry in entries {
                files.push(read(&entry)?);
            }
        } else {
            files.push(read(path)?);
        }
    }
    if files.is_empty() {
        return Err(CsvError::Empty);
    }
    Ok(validate_bytes(&files))
}

fn read(path: &Path) -> Result<(String, Vec<u8>), CsvError> {
    let bytes = std::fs::read(path).map_err(|source| CsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((path.display().to_string(), bytes))
}

/// Validates files given as (name or path, bytes).
pub fn validate_bytes(files: &[(String, Vec<u8>)]) -> CsvReport {
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let parsed: Vec<ParsedFile> = sorted
        .iter()
        .map(|(name, bytes)| parse_file(name, bytes))
        .collect();
    let cross_file: Vec<CsvFinding> = check_files(&parsed)
        .into_iter()
        .map(CsvFinding::from)
        .collect();
    let files: Vec<FileReport> = parsed
        .into_iter()
        .map(|p| FileReport {
            kind: p.kind.map(|k| format!("{k:?}")),
            name_format: p.name.as_ref().map(|n| format!("{:?}", n.format())),
            csv_version: p.version.map(|v| format!("{v:?}")),
            records: p.records.len(),
            findings: p.findings.into_iter().map(CsvFinding::from).collect(),
            file: p.file,
        })
        .collect();
    let all = || {
        files
            .iter()
            .flat_map(|f| f.findings.iter())
            .chain(cross_file.iter())
    };
    let errors = all().filter(|f| f.severity == Severity::Error).count();
    let warnings = all().filter(|f| f.severity == Severity::Warning).count();
    CsvReport {
        schema: CSV_SCHEMA,
        files,
        cross_file,
        errors,
        warnings,
    }
}

/// The clause of `shared/spec/careplan-csv.md` a finding code enforces (as the codec documents
/// each code). A new code in the codec does not compile here until it is given its clause.
pub const fn clause(code: FindingCode) -> &'static str {
    use FindingCode::*;
    match code {
        BadFileName | FileNameCase => "§2.1 file names",
        NotCovered => "§1.2 予防 files (layouts not covered)",
        Bom | NotMs932 | BadEncoding | Gaiji => "§2.2 encoding (MS932, no 外字)",
        CsvSyntax | FreeTextUnquoted => "§2.2 delimiter and quoting",
        LineEnding => "§2.2 line endings [NC]",
        BlankLine | HeaderRow | EmptyFile => "§2.2 header / control rows",
        ColumnCount => "§3 column layouts",
        CsvVersionUnknown | CsvVersionMixed | CsvVersionMonth | CsvVersionSuperseded => {
            "§2.3 CSVバージョン"
        }
        RequiredMissing | TooLong | NotDigits | NotInteger | OutOfRange | BadDate | BadTime
        | BadFormat | BadOfficeNumber | BadInsurerNumber | BadInsuredNumber | UnusedFilled => {
            "§3 column layouts (length, required, format)"
        }
        BadCode | BadServiceCode => "§4.1 code lists",
        MultipleMonths | NameMismatch | TaisMissing | DetailCodeMisplaced | DateOutsideMonth => {
            "§4.2 validation rules"
        }
        HosokuLink => "§2.1, §3.1 利用者補足情報 link columns",
        ServiceOutOfScope => "§4.1 service types in scope",
        TotalMissing | SubtotalMissing | SubtotalRow => "§3.8, §4.2 第7表 totals",
        DuplicateKey => "§4.4 relationships (one parent per key)",
        SendUnitMixed | SendUnitIncomplete | SendUnitMonth => "§4.4 send units",
        SendUnitDuplicate => "§4.3 file-creation unit",
        OrphanRow | SupplementMissing | Table7Missing => "§4.4 relationships",
        UsageNotInTable7 => "§3.8 第7表 (derived from 第6表)",
        ActualUnplanned => "§4.6 実績 vs 予定 (derived)",
        TooManyFindings => "(validator cap, not a spec rule)",
    }
}
