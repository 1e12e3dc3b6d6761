//! Identity verification end to end in process: a virtual card read by a reader, the
//! platform (its router, in memory) checking the assertion, and the real J-LIS mock on a real
//! socket saying whether the certificate is valid now. A revoked, suspended or expired card is
//! refused with its own code; J-LIS down, slow or wrong (its mock shut down, or wiremock)
//! fails closed with a retryable `jlis-unavailable` and registers nothing.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use kiban_actors::card::Card;
use kiban_actors::counter::MunicipalityCounter;
use kiban_actors::jlis::JlisMock;
use kiban_actors::people::Person;
use kiban_actors::reader::{CardReader, Presence, ReaderChecks, ReaderConfig};
use kiban_certs::{Clock, JlisCa, KeyAlgorithm, ManualClock};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A platform that asks the real J-LIS mock, one Yokohama person with a card issued on
/// `issued_on`, ingested with the card link J-LIS gave them.
struct Scene {
    w: World,
    jlis: JlisMock,
    server: Option<kiban_actors::jlis::JlisServer>,
    person: Person,
    card: Card,
}

async fn scene(issued_on: &str) -> Scene {
    scene_asking(issued_on, None).await
}

/// The scene, with the platform asking J-LIS at `url` instead of the mock's own server.
async fn scene_asking(issued_on: &str, url: Option<String>) -> Scene {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let server = serve_jlis(&jlis).await;
    let person = yokohama_people(31, 1).remove(0);
    let card = issue(&jlis, &person, issued_on, 4);
    let link = jlis.link_for(person.my_number()).unwrap();
    let url = url.unwrap_or_else(|| server.base_url());
    let h = Harness::new(clock, Some(&url), Some(jlis.ca_der().to_vec()));
    let mut w = World::new(h, vec![person_item(&person, Some(link.as_str()))]).await;
    w.set_date("2026-11-02").await;
    Scene {
        w,
        jlis,
        server: Some(server),
        person,
        card,
    }
}

impl Scene {
    /// The holder enters the PIN at a reader that leaves expiry and revocation to the
    /// platform; the care manager's terminal posts the assertion.
    async fn verify(&mut self, presence: Option<Presence>) -> Answer {
        let nonce = self.w.nonce().await;
        let mut reader = CardReader::new(
            ReaderConfig {
                checks: ReaderChecks::PlatformOnly,
                ..ReaderConfig::default()
            },
            ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        let presence = presence.unwrap_or(Presence::Pin(self.person.pin().unwrap()));
        let now = self.w.h.clock.now();
        let assertion = reader
            .assert(&mut self.card, &nonce, presence, now)
            .unwrap();
        self.w.verify(assertion.to_json()).await
    }

    async fn registered(&self) -> bool {
        let a = self.w.read_card(&self.person).await;
        match a.status {
            StatusCode::OK => true,
            StatusCode::FORBIDDEN => {
                assert_eq!(a.refusal().code, "not-registered", "{}", a.json());
                false
            }
            other => panic!("unexpected {other}: {}", a.json()),
        }
    }
}

fn code(a: &Answer) -> (StatusCode, String) {
    (a.status, a.refusal().code)
}

#[tokio::test]
async fn a_card_confirmed_by_jlis_registers_the_office() {
    let mut s = scene("2026-09-01").await;
    assert!(!s.registered().await);
    let before = s.jlis.requests();
    let a = s.verify(None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let v = a.json();
    assert_eq!(
        (
            v["person"]["insurer"].as_str(),
            v["person"]["insured"].as_str()
        ),
        (Some(YOKOHAMA_INSURER), Some(s.person.insured.as_str()))
    );
    assert_eq!(s.jlis.requests(), before + 1, "J-LIS was asked over HTTP");
    assert!(s.registered().await);
}

#[tokio::test]
async fn face_and_visual_checks_register_too() {
    for presence in [Presence::Face, Presence::Visual] {
        let mut s = scene("2026-09-01").await;
        let a = s.verify(Some(presence)).await;
        assert_eq!(a.status, StatusCode::OK, "{presence:?}: {}", a.json());
        assert!(s.registered().await);
    }
}

#[tokio::test]
async fn a_revoked_card_is_refused() {
    let mut s = scene("2026-09-01").await;
    s.jlis.revoke(&mut s.card);
    let a = s.verify(None).await;
    assert_eq!(code(&a), (StatusCode::FORBIDDEN, "card-revoked".into()));
    assert!(!a.refusal().is_retryable());
    assert!(!s.registered().await);
}

#[tokio::test]
async fn a_certificate_revoked_without_the_card_knowing_is_refused() {
    let mut s = scene("2026-09-01").await;
    assert!(s.jlis.revoke_certificate(s.card.certificate_serial()));
    assert_eq!(
        s.card.check(date("2026-11-02")),
        Ok(()),
        "the card cannot tell"
    );
    let a = s.verify(None).await;
    assert_eq!(code(&a), (StatusCode::FORBIDDEN, "card-revoked".into()));
    assert!(!s.registered().await);
}

#[tokio::test]
async fn a_found_card_is_suspended_until_the_municipality_releases_it() {
    let mut s = scene("2026-09-01").await;
    s.jlis.report_lost(&mut s.card);
    s.card.found();
    let a = s.verify(None).await;
    assert_eq!(code(&a), (StatusCode::FORBIDDEN, "card-suspended".into()));
    assert!(!s.registered().await);
    MunicipalityCounter::new(yokohama())
        .release_hold(&s.card, &s.jlis)
        .unwrap();
    let a = s.verify(None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert!(s.registered().await);
}

#[tokio::test]
async fn an_expired_card_certificate_is_refused() {
    // Issued 2022-11-02: the 5th birthday after issue falls between 2026-11-03 and
    // 2027-11-02, so the certificate is valid on 2026-11-02 and expired on 2027-11-03.
    let mut s = scene("2022-11-02").await;
    let through = s.card.validity().certificate_through;
    assert!(
        through >= date("2026-11-03") && through <= date("2027-11-02"),
        "{through}"
    );
    s.w.set_date("2027-11-03").await;
    assert_eq!(
        s.jlis.state(s.card.certificate_serial()),
        Some(kiban_actors::jlis::CertificateState::Expired)
    );
    let a = s.verify(None).await;
    assert_eq!(code(&a), (StatusCode::FORBIDDEN, "card-expired".into()));
    assert!(!s.registered().await);
}

#[tokio::test]
async fn a_certificate_jlis_never_issued_is_not_confirmed() {
    // Same CA (so the platform trusts the signature), but another register: J-LIS answers
    // 404 for the serial and the platform must not register.
    let mut s = scene("2026-09-01").await;
    let copy = JlisCa::from_pem(
        &s.jlis.ca().cert_pem(),
        &s.jlis.ca().key_pem(),
        KeyAlgorithm::EcdsaP256,
    )
    .unwrap();
    let other = JlisMock::new(copy, s.w.h.clock.clone());
    s.card = issue(&other, &s.person, "2026-09-01", 5);
    let a = s.verify(None).await;
    assert_eq!(
        code(&a),
        (StatusCode::SERVICE_UNAVAILABLE, "jlis-unavailable".into())
    );
    assert!(!s.registered().await);
}

#[tokio::test]
async fn jlis_down_slow_or_wrong_fails_closed_with_a_retryable_refusal() {
    let cases: Vec<(&str, Option<ResponseTemplate>)> = vec![
        ("the mock shut down", None),
        ("server error", Some(ResponseTemplate::new(500))),
        (
            "garbage",
            Some(ResponseTemplate::new(200).set_body_string("<html>")),
        ),
        (
            "unknown status",
            Some(ResponseTemplate::new(200).set_body_json(json!({"status": "maybe"}))),
        ),
        (
            "unknown field",
            Some(ResponseTemplate::new(200).set_body_json(
                json!({"status": "valid", "link": "CL-X", "my_number": "123456789018"}),
            )),
        ),
        (
            "valid without a link",
            Some(ResponseTemplate::new(200).set_body_json(json!({"status": "valid"}))),
        ),
        (
            "slow",
            Some(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "valid", "link": "CL-SLOW"}))
                    .set_delay(Duration::from_secs(5)),
            ),
        ),
    ];
    for (name, response) in cases {
        let (mut s, _wiremock) = match response {
            None => {
                let mut s = scene("2026-09-01").await;
                s.server.take().unwrap().shutdown().await;
                (s, None)
            }
            Some(template) => {
                let mock = MockServer::start().await;
                Mock::given(method("GET"))
                    .and(path_regex("^/v1/certificates/[0-9A-F]+$"))
                    .respond_with(template)
                    .mount(&mock)
                    .await;
                (
                    scene_asking("2026-09-01", Some(mock.uri())).await,
                    Some(mock),
                )
            }
        };
        let a = s.verify(None).await;
        let refusal = a.refusal();
        assert_eq!(
            (a.status, refusal.code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "jlis-unavailable"),
            "{name}: {}",
            a.json()
        );
        assert!(refusal.is_retryable(), "{name}");
        assert!(refusal.retryable_hint, "{name}: the problem says retryable");
        assert!(!s.registered().await, "{name}: nothing registered");
    }
}

#[tokio::test]
async fn the_platform_never_receives_the_my_number() {
    let mut s = scene("2026-09-01").await;
    let nonce = s.w.nonce().await;
    let mut reader =
        CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(1)).unwrap();
    let now = s.w.h.clock.now();
    let assertion = reader
        .assert(
            &mut s.card,
            &nonce,
            Presence::Pin(s.person.pin().unwrap()),
            now,
        )
        .unwrap();
    let body: Value = assertion.to_json();
    let digits = s.person.my_number().expose();
    let link = s.jlis.link_for(s.person.my_number()).unwrap();
    assert!(!body.to_string().contains(digits));
    assert!(!link.as_str().contains(digits));
    assert!(!link.as_str().bytes().any(|b| b.is_ascii_digit()));
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        body["card_certificate"].as_str().unwrap(),
    )
    .unwrap();
    assert!(!der.windows(12).any(|w| w == digits.as_bytes()));
    let answer = s.jlis.answer(s.card.certificate_serial()).unwrap();
    assert!(!serde_json::to_string(&answer).unwrap().contains(digits));
}
