//! The verifier: one read-only pass over the audit rows in `seq` order, the checkpoints and
//! the anchor, producing a [`VerifyReport`] whose findings are sorted by position, so the
//! first one is where the log is first broken. It never panics and never writes, whatever the
//! database holds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, types::ValueRef};

use super::chain::{self, AuditHead, GENESIS};
use super::checkpoint::{self, Anchor, Checkpoint};
use super::{ANCHOR_FILE, AuditError, AuditKind, DB_FILE};

/// At most this many findings are listed; the rest are counted in
/// [`VerifyReport::findings_omitted`].
const MAX_LISTED_FINDINGS: usize = 100;

/// Findings are collected up to this many before sorting (a wrecked database would otherwise
/// produce one per row).
const MAX_COLLECTED_FINDINGS: usize = 10_000;

/// One place where the log is broken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "finding", rename_all = "kebab-case")]
pub enum Finding {
    /// The database could not be read (not a database, missing table, I/O error). Nothing
    /// after the point of failure was checked.
    Unreadable {
        /// The database's error.
        reason: String,
    },
    /// The public key given to the verifier is not 32 bytes; signatures were not checked.
    BadPublicKey {
        /// Its length.
        len: usize,
    },
    /// Rows `expected..found` are missing (deleted): row `found` follows row `expected - 1`.
    Gap {
        /// The first missing row.
        expected: u64,
        /// The row found in its place.
        found: u64,
    },
    /// A row whose columns do not have their types or lengths, whose kind is unknown or whose
    /// entry is not canonical JSON. `seq` is 0 when the row's sequence number is not positive.
    MalformedRow {
        /// The row.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// The row's `prev_hash` is not the previous row's hash: a row was deleted, inserted or
    /// reordered before it, or `prev_hash` was altered.
    BrokenLink {
        /// The row.
        seq: u64,
    },
    /// The row's content does not match its stored hash: the content or the hash was altered.
    HashMismatch {
        /// The row.
        seq: u64,
    },
    /// A checkpoint whose columns do not have their types or lengths.
    MalformedCheckpoint {
        /// The checkpoint's row (0 when not positive).
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint whose signature does not verify with the public key: forged or altered.
    BadCheckpointSignature {
        /// The checkpoint's row.
        seq: u64,
    },
    /// A checkpoint that signs a different hash than the row now has: history was rewritten.
    CheckpointMismatch {
        /// The checkpoint's row.
        seq: u64,
    },
    /// A checkpoint covers a row the log no longer has: the tail was truncated.
    CheckpointBeyondHead {
        /// The checkpoint's row.
        seq: u64,
        /// The last row of the log (0 if empty).
        head: u64,
    },
    /// The anchor file could not be read or parsed.
    AnchorUnreadable {
        /// Why.
        reason: String,
    },
    /// The anchor's signature does not verify with the public key.
    BadAnchorSignature {
        /// The anchor's row.
        seq: u64,
    },
    /// The anchor covers a row the log does not have: the tail was truncated together with its
    /// checkpoints, or the database was restored from an older copy.
    AnchorBeyondHead {
        /// The anchor's row.
        seq: u64,
        /// The last row of the log (0 if empty).
        head: u64,
    },
    /// The row or checkpoint at the anchor's position differs from the anchor: the database
    /// was rolled back and written again, or rewritten.
    AnchorMismatch {
        /// The anchor's row.
        seq: u64,
    },
    /// The database has no checkpoint at the anchor's row: checkpoints were deleted.
    AnchorCheckpointMissing {
        /// The anchor's row.
        seq: u64,
    },
}

impl Finding {
    /// The row the finding is about (the first missing row for a gap); `None` for findings
    /// about the whole database or the anchor file.
    pub fn position(&self) -> Option<u64> {
        match self {
            Finding::Unreadable { .. }
            | Finding::BadPublicKey { .. }
            | Finding::AnchorUnreadable { .. } => None,
            Finding::Gap { expected, .. } => Some(*expected),
            Finding::MalformedRow { seq, .. }
            | Finding::BrokenLink { seq }
            | Finding::HashMismatch { seq }
            | Finding::MalformedCheckpoint { seq, .. }
            | Finding::BadCheckpointSignature { seq }
            | Finding::CheckpointMismatch { seq }
            | Finding::CheckpointBeyondHead { seq, .. }
            | Finding::BadAnchorSignature { seq }
            | Finding::AnchorBeyondHead { seq, .. }
            | Finding::AnchorMismatch { seq }
            | Finding::AnchorCheckpointMissing { seq } => Some(*seq),
        }
    }

    /// Sort key: whole-database findings first, then by position; at one position rows come
    /// before checkpoints before the anchor.
    fn sort_key(&self) -> (u64, u8) {
        let phase = match self {
            Finding::Unreadable { .. } | Finding::BadPublicKey { .. } => 0,
            Finding::AnchorUnreadable { .. } => 1,
            Finding::Gap { .. }
            | Finding::MalformedRow { .. }
            | Finding::BrokenLink { .. }
            | Finding::HashMismatch { .. } => 2,
            Finding::MalformedCheckpoint { .. }
            | Finding::BadCheckpointSignature { .. }
            | Finding::CheckpointMismatch { .. }
            | Finding::CheckpointBeyondHead { .. } => 3,
            Finding::BadAnchorSignature { .. }
            | Finding::AnchorBeyondHead { .. }
            | Finding::AnchorMismatch { .. }
            | Finding::AnchorCheckpointMissing { .. } => 4,
        };
        (self.position().unwrap_or(0), phase)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Unreadable { reason } => {
                write!(
                    f,
                    "audit database unreadable: {reason} (nothing after this was checked)"
                )
            }
            Finding::BadPublicKey { len } => write!(
                f,
                "audit public key is {len} bytes, not 32: signatures were not checked"
            ),
            Finding::Gap { expected, found } if found.saturating_sub(1) <= *expected => write!(
                f,
                "audit row {expected}: missing (deleted); row {found} follows row {}",
                expected.saturating_sub(1)
            ),
            Finding::Gap { expected, found } => write!(
                f,
                "audit rows {expected}..{}: missing (deleted); row {found} follows row {}",
                found.saturating_sub(1),
                expected.saturating_sub(1)
            ),
            Finding::MalformedRow { seq, reason } => {
                write!(f, "audit row {seq}: malformed ({reason})")
            }
            Finding::BrokenLink { seq } => write!(
                f,
                "audit row {seq}: does not link to the row before it \
                 (a row was deleted, inserted or reordered)"
            ),
            Finding::HashMismatch { seq } => {
                write!(
                    f,
                    "audit row {seq}: content does not match its hash (altered)"
                )
            }
            Finding::MalformedCheckpoint { seq, reason } => {
                write!(f, "audit checkpoint at row {seq}: malformed ({reason})")
            }
            Finding::BadCheckpointSignature { seq } => write!(
                f,
                "audit checkpoint at row {seq}: signature does not verify with the audit \
                 public key (forged or altered)"
            ),
            Finding::CheckpointMismatch { seq } => write!(
                f,
                "audit checkpoint at row {seq}: signed a different hash than row {seq} has \
                 (history rewritten)"
            ),
            Finding::CheckpointBeyondHead { seq, head } => write!(
                f,
                "audit checkpoint at row {seq}: the log ends at row {head} (rows truncated)"
            ),
            Finding::AnchorUnreadable { reason } => write!(f, "audit anchor unreadable: {reason}"),
            Finding::BadAnchorSignature { seq } => write!(
                f,
                "audit anchor at row {seq}: signature does not verify with the audit public key"
            ),
            Finding::AnchorBeyondHead { seq, head } => write!(
                f,
                "audit anchor at row {seq}: the log ends at row {head} (tail truncated with its \
                 checkpoints, or the database restored from an older copy)"
            ),
            Finding::AnchorMismatch { seq } => write!(
                f,
                "audit anchor at row {seq}: the database differs from the anchor (rolled back \
                 and written again, or rewritten)"
            ),
            Finding::AnchorCheckpointMissing { seq } => write!(
                f,
                "audit anchor at row {seq}: the database has no checkpoint there (checkpoints \
                 deleted)"
            ),
        }
    }
}

/// Something worth knowing that is not evidence of tampering.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "warning", rename_all = "kebab-case")]
pub enum Warning {
    /// No anchor was given: truncation together with checkpoints, and rollback to an older
    /// copy, cannot be detected.
    NoAnchor,
    /// The database has a newer checkpoint than the anchor (a crash between the checkpoint's
    /// commit and the anchor write; the platform re-anchors at start).
    AnchorBehind {
        /// The anchor's row.
        anchor: u64,
        /// The latest valid checkpoint's row.
        latest: u64,
    },
    /// Rows after the last valid checkpoint are covered by no signature: truncating or
    /// re-chaining them would go unnoticed.
    UnsignedTail {
        /// The first unsigned row.
        from: u64,
        /// The last row.
        to: u64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NoAnchor => f.write_str(
                "warning: no audit anchor: truncation with checkpoints and rollback to an \
                 older copy cannot be detected",
            ),
            Warning::AnchorBehind { anchor, latest } => write!(
                f,
                "warning: the audit anchor (row {anchor}) is behind the latest checkpoint \
                 (row {latest}); the platform re-anchors at start"
            ),
            Warning::UnsignedTail { from, to } if from == to => write!(
                f,
                "warning: audit row {from} is after the last checkpoint (not yet signed)"
            ),
            Warning::UnsignedTail { from, to } => write!(
                f,
                "warning: audit rows {from}..{to} are after the last checkpoint (not yet signed)"
            ),
        }
    }
}

/// The result of [`verify`]: what was checked and every finding, sorted so the first is the
/// earliest break.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Audit rows read.
    pub rows_checked: u64,
    /// Checkpoints read.
    pub checkpoints_checked: u64,
    /// The last row's sequence number (0 for an empty log).
    pub head_seq: u64,
    /// The last row's stored hash, if the log is not empty and that column is well formed.
    #[serde(serialize_with = "hex_opt")]
    pub head_hash: Option<[u8; 32]>,
    /// The row of the latest checkpoint whose signature verifies.
    pub last_checkpoint: Option<u64>,
    /// The anchor's row, if an anchor was given.
    pub anchor: Option<u64>,
    /// Every finding (at most 100), sorted by position.
    pub findings: Vec<Finding>,
    /// Findings not listed.
    pub findings_omitted: u64,
    /// Notes that are not evidence of tampering.
    pub warnings: Vec<Warning>,
}

fn hex_opt<S: serde::Serializer>(value: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(hash) => s.serialize_some(&hex::encode(hash)),
        None => s.serialize_none(),
    }
}

impl VerifyReport {
    /// Whether no finding was made (warnings do not count).
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// The earliest break, if any.
    pub fn first_problem(&self) -> Option<&Finding> {
        self.findings.first()
    }

    /// The head as an [`AuditHead`], if known.
    pub fn head(&self) -> Option<AuditHead> {
        self.head_hash.map(|hash| AuditHead {
            seq: self.head_seq,
            hash,
        })
    }
}

impl fmt::Display for VerifyReport {
    /// One line per finding, one per warning, then a summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        if self.findings_omitted > 0 {
            writeln!(f, "… and {} more findings", self.findings_omitted)?;
        }
        for warning in &self.warnings {
            writeln!(f, "{warning}")?;
        }
        let verdict = if self.is_ok() { "ok" } else { "BROKEN" };
        write!(
            f,
            "audit log {verdict}: {} rows, {} checkpoints checked; head row {}",
            self.rows_checked, self.checkpoints_checked, self.head_seq
        )?;
        if let Some(hash) = self.head_hash {
            write!(f, " ({})", hex::encode(&hash[..8]))?;
        }
        match self.last_checkpoint {
            Some(seq) => write!(f, "; last checkpoint row {seq}")?,
            None => write!(f, "; no checkpoint")?,
        }
        if let Some(seq) = self.anchor {
            write!(f, "; anchor row {seq}")?;
        }
        Ok(())
    }
}

/// Opens a database read-only for verification (it never writes, even to a live database).
pub fn open_readonly(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Verifies the data folder `dir` (what `kiban audit verify --data DIR` runs): reads the
/// public key ([`PUBLIC_KEY_FILE`](super::PUBLIC_KEY_FILE), else derived from
/// [`SIGNING_KEY_FILE`](super::SIGNING_KEY_FILE)), then the anchor [`ANCHOR_FILE`] if present
/// (an unreadable anchor is a finding), then opens [`DB_FILE`] read-only and verifies it. The
/// anchor is read before the database so the database snapshot is never older than the anchor
/// on a live platform.
pub fn verify_data_dir(dir: &Path) -> Result<VerifyReport, AuditError> {
    let public_key = checkpoint::public_key_of_dir(dir)?;
    let anchor = match Anchor::read_if_exists(&dir.join(ANCHOR_FILE)) {
        Ok(Some(anchor)) => AnchorInput::Given(anchor),
        Ok(None) => AnchorInput::Absent,
        Err(e) => AnchorInput::Unreadable(e.to_string()),
    };
    let db = dir.join(DB_FILE);
    if !db.is_file() {
        return Err(AuditError::io(
            "open",
            &db,
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    let conn = open_readonly(&db)?;
    Ok(verify_inner(&conn, &public_key, anchor))
}

/// Verifies every audit row, every checkpoint and, if given, the anchor, in one read
/// transaction. `public_key` is the 32-byte Ed25519 key that signed the checkpoints (pin it
/// from outside the data folder to resist an attacker who holds the folder).
pub fn verify(conn: &Connection, public_key: &[u8], anchor: Option<&Anchor>) -> VerifyReport {
    let anchor = match anchor {
        Some(anchor) => AnchorInput::Given(*anchor),
        None => AnchorInput::Absent,
    };
    verify_inner(conn, public_key, anchor)
}

enum AnchorInput {
    Given(Anchor),
    Absent,
    Unreadable(String),
}

/// A checkpoint as stored, and whether its signature verified.
struct StoredCheckpoint {
    cp: Checkpoint,
    signed: bool,
}

/// The previous row during the walk: its stored and recomputed hash (`None` if malformed).
struct Prev {
    seq: u64,
    hashes: Option<([u8; 32], [u8; 32])>,
}

#[derive(Default)]
struct Walk {
    findings: Vec<Finding>,
    omitted: u64,
    rows: u64,
    checkpoints: u64,
    head_seq: u64,
    head_hash: Option<[u8; 32]>,
    /// The anchor's row as (stored, recomputed) hash, captured during the walk.
    anchor_row: Option<([u8; 32], [u8; 32])>,
}

impl Walk {
    fn push(&mut self, finding: Finding) {
        if self.findings.len() < MAX_COLLECTED_FINDINGS {
            self.findings.push(finding);
        } else {
            self.omitted += 1;
        }
    }
}

fn verify_inner(conn: &Connection, public_key: &[u8], anchor: AnchorInput) -> VerifyReport {
    let mut walk = Walk::default();
    let key_ok = public_key.len() == 32;
    if !key_ok {
        walk.push(Finding::BadPublicKey {
            len: public_key.len(),
        });
    }
    let anchor_seq = match &anchor {
        AnchorInput::Given(a) => Some(a.checkpoint.seq),
        _ => None,
    };
    // One snapshot for rows and checkpoints: a live platform may append meanwhile.
    let snapshot = if conn.is_autocommit() {
        conn.unchecked_transaction().map(Some)
    } else {
        Ok(None)
    };
    let result = snapshot.and_then(|snapshot| {
        let cps = load_checkpoints(conn, public_key, key_ok, &mut walk)?;
        walk_rows(conn, &cps, anchor_seq, &mut walk)?;
        drop(snapshot);
        Ok(cps)
    });
    let mut last_checkpoint = None;
    match result {
        Err(e) => walk.push(Finding::Unreadable {
            reason: e.to_string(),
        }),
        Ok(cps) => {
            last_checkpoint = cps
                .values()
                .filter(|s| s.signed && s.cp.seq <= walk.head_seq)
                .map(|s| s.cp.seq)
                .next_back();
            after_walk(&cps, &anchor, public_key, key_ok, &mut walk);
        }
    }
    let mut warnings = Vec::new();
    match anchor {
        AnchorInput::Unreadable(reason) => walk.push(Finding::AnchorUnreadable { reason }),
        AnchorInput::Absent if walk.rows > 0 => warnings.push(Warning::NoAnchor),
        AnchorInput::Absent | AnchorInput::Given(_) => {}
    }
    if let (Some(anchor), Some(latest)) = (anchor_seq, last_checkpoint) {
        if latest > anchor {
            warnings.push(Warning::AnchorBehind { anchor, latest });
        }
    }
    let signed_to = last_checkpoint.unwrap_or(0);
    if walk.head_seq > signed_to && walk.rows > 0 {
        warnings.push(Warning::UnsignedTail {
            from: signed_to + 1,
            to: walk.head_seq,
        });
    }
    let mut findings = walk.findings;
    findings.sort_by_key(Finding::sort_key);
    let mut omitted = walk.omitted;
    if findings.len() > MAX_LISTED_FINDINGS {
        omitted += (findings.len() - MAX_LISTED_FINDINGS) as u64;
        findings.truncate(MAX_LISTED_FINDINGS);
    }
    VerifyReport {
        rows_checked: walk.rows,
        checkpoints_checked: walk.checkpoints,
        head_seq: walk.head_seq,
        head_hash: walk.head_hash,
        last_checkpoint,
        anchor: anchor_seq,
        findings,
        findings_omitted: omitted,
        warnings,
    }
}

/// A positive sequence number, or the reason it is not one.
fn positive_seq(value: ValueRef<'_>) -> Result<u64, String> {
    match value {
        ValueRef::Integer(n) => u64::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("sequence number {n} is not positive")),
        other => Err(format!(
            "sequence number is {}, not an integer",
            chain::type_name(&other)
        )),
    }
}

fn load_checkpoints(
    conn: &Connection,
    public_key: &[u8],
    key_ok: bool,
    walk: &mut Walk,
) -> rusqlite::Result<BTreeMap<u64, StoredCheckpoint>> {
    let mut cps = BTreeMap::new();
    let mut stmt =
        conn.prepare("SELECT seq, hash, at, signature FROM audit_checkpoint ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        walk.checkpoints += 1;
        let seq = match positive_seq(row.get_ref(0)?) {
            Ok(seq) => seq,
            Err(reason) => {
                walk.push(Finding::MalformedCheckpoint { seq: 0, reason });
                continue;
            }
        };
        let decoded = (|| {
            let hash = chain::hash_column(row.get_ref(1).map_err(|e| e.to_string())?, "hash")?;
            let at = match row.get_ref(2).map_err(|e| e.to_string())? {
                ValueRef::Integer(at) => at,
                other => {
                    return Err(format!(
                        "at is {}, not an integer",
                        chain::type_name(&other)
                    ));
                }
            };
            let signature = match row.get_ref(3).map_err(|e| e.to_string())? {
                ValueRef::Blob(sig) => <[u8; 64]>::try_from(sig)
                    .map_err(|_| format!("signature is {} bytes, expected 64", sig.len()))?,
                other => {
                    return Err(format!(
                        "signature is {}, not a blob",
                        chain::type_name(&other)
                    ));
                }
            };
            Ok(Checkpoint {
                seq,
                hash,
                at,
                signature,
            })
        })();
        let cp = match decoded {
            Ok(cp) => cp,
            Err(reason) => {
                walk.push(Finding::MalformedCheckpoint { seq, reason });
                continue;
            }
        };
        let signed = !key_ok || cp.signature_is_valid(public_key);
        if !signed {
            walk.push(Finding::BadCheckpointSignature { seq });
        }
        cps.insert(seq, StoredCheckpoint { cp, signed });
    }
    Ok(cps)
}

fn walk_rows(
    conn: &Connection,
    cps: &BTreeMap<u64, StoredCheckpoint>,
    anchor_seq: Option<u64>,
    walk: &mut Walk,
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare("SELECT seq, at, kind, entry, prev_hash, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut prev: Option<Prev> = None;
    while let Some(row) = rows.next()? {
        walk.rows += 1;
        let seq = match positive_seq(row.get_ref(0)?) {
            Ok(seq) => seq,
            Err(reason) => {
                walk.push(Finding::MalformedRow { seq: 0, reason });
                continue;
            }
        };
        walk.head_seq = seq;
        walk.head_hash = None;
        let expected = prev.as_ref().map_or(1, |p| p.seq.saturating_add(1));
        let gap = seq != expected;
        if gap {
            walk.push(Finding::Gap {
                expected,
                found: seq,
            });
        }
        let raw = match chain::decode_row(row, 1) {
            Ok(raw) => raw,
            Err(reason) => {
                walk.push(Finding::MalformedRow { seq, reason });
                prev = Some(Prev { seq, hashes: None });
                continue;
            }
        };
        walk.head_hash = Some(raw.hash);
        let computed = chain::row_hash(&raw.prev_hash, seq, raw.at, raw.kind, raw.entry);
        let linked = match &prev {
            _ if gap => true, // the gap is the finding; the link is necessarily broken
            None => raw.prev_hash == GENESIS,
            Some(Prev {
                hashes: Some((stored, recomputed)),
                ..
            }) => raw.prev_hash == *stored || raw.prev_hash == *recomputed,
            Some(Prev { hashes: None, .. }) => true, // the previous row is already reported
        };
        if !linked {
            walk.push(Finding::BrokenLink { seq });
        } else if computed != raw.hash {
            walk.push(Finding::HashMismatch { seq });
        } else if std::str::from_utf8(raw.kind)
            .ok()
            .and_then(|k| AuditKind::from_str(k).ok())
            .is_none()
        {
            walk.push(Finding::MalformedRow {
                seq,
                reason: "unknown kind".to_owned(),
            });
        } else if !chain::is_canonical(raw.entry) {
            walk.push(Finding::MalformedRow {
                seq,
                reason: "entry is not canonical JSON".to_owned(),
            });
        }
        // A checkpoint or anchor matches the row's stored or recomputed hash: whichever of the
        // two was altered is already a finding above.
        if let Some(stored) = cps.get(&seq) {
            if stored.signed && stored.cp.hash != raw.hash && stored.cp.hash != computed {
                walk.push(Finding::CheckpointMismatch { seq });
            }
        }
        if anchor_seq == Some(seq) {
            walk.anchor_row = Some((raw.hash, computed));
        }
        prev = Some(Prev {
            seq,
            hashes: Some((raw.hash, computed)),
        });
    }
    Ok(())
}

fn after_walk(
    cps: &BTreeMap<u64, StoredCheckpoint>,
    anchor: &AnchorInput,
    public_key: &[u8],
    key_ok: bool,
    walk: &mut Walk,
) {
    let head = walk.head_seq;
    for stored in cps.range(head.saturating_add(1)..).map(|(_, s)| s) {
        if stored.signed {
            walk.push(Finding::CheckpointBeyondHead {
                seq: stored.cp.seq,
                head,
            });
        }
    }
    let AnchorInput::Given(anchor) = anchor else {
        return;
    };
    let a = &anchor.checkpoint;
    if key_ok && !a.signature_is_valid(public_key) {
        walk.push(Finding::BadAnchorSignature { seq: a.seq });
    } else if a.seq > head {
        walk.push(Finding::AnchorBeyondHead { seq: a.seq, head });
    } else if let Some((stored, recomputed)) = walk.anchor_row {
        if a.hash != stored && a.hash != recomputed {
            walk.push(Finding::AnchorMismatch { seq: a.seq });
        } else {
            match cps.get(&a.seq) {
                None => walk.push(Finding::AnchorCheckpointMissing { seq: a.seq }),
                Some(stored) if stored.cp != *a => {
                    walk.push(Finding::AnchorMismatch { seq: a.seq });
                }
                Some(_) => {}
            }
        }
    }
    // No row at the anchor's position below the head: a gap, already a finding.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_support::memory_db;
    use crate::audit::{AuditSigner, append, checkpoint::checkpoint};
    use serde_json::json;

    #[test]
    fn an_empty_log_verifies() {
        let conn = memory_db();
        let report = verify(&conn, &[0; 32], None);
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.rows_checked, 0);
        assert_eq!(report.head_seq, 0);
        assert!(report.warnings.is_empty());
        assert_eq!(
            report.to_string(),
            "audit log ok: 0 rows, 0 checkpoints checked; head row 0; no checkpoint"
        );
    }

    #[test]
    fn a_clean_log_verifies_with_its_anchor() {
        let mut conn = memory_db();
        let signer = AuditSigner::generate().unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..10 {
            append(&tx, i, AuditKind::Decision, &json!({"i": i})).unwrap();
        }
        let cp = checkpoint(&tx, 10, &signer).unwrap().unwrap();
        append(&tx, 11, AuditKind::Logout, &json!({})).unwrap();
        tx.commit().unwrap();
        let report = verify(&conn, signer.public_key(), Some(&Anchor::from(cp)));
        assert!(report.is_ok(), "{report}");
        assert_eq!(
            (
                report.rows_checked,
                report.checkpoints_checked,
                report.head_seq
            ),
            (11, 1, 11)
        );
        assert_eq!(report.last_checkpoint, Some(10));
        assert_eq!(
            report.warnings,
            [Warning::UnsignedTail { from: 11, to: 11 }]
        );
        assert_eq!(report.head().unwrap(), chain::head(&conn).unwrap().unwrap());
    }

    #[test]
    fn verifying_beside_a_live_writer_sees_one_consistent_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.sqlite3");
        let anchor_path = dir.path().join("audit.anchor");
        let signer = AuditSigner::generate().unwrap();
        let public_key = signer.public_key().to_vec();
        let mut conn = Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .unwrap();
        conn.execute_batch(crate::audit::SCHEMA).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            let anchor_path = anchor_path.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let tx = conn.transaction().unwrap();
                    append(&tx, n, AuditKind::Decision, &json!({"n": n})).unwrap();
                    tx.commit().unwrap();
                    if n % 3 == 0 {
                        crate::audit::checkpoint_now(&mut conn, n, &signer, &anchor_path).unwrap();
                    }
                    n += 1;
                }
            })
        };
        let reader = open_readonly(&path).unwrap();
        let mut max_rows = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while max_rows < 200 && std::time::Instant::now() < deadline {
            // The anchor first, then the database, as verify_data_dir does.
            let anchor = Anchor::read_if_exists(&anchor_path).unwrap();
            let report = verify(&reader, &public_key, anchor.as_ref());
            assert!(report.is_ok(), "{report}");
            max_rows = max_rows.max(report.rows_checked);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
        assert!(max_rows >= 200, "the writer wrote {max_rows} rows");
    }

    #[test]
    fn a_database_without_audit_tables_is_unreadable_not_a_panic() {
        let conn = Connection::open_in_memory().unwrap();
        let report = verify(&conn, &[0; 32], None);
        assert!(matches!(
            report.first_problem(),
            Some(Finding::Unreadable { .. })
        ));
    }

    #[test]
    fn a_short_public_key_is_a_finding() {
        let conn = memory_db();
        let report = verify(&conn, &[1, 2, 3], None);
        assert_eq!(report.findings, [Finding::BadPublicKey { len: 3 }]);
    }

    #[test]
    fn findings_read_as_one_line_each() {
        let lines = [
            (
                Finding::HashMismatch { seq: 1042 },
                "audit row 1042: content does not match its hash (altered)",
            ),
            (
                Finding::Gap {
                    expected: 5,
                    found: 6,
                },
                "audit row 5: missing (deleted); row 6 follows row 4",
            ),
            (
                Finding::Gap {
                    expected: 1,
                    found: 4,
                },
                "audit rows 1..3: missing (deleted); row 4 follows row 0",
            ),
            (
                Finding::CheckpointBeyondHead {
                    seq: 200,
                    head: 150,
                },
                "audit checkpoint at row 200: the log ends at row 150 (rows truncated)",
            ),
        ];
        for (finding, line) in lines {
            assert_eq!(finding.to_string(), line);
        }
        let report = VerifyReport {
            rows_checked: 7,
            checkpoints_checked: 1,
            head_seq: 7,
            head_hash: Some([0xab; 32]),
            last_checkpoint: Some(4),
            anchor: Some(4),
            findings: vec![Finding::BrokenLink { seq: 3 }],
            findings_omitted: 0,
            warnings: vec![Warning::UnsignedTail { from: 5, to: 7 }],
        };
        assert_eq!(
            report.to_string(),
            "audit row 3: does not link to the row before it (a row was deleted, inserted or reordered)\n\
             warning: audit rows 5..7 are after the last checkpoint (not yet signed)\n\
             audit log BROKEN: 7 rows, 1 checkpoints checked; head row 7 (abababababababab); last checkpoint row 4; anchor row 4"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["findings"][0],
            json!({"finding": "broken-link", "seq": 3})
        );
        assert_eq!(json["head_hash"], json!("ab".repeat(32)));
    }
}
