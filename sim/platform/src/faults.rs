//! Deliberately broken platform behaviours, for measuring the conformance suite's strength:
//! each [`Fault`] is a realistic integration bug the suite must catch.
//!
//! The set travels in [`crate::platform::PlatformConfig::faults`] and is always empty in a
//! normal build: [`Faults::with`] exists only with the crate feature `faults`, which only
//! test builds (the conformance crate's dev-dependency) turn on, and without it
//! [`Faults::has`] is a constant `false` the compiler removes. Decision faults bend the core's
//! answer *after* `decide` in the platform (the core keeps its one copy of every rule).

/// One broken behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Fault {
    /// Reads are permitted although consent is missing, withdrawn or expired.
    ConsentNotChecked,
    /// Offices read without a registration (no identity verification needed).
    RegistrationNotChecked,
    /// A registration lapsed by the lapse policy is still honoured.
    LapsedRegistrationHonoured,
    /// An office whose own municipality is not live yet reads anyway (cross-municipality rule).
    CrossMunicipalityGateIgnored,
    /// A representative reads for persons they do not represent.
    RepresentationNotChecked,
    /// Medical institutions may read home-modification history (a matrix cell opened).
    MedicalReadsHomeModification,
    /// Revocation is checked at the handshake only, not per request on an open connection.
    RevocationIgnoredOnKeepAlive,
    /// A disabled staff member's open session keeps working.
    DisabledStaffKeepsSession,
    /// A card-assertion nonce can be used again.
    NonceReusable,
    /// A retried submission (same Idempotency-Key) is delivered to the inbox again.
    SubmissionDeliveredTwice,
    /// Refused reads are not written to the audit log (the person's access log misses them).
    DenialsNotAudited,
    /// Ingestion accepts a card link shaped like a My Number.
    MyNumberShapedCardLinkAccepted,
    /// The TLS server also accepts TLS 1.2 (honoured by whoever builds the server's TLS
    /// configuration, e.g. the conformance suite's reference starter).
    Tls12Accepted,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 13] = [
        Fault::ConsentNotChecked,
        Fault::RegistrationNotChecked,
        Fault::LapsedRegistrationHonoured,
        Fault::CrossMunicipalityGateIgnored,
        Fault::RepresentationNotChecked,
        Fault::MedicalReadsHomeModification,
        Fault::RevocationIgnoredOnKeepAlive,
        Fault::DisabledStaffKeepsSession,
        Fault::NonceReusable,
        Fault::SubmissionDeliveredTwice,
        Fault::DenialsNotAudited,
        Fault::MyNumberShapedCardLinkAccepted,
        Fault::Tls12Accepted,
    ];

    /// A stable kebab-case name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            Fault::ConsentNotChecked => "consent-not-checked",
            Fault::RegistrationNotChecked => "registration-not-checked",
            Fault::LapsedRegistrationHonoured => "lapsed-registration-honoured",
            Fault::CrossMunicipalityGateIgnored => "cross-municipality-gate-ignored",
            Fault::RepresentationNotChecked => "representation-not-checked",
            Fault::MedicalReadsHomeModification => "medical-reads-home-modification",
            Fault::RevocationIgnoredOnKeepAlive => "revocation-ignored-on-keep-alive",
            Fault::DisabledStaffKeepsSession => "disabled-staff-keeps-session",
            Fault::NonceReusable => "nonce-reusable",
            Fault::SubmissionDeliveredTwice => "submission-delivered-twice",
            Fault::DenialsNotAudited => "denials-not-audited",
            Fault::MyNumberShapedCardLinkAccepted => "my-number-shaped-card-link-accepted",
            Fault::Tls12Accepted => "tls12-accepted",
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of faults; empty unless built with the `faults` feature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults(u32);

impl Faults {
    /// No fault: the reference behaviour.
    pub const NONE: Faults = Faults(0);

    /// This set plus `fault` (test builds only).
    #[cfg(feature = "faults")]
    pub const fn with(self, fault: Fault) -> Faults {
        Faults(self.0 | fault.bit())
    }

    /// Whether `fault` is switched on (always `false` without the `faults` feature).
    #[inline]
    pub const fn has(self, fault: Fault) -> bool {
        cfg!(feature = "faults") && self.0 & fault.bit() != 0
    }

    /// Whether no fault is switched on.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        assert!(names.iter().all(|n| {
            n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }));
    }

    #[test]
    fn the_empty_set_has_no_fault() {
        assert!(Fault::ALL.iter().all(|f| !Faults::NONE.has(*f)));
    }

    #[cfg(feature = "faults")]
    #[test]
    fn a_fault_switched_on_is_reported_and_only_that_one() {
        let set = Faults::NONE.with(Fault::NonceReusable);
        assert!(set.has(Fault::NonceReusable));
        assert!(!set.has(Fault::ConsentNotChecked));
    }
}
