//! 医療機関コード (医療機関等コード): prefecture (2), score-table number (1), district (2),
//! institution (4), check (1, Luhn over the nine digits before it; domain-facts §3.4).

use rand::{Rng, RngExt};

use super::{
    IdError, IdKind, check, random_digits, random_prefecture, scan, value, verify_check,
    verify_prefecture,
};

/// Score-table numbers of the 医療機関等コード family: 医科, 歯科, 薬局, 老健, 訪問看護.
const TABLES: &[u8] = b"13456";

/// A valid 10-digit medical-institution code, e.g. `0110113719`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MedicalInstitutionCode([u8; 10]);

impl MedicalInstitutionCode {
    /// Validates 10 digits, the score-table number and the check digit, then the prefecture.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = scan::<10>(IdKind::MedicalInstitutionCode, s, |idx, b| match idx {
            2 if TABLES.contains(&b) => Ok(()),
            2 => Err("1 (医科), 3 (歯科), 4 (薬局), 5 (老健) or 6 (訪問看護)"),
            _ => super::digit(idx, b),
        })?;
        verify_check(IdKind::MedicalInstitutionCode, &bytes, 9, check_of(&bytes))?;
        verify_prefecture(IdKind::MedicalInstitutionCode, &bytes)?;
        Ok(Self(bytes))
    }

    /// A random valid code drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 10];
        random_prefecture(rng, &mut bytes);
        bytes[2] = TABLES[rng.random_range(0..TABLES.len())];
        random_digits(rng, &mut bytes[3..9]);
        bytes[9] = b'0' + check_of(&bytes);
        Self(bytes)
    }

    /// The score-table number: 1 医科, 3 歯科, 4 薬局, 5 老健, 6 訪問看護.
    pub fn score_table(&self) -> u8 {
        value(self.0[2])
    }
}

fn check_of(bytes: &[u8; 10]) -> u8 {
    let values: [u8; 9] = std::array::from_fn(|i| value(bytes[i]));
    check::luhn(&values)
}

super::public_id_impls!(MedicalInstitutionCode);
