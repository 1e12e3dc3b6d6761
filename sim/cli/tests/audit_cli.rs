//! `kiban audit verify` on a real data folder: exit 0 when intact, exit 1 naming the row
//! when an entry was altered behind the platform's back, exit 2 for a folder without one.

use std::process::Command;

use kiban_core::time::Timestamp;
use kiban_platform::store::{AuditEvent, Commit, SqliteStore, Store};

fn kiban(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiban"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn audit_verify_passes_intact_logs_and_names_the_altered_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    for n in 0..10 {
        let entry = serde_json::json!({"action": "read", "person": n, "decision": "permit"});
        let event = AuditEvent {
            at: Timestamp::from_unix_seconds(1_800_000_000 + n),
            kind: "decision".into(),
            entry,
        };
        store
            .commit(Commit {
                audit: vec![event],
                ..Commit::default()
            })
            .unwrap();
    }
    store
        .checkpoint(Timestamp::from_unix_seconds(1_800_000_100))
        .unwrap();
    drop(store);
    let data = dir.path().to_str().unwrap();
    let (code, out) = kiban(&["audit", "verify", "--data", data]);
    assert_eq!(code, 0, "{out}");

    let db = rusqlite::Connection::open(dir.path().join("platform.sqlite3")).unwrap();
    db.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET entry = replace(entry, 'permit', 'denied') WHERE seq = 4;").unwrap();
    drop(db);
    let (code, out) = kiban(&["audit", "verify", "--data", data]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("row 4"), "{out}");

    let empty = tempfile::tempdir().unwrap();
    let (code, out) = kiban(&["audit", "verify", "--data", empty.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
}
