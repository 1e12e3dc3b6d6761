//! The municipality's counter (市区町村窓口) for the card operations that, by the JPKI rules,
//! only a municipality may perform (domain-facts §5.1, §5.3): unlocking a locked PIN (with a
//! new PIN), releasing the hold on a lost card that was found, and renewing the
//! user-authentication certificate.
//!
//! Each operation needs the card in the holder's hands at the holder's own municipality. The
//! municipality actor (planned) will own a counter; tests and scenarios can use one directly.

use kiban_core::id::MunicipalityCode;
use kiban_core::time::Timestamp;

use crate::card::{Card, CardError, Pin};
use crate::jlis::JlisMock;

/// The card counter of one municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MunicipalityCounter {
    municipality: MunicipalityCode,
}

impl MunicipalityCounter {
    /// The counter of `municipality`.
    pub fn new(municipality: MunicipalityCode) -> MunicipalityCounter {
        MunicipalityCounter { municipality }
    }

    /// The municipality.
    pub fn municipality(&self) -> MunicipalityCode {
        self.municipality
    }

    /// The card is presented here by its holder: in hand, and a resident of this
    /// municipality.
    fn presented(&self, card: &Card) -> Result<(), CardError> {
        if card.is_lost() {
            return Err(CardError::Lost);
        }
        let expected = card.holder().residence;
        if expected != self.municipality {
            return Err(CardError::WrongMunicipality { expected });
        }
        Ok(())
    }

    /// Unlocks the PIN (locked or not) and sets `new_pin`, after checking the holder's photo
    /// ID. A face-authentication card has no PIN to unlock.
    pub fn unlock_pin(&self, card: &mut Card, new_pin: Pin) -> Result<(), CardError> {
        self.presented(card)?;
        if card.is_revoked() {
            return Err(CardError::Revoked);
        }
        card.reset_pin(new_pin)
    }

    /// Releases J-LIS's hold on a card that was reported lost and has been found
    /// ([`Card::found`]). Refused for a card still lost, one whose certificate was revoked,
    /// or one that is not on hold.
    pub fn release_hold(&self, card: &Card, jlis: &JlisMock) -> Result<(), CardError> {
        self.presented(card)?;
        jlis.release(card)
    }

    /// Renews the card's user-authentication certificate at `now` (from 3 months before its
    /// expiry, or after it expired while the card is still valid); the old certificate is
    /// revoked and the card keeps its card link.
    pub fn renew_certificate(
        &self,
        card: &mut Card,
        jlis: &JlisMock,
        now: Timestamp,
    ) -> Result<(), CardError> {
        self.presented(card)?;
        jlis.renew(card, now)
    }
}
