//! Findings: what the parser and the cross-file checks report about a file. A finding names
//! the file, the line the record starts on, the column (position and Japanese name), a
//! severity, a stable kebab-case code and a lowercase message.
//!
//! Messages never repeat personal data: a cell's value is echoed only for code-list,
//! CSVバージョン and service-code columns; other problems are described (length, position of
//! the bad character, which rule failed).

use std::fmt;

use serde::Serialize;

/// The most findings kept for one file; the next one is replaced by a single
/// `too-many-findings` warning and later ones are dropped. Parsing still reads the whole file.
pub const MAX_FINDINGS_PER_FILE: usize = 500;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file breaks a rule the spec states (or, for `[R]` rules, very probably states).
    Error,
    /// Suspect but allowed, or a rule the spec marks `[NC]`, or a derived reconciliation.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Defines `FindingCode` with its kebab-case names.
macro_rules! finding_codes {
    ($($(#[$m:meta])* $variant:ident = $text:literal,)+) => {
        /// The stable code of a finding. The kebab-case name (`as_str`) is what reports and
        /// snapshots show; it never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum FindingCode {
            $($(#[$m])* #[serde(rename = $text)] $variant,)+
        }

        impl FindingCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)+];

            /// The kebab-case name.
            pub const fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $text,)+ }
            }
        }
    };
}

finding_codes! {
    // --- file name and encoding ---
    /// The file name does not follow spec §2.1 (prefix, parts, office numbers, month, 連番).
    BadFileName = "bad-file-name",
    /// The extension is `.csv` rather than the spec's `.CSV` (accepted; spec §2.1 examples).
    FileNameCase = "file-name-case",
    /// The kind of file is recognised but its layout is not covered by this codec (予防 files).
    NotCovered = "not-covered",
    /// A UTF-8 byte order mark: the standard is MS932, which has none (spec §2.2).
    Bom = "bom",
    /// The content is valid UTF-8 with non-ASCII characters, not MS932 (spec §2.2).
    NotMs932 = "not-ms932",
    /// A byte sequence that is not MS932 (spec §2.2).
    BadEncoding = "bad-encoding",
    /// A user-defined character (外字, MS932 0xF040–0xF9FC), forbidden by spec §2.2.
    Gaiji = "gaiji",
    // --- CSV syntax ---
    /// Broken quoting: an unterminated quoted field, a quote inside an unquoted field, or
    /// text after a closing quote (spec §2.2).
    CsvSyntax = "csv-syntax",
    /// A record ends with LF or CR alone rather than CRLF (`[NC]` in spec §2.2; accepted).
    LineEnding = "line-ending",
    /// An empty line between or after records (skipped).
    BlankLine = "blank-line",
    /// A header row: the layouts define data records only (`[NC]` but strongly indicated,
    /// spec §2.2).
    HeaderRow = "header-row",
    /// The file holds no record.
    EmptyFile = "empty-file",
    /// A record has the wrong number of columns for its layout (spec §3).
    ColumnCount = "column-count",
    /// A non-empty フリーテキスト cell without double quotes (spec §2.2 says always quoted).
    FreeTextUnquoted = "free-text-unquoted",
    // --- CSVバージョン ---
    /// Column 1 is not a CSVバージョン of the spec §2.3 history table.
    CsvVersionUnknown = "csv-version-unknown",
    /// One file mixes records of different CSV versions (spec §2.3).
    CsvVersionMixed = "csv-version-mixed",
    /// The CSV version does not apply to the record's service month (spec §2.3).
    CsvVersionMonth = "csv-version-month",
    /// `202504` (v4.0), replaced by `202407` in v4.1 for the same start month (spec §2.3).
    CsvVersionSuperseded = "csv-version-superseded",
    // --- cells ---
    /// A required (○) cell is empty (spec §3).
    RequiredMissing = "required-missing",
    /// A cell is longer than the column's 項目長, counted in MS932 bytes (spec §3).
    TooLong = "too-long",
    /// A cell that must be digits only has other characters.
    NotDigits = "not-digits",
    /// A cell that must be an integer (optional leading `-`) is not one.
    NotInteger = "not-integer",
    /// A number outside the column's range (e.g. 課題ＮＯ 1–99, spec §3.4).
    OutOfRange = "out-of-range",
    /// Not a calendar date `YYYYMMDD` or month `YYYYMM` (spec §3).
    BadDate = "bad-date",
    /// Not a time `HHMM` (or `9999` where allowed; spec §4.1).
    BadTime = "bad-time",
    /// A value not in the column's code list (spec §4.1).
    BadCode = "bad-code",
    /// A value that breaks the column's written format (postal code, 日割 string, 99.99, …).
    BadFormat = "bad-format",
    /// Not a valid 介護保険事業所番号 (format, check digit, prefecture).
    BadOfficeNumber = "bad-office-number",
    /// Not a valid 保険者番号 (6 digits, check digit, prefecture).
    BadInsurerNumber = "bad-insurer-number",
    /// Not a valid 被保険者番号 (10 digits, or `H` and 9 digits; spec §3).
    BadInsuredNumber = "bad-insured-number",
    /// Not a サービスコード (2-character type and 4-character item; spec §4.1).
    BadServiceCode = "bad-service-code",
    /// The 識別子 column is marked 使用しない but holds a value.
    UnusedFilled = "unused-filled",
    // --- records within a file ---
    /// One file holds more than one service month (spec §4.2).
    MultipleMonths = "multiple-months",
    /// A record disagrees with the file name (month, sender office). `[NC]` in spec §4.2.
    NameMismatch = "name-mismatch",
    /// 利用者補足情報 link columns disagree with the file name (spec §2.1, §3.1 No.4/No.63).
    HosokuLink = "hosoku-link",
    /// A 福祉用具貸与 (17/67) line without TAISコード or 福祉用具届出コード (spec §3.6, §4.2).
    TaisMissing = "tais-missing",
    /// 明細判別コード on a line that is not 17 福祉用具貸与 (spec §3.6 No.19).
    DetailCodeMisplaced = "detail-code-misplaced",
    /// A service type the standard lists as out of scope, or does not list (spec §4.1, `[R]`).
    ServiceOutOfScope = "service-out-of-scope",
    /// A サービス利用日 outside the record's 対象年月 (derived from spec §3.6).
    DateOutsideMonth = "date-outside-month",
    /// A person's 第7表 has no 全合計 (ALL9) row (spec §3.8, §4.2).
    TotalMissing = "total-missing",
    /// A type with several 第7表 lines has no `AAAA`/`EEEE` subtotal (spec §3.8; warning
    /// because whether the type is 区分支給対象 is not known here).
    SubtotalMissing = "subtotal-missing",
    /// A subtotal or total row breaks its fixed values (spec §3.8 No.7, No.13–15).
    SubtotalRow = "subtotal-row",
    /// The same link key twice in a parent file (1表, 補足, 削除 files).
    DuplicateKey = "duplicate-key",
    // --- send units and cross-file ---
    /// A send unit mixes files the spec never sends together (spec §4.4).
    SendUnitMixed = "send-unit-mixed",
    /// A send unit lacks a file the spec requires (spec §1.1 ○, §4.4).
    SendUnitIncomplete = "send-unit-incomplete",
    /// Two files of the same kind in one send unit (spec §4.3: one file per office and type).
    SendUnitDuplicate = "send-unit-duplicate",
    /// Files of one 利用票 send unit name different months (spec §4.4).
    SendUnitMonth = "send-unit-month",
    /// A child record whose link key has no parent record in the unit (spec §4.4).
    OrphanRow = "orphan-row",
    /// A parent (1表 or 第6表 person-month) without its 利用者補足情報 record (spec §3.1, §4.4).
    SupplementMissing = "supplement-missing",
    /// A 第6表 person-month without 第7表 records (spec §1.1, §4.4).
    Table7Missing = "table7-missing",
    /// A 第6表 service line whose office and code do not appear on the person's 第7表
    /// (derived: the 別表 summarises the 利用票).
    UsageNotInTable7 = "usage-not-in-table7",
    /// A 実績 line with no matching 予定 line (derived reconciliation, not a spec rule).
    ActualUnplanned = "actual-unplanned",
    /// The per-file cap was reached; later findings were dropped.
    TooManyFindings = "too-many-findings",
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a file or across files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file name as given (for cross-file findings, the file holding the record).
    pub file: String,
    /// The 1-based physical line where the record starts; `None` for file-level findings.
    pub line: Option<u32>,
    /// The 1-based column position in the file; `None` when not about one column.
    pub column_no: Option<u16>,
    /// The column's Japanese name as in the spec.
    pub column_name: Option<&'static str>,
    /// Error or warning.
    pub severity: Severity,
    /// The stable code.
    pub code: FindingCode,
    /// A lowercase description.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {} {}", self.severity, self.code)?;
        if let Some(no) = self.column_no {
            write!(f, " [No.{no}")?;
            if let Some(name) = self.column_name {
                write!(f, " {name}")?;
            }
            f.write_str("]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects findings for one file, enforcing [`MAX_FINDINGS_PER_FILE`].
#[derive(Debug)]
pub(crate) struct Findings {
    file: String,
    items: Vec<Finding>,
    dropped: usize,
}

impl Findings {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            items: Vec::new(),
            dropped: 0,
        }
    }

    /// Adds a finding about a whole file or a whole record.
    pub(crate) fn push(
        &mut self,
        line: Option<u32>,
        severity: Severity,
        code: FindingCode,
        message: impl Into<String>,
    ) {
        self.push_at(line, None, severity, code, message);
    }

    /// Adds a finding about one column (`(position, name)`).
    pub(crate) fn push_at(
        &mut self,
        line: Option<u32>,
        column: Option<(u16, &'static str)>,
        severity: Severity,
        code: FindingCode,
        message: impl Into<String>,
    ) {
        let file = self.file.clone();
        self.push_in(&file, line, column, severity, code, message);
    }

    /// Adds a finding about another file than the collector's (cross-file checks).
    pub(crate) fn push_in(
        &mut self,
        file: &str,
        line: Option<u32>,
        column: Option<(u16, &'static str)>,
        severity: Severity,
        code: FindingCode,
        message: impl Into<String>,
    ) {
        if self.items.len() >= MAX_FINDINGS_PER_FILE {
            self.dropped += 1;
            return;
        }
        self.items.push(Finding {
            file: file.to_owned(),
            line,
            column_no: column.map(|c| c.0),
            column_name: column.map(|c| c.1),
            severity,
            code,
            message: message.into(),
        });
    }

    /// The findings, with the cap warning last when findings were dropped.
    pub(crate) fn finish(mut self) -> Vec<Finding> {
        if self.dropped > 0 {
            self.items.push(Finding {
                file: self.file.clone(),
                line: None,
                column_no: None,
                column_name: None,
                severity: Severity::Warning,
                code: FindingCode::TooManyFindings,
                message: format!(
                    "{} further findings dropped after the first {MAX_FINDINGS_PER_FILE}",
                    self.dropped
                ),
            });
        }
        self.items
    }
}
