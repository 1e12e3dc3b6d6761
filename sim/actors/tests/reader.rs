//! Card readers: their assertions are exactly what the platform checks
//! (`kiban_platform::identity::check_assertion`), face recognition is reproducible from the
//! seed, and each refusal is its own outcome.

mod support;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kiban_actors::card::{Card, CardError};
use kiban_actors::reader::{
    Assertion, CardReader, Presence, ReaderChecks, ReaderConfig, ReaderError,
};
use kiban_certs::{Clock, ManualClock};
use kiban_core::time::Timestamp;
use kiban_platform::identity::{CardAssertion, VerificationMethod, check_assertion};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::*;

struct Bench {
    jlis: kiban_actors::jlis::JlisMock,
    card: Card,
    pin: kiban_actors::card::Pin,
    now: Timestamp,
}

fn bench() -> Bench {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let person = yokohama_people(21, 1).remove(0);
    let card = issue(&jlis, &person, "2026-09-01", 3);
    Bench {
        jlis,
        card,
        pin: person.pin().unwrap(),
        now: clock.now(),
    }
}

fn nonce(byte: u8) -> String {
    B64.encode([byte; 32])
}

fn reader(config: ReaderConfig, seed: u64) -> CardReader<ChaCha8Rng> {
    CardReader::new(config, ChaCha8Rng::seed_from_u64(seed)).unwrap()
}

#[test]
fn the_platform_accepts_the_readers_assertion_over_its_nonce() {
    let mut b = bench();
    let mut reader = reader(ReaderConfig::default(), 1);
    let n = nonce(7);
    let assertion = reader
        .assert(&mut b.card, &n, Presence::Pin(b.pin), b.now)
        .unwrap();
    let checked = check_assertion(
        b.jlis.ca_der(),
        &assertion.to_platform(),
        &B64.decode(&n).unwrap(),
        b.now,
    )
    .unwrap();
    assert_eq!(&checked.certificate_serial, b.card.certificate_serial());
    assert_eq!(checked.card_serial, b.card.serial().as_str());
    assert_eq!(assertion.method, VerificationMethod::Pin);
}

#[test]
fn the_platform_refuses_an_assertion_signed_over_another_nonce() {
    let mut b = bench();
    let mut reader = reader(ReaderConfig::default(), 1);
    let signed = reader
        .assert(&mut b.card, &nonce(1), Presence::Pin(b.pin), b.now)
        .unwrap();
    let mut moved = signed.to_platform();
    moved.nonce = nonce(2);
    let err = check_assertion(
        b.jlis.ca_der(),
        &moved,
        &B64.decode(nonce(2)).unwrap(),
        b.now,
    )
    .unwrap_err();
    assert_eq!(err.code, "assertion-signature-invalid");
}

#[test]
fn the_json_body_is_the_platforms_card_assertion() {
    let mut b = bench();
    let mut reader = reader(ReaderConfig::default(), 1);
    let assertion = reader
        .assert(&mut b.card, &nonce(3), Presence::Visual, b.now)
        .unwrap();
    // The platform's type refuses unknown fields, so a round trip proves the shape.
    let parsed: CardAssertion = serde_json::from_value(assertion.to_json()).unwrap();
    assert_eq!(parsed.method, VerificationMethod::Visual);
    assert_eq!(parsed.nonce, assertion.nonce);
    assert_eq!(
        serde_json::to_value(&assertion).unwrap(),
        assertion.to_json()
    );
    assert_eq!(
        B64.decode(&parsed.card_certificate).unwrap(),
        b.card.certificate_der()
    );
}

#[test]
fn face_recognition_is_reproducible_from_the_seed_and_follows_the_rate() {
    let outcomes = |seed: u64| -> Vec<bool> {
        let mut b = bench();
        let config = ReaderConfig {
            face_match_rate: 0.7,
            ..ReaderConfig::default()
        };
        let mut reader = reader(config, seed);
        (0..400)
            .map(
                |_| match reader.assert(&mut b.card, &nonce(4), Presence::Face, b.now) {
                    Ok(a) => {
                        assert_eq!(a.method, VerificationMethod::Face);
                        true
                    }
                    Err(ReaderError::FaceMismatch) => false,
                    Err(other) => panic!("{other}"),
                },
            )
            .collect()
    };
    let first = outcomes(9);
    assert_eq!(first, outcomes(9), "same seed, same outcomes");
    assert_ne!(first, outcomes(10), "another seed, other outcomes");
    let matched = first.iter().filter(|m| **m).count();
    assert!((240..=320).contains(&matched), "{matched} of 400 at 0.7");
}

#[test]
fn face_mismatches_and_visual_checks_leave_the_pin_counter_alone() {
    let mut b = bench();
    let _ = b.card.verify_pin(&b.pin.wrong());
    let never = ReaderConfig {
        face_match_rate: 0.0,
        ..ReaderConfig::default()
    };
    let mut reader = reader(never, 1);
    for _ in 0..5 {
        assert_eq!(
            reader.assert(&mut b.card, &nonce(5), Presence::Face, b.now),
            Err(ReaderError::FaceMismatch)
        );
    }
    assert!(
        reader
            .assert(&mut b.card, &nonce(5), Presence::Visual, b.now)
            .is_ok()
    );
    assert_eq!(b.card.pin_failures(), 1);
}

#[test]
fn local_checks_refuse_an_expired_certificate_and_platform_only_readers_sign_it() {
    let mut b = bench();
    let after = b
        .card
        .validity()
        .certificate_through
        .plus_days(1)
        .midnight_jst();
    let mut local = reader(ReaderConfig::default(), 1);
    assert_eq!(
        local.assert(&mut b.card, &nonce(6), Presence::Pin(b.pin), after),
        Err(ReaderError::Card(CardError::CertificateExpired(
            b.card.validity().certificate_through
        )))
    );
    let mut naive = reader(
        ReaderConfig {
            checks: ReaderChecks::PlatformOnly,
            ..ReaderConfig::default()
        },
        1,
    );
    let assertion: Assertion = naive
        .assert(&mut b.card, &nonce(6), Presence::Pin(b.pin), after)
        .unwrap();
    let err =
        check_assertion(b.jlis.ca_der(), &assertion.to_platform(), &[6; 32], after).unwrap_err();
    assert_eq!(err.code, "card-expired");
}

#[test]
fn bad_input_is_refused_without_touching_the_card() {
    let mut b = bench();
    let mut reader = reader(ReaderConfig::default(), 1);
    assert_eq!(
        reader.assert(
            &mut b.card,
            "not base64!",
            Presence::Pin(b.pin.wrong()),
            b.now
        ),
        Err(ReaderError::BadNonce)
    );
    assert_eq!(b.card.pin_failures(), 0);
    for rate in [-0.1, 1.1, f64::NAN] {
        let config = ReaderConfig {
            face_match_rate: rate,
            ..ReaderConfig::default()
        };
        assert_eq!(
            CardReader::new(config, ChaCha8Rng::seed_from_u64(1)).unwrap_err(),
            ReaderError::BadMatchRate
        );
    }
}
