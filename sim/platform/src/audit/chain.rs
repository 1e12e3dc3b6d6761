//! The hash chain: the row hash, the canonical JSON of entries, reading the head and appending
//! a row inside the caller's transaction (one indexed `SELECT` of the head, one `INSERT`).

use ring::digest;
use rusqlite::{OptionalExtension, Savepoint, Transaction, types::ValueRef};
use serde_json::Value;

use super::{AuditError, AuditKind, guard};

/// Domain-separation tag of a row hash.
const ROW_TAG: &[u8] = b"kiban/audit/row/v1\0";

/// The `prev_hash` of row 1.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// The largest entry, in bytes of canonical JSON. An audit entry names identifiers and
/// categories, not content; a larger entry is a bug in the caller.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;

/// The deepest nesting of arrays and objects in an entry.
pub const MAX_ENTRY_DEPTH: usize = 16;

/// The last row of the log: what the next row links to and what a checkpoint signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    /// Its sequence number (1 for the first row).
    pub seq: u64,
    /// Its hash.
    pub hash: [u8; 32],
}

/// The hash of one row (see the module documentation for the layout).
pub(crate) fn row_hash(prev: &[u8], seq: u64, at: i64, kind: &[u8], entry: &[u8]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(ROW_TAG);
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(&at.to_be_bytes());
    // usize is at most 64 bits on every target Rust supports, so the lengths fit in a u64.
    ctx.update(&(kind.len() as u64).to_be_bytes());
    ctx.update(kind);
    ctx.update(&(entry.len() as u64).to_be_bytes());
    ctx.update(entry);
    to_array(ctx.finish().as_ref())
}

/// Copies a SHA-256 output into an array (the digest is 32 bytes by construction).
pub(crate) fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// The canonical JSON text of an entry: compact, object keys sorted by their UTF-8 bytes,
/// numbers as `serde_json` prints them, and strings with `"` `\` and every control or
/// invisible-formatting character (C0, DEL, C1, U+2028/9, bidi overrides) escaped as `\uXXXX`
/// (or `\n`-style short forms), so the stored text is safe to print (ASVS 16.4.1).
///
/// Fails on entries nested deeper than [`MAX_ENTRY_DEPTH`].
pub fn canonical_json(entry: &Value) -> Result<String, AuditError> {
    let mut out = String::with_capacity(128);
    write_value(entry, 0, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, depth: usize, out: &mut String) -> Result<(), AuditError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if depth >= MAX_ENTRY_DEPTH {
                return Err(AuditError::EntryTooDeep);
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, depth + 1, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            if depth >= MAX_ENTRY_DEPTH {
                return Err(AuditError::EntryTooDeep);
            }
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, depth + 1, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if must_escape(c) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let code = u32::from(c);
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[((code >> shift) & 0xf) as usize]));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters that could reorder, hide or inject lines when a log is printed. All are in the
/// Basic Multilingual Plane, so one `\uXXXX` escape suffices.
fn must_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Whether `text` is exactly the canonical JSON of what it parses to.
pub(crate) fn is_canonical(text: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(text) {
        Ok(value) => canonical_json(&value).is_ok_and(|again| again.as_bytes() == text),
        Err(_) => false,
    }
}

/// The last row of the log, or `None` for an empty log. One indexed read (`seq` is the rowid).
pub fn head(conn: &rusqlite::Connection) -> Result<Option<AuditHead>, AuditError> {
    let row = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    let Some((seq, hash)) = row else {
        return Ok(None);
    };
    let seq = u64::try_from(seq).map_err(|_| AuditError::ChainBroken {
        seq: 0,
        reason: "the last row has a negative sequence number",
    })?;
    let hash: [u8; 32] = hash.try_into().map_err(|_| AuditError::ChainBroken {
        seq,
        reason: "the last row's hash is not 32 bytes",
    })?;
    Ok(Some(AuditHead { seq, hash }))
}

/// A transaction, or a savepoint inside one: where [`append`] may write. Sealed: only
/// rusqlite's [`Transaction`] and [`Savepoint`] are scopes, so an append never runs in
/// autocommit mode.
pub trait TxScope: std::ops::Deref<Target = rusqlite::Connection> + sealed::Sealed {}

impl TxScope for Transaction<'_> {}
impl TxScope for Savepoint<'_> {}

mod sealed {
    /// Keeps [`TxScope`](super::TxScope) to the two rusqlite scopes.
    pub trait Sealed {}
    impl Sealed for rusqlite::Transaction<'_> {}
    impl Sealed for rusqlite::Savepoint<'_> {}
}

/// Appends one row inside the caller's transaction (or a savepoint of it) and returns its
/// sequence number. The row commits or rolls back with its scope; nothing is cached between
/// calls, so a rolled back append leaves no trace and the next one continues the committed
/// chain (a group commit rolls back one refused entry's savepoint and goes on).
///
/// Refuses entries with personal data ([`find_personal_data`](super::find_personal_data)),
/// entries larger than [`MAX_ENTRY_BYTES`] or deeper than [`MAX_ENTRY_DEPTH`].
pub fn append(
    tx: &impl TxScope,
    at: i64,
    kind: AuditKind,
    entry: &Value,
) -> Result<u64, AuditError> {
    if let Some(hit) = guard::find_personal_data(entry) {
        debug_assert!(false, "audit entry with personal data at {}", hit.path);
        return Err(AuditError::PersonalData {
            path: hit.path,
            what: hit.what,
        });
    }
    let text = canonical_json(entry)?;
    if text.len() > MAX_ENTRY_BYTES {
        return Err(AuditError::EntryTooLarge { len: text.len() });
    }
    let (seq, prev) = match head(tx)? {
        Some(head) => (
            head.seq.checked_add(1).ok_or(AuditError::SeqExhausted)?,
            head.hash,
        ),
        None => (1, GENESIS),
    };
    let seq_sql = i64::try_from(seq).map_err(|_| AuditError::SeqExhausted)?;
    let kind = kind.as_str();
    let hash = row_hash(&prev, seq, at, kind.as_bytes(), text.as_bytes());
    tx.prepare_cached(
        "INSERT INTO audit (seq, at, kind, entry, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        seq_sql,
        at,
        kind,
        text,
        &prev[..],
        &hash[..]
    ])?;
    Ok(seq)
}

/// One `audit` row read back without trusting any column's type.
#[derive(Debug)]
pub(crate) struct RawRow<'a> {
    pub(crate) at: i64,
    pub(crate) kind: &'a [u8],
    pub(crate) entry: &'a [u8],
    pub(crate) prev_hash: [u8; 32],
    pub(crate) hash: [u8; 32],
}

/// Decodes columns `at, kind, entry, prev_hash, hash` starting at `first`; the error says which
/// column is malformed.
pub(crate) fn decode_row<'a>(
    row: &'a rusqlite::Row<'a>,
    first: usize,
) -> Result<RawRow<'a>, String> {
    let column = |i: usize| {
        row.get_ref(first + i)
            .map_err(|e| format!("column {} unreadable: {e}", first + i))
    };
    let at = match column(0)? {
        ValueRef::Integer(at) => at,
        other => return Err(format!("at is {}, not an integer", type_name(&other))),
    };
    let kind = text_column(column(1)?, "kind")?;
    let entry = text_column(column(2)?, "entry")?;
    let prev_hash = hash_column(column(3)?, "prev_hash")?;
    let hash = hash_column(column(4)?, "hash")?;
    Ok(RawRow {
        at,
        kind,
        entry,
        prev_hash,
        hash,
    })
}

pub(crate) fn text_column<'a>(value: ValueRef<'a>, name: &str) -> Result<&'a [u8], String> {
    match value {
        ValueRef::Text(bytes) => Ok(bytes),
        other => Err(format!("{name} is {}, not text", type_name(&other))),
    }
}

pub(crate) fn hash_column(value: ValueRef<'_>, name: &str) -> Result<[u8; 32], String> {
    match value {
        ValueRef::Blob(bytes) => bytes
            .try_into()
            .map_err(|_| format!("{name} is {} bytes, expected 32", bytes.len())),
        other => Err(format!("{name} is {}, not a blob", type_name(&other))),
    }
}

pub(crate) fn type_name(value: &ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "null",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{SCHEMA, test_support::memory_db};
    use serde_json::json;

    #[test]
    fn row_hash_covers_every_field() {
        let base = row_hash(&[1; 32], 5, 100, b"write", b"{}");
        assert_ne!(base, row_hash(&[2; 32], 5, 100, b"write", b"{}"));
        assert_ne!(base, row_hash(&[1; 32], 6, 100, b"write", b"{}"));
        assert_ne!(base, row_hash(&[1; 32], 5, 101, b"write", b"{}"));
        assert_ne!(base, row_hash(&[1; 32], 5, 100, b"login", b"{}"));
        assert_ne!(base, row_hash(&[1; 32], 5, 100, b"write", b"[]"));
        assert_eq!(base, row_hash(&[1; 32], 5, 100, b"write", b"{}"));
    }

    #[test]
    fn row_hash_length_prefixes_separate_kind_from_entry() {
        assert_ne!(
            row_hash(&GENESIS, 1, 0, b"ab", b"c"),
            row_hash(&GENESIS, 1, 0, b"a", b"bc")
        );
    }

    #[test]
    fn row_hash_is_pinned() {
        // Pins the layout: changing the tag or field order breaks every stored log.
        let mut input = Vec::new();
        input.extend_from_slice(b"kiban/audit/row/v1\0");
        input.extend_from_slice(&[0; 32]);
        input.extend_from_slice(&1u64.to_be_bytes());
        input.extend_from_slice(&(-2i64).to_be_bytes());
        input.extend_from_slice(&8u64.to_be_bytes());
        input.extend_from_slice(b"decision");
        input.extend_from_slice(&2u64.to_be_bytes());
        input.extend_from_slice(b"{}");
        let expected = digest::digest(&digest::SHA256, &input);
        assert_eq!(
            row_hash(&GENESIS, 1, -2, b"decision", b"{}")[..],
            *expected.as_ref()
        );
    }

    #[test]
    fn genesis_row_links_to_32_zero_bytes() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        assert_eq!(
            append(&tx, 10, AuditKind::Login, &json!({"ok": true})).unwrap(),
            1
        );
        tx.commit().unwrap();
        let (prev, hash): (Vec<u8>, Vec<u8>) = conn
            .query_row("SELECT prev_hash, hash FROM audit WHERE seq = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(prev, vec![0; 32]);
        assert_eq!(
            hash,
            row_hash(&GENESIS, 1, 10, b"login", br#"{"ok":true}"#).to_vec()
        );
    }

    #[test]
    fn append_links_each_row_to_the_previous_hash() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        for i in 0..5 {
            let seq = append(&tx, 100 + i, AuditKind::Decision, &json!({"i": i})).unwrap();
            assert_eq!(seq, u64::try_from(i).unwrap() + 1);
        }
        tx.commit().unwrap();
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = conn
            .prepare("SELECT seq, prev_hash, hash FROM audit ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 5);
        for pair in rows.windows(2) {
            assert_eq!(
                pair[1].1, pair[0].2,
                "row {} links to row {}",
                pair[1].0, pair[0].0
            );
        }
        let head = head(&conn).unwrap().unwrap();
        assert_eq!(head.seq, 5);
        assert_eq!(head.hash.to_vec(), rows[4].2);
    }

    #[test]
    fn rolled_back_append_leaves_no_row_and_the_chain_continues() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        append(&tx, 1, AuditKind::Write, &json!({"n": 1})).unwrap();
        tx.commit().unwrap();
        let tx = conn.transaction().unwrap();
        assert_eq!(
            append(&tx, 2, AuditKind::Write, &json!({"n": 2})).unwrap(),
            2
        );
        tx.rollback().unwrap();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
        let tx = conn.transaction().unwrap();
        assert_eq!(
            append(&tx, 3, AuditKind::Write, &json!({"n": 3})).unwrap(),
            2
        );
        tx.commit().unwrap();
        let report = crate::audit::verify(&conn, &[0; 32], None);
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.rows_checked, 2);
    }

    #[test]
    fn append_stores_canonical_json_whatever_the_key_order() {
        let mut conn = memory_db();
        let mut map = serde_json::Map::new();
        map.insert("zeta".into(), json!(1));
        map.insert(
            "alpha".into(),
            json!({"b": [1, 2], "a": "x\u{1b}[31m\u{202e}"}),
        );
        let tx = conn.transaction().unwrap();
        append(&tx, 0, AuditKind::Write, &Value::Object(map)).unwrap();
        tx.commit().unwrap();
        let entry: String = conn
            .query_row("SELECT entry FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            entry,
            r#"{"alpha":{"a":"x\u001b[31m\u202e","b":[1,2]},"zeta":1}"#
        );
        assert!(is_canonical(entry.as_bytes()));
        assert!(!is_canonical(br#"{"zeta":1,"alpha":2}"#));
        assert!(!is_canonical(br#"{"a": 1}"#));
        assert!(!is_canonical(br#"{"a":1,"a":1}"#));
        assert!(!is_canonical(b"\xff"));
    }

    #[test]
    fn canonical_json_round_trips_through_a_parser() {
        let value = json!({"s": "改行\n\"quote\" \\ \u{7f}\u{85}\u{2028}", "f": 1.5, "n": -3,
                           "big": 18446744073709551615u64, "nested": [[], {}, null, false]});
        let text = canonical_json(&value).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, value);
        assert!(is_canonical(text.as_bytes()));
        assert!(!text.chars().any(|c| c.is_control()));
    }

    #[test]
    fn append_refuses_deep_large_and_personal_entries() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        let mut deep = json!(1);
        for _ in 0..=MAX_ENTRY_DEPTH {
            deep = json!([deep]);
        }
        assert!(matches!(
            append(&tx, 0, AuditKind::Write, &deep),
            Err(AuditError::EntryTooDeep)
        ));
        let large = json!({"blob": "x".repeat(MAX_ENTRY_BYTES)});
        assert!(matches!(
            append(&tx, 0, AuditKind::Write, &large),
            Err(AuditError::EntryTooLarge { .. })
        ));
        assert!(head(&tx).unwrap().is_none());
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn append_refuses_personal_data_in_release() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        let err = append(&tx, 0, AuditKind::Login, &json!({"name": "x"})).unwrap_err();
        assert!(matches!(err, AuditError::PersonalData { .. }));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "personal data at $.who.my_number")]
    fn append_asserts_on_personal_data_in_debug() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        let _ = append(
            &tx,
            0,
            AuditKind::Login,
            &json!({"who": {"my_number": "x"}}),
        );
    }

    #[test]
    fn triggers_refuse_update_delete_and_out_of_order_inserts() {
        let mut conn = memory_db();
        let tx = conn.transaction().unwrap();
        append(&tx, 0, AuditKind::Write, &json!({})).unwrap();
        append(&tx, 0, AuditKind::Write, &json!({})).unwrap();
        tx.commit().unwrap();
        for sql in [
            "UPDATE audit SET at = 5 WHERE seq = 1",
            "DELETE FROM audit WHERE seq = 2",
            "INSERT INTO audit VALUES (5, 0, 'write', '{}', zeroblob(32), zeroblob(32))",
            "INSERT OR REPLACE INTO audit VALUES (1, 0, 'write', '{}', zeroblob(32), zeroblob(32))",
        ] {
            let err = conn.execute(sql, []).unwrap_err().to_string();
            assert!(err.contains("audit rows are"), "{sql}: {err}");
        }
        assert_eq!(head(&conn).unwrap().unwrap().seq, 2);
    }

    fn file_db(path: &std::path::Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn
    }

    #[test]
    fn concurrent_immediate_writers_queue_and_never_fork_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite3");
        drop(file_db(&path));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = file_db(&path);
                    for i in 0..25 {
                        let tx = conn
                            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                            .unwrap();
                        append(&tx, i, AuditKind::Write, &json!({"t": t, "i": i})).unwrap();
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let conn = file_db(&path);
        let report = crate::audit::verify(&conn, &[0; 32], None);
        assert!(report.findings.is_empty(), "{report}");
        assert_eq!(report.rows_checked, 100);
    }

    #[test]
    fn racing_deferred_writers_may_fail_but_never_fork_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite3");
        drop(file_db(&path));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = file_db(&path);
                    let mut committed = 0u64;
                    for i in 0..25 {
                        let Ok(tx) = conn.transaction() else { continue };
                        let ok = append(&tx, i, AuditKind::Write, &json!({"t": t, "i": i})).is_ok()
                            && tx.commit().is_ok();
                        committed += u64::from(ok);
                    }
                    committed
                })
            })
            .collect();
        let committed: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let conn = file_db(&path);
        let report = crate::audit::verify(&conn, &[0; 32], None);
        assert!(report.findings.is_empty(), "{report}");
        assert_eq!(report.rows_checked, committed);
    }

    #[test]
    fn schema_is_idempotent() {
        let conn = memory_db();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
    }

    #[test]
    fn kinds_have_stable_kebab_case_names() {
        let names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "decision",
                "write",
                "login",
                "logout",
                "staff-change",
                "certificate-event",
                "system"
            ]
        );
        for kind in AuditKind::ALL {
            assert_eq!(kind.as_str().parse::<AuditKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                Value::String(kind.as_str().into())
            );
        }
        assert!("checkpoint".parse::<AuditKind>().is_err());
    }
}
