//! Where the platform keeps what it is given. A write is one [`Commit`]: row changes, the
//! audit events they cause and, for idempotent requests, the response to replay — applied
//! atomically, and acknowledged to the client only after [`Store::commit`] returns.
//!
//! An audit event that changes no rows (a read decision, a login, a refusal) goes through
//! [`Store::append_audit`], which [`SqliteStore`] group-commits: concurrent events share one
//! transaction, and each caller still returns only once its own row is durable.
//!
//! Two implementations: [`SqliteStore`] (the default; WAL, `synchronous=FULL`, schema
//! migrations) and [`MemoryStore`] (tests and throwaway runs). The decision view is not
//! stored: it is rebuilt from [`Store::load`] at start.

mod memory;
mod sqlite;

use kiban_certs::Organisation;
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::time::Timestamp;
use kiban_core::view::{Consent, Registration, Representation};
use kiban_core::vocab::{InfoClass, Role};

pub use memory::MemoryStore;
pub use sqlite::{CHECKPOINT_EVERY, DATABASE_FILE, SqliteStore};

/// A storage failure. Never caused by client input (that is rejected before a commit).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value could not be read back (corruption or a schema from the future).
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The audit log refused an append.
    #[error("audit log: {0}")]
    Audit(String),
    /// The group commit that was to carry this audit event did not commit it (see
    /// [`Store::append_audit`]); nothing of the batch is durable.
    #[error("audit group commit: {0}")]
    GroupCommit(String),
}

/// A municipality and its go-live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MunicipalityRow {
    /// 全国地方公共団体コード.
    pub code: MunicipalityCode,
    /// When it starts sharing; `None` when not scheduled.
    pub live_from: Option<Timestamp>,
}

/// An office (or deemed medical institution) known to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeRow {
    /// Its number.
    pub org: Organisation,
    /// Its role.
    pub role: Role,
    /// Where it is located.
    pub municipality: MunicipalityCode,
}

/// A staff account of an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// The office.
    pub office: Organisation,
    /// The staff member's login id within the office (not a name).
    pub staff_id: String,
    /// PHC string of the Argon2id hash of the password.
    pub password_hash: String,
    /// Whether the account is the office's administrator user.
    pub admin: bool,
    /// When the account was disabled; `None` while active.
    pub disabled_at: Option<Timestamp>,
}

/// An insured person, keyed by insurer and insured number; `id` is the decision view's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Dense id (the view's `PersonId`).
    pub id: u32,
    /// 保険者番号.
    pub insurer: InsurerNumber,
    /// 被保険者番号.
    pub insured: InsuredNumber,
    /// Opaque link to the person's card certificate given by the municipality (J-LIS
    /// pseudonym); never a My Number.
    pub card_link: Option<String>,
}

/// Who obtained a consent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentOccasion {
    /// The municipality, at a new certification application.
    Application,
    /// The municipality, at a renewal application.
    Renewal,
    /// A care-management office or facility, on the municipality's behalf.
    OnBehalf,
    /// An office under the per-office consent model, for itself.
    OfficeOwn,
}

/// What happened to a consent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentAction {
    /// Consent was given.
    Given,
    /// Consent was withdrawn.
    Withdrawn,
}

/// A consent receipt: what happened to a person's consent, when, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReceiptRow {
    /// The person.
    pub person: u32,
    /// When.
    pub at: Timestamp,
    /// Given or withdrawn.
    pub action: ConsentAction,
    /// On which occasion.
    pub occasion: Option<ConsentOccasion>,
    /// Who recorded it (an organisation number, or `person`).
    pub by: String,
}

/// A stored document of one information class for one person.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// The person.
    pub person: u32,
    /// The class.
    pub class: InfoClass,
    /// When it was recorded on the platform.
    pub recorded_at: Timestamp,
    /// Who sent it (an organisation number).
    pub source: String,
    /// The document.
    pub body: serde_json::Value,
}

/// A replayable response of an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    /// Who sent it (scope of the key).
    pub scope: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
    /// SHA-256 of the request body, hex.
    pub request_hash: String,
    /// HTTP status of the first response.
    pub status: u16,
    /// The first response body.
    pub response: String,
}

/// A message in a municipality's inbox (a submission from an office or institution).
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    /// Platform-wide message id, assigned in commit order from 1.
    pub id: u64,
    /// The municipality it is delivered to.
    pub municipality: MunicipalityCode,
    /// `care-plan-request` or `physician-opinion`.
    pub kind: String,
    /// `web` or `ehr`.
    pub route: String,
    /// The sender's organisation number.
    pub sender: String,
    /// The person it is about.
    pub person: u32,
    /// When it was submitted.
    pub submitted_at: Timestamp,
    /// When the municipality acknowledged it.
    pub acked_at: Option<Timestamp>,
    /// The submission.
    pub body: serde_json::Value,
}

/// What the platform knows about a stored care-plan exchange file (ケアプランデータ連携),
/// without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeFileInfo {
    /// Platform-wide file id, assigned in commit order from 1.
    pub id: u64,
    /// The standard's file name (validated by `careplan::FileName::parse`, so ASCII).
    pub name: String,
    /// The file-name prefix (`UPPLAN`, `UPJSK`, …).
    pub kind: String,
    /// The sending office's 事業所番号.
    pub sender: String,
    /// The receiving office's 事業所番号.
    pub receiver: String,
    /// When the platform stored it.
    pub received_at: Timestamp,
    /// When the receiver acknowledged it.
    pub acked_at: Option<Timestamp>,
    /// Size of the content in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

/// A stored care-plan exchange file: its description and the exact bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeFileRow {
    /// Everything but the content.
    pub info: ExchangeFileInfo,
    /// The content as received (MS932 CSV).
    pub body: Vec<u8>,
}

/// One audited event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Platform time.
    pub at: Timestamp,
    /// `decision`, `write`, `login`, … (see [`audit_kind`]).
    pub kind: String,
    /// What happened, without personal data (no names, no My Number).
    pub entry: serde_json::Value,
}

/// A change to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or replace a municipality.
    Municipality(MunicipalityRow),
    /// Insert or replace an office.
    Office(OfficeRow),
    /// Insert or replace a staff account.
    Staff(StaffRow),
    /// Insert or replace a person.
    Person(PersonRow),
    /// Set a person's comprehensive consent record.
    Consent { person: u32, consent: Consent },
    /// Append a consent receipt.
    ConsentReceipt(ConsentReceiptRow),
    /// Insert or replace a registration.
    Registration {
        person: u32,
        office: Organisation,
        registration: Registration,
    },
    /// Insert or replace a representation.
    Representation {
        agent: String,
        person: u32,
        representation: Representation,
    },
    /// Append a record.
    Record(RecordRow),
    /// Deliver a message to an inbox.
    Inbox(InboxRow),
    /// Acknowledge an inbox message.
    InboxAck { id: u64, at: Timestamp },
    /// Store a care-plan exchange file (its `(sender, name)` is new; the platform checks).
    ExchangeFile(ExchangeFileRow),
    /// The receiver acknowledged an exchange file (the first acknowledgement counts).
    ExchangeAck { id: u64, at: Timestamp },
}

/// Everything one write changes, applied atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// Row changes, in order.
    pub changes: Vec<Change>,
    /// Audit events, in order.
    pub audit: Vec<AuditEvent>,
    /// The response to replay for the request's idempotency key.
    pub idempotency: Option<IdempotencyRow>,
}

/// Everything the decision view is rebuilt from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Municipalities.
    pub municipalities: Vec<MunicipalityRow>,
    /// Offices.
    pub offices: Vec<OfficeRow>,
    /// Staff accounts.
    pub staff: Vec<StaffRow>,
    /// Persons, ordered by id.
    pub persons: Vec<PersonRow>,
    /// Consent records by person.
    pub consents: Vec<(u32, Consent)>,
    /// Registrations.
    pub registrations: Vec<(u32, Organisation, Registration)>,
    /// Representations.
    pub representations: Vec<(String, u32, Representation)>,
    /// The highest inbox message id used (0 when none).
    pub last_inbox_id: u64,
    /// The highest exchange file id used (0 when none).
    pub last_exchange_id: u64,
}

/// Durable (or not) storage of the platform's rows.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Everything needed to rebuild the decision view.
    fn load(&self) -> Result<Snapshot, StoreError>;
    /// Applies a commit atomically; returns once it is durable.
    fn commit(&self, commit: Commit) -> Result<(), StoreError>;
    /// Appends one audit event that changes no rows (a read decision, a login, a refusal);
    /// returns once it is durable, like [`Store::commit`] of a commit holding only this
    /// event. Concurrent calls may share one transaction (group commit), in the order they
    /// were made; an error means this event is not in the log.
    fn append_audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.commit(Commit {
            audit: vec![event],
            ..Commit::default()
        })
    }
    /// Transactions committed since the store was opened (writes and audit batches), for
    /// tests and metrics.
    fn commits(&self) -> u64;
    /// A person's records of one class, oldest first.
    fn records(&self, person: u32, class: InfoClass) -> Result<Vec<RecordRow>, StoreError>;
    /// A person's consent receipts, oldest first.
    fn consent_receipts(&self, person: u32) -> Result<Vec<ConsentReceiptRow>, StoreError>;
    /// The stored response for an idempotency key.
    fn idempotency(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRow>, StoreError>;
    /// Unacknowledged inbox messages of a municipality with id above `after`, oldest first,
    /// at most `limit`.
    fn inbox(
        &self,
        municipality: MunicipalityCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxRow>, StoreError>;
    /// One inbox message.
    fn inbox_message(&self, id: u64) -> Result<Option<InboxRow>, StoreError>;
    /// Audit events about one person (entries whose `person` member is `person`), oldest
    /// first: the person's access log.
    fn audit_for_person(&self, person: u32) -> Result<Vec<AuditEvent>, StoreError>;
    /// Unacknowledged exchange files for the office `receiver` with id above `after`,
    /// oldest first, at most `limit` (without content).
    fn exchange_pending(
        &self,
        receiver: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ExchangeFileInfo>, StoreError>;
    /// One exchange file's description.
    fn exchange_info(&self, id: u64) -> Result<Option<ExchangeFileInfo>, StoreError>;
    /// The exchange file `sender` sent under `name`, if any (without content).
    fn exchange_by_name(
        &self,
        sender: &str,
        name: &str,
    ) -> Result<Option<ExchangeFileInfo>, StoreError>;
    /// One exchange file with its content.
    fn exchange_file(&self, id: u64) -> Result<Option<ExchangeFileRow>, StoreError>;
}

/// The audit kinds, as stored.
pub mod audit_kind {
    /// A read decision (permit or deny).
    pub const DECISION: &str = "decision";
    /// A write.
    pub const WRITE: &str = "write";
    /// A staff login (success or failure).
    pub const LOGIN: &str = "login";
    /// Staff accounts created or disabled.
    pub const STAFF: &str = "staff-change";
}
