//! 介護保険 保険者番号: the 5-digit JIS municipality code and a mod-10 weights-2-1 check digit
//! (domain-facts §3.1; not the municipality code's mod-11 digit).

use rand::Rng;

use super::{
    IdError, IdKind, MunicipalityCode, check, digit, random_digits, random_prefecture, scan, value,
    verify_check, verify_prefecture,
};

/// A valid 6-digit insurer number, e.g. `131011` (千代田区).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsurerNumber([u8; 6]);

impl InsurerNumber {
    /// Validates 6 digits: a correct check digit and prefecture 01–47.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = scan::<6>(IdKind::InsurerNumber, s, digit)?;
        verify_check(IdKind::InsurerNumber, &bytes, 5, luhn_of(&bytes[..5]))?;
        verify_prefecture(IdKind::InsurerNumber, &bytes)?;
        Ok(Self(bytes))
    }

    /// The insurer number a municipality uses as insurer: its 5-digit code and the mod-10
    /// check digit. (Whether designated cities number per ward nationally is not confirmed;
    /// the simulation uses one insurer per row of the municipality data.)
    pub fn for_municipality(code: MunicipalityCode) -> Self {
        let mut five = [0u8; 5];
        five.copy_from_slice(code.five_digits().as_bytes());
        Self::with_check(five)
    }

    /// A random valid insurer number drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut five = [0u8; 5];
        random_prefecture(rng, &mut five);
        random_digits(rng, &mut five[2..]);
        Self::with_check(five)
    }

    fn with_check(five: [u8; 5]) -> Self {
        let mut bytes = [0u8; 6];
        bytes[..5].copy_from_slice(&five);
        bytes[5] = b'0' + luhn_of(&five);
        Self(bytes)
    }
}

fn luhn_of(ascii: &[u8]) -> u8 {
    let values: [u8; 5] = std::array::from_fn(|i| value(ascii[i]));
    check::luhn(&values)
}

super::public_id_impls!(InsurerNumber);
