//! The durable store: one SQLite database file in the data folder, WAL journal,
//! `synchronous=FULL` (a commit is on disk when `commit` returns), schema migrations keyed
//! by `PRAGMA user_version`. One connection behind a mutex serialises writers; SQLite's own
//! locking protects the file from other processes.
//!
//! # Group commit of audit-only events
//!
//! [`Store::append_audit`] (read decisions, logins, refusals: audit rows that change nothing
//! else) does not take a transaction of its own. The caller puts its event on a queue and
//! waits for the connection; whoever gets the connection first (the *leader*) takes every
//! event queued so far and appends them, in queue order, in one `BEGIN IMMEDIATE … COMMIT`,
//! each inside its own savepoint, then hands every waiter its own result before it lets the
//! connection go. A waiter that finds its result there returns it; one that finds none leads
//! the next batch. So while one fsync is under way the next requests gather, and N concurrent
//! reads cost far fewer than N fsyncs, but no caller returns before the transaction holding
//! its row has committed (`synchronous=FULL`), and a caller whose row did not commit gets an
//! error:
//! - an entry the audit log refuses (personal data, too large) rolls back its savepoint and
//!   fails only its own request, as it did with a transaction of its own;
//! - a failed `BEGIN` or `COMMIT` fails every request of the batch;
//! - a leader that panics mid-batch leaves its followers without a result; the next leader
//!   finds their events gone from the queue and answers them with an error rather than
//!   pretending their rows are durable.
//!
//! The chain stays one ordered sequence because rows are only ever appended by the holder of
//! the connection, inside its transaction. [`Store::commits`] counts committed transactions
//! (writes and audit batches alike).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kiban_certs::Organisation;
use kiban_core::id::MunicipalityCode;
use kiban_core::time::Timestamp;
use kiban_core::view::{Consent, Registration, Representation};
use kiban_core::vocab::{InfoClass, Role};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    AuditEvent, Change, Commit, ConsentReceiptRow, ExchangeFileInfo, ExchangeFileRow,
    IdempotencyRow, InboxRow, MunicipalityRow, OfficeRow, PersonRow, RecordRow, Snapshot, StaffRow,
    Store, StoreError,
};

/// File name of the database inside the data folder.
pub const DATABASE_FILE: &str = "platform.sqlite3";

/// Migrations, applied in order; the database's `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE municipality (code TEXT PRIMARY KEY, live_from INTEGER);
CREATE TABLE office (org TEXT PRIMARY KEY, role TEXT NOT NULL, municipality TEXT NOT NULL);
CREATE TABLE staff (
    office TEXT NOT NULL, staff_id TEXT NOT NULL, password_hash TEXT NOT NULL,
    admin INTEGER NOT NULL, disabled_at INTEGER, PRIMARY KEY (office, staff_id));
CREATE TABLE person (
    id INTEGER PRIMARY KEY, insurer TEXT NOT NULL, insured TEXT NOT NULL, card_link TEXT,
    UNIQUE (insurer, insured));
CREATE TABLE consent (
    person INTEGER PRIMARY KEY, given_at INTEGER NOT NULL, withdrawn_at INTEGER NOT NULL,
    certification_end INTEGER NOT NULL);
CREATE TABLE consent_receipt (
    id INTEGER PRIMARY KEY, person INTEGER NOT NULL, at INTEGER NOT NULL, action TEXT NOT NULL,
    occasion TEXT, by_org TEXT NOT NULL);
CREATE INDEX consent_receipt_person ON consent_receipt (person);
CREATE TABLE registration (
    person INTEGER NOT NULL, office TEXT NOT NULL, registered_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL, last_service_at INTEGER NOT NULL, last_claim_at INTEGER NOT NULL,
    consent_given_at INTEGER NOT NULL, consent_withdrawn_at INTEGER NOT NULL,
    consent_certification_end INTEGER NOT NULL, PRIMARY KEY (person, office));
CREATE TABLE representation (
    agent TEXT NOT NULL, person INTEGER NOT NULL, from_at INTEGER NOT NULL,
    until_at INTEGER NOT NULL, PRIMARY KEY (agent, person));
CREATE TABLE record (
    id INTEGER PRIMARY KEY, person INTEGER NOT NULL, class TEXT NOT NULL,
    recorded_at INTEGER NOT NULL, source TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX record_person_class ON record (person, class);
CREATE TABLE idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, PRIMARY KEY (scope, key));
CREATE INDEX audit_person ON audit (json_extract(entry, '$.person'));
"#,
    r#"
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY, municipality TEXT NOT NULL, kind TEXT NOT NULL, route TEXT NOT NULL,
    sender TEXT NOT NULL, person INTEGER NOT NULL, submitted_at INTEGER NOT NULL, acked_at INTEGER,
    body TEXT NOT NULL);
CREATE INDEX inbox_pending ON inbox (municipality, id) WHERE acked_at IS NULL;
"#,
    r#"
CREATE TABLE exchange_file (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
    receiver TEXT NOT NULL, received_at INTEGER NOT NULL, acked_at INTEGER,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (sender, name));
CREATE INDEX exchange_file_pending ON exchange_file (receiver, id) WHERE acked_at IS NULL;
"#,
];

/// Audit checkpoints are signed after this many commits (and at shutdown).
pub const CHECKPOINT_EVERY: u64 = 64;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    audit: Option<AuditFiles>,
    /// Audit-only events waiting for the next group commit (see the module docs).
    queue: Mutex<Vec<Queued>>,
    /// Transactions committed since the store was opened.
    commits: AtomicU64,
}

/// An audit event waiting for a group commit, and where its result goes.
#[derive(Debug)]
struct Queued {
    event: AuditEvent,
    result: Arc<ResultSlot>,
}

/// Where a group-commit leader leaves one waiter's result.
type ResultSlot = Mutex<Option<Result<(), StoreError>>>;

fn take_result(slot: &ResultSlot) -> Option<Result<(), StoreError>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

fn put_result(slot: &ResultSlot, result: Result<(), StoreError>) {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
}

/// The audit log's signer and anchor, for a store backed by a data folder.
#[derive(Debug)]
struct AuditFiles {
    signer: crate::audit::AuditSigner,
    anchor: std::path::PathBuf,
    commits_since_checkpoint: std::sync::atomic::AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/platform.sqlite3` and migrates it.
    /// The audit signing key is loaded (or created) in `dir`, and the anchor is checked:
    /// a database older than its anchor (a restored copy) is refused.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(dir.join(DATABASE_FILE))?;
        let mut store = Self::configure(conn)?;
        let signer = crate::audit::AuditSigner::load_or_create_in(dir).map_err(audit_error)?;
        let anchor = dir.join(crate::audit::ANCHOR_FILE);
        crate::audit::sync_anchor(&store.lock(), signer.public_key(), &anchor)
            .map_err(audit_error)?;
        store.audit = Some(AuditFiles {
            signer,
            anchor,
            commits_since_checkpoint: 0.into(),
        });
        Ok(store)
    }

    /// Signs a checkpoint of the audit log now (and writes the anchor), if anything is new.
    pub fn checkpoint(&self, at: Timestamp) -> Result<(), StoreError> {
        let Some(files) = &self.audit else {
            return Ok(());
        };
        let mut conn = self.lock();
        crate::audit::checkpoint_now(&mut conn, ts(at), &files.signer, &files.anchor)
            .map_err(audit_error)?;
        files
            .commits_since_checkpoint
            .store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// A private in-memory SQLite database with the same schema (for tests of the SQL).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            audit: None,
            queue: Mutex::new(Vec::new()),
            commits: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A transaction that panicked is rolled back when dropped; the connection is fine.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `PRAGMA integrity_check` and returns its rows (`["ok"]` when healthy).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn queue_lock(&self) -> MutexGuard<'_, Vec<Queued>> {
        // Pushing or taking the vector cannot leave it half-changed.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `batch` in one transaction, each event in its own savepoint, and leaves every
    /// event's result in its slot. Runs with the connection held.
    fn group_commit(&self, conn: &mut Connection, batch: Vec<Queued>) {
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(batch.len());
        let outcome = (|| -> rusqlite::Result<()> {
            let mut tx =
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for queued in &batch {
                let savepoint = tx.savepoint()?;
                match append_audit(&savepoint, &queued.event) {
                    Ok(()) => {
                        savepoint.commit()?;
                        results.push(Ok(()));
                    }
                    // Dropping the savepoint rolls this entry back; the batch goes on.
                    Err(e) => results.push(Err(e)),
                }
            }
            tx.commit()
        })();
        match outcome {
            Ok(()) => {
                let last_at = batch.last().map(|q| q.event.at);
                for (queued, result) in batch.iter().zip(results) {
                    put_result(&queued.result, result);
                }
                self.committed(conn, last_at);
            }
            Err(e) => {
                tracing::error!(error = %e, events = batch.len(), "audit group commit failed");
                for queued in &batch {
                    put_result(
                        &queued.result,
                        Err(StoreError::GroupCommit(format!("sqlite: {e}"))),
                    );
                }
            }
        }
    }

    /// Counts a committed transaction and signs a checkpoint every [`CHECKPOINT_EVERY`].
    fn committed(&self, conn: &mut Connection, last_at: Option<Timestamp>) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        let Some(files) = &self.audit else {
            return;
        };
        let n = files
            .commits_since_checkpoint
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if n >= CHECKPOINT_EVERY {
            let at = last_at.map_or(0, ts);
            // The write is already durable: a failed checkpoint is retried at the next
            // cadence and reported, never turned into a failed write.
            match crate::audit::checkpoint_now(conn, at, &files.signer, &files.anchor) {
                Ok(_) => files.commits_since_checkpoint.store(0, Ordering::Relaxed),
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            }
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // The audit module's schema is idempotent and owned by it; the person index above
    // needs its table.
    conn.execute_batch(crate::audit::SCHEMA)
        .map_err(StoreError::Sqlite)?;
    let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}, newer than this build knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (idx, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(idx + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn ts(t: Timestamp) -> i64 {
    t.unix_seconds()
}

fn from_ts(secs: i64) -> Timestamp {
    Timestamp::from_unix_seconds(secs)
}

fn corrupt(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} {value:?} is not valid").into(),
    )
}

fn apply(tx: &Transaction<'_>, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::Municipality(row) => tx.execute(
            "INSERT OR REPLACE INTO municipality (code, live_from) VALUES (?1, ?2)",
            params![row.code.as_str(), row.live_from.map(ts)],
        ),
        Change::Office(row) => tx.execute(
            "INSERT OR REPLACE INTO office (org, role, municipality) VALUES (?1, ?2, ?3)",
            params![row.org.to_string(), row.role.as_str(), row.municipality.as_str()],
        ),
        Change::Staff(row) => tx.execute(
            "INSERT OR REPLACE INTO staff (office, staff_id, password_hash, admin, disabled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.office.to_string(), row.staff_id, row.password_hash, row.admin, row.disabled_at.map(ts)],
        ),
        Change::Person(row) => tx.execute(
            "INSERT OR REPLACE INTO person (id, insurer, insured, card_link) VALUES (?1, ?2, ?3, ?4)",
            params![row.id, row.insurer.as_str(), row.insured.as_str(), row.card_link],
        ),
        Change::Consent { person, consent } => tx.execute(
            "INSERT OR REPLACE INTO consent (person, given_at, withdrawn_at, certification_end) VALUES (?1, ?2, ?3, ?4)",
            params![person, ts(consent.given_at), ts(consent.withdrawn_at), ts(consent.certification_end)],
        ),
        Change::ConsentReceipt(row) => tx.execute(
            "INSERT INTO consent_receipt (person, at, action, occasion, by_org) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.person,
                ts(row.at),
                serde_json::to_string(&row.action).unwrap_or_default(),
                row.occasion.map(|o| serde_json::to_string(&o).unwrap_or_default()),
                row.by
            ],
        ),
        Change::Registration { person, office, registration: r } => tx.execute(
            "INSERT OR REPLACE INTO registration (person, office, registered_at, ended_at, last_service_at, \
             last_claim_at, consent_given_at, consent_withdrawn_at, consent_certification_end) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                person,
                office.to_string(),
                ts(r.registered_at),
                ts(r.ended_at),
                ts(r.last_service_at),
                ts(r.last_claim_at),
                ts(r.consent.given_at),
                ts(r.consent.withdrawn_at),
                ts(r.consent.certification_end)
            ],
        ),
        Change::Representation { agent, person, representation } => tx.execute(
            "INSERT OR REPLACE INTO representation (agent, person, from_at, until_at) VALUES (?1, ?2, ?3, ?4)",
            params![agent, person, ts(representation.from), ts(representation.until)],
        ),
        Change::Record(row) => tx.execute(
            "INSERT INTO record (person, class, recorded_at, source, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.person, row.class.as_str(), ts(row.recorded_at), row.source, row.body.to_string()],
        ),
        Change::Inbox(row) => tx.execute(
            "INSERT INTO inbox (id, municipality, kind, route, sender, person, submitted_at, acked_at, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                i64::try_from(row.id).unwrap_or(i64::MAX),
                row.municipality.as_str(),
                row.kind,
                row.route,
                row.sender,
                row.person,
                ts(row.submitted_at),
                row.acked_at.map(ts),
                row.body.to_string()
            ],
        ),
        Change::InboxAck { id, at } => tx.execute(
            "UPDATE inbox SET acked_at = ?2 WHERE id = ?1 AND acked_at IS NULL",
            params![i64::try_from(*id).unwrap_or(i64::MAX), ts(*at)],
        ),
        Change::ExchangeFile(row) => {
            let i = &row.info;
            tx.execute(
                "INSERT INTO exchange_file (id, name, kind, sender, receiver, received_at, acked_at, size, sha256, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    i64::try_from(i.id).unwrap_or(i64::MAX),
                    i.name,
                    i.kind,
                    i.sender,
                    i.receiver,
                    ts(i.received_at),
                    i.acked_at.map(ts),
                    i64::try_from(i.size).unwrap_or(i64::MAX),
                    i.sha256,
                    row.body
                ],
            )
        }
        Change::ExchangeAck { id, at } => tx.execute(
            "UPDATE exchange_file SET acked_at = ?2 WHERE id = ?1 AND acked_at IS NULL",
            params![i64::try_from(*id).unwrap_or(i64::MAX), ts(*at)],
        ),
    }
    .map(drop)
}

/// The columns [`exchange_info_row`] reads, in order.
const EXCHANGE_INFO: &str = "id, name, kind, sender, receiver, received_at, acked_at, size, sha256";

fn exchange_info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExchangeFileInfo> {
    let unsigned = |value: i64, what| u64::try_from(value).map_err(|_| corrupt(what, "(negative)"));
    Ok(ExchangeFileInfo {
        id: unsigned(r.get(0)?, "exchange file id")?,
        name: r.get(1)?,
        kind: r.get(2)?,
        sender: r.get(3)?,
        receiver: r.get(4)?,
        received_at: from_ts(r.get(5)?),
        acked_at: r.get::<_, Option<i64>>(6)?.map(from_ts),
        size: unsigned(r.get(7)?, "exchange file size")?,
        sha256: r.get(8)?,
    })
}

fn inbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxRow> {
    let (muni, body): (String, String) = (r.get(1)?, r.get(8)?);
    Ok(InboxRow {
        id: u64::try_from(r.get::<_, i64>(0)?).map_err(|_| corrupt("inbox id", "(negative)"))?,
        municipality: muni
            .parse()
            .map_err(|_| corrupt("municipality code", &muni))?,
        kind: r.get(2)?,
        route: r.get(3)?,
        sender: r.get(4)?,
        person: r.get(5)?,
        submitted_at: from_ts(r.get(6)?),
        acked_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
        body: serde_json::from_str(&body).map_err(|_| corrupt("inbox body", "(json)"))?,
    })
}

fn append_audit(tx: &impl crate::audit::TxScope, event: &AuditEvent) -> Result<(), StoreError> {
    let kind: crate::audit::AuditKind = event
        .kind
        .parse()
        .map_err(|_| StoreError::Audit(format!("unknown audit kind {:?}", event.kind)))?;
    crate::audit::append(tx, ts(event.at), kind, &event.entry).map_err(audit_error)?;
    Ok(())
}

fn audit_error(e: crate::audit::AuditError) -> StoreError {
    StoreError::Audit(e.to_string())
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        let conn = self.lock();
        let municipalities = conn
            .prepare("SELECT code, live_from FROM municipality ORDER BY code")?
            .query_map([], |r| {
                let code: String = r.get(0)?;
                Ok(MunicipalityRow {
                    code: code
                        .parse()
                        .map_err(|_| corrupt("municipality code", &code))?,
                    live_from: r.get::<_, Option<i64>>(1)?.map(from_ts),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let offices = conn
            .prepare("SELECT org, role, municipality FROM office ORDER BY org")?
            .query_map([], |r| {
                let (org, role, muni): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let role: Role = role.parse().map_err(|_| corrupt("role", &role))?;
                Ok(OfficeRow {
                    org: Organisation::parse_for(role, &org)
                        .map_err(|_| corrupt("office number", &org))?,
                    role,
                    municipality: muni
                        .parse()
                        .map_err(|_| corrupt("municipality code", &muni))?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let org_of = |text: &str| -> rusqlite::Result<Organisation> {
            offices
                .iter()
                .find(|o| o.org.to_string() == text)
                .map(|o| o.org)
                .ok_or_else(|| corrupt("office", text))
        };
        let staff = conn
            .prepare("SELECT office, staff_id, password_hash, admin, disabled_at FROM staff ORDER BY office, staff_id")?
            .query_map([], |r| {
                let office: String = r.get(0)?;
                Ok(StaffRow {
                    office: org_of(&office)?,
                    staff_id: r.get(1)?,
                    password_hash: r.get(2)?,
                    admin: r.get(3)?,
                    disabled_at: r.get::<_, Option<i64>>(4)?.map(from_ts),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let persons = conn
            .prepare("SELECT id, insurer, insured, card_link FROM person ORDER BY id")?
            .query_map([], |r| {
                let (insurer, insured): (String, String) = (r.get(1)?, r.get(2)?);
                Ok(PersonRow {
                    id: r.get(0)?,
                    insurer: insurer
                        .parse()
                        .map_err(|_| corrupt("insurer number", &insurer))?,
                    insured: insured
                        .parse()
                        .map_err(|_| corrupt("insured number", &insured))?,
                    card_link: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let consents = conn
            .prepare("SELECT person, given_at, withdrawn_at, certification_end FROM consent ORDER BY person")?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    Consent {
                        given_at: from_ts(r.get(1)?),
                        withdrawn_at: from_ts(r.get(2)?),
                        certification_end: from_ts(r.get(3)?),
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let registrations = conn
            .prepare(
                "SELECT person, office, registered_at, ended_at, last_service_at, last_claim_at, consent_given_at, \
                 consent_withdrawn_at, consent_certification_end FROM registration ORDER BY person, office",
            )?
            .query_map([], |r| {
                let office: String = r.get(1)?;
                Ok((
                    r.get(0)?,
                    org_of(&office)?,
                    Registration {
                        registered_at: from_ts(r.get(2)?),
                        ended_at: from_ts(r.get(3)?),
                        last_service_at: from_ts(r.get(4)?),
                        last_claim_at: from_ts(r.get(5)?),
                        consent: Consent {
                            given_at: from_ts(r.get(6)?),
                            withdrawn_at: from_ts(r.get(7)?),
                            certification_end: from_ts(r.get(8)?),
                        },
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let representations = conn
            .prepare("SELECT agent, person, from_at, until_at FROM representation ORDER BY agent, person")?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, Representation { from: from_ts(r.get(2)?), until: from_ts(r.get(3)?) }))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let last_inbox: i64 =
            conn.query_row("SELECT COALESCE(MAX(id), 0) FROM inbox", [], |r| r.get(0))?;
        let last_exchange: i64 =
            conn.query_row("SELECT COALESCE(MAX(id), 0) FROM exchange_file", [], |r| {
                r.get(0)
            })?;
        Ok(Snapshot {
            municipalities,
            offices,
            staff,
            persons,
            consents,
            registrations,
            representations,
            last_inbox_id: u64::try_from(last_inbox).unwrap_or(0),
            last_exchange_id: u64::try_from(last_exchange).unwrap_or(0),
        })
    }

    fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for change in &commit.changes {
            apply(&tx, change)?;
        }
        for event in &commit.audit {
            append_audit(&tx, event)?;
        }
        if let Some(row) = &commit.idempotency {
            tx.execute(
                "INSERT INTO idempotency (scope, key, request_hash, status, response) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.scope, row.key, row.request_hash, row.status, row.response],
            )?;
        }
        tx.commit()?;
        self.committed(&mut conn, commit.audit.last().map(|e| e.at));
        Ok(())
    }

    fn append_audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        let slot = Arc::new(ResultSlot::new(None));
        self.queue_lock().push(Queued {
            event,
            result: Arc::clone(&slot),
        });
        let mut conn = self.lock();
        if let Some(result) = take_result(&slot) {
            // A leader committed (or refused) it while this caller waited.
            return result;
        }
        let batch = std::mem::take(&mut *self.queue_lock());
        self.group_commit(&mut conn, batch);
        take_result(&slot).unwrap_or_else(|| {
            Err(StoreError::GroupCommit(
                "the batch carrying this audit event was abandoned before it committed".into(),
            ))
        })
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    fn records(&self, person: u32, class: InfoClass) -> Result<Vec<RecordRow>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT recorded_at, source, body FROM record WHERE person = ?1 AND class = ?2 ORDER BY id")?;
        let rows = stmt.query_map(params![person, class.as_str()], |r| {
            let body: String = r.get(2)?;
            Ok(RecordRow {
                person,
                class,
                recorded_at: from_ts(r.get(0)?),
                source: r.get(1)?,
                body: serde_json::from_str(&body).map_err(|_| corrupt("record body", "(json)"))?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn consent_receipts(&self, person: u32) -> Result<Vec<ConsentReceiptRow>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT at, action, occasion, by_org FROM consent_receipt WHERE person = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![person], |r| {
            let action: String = r.get(1)?;
            let occasion: Option<String> = r.get(2)?;
            Ok(ConsentReceiptRow {
                person,
                at: from_ts(r.get(0)?),
                action: serde_json::from_str(&action)
                    .map_err(|_| corrupt("consent action", &action))?,
                occasion: match occasion {
                    Some(text) => Some(
                        serde_json::from_str(&text)
                            .map_err(|_| corrupt("consent occasion", &text))?,
                    ),
                    None => None,
                },
                by: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn idempotency(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRow>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT request_hash, status, response FROM idempotency WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |r| {
                    Ok(IdempotencyRow {
                        scope: scope.to_owned(),
                        key: key.to_owned(),
                        request_hash: r.get(0)?,
                        status: r.get(1)?,
                        response: r.get(2)?,
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    fn inbox(
        &self,
        municipality: MunicipalityCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id, municipality, kind, route, sender, person, submitted_at, acked_at, body FROM inbox \
             WHERE municipality = ?1 AND id > ?2 AND acked_at IS NULL ORDER BY id LIMIT ?3",
        )?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![municipality.as_str(), after, limit], inbox_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn inbox_message(&self, id: u64) -> Result<Option<InboxRow>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT id, municipality, kind, route, sender, person, submitted_at, acked_at, body FROM inbox WHERE id = ?1",
                params![i64::try_from(id).unwrap_or(i64::MAX)],
                inbox_row,
            )
            .optional()?;
        Ok(row)
    }

    fn audit_for_person(&self, person: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT at, kind, entry FROM audit WHERE json_extract(entry, '$.person') = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![person], |r| {
            let entry: String = r.get(2)?;
            Ok(AuditEvent {
                at: from_ts(r.get(0)?),
                kind: r.get(1)?,
                entry: serde_json::from_str(&entry)
                    .map_err(|_| corrupt("audit entry", "(json)"))?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn exchange_pending(
        &self,
        receiver: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ExchangeFileInfo>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {EXCHANGE_INFO} FROM exchange_file \
             WHERE receiver = ?1 AND id > ?2 AND acked_at IS NULL ORDER BY id LIMIT ?3"
        ))?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![receiver, after, limit], exchange_info_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn exchange_info(&self, id: u64) -> Result<Option<ExchangeFileInfo>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                &format!("SELECT {EXCHANGE_INFO} FROM exchange_file WHERE id = ?1"),
                params![i64::try_from(id).unwrap_or(i64::MAX)],
                exchange_info_row,
            )
            .optional()?;
        Ok(row)
    }

    fn exchange_by_name(
        &self,
        sender: &str,
        name: &str,
    ) -> Result<Option<ExchangeFileInfo>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                &format!(
                    "SELECT {EXCHANGE_INFO} FROM exchange_file WHERE sender = ?1 AND name = ?2"
                ),
                params![sender, name],
                exchange_info_row,
            )
            .optional()?;
        Ok(row)
    }

    fn exchange_file(&self, id: u64) -> Result<Option<ExchangeFileRow>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                &format!("SELECT {EXCHANGE_INFO}, body FROM exchange_file WHERE id = ?1"),
                params![i64::try_from(id).unwrap_or(i64::MAX)],
                |r| {
                    Ok(ExchangeFileRow {
                        info: exchange_info_row(r)?,
                        body: r.get(9)?,
                    })
                },
            )
            .optional()?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(i: u64) -> AuditEvent {
        AuditEvent {
            at: Timestamp::from_unix_seconds(1_800_000_000 + i64::try_from(i).unwrap()),
            kind: crate::store::audit_kind::DECISION.into(),
            entry: serde_json::json!({"action": "read", "person": i, "decision": "permit"}),
        }
    }

    /// Starts `events` appends on their own threads while the connection is held (as during
    /// another commit's fsync) and returns once all are queued; the caller lets go.
    fn queue_behind_held_connection(
        store: &Arc<SqliteStore>,
        events: Vec<AuditEvent>,
    ) -> (
        MutexGuard<'_, Connection>,
        Vec<std::thread::JoinHandle<Result<(), StoreError>>>,
    ) {
        let held = store.lock();
        let n = events.len();
        let threads = events
            .into_iter()
            .map(|event| {
                let store = Arc::clone(store);
                std::thread::spawn(move || store.append_audit(event))
            })
            .collect();
        while store.queue_lock().len() < n {
            std::thread::yield_now();
        }
        (held, threads)
    }

    fn verified(dir: &Path) -> crate::audit::VerifyReport {
        let report = crate::audit::verify_data_dir(dir).unwrap();
        assert!(report.is_ok(), "{report}");
        report
    }

    #[test]
    fn audit_events_queued_behind_a_commit_share_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let before = store.commits();
        let (held, threads) = queue_behind_held_connection(&store, (0..16).map(decision).collect());
        assert_eq!(
            store.commits(),
            before,
            "nothing commits while the connection is held"
        );
        drop(held);
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert_eq!(
            store.commits(),
            before + 1,
            "one transaction carried all sixteen"
        );
        for i in 0..16 {
            assert_eq!(
                store
                    .audit_for_person(u32::try_from(i).unwrap())
                    .unwrap()
                    .len(),
                1
            );
        }
        store
            .checkpoint(Timestamp::from_unix_seconds(1_800_000_100))
            .unwrap();
        assert_eq!(verified(dir.path()).rows_checked, 16);
    }

    #[test]
    fn a_refused_event_fails_alone_and_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let mut events: Vec<_> = (0..5).map(decision).collect();
        // Larger than the audit log takes: refused by `append`, inside the batch.
        events[2].entry = serde_json::json!({"action": "read", "person": 2,
            "pad": "x".repeat(crate::audit::MAX_ENTRY_BYTES)});
        let (held, threads) = queue_behind_held_connection(&store, events);
        drop(held);
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for (i, result) in results.iter().enumerate() {
            match result {
                Err(StoreError::Audit(_)) if i == 2 => {}
                Ok(()) if i != 2 => {}
                other => panic!("event {i}: {other:?}"),
            }
        }
        assert_eq!(store.commits(), 1);
        assert!(store.audit_for_person(2).unwrap().is_empty());
        assert_eq!(store.audit_for_person(3).unwrap().len(), 1);
        store
            .checkpoint(Timestamp::from_unix_seconds(1_800_000_100))
            .unwrap();
        assert_eq!(verified(dir.path()).rows_checked, 4);
    }

    #[test]
    fn a_failed_group_commit_fails_every_event_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let (held, threads) = queue_behind_held_connection(&store, (0..3).map(decision).collect());
        // Another connection takes the write lock, so the batch's BEGIN IMMEDIATE fails
        // (after the busy timeout, set short here).
        held.busy_timeout(std::time::Duration::from_millis(50))
            .unwrap();
        let other = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        drop(held);
        for t in threads {
            assert!(
                matches!(t.join().unwrap(), Err(StoreError::GroupCommit(_))),
                "no event may be reported durable"
            );
        }
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(store.commits(), 0);
        for i in 0..3 {
            assert!(store.audit_for_person(i).unwrap().is_empty());
        }
    }
}
