//! What an actor's call to the platform comes to: typed refusal reasons, the outcome of a
//! read, and the one error type of the actors.
//!
//! The platform refuses with RFC 9457 problem+json and a stable `code` ([`Refusal`]). Actors
//! never match on strings: [`Reason::of`] turns the code into a [`Reason`] — a decision of
//! the core ([`Reason::Denied`] with its [`DenyReason`]) or one of the platform's own codes.
//! A code this crate does not know is kept as [`Reason::Other`], never dropped.
//!
//! **A refused read is an outcome, not a crash.** A read the core denies (`not-registered`,
//! `consent-withdrawn`, `insurer-not-live`, …) is [`ReadOutcome::Refused`]; only failures
//! that say nothing about access — no connection, a TLS failure, a missing staff session, a
//! 5xx — are an [`ActorError`]. Every other operation returns `Result<_, ActorError>`, whose
//! [`ActorError::reason`] gives the typed reason of a refusal.

use std::fmt;

use kiban_core::decide::DenyReason;
use kiban_core::id::InsuredNumber;
use kiban_platform::careplan::WriteError;
use kiban_platform::model::ClassRecords;

use crate::card::CardError;
use crate::certification::WorkflowError;
use crate::client::{ClientError, Refusal, RetryError};
use crate::migration::MigrationError;
use crate::reader::ReaderError;

/// Defines [`Reason`]'s platform codes once: variant, code and meaning.
macro_rules! reasons {
    ($($(#[$m:meta])* $variant:ident = $code:literal,)+) => {
        /// Why the platform refused, by the problem document's `code`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Reason {
            /// A decision of the core (`kiban_core::decide`): the read or write was not allowed
            /// for this caller, person and class now.
            Denied(DenyReason),
            $($(#[$m])* $variant,)+
            /// A code this crate does not know (kept verbatim).
            Other(String),
        }

        impl Reason {
            /// The reason for a problem code.
            pub fn from_code(code: &str) -> Reason {
                if let Some(reason) = DenyReason::from_code(code) {
                    return Reason::Denied(reason);
                }
                match code {
                    $($code => Reason::$variant,)+
                    other => Reason::Other(other.to_owned()),
                }
            }

            /// The stable code.
            pub fn code(&self) -> &str {
                match self {
                    Reason::Denied(r) => r.code(),
                    $(Reason::$variant => $code,)+
                    Reason::Other(code) => code,
                }
            }
        }
    };
}

reasons! {
    // -- sessions and principals
    /// The office call needs a signed-in staff member (401).
    StaffSessionRequired = "staff-session-required",
    /// The bearer token is unknown, ended, or bound to another terminal (401).
    InvalidSession = "invalid-session",
    /// The staff account was disabled (the staff member left; 401).
    StaffDisabled = "staff-disabled",
    /// Unknown staff id, wrong password or disabled account at sign-in (401).
    LoginFailed = "login-failed",
    /// Only the office's administrator user manages staff (403).
    AdminRequired = "admin-required",
    /// The staff id already exists (409).
    StaffExists = "staff-exists",
    /// No such staff id in the office (404).
    UnknownStaff = "unknown-staff",
    /// The relay call needs a signed-in card holder (401).
    PortalSessionRequired = "portal-session-required",
    /// No client certificate on the connection (401).
    ClientCertificateRequired = "client-certificate-required",
    /// The client certificate names no valid principal (403).
    InvalidPrincipal = "invalid-principal",
    // -- identity verification
    /// The nonce is unknown, used, expired or was issued to another terminal (403).
    InvalidNonce = "invalid-nonce",
    /// The assertion is malformed (400).
    InvalidAssertion = "invalid-assertion",
    /// The card certificate does not chain to the J-LIS CA (403).
    CardNotTrusted = "card-not-trusted",
    /// The card's signature over the nonce does not verify (403).
    AssertionSignatureInvalid = "assertion-signature-invalid",
    /// J-LIS says the card certificate is revoked (403).
    CardRevoked = "card-revoked",
    /// J-LIS says the card is on hold after a loss (403).
    CardSuspended = "card-suspended",
    /// The card certificate has expired (403).
    CardExpired = "card-expired",
    /// No insured person on the platform carries this card link (404).
    CardNotLinked = "card-not-linked",
    /// The holder is neither an insured person nor a registered representative (403).
    HolderUnknown = "holder-unknown",
    /// J-LIS could not confirm the card now: retry with a new nonce (503, retryable).
    JlisUnavailable = "jlis-unavailable",
    /// The platform has no J-LIS configured (503).
    IdentityVerificationUnavailable = "identity-verification-unavailable",
    // -- writes
    /// The Idempotency-Key was used before with another body (409).
    IdempotencyKeyReused = "idempotency-key-reused",
    /// The write needs an Idempotency-Key (400).
    IdempotencyKeyRequired = "idempotency-key-required",
    /// The role may not record consent on this occasion (403).
    ConsentOccasionForbidden = "consent-occasion-forbidden",
    /// There is no consent in force to withdraw (409).
    NoConsentToWithdraw = "no-consent-to-withdraw",
    /// The role does not create documents of this class (403).
    NotCreator = "not-creator",
    /// A care-plan upload without (or with a wrong) table (400).
    InvalidTable = "invalid-table",
    /// A service record or claim dated in the future (400).
    ActivityInFuture = "activity-in-future",
    /// An ingestion item names an insured person not yet ingested (400).
    UnknownInsuredPerson = "unknown-insured-person",
    /// An ingestion item is invalid (400).
    InvalidItem = "invalid-item",
    /// A request body the platform could not read (400).
    InvalidBody = "invalid-body",
    /// The office is not on the platform (404).
    UnknownOffice = "unknown-office",
    /// The municipality is not on the platform (404).
    UnknownMunicipality = "unknown-municipality",
    /// The office number is registered with another role or municipality (409).
    OfficeExists = "office-exists",
    /// No such message in the municipality's inbox (404).
    UnknownMessage = "unknown-message",
    /// The agent does not represent the person (404).
    UnknownRepresentative = "unknown-representative",
    /// The agent's card link is malformed (400).
    InvalidCardLink = "invalid-card-link",
    /// The platform runs on the system clock (403).
    SimClockDisabled = "sim-clock-disabled",
    // -- the care-plan exchange
    /// The file name breaks the standard (400).
    CareplanFileName = "careplan-file-name",
    /// The file name's sender is not the calling office (403).
    CareplanSenderMismatch = "careplan-sender-mismatch",
    /// The file goes the wrong way for its kind (403).
    CareplanDirection = "careplan-direction",
    /// The receiver is not on the platform (422).
    CareplanUnknownReceiver = "careplan-unknown-receiver",
    /// The file's kind is not exchanged here (422).
    CareplanKindNotExchanged = "careplan-kind-not-exchanged",
    /// The content has error findings (422).
    CareplanInvalid = "careplan-invalid",
    /// The name was sent before with other content (409).
    CareplanDuplicateName = "careplan-duplicate-name",
    /// No such exchange file for this office (404).
    CareplanUnknownFile = "careplan-unknown-file",
    // -- transport level
    /// The media type is not accepted (415).
    UnsupportedMediaType = "unsupported-media-type",
    /// No such route (404).
    UnknownRoute = "unknown-route",
}

impl Reason {
    /// The reason of a refusal.
    pub fn of(refusal: &Refusal) -> Reason {
        Reason::from_code(&refusal.code)
    }

    /// The core's decision, if the refusal is one.
    pub fn denial(&self) -> Option<DenyReason> {
        match self {
            Reason::Denied(r) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refusal with its typed reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The typed reason.
    pub reason: Reason,
    /// The refusal as the platform sent it.
    pub refusal: Refusal,
}

impl Refused {
    /// A refusal with its reason.
    pub fn new(refusal: Refusal) -> Refused {
        Refused {
            reason: Reason::of(&refusal),
            refusal,
        }
    }
}

/// What a read of one class came to.
#[derive(Debug)]
pub enum ReadOutcome {
    /// The core permitted the read: the records.
    Permitted(ClassRecords),
    /// The core denied it (its reason is a [`Reason::Denied`]).
    Refused(Refused),
}

impl ReadOutcome {
    /// Sorts an answer: a permitted read, a denial (an outcome), or an error.
    pub(crate) fn from_result(
        result: Result<crate::client::ApiResponse, ActorError>,
    ) -> Result<ReadOutcome, ActorError> {
        match result {
            Ok(answer) => Ok(ReadOutcome::Permitted(answer.json()?)),
            Err(error) => match error.refusal() {
                Some(refusal) if matches!(Reason::of(refusal), Reason::Denied(_)) => {
                    Ok(ReadOutcome::Refused(Refused::new(refusal.clone())))
                }
                _ => Err(error),
            },
        }
    }

    /// The records, if permitted.
    pub fn records(&self) -> Option<&ClassRecords> {
        match self {
            ReadOutcome::Permitted(r) => Some(r),
            ReadOutcome::Refused(_) => None,
        }
    }

    /// The core's denial, if refused.
    pub fn denial(&self) -> Option<DenyReason> {
        match self {
            ReadOutcome::Permitted(_) => None,
            ReadOutcome::Refused(r) => r.reason.denial(),
        }
    }

    /// Whether the read was permitted.
    pub fn is_permitted(&self) -> bool {
        matches!(self, ReadOutcome::Permitted(_))
    }
}

/// Why an actor's operation did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    /// The platform refused, or could not be reached, after `attempts` attempts.
    #[error("{error} (after {attempts} attempt(s))")]
    Platform {
        /// Attempts made (1 for requests that are not safe to resend).
        attempts: u32,
        /// The last attempt's error.
        #[source]
        error: ClientError,
    },
    /// The card reader produced no assertion (wrong PIN, locked, lost, face mismatch, …).
    #[error(transparent)]
    Reader(#[from] ReaderError),
    /// A card operation at the municipality's counter failed.
    #[error(transparent)]
    Card(#[from] CardError),
    /// The municipality's system is not at a stage that allows this.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// The certification workflow refused the step.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// Care-plan rows could not be written as standard files.
    #[error("care-plan files: {0}")]
    CarePlan(#[from] WriteError),
    /// The actor has no terminal of this name (or it was retired).
    #[error("no usable terminal {0:?}")]
    UnknownTerminal(String),
    /// Nobody is signed in on the terminal.
    #[error("nobody is signed in on terminal {0:?}")]
    NotSignedIn(String),
    /// The office has no staff member of this id (or they left).
    #[error("no active staff member {0:?}")]
    UnknownStaff(String),
    /// The municipality has no such insured person.
    #[error("insured person {0} is not insured here")]
    NotInsuredHere(InsuredNumber),
    /// The person holds a My Number card: offices verify them with it, the municipality's
    /// fallback is for people without one.
    #[error("the person holds a My Number card; the office verifies it at contract")]
    FallbackForCardHolder,
    /// The municipality has no such certification case.
    #[error("no certification case {0}")]
    UnknownCase(crate::certification::CaseId),
    /// The person has no card link (no card issued by J-LIS).
    #[error("J-LIS has issued no card to this person")]
    NoCardLink,
    /// An answer that is not what the API documents.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The operator's PKI failed.
    #[error("PKI: {0}")]
    Pki(String),
}

impl From<RetryError> for ActorError {
    fn from(e: RetryError) -> Self {
        ActorError::Platform {
            attempts: e.attempts,
            error: e.error,
        }
    }
}

impl From<ClientError> for ActorError {
    fn from(error: ClientError) -> Self {
        ActorError::Platform { attempts: 1, error }
    }
}

impl ActorError {
    /// The platform's refusal, if it answered with one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ActorError::Platform { error, .. } => error.refusal(),
            _ => None,
        }
    }

    /// The typed reason of the platform's refusal, if it answered with one.
    pub fn reason(&self) -> Option<Reason> {
        self.refusal().map(Reason::of)
    }

    /// Whether the same operation may succeed later without a change on the caller's side
    /// (see [`ClientError::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            ActorError::Platform { error, .. } => error.is_retryable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str) -> Refusal {
        Refusal {
            status,
            code: code.to_owned(),
            detail: String::new(),
            retryable_hint: false,
            retry_after: None,
        }
    }

    #[test]
    fn every_core_denial_is_a_typed_decision() {
        for reason in DenyReason::ALL {
            let r = Reason::from_code(reason.code());
            assert_eq!(r, Reason::Denied(reason));
            assert_eq!(r.code(), reason.code());
        }
    }

    #[test]
    fn platform_codes_round_trip_and_unknown_codes_are_kept() {
        for code in [
            "jlis-unavailable",
            "staff-disabled",
            "careplan-invalid",
            "no-consent-to-withdraw",
            "idempotency-key-reused",
            "holder-unknown",
        ] {
            let r = Reason::from_code(code);
            assert!(!matches!(r, Reason::Other(_) | Reason::Denied(_)), "{code}");
            assert_eq!(r.code(), code);
        }
        assert_eq!(
            Reason::from_code("jlis-unavailable"),
            Reason::JlisUnavailable
        );
        let other = Reason::from_code("brand-new-code");
        assert_eq!(other, Reason::Other("brand-new-code".into()));
        assert_eq!(other.code(), "brand-new-code");
    }

    fn refused(status: u16, code: &str) -> Result<crate::client::ApiResponse, ActorError> {
        Err(ClientError::Refused(refusal(status, code)).into())
    }

    #[test]
    fn a_denied_read_is_an_outcome_and_other_failures_are_errors() {
        let outcome = ReadOutcome::from_result(refused(403, "not-registered")).unwrap();
        assert_eq!(outcome.denial(), Some(DenyReason::NotRegistered));
        assert!(!outcome.is_permitted());
        let outcome = ReadOutcome::from_result(refused(403, "consent-withdrawn")).unwrap();
        assert_eq!(outcome.denial(), Some(DenyReason::ConsentWithdrawn));
        // A missing session, a 5xx and a broken connection say nothing about access.
        let err = ReadOutcome::from_result(refused(401, "staff-session-required")).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::StaffSessionRequired));
        let err = ReadOutcome::from_result(refused(503, "jlis-unavailable")).unwrap_err();
        assert!(err.is_retryable());
        let err = ReadOutcome::from_result(Err(ClientError::Transport("reset".into()).into()))
            .unwrap_err();
        assert_eq!(err.reason(), None);
        assert!(err.is_retryable());
    }

    #[test]
    fn a_permitted_read_decodes_the_records_or_fails_as_unexpected() {
        let ok = crate::client::ApiResponse {
            status: 200,
            content_type: Some("application/json".into()),
            body: br#"{"person":{"insurer":"141002","insured":"0000000001"},"class":"insurance-card","records":[]}"#
                .to_vec()
                .into(),
        };
        let outcome = ReadOutcome::from_result(Ok(ok)).unwrap();
        assert_eq!(outcome.records().unwrap().records.len(), 0);
        let bad = crate::client::ApiResponse {
            status: 200,
            content_type: None,
            body: b"[]".to_vec().into(),
        };
        let err = ReadOutcome::from_result(Ok(bad)).unwrap_err();
        assert!(matches!(
            err,
            ActorError::Platform {
                error: ClientError::Decode(_),
                ..
            }
        ));
    }
}
