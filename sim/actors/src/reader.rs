//! Card readers of office terminals: they confirm that the holder is present (4-digit PIN,
//! face recognition, or the staff's visual check, 目視; domain-facts §5.4), have the card sign
//! the platform's nonce, and hand back the platform's card assertion
//! (`kiban_platform::identity::CardAssertion`: the nonce, the card certificate and the ECDSA
//! ASN.1 DER signature over the raw nonce bytes, base64, and the method).
//!
//! Face recognition is simulated: each attempt matches with the configured probability,
//! drawn from the reader's injected generator, so a run is reproducible from its seed. A face
//! mismatch or a visual check does not touch the PIN counter (per MHLW as reported, 目視 does
//! not reset it). The 10-failure lock of face recognition reported by the press is not
//! modelled (not confirmed).
//!
//! With [`ReaderChecks::Local`] (the default) the terminal refuses a card it can see is
//! unusable — lost, revoked, expired, certificate expired, PIN locked — before asking the
//! platform. With [`ReaderChecks::PlatformOnly`] it refuses only what the chip itself refuses
//! (a card not in hand, a locked PIN), so a scenario or the conformance suite can prove that
//! the platform and J-LIS refuse the rest.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kiban_core::time::Timestamp;
use kiban_platform::identity::{CardAssertion, VerificationMethod};
use rand::{Rng, RngExt};
use serde::Serialize;

use crate::card::{Card, CardError, Pin};

/// Assumed share of face-recognition attempts by the genuine holder that match. No public
/// figure was found for the 顔認証付きカードリーダー; this is a placeholder to be replaced by a
/// scenario's own value.
pub const ASSUMED_FACE_MATCH_RATE: f64 = 0.97;

/// How the holder's presence is confirmed at the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The holder enters this PIN.
    Pin(Pin),
    /// The reader's camera compares the holder's face with the card's photo.
    Face,
    /// A member of staff compares the face with the card photo and confirms.
    Visual,
}

impl Presence {
    /// The method as the platform records it.
    pub fn method(&self) -> VerificationMethod {
        match self {
            Presence::Pin(_) => VerificationMethod::Pin,
            Presence::Face => VerificationMethod::Face,
            Presence::Visual => VerificationMethod::Visual,
        }
    }
}

/// Which card states the terminal checks itself before asking the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReaderChecks {
    /// Refuse lost, revoked, expired, certificate-expired and locked cards locally.
    #[default]
    Local,
    /// Refuse only what the chip refuses (not in hand, PIN locked); let the platform and
    /// J-LIS decide on expiry and revocation.
    PlatformOnly,
}

/// A reader's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReaderConfig {
    /// Probability that a face-recognition attempt by the holder matches (0–1).
    pub face_match_rate: f64,
    /// Local checks.
    pub checks: ReaderChecks,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            face_match_rate: ASSUMED_FACE_MATCH_RATE,
            checks: ReaderChecks::Local,
        }
    }
}

/// Why a reader produced no assertion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// The card refused (lost, locked, wrong PIN, expired, revoked, no PIN, …).
    #[error(transparent)]
    Card(#[from] CardError),
    /// Face recognition did not match the card photo.
    #[error("face recognition did not match the card photo")]
    FaceMismatch,
    /// The nonce is not base64.
    #[error("the platform's nonce is not base64")]
    BadNonce,
    /// A face match rate outside 0–1.
    #[error("a face match rate is between 0 and 1")]
    BadMatchRate,
}

/// The reader's output: the platform's card assertion, serialisable as the request body of
/// `POST /v1/identity/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assertion {
    /// The platform's nonce, as it sent it (base64).
    pub nonce: String,
    /// The card's user-authentication certificate (base64 DER).
    pub card_certificate: String,
    /// ECDSA signature over the raw nonce bytes (base64, ASN.1 DER).
    pub signature: String,
    /// How the holder's presence was confirmed.
    pub method: VerificationMethod,
}

impl Assertion {
    /// The platform's type for the same assertion.
    pub fn to_platform(&self) -> CardAssertion {
        CardAssertion {
            nonce: self.nonce.clone(),
            card_certificate: self.card_certificate.clone(),
            signature: self.signature.clone(),
            method: self.method,
        }
    }

    /// The JSON request body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "nonce": self.nonce,
            "card_certificate": self.card_certificate,
            "signature": self.signature,
            "method": self.method,
        })
    }
}

/// A card reader attached to an office terminal.
#[derive(Debug)]
pub struct CardReader<R> {
    config: ReaderConfig,
    rng: R,
}

impl<R: Rng> CardReader<R> {
    /// A reader with `config`, drawing face-recognition outcomes from `rng`.
    pub fn new(config: ReaderConfig, rng: R) -> Result<CardReader<R>, ReaderError> {
        if !(0.0..=1.0).contains(&config.face_match_rate) {
            return Err(ReaderError::BadMatchRate);
        }
        Ok(CardReader { config, rng })
    }

    /// The configuration.
    pub fn config(&self) -> ReaderConfig {
        self.config
    }

    /// Reads `card`, confirms the holder by `presence`, and has the card sign `nonce` (the
    /// platform's base64 nonce) at `now`. A wrong PIN counts on the card.
    pub fn assert(
        &mut self,
        card: &mut Card,
        nonce: &str,
        presence: Presence,
        now: Timestamp,
    ) -> Result<Assertion, ReaderError> {
        let nonce_bytes = B64.decode(nonce).map_err(|_| ReaderError::BadNonce)?;
        match self.config.checks {
            ReaderChecks::Local => card.check(now.date_jst())?,
            ReaderChecks::PlatformOnly => {
                if card.is_lost() {
                    return Err(CardError::Lost.into());
                }
                if card.is_locked() {
                    return Err(CardError::Locked.into());
                }
            }
        }
        match presence {
            Presence::Pin(pin) => card.verify_pin(&pin)?,
            Presence::Face => {
                if !self.rng.random_bool(self.config.face_match_rate) {
                    return Err(ReaderError::FaceMismatch);
                }
            }
            Presence::Visual => {}
        }
        let signature = card.sign(&nonce_bytes)?;
        Ok(Assertion {
            nonce: nonce.to_owned(),
            card_certificate: B64.encode(card.certificate_der()),
            signature: B64.encode(signature),
            method: presence.method(),
        })
    }
}
