//! Validated identifiers of the long-term-care domain.
//!
//! Every identifier is a newtype over its ASCII characters that can only be built by
//! validation (`FromStr`, serde) or by generation from an injected random generator, so a
//! value of the type is always well formed. Check-digit rules and their sources are in
//! `research/domain-facts.md` §1–§3; each module repeats the rule it implements.
//!
//! The mod-11 schemes (My Number, municipality code) fold two remainders onto one check
//! digit, so some single-digit substitutions are undetectable *by the published rule*; see
//! [`check`] and the property tests, which pin exactly which ones.

pub mod check;
mod error;
mod insured_number;
mod insurer_number;
mod medical_code;
mod municipality_code;
mod my_number;
mod office_number;

pub use error::{IdError, IdKind};
pub use insured_number::InsuredNumber;
pub use insurer_number::InsurerNumber;
pub use medical_code::MedicalInstitutionCode;
pub use municipality_code::MunicipalityCode;
pub use my_number::{MyNumber, serde_exposed as my_number_serde_exposed};
pub use office_number::{CareOfficeNumber, OfficeCategory};

use rand::{Rng, RngExt};

/// Checks the length and the characters of `s` against `allowed(position) -> (ok, what)`
/// and returns its bytes. Positions are 1-based in errors, as people count them.
fn scan<const N: usize>(
    kind: IdKind,
    s: &str,
    allowed: impl Fn(usize, u8) -> Result<(), &'static str>,
) -> Result<[u8; N], IdError> {
    let found = s.chars().count();
    if found != N {
        return Err(IdError::Length {
            kind,
            expected: N,
            found,
        });
    }
    let mut out = [0u8; N];
    for (idx, ch) in s.chars().enumerate() {
        let byte = u8::try_from(ch).ok().filter(u8::is_ascii);
        let verdict = match byte {
            Some(b) => allowed(idx, b),
            // 0xFF fails every position's rule, which yields that position's description.
            None => Err(allowed(idx, 0xFF).err().unwrap_or("an ASCII character")),
        };
        if let Err(expected) = verdict {
            return Err(IdError::Character {
                kind,
                position: idx + 1,
                found: ch,
                expected,
            });
        }
        // Safe to index: `found == N` was checked above.
        out[idx] = byte.unwrap_or_default();
    }
    Ok(out)
}

/// Allows an ASCII digit.
fn digit(_: usize, b: u8) -> Result<(), &'static str> {
    if b.is_ascii_digit() {
        Ok(())
    } else {
        Err("a digit 0-9")
    }
}

/// Numeric value of an ASCII digit already validated by [`digit`].
fn value(b: u8) -> u8 {
    debug_assert!(b.is_ascii_digit());
    b - b'0'
}

/// Verifies the check character at `position` (0-based) against the computed one.
fn verify_check(kind: IdKind, bytes: &[u8], position: usize, expected: u8) -> Result<(), IdError> {
    let expected = char::from(b'0' + expected);
    let found = char::from(bytes[position]);
    if expected == found {
        Ok(())
    } else {
        Err(IdError::CheckDigit {
            kind,
            position: position + 1,
            expected,
            found,
        })
    }
}

/// Verifies that a two-digit prefecture field is 01–47 (JIS X 0401).
fn verify_prefecture(kind: IdKind, bytes: &[u8]) -> Result<(), IdError> {
    let found = value(bytes[0]) * 10 + value(bytes[1]);
    if (1..=47).contains(&found) {
        Ok(())
    } else {
        Err(IdError::Prefecture { kind, found })
    }
}

/// Writes `n` random ASCII digits.
fn random_digits<R: Rng + ?Sized>(rng: &mut R, out: &mut [u8]) {
    for b in out {
        *b = b'0' + rng.random_range(0..10u8);
    }
}

/// Writes a random prefecture 01–47 into the first two bytes.
fn random_prefecture<R: Rng + ?Sized>(rng: &mut R, out: &mut [u8]) {
    let p = rng.random_range(1..=47u8);
    out[0] = b'0' + p / 10;
    out[1] = b'0' + p % 10;
}

/// Implements the traits every identifier shares: `FromStr` and `TryFrom<&str>` through
/// `Self::parse`, `as_str`, and serde as a string. `Display`/`Debug`/`Serialize` are left to
/// the type (personal identifiers redact them).
macro_rules! common_id_impls {
    ($ty:ident) => {
        impl $ty {
            /// The identifier's characters.
            fn chars(&self) -> &str {
                // The bytes were validated as ASCII on construction.
                std::str::from_utf8(&self.0).unwrap_or_default()
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::id::IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<&str> for $ty {
            type Error = $crate::id::IdError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Public identifiers print as themselves.
macro_rules! public_id_impls {
    ($ty:ident) => {
        $crate::id::common_id_impls!($ty);
        impl $ty {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                self.chars()
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($ty), self.as_str())
            }
        }
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

use common_id_impls;
use public_id_impls;

#[cfg(test)]
mod tests;
