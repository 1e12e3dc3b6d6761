//! The care-plan data exchange (ケアプランデータ連携, DOMAIN §7) inside the platform: offices
//! send each other the standard's CSV files (`shared/spec/careplan-csv.md`) — plans and
//! forecasts from the care-management office to service offices, 実績 back — and the
//! platform stores every accepted file until the receiver acknowledges it.
//!
//! Decisions:
//! - **Who takes part**: care-management, care-service and facility offices, each through a
//!   signed-in staff session. Medical institutions (deemed offices) do not take part today:
//!   their 医療機関コード cannot appear in the standard's file names, which carry 事業所番号.
//! - **Order of checks** (first failure wins): role (403 `role-forbidden`), staff session
//!   (401), file name (400 `careplan-file-name`, spec §2.1), sender = calling office (403
//!   `careplan-sender-mismatch`), kind exchanged here (422 `careplan-kind-not-exchanged`: the
//!   家族構成 JPEG is not a CSV file), the caller's side of the direction (403
//!   `careplan-direction`), receiver known to the platform (**422**
//!   `careplan-unknown-receiver`: the request is well formed but names an office the platform
//!   cannot deliver to; 404 would claim the PUT target is missing), the receiver's side of the
//!   direction (403 `careplan-direction`), the same name already sent (200 replay or 409
//!   `careplan-duplicate-name`), content (422 `careplan-invalid` with every finding), store
//!   (201).
//! - **Direction** follows the spec §1.1 table by file kind (`FileKind::sender`): UPJSK and
//!   DLTJSK go from a care-service office or facility to a care-management office; every other
//!   kind (plans, 利用票, 補足, 第7表, their deletions and the 予防 CSV files) goes from a
//!   care-management office to a care-service office or facility. The サービス種類コード in
//!   v4.1 names is not checked against roles: the spec's own 実績 example swaps them (§2.1).
//! - **Content**: `careplan::parse_file` on the exact bytes. Any error-severity finding
//!   refuses the file and stores nothing; warnings are accepted and returned with the receipt.
//!   The 予防 CSV files are accepted after the encoding and CSV-syntax checks (their layouts
//!   are not covered; the `not-covered` warning says so). v3 names and files are accepted.
//!   Send units (§4.4) are not checked across uploads: files arrive one request at a time.
//! - **Never lost or duplicated**: `(sender, name)` is unique. Re-sending the same name with
//!   the same bytes (SHA-256) answers 200 with the original id and stores nothing; the same
//!   name with other bytes is 409. A file is acknowledged (201) only after its commit, and is
//!   delivered (listed) until the receiver acknowledges it. The content is parsed before the
//!   world's write lock is taken, so an 8 MiB file does not stall other writes.
//! - **No rollout gate**: the exchange is office to office and ran nationally before the
//!   platform, so a municipality's go-live does not gate it.
//! - **Access**: only the sender and the receiver may fetch a file; anyone else is told 404,
//!   as for an id that does not exist. Only the receiver acknowledges (others: 404).
//!   Acknowledging twice is fine. Files are kept after acknowledgement (no deletion yet).
//! - **Audit**: every upload attempt past the session check (stored, replayed or refused),
//!   every fetch (as a decision) and every acknowledgement is audited with office, terminal
//!   and staff (`Caller::actor`), the file name (only once it parsed; before that a digest),
//!   id, SHA-256 and size — never content, person numbers or names. Listing the inbox is not
//!   audited (it shows no content and is polled).

use axum::http::StatusCode;
use kiban_certs::Organisation;
use kiban_core::vocab::Role;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{Caller, Platform, key_digest};
use crate::careplan::{FileKind, FileName, Finding, Sender, Severity, parse_file};
use crate::error::ApiError;
use crate::store::{Change, ExchangeFileInfo, ExchangeFileRow, audit_kind};

/// The roles that take part in the exchange.
pub const EXCHANGE_ROLES: &[Role] = &[Role::CareManagement, Role::CareService, Role::Facility];

/// The most inbox entries one listing returns.
pub const MAX_INBOX_LIMIT: usize = 1000;

/// One finding of the content check (see `careplan::Finding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExchangeFinding {
    /// The stable code, e.g. `free-text-unquoted`.
    #[schema(example = "free-text-unquoted")]
    pub code: String,
    /// `error` or `warning`.
    #[schema(example = "warning")]
    pub severity: String,
    /// The 1-based line the record starts on; null for file-level findings.
    pub row: Option<u32>,
    /// The 1-based column position; null when not about one column.
    pub column: Option<u16>,
    /// The column's Japanese name as in the spec.
    pub column_name: Option<String>,
    /// A lowercase description (never repeats personal data).
    pub message: String,
}

impl From<&Finding> for ExchangeFinding {
    fn from(f: &Finding) -> ExchangeFinding {
        ExchangeFinding {
            code: f.code.as_str().to_owned(),
            severity: f.severity.to_string(),
            row: f.line,
            column: f.column_no,
            column_name: f.column_name.map(str::to_owned),
            message: f.message.clone(),
        }
    }
}

/// The answer to an upload: the stored file and the warnings it was accepted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExchangeReceipt {
    /// The stored file's id.
    pub id: u64,
    /// The file name.
    pub name: String,
    /// The file-name prefix (`UPPLAN`, `UPJSK`, …).
    pub kind: String,
    /// The sending office.
    pub sender: String,
    /// The receiving office.
    pub receiver: String,
    /// When the platform stored it.
    pub received_at: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Warnings of the content check (errors refuse the file).
    pub warnings: Vec<ExchangeFinding>,
}

/// An unacknowledged file in an office's exchange inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExchangeInboxEntry {
    /// The file's id (fetch it at `/v1/careplan/files/by-id/{id}`).
    pub id: u64,
    /// The file name.
    pub name: String,
    /// The file-name prefix (`UPPLAN`, `UPJSK`, …).
    pub kind: String,
    /// The sending office.
    pub sender: String,
    /// The ファイル連番 of the name: receivers import send units in ascending order (spec §4.5).
    pub serial: Option<String>,
    /// When the platform stored it.
    pub received_at: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// A stored file as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeDownload {
    /// The file name.
    pub name: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The exact bytes received.
    pub bytes: Vec<u8>,
}

/// What an upload attempt that stored nothing came to.
enum Outcome {
    Replayed(ExchangeReceipt),
    Refused(ApiError),
}

impl Platform {
    /// Accepts one care-plan exchange file from the calling office: 201 when stored, 200 when
    /// the same file was already stored under this name (see the module doc for the checks).
    pub fn upload_careplan_file(
        &self,
        caller: &Caller,
        name: &str,
        bytes: &[u8],
    ) -> Result<(StatusCode, ExchangeReceipt), ApiError> {
        Self::require_role(caller, EXCHANGE_ROLES)?;
        Self::require_staff(caller)?;
        let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes));
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let mut entry = json!({"action": "careplan-upload", "by": caller.actor(), "sha256": sha256, "size": size});
        let file = match FileName::parse(name) {
            Ok(file) => file,
            Err(e) => {
                entry["file_digest"] = json!(key_digest(name));
                let refusal = ApiError::bad_request("careplan-file-name", e.to_string());
                return Err(self.refuse_upload(entry, refusal));
            }
        };
        // `Display` writes a parsed name back exactly, and only in ASCII.
        let canonical = file.to_string();
        entry["file"] = json!(canonical);
        match self.check_route(caller, &file) {
            Ok(()) => {}
            Err(refusal) => return Err(self.refuse_upload(entry, refusal)),
        }
        let parsed = parse_file(&canonical, bytes);
        let warnings: Vec<ExchangeFinding> =
            parsed.findings.iter().map(ExchangeFinding::from).collect();
        let sender = file.sender().office.as_str().to_owned();
        let outcome = {
            let mut world = self.write_world();
            let existing = self
                .store
                .exchange_by_name(&sender, &canonical)
                .map_err(|e| ApiError::internal(&e))?;
            match existing {
                Some(info) if info.sha256 == sha256 => Outcome::Replayed(receipt(&info, warnings)),
                Some(info) => Outcome::Refused(ApiError::conflict(
                    "careplan-duplicate-name",
                    format!(
                        "this office already sent {canonical} (file {}) with other content; a corrected file needs a new ファイル連番",
                        info.id
                    ),
                )),
                None if parsed.has_errors() => {
                    let errors = parsed
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Error)
                        .count();
                    let refusal = ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "careplan-invalid",
                        format!(
                            "the file breaks the care-plan CSV standard ({errors} errors, {} findings); nothing was stored",
                            warnings.len()
                        ),
                    )
                    .with_extension("findings", json!(warnings));
                    Outcome::Refused(refusal)
                }
                None => {
                    let info = ExchangeFileInfo {
                        id: world.last_exchange_id + 1,
                        name: canonical.clone(),
                        kind: file.kind().prefix().to_owned(),
                        sender,
                        receiver: file.receiver().office.as_str().to_owned(),
                        received_at: self.now(),
                        acked_at: None,
                        size,
                        sha256: sha256.clone(),
                    };
                    let warning_count = warnings.len();
                    let out = receipt(&info, warnings);
                    entry["outcome"] = json!("stored");
                    entry["exchange_file"] = json!(info.id);
                    entry["receiver"] = json!(info.receiver);
                    entry["warnings"] = json!(warning_count);
                    let change = Change::ExchangeFile(ExchangeFileRow {
                        info,
                        body: bytes.to_vec(),
                    });
                    self.write(&mut world, vec![change], audit_kind::WRITE, entry)?;
                    return Ok((StatusCode::CREATED, out));
                }
            }
        };
        match outcome {
            Outcome::Replayed(out) => {
                entry["outcome"] = json!("replayed");
                entry["exchange_file"] = json!(out.id);
                self.audit_only(audit_kind::WRITE, entry)?;
                Ok((StatusCode::OK, out))
            }
            Outcome::Refused(refusal) => Err(self.refuse_upload(entry, refusal)),
        }
    }

    /// The sender, kind, direction and receiver checks of an upload, in the module doc's order.
    fn check_route(&self, caller: &Caller, file: &FileName) -> Result<(), ApiError> {
        let sender = file.sender().office;
        if caller.org() != Organisation::CareOffice(sender) {
            return Err(ApiError::forbidden(
                "careplan-sender-mismatch",
                format!(
                    "the file name's sender office {sender} is not the calling office {}",
                    caller.org()
                ),
            ));
        }
        let kind = file.kind();
        if kind == FileKind::PreventionBasicImage {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "careplan-kind-not-exchanged",
                "家族構成 image files (UPKIHON_IMAGE, jpeg) are not exchanged here; this endpoint carries the standard's CSV files",
            ));
        }
        let (senders, receivers, way): (&[Role], &[Role], &str) = match kind.sender() {
            Sender::CareManagement => (
                &[Role::CareManagement],
                &[Role::CareService, Role::Facility],
                "from a care-management office to a care-service office or facility",
            ),
            Sender::Provider => (
                &[Role::CareService, Role::Facility],
                &[Role::CareManagement],
                "from a care-service office or facility to a care-management office",
            ),
        };
        if !senders.contains(&caller.role()) {
            return Err(ApiError::forbidden(
                "careplan-direction",
                format!(
                    "{kind} files go {way} (spec §1.1); a {} office does not send them",
                    caller.role()
                ),
            ));
        }
        let receiver = file.receiver().office;
        let receiver_role = self
            .read_world()
            .offices
            .get(&Organisation::CareOffice(receiver))
            .map(|(_, role, _)| *role);
        let Some(receiver_role) = receiver_role else {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "careplan-unknown-receiver",
                format!("the receiving office {receiver} is not on the platform"),
            ));
        };
        if !receivers.contains(&receiver_role) {
            return Err(ApiError::forbidden(
                "careplan-direction",
                format!(
                    "{kind} files go {way} (spec §1.1); the receiving office {receiver} is a {receiver_role} office"
                ),
            ));
        }
        Ok(())
    }

    /// Audits a refused upload and hands the refusal back (a failed audit is the error).
    fn refuse_upload(&self, mut entry: serde_json::Value, refusal: ApiError) -> ApiError {
        entry["outcome"] = json!(refusal.code);
        match self.audit_only(audit_kind::WRITE, entry) {
            Ok(()) => refusal,
            Err(e) => e,
        }
    }

    /// The calling office's unacknowledged exchange files with id above `after`, oldest
    /// first, at most `limit` (1-1000). Listing does not consume: a file is listed until
    /// the receiver acknowledges it.
    pub fn careplan_inbox(
        &self,
        caller: &Caller,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ExchangeInboxEntry>, ApiError> {
        Self::require_role(caller, EXCHANGE_ROLES)?;
        Self::require_staff(caller)?;
        if !(1..=MAX_INBOX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!("limit must be 1-{MAX_INBOX_LIMIT}; got {limit}"),
            ));
        }
        let rows = self
            .store
            .exchange_pending(&caller.org().to_string(), after, limit)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(rows
            .into_iter()
            .map(|info| ExchangeInboxEntry {
                serial: FileName::parse(&info.name)
                    .ok()
                    .map(|n| n.serial().to_string()),
                id: info.id,
                name: info.name,
                kind: info.kind,
                sender: info.sender,
                received_at: info.received_at.to_string(),
                size: info.size,
                sha256: info.sha256,
            })
            .collect())
    }

    /// The exact bytes of an exchange file, for its sender or receiver (anyone else: 404).
    /// Every fetch is audited as a decision before the bytes are returned.
    pub fn careplan_file(&self, caller: &Caller, id: u64) -> Result<ExchangeDownload, ApiError> {
        Self::require_role(caller, EXCHANGE_ROLES)?;
        Self::require_staff(caller)?;
        let office = caller.org().to_string();
        let info = self
            .store
            .exchange_info(id)
            .map_err(|e| ApiError::internal(&e))?
            .filter(|i| i.sender == office || i.receiver == office);
        let mut entry =
            json!({"action": "careplan-fetch", "by": caller.actor(), "exchange_file": id});
        let Some(info) = info else {
            entry["decision"] = json!("careplan-unknown-file");
            self.audit_only(audit_kind::DECISION, entry)?;
            return Err(unknown_file(id));
        };
        entry["decision"] = json!("permit");
        entry["file"] = json!(info.name);
        entry["sha256"] = json!(info.sha256);
        entry["size"] = json!(info.size);
        self.audit_only(audit_kind::DECISION, entry)?;
        let row = self
            .store
            .exchange_file(id)
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::internal(&"exchange file vanished after its check"))?;
        Ok(ExchangeDownload {
            name: row.info.name,
            sha256: row.info.sha256,
            bytes: row.body,
        })
    }

    /// The receiver acknowledges an exchange file; acknowledging twice is fine. Anyone but
    /// the receiver is told 404.
    pub fn ack_careplan_file(&self, caller: &Caller, id: u64) -> Result<(), ApiError> {
        Self::require_role(caller, EXCHANGE_ROLES)?;
        Self::require_staff(caller)?;
        let office = caller.org().to_string();
        let mut entry =
            json!({"action": "careplan-ack", "by": caller.actor(), "exchange_file": id});
        let mut world = self.write_world();
        let info = self
            .store
            .exchange_info(id)
            .map_err(|e| ApiError::internal(&e))?
            .filter(|i| i.receiver == office);
        let Some(info) = info else {
            drop(world);
            entry["outcome"] = json!("careplan-unknown-file");
            self.audit_only(audit_kind::WRITE, entry)?;
            return Err(unknown_file(id));
        };
        entry["file"] = json!(info.name);
        entry["sha256"] = json!(info.sha256);
        if info.acked_at.is_some() {
            drop(world);
            entry["outcome"] = json!("already-acknowledged");
            return self.audit_only(audit_kind::WRITE, entry);
        }
        entry["outcome"] = json!("acknowledged");
        let change = Change::ExchangeAck { id, at: self.now() };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)
    }
}

fn receipt(info: &ExchangeFileInfo, warnings: Vec<ExchangeFinding>) -> ExchangeReceipt {
    ExchangeReceipt {
        id: info.id,
        name: info.name.clone(),
        kind: info.kind.clone(),
        sender: info.sender.clone(),
        receiver: info.receiver.clone(),
        received_at: info.received_at.to_string(),
        size: info.size,
        sha256: info.sha256.clone(),
        warnings,
    }
}

fn unknown_file(id: u64) -> ApiError {
    ApiError::not_found(
        "careplan-unknown-file",
        format!("no exchange file {id} for this office"),
    )
}
