//! The personal-data guard: audit entries name identifiers and categories, never a My Number
//! or a person's name (an append-only log cannot be cleaned afterwards). The guard flags name
//! and My Number keys and any 12-digit number, however it is written.

use serde_json::Value;

/// Where the guard found personal data in an entry. Never holds the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataHit {
    /// The JSON path, e.g. `$.subject.name`; keys that are not plain identifiers are shown
    /// as `<key>` so the path itself cannot leak.
    pub path: String,
    /// Which rule matched.
    pub what: &'static str,
}

/// Whether `entry` passes the guard ([`find_personal_data`] finds nothing).
pub fn entry_is_free_of_personal_data(entry: &Value) -> bool {
    find_personal_data(entry).is_none()
}

/// The first key or value in `entry` that looks like personal data:
///
/// * a key naming a My Number or a person's name (`my_number`, `myNumber`, `name`,
///   `name_kana`, `family_name`, `氏名`, `個人番号`, … — compared case-insensitively without
///   `_`, `-`, spaces and dots), or any key containing `mynumber` or ending in `kana`;
/// * a string that is 12 digits once spaces and hyphens are removed (ASCII or full-width
///   digits: how a My Number is written), or a key of that shape;
/// * a 12-digit integer.
///
/// Ten-digit identifiers (insured numbers, office numbers), six-digit codes and hex hashes
/// pass. Nesting deeper than [`MAX_ENTRY_DEPTH`](super::MAX_ENTRY_DEPTH) is not searched (such
/// an entry is refused by [`append`](super::append) anyway).
pub fn find_personal_data(entry: &Value) -> Option<PersonalDataHit> {
    let mut path = Vec::new();
    let what = scan(entry, 0, &mut path)?;
    let mut text = String::from("$");
    for segment in path.iter().rev() {
        match segment {
            Segment::Index(i) => text.push_str(&format!("[{i}]")),
            Segment::Key(key) if is_plain(key) => {
                text.push('.');
                text.push_str(key);
            }
            Segment::Key(_) => text.push_str(".<key>"),
        }
    }
    Some(PersonalDataHit { path: text, what })
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Depth-first search; on a hit, `path` receives the segments innermost first.
fn scan<'a>(value: &'a Value, depth: usize, path: &mut Vec<Segment<'a>>) -> Option<&'static str> {
    match value {
        Value::String(s) if is_twelve_digits(s) => Some("a 12-digit number"),
        Value::Number(n)
            if n.as_u64()
                .is_some_and(|n| (100_000_000_000..1_000_000_000_000).contains(&n)) =>
        {
            Some("a 12-digit number")
        }
        Value::Array(items) if depth <= super::MAX_ENTRY_DEPTH => {
            items.iter().enumerate().find_map(|(i, item)| {
                let what = scan(item, depth + 1, path)?;
                path.push(Segment::Index(i));
                Some(what)
            })
        }
        Value::Object(map) if depth <= super::MAX_ENTRY_DEPTH => {
            map.iter().find_map(|(key, item)| {
                let what = personal_key(key).or_else(|| scan(item, depth + 1, path))?;
                path.push(Segment::Key(key));
                Some(what)
            })
        }
        _ => None,
    }
}

const NAME_KEYS: &[&str] = &[
    "name",
    "fullname",
    "familyname",
    "givenname",
    "firstname",
    "lastname",
    "middlename",
    "surname",
    "furigana",
    "shimei",
    "personname",
    "staffname",
    "subjectname",
    "patientname",
    "insuredname",
    "agentname",
    "username",
    "氏名",
    "名前",
    "姓",
    "名",
    "フリガナ",
    "ふりがな",
];

const MY_NUMBER_KEYS: &[&str] = &["individualnumber", "kojinbango", "kojinbangou"];

fn personal_key(key: &str) -> Option<&'static str> {
    if is_twelve_digits(key) {
        return Some("a 12-digit number as a key");
    }
    let normal: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.' | '\u{3000}'))
        .flat_map(char::to_lowercase)
        .collect();
    if normal.contains("mynumber")
        || normal.contains("マイナンバー")
        || normal.contains("個人番号")
        || MY_NUMBER_KEYS.contains(&normal.as_str())
    {
        return Some("a my number key");
    }
    if NAME_KEYS.contains(&normal.as_str())
        || normal.ends_with("kana")
        || normal.ends_with("カナ")
        || normal.ends_with("氏名")
    {
        return Some("a person's name key");
    }
    None
}

/// Twelve ASCII or full-width digits, optionally separated by spaces or hyphens.
fn is_twelve_digits(s: &str) -> bool {
    if s.len() > 12 * 4 {
        return false;
    }
    let mut digits = 0;
    for c in s.chars() {
        match c {
            '0'..='9' | '０'..='９' => digits += 1,
            ' ' | '-' | '\u{3000}' | '－' | '‐' | '−' => {}
            _ => return false,
        }
    }
    digits == 12
}

fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 40
        && !is_twelve_digits(key)
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hit(entry: Value) -> Option<String> {
        find_personal_data(&entry).map(|h| h.path)
    }

    #[test]
    fn name_and_my_number_keys_are_refused_in_any_spelling() {
        for key in [
            "my_number",
            "myNumber",
            "MY-NUMBER",
            "subject_my_number_hash",
            "kojin_bango",
            "name",
            "Name",
            "name_kana",
            "family_name_kana",
            "full_name",
            "given-name",
            "staff_name",
            "氏名",
            "カナ氏名",
            "マイナンバー",
        ] {
            let mut map = serde_json::Map::new();
            map.insert(key.to_owned(), json!("x"));
            assert!(
                !entry_is_free_of_personal_data(&Value::Object(map)),
                "{key} should be refused"
            );
        }
    }

    #[test]
    fn twelve_digit_strings_and_numbers_are_refused() {
        for value in [
            json!("123456789012"),
            json!("1234 5678 9012"),
            json!("1234-5678-9012"),
            json!("１２３４５６７８９０１２"),
            json!(123_456_789_012u64),
        ] {
            assert!(
                !entry_is_free_of_personal_data(&json!({"v": value})),
                "{value}"
            );
        }
        assert_eq!(
            hit(json!({"a": [1, {"b": "123456789012"}]})).as_deref(),
            Some("$.a[1].b")
        );
    }

    #[test]
    fn a_twelve_digit_key_is_refused_and_not_echoed_in_the_path() {
        let found = find_personal_data(&json!({"x": {"123456789012": 1}})).unwrap();
        assert_eq!(found.path, "$.x.<key>");
        assert!(!found.path.contains("1234"));
    }

    #[test]
    fn identifiers_categories_and_hashes_pass() {
        let entry = json!({
            "office": "1312345678",          // 10-digit care office number
            "insurer": "131011",             // 6-digit insurer number
            "subject": "0000012345",         // 10-digit insured number
            "office_name": "さくら訪問介護",   // an office, not a person
            "rule_name": "consent-required",
            "kind_of_name": "x",
            "at": 1_700_000_000,             // 10-digit timestamp
            "at_ms": 1_700_000_000_000u64,   // 13 digits
            "serial": "1234567890123",       // 13 digits
            "short": "12345678901",          // 11 digits
            "digest": "a1234567890123456789b1234567890123456789c1234567890123456789dddd",
            "outcome": "deny",
        });
        assert_eq!(find_personal_data(&entry), None);
    }
}
