//! 介護保険 被保険者番号: 10 characters assigned by the insurer. No national check-digit rule
//! is published (domain-facts §3.2), so the number is opaque: 10 upper-case letters or
//! digits, as production validators check it. Numbers of みなし2号 (welfare recipients aged
//! 40–64 without health insurance) begin with `H`.

use rand::Rng;

use super::{IdError, IdKind, random_digits, scan};

/// A valid insured number, e.g. `0000012345` or `H000012345`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsuredNumber([u8; 10]);

impl InsuredNumber {
    /// Validates 10 characters, each an upper-case ASCII letter or a digit.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        scan::<10>(IdKind::InsuredNumber, s, |_, b| {
            if b.is_ascii_digit() || b.is_ascii_uppercase() {
                Ok(())
            } else {
                Err("a digit or an upper-case letter A-Z")
            }
        })
        .map(Self)
    }

    /// A random 10-digit insured number drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 10];
        random_digits(rng, &mut bytes);
        Self(bytes)
    }

    /// A random みなし2号 number (`H` and 9 digits) drawn from `rng`.
    pub fn random_deemed_second_category<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [b'H'; 10];
        random_digits(rng, &mut bytes[1..]);
        Self(bytes)
    }

    /// Whether this is a みなし2号 number (starts with `H`): the holder is not an insured
    /// person and is covered by public assistance.
    pub fn is_deemed_second_category(&self) -> bool {
        self.0[0] == b'H'
    }
}

super::public_id_impls!(InsuredNumber);
