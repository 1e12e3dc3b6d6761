//! CSV syntax of the standard (spec §2.2): comma-separated, フリーテキスト in double quotes
//! with `""` for a quote, line breaks and commas kept inside quotes.
//!
//! Decisions on what the spec leaves open (`[NC]`):
//! - Records end with CRLF (what every implementation writes). LF or CR alone is accepted as
//!   a record end and reported once per file (`line-ending`, warning).
//! - The last record may or may not end with a line break; both are accepted silently.
//! - Any field may be quoted (the spec only says free text is); quoted non-free-text cells
//!   are accepted silently.
//! - An empty line is skipped with a `blank-line` warning.
//!
//! Broken quoting never stops the scan: the field is closed at the end of the file
//! (unterminated quote) or the offending character is kept (quote inside an unquoted field,
//! text after a closing quote), and a `csv-syntax` error is reported.
//!
//! Lines are counted as 1 + the number of LF characters before a position, the same rule
//! the decoder's byte offsets use.

use super::finding::{FindingCode, Findings, Severity};

/// One cell as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawField {
    /// The unescaped text.
    pub(crate) text: String,
    /// Whether it was enclosed in double quotes.
    pub(crate) quoted: bool,
}

/// One record as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    /// The line the record starts on.
    pub(crate) line: u32,
    /// Its cells.
    pub(crate) fields: Vec<RawField>,
}

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
}

impl Scanner<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line = self.line.saturating_add(1);
        }
        c
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    /// Consumes a line break at the cursor; `Some(true)` for CRLF, `Some(false)` for LF or
    /// CR alone, `None` when there is none.
    fn line_break(&mut self) -> Option<bool> {
        match self.peek()? {
            '\r' => {
                self.next();
                if self.peek() == Some('\n') {
                    self.next();
                    Some(true)
                } else {
                    Some(false)
                }
            }
            '\n' => {
                self.next();
                Some(false)
            }
            _ => None,
        }
    }
}

/// Splits decoded text into records. Syntax problems are added to `findings`.
pub(crate) fn split_records(text: &str, findings: &mut Findings) -> Vec<RawRecord> {
    let mut s = Scanner {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut records = Vec::new();
    let mut bare_endings = 0usize;
    let mut first_bare: Option<u32> = None;
    while s.peek().is_some() {
        let start = s.line;
        if let Some(crlf) = s.line_break() {
            if !crlf {
                bare_endings += 1;
                first_bare.get_or_insert(start);
            }
            findings.push(
                Some(start),
                Severity::Warning,
                FindingCode::BlankLine,
                "empty line skipped: the standard has no empty records",
            );
            continue;
        }
        let mut fields = Vec::new();
        loop {
            fields.push(field(&mut s, findings));
            if s.peek() == Some(',') {
                s.next();
            } else {
                break;
            }
        }
        if s.line_break() == Some(false) {
            bare_endings += 1;
            first_bare.get_or_insert(start);
        }
        records.push(RawRecord {
            line: start,
            fields,
        });
    }
    if let Some(line) = first_bare {
        findings.push(
            Some(line),
            Severity::Warning,
            FindingCode::LineEnding,
            format!(
                "{bare_endings} line(s) end with LF or CR alone, starting here; records are written with CRLF"
            ),
        );
    }
    records
}

/// Reads one field; the cursor is left on the `,`, line break or end.
fn field(s: &mut Scanner<'_>, findings: &mut Findings) -> RawField {
    let start = s.line;
    let mut text = String::new();
    if s.peek() != Some('"') {
        let mut reported = false;
        while let Some(c) = s.peek() {
            if matches!(c, ',' | '\r' | '\n') {
                break;
            }
            s.next();
            if c == '"' && !reported {
                reported = true;
                findings.push(
                    Some(start),
                    Severity::Error,
                    FindingCode::CsvSyntax,
                    "double quote inside an unquoted field: quote the whole field and write \"\" for a quote",
                );
            }
            text.push(c);
        }
        return RawField {
            text,
            quoted: false,
        };
    }
    s.next();
    loop {
        match s.next() {
            None => {
                findings.push(
                    Some(start),
                    Severity::Error,
                    FindingCode::CsvSyntax,
                    "quoted field is never closed: the rest of the file was read as one field",
                );
                return RawField { text, quoted: true };
            }
            Some('"') if s.peek() == Some('"') => {
                s.next();
                text.push('"');
            }
            Some('"') => break,
            Some(c) => text.push(c),
        }
    }
    let mut reported = false;
    while let Some(c) = s.peek() {
        if matches!(c, ',' | '\r' | '\n') {
            break;
        }
        s.next();
        if !reported {
            reported = true;
            findings.push(
                Some(start),
                Severity::Error,
                FindingCode::CsvSyntax,
                "text after the closing quote of a field",
            );
        }
        text.push(c);
    }
    RawField { text, quoted: true }
}

/// Writes one cell: quoted when `quote` or when the text needs it (`,` `"` CR LF).
pub(crate) fn write_field(out: &mut String, text: &str, quote: bool) {
    let needs = quote || text.contains([',', '"', '\r', '\n']);
    if needs {
        out.push('"');
        for c in text.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> (Vec<RawRecord>, Vec<String>) {
        let mut f = Findings::new("t");
        let r = split_records(text, &mut f);
        (r, f.finish().iter().map(|f| f.code.to_string()).collect())
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let (r, codes) = split("a,\"b,\"\"c\"\"\r\nd\"\r\n2,x\r\n");
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].fields[1].text, "b,\"c\"\r\nd");
        assert!(r[0].fields[1].quoted);
        assert_eq!(r[1].line, 3);
    }

    #[test]
    fn broken_quoting_is_reported_and_scanning_continues() {
        let (r, codes) = split("a\"b,\"c\"d\r\nlf\nlast,\"open");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields[1].text, "cd");
        assert_eq!(
            codes,
            vec!["csv-syntax", "csv-syntax", "csv-syntax", "line-ending"]
        );
    }

    #[test]
    fn blank_lines_are_skipped() {
        let (r, codes) = split("a\r\n\r\nb\r\n\r\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].line, 3);
        assert_eq!(codes, vec!["blank-line", "blank-line"]);
    }
}
