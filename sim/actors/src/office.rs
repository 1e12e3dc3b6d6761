//! Offices on the platform: care-management offices (居宅介護支援事業所), care-service
//! offices, facilities, and medical institutions viewing as deemed offices (みなし介護事業所),
//! each a real client of the 介護保険資格確認等WEBサービス (DOMAIN §1, §3).
//!
//! An [`Office`] has **staff accounts** (the administrator `admin` created by the operator,
//! others added by the administrator; a member who leaves is disabled at once) and
//! **terminals**, each with its own client certificate from the operator's desk and a card
//! reader (a retired terminal's certificate is revoked; certificates expire and are renewed).
//! Staff sign in on a terminal; every call names the terminal it is made from.
//!
//! What offices do, each through the platform's public API:
//! - **identity verification at contract** ([`Office::verify`]): the holder's card signs the
//!   platform's nonce in the terminal's reader; the platform asks J-LIS and registers the
//!   office. J-LIS unavailable is retried with a new nonce (the nonce is single-use, so the
//!   verification request itself is never resent);
//! - **reads** ([`Office::read`]), whose refusals are outcomes ([`ReadOutcome`]);
//! - **uploads** of the documents the office creates: care plans and LIFE feedback;
//! - **consent on the municipality's behalf** (care-management offices and facilities);
//! - **submissions**: care-plan creation request notices (居宅サービス計画作成依頼届出) and
//!   physician opinions (see [`crate::medical`]), each under an `Idempotency-Key` so a retry
//!   never delivers twice;
//! - **the care-plan CSV exchange**: upload standard files, fetch the inbox, parse and
//!   acknowledge ([`Office::send_files`], [`Office::receive_files`]).
//!
//! Passwords and session tokens never appear in `Debug` output. Passwords of added staff
//! come from the office's seeded generator, so a run is reproducible.

use std::collections::BTreeMap;
use std::fmt;

use kiban_certs::{Organisation, RevocationReason};
use kiban_core::id::MunicipalityCode;
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::{CarePlanTable, InfoClass, Role};
use kiban_platform::careplan::{
    Endpoint, FileName, OutgoingFile, ServiceTypeCode, decode_ms932, parse_file,
};
use kiban_platform::model::{ConsentReceipt, IdentityResult, Session, SubmissionReceipt};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::card::Card;
use crate::careplan::ReceivedFile;
use crate::client::{ApiRequest, PlatformClient, RetryPolicy};
use crate::operator::{CertificateDesk, TerminalCertificate};
use crate::outcome::{ActorError, ReadOutcome, Reason};
use crate::reader::{CardReader, Presence, ReaderConfig};
use crate::wire::{ExchangeInboxEntry, ExchangeReceipt, PersonRef, send};

/// Media type of an uploaded care-plan file.
const CSV_MS932: &str = "text/csv; charset=Shift_JIS";

/// Who an office is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSpec {
    /// care-management, care-service, facility or medical-institution.
    pub role: Role,
    /// The 事業所番号 or 医療機関コード.
    pub organisation: Organisation,
    /// The office's name (事業所名).
    pub name: String,
    /// Where it is located (its rollout follows this municipality).
    pub municipality: MunicipalityCode,
    /// Its サービス種類コード in the care-plan exchange (43 for care management, 11 for
    /// 訪問介護, …); `None` for offices that do not exchange care-plan files.
    pub service_type: Option<ServiceTypeCode>,
}

impl OfficeSpec {
    /// The office as a care-plan exchange endpoint (care offices with a service type).
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self.organisation {
            Organisation::CareOffice(office) => Some(Endpoint {
                office,
                service_type: self.service_type,
            }),
            _ => None,
        }
    }
}

/// What a successful identity verification registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The person the card belongs to.
    pub person: PersonRef,
    /// When the registration took effect (RFC 3339, JST).
    pub registered_at: String,
    /// Attempts (a J-LIS outage costs one each).
    pub attempts: u32,
}

struct Staff {
    password: String,
    admin: bool,
    active: bool,
}

struct SignedIn {
    staff_id: String,
    token: String,
}

struct Terminal {
    certificate: TerminalCertificate,
    session: Option<SignedIn>,
    reader: CardReader<ChaCha8Rng>,
}

/// An office and its staff and terminals.
pub struct Office {
    spec: OfficeSpec,
    staff: BTreeMap<String, Staff>,
    terminals: BTreeMap<String, Terminal>,
    /// Retired terminals whose device still holds its (revoked) certificate and whatever
    /// session was left open on it — a BYOD phone that went home with its owner.
    retired: BTreeMap<String, Terminal>,
    retry: RetryPolicy,
    rng: ChaCha8Rng,
}

impl fmt::Debug for Office {
    /// The office, its staff ids and terminals; never a password or a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let staff: Vec<(&String, bool)> = self.staff.iter().map(|(id, s)| (id, s.active)).collect();
        let terminals: Vec<(&String, Option<&str>)> = self
            .terminals
            .iter()
            .map(|(name, t)| (name, t.session.as_ref().map(|s| s.staff_id.as_str())))
            .collect();
        f.debug_struct("Office")
            .field("spec", &self.spec)
            .field("staff (id, active)", &staff)
            .field("terminals (name, signed in)", &terminals)
            .finish_non_exhaustive()
    }
}

impl Office {
    /// An office whose administrator `admin` has `admin_password` (as given to the operator
    /// at registration); `seed` seeds the passwords of added staff and the terminals'
    /// readers.
    pub fn new(spec: OfficeSpec, admin_password: &str, seed: u64) -> Office {
        let mut staff = BTreeMap::new();
        staff.insert(
            "admin".to_owned(),
            Staff {
                password: admin_password.to_owned(),
                admin: true,
                active: true,
            },
        );
        Office {
            spec,
            staff,
            terminals: BTreeMap::new(),
            retired: BTreeMap::new(),
            retry: RetryPolicy::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The same office with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Office {
        self.retry = retry;
        self
    }

    /// Who the office is.
    pub fn spec(&self) -> &OfficeSpec {
        &self.spec
    }

    /// The office number as the platform knows it.
    pub fn number(&self) -> String {
        self.spec.organisation.to_string()
    }

    /// The terminals' names.
    pub fn terminals(&self) -> Vec<&str> {
        self.terminals.keys().map(String::as_str).collect()
    }

    /// Active staff ids.
    pub fn staff(&self) -> Vec<&str> {
        self.staff
            .iter()
            .filter(|(_, s)| s.active)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    // ------------------------------------------------------------ terminals

    /// Installs a terminal with its certificate and a card reader configured by `reader`.
    pub fn install_terminal(
        &mut self,
        name: &str,
        certificate: TerminalCertificate,
        reader: ReaderConfig,
    ) -> Result<(), ActorError> {
        let reader = CardReader::new(reader, ChaCha8Rng::seed_from_u64(self.rng.random()))?;
        self.terminals.insert(
            name.to_owned(),
            Terminal {
                certificate,
                session: None,
                reader,
            },
        );
        Ok(())
    }

    /// Issues a certificate for a new terminal at the operator's desk and installs it.
    pub fn open_terminal(
        &mut self,
        name: &str,
        desk: &mut CertificateDesk<'_>,
        days: u32,
        reader: ReaderConfig,
    ) -> Result<(), ActorError> {
        let principal = CertificateDesk::principal(self.spec.role, self.spec.organisation, name)?;
        let certificate = desk.issue(&principal, days)?;
        self.install_terminal(name, certificate, reader)
    }

    /// Retires a terminal: its certificate is revoked (cessation of operation) and the
    /// terminal leaves the office (its name is then unknown to [`Office::read`] and every
    /// other call). The device itself is kept, with its certificate and the session left open
    /// on it, as a forgotten or BYOD device would be: [`Office::read_from_retired`] uses it
    /// again, to show what the platform does. Returns the revoked certificate's serial.
    pub fn retire_terminal(
        &mut self,
        name: &str,
        desk: &mut CertificateDesk<'_>,
    ) -> Result<kiban_certs::Serial, ActorError> {
        let terminal = self
            .terminals
            .remove(name)
            .ok_or_else(|| ActorError::UnknownTerminal(name.to_owned()))?;
        let serial = terminal.certificate.serial.clone();
        if let Err(e) = desk.revoke(&serial, RevocationReason::TerminalRetired) {
            self.terminals.insert(name.to_owned(), terminal);
            return Err(e);
        }
        self.retired.insert(name.to_owned(), terminal);
        Ok(serial)
    }

    /// The retired device `name` is used again for a read, with its revoked certificate and
    /// the session left on it.
    pub async fn read_from_retired(
        &self,
        name: &str,
        person: PersonRef,
        class: InfoClass,
    ) -> Result<ReadOutcome, ActorError> {
        let terminal = self
            .retired
            .get(name)
            .ok_or_else(|| ActorError::UnknownTerminal(name.to_owned()))?;
        let mut request = ApiRequest::get(person.path(&format!("classes/{class}")));
        if let Some(session) = &terminal.session {
            request = request.bearer(session.token.clone());
        }
        ReadOutcome::from_result(send(&terminal.certificate.client, &request, &self.retry).await)
    }

    /// Whether terminal `name` was retired.
    pub fn is_retired(&self, name: &str) -> bool {
        self.retired.contains_key(name)
    }

    /// Renews a terminal's certificate for `days` days (same terminal, new key and serial);
    /// the signed-in session stays, as it is bound to the terminal, not the certificate.
    pub fn renew_terminal(
        &mut self,
        name: &str,
        desk: &mut CertificateDesk<'_>,
        days: u32,
    ) -> Result<(), ActorError> {
        let terminal = self
            .terminals
            .get_mut(name)
            .ok_or_else(|| ActorError::UnknownTerminal(name.to_owned()))?;
        terminal.certificate = desk.renew(&terminal.certificate.serial, days)?;
        Ok(())
    }

    /// Terminals whose certificate ends within `days` days of `now` (to renew).
    pub fn expiring_terminals(&self, now: Timestamp, days: i64) -> Vec<&str> {
        let horizon = now.plus_days(days);
        self.terminals
            .iter()
            .filter(|(_, t)| t.certificate.not_after <= horizon)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    fn terminal(&self, name: &str) -> Result<&Terminal, ActorError> {
        self.terminals
            .get(name)
            .ok_or_else(|| ActorError::UnknownTerminal(name.to_owned()))
    }

    fn client(&self, name: &str) -> Result<&PlatformClient, ActorError> {
        Ok(&self.terminal(name)?.certificate.client)
    }

    /// Sends `request` from terminal `name` with the signed-in staff member's token.
    async fn call(
        &self,
        name: &str,
        request: ApiRequest,
    ) -> Result<crate::client::ApiResponse, ActorError> {
        let terminal = self.terminal(name)?;
        let session = terminal
            .session
            .as_ref()
            .ok_or_else(|| ActorError::NotSignedIn(name.to_owned()))?;
        let request = request.bearer(session.token.clone());
        send(&terminal.certificate.client, &request, &self.retry).await
    }

    // ------------------------------------------------------------ staff

    /// Signs staff member `staff_id` in on terminal `name` (replacing whoever was).
    pub async fn sign_in(&mut self, name: &str, staff_id: &str) -> Result<(), ActorError> {
        let password = self
            .staff
            .get(staff_id)
            .filter(|s| s.active)
            .map(|s| s.password.clone())
            .ok_or_else(|| ActorError::UnknownStaff(staff_id.to_owned()))?;
        let request = ApiRequest::post("/v1/session")
            .json(&json!({"staff_id": staff_id, "password": password}))?;
        let session: Session = send(self.client(name)?, &request, &self.retry)
            .await?
            .json()?;
        if let Some(terminal) = self.terminals.get_mut(name) {
            terminal.session = Some(SignedIn {
                staff_id: staff_id.to_owned(),
                token: session.token,
            });
        }
        Ok(())
    }

    /// Signs the staff member on terminal `name` out.
    pub async fn sign_out(&mut self, name: &str) -> Result<(), ActorError> {
        self.call(name, ApiRequest::delete("/v1/session")).await?;
        if let Some(terminal) = self.terminals.get_mut(name) {
            terminal.session = None;
        }
        Ok(())
    }

    /// Who is signed in on terminal `name`.
    pub fn signed_in(&self, name: &str) -> Option<&str> {
        self.terminals
            .get(name)?
            .session
            .as_ref()
            .map(|s| s.staff_id.as_str())
    }

    /// The administrator signed in on terminal `name` adds staff member `staff_id` with a
    /// password drawn from the office's generator.
    pub async fn add_staff(
        &mut self,
        name: &str,
        staff_id: &str,
        admin: bool,
    ) -> Result<(), ActorError> {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let password: String = (0..16)
            .map(|_| char::from(CHARS[self.rng.random_range(0..CHARS.len())]))
            .collect();
        let request = ApiRequest::post("/v1/office/staff").json(&json!({
            "staff_id": staff_id, "password": password, "admin": admin,
        }))?;
        self.call(name, request).await?;
        self.staff.insert(
            staff_id.to_owned(),
            Staff {
                password,
                admin,
                active: true,
            },
        );
        Ok(())
    }

    /// Staff member `staff_id` leaves: the administrator signed in on terminal `name`
    /// disables the account. Sessions the member left open on terminals stay in place here,
    /// as they would on a real desk; the platform refuses their next request.
    pub async fn staff_leaves(&mut self, name: &str, staff_id: &str) -> Result<(), ActorError> {
        self.call(
            name,
            ApiRequest::delete(format!("/v1/office/staff/{staff_id}")),
        )
        .await?;
        if let Some(s) = self.staff.get_mut(staff_id) {
            s.active = false;
        }
        Ok(())
    }

    /// Whether `staff_id` is an administrator user.
    pub fn is_admin(&self, staff_id: &str) -> bool {
        self.staff
            .get(staff_id)
            .is_some_and(|s| s.admin && s.active)
    }

    // ------------------------------------------------------------ identity

    /// Verifies the holder of `card` at contract on terminal `name`: a nonce from the
    /// platform, the card read with `presence` at `now`, the assertion posted. On
    /// `jlis-unavailable` (retryable) it starts again with a new nonce, within the office's
    /// retry policy. Registers the office as responsible for the person.
    pub async fn verify(
        &mut self,
        name: &str,
        card: &mut Card,
        presence: Presence,
        now: Timestamp,
    ) -> Result<Verified, ActorError> {
        let attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let nonce: kiban_platform::identity::Nonce = self
                .call(name, ApiRequest::post("/v1/identity/nonce"))
                .await?
                .json()?;
            let terminal = self
                .terminals
                .get_mut(name)
                .ok_or_else(|| ActorError::UnknownTerminal(name.to_owned()))?;
            let assertion = terminal.reader.assert(card, &nonce.nonce, presence, now)?;
            let request = ApiRequest::post("/v1/identity/verify").json(&assertion)?;
            match self.call(name, request).await {
                Ok(answer) => {
                    let result: IdentityResult = answer.json()?;
                    return Ok(Verified {
                        person: PersonRef::from(&result.person),
                        registered_at: result.registered_at,
                        attempts: attempt,
                    });
                }
                Err(e) if attempt < attempts && e.reason() == Some(Reason::JlisUnavailable) => {
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    // ------------------------------------------------------------ reads and writes

    /// Reads one class of a person's information from terminal `name`.
    pub async fn read(
        &self,
        name: &str,
        person: PersonRef,
        class: InfoClass,
    ) -> Result<ReadOutcome, ActorError> {
        let request = ApiRequest::get(person.path(&format!("classes/{class}")));
        ReadOutcome::from_result(self.call(name, request).await)
    }

    /// Uploads a document of a class the office creates (`table` for care plans).
    pub async fn upload(
        &self,
        name: &str,
        person: PersonRef,
        class: InfoClass,
        table: Option<CarePlanTable>,
        content: Map<String, Value>,
    ) -> Result<(), ActorError> {
        let request = ApiRequest::post(person.path(&format!("classes/{class}")))
            .json(&json!({"table": table, "content": content}))?;
        self.call(name, request).await?;
        Ok(())
    }

    /// Uploads one table of a home care plan (care-management offices).
    pub async fn upload_care_plan(
        &self,
        name: &str,
        person: PersonRef,
        table: CarePlanTable,
        content: Map<String, Value>,
    ) -> Result<(), ActorError> {
        self.upload(name, person, table.class(), Some(table), content)
            .await
    }

    /// Uploads a LIFE feedback sheet (care-service offices and facilities).
    pub async fn upload_life(
        &self,
        name: &str,
        person: PersonRef,
        content: Map<String, Value>,
    ) -> Result<(), ActorError> {
        self.upload(name, person, InfoClass::LifeFeedback, None, content)
            .await
    }

    /// Records the person's comprehensive consent on the municipality's behalf (a
    /// care-management office or facility, for an existing user).
    pub async fn consent_on_behalf(
        &self,
        name: &str,
        person: PersonRef,
        certification_end: Option<Date>,
    ) -> Result<ConsentReceipt, ActorError> {
        let request = ApiRequest::put(person.path("consent"))
            .json(&json!({"occasion": "on-behalf", "certification_end": certification_end}))?;
        Ok(self.call(name, request).await?.json()?)
    }

    /// Files a care-plan creation request notice (居宅サービス計画作成依頼届出) with the
    /// person's municipality, under `key` so a retry delivers it once.
    pub async fn request_care_plan(
        &self,
        name: &str,
        person: PersonRef,
        content: Map<String, Value>,
        key: &str,
    ) -> Result<SubmissionReceipt, ActorError> {
        self.submit(name, "care-plan-request", "web", person, content, key)
            .await
    }

    /// Posts a submission to `/v1/submissions` under `key`.
    pub(crate) async fn submit(
        &self,
        name: &str,
        kind: &str,
        route: &str,
        person: PersonRef,
        content: Map<String, Value>,
        key: &str,
    ) -> Result<SubmissionReceipt, ActorError> {
        let request = ApiRequest::post("/v1/submissions")
            .json(&json!({
                "kind": kind, "route": route, "insurer": person.insurer,
                "insured": person.insured, "content": content,
            }))?
            .idempotency_key(key);
        Ok(self.call(name, request).await?.json()?)
    }

    /// Reports a service given on `on` (実績), which keeps the registration from lapsing.
    pub async fn record_service(
        &self,
        name: &str,
        person: PersonRef,
        on: Date,
    ) -> Result<(), ActorError> {
        let request = ApiRequest::post(person.path("activity"))
            .json(&json!({"kind": "service", "on": on}))?;
        self.call(name, request).await?;
        Ok(())
    }

    /// Reports a claim for a service given on `on` (請求), which also keeps a registration
    /// tied to claims from lapsing.
    pub async fn record_claim(
        &self,
        name: &str,
        person: PersonRef,
        on: Date,
    ) -> Result<(), ActorError> {
        let request =
            ApiRequest::post(person.path("activity")).json(&json!({"kind": "claim", "on": on}))?;
        self.call(name, request).await?;
        Ok(())
    }

    /// Records the person's consent to this office alone (the per-office consent model:
    /// occasion `office-own`, kept on the office's registration).
    pub async fn record_own_consent(
        &self,
        name: &str,
        person: PersonRef,
        certification_end: Option<Date>,
    ) -> Result<ConsentReceipt, ActorError> {
        let request = ApiRequest::put(person.path("consent"))
            .json(&json!({"occasion": "office-own", "certification_end": certification_end}))?;
        Ok(self.call(name, request).await?.json()?)
    }

    /// Ends the office's registration for the person (service ended).
    pub async fn end_registration(&self, name: &str, person: PersonRef) -> Result<(), ActorError> {
        self.call(name, ApiRequest::delete(person.path("registration")))
            .await?;
        Ok(())
    }

    // ------------------------------------------------------------ care-plan exchange

    /// Uploads care-plan files (one send unit, or several) in order. A file is sent once;
    /// sending the same name with the same bytes again is safe (the platform answers with
    /// the original receipt), so a caller may call this again after a failure.
    pub async fn send_files(
        &self,
        name: &str,
        files: &[OutgoingFile],
    ) -> Result<Vec<ExchangeReceipt>, ActorError> {
        let mut receipts = Vec::with_capacity(files.len());
        for file in files {
            let request = ApiRequest::put(format!("/v1/careplan/files/{}", file.name))
                .bytes(CSV_MS932, file.bytes.clone());
            receipts.push(self.call(name, request).await?.json()?);
        }
        Ok(receipts)
    }

    /// The office's unacknowledged exchange files, in the order to import them (ファイル連番,
    /// then id).
    pub async fn exchange_inbox(&self, name: &str) -> Result<Vec<ExchangeInboxEntry>, ActorError> {
        let mut all: Vec<ExchangeInboxEntry> = Vec::new();
        loop {
            let after = all.last().map_or(0, |e| e.id);
            let page: Vec<ExchangeInboxEntry> = self
                .call(
                    name,
                    ApiRequest::get(format!("/v1/careplan/inbox?after={after}&limit=100")),
                )
                .await?
                .json()?;
            let full = page.len() == 100;
            all.extend(page);
            if !full {
                break;
            }
        }
        all.sort_by(|a, b| (&a.serial, a.id).cmp(&(&b.serial, b.id)));
        Ok(all)
    }

    /// Fetches one exchange file's exact bytes.
    pub async fn fetch_file(&self, name: &str, id: u64) -> Result<Vec<u8>, ActorError> {
        Ok(self
            .call(
                name,
                ApiRequest::get(format!("/v1/careplan/files/by-id/{id}")),
            )
            .await?
            .body
            .to_vec())
    }

    /// Acknowledges an exchange file (it leaves the inbox).
    pub async fn ack_file(&self, name: &str, id: u64) -> Result<(), ActorError> {
        self.call(
            name,
            ApiRequest::post(format!("/v1/careplan/inbox/{id}/ack")),
        )
        .await?;
        Ok(())
    }

    /// Fetches every file in the inbox, checks it is strict MS932 under a standard name,
    /// parses it and acknowledges it. A file that does not decode or whose name does not
    /// parse is not acknowledged (it stays in the inbox) and fails the call.
    pub async fn receive_files(&self, name: &str) -> Result<Vec<ReceivedFile>, ActorError> {
        let mut out = Vec::new();
        for entry in self.exchange_inbox(name).await? {
            let bytes = self.fetch_file(name, entry.id).await?;
            decode_ms932(&bytes)
                .map_err(|e| ActorError::Unexpected(format!("{}: {e}", entry.name)))?;
            let file_name = FileName::parse(&entry.name)
                .map_err(|e| ActorError::Unexpected(format!("{}: {e}", entry.name)))?;
            let parsed = parse_file(&entry.name, &bytes);
            self.ack_file(name, entry.id).await?;
            out.push(ReceivedFile {
                id: entry.id,
                name: file_name,
                sender: entry.sender,
                bytes,
                parsed,
            });
        }
        Ok(out)
    }
}
