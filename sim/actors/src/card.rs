//! Virtual My Number cards (マイナンバーカード) with their 利用者証明用 (user-authentication)
//! certificate, the 4-digit PIN and its lockout, validity by the birthday rules, loss and
//! revocation (domain-facts §5).
//!
//! A card is issued by the J-LIS mock ([`crate::jlis::JlisMock::issue_card`]), which signs
//! its certificate with the virtual J-LIS CA and records the certificate under the holder's
//! opaque card link. The card holds the private key; only a card reader of this crate can make
//! it sign, after the holder's presence was confirmed (PIN, face or staff's visual check).
//!
//! The rules, each with its source:
//! - **Card validity** (§5.2): issued at 18 or older, valid until the 10th birthday after
//!   issue; issued under 18, until the 5th birthday. The expiry day itself is still valid.
//! - **Certificate validity** (§5.2): until the 5th birthday after issue, at any age, and
//!   never beyond the card. Renewal is possible from 3 months before the expiry.
//! - **PIN** (§5.1): 4 digits; 3 consecutive wrong entries lock it; a correct entry resets the
//!   counter; time does not; unlocking is done only at the municipality
//!   ([`crate::counter::MunicipalityCounter`]), which also sets a new PIN.
//! - **Loss** (§5.3): reporting a loss suspends the card at J-LIS (一時停止); a found card is
//!   released only at the municipality; otherwise the certificate is revoked (失効).
//! - **Face-authentication card** (§5.4, 顔認証マイナンバーカード): no PIN; usable through face
//!   recognition or the staff's visual check only.
//!
//! Birthdays of people born on 29 February fall on 28 February in common years (see
//! [`crate::calendar`]). A locked card produces no assertion by any method (conservative:
//! whether face recognition still works on a PIN-locked card is not confirmed).
//!
//! The My Number is on the card (the municipality mock will read it at the counter) but is
//! never in the certificate, which names only the opaque card serial, and never in anything the
//! platform receives.

use std::fmt;

use kiban_certs::{CardSerial, IssuedCertificate, PkiError, Serial, Validity};
use kiban_core::id::{MunicipalityCode, MyNumber};
use kiban_core::time::{Date, Timestamp};
use rand::{Rng, RngExt};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
};
use rustls::pki_types::PrivateKeyDer;

use crate::calendar::{age_on, nth_birthday_after};

/// Consecutive wrong PIN entries that lock the user-authentication PIN.
pub const PIN_ATTEMPTS: u8 = 3;

/// Age from which a card is issued for 10 birthdays instead of 5 (20 for applications before
/// 2022-04-01; this simulation issues under the current rule).
pub const ADULT_AGE: u32 = 18;

/// Months before the certificate's expiry from which it can be renewed.
pub const RENEWAL_WINDOW_MONTHS: i32 = 3;

/// Why a card operation did not happen. Each state a card can be in that stops its use is
/// a distinct variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The card was reported lost: the holder does not have it.
    #[error("the card was reported lost; the holder does not have it")]
    Lost,
    /// The PIN is locked after [`PIN_ATTEMPTS`] wrong entries.
    #[error("the PIN is locked after 3 wrong entries; it can be unlocked only at the municipality")]
    Locked,
    /// A wrong PIN; `remaining` entries are left before the lock (0: the card is now locked).
    #[error("wrong PIN; {remaining} attempt(s) left before the lock")]
    WrongPin {
        /// Entries left before the lock.
        remaining: u8,
    },
    /// The card itself is past its expiry day.
    #[error("the card expired (last valid day {0})")]
    CardExpired(Date),
    /// The user-authentication certificate is past its expiry day.
    #[error("the user-authentication certificate expired (last valid day {0})")]
    CertificateExpired(Date),
    /// The card's certificate was revoked (失効) at J-LIS.
    #[error("the card's certificate was revoked")]
    Revoked,
    /// A face-authentication card has no PIN.
    #[error("this is a face-authentication card without a PIN")]
    NoPin,
    /// A PIN that is not 4 digits.
    #[error("a PIN is 4 digits")]
    InvalidPin,
    /// The card is handled only at the holder's municipality.
    #[error("this card is handled at the holder's municipality {expected}")]
    WrongMunicipality {
        /// The holder's municipality.
        expected: MunicipalityCode,
    },
    /// The holder's birth date is after the issue date.
    #[error("the holder was born after the issue date")]
    BornAfterIssue,
    /// Releasing a hold on a card that is not on hold.
    #[error("the card is not on hold at J-LIS")]
    NotOnHold,
    /// A certificate renewal before the renewal window opens.
    #[error("the certificate can be renewed from {0}")]
    RenewalTooEarly(Date),
    /// J-LIS does not know the card's certificate.
    #[error("J-LIS has no record of this card's certificate")]
    UnknownToJlis,
    /// The virtual J-LIS CA could not issue the certificate.
    #[error("certificate issuance failed: {0}")]
    Pki(String),
    /// The card's key could not be loaded or could not sign.
    #[error("the card's key cannot sign: {0}")]
    Key(&'static str),
}

impl From<PkiError> for CardError {
    fn from(e: PkiError) -> Self {
        CardError::Pki(e.to_string())
    }
}

/// The 4-digit PIN of the user-authentication certificate. Prints as `Pin(****)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Pin([u8; 4]);

impl Pin {
    /// Validates 4 ASCII digits.
    pub fn parse(text: &str) -> Result<Pin, CardError> {
        let bytes: [u8; 4] = text
            .as_bytes()
            .try_into()
            .map_err(|_| CardError::InvalidPin)?;
        if bytes.iter().all(u8::is_ascii_digit) {
            Ok(Pin(bytes))
        } else {
            Err(CardError::InvalidPin)
        }
    }

    /// A random PIN drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Pin {
        Pin(std::array::from_fn(|_| b'0' + rng.random_range(0..10u8)))
    }

    /// A different PIN (the next one, cyclically): what a holder who mistypes enters.
    pub fn wrong(&self) -> Pin {
        let n = self
            .0
            .iter()
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
        let next = (n + 1) % 10_000;
        Pin([
            b'0' + (next / 1000) as u8,
            b'0' + (next / 100 % 10) as u8,
            b'0' + (next / 10 % 10) as u8,
            b'0' + (next % 10) as u8,
        ])
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// What the card face says about its holder (no My Number: that is kept apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolder {
    /// Full name as printed, e.g. `佐藤 和子`.
    pub name: String,
    /// Birth date.
    pub birth_date: Date,
    /// The municipality of residence (where the card is handled).
    pub residence: MunicipalityCode,
}

/// The validity of a card and of its current certificate; each end is the **last valid day**
/// (JST), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardValidity {
    /// The day the card was issued.
    pub issued_on: Date,
    /// The card's last valid day.
    pub card_through: Date,
    /// The day the current certificate was issued.
    pub certificate_issued_on: Date,
    /// The current certificate's last valid day (never after `card_through`).
    pub certificate_through: Date,
}

impl CardValidity {
    /// The validity of a card and its first certificate issued on `issued_on` to a holder born
    /// on `birth_date`.
    pub fn at_issue(birth_date: Date, issued_on: Date) -> Result<CardValidity, CardError> {
        if birth_date > issued_on {
            return Err(CardError::BornAfterIssue);
        }
        let birthdays = if age_on(birth_date, issued_on) >= ADULT_AGE {
            10
        } else {
            5
        };
        let card_through = nth_birthday_after(birth_date, issued_on, birthdays);
        Ok(CardValidity {
            issued_on,
            card_through,
            certificate_issued_on: issued_on,
            certificate_through: certificate_through(birth_date, issued_on, card_through),
        })
    }

    /// The validity after the certificate is renewed on `on`.
    pub fn renewed(self, birth_date: Date, on: Date) -> CardValidity {
        CardValidity {
            certificate_issued_on: on,
            certificate_through: certificate_through(birth_date, on, self.card_through),
            ..self
        }
    }

    /// The first day the current certificate may be renewed.
    pub fn renewal_opens(&self) -> Date {
        self.certificate_through.plus_months(-RENEWAL_WINDOW_MONTHS)
    }
}

fn certificate_through(birth_date: Date, on: Date, card_through: Date) -> Date {
    nth_birthday_after(birth_date, on, 5).min(card_through)
}

/// The X.509 validity of a certificate issued at `issued_at` whose last valid day is `through`
/// (notAfter is the last second of that JST day; X.509 ends are inclusive).
pub fn x509_validity(issued_at: Timestamp, through: Date) -> Result<Validity, CardError> {
    let not_after = through.plus_days(1).midnight_jst().plus_seconds(-1);
    Ok(Validity::new(issued_at, not_after)?)
}

/// A virtual My Number card. Not `Clone`: a card is one physical object.
pub struct Card {
    holder: CardHolder,
    my_number: MyNumber,
    serial: CardSerial,
    certificate: Vec<u8>,
    certificate_serial: Serial,
    key: EcdsaKeyPair,
    validity: CardValidity,
    pin: Option<Pin>,
    pin_failures: u8,
    lost: bool,
    revoked: bool,
}

impl fmt::Debug for Card {
    /// The serial and state; never the key, the PIN or the My Number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("serial", &self.serial)
            .field("certificate_serial", &self.certificate_serial)
            .field("validity", &self.validity)
            .field("face_only", &self.pin.is_none())
            .field("pin_failures", &self.pin_failures)
            .field("lost", &self.lost)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl Card {
    /// A card around a freshly issued certificate (the J-LIS mock calls this).
    pub(crate) fn new(
        holder: CardHolder,
        my_number: MyNumber,
        serial: CardSerial,
        issued: &IssuedCertificate,
        validity: CardValidity,
        pin: Option<Pin>,
    ) -> Result<Card, CardError> {
        Ok(Card {
            holder,
            my_number,
            serial,
            certificate: issued.der().to_vec(),
            certificate_serial: issued.serial().clone(),
            key: key_pair(issued)?,
            validity,
            pin,
            pin_failures: 0,
            lost: false,
            revoked: false,
        })
    }

    /// The holder as printed on the card.
    pub fn holder(&self) -> &CardHolder {
        &self.holder
    }

    /// The holder's My Number (redacted in `Debug`/`Display`). For the municipality mock at
    /// its counter; never for anything the platform receives.
    pub fn my_number(&self) -> &MyNumber {
        &self.my_number
    }

    /// The opaque card serial the certificate names.
    pub fn serial(&self) -> &CardSerial {
        &self.serial
    }

    /// The current user-authentication certificate (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    /// The current certificate's serial number (what the platform asks J-LIS about).
    pub fn certificate_serial(&self) -> &Serial {
        &self.certificate_serial
    }

    /// Card and certificate validity.
    pub fn validity(&self) -> CardValidity {
        self.validity
    }

    /// Whether this is a face-authentication card (no PIN).
    pub fn is_face_only(&self) -> bool {
        self.pin.is_none()
    }

    /// Consecutive wrong PIN entries so far.
    pub fn pin_failures(&self) -> u8 {
        self.pin_failures
    }

    /// Whether the PIN is locked.
    pub fn is_locked(&self) -> bool {
        self.pin_failures >= PIN_ATTEMPTS
    }

    /// Whether the card is reported lost (the holder does not have it).
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// Whether the certificate was revoked through the holder's own request or loss.
    pub fn is_revoked(&self) -> bool {
        self.revoked
    }

    /// The holder found the lost card: it is in hand again, but J-LIS keeps it on hold until
    /// the municipality releases it.
    pub fn found(&mut self) {
        self.lost = false;
    }

    /// What stops the card's use on `on`, in this order: lost, revoked, card expired,
    /// certificate expired, PIN locked. `Ok` if nothing the holder's side knows of does
    /// (J-LIS may still know of a revocation the card does not).
    pub fn check(&self, on: Date) -> Result<(), CardError> {
        if self.lost {
            return Err(CardError::Lost);
        }
        if self.revoked {
            return Err(CardError::Revoked);
        }
        if on > self.validity.card_through {
            return Err(CardError::CardExpired(self.validity.card_through));
        }
        if on > self.validity.certificate_through {
            return Err(CardError::CertificateExpired(
                self.validity.certificate_through,
            ));
        }
        if self.is_locked() {
            return Err(CardError::Locked);
        }
        Ok(())
    }

    /// Enters a PIN on the card: a correct PIN resets the failure counter; a wrong one counts,
    /// and the third consecutive wrong one locks the PIN. A locked, lost or PIN-less card
    /// refuses without counting.
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        if self.lost {
            return Err(CardError::Lost);
        }
        let Some(expected) = self.pin else {
            return Err(CardError::NoPin);
        };
        if self.is_locked() {
            return Err(CardError::Locked);
        }
        if *pin == expected {
            self.pin_failures = 0;
            Ok(())
        } else {
            self.pin_failures += 1;
            Err(CardError::WrongPin {
                remaining: PIN_ATTEMPTS.saturating_sub(self.pin_failures),
            })
        }
    }

    /// Signs `message` with the card's key (ECDSA, ASN.1 DER). Only readers call this, after
    /// confirming the holder's presence; a lost or locked card does not sign.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CardError> {
        if self.lost {
            return Err(CardError::Lost);
        }
        if self.is_locked() {
            return Err(CardError::Locked);
        }
        let signature = self
            .key
            .sign(&SystemRandom::new(), message)
            .map_err(|_| CardError::Key("the system random generator failed"))?;
        Ok(signature.as_ref().to_vec())
    }

    /// Resets the PIN counter and sets `new_pin` (the municipality's counter).
    pub(crate) fn reset_pin(&mut self, new_pin: Pin) -> Result<(), CardError> {
        if self.pin.is_none() {
            return Err(CardError::NoPin);
        }
        self.pin = Some(new_pin);
        self.pin_failures = 0;
        Ok(())
    }

    /// Marks the card lost (the holder no longer has it).
    pub(crate) fn mark_lost(&mut self) {
        self.lost = true;
    }

    /// Marks the card's certificate revoked.
    pub(crate) fn mark_revoked(&mut self) {
        self.revoked = true;
    }

    /// Replaces the certificate after a renewal.
    pub(crate) fn replace_certificate(
        &mut self,
        issued: &IssuedCertificate,
        validity: CardValidity,
    ) -> Result<(), CardError> {
        self.key = key_pair(issued)?;
        self.certificate = issued.der().to_vec();
        self.certificate_serial = issued.serial().clone();
        self.validity = validity;
        Ok(())
    }
}

/// The ring signing key of an issued certificate (P-256, or P-384 for a P-384 J-LIS CA).
fn key_pair(issued: &IssuedCertificate) -> Result<EcdsaKeyPair, CardError> {
    let PrivateKeyDer::Pkcs8(pkcs8) = issued.private_key() else {
        return Err(CardError::Key("the card key is not PKCS#8"));
    };
    let der = pkcs8.secret_pkcs8_der();
    let random = SystemRandom::new();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &random)
        .or_else(|_| EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, der, &random))
        .map_err(|_| CardError::Key("the card key is not ECDSA P-256 or P-384"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// (birth, issued on, card last day, certificate last day, why)
    const CASES: &[(&str, &str, &str, &str, &str)] = &[
        (
            "1950-06-15",
            "2021-03-01",
            "2030-06-15",
            "2025-06-15",
            "adult: card 10 birthdays, certificate 5",
        ),
        (
            "1950-06-15",
            "2021-06-15",
            "2031-06-15",
            "2026-06-15",
            "issued on the birthday: that birthday is not counted",
        ),
        (
            "1950-06-15",
            "2021-06-14",
            "2030-06-15",
            "2025-06-15",
            "issued the day before a birthday: it is the first one",
        ),
        (
            "2008-04-02",
            "2026-04-01",
            "2030-04-02",
            "2030-04-02",
            "17 on the issue day: card 5 birthdays, certificate the same",
        ),
        (
            "2008-04-01",
            "2026-04-01",
            "2036-04-01",
            "2031-04-01",
            "18 on the issue day (the birthday): adult rule",
        ),
        (
            "2020-01-10",
            "2023-05-05",
            "2028-01-10",
            "2028-01-10",
            "a child: card and certificate 5 birthdays",
        ),
        (
            "1952-02-29",
            "2024-03-01",
            "2034-02-28",
            "2029-02-28",
            "29 February: birthdays fall on 28 February in common years",
        ),
        (
            "1952-02-29",
            "2023-03-01",
            "2033-02-28",
            "2028-02-29",
            "29 February: the 5th birthday is in a leap year, the 10th is not",
        ),
        (
            "1952-02-29",
            "2027-02-28",
            "2037-02-28",
            "2032-02-29",
            "issued on the common-year birthday (28 February): not counted",
        ),
    ];

    #[test]
    fn validity_follows_the_birthday_rules() {
        for (birth, issued, card, cert, why) in CASES {
            let v = CardValidity::at_issue(d(birth), d(issued)).unwrap();
            assert_eq!(
                (v.card_through, v.certificate_through),
                (d(card), d(cert)),
                "{why}"
            );
            assert!(v.certificate_through <= v.card_through, "{why}");
        }
    }

    #[test]
    fn a_renewed_certificate_never_outlives_the_card() {
        let birth = d("1950-06-15");
        let v = CardValidity::at_issue(birth, d("2021-03-01")).unwrap();
        assert_eq!(v.renewal_opens(), d("2025-03-15"));
        let renewed = v.renewed(birth, d("2025-04-01"));
        assert_eq!(renewed.certificate_through, d("2029-06-15"));
        assert_eq!(renewed.certificate_issued_on, d("2025-04-01"));
        assert_eq!(renewed.card_through, v.card_through);
        let again = renewed.renewed(birth, d("2029-04-01"));
        assert_eq!(
            again.certificate_through,
            d("2030-06-15"),
            "capped by the card"
        );
    }

    #[test]
    fn a_holder_born_after_the_issue_date_is_refused() {
        assert_eq!(
            CardValidity::at_issue(d("2030-01-01"), d("2026-01-01")),
            Err(CardError::BornAfterIssue)
        );
    }

    #[test]
    fn x509_validity_ends_at_the_last_second_of_the_last_day() {
        let issued = d("2021-03-01").midnight_jst().plus_seconds(3600);
        let v = x509_validity(issued, d("2025-06-15")).unwrap();
        assert_eq!(v.not_after.to_string(), "2025-06-15T23:59:59+09:00");
        assert_eq!(v.not_before, issued);
    }

    #[test]
    fn pins_are_four_digits_and_never_print() {
        assert!(Pin::parse("0123").is_ok());
        for bad in ["123", "12345", "12a4", "１２３４", ""] {
            assert_eq!(Pin::parse(bad), Err(CardError::InvalidPin), "{bad:?}");
        }
        let pin = Pin::parse("0420").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert_eq!(pin.wrong(), Pin::parse("0421").unwrap());
        assert_eq!(
            Pin::parse("9999").unwrap().wrong(),
            Pin::parse("0000").unwrap()
        );
    }
}
