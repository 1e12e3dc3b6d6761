//! The access decision: may this principal read this class of this person's information,
//! now? One function, [`decide`], serves the reference platform (per request) and the
//! national model (billions of times); both fill the same [`View`].
//!
//! The checks run in a fixed order and the first failing one names the denial, so every
//! decision has exactly one stable reason code:
//!
//! 1. the principal exists (`unknown-principal`), and its credential belongs to it
//!    (`credential-mismatch`), is not revoked (`certificate-revoked`), has started
//!    (`certificate-not-yet-valid`) and has not ended (`certificate-expired`);
//! 2. the matrix grants the role something for the class (`role-forbidden`);
//! 3. the subject exists (`unknown-subject`);
//! 4. the subject's insurer shares (`insurer-not-live`), and, for offices under the
//!    cross-municipality rule, so does the office's own municipality
//!    (`office-municipality-not-live`);
//! 5. the principal is related to the subject: the person is the subject
//!    (`not-own-record`), the agent currently represents the subject (`not-representative`),
//!    the municipality is the subject's insurer (`not-insurer`), the office holds a
//!    registration that has started (`not-registered`), is not ended (`registration-ended`)
//!    and has not lapsed under the lapse policy (`registration-lapsed`);
//! 6. where the matrix says read-with-consent, the consent record of the consent model has
//!    been given (`consent-missing`), is not withdrawn (`consent-withdrawn`) and has not
//!    expired under the expiry policy (`consent-expired`).
//!
//! Anything else is a permit. Intervals are half-open: a thing that starts at `t` counts at
//! `now == t`, and a thing that ends at `t` no longer counts at `now == t`.
//!
//! Precise readings (pinned by the oracle test, `sim/core/tests/oracle.rs`):
//! - `now` is a real instant. [`Timestamp::MIN`] and [`Timestamp::MAX`] are the view's
//!   sentinels ("none", "never/open") and are not meaningful values of `now`: at `now ==
//!   MAX` every "never" would already have happened. Callers pass finite times; the result
//!   for a sentinel `now` is unspecified but never a panic.
//! - A credential id with no row in the view is `credential-mismatch` (it is not the
//!   principal's), not `unknown-principal`.
//! - The operator has no relation check: it reads whatever the matrix grants it (nothing in
//!   the published matrix). Under the per-office consent model it, like every non-office
//!   role, uses the person's own consent record.
//! - The lapse exemption compares the stay's start with the lapse instant (the later of
//!   registration and last record, plus the months), and can only defer the lapse, never
//!   bring it forward; see `LapsePolicy::AfterInactivity`.
//! - Degenerate settings are honoured literally: zero months lapse or expire at the very
//!   instant of the registration, last record or consent; a certification end at or before
//!   the consent makes it expire at once under `WithCertificationPeriod`.

use std::fmt;

use crate::rules::{Access, ConsentExpiry, ConsentModel, LapsePolicy};
use crate::time::Timestamp;
use crate::view::{
    AgentId, Consent, CredentialId, Holder, MunicipalityId, OfficeId, Person, PersonHot, PersonId,
    Registration, StayKind, View, Window,
};
use crate::vocab::{InfoClass, Role};

/// Who is asking. Offices, municipalities and the operator present a credential (their
/// terminal's client certificate); persons and representatives act through マイナポータル.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// An office, with its role taken from the office row.
    Office {
        /// The office.
        office: OfficeId,
        /// The terminal certificate presented.
        credential: CredentialId,
    },
    /// A municipality system.
    Municipality {
        /// The municipality.
        municipality: MunicipalityId,
        /// The certificate presented.
        credential: CredentialId,
    },
    /// The operator.
    Operator {
        /// The certificate presented.
        credential: CredentialId,
    },
    /// A person reading their own record.
    Person {
        /// The person.
        person: PersonId,
    },
    /// A family member or guardian acting for a person.
    Representative {
        /// The agent.
        agent: AgentId,
    },
}

/// One read request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// Who asks.
    pub principal: Principal,
    /// Whose information.
    pub subject: PersonId,
    /// Which class.
    pub class: InfoClass,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The read may proceed.
    Permit,
    /// The read is refused for this reason.
    Deny(DenyReason),
}

impl Decision {
    /// `permit` or the denial's reason code.
    pub const fn code(self) -> &'static str {
        match self {
            Decision::Permit => "permit",
            Decision::Deny(reason) => reason.code(),
        }
    }

    /// Whether the read may proceed.
    pub const fn is_permit(self) -> bool {
        matches!(self, Decision::Permit)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a read is refused. The codes are stable: the platform's problem+json, scenario
/// expectations, conformance verdicts and reports all use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DenyReason {
    /// The principal's id is not in the view.
    UnknownPrincipal,
    /// The credential presented belongs to someone else.
    CredentialMismatch,
    /// The credential has been revoked.
    CertificateRevoked,
    /// The credential's validity has not started.
    CertificateNotYetValid,
    /// The credential's validity has ended.
    CertificateExpired,
    /// The access matrix gives the role nothing for this class.
    RoleForbidden,
    /// The subject's id is not in the view.
    UnknownSubject,
    /// The subject's insurer does not share on the platform yet.
    InsurerNotLive,
    /// The office's own municipality does not share yet (cross-municipality rule).
    OfficeMunicipalityNotLive,
    /// A person asked for someone else's record.
    NotOwnRecord,
    /// An agent asked for a person they do not currently represent.
    NotRepresentative,
    /// A municipality asked for a person insured elsewhere.
    NotInsurer,
    /// The office holds no registration for the person (or one that has not started).
    NotRegistered,
    /// The office's registration was ended.
    RegistrationEnded,
    /// The office's registration lapsed under the lapse policy.
    RegistrationLapsed,
    /// Consent is needed and none has been given.
    ConsentMissing,
    /// Consent is needed and was withdrawn.
    ConsentWithdrawn,
    /// Consent is needed and has expired under the expiry policy.
    ConsentExpired,
}

impl DenyReason {
    /// Every reason, in check order.
    pub const ALL: [DenyReason; 18] = [
        DenyReason::UnknownPrincipal,
        DenyReason::CredentialMismatch,
        DenyReason::CertificateRevoked,
        DenyReason::CertificateNotYetValid,
        DenyReason::CertificateExpired,
        DenyReason::RoleForbidden,
        DenyReason::UnknownSubject,
        DenyReason::InsurerNotLive,
        DenyReason::OfficeMunicipalityNotLive,
        DenyReason::NotOwnRecord,
        DenyReason::NotRepresentative,
        DenyReason::NotInsurer,
        DenyReason::NotRegistered,
        DenyReason::RegistrationEnded,
        DenyReason::RegistrationLapsed,
        DenyReason::ConsentMissing,
        DenyReason::ConsentWithdrawn,
        DenyReason::ConsentExpired,
    ];

    /// The stable kebab-case code.
    pub const fn code(self) -> &'static str {
        match self {
            DenyReason::UnknownPrincipal => "unknown-principal",
            DenyReason::CredentialMismatch => "credential-mismatch",
            DenyReason::CertificateRevoked => "certificate-revoked",
            DenyReason::CertificateNotYetValid => "certificate-not-yet-valid",
            DenyReason::CertificateExpired => "certificate-expired",
            DenyReason::RoleForbidden => "role-forbidden",
            DenyReason::UnknownSubject => "unknown-subject",
            DenyReason::InsurerNotLive => "insurer-not-live",
            DenyReason::OfficeMunicipalityNotLive => "office-municipality-not-live",
            DenyReason::NotOwnRecord => "not-own-record",
            DenyReason::NotRepresentative => "not-representative",
            DenyReason::NotInsurer => "not-insurer",
            DenyReason::NotRegistered => "not-registered",
            DenyReason::RegistrationEnded => "registration-ended",
            DenyReason::RegistrationLapsed => "registration-lapsed",
            DenyReason::ConsentMissing => "consent-missing",
            DenyReason::ConsentWithdrawn => "consent-withdrawn",
            DenyReason::ConsentExpired => "consent-expired",
        }
    }

    /// The reason for a code.
    pub fn from_code(code: &str) -> Option<DenyReason> {
        DenyReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Decides one read request at `now`. Pure, allocation-free and total: ids that are not in
/// the view are denials, not panics.
pub fn decide(view: &View, request: &Request, now: Timestamp) -> Decision {
    match evaluate(view, request, now) {
        Ok(()) => Decision::Permit,
        Err(reason) => Decision::Deny(reason),
    }
}

/// The principal's standing towards the subject, without the matrix and consent: checks 1,
/// 3, 4 and 5 of the module docs, in that order. Writes that need a relation to the person
/// (an office recording consent on the municipality's behalf, uploading a care plan,
/// reporting a service record) use it, so the relation rules exist once. Returns the role.
pub fn standing(
    view: &View,
    principal: Principal,
    subject: PersonId,
    now: Timestamp,
) -> Result<Role, DenyReason> {
    let resolved = resolve_principal(view, principal, now)?;
    let hot = view
        .hot
        .get(subject.0 as usize)
        .ok_or(DenyReason::UnknownSubject)?;
    check_rollout(view, hot.insurer, resolved.office, now)?;
    check_relation(view, principal, subject, hot, resolved.office, now)?;
    Ok(resolved.role)
}

/// Whether an office may register `subject` (identity verification at the office) at `now`:
/// its [`standing`] towards the person, except that not being registered — never, no longer,
/// or lapsed — is exactly what a registration cures. The platform's card verification and the
/// scenario engine's named world both ask this, so the registration gate exists once.
pub fn may_register(
    view: &View,
    principal: Principal,
    subject: PersonId,
    now: Timestamp,
) -> Result<(), DenyReason> {
    match standing(view, principal, subject, now) {
        Ok(_)
        | Err(
            DenyReason::NotRegistered
            | DenyReason::RegistrationEnded
            | DenyReason::RegistrationLapsed,
        ) => Ok(()),
        Err(reason) => Err(reason),
    }
}

/// What the principal resolved to: its role and, for offices, the office.
struct Resolved {
    role: Role,
    office: Option<(OfficeId, MunicipalityId)>,
}

/// An office's registration that passed the relation check.
enum Found {
    /// Confirmed from the person's hot row; its row index was not needed.
    Inline(OfficeId),
    /// Checked against its row in the registration table.
    Row(u32),
}

fn evaluate(view: &View, request: &Request, now: Timestamp) -> Result<(), DenyReason> {
    let resolved = resolve_principal(view, request.principal, now)?;
    let access = view.rules.matrix.access(resolved.role, request.class);
    if access == Access::None {
        return Err(DenyReason::RoleForbidden);
    }
    let hot = view
        .hot
        .get(request.subject.0 as usize)
        .ok_or(DenyReason::UnknownSubject)?;
    check_rollout(view, hot.insurer, resolved.office, now)?;
    let found = check_relation(
        view,
        request.principal,
        request.subject,
        hot,
        resolved.office,
        now,
    )?;
    if access == Access::ReadWithConsent {
        match (view.rules.policy.consent.model, found) {
            (ConsentModel::PerOffice, Some(found)) => {
                let idx = match found {
                    Found::Row(idx) => idx,
                    Found::Inline(office) => *view
                        .reg_index
                        .get(&(request.subject, office))
                        .ok_or(DenyReason::NotRegistered)?,
                };
                let (reg, _, expires) = registration_row(view, idx, request.subject);
                check_consent(&reg.consent, expires, now)?;
            }
            _ => {
                if !hot.consent.contains(Window::tick(now)) {
                    let p = request.subject.0 as usize;
                    check_consent(&view.persons[p].consent, view.consent_expires[p], now)?;
                }
            }
        }
    }
    Ok(())
}

fn resolve_principal(
    view: &View,
    principal: Principal,
    now: Timestamp,
) -> Result<Resolved, DenyReason> {
    let (holder, credential) = match principal {
        Principal::Person { person } => {
            if person.0 as usize >= view.hot.len() {
                return Err(DenyReason::UnknownPrincipal);
            }
            return Ok(Resolved {
                role: Role::Person,
                office: None,
            });
        }
        Principal::Representative { agent } => {
            if agent.0 >= view.n_agents {
                return Err(DenyReason::UnknownPrincipal);
            }
            return Ok(Resolved {
                role: Role::Representative,
                office: None,
            });
        }
        Principal::Office { office, credential } => (Holder::Office(office), credential),
        Principal::Municipality {
            municipality,
            credential,
        } => (Holder::Municipality(municipality), credential),
        Principal::Operator { credential } => (Holder::Operator, credential),
    };
    let resolved = match holder {
        Holder::Office(id) => {
            let office = view
                .offices
                .get(id.0 as usize)
                .ok_or(DenyReason::UnknownPrincipal)?;
            Resolved {
                role: office.role,
                office: Some((id, office.municipality)),
            }
        }
        Holder::Municipality(id) => {
            view.municipalities
                .get(id.0 as usize)
                .ok_or(DenyReason::UnknownPrincipal)?;
            Resolved {
                role: Role::Municipality,
                office: None,
            }
        }
        Holder::Operator => Resolved {
            role: Role::Operator,
            office: None,
        },
    };
    let cred = view
        .credentials
        .get(credential.0 as usize)
        .ok_or(DenyReason::CredentialMismatch)?;
    if cred.holder != holder {
        return Err(DenyReason::CredentialMismatch);
    }
    if cred.revoked_at <= now {
        return Err(DenyReason::CertificateRevoked);
    }
    if now < cred.not_before {
        return Err(DenyReason::CertificateNotYetValid);
    }
    if cred.not_after <= now {
        return Err(DenyReason::CertificateExpired);
    }
    Ok(resolved)
}

fn check_rollout(
    view: &View,
    insurer: MunicipalityId,
    office: Option<(OfficeId, MunicipalityId)>,
    now: Timestamp,
) -> Result<(), DenyReason> {
    let live = |m: MunicipalityId| {
        view.municipalities
            .get(m.0 as usize)
            .is_some_and(|row| row.live_from <= now)
    };
    if !live(insurer) {
        return Err(DenyReason::InsurerNotLive);
    }
    if let Some((_, located_in)) = office {
        if view.rules.policy.rollout.cross_municipality_rule && !live(located_in) {
            return Err(DenyReason::OfficeMunicipalityNotLive);
        }
    }
    Ok(())
}

/// Checks the principal's relation to the subject; for an office, returns its registration.
fn check_relation(
    view: &View,
    principal: Principal,
    subject: PersonId,
    hot: &PersonHot,
    office: Option<(OfficeId, MunicipalityId)>,
    now: Timestamp,
) -> Result<Option<Found>, DenyReason> {
    match principal {
        Principal::Person { person: asking } => {
            if asking != subject {
                return Err(DenyReason::NotOwnRecord);
            }
        }
        Principal::Representative { agent } => {
            let active = view
                .representations
                .get(&(agent, subject))
                .is_some_and(|r| r.from <= now && now < r.until);
            if !active {
                return Err(DenyReason::NotRepresentative);
            }
        }
        Principal::Municipality { municipality, .. } => {
            if municipality != hot.insurer {
                return Err(DenyReason::NotInsurer);
            }
        }
        Principal::Operator { .. } => {}
        Principal::Office { .. } => {
            let (office, _) = office.ok_or(DenyReason::UnknownPrincipal)?;
            // The hot row answers a current registration, and "none" when it holds all of
            // the person's registrations; anything else is read from the table.
            match hot.inline_access(office, Window::tick(now)) {
                (_, true) => return Ok(Some(Found::Inline(office))),
                (false, false) if !hot.more => return Err(DenyReason::NotRegistered),
                _ => {}
            }
            let idx = *view
                .reg_index
                .get(&(subject, office))
                .ok_or(DenyReason::NotRegistered)?;
            let (reg, lapse_at, _) = registration_row(view, idx, subject);
            check_registration(reg, lapse_at, now)?;
            return Ok(Some(Found::Row(idx)));
        }
    }
    Ok(None)
}

/// Registration `idx` of `subject` with its lapse instant and per-office consent expiry:
/// the stored ones, or computed now for the one row whose stored ones may be stale.
fn registration_row(
    view: &View,
    idx: u32,
    subject: PersonId,
) -> (&Registration, Timestamp, Timestamp) {
    let row = &view.regs[idx as usize];
    if view.dirty.is_some_and(|(dirty, _)| dirty == idx) {
        let policy = view.rules.policy;
        let lapse_at = lapse_instant(policy.lapse, &row.reg, &view.persons[subject.0 as usize]);
        let expires = consent_expiry(policy.consent.expiry, &row.reg.consent);
        (&row.reg, lapse_at, expires)
    } else {
        (&row.reg, row.lapse_at, row.consent_expires)
    }
}

fn check_registration(
    reg: &Registration,
    lapse_at: Timestamp,
    now: Timestamp,
) -> Result<(), DenyReason> {
    if now < reg.registered_at {
        return Err(DenyReason::NotRegistered);
    }
    if reg.ended_at <= now {
        return Err(DenyReason::RegistrationEnded);
    }
    if lapse_at <= now {
        return Err(DenyReason::RegistrationLapsed);
    }
    Ok(())
}

/// When the registration lapses under `policy` ([`Timestamp::MAX`]: it does not).
pub fn lapse_instant(policy: LapsePolicy, reg: &Registration, person: &Person) -> Timestamp {
    match policy {
        LapsePolicy::Never => Timestamp::MAX,
        LapsePolicy::AfterInactivity {
            months,
            exempt_hospital_stays,
            exempt_short_stays,
        } => {
            let months = i32::from(months);
            let lapse = reg
                .registered_at
                .max(reg.last_service_at)
                .plus_months(months);
            let exempt = |kind: StayKind| match kind {
                StayKind::Hospital => exempt_hospital_stays,
                StayKind::ShortStay => exempt_short_stays,
            };
            match person.stay {
                Some(stay) if exempt(stay.kind) && stay.from <= lapse => {
                    lapse.max(stay.until.plus_months(months))
                }
                _ => lapse,
            }
        }
        LapsePolicy::TiedToClaims { grace_months } => reg
            .registered_at
            .max(reg.last_claim_at)
            .plus_months(i32::from(grace_months)),
    }
}

fn check_consent(consent: &Consent, expires: Timestamp, now: Timestamp) -> Result<(), DenyReason> {
    if now < consent.given_at {
        return Err(DenyReason::ConsentMissing);
    }
    if consent.withdrawn_at <= now {
        return Err(DenyReason::ConsentWithdrawn);
    }
    if expires <= now {
        return Err(DenyReason::ConsentExpired);
    }
    Ok(())
}

/// When a given consent expires under `policy` ([`Timestamp::MAX`]: it does not).
pub fn consent_expiry(policy: ConsentExpiry, consent: &Consent) -> Timestamp {
    match policy {
        ConsentExpiry::Never => Timestamp::MAX,
        ConsentExpiry::WithCertificationPeriod => consent.certification_end,
        ConsentExpiry::AfterMonths(months) => consent.given_at.plus_months(i32::from(months)),
    }
}

#[cfg(test)]
mod tests;
