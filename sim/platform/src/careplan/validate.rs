//! Cell validation against a column of the layout (spec §3, §4.1): required, length in MS932
//! bytes, format. The parser and the writer both use it, so what the writer emits is what
//! the parser accepts.

use kiban_core::id::{CareOfficeNumber, InsurerNumber};

use super::finding::{FindingCode, Findings, Severity};
use super::layout::{Column, Confidence, Format};
use super::values::{
    ClockTime, CsvVersion, PostalCode, ProratedDays, ServiceCode, ServiceTime, ServiceTypeCode,
    Table7Code, UnitPrice, YearMonth, parse_date,
};

/// The result of checking one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CellCheck {
    /// An error was reported.
    pub(crate) error: bool,
    /// The cell satisfies its format (so it converts to its typed value).
    pub(crate) convertible: bool,
}

/// The length of text in MS932 bytes: 1 for ASCII and half-width katakana, 2 otherwise.
pub(crate) fn ms932_len(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) || c == '\u{80}' {
                1
            } else {
                2
            }
        })
        .sum()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Echoes a short code-like value in a message; anything else is described, not repeated.
fn shown(s: &str) -> String {
    if s.len() <= 12 && s.bytes().all(|b| b.is_ascii_graphic()) {
        format!("\"{s}\"")
    } else {
        String::from("the value")
    }
}

/// Checks one cell. `position` is the 1-based column position in the file; `quoted` says
/// whether the cell was enclosed in quotes (the writer passes `true` for free text).
pub(crate) fn check_cell(
    column: &Column,
    position: u16,
    text: &str,
    quoted: bool,
    line: Option<u32>,
    findings: &mut Findings,
) -> CellCheck {
    // Rules on [NC] columns are warnings (layout.rs).
    let severity = if column.confidence == Confidence::NotConfirmed {
        Severity::Warning
    } else {
        Severity::Error
    };
    let at = Some((position, column.name));
    let report = |code: FindingCode, message: String, findings: &mut Findings| {
        findings.push_at(line, at, severity, code, message);
    };
    let failed = |error| CellCheck {
        error,
        convertible: false,
    };
    let is_error = severity == Severity::Error;
    if text.is_empty() {
        if column.required {
            report(
                FindingCode::RequiredMissing,
                String::from("required (○) column is empty"),
                findings,
            );
            return failed(is_error);
        }
        return CellCheck {
            error: false,
            convertible: true,
        };
    }
    let mut error = false;
    if let Some(max) = column.max_len {
        let len = ms932_len(text);
        if len > usize::from(max) {
            report(
                FindingCode::TooLong,
                format!("{len} bytes (ms932) exceed the 項目長 of {max}"),
                findings,
            );
            error = is_error;
            // On an error the record is not clean anyway, and a fixed-format cell that is too
            // long also fails its format: one finding is enough. On an [NC] column (warning)
            // the format is still checked, so a well-formed value still converts.
            if is_error {
                return failed(error);
            }
        }
    }
    let problem: Option<(FindingCode, String)> = match column.format {
        Format::CsvVersion => CsvVersion::from_code(text).is_none().then(|| {
            (
                FindingCode::CsvVersionUnknown,
                format!(
                    "{} is not a CSVバージョン of the spec §2.3 history (expected 202407 for v4.1)",
                    shown(text)
                ),
            )
        }),
        Format::InsurerNumber => InsurerNumber::parse(text)
            .err()
            .map(|e| (FindingCode::BadInsurerNumber, e.to_string())),
        Format::InsuredNumber => {
            let digits = |s: &str| s.len() == 9 && all_digits(s);
            let ok = text.len() == 10
                && (all_digits(text) || text.strip_prefix('H').is_some_and(digits));
            (!ok).then(|| {
                (
                    FindingCode::BadInsuredNumber,
                    String::from("expected 10 digits, or H and 9 digits (生保単独)"),
                )
            })
        }
        Format::OfficeNumber => CareOfficeNumber::parse(text)
            .err()
            .map(|e| (FindingCode::BadOfficeNumber, e.to_string())),
        Format::Table7Office => (text != "9999999999")
            .then(|| CareOfficeNumber::parse(text).err())
            .flatten()
            .map(|e| {
                (
                    FindingCode::BadOfficeNumber,
                    format!("{e} (or 9999999999 on the 全合計 row)"),
                )
            }),
        Format::VendorCode => (!text.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| {
            (
                FindingCode::BadFormat,
                String::from("expected ascii letters and digits"),
            )
        }),
        Format::Date => parse_date(text).is_none().then(|| {
            (
                FindingCode::BadDate,
                String::from("expected a calendar date YYYYMMDD"),
            )
        }),
        Format::DateOrZeros => (text != "00000000" && parse_date(text).is_none()).then(|| {
            (
                FindingCode::BadDate,
                String::from("expected a calendar date YYYYMMDD or 00000000"),
            )
        }),
        Format::Month => YearMonth::parse(text).is_none().then(|| {
            (
                FindingCode::BadDate,
                String::from("expected a month YYYYMM"),
            )
        }),
        Format::MonthOrZeros => (text != "000000" && YearMonth::parse(text).is_none()).then(|| {
            (
                FindingCode::BadDate,
                String::from("expected a month YYYYMM or 000000"),
            )
        }),
        Format::Time => ClockTime::parse(text).is_none().then(|| {
            (
                FindingCode::BadTime,
                String::from("expected a time HHMM (0000–2359, or 2400)"),
            )
        }),
        Format::ServiceTime => ServiceTime::parse(text).is_none().then(|| {
            (
                FindingCode::BadTime,
                String::from("expected a time HHMM, or 9999 for a service without a time"),
            )
        }),
        Format::Digits => (!all_digits(text)).then(|| {
            (
                FindingCode::NotDigits,
                String::from("expected ascii digits only"),
            )
        }),
        Format::Integer => {
            let body = text.strip_prefix('-').unwrap_or(text);
            (!all_digits(body)).then(|| {
                (
                    FindingCode::NotInteger,
                    String::from("expected an integer (ascii digits, optional leading -)"),
                )
            })
        }
        Format::Range { min, max } => {
            if all_digits(text) {
                let value: Option<u32> = text.parse().ok();
                (!value.is_some_and(|v| (min..=max).contains(&v))).then(|| {
                    (
                        FindingCode::OutOfRange,
                        format!("value must be within {min}–{max}"),
                    )
                })
            } else {
                Some((
                    FindingCode::NotDigits,
                    String::from("expected ascii digits only"),
                ))
            }
        }
        Format::Code(list) => (!list.contains(text)).then(|| {
            (
                FindingCode::BadCode,
                format!(
                    "{} is not a {} code (expected one of {})",
                    shown(text),
                    list.name,
                    list.codes()
                ),
            )
        }),
        Format::ServiceType => ServiceTypeCode::parse(text).is_none().then(|| {
            (
                FindingCode::BadServiceCode,
                format!(
                    "{} is not a サービス種類コード (2 digits or upper-case letters)",
                    shown(text)
                ),
            )
        }),
        Format::ServiceCode => ServiceCode::parse(text).is_none().then(|| {
            let why = if Table7Code::parse(text).is_some() {
                "subtotal and total codes belong to the 第7表 only"
            } else {
                "expected a 2-character type and a 4-character item"
            };
            (
                FindingCode::BadServiceCode,
                format!("{} is not a サービスコード: {why}", shown(text)),
            )
        }),
        Format::Table7Code => Table7Code::parse(text).is_none().then(|| {
            (
                FindingCode::BadServiceCode,
                format!(
                    "{} is not a サービスコード, a type subtotal (AAAA, EEEE, ZZZZ) or 999999",
                    shown(text)
                ),
            )
        }),
        Format::ProratedDays => ProratedDays::parse(text).is_none().then(|| {
            (
                FindingCode::BadFormat,
                String::from("expected 31 characters, each 0 or 1"),
            )
        }),
        Format::PostalCode => PostalCode::parse(text).is_none().then(|| {
            (
                FindingCode::BadFormat,
                String::from("expected a postal code XXX-XXXX"),
            )
        }),
        Format::UnitPrice => UnitPrice::parse(text).is_none().then(|| {
            (
                FindingCode::BadFormat,
                String::from("expected the 99.99 form, e.g. 11.40"),
            )
        }),
        Format::Text => None,
        Format::FreeText => {
            if !quoted {
                findings.push_at(
                    line,
                    at,
                    Severity::Warning,
                    FindingCode::FreeTextUnquoted,
                    "フリーテキスト should be enclosed in double quotes (spec §2.2)",
                );
            }
            None
        }
        Format::Unused => {
            findings.push_at(
                line,
                at,
                Severity::Warning,
                FindingCode::UnusedFilled,
                "識別子 is marked ※使用しない but holds a value",
            );
            None
        }
    };
    match problem {
        Some((code, message)) => {
            report(code, message, findings);
            failed(error || is_error)
        }
        None => {
            // Digits past the 項目長 (reported above as a warning on an [NC] column) may not
            // fit the typed value.
            let fits = match column.format {
                Format::Digits => text.parse::<u32>().is_ok(),
                Format::Integer => text.parse::<i32>().is_ok(),
                _ => true,
            };
            CellCheck {
                error,
                convertible: fits,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms932_length_counts_half_width_katakana_as_one() {
        assert_eq!(ms932_len("ｱｲｳ"), 3);
        assert_eq!(ms932_len("あa"), 3);
    }
}
