//! Virtual My Number cards: the PIN lockout and its unlock at the municipality, loss and
//! release, revocation, renewal, and the validity of cards issued by the J-LIS mock.

mod support;

use std::sync::Arc;

use base64::Engine;
use kiban_actors::card::{Card, CardError, PIN_ATTEMPTS, Pin};
use kiban_actors::counter::MunicipalityCounter;
use kiban_actors::jlis::{CardRequest, CertificateState, JlisMock};
use kiban_actors::reader::{CardReader, Presence, ReaderConfig, ReaderError};
use kiban_certs::{Clock, ManualClock};
use kiban_core::id::MunicipalityCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::*;
use x509_parser::prelude::{FromDer, X509Certificate};

const NONCE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Desk {
    jlis: JlisMock,
    card: Card,
    pin: Pin,
    clock: Arc<ManualClock>,
}

fn desk() -> Desk {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let person = yokohama_people(11, 1).remove(0);
    let card = issue(&jlis, &person, "2026-09-01", 1);
    Desk {
        jlis,
        card,
        pin: person.pin().unwrap(),
        clock,
    }
}

fn new_reader() -> CardReader<ChaCha8Rng> {
    CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(5)).unwrap()
}

#[test]
fn the_third_wrong_pin_locks_the_card() {
    let mut d = desk();
    let wrong = d.pin.wrong();
    assert_eq!(
        d.card.verify_pin(&wrong),
        Err(CardError::WrongPin { remaining: 2 })
    );
    assert_eq!(
        d.card.verify_pin(&wrong),
        Err(CardError::WrongPin { remaining: 1 })
    );
    assert!(!d.card.is_locked());
    assert_eq!(
        d.card.verify_pin(&wrong),
        Err(CardError::WrongPin { remaining: 0 })
    );
    assert!(d.card.is_locked());
    assert_eq!(d.card.pin_failures(), PIN_ATTEMPTS);
    assert_eq!(
        d.card.verify_pin(&d.pin),
        Err(CardError::Locked),
        "even the right PIN"
    );
    assert_eq!(d.card.check(date("2026-10-01")), Err(CardError::Locked));
}

#[test]
fn a_correct_pin_resets_the_counter() {
    let mut d = desk();
    let wrong = d.pin.wrong();
    for _ in 0..2 {
        assert!(d.card.verify_pin(&wrong).is_err());
    }
    assert_eq!(d.card.pin_failures(), 2);
    assert_eq!(d.card.verify_pin(&d.pin), Ok(()));
    assert_eq!(d.card.pin_failures(), 0);
    for _ in 0..2 {
        assert!(d.card.verify_pin(&wrong).is_err());
    }
    assert!(
        !d.card.is_locked(),
        "two failures after the reset do not lock"
    );
}

#[test]
fn failures_carry_over_between_readings_and_time_does_not_reset_them() {
    let mut d = desk();
    let wrong = d.pin.wrong();
    let mut reader = new_reader();
    for _ in 0..2 {
        let r = reader.assert(&mut d.card, NONCE, Presence::Pin(wrong), d.clock.now());
        assert!(matches!(
            r,
            Err(ReaderError::Card(CardError::WrongPin { .. }))
        ));
    }
    d.clock.set(at("2027-01-01"));
    let mut other_reader = new_reader();
    let r = other_reader.assert(&mut d.card, NONCE, Presence::Pin(wrong), d.clock.now());
    assert_eq!(
        r,
        Err(ReaderError::Card(CardError::WrongPin { remaining: 0 }))
    );
    assert!(d.card.is_locked());
}

#[test]
fn a_locked_card_produces_no_assertion_by_any_method() {
    let mut d = desk();
    let wrong = d.pin.wrong();
    for _ in 0..PIN_ATTEMPTS {
        let _ = d.card.verify_pin(&wrong);
    }
    let mut reader = new_reader();
    for presence in [Presence::Pin(d.pin), Presence::Face, Presence::Visual] {
        assert_eq!(
            reader.assert(&mut d.card, NONCE, presence, d.clock.now()),
            Err(ReaderError::Card(CardError::Locked)),
            "{presence:?}"
        );
    }
}

#[test]
fn the_municipality_unlocks_the_pin_and_sets_a_new_one() {
    let mut d = desk();
    let wrong = d.pin.wrong();
    for _ in 0..PIN_ATTEMPTS {
        let _ = d.card.verify_pin(&wrong);
    }
    let elsewhere = MunicipalityCounter::new(MunicipalityCode::parse("141305").unwrap());
    let new_pin = Pin::parse("2468").unwrap();
    assert_eq!(
        elsewhere.unlock_pin(&mut d.card, new_pin),
        Err(CardError::WrongMunicipality {
            expected: yokohama()
        })
    );
    assert!(d.card.is_locked());
    MunicipalityCounter::new(yokohama())
        .unlock_pin(&mut d.card, new_pin)
        .unwrap();
    assert!(!d.card.is_locked());
    assert_eq!(d.card.verify_pin(&new_pin), Ok(()));
    let mut reader = new_reader();
    let assertion = reader
        .assert(&mut d.card, NONCE, Presence::Pin(new_pin), d.clock.now())
        .unwrap();
    assert_eq!(assertion.nonce, NONCE);
}

#[test]
fn a_lost_card_is_suspended_and_released_only_at_the_counter_once_found() {
    let mut d = desk();
    let serial = d.card.certificate_serial().clone();
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Valid));
    d.jlis.report_lost(&mut d.card);
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Suspended));
    assert_eq!(d.card.check(date("2026-10-01")), Err(CardError::Lost));
    let counter = MunicipalityCounter::new(yokohama());
    assert_eq!(
        counter.release_hold(&d.card, &d.jlis),
        Err(CardError::Lost),
        "not while the card is still lost"
    );
    let mut reader = new_reader();
    assert_eq!(
        reader.assert(&mut d.card, NONCE, Presence::Pin(d.pin), d.clock.now()),
        Err(ReaderError::Card(CardError::Lost))
    );
    d.card.found();
    assert_eq!(
        d.jlis.state(&serial),
        Some(CertificateState::Suspended),
        "finding it does not release it"
    );
    counter.release_hold(&d.card, &d.jlis).unwrap();
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Valid));
    assert_eq!(
        counter.release_hold(&d.card, &d.jlis),
        Err(CardError::NotOnHold)
    );
}

#[test]
fn a_lost_card_that_stays_lost_is_revoked() {
    let mut d = desk();
    let serial = d.card.certificate_serial().clone();
    d.jlis.report_lost(&mut d.card);
    d.jlis.revoke(&mut d.card);
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Revoked));
    d.card.found();
    assert_eq!(d.card.check(date("2026-10-01")), Err(CardError::Revoked));
    assert_eq!(
        MunicipalityCounter::new(yokohama()).release_hold(&d.card, &d.jlis),
        Err(CardError::Revoked)
    );
}

#[test]
fn expiry_is_decided_with_the_injected_clock() {
    let mut d = desk();
    let validity = d.card.validity();
    let serial = d.card.certificate_serial().clone();
    d.clock.set(
        validity
            .certificate_through
            .plus_days(1)
            .midnight_jst()
            .plus_seconds(-1),
    );
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Valid));
    d.clock
        .set(validity.certificate_through.plus_days(1).midnight_jst());
    assert_eq!(d.jlis.state(&serial), Some(CertificateState::Expired));
    let day_after = validity.certificate_through.plus_days(1);
    assert_eq!(
        d.card.check(day_after),
        Err(CardError::CertificateExpired(validity.certificate_through))
    );
    let mut reader = new_reader();
    assert_eq!(
        reader.assert(
            &mut d.card,
            NONCE,
            Presence::Pin(d.pin),
            day_after.midnight_jst()
        ),
        Err(ReaderError::Card(CardError::CertificateExpired(
            validity.certificate_through
        )))
    );
    let card_after = validity.card_through.plus_days(1);
    assert_eq!(
        d.card.check(card_after),
        Err(CardError::CardExpired(validity.card_through))
    );
}

#[test]
fn the_certificate_matches_the_birthday_rule_and_names_only_the_card_serial() {
    let d = desk();
    let (_, cert) = X509Certificate::from_der(d.card.certificate_der()).unwrap();
    let holder = d.card.holder();
    let validity = d.card.validity();
    assert_eq!(validity.issued_on, date("2026-09-01"));
    assert!(validity.certificate_through <= validity.card_through);
    let not_after = cert.validity().not_after.timestamp();
    assert_eq!(
        not_after,
        validity
            .certificate_through
            .plus_days(1)
            .midnight_jst()
            .unix_seconds()
            - 1
    );
    let subject = cert.subject().to_string();
    assert!(subject.contains(d.card.serial().as_str()), "{subject}");
    let digits = d.card.my_number().expose();
    let der_text = String::from_utf8_lossy(d.card.certificate_der()).into_owned();
    assert!(!der_text.contains(digits));
    assert!(!subject.contains(&holder.name));
    let shown = format!("{:?} {:?}", d.card, d.jlis);
    assert!(!shown.contains(digits), "{shown}");
    assert!(!shown.contains("Pin("), "{shown}");
}

#[test]
fn a_renewed_certificate_keeps_the_link_and_retires_the_old_one() {
    let mut d = desk();
    let counter = MunicipalityCounter::new(yokohama());
    let old = d.card.certificate_serial().clone();
    let opens = d.card.validity().renewal_opens();
    assert_eq!(
        counter.renew_certificate(&mut d.card, &d.jlis, opens.plus_days(-1).midnight_jst()),
        Err(CardError::RenewalTooEarly(opens))
    );
    d.clock.set(opens.midnight_jst());
    counter
        .renew_certificate(&mut d.card, &d.jlis, opens.midnight_jst())
        .unwrap();
    let new = d.card.certificate_serial().clone();
    assert_ne!(old, new);
    assert_eq!(d.jlis.state(&old), Some(CertificateState::Revoked));
    assert_eq!(d.jlis.state(&new), Some(CertificateState::Valid));
    let link = d.jlis.link_for(d.card.my_number()).unwrap();
    assert_eq!(
        d.jlis.answer(&new).unwrap().link.as_deref(),
        Some(link.as_str())
    );
    assert_eq!(d.card.validity().certificate_issued_on, opens);
}

#[test]
fn a_new_card_revokes_the_old_one_and_keeps_the_link() {
    let d = desk();
    let person = yokohama_people(11, 1).remove(0);
    let link = d.jlis.link_for(person.my_number()).unwrap();
    let second = issue(&d.jlis, &person, "2026-10-01", 2);
    assert_eq!(
        d.jlis.state(d.card.certificate_serial()),
        Some(CertificateState::Revoked)
    );
    assert_eq!(d.jlis.link_for(person.my_number()), Some(link));
    assert_ne!(second.serial(), d.card.serial());
}

#[test]
fn a_face_authentication_card_has_no_pin_but_reads_by_face_or_staff() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let person = yokohama_people(12, 1).remove(0);
    let request = CardRequest {
        pin: None,
        ..person.card_request().unwrap()
    };
    let mut card = jlis
        .issue_card(request, at("2026-09-01"), &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap();
    assert!(card.is_face_only());
    let mut reader = CardReader::new(
        ReaderConfig {
            face_match_rate: 1.0,
            ..ReaderConfig::default()
        },
        ChaCha8Rng::seed_from_u64(1),
    )
    .unwrap();
    let any_pin = Pin::parse("0000").unwrap();
    assert_eq!(
        reader.assert(&mut card, NONCE, Presence::Pin(any_pin), clock.now()),
        Err(ReaderError::Card(CardError::NoPin))
    );
    for presence in [Presence::Face, Presence::Visual] {
        let a = reader
            .assert(&mut card, NONCE, presence, clock.now())
            .unwrap();
        assert!(
            base64::engine::general_purpose::STANDARD
                .decode(&a.signature)
                .is_ok()
        );
    }
    assert_eq!(
        MunicipalityCounter::new(yokohama()).unlock_pin(&mut card, any_pin),
        Err(CardError::NoPin)
    );
}

#[test]
fn a_renewed_card_that_was_lost_and_found_is_released() {
    let mut d = desk();
    let counter = MunicipalityCounter::new(yokohama());
    let opens = d.card.validity().renewal_opens();
    d.clock.set(opens.midnight_jst());
    counter
        .renew_certificate(&mut d.card, &d.jlis, opens.midnight_jst())
        .unwrap();
    d.jlis.report_lost(&mut d.card);
    assert_eq!(
        d.jlis.state(d.card.certificate_serial()),
        Some(CertificateState::Suspended)
    );
    d.card.found();
    counter.release_hold(&d.card, &d.jlis).unwrap();
    assert_eq!(
        d.jlis.state(d.card.certificate_serial()),
        Some(CertificateState::Valid)
    );
}
