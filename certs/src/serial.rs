//! Certificate serial numbers: the key of the inventory, of revocation and of the
//! per-request revocation check.
//!
//! A serial is kept in canonical form: the big-endian bytes of a positive integer without
//! leading zero bytes. It prints as upper-case hex without separators, as
//! `openssl x509 -serial` does, and parses from hex with or without `:` separators.

use std::fmt;
use std::str::FromStr;

use ring::rand::{SecureRandom, SystemRandom};

/// Number of random bytes in a serial this crate issues (RFC 5280 allows up to 20).
const ISSUED_LEN: usize = 16;

/// A certificate serial number in canonical form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Vec<u8>);

/// A text or byte string that is not a serial number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// Nothing but zeros or separators.
    #[error("a serial number must be a positive hex number")]
    Zero,
    /// Longer than RFC 5280's 20 octets.
    #[error("a serial number has at most 20 bytes (40 hex digits), found {0}")]
    TooLong(usize),
    /// A character other than a hex digit or `:`.
    #[error("a serial number is hex digits (optionally separated by ':'), found {0:?}")]
    Character(char),
}

impl Serial {
    /// A fresh random serial: 16 bytes from the operating system's generator, top bit
    /// clear and first byte non-zero, so it always encodes as 16 DER content bytes.
    pub fn random() -> Result<Serial, ring::error::Unspecified> {
        let mut bytes = [0u8; ISSUED_LEN];
        SystemRandom::new().fill(&mut bytes)?;
        bytes[0] = (bytes[0] & 0x7f) | 0x40;
        Ok(Serial(bytes.to_vec()))
    }

    /// The serial of big-endian integer bytes as found in DER (a leading zero byte that
    /// only marks the number positive is dropped).
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Serial, SerialError> {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .ok_or(SerialError::Zero)?;
        let body = &bytes[start..];
        if body.len() > 20 {
            return Err(SerialError::TooLong(body.len()));
        }
        Ok(Serial(body.to_vec()))
    }

    /// The canonical big-endian bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The serial as rcgen takes it.
    pub(crate) fn to_rcgen(&self) -> rcgen::SerialNumber {
        rcgen::SerialNumber::from_slice(&self.0)
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({self})")
    }
}

impl FromStr for Serial {
    type Err = SerialError;

    fn from_str(s: &str) -> Result<Serial, SerialError> {
        let mut digits = Vec::with_capacity(s.len());
        for ch in s.chars() {
            match ch {
                ':' => {}
                _ => digits.push(
                    u8::try_from(ch.to_digit(16).ok_or(SerialError::Character(ch))?)
                        // A hex digit is below 16.
                        .unwrap_or_default(),
                ),
            }
        }
        // Skip leading zero digits so the length check counts significant bytes only.
        let start = digits
            .iter()
            .position(|&d| d != 0)
            .ok_or(SerialError::Zero)?;
        let digits = &digits[start..];
        let mut bytes = Vec::with_capacity(digits.len() / 2 + 1);
        let odd = digits.len() % 2 == 1;
        if odd {
            bytes.push(digits[0]);
        }
        for pair in digits[usize::from(odd)..].chunks(2) {
            bytes.push(pair[0] << 4 | pair[1]);
        }
        Serial::from_be_bytes(&bytes)
    }
}

impl serde::Serialize for Serial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Serial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_serials_are_sixteen_positive_bytes_and_differ() {
        let a = Serial::random().unwrap();
        let b = Serial::random().unwrap();
        assert_eq!(a.as_bytes().len(), 16);
        assert!(a.as_bytes()[0] >= 0x40 && a.as_bytes()[0] < 0x80);
        assert_ne!(a, b);
    }

    #[test]
    fn text_round_trips_and_accepts_openssl_forms() {
        let s = Serial::from_be_bytes(&[0x00, 0x8a, 0x01]).unwrap();
        assert_eq!(s.to_string(), "8A01");
        assert_eq!("8a01".parse::<Serial>().unwrap(), s);
        assert_eq!("8A:01".parse::<Serial>().unwrap(), s);
        assert_eq!("08A01".parse::<Serial>().unwrap(), s);
        assert_eq!("A01".parse::<Serial>().unwrap().as_bytes(), &[0x0a, 0x01]);
    }

    #[test]
    fn bad_serials_say_why() {
        assert_eq!("00:00".parse::<Serial>(), Err(SerialError::Zero));
        assert_eq!("".parse::<Serial>(), Err(SerialError::Zero));
        assert_eq!("12g4".parse::<Serial>(), Err(SerialError::Character('g')));
        assert_eq!(
            "ab".repeat(21).parse::<Serial>(),
            Err(SerialError::TooLong(21))
        );
    }
}
