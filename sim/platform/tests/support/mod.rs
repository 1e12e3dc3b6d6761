//! Shared harness of the platform's in-process tests: a platform in memory with a settable
//! clock and revocation list, callers with certificate identities, and the standard world
//! (Yokohama and Kawasaki, three offices, one insured person).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kiban_certs::{ClientIdentity, ManualClock, Organisation, Principal, Serial, TerminalId};
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::Role;
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::identity::JlisClient;
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig, RevokedSerials};
use kiban_platform::store::MemoryStore;
use serde_json::{Value, json};
use tower::ServiceExt;

pub mod card;

pub const YOKOHAMA: &str = "141003";
pub const YOKOHAMA_INSURER: &str = "141002";
pub const KAWASAKI: &str = "141305";
pub const CM: &str = "1470100015";
pub const FACILITY: &str = "1470100023";
pub const SVC_KAWASAKI: &str = "1471100030";
pub const AIKO: &str = "0000000001";

pub fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

/// A platform in memory with a settable clock and an in-memory revocation list.
pub struct Harness {
    pub app: Router,
    pub clock: Arc<ManualClock>,
    pub revoked: Arc<RevokedSerials>,
    pub next_serial: std::cell::Cell<u8>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_jlis(None, None)
    }

    /// A harness whose platform trusts `jlis_ca` for card certificates and asks `jlis`.
    pub fn with_jlis(jlis: Option<JlisClient>, jlis_ca: Option<Vec<u8>>) -> Harness {
        let clock = Arc::new(ManualClock::new(at("2026-10-01")));
        let revoked = Arc::new(RevokedSerials::default());
        let config = PlatformConfig {
            sim_clock: true,
            kdf: KdfCost::TestOnly,
            jlis_ca,
            ..PlatformConfig::standard()
        };
        let platform = Platform::open(
            Arc::new(MemoryStore::new()),
            clock.clone(),
            revoked.clone(),
            config,
        )
        .unwrap();
        let state = AppState {
            platform: Arc::new(platform),
            sim_clock: Some(clock.clone()),
            metrics: Arc::new(Metrics::default()),
            jlis,
        };
        Harness {
            app: router(state),
            clock,
            revoked,
            next_serial: std::cell::Cell::new(1),
        }
    }

    pub fn identity(&self, role: Role, org: &str, terminal: &str) -> ClientIdentity {
        let organisation = match role {
            Role::Operator => Organisation::None,
            _ => Organisation::parse_for(role, org).unwrap(),
        };
        let principal =
            Principal::new(role, organisation, TerminalId::parse(terminal).unwrap()).unwrap();
        let serial = self.next_serial.get();
        self.next_serial.set(serial + 1);
        ClientIdentity {
            principal,
            serial: Serial::from_be_bytes(&[serial]).unwrap(),
            not_before: at("2026-01-01"),
            not_after: at("2029-01-01"),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        who: Option<&ClientIdentity>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap();
        if let Some(who) = who {
            request.extensions_mut().insert(who.clone());
        }
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/problem+json");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_client_error() || status.is_server_error() {
            assert!(is_problem, "{status} without problem+json: {value}");
        }
        (status, value)
    }
}

/// The standard world: Yokohama live 2026-11-01, Kawasaki 2027-10-01, a care manager and a
/// facility in Yokohama, a service office in Kawasaki, Aiko insured in Yokohama.
pub struct World {
    pub h: Harness,
    pub operator: ClientIdentity,
    pub city: ClientIdentity,
    pub cm: ClientIdentity,
    pub cm_token: String,
    pub svc: ClientIdentity,
    pub svc_token: String,
}

pub async fn world() -> World {
    world_on(Harness::new()).await
}

/// The standard world on a given harness.
pub async fn world_on(h: Harness) -> World {
    let operator = h.identity(Role::Operator, "-", "ops1");
    for (code, live) in [(YOKOHAMA, "2026-11-01"), (KAWASAKI, "2027-10-01")] {
        let (s, v) = h
            .call(
                Method::PUT,
                &format!("/v1/operator/municipalities/{code}"),
                Some(&operator),
                None,
                Some(json!({"live_from": live})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    for (number, role, muni) in [
        (CM, "care-management", YOKOHAMA),
        (FACILITY, "facility", YOKOHAMA),
        (SVC_KAWASAKI, "care-service", KAWASAKI),
    ] {
        let body = json!({"role": role, "municipality": muni, "admin_password": "correct horse"});
        let (s, v) = h
            .call(
                Method::PUT,
                &format!("/v1/operator/offices/{number}"),
                Some(&operator),
                None,
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    let city = h.identity(Role::Municipality, YOKOHAMA, "kikan1");
    let (s, v) = h
        .call(
            Method::POST,
            "/v1/municipality/ingest",
            Some(&city),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    let batch = json!({"items": [{"kind": "insured-person", "insured": AIKO, "card_link": "LINK-AIKO", "insurance_card": card()},
        {"kind": "certification-survey", "insured": AIKO, "document": {"surveyed_on": "2026-09-20", "basic_items": [1, 2, 1]}}]});
    let (s, v) = ingest(&h, &city, "batch-1", batch).await;
    assert_eq!(
        (s, v["persons_created"].as_u64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let cm = h.identity(Role::CareManagement, CM, "cm-pc1");
    let cm_token = login(&h, &cm, "admin", "correct horse").await;
    let svc = h.identity(Role::CareService, SVC_KAWASAKI, "svc-pc1");
    let svc_token = login(&h, &svc, "admin", "correct horse").await;
    World {
        h,
        operator,
        city,
        cm,
        cm_token,
        svc,
        svc_token,
    }
}

impl World {
    /// A call by the care manager's signed-in administrator.
    pub async fn as_cm(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.h
            .call(method, uri, Some(&self.cm), Some(&self.cm_token), body)
            .await
    }

    /// Moves the platform clock and signs the office users in again (sessions last 8 hours).
    pub async fn set_date(&mut self, date: &str) {
        self.h.clock.set(at(date));
        self.cm_token = login(&self.h, &self.cm, "admin", "correct horse").await;
        self.svc_token = login(&self.h, &self.svc, "admin", "correct horse").await;
    }
}

pub fn card() -> Value {
    json!({"care_level": "care-2", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
        "copay": {"ratio": "10-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}})
}

pub async fn ingest(
    h: &Harness,
    city: &ClientIdentity,
    key: &str,
    batch: Value,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/municipality/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(batch.to_string()))
        .unwrap();
    let mut request = request;
    request.extensions_mut().insert(city.clone());
    h.send(request).await
}

pub async fn login(h: &Harness, who: &ClientIdentity, staff: &str, password: &str) -> String {
    let (s, v) = h
        .call(
            Method::POST,
            "/v1/session",
            Some(who),
            None,
            Some(json!({"staff_id": staff, "password": password})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

pub fn person(class: &str) -> String {
    format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/classes/{class}")
}

pub async fn register_cm(w: &World) {
    let uri = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/registrations/{CM}");
    let (s, v) =
        w.h.call(
            Method::PUT,
            &uri,
            Some(&w.city),
            None,
            Some(json!({"verified_by": "counter-photo-id"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}

pub async fn post_with_key(
    h: &Harness,
    who: &ClientIdentity,
    token: Option<&str>,
    uri: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let mut request = request.body(Body::from(body.to_string())).unwrap();
    request.extensions_mut().insert(who.clone());
    h.send(request).await
}

/// A harness over a given store (a `SqliteStore` in a temporary folder, for restarts), with
/// the clock at `now`.
pub fn harness_on_store(store: Arc<dyn kiban_platform::store::Store>, now: Timestamp) -> Harness {
    let clock = Arc::new(ManualClock::new(now));
    let revoked = Arc::new(RevokedSerials::default());
    let config = PlatformConfig {
        sim_clock: true,
        kdf: KdfCost::TestOnly,
        ..PlatformConfig::standard()
    };
    let platform = Platform::open(store, clock.clone(), revoked.clone(), config).unwrap();
    let state = AppState {
        platform: Arc::new(platform),
        sim_clock: Some(clock.clone()),
        metrics: Arc::new(Metrics::default()),
        jlis: None,
    };
    Harness {
        app: router(state),
        clock,
        revoked,
        next_serial: std::cell::Cell::new(1),
    }
}

/// A response with its raw body: status, headers and bytes.
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// Sends raw bytes (any media type, or none) and returns the raw response; every 4xx/5xx
/// must still be problem+json.
pub async fn send_raw(
    h: &Harness,
    method: Method,
    uri: &str,
    who: Option<&ClientIdentity>,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> RawResponse {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    if let Some(who) = who {
        request.extensions_mut().insert(who.clone());
    }
    let response = h.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(
            headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..]),
            "{status} without problem+json"
        );
    }
    RawResponse {
        status,
        headers,
        bytes,
    }
}
