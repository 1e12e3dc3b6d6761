//! MS932 (Windows-31J) decoding and encoding (spec §2.2: Shift-JIS (MS932), no characters
//! outside MS932, no 外字).
//!
//! encoding_rs's `SHIFT_JIS` is the WHATWG Shift_JIS, whose table is Windows-31J's (NEC and
//! IBM extensions, `～` U+FF5E at 0x8160, `－` U+FF0D at 0x817C). Two differences are closed
//! here:
//! - WHATWG decodes the user-defined area 0xF040–0xF9FC to private-use code points; the spec
//!   forbids 外字, so those bytes are reported (`gaiji`) and private-use characters are not
//!   encodable.
//! - WHATWG encodes U+00A5 `¥`, U+203E `‾` and U+2212 `−` to bytes that decode to other
//!   characters; a character is only encodable when it decodes back to itself, so these are
//!   rejected (see [`to_ms932_compatible`] for the usual substitutions).
//!
//! Byte offsets are 0-based from the start of the file; lines are 1-based. A LF byte never
//! occurs inside an MS932 double-byte character, so the line of an offset is exact.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};

/// The UTF-8 byte order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why bytes are not a valid MS932 file (the first problem; the parser reports them all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The file starts with a UTF-8 byte order mark.
    #[error(
        "utf-8 byte order mark at byte offset 0: the standard requires ms932, which has no bom"
    )]
    Bom,
    /// The file is UTF-8 text with non-ASCII characters.
    #[error(
        "content is utf-8, not ms932: first non-ascii character at byte offset {offset} (line {line})"
    )]
    Utf8 {
        /// Offset of the first non-ASCII byte.
        offset: usize,
        /// Its line.
        line: u32,
    },
    /// A byte sequence that is not MS932.
    #[error(
        "malformed ms932 byte sequence {} at byte offset {offset} (line {line})",
        hex(bytes)
    )]
    Malformed {
        /// Offset of the sequence.
        offset: usize,
        /// Its line.
        line: u32,
        /// The offending bytes (one or two).
        bytes: Vec<u8>,
    },
    /// A user-defined character (外字).
    #[error(
        "user-defined character (外字) {} at byte offset {offset} (line {line}): forbidden by the standard",
        hex(bytes)
    )]
    Gaiji {
        /// Offset of the character.
        offset: usize,
        /// Its line.
        line: u32,
        /// Its two bytes.
        bytes: Vec<u8>,
    },
}

/// Why text cannot be written as MS932.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {} (U+{:04X}) at character {position} is not in ms932{}", quote(*character), u32::from(*character), hint(*character))]
pub struct EncodeError {
    /// The character.
    pub character: char,
    /// Its 0-based position in characters.
    pub position: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes a character for a message; control and private-use characters are not printed.
pub(crate) fn quote(c: char) -> String {
    if c.is_control() || ('\u{E000}'..='\u{F8FF}').contains(&c) {
        String::from("(unprintable)")
    } else {
        format!("'{c}'")
    }
}

/// A hint naming the MS932 substitute of a common variant.
pub(crate) fn hint(c: char) -> String {
    match substitute(c) {
        Some(s) => format!(" (use '{s}' U+{:04X})", u32::from(s)),
        None => String::new(),
    }
}

/// Decodes an MS932 file strictly: the first problem is an error.
pub fn decode_ms932(bytes: &[u8]) -> Result<String, DecodeError> {
    let (text, issues) = decode_lenient(bytes);
    match issues.into_iter().next() {
        Some(issue) => Err(issue),
        None => Ok(text),
    }
}

/// Decodes as much as possible and lists every problem in byte order (BOM and UTF-8 first).
/// Malformed sequences become U+FFFD. UTF-8 content is returned decoded as UTF-8, so the
/// rest of the file can still be checked.
pub(crate) fn decode_lenient(bytes: &[u8]) -> (String, Vec<DecodeError>) {
    let mut issues = Vec::new();
    let (body, base) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            issues.push(DecodeError::Bom);
            (rest, UTF8_BOM.len())
        }
        None => (bytes, 0),
    };
    // Bytes that are valid UTF-8 are taken as UTF-8 only if they hold a character of three or
    // more UTF-8 bytes (U+0800 and up, where all Japanese text lives): pairs of half-width
    // katakana in MS932 (e.g. ﾟｱ = DF B1) are also valid two-byte UTF-8, and must stay MS932.
    let utf8 = body
        .iter()
        .position(|b| !b.is_ascii())
        .and_then(|first| Some((first, std::str::from_utf8(body).ok()?)))
        .filter(|(_, text)| text.chars().any(|c| u32::from(c) >= 0x800));
    if let Some((first, text)) = utf8 {
        let offset = base + first;
        issues.push(DecodeError::Utf8 {
            offset,
            line: line_of(bytes, offset),
        });
        return (text.to_owned(), issues);
    }
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3 / 2 + 16);
    let mut read_total = 0;
    loop {
        let needed = decoder
            .max_utf8_buffer_length_without_replacement(body.len() - read_total)
            .unwrap_or(usize::MAX / 2);
        out.reserve(needed);
        let (result, read) =
            decoder.decode_to_string_without_replacement(&body[read_total..], &mut out, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => continue,
            DecoderResult::Malformed(bad, after) => {
                let end = read_total - usize::from(after);
                let start = end.saturating_sub(usize::from(bad));
                let offset = base + start;
                issues.push(DecodeError::Malformed {
                    offset,
                    line: line_of(bytes, offset),
                    bytes: body[start..end].to_vec(),
                });
                out.push('\u{FFFD}');
            }
        }
    }
    issues.extend(gaiji(body).into_iter().map(|start| {
        let offset = base + start;
        DecodeError::Gaiji {
            offset,
            line: line_of(bytes, offset),
            bytes: body[start..start + 2].to_vec(),
        }
    }));
    issues.sort_by_key(|i| match i {
        DecodeError::Bom => (0, 0),
        DecodeError::Utf8 { offset, .. } => (1, *offset),
        DecodeError::Malformed { offset, .. } | DecodeError::Gaiji { offset, .. } => (2, *offset),
    });
    (out, issues)
}

/// Offsets of user-defined characters: a lead byte 0xF0–0xF9 followed by a trail byte.
fn gaiji(bytes: &[u8]) -> Vec<usize> {
    let trail = |b: u8| matches!(b, 0x40..=0x7E | 0x80..=0xFC);
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, 0x81..=0x9F | 0xE0..=0xFC) && bytes.get(i + 1).is_some_and(|&t| trail(t)) {
            if (0xF0..=0xF9).contains(&b) {
                found.push(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    found
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines).unwrap_or(u32::MAX - 1) + 1
}

/// Whether a character can be written in MS932 and read back as itself (and is not 外字).
pub fn is_ms932_char(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    if ('\u{E000}'..='\u{F8FF}').contains(&c) {
        return false;
    }
    let mut utf8 = [0u8; 4];
    let src = c.encode_utf8(&mut utf8);
    let mut encoder = SHIFT_JIS.new_encoder();
    let mut sjis = [0u8; 8];
    let (result, _, written) = encoder.encode_from_utf8_without_replacement(src, &mut sjis, true);
    if result != EncoderResult::InputEmpty {
        return false;
    }
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut back = [0u8; 8];
    let (result, _, len) =
        decoder.decode_to_utf8_without_replacement(&sjis[..written], &mut back, true);
    result == DecoderResult::InputEmpty && back[..len] == *src.as_bytes()
}

/// The first character of `text` that is not MS932, with its character position.
pub(crate) fn first_unmappable(text: &str) -> Option<(usize, char)> {
    text.chars().enumerate().find(|&(_, c)| !is_ms932_char(c))
}

/// Encodes text as MS932; fails on the first character outside MS932 (including 外字).
pub fn encode_ms932(text: &str) -> Result<Vec<u8>, EncodeError> {
    if let Some((position, character)) = first_unmappable(text) {
        return Err(EncodeError {
            character,
            position,
        });
    }
    let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
    debug_assert!(!had_errors, "every character was checked above");
    Ok(bytes.into_owned())
}

/// The MS932 form of a common Unicode variant (JIS X 0208 vs Windows mappings, Latin-1).
fn substitute(c: char) -> Option<char> {
    Some(match c {
        '\u{301C}' => '\u{FF5E}', // WAVE DASH → FULLWIDTH TILDE
        '\u{2016}' => '\u{2225}', // DOUBLE VERTICAL LINE → PARALLEL TO
        '\u{2212}' => '\u{FF0D}', // MINUS SIGN → FULLWIDTH HYPHEN-MINUS
        '\u{2014}' => '\u{2015}', // EM DASH → HORIZONTAL BAR
        '\u{00A2}' => '\u{FFE0}', // CENT SIGN → FULLWIDTH CENT SIGN
        '\u{00A3}' => '\u{FFE1}', // POUND SIGN → FULLWIDTH POUND SIGN
        '\u{00AC}' => '\u{FFE2}', // NOT SIGN → FULLWIDTH NOT SIGN
        '\u{00A5}' => '\u{FFE5}', // YEN SIGN → FULLWIDTH YEN SIGN
        '\u{203E}' => '\u{FFE3}', // OVERLINE → FULLWIDTH MACRON
        '\u{00A0}' => ' ',        // NO-BREAK SPACE → SPACE
        _ => return None,
    })
}

/// Folds the usual Unicode variants to the characters MS932 has (spec §2.2: characters
/// outside MS932 must be converted to valid ones): WAVE DASH → `～`, MINUS SIGN → `－`,
/// DOUBLE VERTICAL LINE → `∥`, EM DASH → `―`, Latin-1 `¢ £ ¬ ¥` → full-width, OVERLINE →
/// `￣`, NO-BREAK SPACE → space. Other characters are left alone, so the writer still
/// rejects them by name.
pub fn to_ms932_compatible(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| substitute(c).is_none()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(|c| substitute(c).unwrap_or(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_are_ms932() {
        for c in [
            '\u{301C}', '\u{2016}', '\u{2212}', '\u{2014}', '\u{A2}', '\u{A3}', '\u{AC}', '\u{A5}',
            '\u{203E}', '\u{A0}',
        ] {
            assert!(
                !is_ms932_char(c),
                "U+{:04X} should not be ms932",
                u32::from(c)
            );
            let s = substitute(c).unwrap();
            assert!(is_ms932_char(s), "U+{:04X} should be ms932", u32::from(s));
        }
    }

    #[test]
    fn gaiji_and_malformed_are_located() {
        let bytes = b"ab\r\n\xF0\x40x\x82\r\n\xA0";
        let (_, issues) = decode_lenient(bytes);
        let offsets: Vec<_> = issues
            .iter()
            .map(|i| match i {
                DecodeError::Malformed { offset, line, .. } => ("m", *offset, *line),
                DecodeError::Gaiji { offset, line, .. } => ("g", *offset, *line),
                _ => ("?", 0, 0),
            })
            .collect();
        assert_eq!(offsets, vec![("g", 4, 2), ("m", 7, 2), ("m", 10, 3)]);
    }
}
