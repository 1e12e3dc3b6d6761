//! 全国地方公共団体コード: 2-digit prefecture, 3-digit municipality, a mod-11 check digit.

use rand::Rng;

use super::{IdError, IdKind, check, digit, scan, value, verify_check, verify_prefecture};

/// A valid 6-digit municipality code, e.g. `141003` (横浜市).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode([u8; 6]);

impl MunicipalityCode {
    /// Validates 6 digits: prefecture 01–47 and a correct check digit.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = scan::<6>(IdKind::MunicipalityCode, s, digit)?;
        verify_check(
            IdKind::MunicipalityCode,
            &bytes,
            5,
            check::municipality(&body(&bytes)),
        )?;
        verify_prefecture(IdKind::MunicipalityCode, &bytes)?;
        Ok(Self(bytes))
    }

    /// Accepts the 5-digit form many systems use (no check digit) as well as the 6-digit
    /// form, and normalises to 6 digits.
    pub fn parse_lenient(s: &str) -> Result<Self, IdError> {
        if s.chars().count() != 5 {
            return Self::parse(s);
        }
        let five = scan::<5>(IdKind::MunicipalityCode, s, digit)?;
        Self::parse(&Self::with_check(five).to_string())
    }

    /// A random valid code drawn from `rng` (prefecture 01–47, any 3-digit local part).
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut five = [0u8; 5];
        super::random_prefecture(rng, &mut five);
        super::random_digits(rng, &mut five[2..]);
        Self::with_check(five)
    }

    /// The 2-digit prefecture code (1–47).
    pub fn prefecture(&self) -> u8 {
        value(self.0[0]) * 10 + value(self.0[1])
    }

    /// The first five digits (the code without its check digit).
    pub fn five_digits(&self) -> &str {
        &self.as_str()[..5]
    }

    fn with_check(five: [u8; 5]) -> Self {
        let mut bytes = [0u8; 6];
        bytes[..5].copy_from_slice(&five);
        bytes[5] = b'0' + check::municipality(&std::array::from_fn(|i| value(five[i])));
        Self(bytes)
    }
}

fn body(bytes: &[u8; 6]) -> [u8; 5] {
    std::array::from_fn(|i| value(bytes[i]))
}

super::public_id_impls!(MunicipalityCode);
