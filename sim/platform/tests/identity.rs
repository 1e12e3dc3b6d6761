//! Identity verification with a virtual My Number card: nonce, signed assertion, J-LIS
//! confirmation (a wiremock peer that can be healthy, down, slow or wrong) and the resulting
//! responsible-office registration. The platform must fail closed whenever J-LIS cannot
//! confirm the card.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use kiban_certs::{JlisCa, KeyAlgorithm};
use kiban_platform::identity::JlisClient;
use serde_json::{Value, json};
use support::card::Card;
use support::*;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Fixture {
    w: World,
    jlis: Option<MockServer>,
    card: Card,
}

async fn fixture() -> Fixture {
    let jlis = MockServer::start().await;
    let ca = JlisCa::generate(KeyAlgorithm::default(), at("2025-01-01"), 3650).unwrap();
    let h = Harness::with_jlis(
        Some(JlisClient::new(&jlis.uri()).unwrap()),
        Some(ca.cert_der().to_vec()),
    );
    let mut w = world_on(h).await;
    w.set_date("2026-11-02").await;
    let card = Card::issue(&ca, "CARD0001");
    Fixture {
        w,
        jlis: Some(jlis),
        card,
    }
}

impl Fixture {
    async fn nonce(&self) -> String {
        let (s, v) = self
            .w
            .h
            .call(
                Method::POST,
                "/v1/identity/nonce",
                Some(&self.w.cm),
                Some(&self.w.cm_token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["nonce"].as_str().unwrap().to_owned()
    }

    async fn verify(&self, assertion: Value) -> (StatusCode, Value) {
        self.w
            .h
            .call(
                Method::POST,
                "/v1/identity/verify",
                Some(&self.w.cm),
                Some(&self.w.cm_token),
                Some(assertion),
            )
            .await
    }

    async fn jlis_answers(&self, response: ResponseTemplate) {
        let server = self.jlis.as_ref().expect("J-LIS mock running");
        Mock::given(method("GET"))
            .and(path_regex("^/v1/certificates/[0-9A-F]+$"))
            .respond_with(response)
            .mount(server)
            .await;
    }

    async fn reads_card(&self) -> StatusCode {
        self.w
            .h
            .call(
                Method::GET,
                &person("insurance-card"),
                Some(&self.w.cm),
                Some(&self.w.cm_token),
                None,
            )
            .await
            .0
    }
}

#[tokio::test]
async fn a_valid_card_confirmed_by_jlis_registers_the_office() {
    let f = fixture().await;
    f.jlis_answers(
        ResponseTemplate::new(200).set_body_json(json!({"status": "valid", "link": "LINK-AIKO"})),
    )
    .await;
    assert_eq!(
        f.reads_card().await,
        StatusCode::FORBIDDEN,
        "not registered before verification"
    );
    let nonce = f.nonce().await;
    let (s, v) = f.verify(f.card.assert(&nonce)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["person"]["insurer"].as_str(),
            v["person"]["insured"].as_str()
        ),
        (Some(YOKOHAMA_INSURER), Some(AIKO))
    );
    assert_eq!(f.reads_card().await, StatusCode::OK);
}

#[tokio::test]
async fn a_nonce_is_single_use() {
    let f = fixture().await;
    f.jlis_answers(
        ResponseTemplate::new(200).set_body_json(json!({"status": "valid", "link": "LINK-AIKO"})),
    )
    .await;
    let nonce = f.nonce().await;
    assert_eq!(f.verify(f.card.assert(&nonce)).await.0, StatusCode::OK);
    let (s, v) = f.verify(f.card.assert(&nonce)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid-nonce"))
    );
}

#[tokio::test]
async fn a_signature_over_another_nonce_is_refused() {
    let f = fixture().await;
    let nonce = f.nonce().await;
    let other = f.nonce().await;
    let mut assertion = f.card.assert(&other);
    assertion["nonce"] = json!(nonce);
    let (s, v) = f.verify(assertion).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("assertion-signature-invalid"))
    );
}

#[tokio::test]
async fn a_card_from_another_ca_is_not_trusted() {
    let f = fixture().await;
    let rogue = JlisCa::generate(KeyAlgorithm::default(), at("2025-01-01"), 3650).unwrap();
    let forged = Card::issue(&rogue, "CARD0001");
    let nonce = f.nonce().await;
    let (s, v) = f.verify(forged.assert(&nonce)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("card-not-trusted"))
    );
}

#[tokio::test]
async fn jlis_refusals_surface_as_distinct_outcomes() {
    for (status, code) in [
        ("revoked", "card-revoked"),
        ("suspended", "card-suspended"),
        ("expired", "card-expired"),
    ] {
        let f = fixture().await;
        f.jlis_answers(ResponseTemplate::new(200).set_body_json(json!({"status": status})))
            .await;
        let nonce = f.nonce().await;
        let (s, v) = f.verify(f.card.assert(&nonce)).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some(code)));
        assert_eq!(f.reads_card().await, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_unlinked_card_registers_nothing() {
    let f = fixture().await;
    f.jlis_answers(
        ResponseTemplate::new(200).set_body_json(json!({"status": "valid", "link": "LINK-NOBODY"})),
    )
    .await;
    let nonce = f.nonce().await;
    let (s, v) = f.verify(f.card.assert(&nonce)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("card-not-linked"))
    );
}

#[tokio::test]
async fn jlis_down_slow_or_wrong_fails_closed_and_retryable() {
    let cases: Vec<(&str, Option<ResponseTemplate>)> = vec![
        ("down", None),
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
            "slow",
            Some(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "valid", "link": "LINK-AIKO"}))
                    .set_delay(Duration::from_secs(5)),
            ),
        ),
    ];
    for (name, response) in cases {
        let mut f = fixture().await;
        match response {
            Some(r) => f.jlis_answers(r).await,
            None => drop(f.jlis.take()),
        }
        let nonce = f.nonce().await;
        let (s, v) = f.verify(f.card.assert(&nonce)).await;
        assert_eq!(
            (s, v["code"].as_str(), v["retryable"].as_bool()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("jlis-unavailable"),
                Some(true)
            ),
            "{name}"
        );
        assert_eq!(
            f.w.h
                .call(
                    Method::GET,
                    &person("insurance-card"),
                    Some(&f.w.cm),
                    Some(&f.w.cm_token),
                    None
                )
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{name}: nothing registered"
        );
    }
}
