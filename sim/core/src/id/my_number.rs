//! 個人番号 (My Number): 12 digits, the last a mod-11 check digit (see [`super::check`]).
//!
//! A My Number is personal: `Debug` and `Display` print a redacted form, there is no
//! `Serialize`, and the digits come out only through [`MyNumber::expose`] or the explicit
//! [`serde_exposed`] helper. Only the card, J-LIS and municipality mocks should call either.

use std::fmt;

use rand::Rng;

use super::{IdError, IdKind, check, digit, random_digits, scan, value, verify_check};

/// A valid 個人番号. Prints as `MyNumber(redacted)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MyNumber([u8; 12]);

impl MyNumber {
    /// Validates 12 digits with a correct check digit.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = scan::<12>(IdKind::MyNumber, s, digit)?;
        verify_check(
            IdKind::MyNumber,
            &bytes,
            11,
            check::my_number(&Self::body(&bytes)),
        )?;
        Ok(Self(bytes))
    }

    /// A random valid My Number drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 12];
        random_digits(rng, &mut bytes[..11]);
        bytes[11] = b'0' + check::my_number(&Self::body(&bytes));
        Self(bytes)
    }

    /// The 12 digits. Named so that every disclosure is visible in review.
    pub fn expose(&self) -> &str {
        self.chars()
    }

    fn body(bytes: &[u8; 12]) -> [u8; 11] {
        std::array::from_fn(|i| value(bytes[i]))
    }
}

super::common_id_impls!(MyNumber);

impl fmt::Debug for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MyNumber(redacted)")
    }
}

impl fmt::Display for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[My Number redacted]")
    }
}

/// Serialises a My Number in full, for the few wire formats that must carry it (the card's
/// and J-LIS's). Use as `#[serde(with = "kiban_core::id::my_number_serde_exposed")]`.
pub mod serde_exposed {
    use super::MyNumber;

    /// Writes the 12 digits.
    pub fn serialize<S: serde::Serializer>(n: &MyNumber, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(n.expose())
    }

    /// Reads and validates the 12 digits.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<MyNumber, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}
