//! The platform's operations, synchronous and transport-free: each takes the caller (the
//! identity from its client certificate, plus a staff session for office users), checks it,
//! builds one [`Commit`], hands it to the store and, once durable, applies it to the world.
//! The HTTP layer (`api`) only extracts inputs, calls one operation and encodes the result.
//!
//! Writes hold the world's write lock across the commit, so ids are assigned in commit
//! order and the in-memory view never runs ahead of the store. Reads hold the read lock.

pub mod exchange;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::http::StatusCode;
use kiban_certs::{ClientIdentity, Clock, Organisation, Serial};
use kiban_core::decide::{
    Decision, DenyReason, Principal, Request, decide, may_register, standing,
};
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::rules::{Access, Rules};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{Consent, CredentialId, Holder, PersonId, Registration};
use kiban_core::vocab::{InfoClass, Role};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use base64::Engine;

use crate::error::ApiError;
use crate::faults::{Fault, Faults};
use crate::identity::{
    CardAssertion, JlisStatus, NONCE_SECONDS, Nonce, VerificationMethod, VerifiedCard,
    check_assertion,
};
use crate::model::{
    AccessLogEntry, ActivityInput, ActivityKind, ClassRecords, ConsentInput, ConsentReceipt,
    FallbackRegistration, IdentityResult, InboxMessage, IngestBatch, IngestItem, IngestResult,
    OfficeInput, PersonKey, RecordUpload, Session, StaffInput, StoredDocument, SubmissionInput,
    SubmissionKind, SubmissionReceipt,
};
use crate::store::{
    AuditEvent, Change, Commit, ConsentAction, ConsentOccasion, ConsentReceiptRow, IdempotencyRow,
    InboxRow, MunicipalityRow, OfficeRow, PersonRow, RecordRow, StaffRow, Store, audit_kind,
};
use crate::world::World;

mod portal;

pub use portal::{
    PortalSession, PortalSignIn, RepresentativeEntry, RepresentativeInput, RepresentativeKind,
};

/// Largest ingest batch accepted.
pub const MAX_BATCH_ITEMS: usize = 10_000;

/// Settings of a platform instance.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The access matrix and policies decisions are made under.
    pub rules: Rules,
    /// Whether the operator may set the platform's clock (`--sim-clock`).
    pub sim_clock: bool,
    /// How long a staff session lasts, in seconds.
    pub session_seconds: i64,
    /// Cost of the password KDF.
    pub kdf: KdfCost,
    /// The virtual J-LIS CA certificate (DER) that card certificates must chain to; without
    /// it identity verification is refused.
    pub jlis_ca: Option<Vec<u8>>,
    /// Deliberately broken behaviours (always empty unless built with the `faults` feature).
    pub faults: Faults,
}

impl PlatformConfig {
    /// The published rules, no settable clock, 8-hour sessions, the recommended KDF cost.
    pub fn standard() -> PlatformConfig {
        PlatformConfig {
            rules: Rules::published(),
            sim_clock: false,
            session_seconds: 8 * 3600,
            kdf: KdfCost::Recommended,
            jlis_ca: None,
            faults: Faults::NONE,
        }
    }
}

/// Argon2id cost of staff password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfCost {
    /// OWASP's recommendation (m = 19 MiB, t = 2, p = 1).
    Recommended,
    /// Minimal cost, for tests only: still Argon2id, fast in debug builds.
    TestOnly,
}

impl KdfCost {
    fn argon2(self) -> Argon2<'static> {
        let params = match self {
            KdfCost::Recommended => Params::new(19 * 1024, 2, 1, None),
            KdfCost::TestOnly => Params::new(8, 1, 1, None),
        };
        // Both parameter sets are within Argon2's documented bounds.
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            params.expect("valid argon2 parameters"),
        )
    }
}

/// Answers "is this certificate serial revoked now?" on every request.
pub trait RevocationCheck: Send + Sync + std::fmt::Debug {
    /// Whether `serial` is revoked.
    fn is_revoked(&self, serial: &Serial) -> bool;
}

impl RevocationCheck for kiban_certs::tls::ClientVerifier {
    fn is_revoked(&self, serial: &Serial) -> bool {
        kiban_certs::tls::ClientVerifier::is_revoked(self, serial)
    }
}

/// A revocation list held in memory (tests, and platforms without a CRL).
#[derive(Debug, Default)]
pub struct RevokedSerials(Mutex<std::collections::HashSet<Serial>>);

impl RevokedSerials {
    /// Revokes `serial`.
    pub fn revoke(&self, serial: Serial) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(serial);
    }
}

impl RevocationCheck for RevokedSerials {
    fn is_revoked(&self, serial: &Serial) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(serial)
    }
}

/// A signed-in staff member of an office, bound to the terminal that signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The office.
    pub office: Organisation,
    /// The terminal (from the certificate) the session was opened on.
    pub terminal: String,
    /// The staff member's login id.
    pub staff_id: String,
    /// Whether the staff member is an administrator user.
    pub admin: bool,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Who is calling: the certificate identity and, for office users, the staff session.
#[derive(Debug, Clone)]
pub struct Caller {
    /// From the client certificate.
    pub identity: ClientIdentity,
    /// The staff session named by the bearer token, if any (office users).
    pub staff: Option<StaffSession>,
    /// The card holder signed in through the マイナポータル relay, if any (role person).
    pub holder: Option<PortalSession>,
}

impl Caller {
    fn role(&self) -> Role {
        self.identity.principal.role()
    }

    fn org(&self) -> Organisation {
        *self.identity.principal.organisation()
    }

    /// Who recorded a consent change, as its receipt names it: the organisation number, or
    /// `portal:<link>` for a card holder through the マイナポータル relay.
    fn recorder(&self) -> String {
        match &self.holder {
            Some(h) if self.role() == Role::Person => format!("portal:{}", h.link),
            _ => self.org().to_string(),
        }
    }

    /// The audit member naming who acted: organisation, terminal and staff.
    fn actor(&self) -> serde_json::Value {
        json!({
            "role": self.role().as_str(),
            "org": self.org().to_string(),
            "terminal": self.identity.principal.terminal().as_str(),
            "serial": self.identity.serial.to_string(),
            "staff": self.staff.as_ref().map(|s| s.staff_id.clone()),
            "holder": self.holder.as_ref().map(|h| h.link.clone()),
        })
    }
}

/// The reference platform.
#[derive(Debug)]
pub struct Platform {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    revocation: Arc<dyn RevocationCheck>,
    config: PlatformConfig,
    world: RwLock<World>,
    sessions: Mutex<HashMap<String, StaffSession>>,
    portal_sessions: Mutex<HashMap<String, PortalSession>>,
    nonces: Mutex<HashMap<String, (Organisation, String, Timestamp)>>,
    random: SystemRandom,
}

impl Platform {
    /// A platform over `store`, with its world rebuilt from it.
    pub fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        revocation: Arc<dyn RevocationCheck>,
        config: PlatformConfig,
    ) -> Result<Platform, crate::store::StoreError> {
        let mut config = config;
        if config.faults.has(Fault::MedicalReadsHomeModification) {
            config.rules.matrix.set(
                Role::MedicalInstitution,
                InfoClass::HomeModification,
                Access::Read,
            );
        }
        let snapshot = store.load()?;
        let world = World::from_snapshot(config.rules.clone(), snapshot)
            .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
        Ok(Platform {
            store,
            clock,
            revocation,
            config,
            world: RwLock::new(world),
            sessions: Mutex::new(HashMap::new()),
            portal_sessions: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashMap::new()),
            random: SystemRandom::new(),
        })
    }

    /// The platform's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The settings.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn read_world(&self) -> RwLockReadGuard<'_, World> {
        self.world.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_world(&self) -> RwLockWriteGuard<'_, World> {
        self.world.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits, then applies the changes to the world (which the caller holds locked).
    fn commit(&self, world: &mut World, commit: Commit) -> Result<(), ApiError> {
        let changes = commit.changes.clone();
        self.store
            .commit(commit)
            .map_err(|e| ApiError::internal(&e))?;
        for change in &changes {
            // The changes were validated against this world before the commit.
            world.apply(change).map_err(|e| ApiError::internal(&e))?;
        }
        Ok(())
    }

    /// Commits row changes with one audit event of `kind`, then applies them.
    fn write(
        &self,
        world: &mut World,
        changes: Vec<Change>,
        kind: &str,
        entry: serde_json::Value,
    ) -> Result<(), ApiError> {
        self.commit(
            world,
            Commit {
                changes,
                audit: vec![self.audit(kind, entry)],
                idempotency: None,
            },
        )
    }

    /// Commits an audit event that changes no rows (decisions, logins, refusals) and returns
    /// once it is durable. Concurrent events share commits (the store's group commit); no
    /// caller goes on, and no read answers, before its own row has committed.
    fn audit_only(&self, kind: &str, entry: serde_json::Value) -> Result<(), ApiError> {
        self.store
            .append_audit(self.audit(kind, entry))
            .map_err(|e| ApiError::internal(&e))
    }

    /// The caller's principal and the person, once the core confirms the caller's standing
    /// towards the person (credential, rollout gates, relation).
    fn related(
        &self,
        world: &mut World,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        now: Timestamp,
    ) -> Result<(Principal, PersonId), ApiError> {
        let person = Self::person_id(world, insurer, insured)?;
        let principal = self.principal_towards(world, caller, person)?;
        standing(&world.view, principal, person, now).map_err(ApiError::denied)?;
        Ok((principal, person))
    }

    fn audit(&self, kind: &str, entry: serde_json::Value) -> AuditEvent {
        AuditEvent {
            at: self.now(),
            kind: kind.to_owned(),
            entry,
        }
    }

    // ---------------------------------------------------------------- request gate

    /// The per-request certificate check on an established connection: refused when the
    /// serial is revoked now or the certificate is outside its validity.
    pub fn admit(&self, identity: &ClientIdentity) -> Result<(), ApiError> {
        let now = self.now();
        if self.revoked(&identity.serial) {
            return Err(ApiError::denied(DenyReason::CertificateRevoked));
        }
        if now < identity.not_before {
            return Err(ApiError::denied(DenyReason::CertificateNotYetValid));
        }
        if identity.not_after < now {
            return Err(ApiError::denied(DenyReason::CertificateExpired));
        }
        Ok(())
    }

    /// The per-request revocation check (bent only by the `RevocationIgnoredOnKeepAlive`
    /// fault, which leaves revocation to the handshake).
    fn revoked(&self, serial: &Serial) -> bool {
        !self.config.faults.has(Fault::RevocationIgnoredOnKeepAlive)
            && self.revocation.is_revoked(serial)
    }

    /// The core's decision as this platform applies it: unchanged, unless a test build
    /// switched on a decision fault.
    fn applied(&self, decision: Decision) -> Decision {
        let faults = self.config.faults;
        if faults.is_empty() {
            return decision;
        }
        let bent = match decision {
            Decision::Deny(
                DenyReason::ConsentMissing
                | DenyReason::ConsentWithdrawn
                | DenyReason::ConsentExpired,
            ) => faults.has(Fault::ConsentNotChecked),
            Decision::Deny(DenyReason::NotRegistered) => faults.has(Fault::RegistrationNotChecked),
            Decision::Deny(DenyReason::RegistrationLapsed) => {
                faults.has(Fault::LapsedRegistrationHonoured)
            }
            Decision::Deny(DenyReason::OfficeMunicipalityNotLive) => {
                faults.has(Fault::CrossMunicipalityGateIgnored)
            }
            Decision::Deny(DenyReason::NotRepresentative) => {
                faults.has(Fault::RepresentationNotChecked)
            }
            _ => false,
        };
        if bent { Decision::Permit } else { decision }
    }

    fn require_role(caller: &Caller, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&caller.role()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "role-forbidden",
                format!("the {} role may not use this operation", caller.role()),
            ))
        }
    }

    /// Card assertions come from office terminals (with a signed-in staff member) and from
    /// the マイナポータル relay (role person), which signs card holders in.
    fn require_card_reader(caller: &Caller) -> Result<(), ApiError> {
        match caller.role() {
            Role::Person => Ok(()),
            role if role.is_office() => Self::require_staff(caller).map(|_| ()),
            _ => Err(ApiError::forbidden(
                "role-forbidden",
                "only offices and the マイナポータル relay present My Number cards",
            )),
        }
    }

    /// The staff session of an office caller, required for every office operation.
    fn require_staff(caller: &Caller) -> Result<&StaffSession, ApiError> {
        caller.staff.as_ref().ok_or_else(|| {
            ApiError::unauthenticated(
                "staff-session-required",
                "office users sign in first (POST /v1/session)",
            )
        })
    }

    /// Resolves a bearer token into the staff session it names, checked against the
    /// certificate it is presented with and the staff account's current state.
    pub fn session(
        &self,
        identity: &ClientIdentity,
        token: &str,
    ) -> Result<StaffSession, ApiError> {
        let bad = || {
            ApiError::unauthenticated(
                "invalid-session",
                "the session token is unknown or has ended",
            )
        };
        let session = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&token_key(token))
            .cloned();
        let session = session.ok_or_else(bad)?;
        let same_terminal = session.office == *identity.principal.organisation()
            && session.terminal == identity.principal.terminal().as_str();
        if !same_terminal || session.expires_at <= self.now() {
            return Err(bad());
        }
        let world = self.read_world();
        let active = world
            .staff
            .get(&(session.office, session.staff_id.clone()))
            .is_some_and(|s| s.disabled_at.is_none());
        if !active && !self.config.faults.has(Fault::DisabledStaffKeepsSession) {
            return Err(ApiError::unauthenticated(
                "staff-disabled",
                "the staff account has been disabled",
            ));
        }
        Ok(session)
    }

    // ---------------------------------------------------------------- operator

    /// Schedules a municipality's go-live (operator).
    pub fn set_municipality(
        &self,
        caller: &Caller,
        code: MunicipalityCode,
        live_from: Option<Date>,
    ) -> Result<(), ApiError> {
        Self::require_role(caller, &[Role::Operator])?;
        let row = MunicipalityRow {
            code,
            live_from: live_from.map(Date::midnight_jst),
        };
        let entry = json!({"action": "set-municipality", "by": caller.actor(), "municipality": code.as_str(),
            "live_from": live_from.map(|d| d.to_string())});
        let mut world = self.write_world();
        self.write(
            &mut world,
            vec![Change::Municipality(row)],
            audit_kind::WRITE,
            entry,
        )
    }

    /// Registers an office and its administrator user (operator).
    pub fn set_office(
        &self,
        caller: &Caller,
        number: &str,
        input: OfficeInput,
    ) -> Result<(), ApiError> {
        Self::require_role(caller, &[Role::Operator])?;
        if !input.role.is_office() {
            return Err(ApiError::bad_request(
                "not-an-office-role",
                format!("{} is not an office role", input.role),
            ));
        }
        let org = Organisation::parse_for(input.role, number)
            .map_err(|e| ApiError::bad_request("invalid-office-number", e.to_string()))?;
        validate_password(&input.admin_password)?;
        let mut world = self.write_world();
        if !world.municipalities.contains_key(&input.municipality) {
            return Err(ApiError::not_found(
                "unknown-municipality",
                format!("municipality {} is not on the platform", input.municipality),
            ));
        }
        if let Some((_, role, muni)) = world.offices.get(&org) {
            if (*role, *muni) != (input.role, input.municipality) {
                return Err(ApiError::conflict(
                    "office-exists",
                    format!("office {org} is already registered as {role} in {muni}"),
                ));
            }
        }
        let admin = StaffRow {
            office: org,
            staff_id: "admin".to_owned(),
            password_hash: self.hash_password(&input.admin_password)?,
            admin: true,
            disabled_at: None,
        };
        let row = OfficeRow {
            org,
            role: input.role,
            municipality: input.municipality,
        };
        let entry = json!({"action": "set-office", "by": caller.actor(), "office": org.to_string(), "role": input.role.as_str()});
        let commit = Commit {
            changes: vec![Change::Office(row), Change::Staff(admin)],
            audit: vec![self.audit(audit_kind::WRITE, entry)],
            idempotency: None,
        };
        self.commit(&mut world, commit)
    }

    // ---------------------------------------------------------------- staff

    /// Signs a staff member in under the office certificate.
    pub fn login(
        &self,
        caller: &Caller,
        staff_id: &str,
        password: &str,
    ) -> Result<Session, ApiError> {
        if !caller.role().is_office() {
            return Err(ApiError::forbidden(
                "role-forbidden",
                "only office users sign in; municipality systems and the operator authenticate by certificate",
            ));
        }
        let account = self
            .read_world()
            .staff
            .get(&(caller.org(), staff_id.to_owned()))
            .cloned();
        let verified = account.as_ref().is_some_and(|a| {
            a.disabled_at.is_none() && self.verify_password(&a.password_hash, password)
        });
        let outcome = if verified { "success" } else { "failure" };
        let entry = json!({"action": "login", "by": caller.actor(), "staff": validate_staff_id(staff_id).is_ok().then_some(staff_id), "outcome": outcome});
        self.audit_only(audit_kind::LOGIN, entry)?;
        let account = match account {
            Some(a) if verified => a,
            _ => {
                return Err(ApiError::unauthenticated(
                    "login-failed",
                    "unknown staff id, wrong password or disabled account",
                ));
            }
        };
        let token = self.new_token()?;
        let expires_at = self.now().plus_seconds(self.config.session_seconds);
        let session = StaffSession {
            office: caller.org(),
            terminal: caller.identity.principal.terminal().as_str().to_owned(),
            staff_id: account.staff_id,
            admin: account.admin,
            expires_at,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.now();
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(token_key(&token), session);
        Ok(Session {
            token,
            expires_at: expires_at.to_string(),
        })
    }

    /// Ends the session named by `token`.
    pub fn logout(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&token_key(token));
    }

    /// Adds a staff account (office administrator).
    pub fn create_staff(&self, caller: &Caller, input: StaffInput) -> Result<(), ApiError> {
        let admin = Self::require_staff(caller)?;
        if !admin.admin {
            return Err(ApiError::forbidden(
                "admin-required",
                "only the office's administrator user manages staff",
            ));
        }
        validate_staff_id(&input.staff_id)?;
        validate_password(&input.password)?;
        let mut world = self.write_world();
        if world
            .staff
            .contains_key(&(caller.org(), input.staff_id.clone()))
        {
            return Err(ApiError::conflict(
                "staff-exists",
                format!(
                    "staff id {:?} already exists in this office",
                    input.staff_id
                ),
            ));
        }
        let row = StaffRow {
            office: caller.org(),
            staff_id: input.staff_id.clone(),
            password_hash: self.hash_password(&input.password)?,
            admin: input.admin,
            disabled_at: None,
        };
        let entry = json!({"action": "create-staff", "by": caller.actor(), "staff": input.staff_id, "admin": input.admin});
        self.write(
            &mut world,
            vec![Change::Staff(row)],
            audit_kind::STAFF,
            entry,
        )
    }

    /// Disables a staff account at once: its sessions end, colleagues are unaffected.
    pub fn disable_staff(&self, caller: &Caller, staff_id: &str) -> Result<(), ApiError> {
        let admin = Self::require_staff(caller)?;
        if !admin.admin {
            return Err(ApiError::forbidden(
                "admin-required",
                "only the office's administrator user manages staff",
            ));
        }
        let mut world = self.write_world();
        let mut row = world
            .staff
            .get(&(caller.org(), staff_id.to_owned()))
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(
                    "unknown-staff",
                    format!("no staff id {staff_id:?} in this office"),
                )
            })?;
        if row.disabled_at.is_none() {
            row.disabled_at = Some(self.now());
            let entry = json!({"action": "disable-staff", "by": caller.actor(), "staff": staff_id});
            self.write(
                &mut world,
                vec![Change::Staff(row)],
                audit_kind::STAFF,
                entry,
            )?;
        }
        // Open sessions stay in the table so their next request is told `staff-disabled`
        // (checked on every request in `session`); they are pruned when they expire.
        Ok(())
    }

    fn hash_password(&self, password: &str) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        self.random
            .fill(&mut salt)
            .map_err(|_| ApiError::internal(&"no randomness for a salt"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(&e))?;
        let hash = self
            .config
            .kdf
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(hash.to_string())
    }

    fn verify_password(&self, stored: &str, password: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    }

    fn new_token(&self) -> Result<String, ApiError> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| ApiError::internal(&"no randomness for a token"))?;
        Ok(hex::encode(bytes))
    }

    // ---------------------------------------------------------------- municipality

    /// Runs a write under an `Idempotency-Key`: a retry with the same key and body replays
    /// the first response; the same key with another body is a conflict. The first
    /// response is stored in the same commit as the write, so a replay never repeats it.
    fn idempotent(
        &self,
        scope: String,
        key: &str,
        body: &[u8],
        build: impl FnOnce(&World) -> Result<(Commit, StatusCode, String), ApiError>,
    ) -> Result<(StatusCode, String), ApiError> {
        validate_idempotency_key(key)?;
        let request_hash = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
        let mut world = self.write_world();
        if let Some(previous) = self
            .store
            .idempotency(&scope, key)
            .map_err(|e| ApiError::internal(&e))?
        {
            if previous.request_hash != request_hash {
                return Err(ApiError::conflict(
                    "idempotency-key-reused",
                    "this Idempotency-Key was used with a different body",
                ));
            }
            let status = StatusCode::from_u16(previous.status).unwrap_or(StatusCode::OK);
            return Ok((status, previous.response));
        }
        let (mut commit, status, response) = build(&world)?;
        commit.idempotency = Some(IdempotencyRow {
            scope,
            key: key.to_owned(),
            request_hash,
            status: status.as_u16(),
            response: response.clone(),
        });
        self.commit(&mut world, commit)?;
        Ok((status, response))
    }

    /// Applies an ingest batch from a municipality, all or nothing, idempotently.
    pub fn ingest(
        &self,
        caller: &Caller,
        key: &str,
        body: &[u8],
        batch: IngestBatch,
    ) -> Result<(StatusCode, String), ApiError> {
        Self::require_role(caller, &[Role::Municipality])?;
        let Organisation::Municipality(code) = caller.org() else {
            return Err(ApiError::forbidden(
                "role-forbidden",
                "ingestion needs a municipality certificate",
            ));
        };
        if batch.items.len() > MAX_BATCH_ITEMS {
            return Err(ApiError::bad_request(
                "batch-too-large",
                format!(
                    "{} items; at most {MAX_BATCH_ITEMS} per batch",
                    batch.items.len()
                ),
            ));
        }
        self.idempotent(format!("ingest:{code}"), key, body, |world| {
            if !world.municipalities.contains_key(&code) {
                return Err(ApiError::forbidden("unknown-principal", format!("municipality {code} is not on the platform")));
            }
            let insurer = InsurerNumber::for_municipality(code);
            let now = self.now();
            let source = code.to_string();
            let mut changes = Vec::with_capacity(batch.items.len() * 2);
            let mut new_persons: HashMap<InsuredNumber, u32> = HashMap::new();
            let mut next_id = u32::try_from(world.view.counts().persons).map_err(|e| ApiError::internal(&e))?;
            for (idx, item) in batch.items.into_iter().enumerate() {
                let (insured, class, body) = match item {
                    IngestItem::InsuredPerson { insured, card_link, insurance_card } => {
                        if !self.config.faults.has(Fault::MyNumberShapedCardLinkAccepted) {
                            validate_card_link(card_link.as_deref(), idx)?;
                        }
                        let id = match world.persons.get(&(insurer, insured)) {
                            Some(id) => id.0,
                            None => *new_persons.entry(insured).or_insert_with(|| {
                                next_id += 1;
                                next_id - 1
                            }),
                        };
                        changes.push(Change::Person(PersonRow { id, insurer, insured, card_link }));
                        (insured, InfoClass::InsuranceCard, to_json(&insurance_card))
                    }
                    IngestItem::CertificationApplication { insured, document } => {
                        (insured, InfoClass::CertificationApplication, to_json(&document))
                    }
                    IngestItem::CertificationSurvey { insured, document } => {
                        if document.basic_items.len() > 74 {
                            return Err(ApiError::bad_request("invalid-item", format!("item {idx}: a survey has at most 74 basic items")));
                        }
                        (insured, InfoClass::CertificationSurvey, to_json(&document))
                    }
                    IngestItem::HomeModification { insured, document } => (insured, InfoClass::HomeModification, to_json(&document)),
                    IngestItem::WelfareEquipment { insured, document } => (insured, InfoClass::WelfareEquipment, to_json(&document)),
                };
                let person = match world.persons.get(&(insurer, insured)) {
                    Some(id) => id.0,
                    None => *new_persons.get(&insured).ok_or_else(|| {
                        ApiError::bad_request("unknown-insured-person", format!("item {idx}: insured person {insured} has no insured-person item yet"))
                    })?,
                };
                changes.push(Change::Record(RecordRow { person, class, recorded_at: now, source: source.clone(), body }));
            }
            let applied = changes.iter().filter(|c| matches!(c, Change::Record(_))).count();
            let result = IngestResult { applied, persons_created: new_persons.len() };
            let response = serde_json::to_string(&result).map_err(|e| ApiError::internal(&e))?;
            let entry = json!({"action": "ingest", "by": caller.actor(), "items": result.applied,
                "persons_created": result.persons_created, "idempotency_key_sha256": key_digest(key)});
            let commit = Commit { changes, audit: vec![self.audit(audit_kind::WRITE, entry)], idempotency: None };
            Ok((commit, StatusCode::CREATED, response))
        })
    }

    // ---------------------------------------------------------------- identity

    /// Issues a single-use nonce to the calling office terminal for a card assertion.
    pub fn issue_nonce(&self, caller: &Caller) -> Result<Nonce, ApiError> {
        Self::require_card_reader(caller)?;
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| ApiError::internal(&"no randomness for a nonce"))?;
        let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
        let now = self.now();
        let expires_at = now.plus_seconds(NONCE_SECONDS);
        let terminal = caller.identity.principal.terminal().as_str().to_owned();
        let mut nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
        nonces.retain(|_, (_, _, until)| *until > now);
        nonces.insert(nonce.clone(), (caller.org(), terminal, expires_at));
        Ok(Nonce {
            nonce,
            expires_at: expires_at.to_string(),
        })
    }

    /// Consumes the assertion's nonce (single use, same terminal, not expired) and checks
    /// the card certificate and the signature.
    pub fn check_card(
        &self,
        caller: &Caller,
        assertion: &CardAssertion,
    ) -> Result<VerifiedCard, ApiError> {
        Self::require_card_reader(caller)?;
        let jlis_ca = self.config.jlis_ca.as_deref().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "identity-verification-unavailable",
                "the platform has no J-LIS CA configured",
            )
        })?;
        let now = self.now();
        let issued = self
            .nonces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&assertion.nonce);
        if self.config.faults.has(Fault::NonceReusable)
            && let Some(issued) = &issued
        {
            self.nonces
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(assertion.nonce.clone(), issued.clone());
        }
        let terminal = caller.identity.principal.terminal().as_str();
        match issued {
            Some((org, t, until)) if org == caller.org() && t == terminal && until > now => {}
            _ => {
                return Err(ApiError::forbidden(
                    "invalid-nonce",
                    "the nonce is unknown, used, expired or was issued to another terminal",
                ));
            }
        }
        let nonce = base64::engine::general_purpose::STANDARD
            .decode(&assertion.nonce)
            .map_err(|_| ApiError::bad_request("invalid-assertion", "nonce is not base64"))?;
        let verified = check_assertion(jlis_ca, assertion, &nonce, now);
        if let Err(e) = &verified {
            let entry = json!({"action": "identity-verification", "by": caller.actor(), "method": assertion.method, "outcome": e.code});
            self.audit_only(audit_kind::WRITE, entry)?;
        }
        verified
    }

    /// Registers the calling office as responsible for the card holder, once J-LIS has
    /// confirmed the card certificate is valid now and named its link.
    pub fn register_verified(
        &self,
        caller: &Caller,
        method: VerificationMethod,
        jlis: &JlisStatus,
    ) -> Result<IdentityResult, ApiError> {
        let now = self.now();
        let mut world = self.write_world();
        let outcome = jlis.valid_link().and_then(|link| {
            world.card_links.get(link).copied().ok_or_else(|| {
                ApiError::not_found(
                    "card-not-linked",
                    "the municipality has not linked this card to an insured person",
                )
            })
        });
        let person = match outcome {
            Ok(person) => person,
            Err(e) => {
                let entry = json!({"action": "identity-verification", "by": caller.actor(), "method": method, "outcome": e.code});
                self.audit_only(audit_kind::WRITE, entry)?;
                return Err(e);
            }
        };
        let principal = self.principal(&mut world, caller)?;
        may_register(&world.view, principal, person, now).map_err(ApiError::denied)?;
        let Principal::Office { office, .. } = principal else {
            return Err(ApiError::internal(&"office principal expected"));
        };
        // A verification renews the registration but keeps the office's own consent record.
        let consent = world
            .view
            .registration_of(person, office)
            .map_or(Consent::NONE, |r| r.consent);
        let registration = Registration {
            consent,
            ..Registration::at(now)
        };
        let (insurer, insured) = world
            .persons
            .iter()
            .find(|(_, id)| **id == person)
            .map(|(key, _)| *key)
            .ok_or_else(|| ApiError::internal(&"person without numbers"))?;
        let entry = json!({"action": "identity-verification", "by": caller.actor(), "method": method, "outcome": "registered", "person": person.0});
        let change = Change::Registration {
            person: person.0,
            office: caller.org(),
            registration,
        };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)?;
        Ok(IdentityResult {
            person: PersonKey { insurer, insured },
            registered_at: now.to_string(),
        })
    }

    // ---------------------------------------------------------------- submissions

    /// Delivers a submission to the person's municipality's inbox, exactly once per
    /// `Idempotency-Key`. A physician opinion is also stored as the person's
    /// physician-opinion record.
    pub fn submit(
        &self,
        caller: &Caller,
        key: &str,
        body: &[u8],
        input: SubmissionInput,
    ) -> Result<(StatusCode, String), ApiError> {
        let allowed = match input.kind {
            SubmissionKind::CarePlanRequest => caller.role() == Role::CareManagement,
            SubmissionKind::PhysicianOpinion => {
                self.config
                    .rules
                    .matrix
                    .access(caller.role(), InfoClass::PhysicianOpinion)
                    == Access::Creator
                    && caller.role().is_office()
            }
        };
        if !allowed {
            return Err(ApiError::forbidden(
                "role-forbidden",
                format!(
                    "the {} role does not submit {}",
                    caller.role(),
                    input.kind.as_str()
                ),
            ));
        }
        Self::require_staff(caller)?;
        let now = self.now();
        let sender = caller.org().to_string();
        // The principal is resolved (and the certificate added to the view) before the
        // idempotent section, which only reads the world.
        let principal = {
            let mut world = self.write_world();
            self.principal(&mut world, caller)?
        };
        let scope = if self.config.faults.has(Fault::SubmissionDeliveredTwice) {
            // Every call gets a fresh scope, so a retry is never recognised.
            format!("submit:{sender}:{}", self.new_token()?)
        } else {
            format!("submit:{sender}")
        };
        self.idempotent(scope, key, body, |world| {
            let person = Self::person_id(world, input.insurer, input.insured)?;
            let municipality = world.view.municipality(world.view.person(person).map_err(|e| ApiError::internal(&e))?.insurer).map_err(|e| ApiError::internal(&e))?;
            let code = municipality.code;
            if municipality.live_from > now {
                return Err(ApiError::denied(DenyReason::InsurerNotLive));
            }
            if input.kind == SubmissionKind::CarePlanRequest {
                standing(&world.view, principal, person, now).map_err(ApiError::denied)?;
            }
            let id = world.last_inbox_id + 1;
            let content = json!({"insurer": input.insurer, "insured": input.insured, "content": input.content});
            let mut changes = vec![Change::Inbox(InboxRow {
                id,
                municipality: code,
                kind: input.kind.as_str().to_owned(),
                route: input.route.as_str().to_owned(),
                sender: sender.clone(),
                person: person.0,
                submitted_at: now,
                acked_at: None,
                body: content,
            })];
            if input.kind == SubmissionKind::PhysicianOpinion {
                let body = json!({"route": input.route.as_str(), "content": input.content});
                changes.push(Change::Record(RecordRow { person: person.0, class: InfoClass::PhysicianOpinion, recorded_at: now, source: sender.clone(), body }));
            }
            let receipt = SubmissionReceipt { id, municipality: code.to_string(), submitted_at: now.to_string() };
            let response = serde_json::to_string(&receipt).map_err(|e| ApiError::internal(&e))?;
            let entry = json!({"action": "submit", "by": caller.actor(), "person": person.0, "kind": input.kind.as_str(),
                "route": input.route.as_str(), "message": id});
            Ok((Commit { changes, audit: vec![self.audit(audit_kind::WRITE, entry)], idempotency: None }, StatusCode::CREATED, response))
        })
    }

    /// Unacknowledged messages of the calling municipality after `after`, oldest first.
    /// Fetching does not consume: a message is delivered until acknowledged.
    pub fn inbox(
        &self,
        caller: &Caller,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxMessage>, ApiError> {
        let code = Self::municipality_of(caller)?;
        let rows = self
            .store
            .inbox(code, after, limit.clamp(1, 1000))
            .map_err(|e| ApiError::internal(&e))?;
        Ok(rows
            .into_iter()
            .map(|r| InboxMessage {
                id: r.id,
                kind: r.kind,
                route: r.route,
                sender: r.sender,
                submitted_at: r.submitted_at.to_string(),
                body: r.body,
            })
            .collect())
    }

    /// Acknowledges a message of the calling municipality (acknowledging twice is fine).
    pub fn ack(&self, caller: &Caller, id: u64) -> Result<(), ApiError> {
        let code = Self::municipality_of(caller)?;
        let mut world = self.write_world();
        let row = self
            .store
            .inbox_message(id)
            .map_err(|e| ApiError::internal(&e))?;
        let row = row.filter(|r| r.municipality == code).ok_or_else(|| {
            ApiError::not_found("unknown-message", format!("no message {id} in this inbox"))
        })?;
        if row.acked_at.is_some() {
            return Ok(());
        }
        let entry =
            json!({"action": "ack", "by": caller.actor(), "person": row.person, "message": id});
        self.write(
            &mut world,
            vec![Change::InboxAck { id, at: self.now() }],
            audit_kind::WRITE,
            entry,
        )
    }

    fn municipality_of(caller: &Caller) -> Result<MunicipalityCode, ApiError> {
        match caller.org() {
            Organisation::Municipality(code) => Ok(code),
            _ => Err(ApiError::forbidden(
                "role-forbidden",
                "only municipalities have inboxes",
            )),
        }
    }

    // ---------------------------------------------------------------- persons

    fn person_id(
        world: &World,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<PersonId, ApiError> {
        world
            .persons
            .get(&(insurer, insured))
            .copied()
            .ok_or_else(|| ApiError::denied(DenyReason::UnknownSubject))
    }

    /// Who the caller's organisation is in the view (read-only).
    fn holder(world: &World, caller: &Caller) -> Result<Holder, ApiError> {
        Ok(match caller.org() {
            Organisation::Municipality(code) => Holder::Municipality(
                *world
                    .municipalities
                    .get(&code)
                    .ok_or_else(|| ApiError::denied(DenyReason::UnknownPrincipal))?,
            ),
            Organisation::CareOffice(_) | Organisation::MedicalInstitution(_) => Holder::Office(
                world
                    .offices
                    .get(&caller.org())
                    .ok_or_else(|| ApiError::denied(DenyReason::UnknownPrincipal))?
                    .0,
            ),
            Organisation::None => Holder::Operator,
        })
    }

    /// The core principal for a caller, adding its certificate to the view on first sight
    /// and marking it revoked when the revocation check says so.
    fn principal(&self, world: &mut World, caller: &Caller) -> Result<Principal, ApiError> {
        let id = &caller.identity;
        let holder = Self::holder(world, caller)?;
        let credential = world
            .credential(holder, &id.serial, id.not_before, id.not_after)
            .map_err(|e| ApiError::internal(&e))?;
        if self.revoked(&id.serial) {
            world
                .view
                .revoke_credential(credential, self.now())
                .map_err(|e| ApiError::internal(&e))?;
        }
        Ok(Self::principal_of(holder, credential))
    }

    fn principal_of(holder: Holder, credential: CredentialId) -> Principal {
        match holder {
            Holder::Office(office) => Principal::Office { office, credential },
            Holder::Municipality(municipality) => Principal::Municipality {
                municipality,
                credential,
            },
            Holder::Operator => Principal::Operator { credential },
        }
    }

    /// The principal of a caller whose certificate the view already knows and whose
    /// revocation (if any) it already holds — the common case, which needs only the read
    /// lock. `None`: the write path must add or revoke the credential first.
    fn known_principal(
        &self,
        world: &World,
        caller: &Caller,
    ) -> Option<Result<Principal, ApiError>> {
        if caller.role() == Role::Person {
            return None;
        }
        let credential = *world.credentials.get(&caller.identity.serial)?;
        if self.revoked(&caller.identity.serial) {
            return None;
        }
        Some(Self::holder(world, caller).map(|holder| Self::principal_of(holder, credential)))
    }

    /// Reads one class of a person's information: decided by the core, always audited.
    pub fn read(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        class: InfoClass,
    ) -> Result<ClassRecords, ApiError> {
        if caller.role().is_office() {
            Self::require_staff(caller)?;
        }
        let now = self.now();
        let decide_as = |world: &World, principal: Principal| {
            let person = world.persons.get(&(insurer, insured)).copied();
            let request = Request {
                principal,
                subject: person.unwrap_or(PersonId(u32::MAX)),
                class,
            };
            (self.applied(decide(&world.view, &request, now)), person)
        };
        // Reads share the world: only a first-seen or newly revoked certificate (or a
        // portal holder) takes the write lock.
        let fast = {
            let world = self.read_world();
            match self.known_principal(&world, caller) {
                Some(principal) => Some(decide_as(&world, principal?)),
                None => None,
            }
        };
        let (decision, person) = match fast {
            Some(decided) => decided,
            None => {
                let mut world = self.write_world();
                let subject = world
                    .persons
                    .get(&(insurer, insured))
                    .copied()
                    .unwrap_or(PersonId(u32::MAX));
                let principal = self.principal_towards(&mut world, caller, subject)?;
                decide_as(&world, principal)
            }
        };
        let entry = json!({"action": "read", "by": caller.actor(), "person": person.map(|p| p.0), "class": class.as_str(), "decision": decision.code()});
        if decision.is_permit() || !self.config.faults.has(Fault::DenialsNotAudited) {
            self.audit_only(audit_kind::DECISION, entry)?;
        }
        match (decision, person) {
            (Decision::Permit, Some(person)) => {
                let rows = self
                    .store
                    .records(person.0, class)
                    .map_err(|e| ApiError::internal(&e))?;
                Ok(ClassRecords {
                    person: PersonKey { insurer, insured },
                    class,
                    records: rows.into_iter().map(document).collect(),
                })
            }
            (Decision::Deny(reason), _) => Err(ApiError::denied(reason)),
            (Decision::Permit, None) => Err(ApiError::denied(DenyReason::UnknownSubject)),
        }
    }

    /// Records comprehensive consent (municipality, or a registered care-management office
    /// or facility on its behalf), or an office's own consent under the per-office model.
    pub fn record_consent(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        input: ConsentInput,
    ) -> Result<ConsentReceipt, ApiError> {
        let allowed: &[ConsentOccasion] = match caller.role() {
            Role::Municipality => &[ConsentOccasion::Application, ConsentOccasion::Renewal],
            Role::CareManagement | Role::Facility => {
                &[ConsentOccasion::OnBehalf, ConsentOccasion::OfficeOwn]
            }
            Role::CareService | Role::MedicalInstitution => &[ConsentOccasion::OfficeOwn],
            _ => &[],
        };
        if !allowed.contains(&input.occasion) {
            return Err(ApiError::forbidden(
                "consent-occasion-forbidden",
                format!(
                    "the {} role may not record consent on this occasion",
                    caller.role()
                ),
            ));
        }
        if caller.role().is_office() {
            Self::require_staff(caller)?;
        }
        let now = self.now();
        let mut world = self.write_world();
        let (principal, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let consent =
            Consent::given(now).with_certification_end(period_end(input.certification_end));
        let change = if input.occasion == ConsentOccasion::OfficeOwn {
            let Principal::Office { office, .. } = principal else {
                return Err(ApiError::internal(&"office principal expected"));
            };
            let mut registration = *world
                .view
                .registration_of(person, office)
                .ok_or_else(|| ApiError::denied(DenyReason::NotRegistered))?;
            registration.consent = consent;
            Change::Registration {
                person: person.0,
                office: caller.org(),
                registration,
            }
        } else {
            Change::Consent {
                person: person.0,
                consent,
            }
        };
        let receipt = ConsentReceiptRow {
            person: person.0,
            at: now,
            action: ConsentAction::Given,
            occasion: Some(input.occasion),
            by: caller.org().to_string(),
        };
        let entry = json!({"action": "consent-given", "by": caller.actor(), "person": person.0, "occasion": input.occasion});
        let out = receipt_of(&receipt);
        self.write(
            &mut world,
            vec![change, Change::ConsentReceipt(receipt)],
            audit_kind::WRITE,
            entry,
        )?;
        Ok(out)
    }

    /// Withdraws the person's comprehensive consent: recorded by the insurer, or by the
    /// person (or their representative) through the マイナポータル relay.
    pub fn withdraw_consent(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<ConsentReceipt, ApiError> {
        Self::require_role(caller, &[Role::Municipality, Role::Person])?;
        let now = self.now();
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let current = world
            .view
            .person(person)
            .map_err(|e| ApiError::internal(&e))?
            .consent;
        if current.given_at > now || current.withdrawn_at <= now {
            return Err(ApiError::conflict(
                "no-consent-to-withdraw",
                "the person has no consent in force",
            ));
        }
        let receipt = ConsentReceiptRow {
            person: person.0,
            at: now,
            action: ConsentAction::Withdrawn,
            occasion: None,
            by: caller.recorder(),
        };
        let entry =
            json!({"action": "consent-withdrawn", "by": caller.actor(), "person": person.0});
        let out = receipt_of(&receipt);
        let changes = vec![
            Change::Consent {
                person: person.0,
                consent: current.withdrawn(now),
            },
            Change::ConsentReceipt(receipt),
        ];
        self.commit(
            &mut world,
            Commit {
                changes,
                audit: vec![self.audit(audit_kind::WRITE, entry)],
                idempotency: None,
            },
        )?;
        Ok(out)
    }

    /// Registers an office as responsible for a person verified by the municipality without
    /// a My Number card (the documented fallback; see ARCHITECTURE.md).
    pub fn register_by_municipality(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        office: &str,
        input: FallbackRegistration,
    ) -> Result<(), ApiError> {
        Self::require_role(caller, &[Role::Municipality])?;
        if !is_method_name(&input.verified_by) {
            return Err(ApiError::bad_request(
                "invalid-body",
                "verified_by is 1-32 of a-z 0-9 - naming how the person was verified (e.g. counter-photo-id)",
            ));
        }
        let now = self.now();
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let org = world
            .offices
            .keys()
            .find(|o| o.to_string() == office)
            .copied()
            .ok_or_else(|| {
                ApiError::not_found(
                    "unknown-office",
                    format!("office {office} is not on the platform"),
                )
            })?;
        let entry = json!({"action": "register-fallback", "by": caller.actor(), "person": person.0, "office": office, "verified_by": input.verified_by});
        let change = Change::Registration {
            person: person.0,
            office: org,
            registration: Registration::at(now),
        };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)
    }

    /// Ends the calling office's registration for a person.
    pub fn end_registration(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<(), ApiError> {
        self.update_registration(caller, insurer, insured, "end-registration", |r, now| {
            r.ended_at = r.ended_at.min(now)
        })
    }

    /// Reports a service record or claim of the calling office for a person.
    pub fn record_activity(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        input: ActivityInput,
    ) -> Result<(), ApiError> {
        let on = input.on.midnight_jst();
        if on > self.now() {
            return Err(ApiError::bad_request(
                "activity-in-future",
                "a service record or claim cannot be dated in the future",
            ));
        }
        self.update_registration(
            caller,
            insurer,
            insured,
            "record-activity",
            |r, _| match input.kind {
                ActivityKind::Service => r.last_service_at = r.last_service_at.max(on),
                ActivityKind::Claim => r.last_claim_at = r.last_claim_at.max(on),
            },
        )
    }

    fn update_registration(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        action: &str,
        update: impl FnOnce(&mut Registration, Timestamp),
    ) -> Result<(), ApiError> {
        if !caller.role().is_office() {
            return Err(ApiError::forbidden(
                "role-forbidden",
                "only offices hold registrations",
            ));
        }
        Self::require_staff(caller)?;
        let now = self.now();
        let mut world = self.write_world();
        let (principal, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let Principal::Office { office, .. } = principal else {
            return Err(ApiError::internal(&"office principal expected"));
        };
        let mut registration = *world
            .view
            .registration_of(person, office)
            .ok_or_else(|| ApiError::denied(DenyReason::NotRegistered))?;
        update(&mut registration, now);
        let entry = json!({"action": action, "by": caller.actor(), "person": person.0});
        let change = Change::Registration {
            person: person.0,
            office: caller.org(),
            registration,
        };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)
    }

    /// Stores a document uploaded by the office role that creates the class (care plans by
    /// care managers and facilities, LIFE feedback, physician opinions).
    pub fn upload(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        class: InfoClass,
        upload: RecordUpload,
    ) -> Result<(), ApiError> {
        if !caller.role().is_office() {
            return Err(ApiError::forbidden(
                "role-forbidden",
                "only offices upload documents here; municipalities use ingestion",
            ));
        }
        Self::require_staff(caller)?;
        let creates = self.config.rules.matrix.access(caller.role(), class) == Access::Creator
            || (class == InfoClass::LifeFeedback
                && matches!(caller.role(), Role::CareService | Role::Facility));
        if !creates {
            return Err(ApiError::forbidden(
                "not-creator",
                format!(
                    "the {} role does not create {class} documents",
                    caller.role()
                ),
            ));
        }
        match (class, upload.table) {
            (InfoClass::HomeCarePlan | InfoClass::FacilityCarePlan, Some(table))
                if table.class() == class => {}
            (InfoClass::HomeCarePlan | InfoClass::FacilityCarePlan, _) => {
                return Err(ApiError::bad_request(
                    "invalid-table",
                    format!("a {class} upload names one of its tables"),
                ));
            }
            (_, Some(_)) => {
                return Err(ApiError::bad_request(
                    "invalid-table",
                    "only care plans have tables",
                ));
            }
            (_, None) => {}
        }
        let now = self.now();
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let body = json!({"table": upload.table, "content": upload.content});
        let entry = json!({"action": "upload", "by": caller.actor(), "person": person.0, "class": class.as_str()});
        let row = RecordRow {
            person: person.0,
            class,
            recorded_at: now,
            source: caller.org().to_string(),
            body,
        };
        self.write(
            &mut world,
            vec![Change::Record(row)],
            audit_kind::WRITE,
            entry,
        )
    }

    /// Consent receipts of a person, for the insurer and the person (or representative).
    pub fn consent_receipts(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<Vec<ConsentReceipt>, ApiError> {
        let person = self.insurer_view_of(caller, insurer, insured)?;
        let rows = self
            .store
            .consent_receipts(person.0)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(rows.iter().map(receipt_of).collect())
    }

    /// The access log of a person (every decision and write about them): in full for the
    /// insurer; for the person or representative, who did what and when, without staff ids,
    /// terminals or certificate serials.
    pub fn access_log(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<Vec<AccessLogEntry>, ApiError> {
        let person = self.insurer_view_of(caller, insurer, insured)?;
        let rows = self
            .store
            .audit_for_person(person.0)
            .map_err(|e| ApiError::internal(&e))?;
        let portal = caller.role() == Role::Person;
        Ok(rows
            .into_iter()
            .map(|e| AccessLogEntry {
                at: e.at.to_string(),
                kind: e.kind,
                entry: e.entry,
            })
            .map(|e| if portal { portal::for_person(e) } else { e })
            .collect())
    }

    fn insurer_view_of(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<PersonId, ApiError> {
        Self::require_role(caller, &[Role::Municipality, Role::Person])?;
        let now = self.now();
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        Ok(person)
    }

    /// Sets the platform clock (operator, only with `--sim-clock`).
    pub fn set_clock(
        &self,
        caller: &Caller,
        to: Timestamp,
        clock: &kiban_certs::ManualClock,
    ) -> Result<(), ApiError> {
        Self::require_role(caller, &[Role::Operator])?;
        if !self.config.sim_clock {
            return Err(ApiError::forbidden(
                "sim-clock-disabled",
                "the platform runs on the system clock; start it with --sim-clock",
            ));
        }
        clock.set(to);
        Ok(())
    }

    /// Row counts, for `/healthz`.
    pub fn counts(&self) -> kiban_core::view::ViewCounts {
        self.read_world().view.counts()
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Plain data types with string keys: serialisation cannot fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn document(row: RecordRow) -> StoredDocument {
    StoredDocument {
        recorded_at: row.recorded_at.to_string(),
        source: row.source,
        document: row.body,
    }
}

fn receipt_of(row: &ConsentReceiptRow) -> ConsentReceipt {
    ConsentReceipt {
        at: row.at.to_string(),
        action: row.action,
        occasion: row.occasion,
        by: row.by.clone(),
    }
}

fn token_key(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

fn validate_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if (8..=128).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "weak-password",
            "a password has 8-128 characters",
        ))
    }
}

/// A short machine name such as `counter-photo-id`.
fn is_method_name(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A log-safe digest of a client-chosen key (the key itself may be anything).
fn key_digest(key: &str) -> String {
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref()[..8])
}

/// Staff ids are login names, never personal numbers: 12 digits (a My Number's shape) is
/// refused, so an id can always be written to the audit log.
fn validate_staff_id(id: &str) -> Result<(), ApiError> {
    let looks_like_my_number = id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
    let ok = !looks_like_my_number
        && (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid-staff-id",
            "a staff id is 1-32 of A-Z a-z 0-9 - _ .",
        ))
    }
}

fn validate_idempotency_key(key: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid-idempotency-key",
            "an Idempotency-Key is 1-128 visible ASCII characters",
        ))
    }
}

/// The instant a certification period ends, from its last day: the period covers that whole
/// day (JST), and the view's intervals are half-open, so it ends at the next midnight.
fn period_end(last_day: Option<Date>) -> Timestamp {
    last_day.map_or(Timestamp::MAX, |d| d.plus_days(1).midnight_jst())
}

fn validate_card_link(link: Option<&str>, idx: usize) -> Result<(), ApiError> {
    match link.map(check_card_link) {
        Some(Err((code, problem))) => Err(ApiError::bad_request(
            code,
            format!("item {idx}: card_link {problem}"),
        )),
        _ => Ok(()),
    }
}

/// A card link is opaque: 1-64 of `A-Z a-z 0-9 -`, and never shaped like a My Number.
/// On failure, the problem code and what is wrong (to follow "card_link").
pub(crate) fn check_card_link(link: &str) -> Result<(), (&'static str, &'static str)> {
    if link.is_empty()
        || link.len() > 64
        || !link.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(("invalid-item", "is 1-64 of A-Z a-z 0-9 -"));
    }
    if link.len() == 12 && link.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            "personal-number-refused",
            "looks like a My Number; the platform never stores one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_tied_to_the_certification_period_covers_its_last_day() {
        let last: Date = "2026-11-30".parse().unwrap();
        let end = period_end(Some(last));
        let last_evening = last.midnight_jst().plus_seconds(23 * 3600 + 59 * 60);
        assert!(
            last_evening < end,
            "the last day is still inside the period"
        );
        assert_eq!(end, "2026-12-01".parse::<Date>().unwrap().midnight_jst());
        assert_eq!(period_end(None), Timestamp::MAX);
    }
}
