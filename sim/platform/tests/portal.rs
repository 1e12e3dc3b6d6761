//! The person's side through the マイナポータル relay: card-holder sessions, the person's own
//! reads, access log and consent receipts, consent withdrawal, and representatives registered
//! by the insurer and ended by the person. J-LIS is a wiremock peer answering per card.

mod support;

use axum::http::{Method, StatusCode};
use kiban_certs::{ClientIdentity, JlisCa, KeyAlgorithm};
use kiban_core::vocab::Role;
use kiban_platform::identity::JlisClient;
use serde_json::{Value, json};
use support::card::Card;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BUNTA: &str = "0000000002";

struct Portal {
    w: World,
    jlis: MockServer,
    ca: JlisCa,
    relay: ClientIdentity,
}

/// The standard world plus Bunta, comprehensive consent for Aiko, the care manager
/// registered for Aiko (municipality fallback) and the マイナポータル relay's certificate.
async fn portal() -> Portal {
    let jlis = MockServer::start().await;
    let ca = JlisCa::generate(KeyAlgorithm::default(), at("2025-01-01"), 3650).unwrap();
    let h = Harness::with_jlis(
        Some(JlisClient::new(&jlis.uri()).unwrap()),
        Some(ca.cert_der().to_vec()),
    );
    let mut w = world_on(h).await;
    w.set_date("2026-11-02").await;
    let batch = json!({"items": [{"kind": "insured-person", "insured": BUNTA, "card_link": "LINK-BUNTA", "insurance_card": card()}]});
    let (s, v) = ingest(&w.h, &w.city, "batch-bunta", batch).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) =
        w.h.call(
            Method::PUT,
            &format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/consent"),
            Some(&w.city),
            None,
            Some(json!({"occasion": "application"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    register_cm(&w).await;
    let relay = w.h.identity(Role::Person, "-", "pmh-01");
    Portal { w, jlis, ca, relay }
}

impl Portal {
    /// A card whose certificate J-LIS answers `status` (with `link` when valid).
    async fn card(&self, serial: &str, status: &str, link: Option<&str>) -> Card {
        let card = Card::issue(&self.ca, serial);
        let body = match link {
            Some(link) => json!({"status": status, "link": link}),
            None => json!({"status": status}),
        };
        Mock::given(method("GET"))
            .and(path(format!("/v1/certificates/{}", card.serial)))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&self.jlis)
            .await;
        card
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.w
            .h
            .call(method, uri, Some(&self.relay), token, body)
            .await
    }

    async fn sign_in(&self, card: &Card) -> (StatusCode, Value) {
        let (s, v) = self
            .call(Method::POST, "/v1/identity/nonce", None, None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let assertion = card.assert(v["nonce"].as_str().unwrap());
        self.call(Method::POST, "/v1/portal/session", None, Some(assertion))
            .await
    }

    async fn token(&self, card: &Card) -> String {
        let (s, v) = self.sign_in(card).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    async fn city(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.w
            .h
            .call(method, uri, Some(&self.w.city), None, body)
            .await
    }
}

fn of(insured: &str, rest: &str) -> String {
    format!("/v1/persons/{YOKOHAMA_INSURER}/{insured}/{rest}")
}

#[tokio::test]
async fn a_person_signs_in_with_their_card_and_reads_their_own_record_only() {
    let p = portal().await;
    let card = p.card("CARDAIKO", "valid", Some("LINK-AIKO")).await;
    let (s, v) = p.sign_in(&card).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["person"]["insured"], AIKO);
    assert_eq!(v["represents"], json!([]));
    let token = v["token"].as_str().unwrap();
    let (s, v) = p
        .call(
            Method::GET,
            &of(AIKO, "classes/insurance-card"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    let (s, v) = p
        .call(
            Method::GET,
            &of(BUNTA, "classes/insurance-card"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-own-record"))
    );
    // The matrix gives persons no access to the survey form.
    let (s, v) = p
        .call(
            Method::GET,
            &of(AIKO, "classes/certification-survey"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
}

#[tokio::test]
async fn the_relay_without_a_session_reads_nothing_and_a_closed_session_is_gone() {
    let p = portal().await;
    let (s, v) = p
        .call(Method::GET, &of(AIKO, "classes/insurance-card"), None, None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("portal-session-required"))
    );
    let card = p.card("CARDAIKO", "valid", Some("LINK-AIKO")).await;
    let token = p.token(&card).await;
    // A token is bound to the relay terminal that opened it.
    let other = p.w.h.identity(Role::Person, "-", "pmh-02");
    let (s, v) =
        p.w.h
            .call(
                Method::GET,
                &of(AIKO, "classes/insurance-card"),
                Some(&other),
                Some(&token),
                None,
            )
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid-session"))
    );
    let (s, v) = p
        .call(Method::DELETE, "/v1/portal/session", Some(&token), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, v) = p
        .call(
            Method::GET,
            &of(AIKO, "classes/insurance-card"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid-session"))
    );
}

#[tokio::test]
async fn a_holder_who_is_neither_insured_nor_a_representative_gets_no_session() {
    let p = portal().await;
    let card = p.card("CARDNOBODY", "valid", Some("LINK-NOBODY")).await;
    let (s, v) = p.sign_in(&card).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("holder-unknown"))
    );
}

#[tokio::test]
async fn portal_sign_in_refuses_lost_cards_and_fails_closed_when_jlis_is_down() {
    let p = portal().await;
    let lost = p.card("CARDLOST", "suspended", None).await;
    let (s, v) = p.sign_in(&lost).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("card-suspended"))
    );
    // J-LIS answers 500 for a card it was not told about: unusable, so fail closed.
    let unknown = Card::issue(&p.ca, "CARDUNKNOWN");
    Mock::given(method("GET"))
        .and(path(format!("/v1/certificates/{}", unknown.serial)))
        .respond_with(ResponseTemplate::new(500))
        .mount(&p.jlis)
        .await;
    let (s, v) = p.sign_in(&unknown).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("jlis-unavailable"))
    );
}

#[tokio::test]
async fn the_person_sees_a_redacted_access_log_and_their_consent_receipts() {
    let p = portal().await;
    let (s, v) =
        p.w.as_cm(Method::GET, &of(AIKO, "classes/certification-survey"), None)
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let card = p.card("CARDAIKO", "valid", Some("LINK-AIKO")).await;
    let token = p.token(&card).await;
    let (s, log) = p
        .call(Method::GET, &of(AIKO, "access-log"), Some(&token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let read = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"]["action"] == "read" && e["entry"]["by"]["org"] == CM)
        .expect("the care manager's read is in the log");
    assert_eq!(read["entry"]["class"], "certification-survey");
    assert_eq!(read["entry"]["decision"], "permit");
    assert_eq!(read["entry"]["by"]["role"], "care-management");
    let text = log.to_string();
    for hidden in ["staff", "serial", "terminal", "cm-pc1"] {
        assert!(!text.contains(hidden), "{hidden} leaked into {text}");
    }
    // The insurer still sees the full entry.
    let (s, full) = p.city(Method::GET, &of(AIKO, "access-log"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(full.to_string().contains("cm-pc1"));
    let (s, receipts) = p
        .call(
            Method::GET,
            &of(AIKO, "consent-receipts"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{receipts}");
    assert_eq!(receipts[0]["action"], "given");
    assert_eq!(receipts[0]["occasion"], "application");
    // Not Bunta's.
    let (s, v) = p
        .call(Method::GET, &of(BUNTA, "access-log"), Some(&token), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-own-record"))
    );
}

#[tokio::test]
async fn the_person_withdraws_consent_and_the_next_office_read_is_refused() {
    let p = portal().await;
    let card = p.card("CARDAIKO", "valid", Some("LINK-AIKO")).await;
    let token = p.token(&card).await;
    let (s, v) = p
        .call(Method::DELETE, &of(AIKO, "consent"), Some(&token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["action"], "withdrawn");
    assert_eq!(v["by"], "portal:LINK-AIKO");
    let (s, v) =
        p.w.as_cm(Method::GET, &of(AIKO, "classes/certification-survey"), None)
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent-withdrawn"))
    );
    let (s, v) = p
        .call(Method::DELETE, &of(AIKO, "consent"), Some(&token), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("no-consent-to-withdraw"))
    );
}

#[tokio::test]
async fn a_representative_registered_by_the_insurer_acts_for_that_person_until_the_person_ends_it()
{
    let p = portal().await;
    let (s, v) = p
        .city(
            Method::PUT,
            &of(AIKO, "representatives/LINK-DAUGHTER"),
            Some(json!({"kind": "family"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], true);
    let daughter = p.card("CARDDAUGHTER", "valid", Some("LINK-DAUGHTER")).await;
    let (s, v) = p.sign_in(&daughter).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["person"], Value::Null);
    assert_eq!(v["represents"][0]["insured"], AIKO);
    let token = v["token"].as_str().unwrap().to_owned();
    let read = |insured: &'static str| {
        let (p, token) = (&p, token.clone());
        async move {
            p.call(
                Method::GET,
                &of(insured, "classes/insurance-card"),
                Some(&token),
                None,
            )
            .await
        }
    };
    assert_eq!(read(AIKO).await.0, StatusCode::OK);
    let (s, v) = read(BUNTA).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-representative"))
    );
    // The representative sees the list but cannot end the representation.
    let (s, v) = p
        .call(
            Method::GET,
            &of(AIKO, "representatives"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (s, v[0]["agent"].as_str()),
        (StatusCode::OK, Some("LINK-DAUGHTER"))
    );
    let (s, v) = p
        .call(
            Method::DELETE,
            &of(AIKO, "representatives/LINK-DAUGHTER"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
    // Aiko ends it herself; the daughter's next read is refused.
    let aiko = p.card("CARDAIKO", "valid", Some("LINK-AIKO")).await;
    let aiko_token = p.token(&aiko).await;
    let (s, v) = p
        .call(
            Method::DELETE,
            &of(AIKO, "representatives/LINK-DAUGHTER"),
            Some(&aiko_token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["active"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{v}"
    );
    let (s, v) = read(AIKO).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-representative"))
    );
}

#[tokio::test]
async fn registering_a_representative_refuses_bad_input_and_other_callers() {
    let p = portal().await;
    let cases = [
        (
            "123456789012",
            json!({"kind": "guardian"}),
            StatusCode::BAD_REQUEST,
            "personal-number-refused",
        ),
        (
            "LINK/../x",
            json!({"kind": "guardian"}),
            StatusCode::NOT_FOUND,
            "unknown-route",
        ),
        (
            "LINK.BAD",
            json!({"kind": "guardian"}),
            StatusCode::BAD_REQUEST,
            "invalid-card-link",
        ),
        (
            "LINK-AIKO",
            json!({"kind": "family"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "LINK-SON",
            json!({"kind": "family", "valid_from": "2027-01-01", "valid_until": "2026-12-31"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "LINK-SON",
            json!({"kind": "cousin"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
    ];
    for (agent, body, status, code) in cases {
        let (s, v) = p
            .city(
                Method::PUT,
                &of(AIKO, &format!("representatives/{agent}")),
                Some(body),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (status, Some(code)),
            "{agent}: {v}"
        );
    }
    let (s, v) =
        p.w.as_cm(
            Method::PUT,
            &of(AIKO, "representatives/LINK-SON"),
            Some(json!({"kind": "family"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
    let kawasaki = p.w.h.identity(Role::Municipality, KAWASAKI, "k1");
    let (s, v) =
        p.w.h
            .call(
                Method::PUT,
                &of(AIKO, "representatives/LINK-SON"),
                Some(&kawasaki),
                None,
                Some(json!({"kind": "family"})),
            )
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = p
        .city(
            Method::DELETE,
            &of(AIKO, "representatives/LINK-NOBODY"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown-representative"))
    );
}
