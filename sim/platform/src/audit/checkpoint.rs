//! Signed checkpoints and the anchor: the Ed25519 signing key and its files, signing the head
//! of the chain (after re-checking the rows since the previous checkpoint), the anchor file
//! outside the database, and reconciling the anchor with the database at start.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::chain::{self, GENESIS};
use super::{AuditError, PUBLIC_KEY_FILE, SIGNING_KEY_FILE};

/// Domain-separation tag of a checkpoint message.
const CHECKPOINT_TAG: &[u8] = b"kiban/audit/checkpoint/v1\0";

/// The `format` field of an anchor file.
const ANCHOR_FORMAT: &str = "kiban-audit-anchor-v1";

/// The message a checkpoint signs.
pub(crate) fn checkpoint_message(seq: u64, hash: &[u8; 32], at: i64) -> Vec<u8> {
    let mut msg = Vec::with_capacity(CHECKPOINT_TAG.len() + 48);
    msg.extend_from_slice(CHECKPOINT_TAG);
    msg.extend_from_slice(&seq.to_be_bytes());
    msg.extend_from_slice(hash);
    msg.extend_from_slice(&at.to_be_bytes());
    msg
}

/// The Ed25519 key that signs checkpoints. `Debug` shows only the public key.
pub struct AuditSigner {
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner")
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

impl AuditSigner {
    /// A new random key, kept only in memory (tests, or before [`AuditSigner::load_or_create`]).
    pub fn generate() -> Result<Self, AuditError> {
        let pkcs8 = Self::generate_pkcs8()?;
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| AuditError::Random)?;
        Ok(AuditSigner { key })
    }

    fn generate_pkcs8() -> Result<Vec<u8>, AuditError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| AuditError::Random)?;
        Ok(doc.as_ref().to_vec())
    }

    /// A key from PKCS#8 v2 DER (what ring generates).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, AuditError> {
        Self::parse(pkcs8, Path::new("<memory>"))
    }

    fn parse(pkcs8: &[u8], path: &Path) -> Result<Self, AuditError> {
        Ed25519KeyPair::from_pkcs8(pkcs8)
            .map(|key| AuditSigner { key })
            .map_err(|e| AuditError::BadSigningKey {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
    }

    /// Loads the key in `path`, or creates it: a new key is written to a temporary file with
    /// mode 0600, synced, and linked into place only if no key appeared meanwhile (two
    /// starting processes end up with the same key). Refuses a key file that group or others
    /// may read.
    pub fn load_or_create(path: &Path) -> Result<Self, AuditError> {
        match read_key_file(path, true) {
            Ok(signer) => {
                // Leftovers of a creation that crashed before linking: unused private keys.
                remove_stale_temps(path);
                return Ok(signer);
            }
            Err(AuditError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            }
            Err(e) => return Err(e),
        }
        let pkcs8 = Self::generate_pkcs8()?;
        let tmp = temp_path(path);
        write_synced(&tmp, &pkcs8, true)?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => sync_parent(path)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(AuditError::io("create", path, e)),
        }
        read_key_file(path, true)
    }

    /// Loads or creates [`SIGNING_KEY_FILE`] in the data folder `dir` and writes its public key
    /// to [`PUBLIC_KEY_FILE`] when that file is missing or differs.
    pub fn load_or_create_in(dir: &Path) -> Result<Self, AuditError> {
        let signer = Self::load_or_create(&dir.join(SIGNING_KEY_FILE))?;
        let pub_path = dir.join(PUBLIC_KEY_FILE);
        if read_public_key(&pub_path).ok().as_deref() != Some(signer.public_key()) {
            write_atomic(
                &pub_path,
                format!("{}\n", signer.public_key_hex()).as_bytes(),
                false,
            )?;
        }
        Ok(signer)
    }

    /// The 32-byte Ed25519 public key that verifies this signer's checkpoints.
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The public key as 64 lowercase hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key())
    }

    fn sign(&self, seq: u64, hash: &[u8; 32], at: i64) -> [u8; 64] {
        let sig = self.key.sign(&checkpoint_message(seq, hash, at));
        let mut out = [0; 64];
        // An Ed25519 signature is 64 bytes by definition.
        out.copy_from_slice(&sig.as_ref()[..64]);
        out
    }
}

fn read_key_file(path: &Path, check_mode: bool) -> Result<AuditSigner, AuditError> {
    let bytes = fs::read(path).map_err(|e| AuditError::io("read", path, e))?;
    #[cfg(unix)]
    if check_mode {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| AuditError::io("inspect", path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(AuditError::KeyFileTooOpen {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = check_mode;
    AuditSigner::parse(&bytes, path)
}

/// Reads a public key file: 64 hex digits, surrounding whitespace ignored.
pub fn read_public_key(path: &Path) -> Result<Vec<u8>, AuditError> {
    let text = fs::read_to_string(path).map_err(|e| AuditError::io("read", path, e))?;
    match hex::decode(text.trim()) {
        Ok(key) if key.len() == 32 => Ok(key),
        _ => Err(AuditError::BadPublicKey {
            path: path.to_path_buf(),
        }),
    }
}

/// The public key of the data folder `dir`: [`PUBLIC_KEY_FILE`] if present, else derived from
/// [`SIGNING_KEY_FILE`].
pub(crate) fn public_key_of_dir(dir: &Path) -> Result<Vec<u8>, AuditError> {
    let pub_path = dir.join(PUBLIC_KEY_FILE);
    if pub_path.exists() {
        return read_public_key(&pub_path);
    }
    let key_path = dir.join(SIGNING_KEY_FILE);
    if key_path.exists() {
        return Ok(read_key_file(&key_path, false)?.public_key().to_vec());
    }
    Err(AuditError::NoPublicKey {
        dir: dir.to_path_buf(),
    })
}

/// A signed statement that row `seq` of the log has hash `hash`, made at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last row covered.
    pub seq: u64,
    /// That row's hash.
    pub hash: [u8; 32],
    /// When it was signed (unix seconds, platform clock).
    pub at: i64,
    /// Ed25519 over the checkpoint message.
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// Whether the signature verifies with `public_key`.
    pub fn signature_is_valid(&self, public_key: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(
                &checkpoint_message(self.seq, &self.hash, self.at),
                &self.signature,
            )
            .is_ok()
    }
}

/// Signs the current head inside the caller's transaction. Returns `None` when the log is
/// empty or nothing was appended since the last checkpoint.
///
/// Before signing, re-checks every row after the previous checkpoint (links, hashes, no
/// gaps, and that the previous checkpoint's row still has the signed hash), so the platform
/// never signs a chain that was altered under it. The cost is one pass over the rows since
/// the previous checkpoint.
pub fn checkpoint(
    tx: &Transaction<'_>,
    at: i64,
    signer: &AuditSigner,
) -> Result<Option<Checkpoint>, AuditError> {
    let Some(head) = chain::head(tx)? else {
        return Ok(None);
    };
    let last = latest_checkpoint(tx)?;
    if last.is_some_and(|cp| cp.seq >= head.seq) {
        return Ok(None);
    }
    check_since(tx, last.as_ref(), head.seq)?;
    let signature = signer.sign(head.seq, &head.hash, at);
    let cp = Checkpoint {
        seq: head.seq,
        hash: head.hash,
        at,
        signature,
    };
    tx.prepare_cached(
        "INSERT INTO audit_checkpoint (seq, hash, at, signature) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![
        i64::try_from(cp.seq).map_err(|_| AuditError::SeqExhausted)?,
        &cp.hash[..],
        cp.at,
        &cp.signature[..]
    ])?;
    Ok(Some(cp))
}

/// Walks rows `last.seq + 1 ..= head` and fails on the first break.
fn check_since(conn: &Connection, last: Option<&Checkpoint>, head: u64) -> Result<(), AuditError> {
    let broken = |seq, reason| AuditError::ChainBroken { seq, reason };
    let (mut seq, mut prev) = match last {
        None => (0, GENESIS),
        Some(cp) => {
            let stored: Option<Vec<u8>> = conn
                .prepare_cached("SELECT hash FROM audit WHERE seq = ?1")?
                .query_row([seq_param(cp.seq)?], |r| r.get(0))
                .optional()?;
            if stored.as_deref() != Some(&cp.hash[..]) {
                return Err(broken(
                    cp.seq,
                    "the last checkpoint's row differs from what was signed",
                ));
            }
            (cp.seq, cp.hash)
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, entry, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([seq_param(seq)?])?;
    while let Some(row) = rows.next()? {
        let found: i64 = row.get(0)?;
        let expected = seq + 1;
        if u64::try_from(found).ok() != Some(expected) {
            return Err(broken(expected, "a row is missing"));
        }
        seq = expected;
        let raw = chain::decode_row(row, 1).map_err(|_| broken(seq, "the row is malformed"))?;
        if raw.prev_hash != prev {
            return Err(broken(seq, "the row does not link to the previous row"));
        }
        let hash = chain::row_hash(&prev, seq, raw.at, raw.kind, raw.entry);
        if hash != raw.hash {
            return Err(broken(seq, "the row does not match its hash"));
        }
        prev = hash;
    }
    if seq != head {
        return Err(broken(seq, "the log changed while it was being checked"));
    }
    Ok(())
}

fn seq_param(seq: u64) -> Result<i64, AuditError> {
    i64::try_from(seq).map_err(|_| AuditError::SeqExhausted)
}

/// The checkpoint with the highest `seq`, as stored (its signature is not checked here).
pub fn latest_checkpoint(conn: &Connection) -> Result<Option<Checkpoint>, AuditError> {
    let row = conn
        .prepare_cached(
            "SELECT seq, hash, at, signature FROM audit_checkpoint ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .optional()?;
    let Some((seq, hash, at, signature)) = row else {
        return Ok(None);
    };
    let malformed = |reason| AuditError::ChainBroken { seq: 0, reason };
    Ok(Some(Checkpoint {
        seq: u64::try_from(seq)
            .map_err(|_| malformed("a checkpoint has a negative sequence number"))?,
        hash: hash
            .try_into()
            .map_err(|_| malformed("the last checkpoint's hash is not 32 bytes"))?,
        at,
        signature: signature
            .try_into()
            .map_err(|_| malformed("the last checkpoint's signature is not 64 bytes"))?,
    }))
}

/// Serialises checkpoint-then-anchor sequences within this process, so anchors never regress.
static ANCHOR_LOCK: Mutex<()> = Mutex::new(());

/// Checkpoints in its own `BEGIN IMMEDIATE` transaction, commits, and only then writes the
/// anchor file `anchor_path` (the order that survives a crash at any point). For the periodic
/// checkpoint and for shutdown.
pub fn checkpoint_now(
    conn: &mut Connection,
    at: i64,
    signer: &AuditSigner,
    anchor_path: &Path,
) -> Result<Option<Checkpoint>, AuditError> {
    let _serial = ANCHOR_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cp = checkpoint(&tx, at, signer)?;
    tx.commit()?;
    if let Some(cp) = cp {
        Anchor::from(cp).write_atomic(anchor_path)?;
    }
    Ok(cp)
}

/// The latest checkpoint, kept in a file outside the database so that deleting the tail of
/// the log together with its checkpoints, or restoring an older copy of the database, is
/// detected. JSON: `{"format":"kiban-audit-anchor-v1","seq":…,"hash":"hex","at":…,
/// "signature":"hex"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The checkpoint it holds.
    pub checkpoint: Checkpoint,
}

impl From<Checkpoint> for Anchor {
    fn from(checkpoint: Checkpoint) -> Self {
        Anchor { checkpoint }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnchorFile {
    format: String,
    seq: u64,
    hash: String,
    at: i64,
    signature: String,
}

impl Anchor {
    /// Writes the anchor atomically: a temporary file in the same folder, synced, renamed
    /// over `path`, then the folder synced. A crash leaves the old or the new anchor.
    pub fn write_atomic(&self, path: &Path) -> Result<(), AuditError> {
        let cp = &self.checkpoint;
        let file = AnchorFile {
            format: ANCHOR_FORMAT.to_owned(),
            seq: cp.seq,
            hash: hex::encode(cp.hash),
            at: cp.at,
            signature: hex::encode(cp.signature),
        };
        let mut text = serde_json::to_string(&file).map_err(|e| AuditError::BadAnchor {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        write_atomic(path, text.as_bytes(), false)
    }

    /// Reads an anchor file. Unknown fields, another format or wrong lengths are errors.
    pub fn read(path: &Path) -> Result<Anchor, AuditError> {
        let text = fs::read(path).map_err(|e| AuditError::io("read", path, e))?;
        Self::parse(&text).map_err(|reason| AuditError::BadAnchor {
            path: path.to_path_buf(),
            reason,
        })
    }

    fn parse(text: &[u8]) -> Result<Anchor, String> {
        let file: AnchorFile = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        if file.format != ANCHOR_FORMAT {
            return Err(format!("format is not {ANCHOR_FORMAT:?}"));
        }
        let hash = hex::decode(&file.hash)
            .ok()
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or("hash is not 64 hex digits")?;
        let signature = hex::decode(&file.signature)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or("signature is not 128 hex digits")?;
        if file.seq == 0 {
            return Err("seq is 0".to_owned());
        }
        Ok(Anchor {
            checkpoint: Checkpoint {
                seq: file.seq,
                hash,
                at: file.at,
                signature,
            },
        })
    }

    /// Reads `path` if it exists.
    pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Anchor>, AuditError> {
        match fs::metadata(path) {
            Ok(_) => Self::read(path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AuditError::io("inspect", path, e)),
        }
    }
}

/// Reconciles the anchor file with the database at start. Fails with
/// [`AuditError::Rollback`] when the database does not extend the anchor (older copy, or tail
/// truncated with its checkpoints), or with [`AuditError::BadAnchor`] when the anchor is
/// unreadable or not signed by `public_key` — the platform should refuse to start and the
/// operator run `kiban audit verify`. When the database holds a newer checkpoint than the
/// anchor (a crash between commit and anchor write, or no anchor yet), writes it to the anchor
/// and returns it. Also removes temporary anchor files a crash left behind, so call it once at
/// start, before the first checkpoint.
pub fn sync_anchor(
    conn: &Connection,
    public_key: &[u8],
    anchor_path: &Path,
) -> Result<Option<Anchor>, AuditError> {
    let bad = |reason: &str| AuditError::BadAnchor {
        path: anchor_path.to_path_buf(),
        reason: reason.to_owned(),
    };
    remove_stale_temps(anchor_path);
    let anchor = Anchor::read_if_exists(anchor_path)?;
    if let Some(anchor) = &anchor {
        let cp = &anchor.checkpoint;
        if !cp.signature_is_valid(public_key) {
            return Err(bad(
                "its signature does not verify with the audit public key",
            ));
        }
        let rollback = |reason| AuditError::Rollback {
            seq: cp.seq,
            reason,
        };
        let row: Option<Vec<u8>> = conn
            .prepare_cached("SELECT hash FROM audit WHERE seq = ?1")?
            .query_row([seq_param(cp.seq)?], |r| r.get(0))
            .optional()?;
        match row {
            None => return Err(rollback("the database has no such row")),
            Some(hash) if hash != cp.hash => {
                return Err(rollback("the database row differs from the anchor"));
            }
            Some(_) => {}
        }
        let stored: Option<(Vec<u8>, i64, Vec<u8>)> = conn
            .prepare_cached("SELECT hash, at, signature FROM audit_checkpoint WHERE seq = ?1")?
            .query_row([seq_param(cp.seq)?], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if stored != Some((cp.hash.to_vec(), cp.at, cp.signature.to_vec())) {
            return Err(rollback(
                "the database's checkpoint differs from the anchor",
            ));
        }
    }
    let Some(latest) = latest_checkpoint(conn)? else {
        return Ok(None);
    };
    if anchor.is_some_and(|a| a.checkpoint.seq >= latest.seq) {
        return Ok(None);
    }
    if !latest.signature_is_valid(public_key) {
        return Err(AuditError::ChainBroken {
            seq: latest.seq,
            reason: "the latest checkpoint's signature does not verify",
        });
    }
    let fresh = Anchor::from(latest);
    fresh.write_atomic(anchor_path)?;
    Ok(Some(fresh))
}

/// A temporary name beside `path`, unique within this process.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// Removes temporary files a crash left beside `path` (best effort: called at start only,
/// before anything else writes `path`).
fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut prefix = name.to_os_string();
    prefix.push(".tmp-");
    let prefix = prefix.to_string_lossy().into_owned();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8], private: bool) -> Result<(), AuditError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .map_err(|e| AuditError::io("create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| AuditError::io("write", path, e))
}

/// Replaces `path` atomically with `bytes` (temporary file, fsync, rename, fsync folder).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), AuditError> {
    let tmp = temp_path(path);
    let result = write_synced(&tmp, bytes, private)
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| AuditError::io("rename", &tmp, e)))
        .and_then(|()| sync_parent(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_parent(path: &Path) -> Result<(), AuditError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| AuditError::io("sync", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditKind, append, test_support::memory_db};
    use serde_json::json;

    fn append_n(conn: &mut Connection, n: usize) {
        let tx = conn.transaction().unwrap();
        for i in 0..n {
            append(&tx, 1000, AuditKind::Decision, &json!({"i": i})).unwrap();
        }
        tx.commit().unwrap();
    }

    fn checkpoint_committed(conn: &mut Connection, signer: &AuditSigner) -> Option<Checkpoint> {
        let tx = conn.transaction().unwrap();
        let cp = checkpoint(&tx, 2000, signer).unwrap();
        tx.commit().unwrap();
        cp
    }

    #[test]
    fn checkpoint_is_a_no_op_without_new_rows() {
        let mut conn = memory_db();
        let signer = AuditSigner::generate().unwrap();
        assert_eq!(checkpoint_committed(&mut conn, &signer), None, "empty log");
        append_n(&mut conn, 3);
        let cp = checkpoint_committed(&mut conn, &signer).unwrap();
        assert_eq!(cp.seq, 3);
        assert_eq!(cp.hash, chain::head(&conn).unwrap().unwrap().hash);
        assert_eq!(
            checkpoint_committed(&mut conn, &signer),
            None,
            "nothing new"
        );
        append_n(&mut conn, 1);
        assert_eq!(checkpoint_committed(&mut conn, &signer).unwrap().seq, 4);
        assert_eq!(latest_checkpoint(&conn).unwrap().unwrap().seq, 4);
    }

    #[test]
    fn checkpoint_signature_verifies_only_the_signed_values_and_key() {
        let mut conn = memory_db();
        let signer = AuditSigner::generate().unwrap();
        append_n(&mut conn, 2);
        let cp = checkpoint_committed(&mut conn, &signer).unwrap();
        assert!(cp.signature_is_valid(signer.public_key()));
        let other = AuditSigner::generate().unwrap();
        assert!(!cp.signature_is_valid(other.public_key()));
        for tampered in [
            Checkpoint { seq: 1, ..cp },
            Checkpoint {
                at: cp.at + 1,
                ..cp
            },
            Checkpoint {
                hash: [7; 32],
                ..cp
            },
        ] {
            assert!(!tampered.signature_is_valid(signer.public_key()));
        }
        let mut sig = cp;
        sig.signature[10] ^= 1;
        assert!(!sig.signature_is_valid(signer.public_key()));
        assert!(
            !cp.signature_is_valid(&[1, 2, 3]),
            "a short key never verifies"
        );
    }

    #[test]
    fn checkpoint_refuses_to_sign_a_chain_altered_since_the_last_checkpoint() {
        let mut conn = memory_db();
        let signer = AuditSigner::generate().unwrap();
        append_n(&mut conn, 3);
        checkpoint_committed(&mut conn, &signer).unwrap();
        append_n(&mut conn, 3);
        conn.execute_batch(
            "DROP TRIGGER audit_no_update; UPDATE audit SET entry = '{\"i\":9}' WHERE seq = 5;",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        let err = checkpoint(&tx, 0, &signer).unwrap_err();
        assert!(
            matches!(err, AuditError::ChainBroken { seq: 5, .. }),
            "{err}"
        );
    }

    #[test]
    fn anchor_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.anchor");
        let anchor = Anchor::from(Checkpoint {
            seq: 42,
            hash: [3; 32],
            at: -5,
            signature: [9; 64],
        });
        anchor.write_atomic(&path).unwrap();
        assert_eq!(Anchor::read(&path).unwrap(), anchor);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["audit.anchor"], "no temporary file is left behind");
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(r#"{"format":"kiban-audit-anchor-v1","seq":42,"#),
            "{text}"
        );
    }

    #[test]
    fn anchor_parse_rejects_unknown_fields_wrong_lengths_and_formats() {
        let good =
            r#"{"format":"kiban-audit-anchor-v1","seq":1,"hash":"HASH","at":0,"signature":"SIG"}"#
                .replace("HASH", &"00".repeat(32))
                .replace("SIG", &"00".repeat(64));
        assert!(Anchor::parse(good.as_bytes()).is_ok());
        for bad in [
            good.replace(r#""at":0"#, r#""at":0,"extra":1"#),
            good.replace("kiban-audit-anchor-v1", "other"),
            good.replace(&"00".repeat(32), "00"),
            good.replace(&"00".repeat(64), "zz"),
            good.replace(r#""seq":1"#, r#""seq":0"#),
            good.replace(r#""seq":1"#, r#""seq":-1"#),
            String::from("not json"),
        ] {
            assert!(Anchor::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn signer_key_file_is_private_and_reloads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = AuditSigner::load_or_create_in(dir.path()).unwrap();
        let again = AuditSigner::load_or_create_in(dir.path()).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(first.public_key().len(), 32);
        let key_path = dir.path().join(SIGNING_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                AuditSigner::load_or_create(&key_path),
                Err(AuditError::KeyFileTooOpen { mode: 0o644, .. })
            ));
        }
        let public = read_public_key(&dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(public, first.public_key());
        assert_eq!(public_key_of_dir(dir.path()).unwrap(), first.public_key());
        fs::remove_file(dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(
            public_key_of_dir(dir.path()).unwrap(),
            first.public_key(),
            "derived from the key"
        );
        assert!(!format!("{first:?}").contains("private"));
    }

    #[test]
    fn signer_refuses_a_file_that_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_synced(&path, b"garbage", true).unwrap();
        assert!(matches!(
            AuditSigner::load_or_create(&path),
            Err(AuditError::BadSigningKey { .. })
        ));
    }

    #[test]
    fn sync_anchor_advances_a_lagging_anchor_and_refuses_a_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let anchor_path = dir.path().join("audit.anchor");
        let mut conn = memory_db();
        let signer = AuditSigner::generate().unwrap();
        let pk = signer.public_key().to_vec();
        assert_eq!(sync_anchor(&conn, &pk, &anchor_path).unwrap(), None);
        append_n(&mut conn, 3);
        // A checkpoint committed without its anchor (a crash in between).
        let cp = checkpoint_committed(&mut conn, &signer).unwrap();
        let synced = sync_anchor(&conn, &pk, &anchor_path).unwrap().unwrap();
        assert_eq!(synced.checkpoint, cp);
        assert_eq!(Anchor::read(&anchor_path).unwrap().checkpoint, cp);
        assert_eq!(
            sync_anchor(&conn, &pk, &anchor_path).unwrap(),
            None,
            "in step"
        );
        // checkpoint_now writes the anchor itself.
        append_n(&mut conn, 2);
        let cp5 = checkpoint_now(&mut conn, 3000, &signer, &anchor_path)
            .unwrap()
            .unwrap();
        assert_eq!(Anchor::read(&anchor_path).unwrap().checkpoint, cp5);
        // A database that is older than the anchor: refused.
        let mut old = memory_db();
        append_n(&mut old, 3);
        let err = sync_anchor(&old, &pk, &anchor_path).unwrap_err();
        assert!(matches!(err, AuditError::Rollback { seq: 5, .. }), "{err}");
        // An anchor signed by someone else: refused.
        let other = AuditSigner::generate().unwrap();
        let err = sync_anchor(&conn, other.public_key(), &anchor_path).unwrap_err();
        assert!(matches!(err, AuditError::BadAnchor { .. }), "{err}");
    }
}
