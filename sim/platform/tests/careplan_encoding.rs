//! The MS932 codec (spec §2.2): strict decoding with offsets and lines, rejection of a BOM,
//! UTF-8 and 外字, encoding that names the unmappable character, and the writer's errors.

mod careplan_support;

use careplan_support::*;
use kiban_platform::careplan::{
    DecodeError, EncodeError, WriteError, decode_ms932, encode_ms932, is_ms932_char,
    to_ms932_compatible, write_rows,
};
use proptest::prelude::*;

#[test]
fn decoding_rejects_a_bom_utf8_malformed_bytes_and_gaiji_with_their_position() {
    assert_eq!(
        decode_ms932(b"\xEF\xBB\xBF202407").unwrap_err(),
        DecodeError::Bom
    );
    let utf8 = "202407,\"ok\"\r\n202407,\"鈴木\"\r\n".as_bytes();
    let err = decode_ms932(utf8).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Utf8 {
            offset: 21,
            line: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "content is utf-8, not ms932: first non-ascii character at byte offset 21 (line 2)"
    );
    let err = decode_ms932(b"a\r\nb\r\n\x82\x20").unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed ms932 byte sequence 0x82 at byte offset 6 (line 3)"
    );
    let err = decode_ms932(b"ab\xF9\xFC").unwrap_err();
    assert_eq!(
        err.to_string(),
        "user-defined character (外字) 0xF9 0xFC at byte offset 2 (line 1): forbidden by the standard"
    );
    assert_eq!(decode_ms932(&encode("髙﨑①ｱ～－")).unwrap(), "髙﨑①ｱ～－");
}

#[test]
fn encoding_names_the_character_and_suggests_the_ms932_form() {
    let err = encode_ms932("10:00〜11:00").unwrap_err();
    assert_eq!(
        err,
        EncodeError {
            character: '\u{301C}',
            position: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "character '〜' (U+301C) at character 5 is not in ms932 (use '～' U+FF5E)"
    );
    for c in ['¥', '−', '𠮷', 'é', '\u{E000}'] {
        assert!(!is_ms932_char(c), "{c}");
    }
    assert_eq!(to_ms932_compatible("10〜11−2 ¥100"), "10～11－2 ￥100");
    assert!(encode_ms932(&to_ms932_compatible("10〜11−2 ¥100")).is_ok());
}

#[test]
fn the_writer_names_row_column_and_character() {
    let mut rows = plan_set().table1;
    rows.push(rows[0].clone());
    rows[1].insured = insured("0000099999");
    rows[1].planner_name = String::from("吉田 𠮷子");
    let err = write_rows(&rows).unwrap_err();
    assert_eq!(
        err,
        WriteError::Unmappable {
            row: 2,
            column_no: 8,
            column_name: "居宅サービス計画作成者氏名",
            character: '𠮷'
        }
    );
    assert_eq!(
        err.to_string(),
        "row 2: column No.8 居宅サービス計画作成者氏名: character '𠮷' (U+20BB7) is not in ms932"
    );
}

#[test]
fn halfwidth_katakana_pairs_that_are_also_valid_utf8_decode_as_ms932() {
    // ﾟｱ is DF B1 in MS932, which is also the valid UTF-8 of U+07F1; found by the round-trip
    // property test in CI.
    let bytes = encode_ms932("ﾟｱ").unwrap();
    assert_eq!(bytes, [0xDF, 0xB1]);
    assert_eq!(decode_ms932(&bytes).unwrap(), "ﾟｱ");
    let utf8_japanese = "あい".as_bytes();
    assert!(matches!(
        decode_ms932(utf8_japanese),
        Err(DecodeError::Utf8 { offset: 0, line: 1 })
    ));
}

const POOL: &[char] = &[
    'a', 'Z', '0', ' ', ',', '"', '\r', '\n', 'あ', 'ア', 'ｱ', 'ﾟ', '漢', '髙', '﨑', '①', 'ⅰ',
    '～', '－', '∥', '￥', '・', 'ー', '　', '㈱', '≒',
];

proptest! {
    #[test]
    fn ms932_text_round_trips(chars in prop::collection::vec(prop::sample::select(POOL), 0..40)) {
        let text: String = chars.into_iter().collect();
        let bytes = encode_ms932(&text).unwrap();
        prop_assert_eq!(decode_ms932(&bytes).unwrap(), text);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_ms932(&bytes);
    }
}
