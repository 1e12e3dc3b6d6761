//! Tamper tests for the audit log: a real data folder (SQLite in WAL mode, ~200 audited rows,
//! checkpoints every 50 rows, the anchor, the public key) is copied, the copy is altered the
//! way an intruder with file access would (triggers dropped first), and `verify_data_dir` must
//! name the right finding at the right row — for every case in the acceptance list, plus
//! property tests that random corruption never panics the verifier and is never reported ok.

use std::fs;
use std::path::{Path, PathBuf};

use kiban_platform::audit::{
    self, ANCHOR_FILE, Anchor, AuditKind, AuditSigner, DB_FILE, Finding, PUBLIC_KEY_FILE,
    VerifyReport, Warning,
};
use proptest::prelude::*;
use ring::digest;
use rusqlite::{Connection, params};
use serde_json::json;
use tempfile::TempDir;

/// Rows in the fixture; checkpoints at every multiple of [`EVERY`].
const ROWS: u64 = 210;
const EVERY: u64 = 50;
/// The older copy taken for the rollback case has this many rows.
const OLD_COPY_ROWS: u64 = 120;

/// A data folder with an audited database, and an older copy of the database.
struct Fixture {
    dir: TempDir,
    signer: AuditSigner,
}

impl Fixture {
    /// `rows` rows; a checkpoint (and anchor) after every `EVERY` rows, and at the end if
    /// `sign_tail`.
    fn build(rows: u64, sign_tail: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let signer = AuditSigner::load_or_create_in(dir.path()).unwrap();
        let mut conn = open_rw(&dir.path().join(DB_FILE));
        conn.execute_batch(audit::SCHEMA).unwrap();
        let anchor = dir.path().join(ANCHOR_FILE);
        for seq in 1..=rows {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            let kind = AuditKind::ALL[usize::try_from(seq).unwrap() % AuditKind::ALL.len()];
            let entry = json!({
                "office": "1312345678",
                "subject": format!("{:010}", seq * 7),
                "op": "read",
                "class": "care-plan",
                "outcome": if seq % 3 == 0 { "deny" } else { "permit" },
                "request": seq,
            });
            let at = 1_750_000_000 + i64::try_from(seq).unwrap();
            assert_eq!(audit::append(&tx, at, kind, &entry).unwrap(), seq);
            tx.commit().unwrap();
            if seq % EVERY == 0 {
                audit::checkpoint_now(&mut conn, at, &signer, &anchor).unwrap();
            }
            if seq == OLD_COPY_ROWS {
                let old = dir.path().join("old.sqlite3");
                conn.execute("VACUUM INTO ?1", [old.to_str().unwrap()])
                    .unwrap();
            }
        }
        if sign_tail {
            audit::checkpoint_now(&mut conn, 1_800_000_000, &signer, &anchor).unwrap();
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        drop(conn);
        Fixture { dir, signer }
    }

    /// A copy of the data folder (database, anchor, public key; not the signing key).
    fn copy(&self) -> DataCopy {
        let dir = tempfile::tempdir().unwrap();
        for name in [DB_FILE, ANCHOR_FILE, PUBLIC_KEY_FILE, "old.sqlite3"] {
            let from = self.dir.path().join(name);
            if from.exists() {
                fs::copy(&from, dir.path().join(name)).unwrap();
            }
        }
        DataCopy { dir }
    }
}

/// A copy of the data folder being tampered with.
struct DataCopy {
    dir: TempDir,
}

impl DataCopy {
    fn db_path(&self) -> PathBuf {
        self.dir.path().join(DB_FILE)
    }

    /// Opens the copy read-write with every audit trigger dropped, as an intruder would.
    fn intruder(&self) -> Connection {
        let conn = open_rw(&self.db_path());
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for trigger in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {trigger}"))
                .unwrap();
        }
        conn
    }

    fn verify(&self) -> VerifyReport {
        audit::verify_data_dir(self.dir.path()).unwrap()
    }

    /// Replaces the database by the older copy taken at row [`OLD_COPY_ROWS`].
    fn roll_back(&self) {
        fs::rename(self.dir.path().join("old.sqlite3"), self.db_path()).unwrap();
    }
}

/// A sequence number as SQLite's integer.
fn sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap()
}

fn open_rw(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    // The platform runs with synchronous = FULL; durability is not what these tests are about.
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
        .unwrap();
    conn
}

/// The row hash as the module documentation specifies it, computed independently.
fn documented_row_hash(prev: &[u8], seq: u64, at: i64, kind: &str, entry: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"kiban/audit/row/v1\0");
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(&at.to_be_bytes());
    ctx.update(&(kind.len() as u64).to_be_bytes());
    ctx.update(kind.as_bytes());
    ctx.update(&(entry.len() as u64).to_be_bytes());
    ctx.update(entry.as_bytes());
    ctx.finish().as_ref().to_vec()
}

fn row_hash_of(conn: &Connection, seq: u64) -> Vec<u8> {
    conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [sql(seq)], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Flips one bit of byte `index` of a blob or text column, keeping its storage class.
fn flip(conn: &Connection, table: &str, column: &str, seq: u64, index: usize) {
    let (bytes, is_text): (Vec<u8>, bool) = conn
        .query_row(
            &format!("SELECT CAST({column} AS BLOB), typeof({column}) = 'text' FROM {table} WHERE seq = ?1"),
            [sql(seq)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut bytes = bytes;
    let i = index % bytes.len();
    bytes[i] ^= 0x01;
    let value = if is_text { "CAST(?1 AS TEXT)" } else { "?1" };
    conn.execute(
        &format!("UPDATE {table} SET {column} = {value} WHERE seq = ?2"),
        params![bytes, sql(seq)],
    )
    .unwrap();
}

/// Moves rows `from..` up by `by` sequence numbers (two steps to dodge the primary key).
fn shift_rows(conn: &Connection, from: u64, by: i64) {
    conn.execute(
        "UPDATE audit SET seq = seq + 1000000 WHERE seq >= ?1",
        [sql(from)],
    )
    .unwrap();
    conn.execute(
        "UPDATE audit SET seq = seq - 1000000 + ?1 WHERE seq >= 1000000",
        [by],
    )
    .unwrap();
}

fn assert_first(report: &VerifyReport, expected: &Finding) {
    assert_eq!(report.first_problem(), Some(expected), "report:\n{report}");
    assert!(!report.is_ok());
}

#[test]
fn the_untouched_copy_verifies_ok() {
    let fixture = Fixture::build(ROWS, false);
    let report = fixture.copy().verify();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.rows_checked, ROWS);
    assert_eq!(report.checkpoints_checked, ROWS / EVERY);
    assert_eq!(report.head_seq, ROWS);
    assert_eq!(report.last_checkpoint, Some(200));
    assert_eq!(report.anchor, Some(200));
    assert_eq!(
        report.warnings,
        [Warning::UnsignedTail {
            from: 201,
            to: ROWS
        }]
    );
}

#[test]
fn stored_hashes_follow_the_documented_layout() {
    let fixture = Fixture::build(5, false);
    let conn = open_rw(&fixture.dir.path().join(DB_FILE));
    let mut prev = vec![0u8; 32];
    for seq in 1..=5u64 {
        let (at, kind, entry, prev_hash, hash): (i64, String, String, Vec<u8>, Vec<u8>) = conn
            .query_row(
                "SELECT at, kind, entry, prev_hash, hash FROM audit WHERE seq = ?1",
                [sql(seq)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(prev_hash, prev);
        assert_eq!(hash, documented_row_hash(&prev, seq, at, &kind, &entry));
        prev = hash;
    }
}

#[test]
fn a_flipped_entry_byte_is_a_hash_mismatch_at_that_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    flip(&copy.intruder(), "audit", "entry", 42, 17);
    let report = copy.verify();
    assert_first(&report, &Finding::HashMismatch { seq: 42 });
    assert_eq!(
        report.findings.len(),
        1,
        "one finding, no cascade:\n{report}"
    );
    assert!(
        report
            .to_string()
            .starts_with("audit row 42: content does not match its hash (altered)")
    );
}

#[test]
fn a_flipped_hash_byte_is_a_hash_mismatch_at_that_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    flip(&copy.intruder(), "audit", "hash", 77, 3);
    let report = copy.verify();
    assert_first(&report, &Finding::HashMismatch { seq: 77 });
    assert_eq!(report.findings.len(), 1, "{report}");
}

#[test]
fn a_flipped_prev_hash_byte_is_a_broken_link_at_that_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    flip(&copy.intruder(), "audit", "prev_hash", 77, 31);
    assert_first(&copy.verify(), &Finding::BrokenLink { seq: 77 });
}

#[test]
fn an_altered_time_or_kind_is_a_hash_mismatch() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    conn.execute("UPDATE audit SET at = at - 3600 WHERE seq = 12", [])
        .unwrap();
    conn.execute("UPDATE audit SET kind = 'logout' WHERE seq = 13", [])
        .unwrap();
    drop(conn);
    let report = copy.verify();
    assert_eq!(
        report.findings,
        [
            Finding::HashMismatch { seq: 12 },
            Finding::HashMismatch { seq: 13 }
        ],
        "{report}"
    );
}

#[test]
fn a_deleted_middle_row_is_a_gap_at_that_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.intruder()
        .execute("DELETE FROM audit WHERE seq = 120", [])
        .unwrap();
    let report = copy.verify();
    assert_first(
        &report,
        &Finding::Gap {
            expected: 120,
            found: 121,
        },
    );
    assert_eq!(report.findings.len(), 1, "{report}");
}

#[test]
fn a_deleted_and_renumbered_row_is_a_broken_link_at_that_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    conn.execute("DELETE FROM audit WHERE seq = 120", [])
        .unwrap();
    shift_rows(&conn, 121, -1);
    drop(conn);
    assert_first(&copy.verify(), &Finding::BrokenLink { seq: 120 });
}

#[test]
fn swapped_rows_are_a_broken_link_at_the_first_of_them() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    // Swap everything but the sequence numbers of rows 60 and 61.
    conn.execute_batch(
        "UPDATE audit SET seq = 1000060 WHERE seq = 60;
         UPDATE audit SET seq = 60 WHERE seq = 61;
         UPDATE audit SET seq = 61 WHERE seq = 1000060;",
    )
    .unwrap();
    drop(conn);
    assert_first(&copy.verify(), &Finding::BrokenLink { seq: 60 });
}

#[test]
fn swapped_entries_are_a_hash_mismatch_at_the_first_of_them() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    let entry = |seq: u64| -> String {
        conn.query_row("SELECT entry FROM audit WHERE seq = ?1", [sql(seq)], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let (e60, e130) = (entry(60), entry(130));
    conn.execute("UPDATE audit SET entry = ?1 WHERE seq = 60", [e130])
        .unwrap();
    conn.execute("UPDATE audit SET entry = ?1 WHERE seq = 130", [e60])
        .unwrap();
    drop(conn);
    let report = copy.verify();
    assert_first(&report, &Finding::HashMismatch { seq: 60 });
    assert_eq!(
        report.findings,
        [
            Finding::HashMismatch { seq: 60 },
            Finding::HashMismatch { seq: 130 }
        ]
    );
}

/// Inserts a forged row at `seq` (later rows move up one), with a hash that is correct for its
/// content and its link to the row before.
fn insert_forged_row(conn: &Connection, seq: u64) -> Vec<u8> {
    shift_rows(conn, seq, 1);
    let prev = row_hash_of(conn, seq - 1);
    let (at, kind, entry) = (
        1_750_000_000,
        "login",
        r#"{"outcome":"permit","staff":"S0001"}"#,
    );
    let hash = documented_row_hash(&prev, seq, at, kind, entry);
    conn.execute(
        "INSERT INTO audit (seq, at, kind, entry, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![sql(seq), at, kind, entry, prev, hash],
    )
    .unwrap();
    hash
}

#[test]
fn a_forged_row_with_a_self_consistent_hash_breaks_the_next_link() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    insert_forged_row(&copy.intruder(), 90);
    let report = copy.verify();
    assert_first(&report, &Finding::BrokenLink { seq: 91 });
}

#[test]
fn a_forged_row_with_the_rest_rechained_is_caught_by_the_next_checkpoint() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    let mut prev = insert_forged_row(&conn, 90);
    // Recompute every later link and hash: the chain itself is now perfect.
    for seq in 91..=ROWS + 1 {
        let (at, kind, entry): (i64, String, String) = conn
            .query_row(
                "SELECT at, kind, entry FROM audit WHERE seq = ?1",
                [sql(seq)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let hash = documented_row_hash(&prev, seq, at, &kind, &entry);
        conn.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            params![prev, hash, sql(seq)],
        )
        .unwrap();
        prev = hash;
    }
    drop(conn);
    let report = copy.verify();
    assert_first(&report, &Finding::CheckpointMismatch { seq: 100 });
}

#[test]
fn a_tail_truncated_past_the_last_checkpoint_is_caught_by_that_checkpoint() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.intruder()
        .execute("DELETE FROM audit WHERE seq > 150", [])
        .unwrap();
    let report = copy.verify();
    assert_first(
        &report,
        &Finding::CheckpointBeyondHead {
            seq: 200,
            head: 150,
        },
    );
}

#[test]
fn a_tail_truncated_with_its_checkpoints_is_caught_by_the_anchor() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.intruder()
        .execute_batch(
            "DELETE FROM audit WHERE seq > 150; DELETE FROM audit_checkpoint WHERE seq > 150;",
        )
        .unwrap();
    let report = copy.verify();
    assert_first(
        &report,
        &Finding::AnchorBeyondHead {
            seq: 200,
            head: 150,
        },
    );
    assert_eq!(report.findings.len(), 1, "{report}");
}

#[test]
fn truncating_only_rows_after_the_last_checkpoint_is_not_detectable_by_design() {
    // The documented window: rows after the last checkpoint carry no signature. The report
    // still shows how many rows are unsigned; a shorter period narrows the window.
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.intruder()
        .execute("DELETE FROM audit WHERE seq > 205", [])
        .unwrap();
    let report = copy.verify();
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.warnings,
        [Warning::UnsignedTail { from: 201, to: 205 }]
    );
}

#[test]
fn a_rolled_back_database_is_caught_by_the_anchor() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.roll_back();
    let report = copy.verify();
    assert_first(
        &report,
        &Finding::AnchorBeyondHead {
            seq: 200,
            head: OLD_COPY_ROWS,
        },
    );
    assert_eq!(
        report.findings.len(),
        1,
        "the old copy is itself consistent:\n{report}"
    );
}

#[test]
fn a_rolled_back_database_written_again_is_an_anchor_mismatch() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.roll_back();
    // The platform (with its key) keeps running on the old copy, past the anchor's row.
    let mut conn = open_rw(&copy.db_path());
    let scratch_anchor = copy.dir.path().join("scratch.anchor");
    for seq in OLD_COPY_ROWS + 1..=ROWS {
        let tx = conn.transaction().unwrap();
        audit::append(&tx, 1_760_000_000, AuditKind::Write, &json!({"n": seq})).unwrap();
        tx.commit().unwrap();
        if seq % EVERY == 0 {
            audit::checkpoint_now(&mut conn, 1_760_000_000, &fixture.signer, &scratch_anchor)
                .unwrap();
        }
    }
    drop(conn);
    let report = copy.verify();
    assert_first(&report, &Finding::AnchorMismatch { seq: 200 });
    assert_eq!(report.findings.len(), 1, "{report}");
}

#[test]
fn a_deleted_checkpoint_at_the_anchor_is_reported() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    copy.intruder()
        .execute("DELETE FROM audit_checkpoint WHERE seq = 200", [])
        .unwrap();
    assert_first(
        &copy.verify(),
        &Finding::AnchorCheckpointMissing { seq: 200 },
    );
}

#[test]
fn a_forged_checkpoint_signature_is_reported() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    flip(&copy.intruder(), "audit_checkpoint", "signature", 100, 40);
    assert_first(
        &copy.verify(),
        &Finding::BadCheckpointSignature { seq: 100 },
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_reported() {
    // The intruder truncates to row 150 and signs the new head with a key of their own.
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let mut conn = copy.intruder();
    let intruder_key = AuditSigner::generate().unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute_batch(
        "DELETE FROM audit WHERE seq > 150; DELETE FROM audit_checkpoint WHERE seq >= 150;",
    )
    .unwrap();
    let forged = audit::checkpoint(&tx, 1_900_000_000, &intruder_key)
        .unwrap()
        .unwrap();
    tx.commit().unwrap();
    drop(conn);
    assert_eq!(forged.seq, 150);
    let report = copy.verify();
    assert_first(&report, &Finding::BadCheckpointSignature { seq: 150 });
}

#[test]
fn a_forged_or_unreadable_anchor_is_reported() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let path = copy.dir.path().join(ANCHOR_FILE);
    let mut anchor = Anchor::read(&path).unwrap();
    anchor.checkpoint.at += 1;
    anchor.write_atomic(&path).unwrap();
    assert_first(&copy.verify(), &Finding::BadAnchorSignature { seq: 200 });
    fs::write(&path, "{").unwrap();
    let report = copy.verify();
    assert!(
        matches!(
            report.first_problem(),
            Some(Finding::AnchorUnreadable { .. })
        ),
        "{report}"
    );
}

#[test]
fn a_hash_of_the_wrong_length_is_a_malformed_row() {
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = copy.intruder();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         UPDATE audit SET hash = substr(hash, 1, 31) WHERE seq = 33;",
    )
    .unwrap();
    drop(conn);
    let report = copy.verify();
    assert_first(
        &report,
        &Finding::MalformedRow {
            seq: 33,
            reason: "hash is 31 bytes, expected 32".into(),
        },
    );
}

#[test]
fn a_file_that_is_not_a_database_is_unreadable() {
    let fixture = Fixture::build(3, false);
    let copy = fixture.copy();
    fs::write(copy.db_path(), vec![0x5a; 8192]).unwrap();
    let report = copy.verify();
    assert!(
        matches!(report.first_problem(), Some(Finding::Unreadable { .. })),
        "{report}"
    );
}

#[test]
fn an_anchor_behind_the_latest_checkpoint_is_a_warning_not_a_finding() {
    // A crash between a checkpoint's commit and its anchor write leaves this state.
    let fixture = Fixture::build(ROWS, false);
    let copy = fixture.copy();
    let conn = open_rw(&copy.db_path());
    let cp150 = conn
        .query_row(
            "SELECT hash, at, signature FROM audit_checkpoint WHERE seq = 150",
            [],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            },
        )
        .unwrap();
    drop(conn);
    let anchor = Anchor::from(audit::Checkpoint {
        seq: 150,
        hash: cp150.0.try_into().unwrap(),
        at: cp150.1,
        signature: cp150.2.try_into().unwrap(),
    });
    anchor
        .write_atomic(&copy.dir.path().join(ANCHOR_FILE))
        .unwrap();
    let report = copy.verify();
    assert!(report.is_ok(), "{report}");
    assert!(report.warnings.contains(&Warning::AnchorBehind {
        anchor: 150,
        latest: 200
    }));
}

/// Every row and checkpoint, for comparing a database before and after corruption.
fn dump(path: &Path) -> rusqlite::Result<Vec<Vec<rusqlite::types::Value>>> {
    let conn = audit::open_readonly(path)?;
    let mut out = Vec::new();
    for sql in [
        "SELECT seq, at, kind, entry, prev_hash, hash FROM audit ORDER BY seq",
        "SELECT seq, hash, at, signature FROM audit_checkpoint ORDER BY seq",
    ] {
        let mut stmt = conn.prepare(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            out.push((0..columns).map(|i| row.get(i)).collect::<Result<_, _>>()?);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        table: &'static str,
        column: &'static str,
        seq: u64,
        index: usize,
    },
    FlipAt {
        seq: u64,
        bit: u32,
    },
    Delete {
        seq: u64,
    },
}

fn mutation(rows: u64, checkpoints: u64) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            prop::sample::select(vec!["entry", "kind", "hash", "prev_hash"]),
            1..=rows,
            any::<usize>()
        )
            .prop_map(|(column, seq, index)| Mutation::Flip {
                table: "audit",
                column,
                seq,
                index
            }),
        (
            prop::sample::select(vec!["hash", "signature"]),
            1..=checkpoints,
            any::<usize>()
        )
            .prop_map(|(column, n, index)| Mutation::Flip {
                table: "audit_checkpoint",
                column,
                seq: n * EVERY,
                index
            }),
        (1..=rows, 0u32..63).prop_map(|(seq, bit)| Mutation::FlipAt { seq, bit }),
        (1..=rows).prop_map(|seq| Mutation::Delete { seq }),
    ]
}

fn apply(conn: &Connection, m: &Mutation) {
    match m {
        Mutation::Flip {
            table,
            column,
            seq,
            index,
        } => {
            let exists: bool = conn
                .query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE seq = ?1)"),
                    [sql(*seq)],
                    |r| r.get(0),
                )
                .unwrap();
            if exists {
                flip(conn, table, column, *seq, *index);
            }
        }
        Mutation::FlipAt { seq, bit } => {
            // SQLite has no xor operator: a ^ b = (a | b) - (a & b).
            conn.execute(
                "UPDATE audit SET at = (at | (1 << ?1)) - (at & (1 << ?1)) WHERE seq = ?2",
                params![bit, sql(*seq)],
            )
            .unwrap();
        }
        Mutation::Delete { seq } => {
            conn.execute("DELETE FROM audit WHERE seq = ?1", [sql(*seq)])
                .unwrap();
        }
    }
}

const PROP_ROWS: u64 = 100;

fn runner() -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Random bit flips and deletions in rows and checkpoints never panic the verifier, and a
/// database whose content changed is never reported ok (every row is under a checkpoint and
/// the anchor, so no change is out of reach).
#[test]
fn random_row_corruption_is_never_ok_and_never_panics() {
    let fixture = Fixture::build(PROP_ROWS, true);
    let before = dump(&fixture.dir.path().join(DB_FILE)).unwrap();
    let strategy = prop::collection::vec(mutation(PROP_ROWS, PROP_ROWS / EVERY), 1..4);
    runner()
        .run(&strategy, |mutations| {
            let copy = fixture.copy();
            let conn = copy.intruder();
            for m in &mutations {
                apply(&conn, m);
            }
            drop(conn);
            let changed = dump(&copy.db_path()).unwrap() != before;
            let report = copy.verify();
            if changed {
                prop_assert!(
                    !report.is_ok(),
                    "{:?} went unnoticed:\n{}",
                    mutations,
                    report
                );
            } else {
                prop_assert!(report.is_ok(), "{}", report);
            }
            Ok(())
        })
        .unwrap();
}

/// Random byte flips anywhere in the database file never panic the verifier; when it says ok,
/// every row and checkpoint reads back exactly as before.
#[test]
fn random_file_corruption_never_panics_and_ok_means_unchanged() {
    let fixture = Fixture::build(PROP_ROWS, true);
    let before = dump(&fixture.dir.path().join(DB_FILE)).unwrap();
    let strategy = prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6);
    runner()
        .run(&strategy, |flips| {
            let copy = fixture.copy();
            let mut bytes = fs::read(copy.db_path()).unwrap();
            for (index, mask) in &flips {
                let i = index.index(bytes.len());
                bytes[i] ^= mask;
            }
            fs::write(copy.db_path(), &bytes).unwrap();
            let report = copy.verify();
            if report.is_ok() {
                prop_assert_eq!(
                    dump(&copy.db_path()).ok(),
                    Some(before.clone()),
                    "ok but changed:\n{}",
                    report
                );
            }
            Ok(())
        })
        .unwrap();
}
