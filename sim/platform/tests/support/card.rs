//! A virtual My Number card for the platform's tests: a J-LIS-issued certificate and its key,
//! signing the platform's nonce as a card reader would.
#![allow(dead_code, unreachable_pub)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kiban_certs::{CardSerial, JlisCa, Validity};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

use super::at;

/// A virtual card: its certificate (DER), the certificate's serial and the key pair.
pub struct Card {
    pub cert: Vec<u8>,
    pub serial: String,
    key: EcdsaKeyPair,
}

impl Card {
    /// A card certificate valid 2026-01-01 for ten years.
    pub fn issue(ca: &JlisCa, serial: &str) -> Card {
        let issued = ca
            .issue_card(
                &CardSerial::parse(serial).unwrap(),
                Validity::days_from(at("2026-01-01"), 3650),
            )
            .unwrap();
        let pkcs8 = match issued.private_key() {
            rustls::pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            other => panic!("unexpected key type {other:?}"),
        };
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &pkcs8,
            &SystemRandom::new(),
        )
        .unwrap();
        Card {
            cert: issued.der().to_vec(),
            serial: issued.serial().to_string(),
            key,
        }
    }

    /// The reader's assertion over `nonce` (base64 as the platform sent it).
    pub fn assert(&self, nonce: &str) -> Value {
        let bytes = B64.decode(nonce).unwrap();
        let signature = self.key.sign(&SystemRandom::new(), &bytes).unwrap();
        json!({"nonce": nonce, "card_certificate": B64.encode(&self.cert), "signature": B64.encode(signature.as_ref()), "method": "pin"})
    }
}
