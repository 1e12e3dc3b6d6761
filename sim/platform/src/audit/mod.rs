//! The tamper-evident audit log: every decision (permit and deny), every write, every login is
//! one row of an append-only, hash-chained table in the platform's SQLite database, appended
//! inside the transaction of the change it records; signed checkpoints and an anchor file
//! outside the database make truncation and rollback detectable; [`verify`] walks the whole log
//! and names the first place where it is broken.
//!
//! # Storage
//!
//! [`SCHEMA`] creates two `STRICT` tables and the triggers that keep them append-only:
//!
//! * `audit(seq, at, kind, entry, prev_hash, hash)` — `seq` is 1, 2, 3, … without gaps; `at` is
//!   unix seconds from the platform clock; `kind` is an [`AuditKind`] string; `entry` is the
//!   canonical JSON of the entry (see [`canonical_json`]); `prev_hash` is the previous row's
//!   `hash` (32 zero bytes for row 1) and
//!   `hash = SHA-256("kiban/audit/row/v1\0" ‖ prev_hash ‖ seq:u64be ‖ at:i64be ‖
//!   len(kind):u64be ‖ kind ‖ len(entry):u64be ‖ entry)`. The tag separates row hashes from
//!   checkpoint messages; the length prefixes make every field boundary unambiguous.
//! * `audit_checkpoint(seq, hash, at, signature)` — an Ed25519 signature over
//!   `"kiban/audit/checkpoint/v1\0" ‖ seq:u64be ‖ hash ‖ at:i64be`, where `seq`/`hash` are the
//!   head row covered. Because every row hash covers its predecessor, one checkpoint vouches for
//!   every row up to its `seq`.
//!
//! Triggers reject every `UPDATE` and `DELETE` on both tables, an `audit` row that is not the
//! next `seq` (which also stops `INSERT OR REPLACE`), and a checkpoint that does not sign an
//! existing row's hash or does not move forward. They guard against bugs, not attackers: anyone
//! who can write the file can drop them, which is what the verifier is for.
//!
//! # Files in the data folder
//!
//! | file | content |
//! |---|---|
//! | [`DB_FILE`] `platform.sqlite3` | the database holding both tables |
//! | [`SIGNING_KEY_FILE`] `audit-signing.key` | the Ed25519 PKCS#8 (v2, DER) signing key, mode 0600 |
//! | [`PUBLIC_KEY_FILE`] `audit-signing.pub` | its public key, 64 hex digits and a newline |
//! | [`ANCHOR_FILE`] `audit.anchor` | the latest checkpoint as JSON ([`Anchor`]) |
//!
//! # What the caller does
//!
//! * Runs [`SCHEMA`] in its migrations; opens the database in WAL mode with
//!   `synchronous=FULL`.
//! * Calls [`append`] inside the transaction of the audited change and commits both together.
//!   Audited writes use `BEGIN IMMEDIATE` so two writers queue instead of failing; a race can
//!   never fork the chain anyway (the `seq` primary key and the trigger make the loser fail).
//! * Checkpoints every N appends and at shutdown with [`checkpoint_now`] (or [`checkpoint`] in
//!   its own transaction, then — only after the commit — [`Anchor::write_atomic`]). An anchor
//!   written before its checkpoint commits would look like a rollback after a crash.
//! * Calls [`sync_anchor`] at start: it refuses to start on a database older than the anchor
//!   and re-writes an anchor that a crash left one checkpoint behind.
//! * Never puts a My Number or a person's name in an entry: log identifiers and categories,
//!   not care content. [`append`] refuses entries that [`find_personal_data`] flags, because an
//!   append-only log cannot be cleaned afterwards.
//!
//! # What [`verify`] checks, per row in `seq` order
//!
//! `seq` continues the previous row (else [`Finding::Gap`]); the columns have their types and
//! lengths ([`Finding::MalformedRow`]); `prev_hash` is the previous row's hash
//! ([`Finding::BrokenLink`]); the recomputed hash equals `hash` ([`Finding::HashMismatch`]);
//! `kind` is known and `entry` is canonical JSON ([`Finding::MalformedRow`]). Then every
//! checkpoint: its signature ([`Finding::BadCheckpointSignature`]), that its row exists
//! ([`Finding::CheckpointBeyondHead`]) and has the signed hash
//! ([`Finding::CheckpointMismatch`]); and the anchor: signature, within the log
//! ([`Finding::AnchorBeyondHead`]), same row hash and same checkpoint
//! ([`Finding::AnchorMismatch`], [`Finding::AnchorCheckpointMissing`]). At most one finding is
//! reported per row, and the walk re-synchronises after a finding so one tampered row gives one
//! finding, not a cascade; findings are sorted by position, so the first is the earliest break.
//! The whole walk runs in one read transaction (one snapshot), so it can run beside a live
//! platform; [`verify_data_dir`] reads the anchor before the database so the snapshot is never
//! older than the anchor.
//!
//! # Threat model and its limits
//!
//! * Detected: any change, deletion, insertion or reordering of rows up to the last checkpoint;
//!   deletion of rows covered by a checkpoint; deletion of the tail together with its
//!   checkpoints and restoring an older copy of the database (both against the anchor); forged
//!   checkpoints (without the key).
//! * Not detected, by construction: rows after the last checkpoint can be truncated or
//!   re-chained by anyone who can write the file, since computing SHA-256 needs no secret. The
//!   checkpoint period bounds that window (reported as a warning, [`Warning::UnsignedTail`]).
//! * The signing key, the public key and the anchor live in the data folder, so an attacker who
//!   owns the whole folder can re-sign history. Shipping the public key and the anchor off the
//!   box (a verifier that pins them: [`verify`] with a pinned key and anchor) closes that; the
//!   default layout protects against database-only tampering and restores.
//! * `at` is not required to be monotonic: a platform clock that steps back is not tampering.
//!
//! # Decisions
//!
//! * No cached head: [`append`] reads the head with one indexed `SELECT … ORDER BY seq DESC
//!   LIMIT 1` in the caller's transaction (a rowid seek) and inserts; about 5 µs per append in
//!   release builds. A cache would have to be invalidated on every rollback and would go stale
//!   with a second connection; the seek is cheaper than that bookkeeping is safe.
//! * The report lists every finding (up to 100, sorted by position) rather than only the first:
//!   the walk re-synchronises after each finding, so one tampered row yields one finding and
//!   two independent alterations yield two. [`VerifyReport::first_problem`] is the earliest.
//! * A checkpoint re-checks the rows since the previous checkpoint before signing, so the
//!   platform never launders an alteration into a signed head.
//! * The personal-data guard is enforced, not only asserted: in debug builds [`append`] panics
//!   (so tests find the caller), in release it returns [`AuditError::PersonalData`] — failing
//!   one request beats writing a My Number into a log that can never be cleaned. Entries are
//!   limited to [`MAX_ENTRY_BYTES`] and [`MAX_ENTRY_DEPTH`] for the same reason: identifiers,
//!   not content; client-supplied strings should not be copied into entries verbatim.
//! * Canonical JSON is this module's own writer (sorted keys, compact, control and bidi
//!   characters escaped), independent of `serde_json`'s `preserve_order` feature, which
//!   another crate in the build could switch on.
//!
//! # Invariants (stated as absences)
//!
//! * No audit row or checkpoint is ever `UPDATE`d or `DELETE`d by the platform: this module has
//!   no such statement, and the triggers refuse them.
//! * No audited change commits without its audit row, and no audit row without its change:
//!   [`append`] takes the caller's transaction and never commits.
//! * No entry contains a My Number or a name key ([`find_personal_data`] is enforced by
//!   [`append`]).
//! * The verifier never panics and never writes: it opens the database read-only and turns
//!   every unexpected value into a finding.

mod chain;
mod checkpoint;
mod guard;
mod verify;

pub use chain::{
    AuditHead, MAX_ENTRY_BYTES, MAX_ENTRY_DEPTH, TxScope, append, canonical_json, head,
};
pub use checkpoint::{
    Anchor, AuditSigner, Checkpoint, checkpoint, checkpoint_now, latest_checkpoint,
    read_public_key, sync_anchor,
};
pub use guard::{PersonalDataHit, entry_is_free_of_personal_data, find_personal_data};
pub use verify::{Finding, VerifyReport, Warning, open_readonly, verify, verify_data_dir};

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The database file in the platform's data folder.
pub const DB_FILE: &str = "platform.sqlite3";
/// The Ed25519 PKCS#8 signing key in the data folder (mode 0600).
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
/// The public key in the data folder: 64 hex digits and a newline.
pub const PUBLIC_KEY_FILE: &str = "audit-signing.pub";
/// The anchor (the latest checkpoint, JSON) in the data folder.
pub const ANCHOR_FILE: &str = "audit.anchor";

/// The audit tables and their append-only triggers. Idempotent: every statement is
/// `IF NOT EXISTS`, so migrations may run it at every start.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    entry     TEXT NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE TABLE IF NOT EXISTS audit_checkpoint (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    hash      BLOB NOT NULL CHECK (length(hash) = 32),
    at        INTEGER NOT NULL,
    signature BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;
CREATE TRIGGER IF NOT EXISTS audit_append_next BEFORE INSERT ON audit
WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM audit)
BEGIN SELECT RAISE(ABORT, 'audit rows are appended at the next sequence number'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_forward BEFORE INSERT ON audit_checkpoint
WHEN NEW.seq <= (SELECT IFNULL(MAX(seq), 0) FROM audit_checkpoint)
  OR NEW.hash IS NOT (SELECT hash FROM audit WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'an audit checkpoint signs an existing row after the last checkpoint'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
";

/// What an audit row records. The strings are stable (they are hashed into every row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// An access decision, permit or deny.
    Decision,
    /// A write to the store (registration, consent, care plan, message, …).
    Write,
    /// A login attempt, successful or not (the outcome is in the entry).
    Login,
    /// A logout or session end.
    Logout,
    /// A staff account created, changed, locked or removed.
    StaffChange,
    /// A certificate issued, presented unusually, revoked or refused.
    CertificateEvent,
    /// The platform itself: start, shutdown, configuration or key change.
    System,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [AuditKind; 7] = [
        AuditKind::Decision,
        AuditKind::Write,
        AuditKind::Login,
        AuditKind::Logout,
        AuditKind::StaffChange,
        AuditKind::CertificateEvent,
        AuditKind::System,
    ];

    /// The stable kebab-case name stored in the `kind` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditKind::Decision => "decision",
            AuditKind::Write => "write",
            AuditKind::Login => "login",
            AuditKind::Logout => "logout",
            AuditKind::StaffChange => "staff-change",
            AuditKind::CertificateEvent => "certificate-event",
            AuditKind::System => "system",
        }
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditKind {
    type Err = AuditError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or(AuditError::UnknownKind)
    }
}

/// Why an audit operation failed. Messages never repeat entry content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The database refused or failed a statement.
    #[error("audit database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done ("read", "write", "rename", …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The signing key file does not hold an Ed25519 PKCS#8 v2 key.
    #[error("{} is not an ed25519 pkcs#8 signing key: {reason}", .path.display())]
    BadSigningKey {
        /// The key file.
        path: PathBuf,
        /// What ring rejected.
        reason: String,
    },
    /// The signing key file may be read by other users.
    #[error("{} may be read by other users (mode {mode:o}); it must be 0600", .path.display())]
    KeyFileTooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The public key file does not hold 32 bytes as hex.
    #[error("{} is not an ed25519 public key (64 hex digits)", .path.display())]
    BadPublicKey {
        /// The public key file.
        path: PathBuf,
    },
    /// Neither a public key file nor a signing key file exists in the data folder.
    #[error("no audit public key in {} ({PUBLIC_KEY_FILE} or {SIGNING_KEY_FILE})", .dir.display())]
    NoPublicKey {
        /// The data folder.
        dir: PathBuf,
    },
    /// The anchor file is not a well-formed anchor.
    #[error("the audit anchor {} is invalid: {reason}", .path.display())]
    BadAnchor {
        /// The anchor file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database is older than, or diverges from, the anchor: a rollback or a truncation.
    #[error("the audit log does not extend its anchor at row {seq}: {reason}")]
    Rollback {
        /// The anchor's row.
        seq: u64,
        /// How the database differs.
        reason: &'static str,
    },
    /// The chain is broken where the platform was about to extend or sign it.
    #[error("the audit chain is broken at row {seq}: {reason}; run `kiban audit verify`")]
    ChainBroken {
        /// The first broken row.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The entry contains a key or value that looks like personal data.
    #[error("the audit entry contains personal data at {path} ({what})")]
    PersonalData {
        /// The JSON path of the offending key or value (never the value itself).
        path: String,
        /// Which rule matched.
        what: &'static str,
    },
    /// The entry is larger than [`MAX_ENTRY_BYTES`] as canonical JSON.
    #[error("the audit entry is {len} bytes; at most {MAX_ENTRY_BYTES} are allowed")]
    EntryTooLarge {
        /// Its canonical length.
        len: usize,
    },
    /// The entry nests deeper than [`MAX_ENTRY_DEPTH`].
    #[error("the audit entry nests deeper than {MAX_ENTRY_DEPTH} levels")]
    EntryTooDeep,
    /// An audit kind string is not one of [`AuditKind::ALL`].
    #[error("unknown audit kind")]
    UnknownKind,
    /// The sequence number would overflow.
    #[error("the audit sequence number is exhausted")]
    SeqExhausted,
    /// The system random generator failed while generating a signing key.
    #[error("the system random generator failed")]
    Random,
}

impl AuditError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        AuditError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Shared fixtures for the unit tests.

    /// An in-memory database with the audit schema.
    pub(crate) fn memory_db() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(super::SCHEMA).expect("audit schema");
        conn
    }
}
