//! Crash loop for the audit log: a child process (this test binary, re-run on an ignored test)
//! appends audited rows with checkpoints and anchors the way the platform does, and is killed
//! with SIGKILL at random moments; after every kill the data folder must verify, every
//! acknowledged row must be there, and the next start must accept the anchor it finds.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kiban_platform::audit::{self, ANCHOR_FILE, AuditKind, AuditSigner, DB_FILE};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;

/// Where the child writes; set only for the child.
const CHILD_DIR: &str = "KIBAN_AUDIT_CRASH_DIR";
/// Acknowledged sequence numbers, one per line, written after each commit returns.
const ACKED: &str = "acked";
/// The child's error, if it failed on its own.
const CHILD_ERROR: &str = "child-error";
const ROUNDS: u64 = 8;

fn acked_count(dir: &Path) -> usize {
    fs::read_to_string(dir.join(ACKED)).map_or(0, |s| s.lines().count())
}

/// The child: what the platform does per audited request, until killed.
#[test]
#[ignore = "run by crash_loop_keeps_acknowledged_rows_and_verifies as a child process"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    if let Err(e) = child_loop(dir) {
        fs::write(dir.join(CHILD_ERROR), e).unwrap();
        std::process::exit(1);
    }
}

fn child_loop(dir: &Path) -> Result<(), String> {
    let mut conn = Connection::open(dir.join(DB_FILE)).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        .map_err(|e| e.to_string())?;
    conn.execute_batch(audit::SCHEMA)
        .map_err(|e| e.to_string())?;
    let signer = AuditSigner::load_or_create_in(dir).map_err(|e| e.to_string())?;
    let anchor = dir.join(ANCHOR_FILE);
    audit::sync_anchor(&conn, signer.public_key(), &anchor)
        .map_err(|e| format!("start refused: {e}"))?;
    let mut acked = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(ACKED))
        .map_err(|e| e.to_string())?;
    for n in 0u64.. {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let at = 1_750_000_000;
        audit::append(
            &tx,
            at,
            AuditKind::Decision,
            &json!({"request": n, "outcome": "permit"}),
        )
        .map_err(|e| e.to_string())?;
        let seq = audit::append(&tx, at, AuditKind::Write, &json!({"request": n}))
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        writeln!(acked, "{seq}").map_err(|e| e.to_string())?;
        if n % 7 == 6 {
            audit::checkpoint_now(&mut conn, at, &signer, &anchor).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[test]
fn crash_loop_keeps_acknowledged_rows_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child is writing, then kill it at a deterministic, uneven moment
        // (0 to 150 ms later: mid-append, mid-commit, mid-checkpoint or mid-anchor).
        let acked_before = acked_count(dir.path());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while acked_count(dir.path()) <= acked_before && std::time::Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis((round * 37) % 151));
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let error = fs::read_to_string(dir.path().join(CHILD_ERROR)).unwrap_or_default();
        assert!(
            still_running,
            "round {round}: the child stopped on its own: {error}"
        );

        let report = audit::verify_data_dir(dir.path()).unwrap();
        assert!(report.is_ok(), "round {round}:\n{report}");
        let acked = fs::read_to_string(dir.path().join(ACKED)).unwrap_or_default();
        let last_acked = acked
            .lines()
            .filter_map(|line| line.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        assert!(
            report.head_seq >= last_acked,
            "round {round}: row {last_acked} was acknowledged but the log ends at {}",
            report.head_seq
        );
        assert!(last_acked > 0, "round {round}: nothing was written");
    }
}
