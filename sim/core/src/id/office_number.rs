//! 介護保険事業所番号: prefecture (2), office category (1, the only place a letter may
//! stand), district (2), office (4), check (1). The check digit is mod 10 weights 2-1 split
//! digits over character values, letters A=10 … Z=32 skipping I, O and Q (domain-facts §3.3).

use rand::{Rng, RngExt};

use super::{
    IdError, IdKind, check, digit, random_digits, random_prefecture, scan, verify_check,
    verify_prefecture,
};

/// Letters allowed in the category position, in value order from 10.
const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A valid care-office number, e.g. `2875104529` or `13A0100019`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CareOfficeNumber([u8; 10]);

/// What the third character says about an office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeCategory {
    /// `0`: 地域包括支援センター (office 0001–4999) or a transitional 総合事業 office (5000–9999).
    CommunityOrTransitional,
    /// `7`: 指定事業所.
    Designated,
    /// `8`: 基準該当事業所.
    StandardEquivalent,
    /// `9`: 地域密着型サービス事業所.
    CommunityBased,
    /// `A`: 介護予防・日常生活支援総合事業 事業所.
    Comprehensive,
    /// `1`, `3`–`6`: an office deemed designated that uses its 医療機関等コード.
    DeemedMedical,
    /// Any other character: allowed by the format, meaning not documented.
    Other,
}

impl CareOfficeNumber {
    /// Validates the format and the check digit, then the prefecture.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = scan::<10>(IdKind::CareOfficeNumber, s, |idx, b| {
            if idx != 2 {
                return digit(idx, b);
            }
            if b.is_ascii_digit() || LETTERS.contains(&b) {
                Ok(())
            } else {
                Err("a digit or an upper-case letter other than I, O and Q")
            }
        })?;
        verify_check(IdKind::CareOfficeNumber, &bytes, 9, check_of(&bytes))?;
        verify_prefecture(IdKind::CareOfficeNumber, &bytes)?;
        Ok(Self(bytes))
    }

    /// A random valid number drawn from `rng`; the category is one of the documented ones.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        const CATEGORIES: &[u8] = b"0789A";
        let mut bytes = [0u8; 10];
        random_prefecture(rng, &mut bytes);
        random_digits(rng, &mut bytes[3..9]);
        bytes[2] = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        bytes[9] = b'0' + check_of(&bytes);
        Self(bytes)
    }

    /// The office category from the third character.
    pub fn category(&self) -> OfficeCategory {
        match self.0[2] {
            b'0' => OfficeCategory::CommunityOrTransitional,
            b'7' => OfficeCategory::Designated,
            b'8' => OfficeCategory::StandardEquivalent,
            b'9' => OfficeCategory::CommunityBased,
            b'A' => OfficeCategory::Comprehensive,
            b'1' | b'3' | b'4' | b'5' | b'6' => OfficeCategory::DeemedMedical,
            _ => OfficeCategory::Other,
        }
    }
}

/// The numeric value of a character of the body: digits 0–9, letters 10–32.
fn char_value(b: u8) -> u8 {
    match LETTERS.iter().position(|&l| l == b) {
        // `position` is below 23, so the sum fits a u8.
        Some(pos) => 10 + pos as u8,
        None => b - b'0',
    }
}

fn check_of(bytes: &[u8; 10]) -> u8 {
    let values: [u8; 9] = std::array::from_fn(|i| char_value(bytes[i]));
    check::luhn(&values)
}

super::public_id_impls!(CareOfficeNumber);
