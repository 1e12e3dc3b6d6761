//! The oracle: the access rules of `kiban_core::decide`'s module documentation and of the
//! policy variants' doc sentences, transcribed as literally as possible over the naive
//! world. Linear scans, no indexes, one check per numbered rule, in the documented order.
//!
//! Conventions taken from the text:
//! - intervals are half-open: a thing that starts at `t` counts at `now == t`, a thing that
//!   ends at `t` no longer counts at `now == t`;
//! - [`Timestamp::MAX`] in a start field means "never" (consent not given, municipality not
//!   scheduled) and in an end field "not" / "open" / "unknown" (not revoked, not ended, not
//!   withdrawn, stay open, certification end unknown), whatever `now` is;
//! - "defers the lapse" never moves a lapse earlier.

use kiban_core::decide::DenyReason;
use kiban_core::rules::{Access, ConsentExpiry, ConsentModel, LapsePolicy};
use kiban_core::time::Timestamp;
use kiban_core::view::StayKind;
use kiban_core::vocab::Role;

use super::world::{
    NConsent, NHolder, NPerson, NPrincipal, NRegistration, NaiveRequest, NaiveWorld, cell,
};

/// A thing that starts at `start` counts at `now` ([`Timestamp::MAX`]: never starts).
fn has_started(start: Timestamp, now: Timestamp) -> bool {
    start != Timestamp::MAX && now >= start
}

/// A thing that ends at `end` has ended at `now` ([`Timestamp::MAX`]: never ends).
fn has_ended(end: Timestamp, now: Timestamp) -> bool {
    end != Timestamp::MAX && now >= end
}

fn later(a: Timestamp, b: Timestamp) -> Timestamp {
    if a >= b { a } else { b }
}

fn months_after(t: Timestamp, months: u16) -> Timestamp {
    t.plus_months(i32::from(months))
}

/// Rule 1 for principals with a credential: it belongs to `holder`, is not revoked, has
/// started and has not ended. A credential id with no row belongs to nobody, so it does not
/// belong to the principal either.
fn check_credential(
    w: &NaiveWorld,
    credential: u32,
    holder: NHolder,
    now: Timestamp,
) -> Result<(), DenyReason> {
    let Some(c) = w.credentials.get(credential as usize) else {
        return Err(DenyReason::CredentialMismatch);
    };
    if c.holder != holder {
        return Err(DenyReason::CredentialMismatch);
    }
    if has_ended(c.revoked_at, now) {
        // Revocation takes effect at `revoked_at` ("revoked from `at` on").
        return Err(DenyReason::CertificateRevoked);
    }
    if !has_started(c.not_before, now) {
        return Err(DenyReason::CertificateNotYetValid);
    }
    if has_ended(c.not_after, now) {
        return Err(DenyReason::CertificateExpired);
    }
    Ok(())
}

/// When the registration stops granting access under the lapse policy
/// ([`Timestamp::MAX`]: never), from the `LapsePolicy` doc sentences.
pub(crate) fn lapse_at(policy: LapsePolicy, reg: &NRegistration, person: &NPerson) -> Timestamp {
    match policy {
        // "A registration lasts until the office or the municipality ends it."
        LapsePolicy::Never => Timestamp::MAX,
        // "lapses `months` calendar months after the later of its start and the office's
        // last service record for the person. With an exemption for a stay kind, a stay of
        // that kind that began at or before that instant defers the lapse to `months` after
        // the stay ends; while the stay is open the registration does not lapse."
        LapsePolicy::AfterInactivity {
            months,
            exempt_hospital_stays,
            exempt_short_stays,
        } => {
            let lapse = months_after(later(reg.registered_at, reg.last_service_at), months);
            let exempt = |kind: StayKind| match kind {
                StayKind::Hospital => exempt_hospital_stays,
                StayKind::ShortStay => exempt_short_stays,
            };
            match person.stay {
                Some(stay) if exempt(stay.kind) && stay.from <= lapse => {
                    if stay.until == Timestamp::MAX {
                        Timestamp::MAX
                    } else {
                        later(lapse, months_after(stay.until, months))
                    }
                }
                _ => lapse,
            }
        }
        // "a registration lapses `grace_months` calendar months after the later of its start
        // and the office's last claim for the person."
        LapsePolicy::TiedToClaims { grace_months } => {
            months_after(later(reg.registered_at, reg.last_claim_at), grace_months)
        }
    }
}

/// When a given consent stops counting under the expiry policy ([`Timestamp::MAX`]: never).
pub(crate) fn consent_expires_at(policy: ConsentExpiry, c: &NConsent) -> Timestamp {
    match policy {
        // "Consent lasts until withdrawn."
        ConsentExpiry::Never => Timestamp::MAX,
        // "Consent ends when the certification period in force when it was given ends [...]
        // A consent given before any certification end is known does not expire."
        // (`certification_end` is MAX when unknown, which is then "does not expire".)
        ConsentExpiry::WithCertificationPeriod => c.certification_end,
        // "Consent ends this many calendar months after it was given."
        ConsentExpiry::AfterMonths(months) => months_after(c.given_at, months),
    }
}

/// The decision the rules text prescribes.
pub(crate) fn oracle(w: &NaiveWorld, req: &NaiveRequest, now: Timestamp) -> Result<(), DenyReason> {
    use DenyReason::*;

    // 1. The principal exists, and its credential belongs to it, is not revoked, has
    //    started and has not ended.
    let role = match req.principal {
        NPrincipal::Office { office, credential } => {
            let Some(row) = w.offices.get(office as usize) else {
                return Err(UnknownPrincipal);
            };
            check_credential(w, credential, NHolder::Office(office as usize), now)?;
            row.role
        }
        NPrincipal::Municipality {
            municipality,
            credential,
        } => {
            if municipality as usize >= w.municipalities.len() {
                return Err(UnknownPrincipal);
            }
            check_credential(
                w,
                credential,
                NHolder::Municipality(municipality as usize),
                now,
            )?;
            Role::Municipality
        }
        NPrincipal::Operator { credential } => {
            check_credential(w, credential, NHolder::Operator, now)?;
            Role::Operator
        }
        NPrincipal::Person { person } => {
            if person as usize >= w.persons.len() {
                return Err(UnknownPrincipal);
            }
            Role::Person
        }
        NPrincipal::Representative { agent } => {
            if agent as usize >= w.agents {
                return Err(UnknownPrincipal);
            }
            Role::Representative
        }
    };

    // 2. The matrix grants the role something for the class.
    let access = cell(&w.rules, role, req.class);
    if access == Access::None {
        return Err(RoleForbidden);
    }

    // 3. The subject exists.
    let Some(subject) = w.persons.get(req.subject as usize) else {
        return Err(UnknownSubject);
    };

    // 4. The subject's insurer shares; for offices under the cross-municipality rule, so
    //    does the office's own municipality.
    if !has_started(w.municipalities[subject.insurer].live_from, now) {
        return Err(InsurerNotLive);
    }
    if let NPrincipal::Office { office, .. } = req.principal {
        let located = w.offices[office as usize].municipality;
        if w.rules.policy.rollout.cross_municipality_rule
            && !has_started(w.municipalities[located].live_from, now)
        {
            return Err(OfficeMunicipalityNotLive);
        }
    }

    // 5. The principal is related to the subject. The text names no relation for the
    //    operator, so it has none to fail.
    let mut registration = None;
    match req.principal {
        NPrincipal::Person { person } => {
            if person != req.subject {
                return Err(NotOwnRecord);
            }
        }
        NPrincipal::Representative { agent } => {
            let current = w
                .representations
                .iter()
                .rev()
                .find(|r| r.agent == agent as usize && r.person == req.subject as usize)
                .is_some_and(|r| has_started(r.from, now) && !has_ended(r.until, now));
            if !current {
                return Err(NotRepresentative);
            }
        }
        NPrincipal::Municipality { municipality, .. } => {
            if subject.insurer != municipality as usize {
                return Err(NotInsurer);
            }
        }
        NPrincipal::Office { office, .. } => {
            let reg = w
                .registrations
                .iter()
                .rev()
                .find(|r| r.person == req.subject as usize && r.office == office as usize);
            let Some(reg) = reg.filter(|r| has_started(r.registered_at, now)) else {
                return Err(NotRegistered);
            };
            if has_ended(reg.ended_at, now) {
                return Err(RegistrationEnded);
            }
            if has_ended(lapse_at(w.rules.policy.lapse, reg, subject), now) {
                return Err(RegistrationLapsed);
            }
            registration = Some(reg);
        }
        NPrincipal::Operator { .. } => {}
    }

    // 6. Where the matrix says read-with-consent, the consent record of the consent model
    //    has been given, is not withdrawn and has not expired.
    if access == Access::ReadWithConsent {
        let consent = match (w.rules.policy.consent.model, registration) {
            // "an office's reads with consent look at the consent recorded on its registration"
            (ConsentModel::PerOffice, Some(reg)) => &reg.consent,
            // Comprehensive: the person's one consent; PerOffice, non-office roles: "the
            // person's own consent record".
            _ => &subject.consent,
        };
        if !has_started(consent.given_at, now) {
            return Err(ConsentMissing);
        }
        if has_ended(consent.withdrawn_at, now) {
            return Err(ConsentWithdrawn);
        }
        if has_ended(
            consent_expires_at(w.rules.policy.consent.expiry, consent),
            now,
        ) {
            return Err(ConsentExpired);
        }
    }

    // Anything else is a permit.
    Ok(())
}
