//! Shared harness of the actors' integration tests, copied in spirit from the platform's own
//! test support (`sim/platform/tests/support/mod.rs` and `tests/tls.rs`), which other crates
//! cannot import: a platform in process behind its router (identity tests), a platform on a
//! real socket with TLS 1.3 and client certificates from a real PKI folder (client tests),
//! the J-LIS mock, and Yokohama people with cards.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kiban_actors::card::Card;
use kiban_actors::client::{PlatformClient, Refusal};
use kiban_actors::jlis::{JlisMock, JlisServer};
use kiban_actors::people::{PeopleConfig, Person, generate};
use kiban_certs::store::{InitOptions, PkiDir};
use kiban_certs::tls::{ClientVerifier, StaleCrl};
use kiban_certs::{
    ClientIdentity, Clock, ManualClock, Organisation, Principal, Serial, TerminalId,
};
use kiban_core::id::MunicipalityCode;
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::Role;
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::identity::JlisClient;
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig, RevokedSerials};
use kiban_platform::store::MemoryStore;
use rand::SeedableRng;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const YOKOHAMA: &str = "141003";
pub const YOKOHAMA_INSURER: &str = "141002";
pub const CM: &str = "1470100015";
pub const PASSWORD: &str = "correct horse";

pub fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

pub fn date(text: &str) -> Date {
    text.parse().unwrap()
}

pub fn yokohama() -> MunicipalityCode {
    MunicipalityCode::parse(YOKOHAMA).unwrap()
}

/// `count` people living in Yokohama, from `seed`, ages counted on 2026-10-01.
pub fn yokohama_people(seed: u64, count: usize) -> Vec<Person> {
    let config = PeopleConfig {
        municipalities: Some(vec![yokohama()]),
        card_holding_rate: 1.0,
        ..PeopleConfig::standard(date("2026-10-01"))
    };
    generate(seed, count, config).unwrap()
}

/// A J-LIS mock on `clock` with a CA valid from 2015 for 30 years.
pub fn jlis_on(clock: Arc<ManualClock>) -> JlisMock {
    JlisMock::generate(at("2015-01-01"), 30 * 365, clock).unwrap()
}

/// Issues `person`'s card at `issued_on`.
pub fn issue(jlis: &JlisMock, person: &Person, issued_on: &str, seed: u64) -> Card {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    jlis.issue_card(person.card_request().unwrap(), at(issued_on), &mut rng)
        .unwrap()
}

/// The standard insurance card document of an ingestion.
pub fn insurance_card() -> Value {
    json!({"care_level": "care-2", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
        "copay": {"ratio": "10-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}})
}

/// The ingestion item of `person` with `card_link`.
pub fn person_item(person: &Person, card_link: Option<&str>) -> Value {
    let mut item = json!({"kind": "insured-person", "insured": person.insured.as_str(), "insurance_card": insurance_card()});
    if let Some(link) = card_link {
        item["card_link"] = json!(link);
    }
    item
}

// ------------------------------------------------------------------ in-process platform

/// An answer of the in-process platform.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The answer read the way the actors' client reads a refusal.
    pub fn refusal(&self) -> Refusal {
        Refusal::from_response(
            self.status.as_u16(),
            self.content_type.as_deref(),
            &self.body,
        )
    }
}

/// A platform in memory behind its router, with a settable clock.
pub struct Harness {
    pub app: Router,
    pub clock: Arc<ManualClock>,
    next_serial: std::cell::Cell<u8>,
}

impl Harness {
    /// A platform at `clock` that trusts `jlis_ca` and asks J-LIS at `jlis_url`.
    pub fn new(
        clock: Arc<ManualClock>,
        jlis_url: Option<&str>,
        jlis_ca: Option<Vec<u8>>,
    ) -> Harness {
        let config = PlatformConfig {
            sim_clock: true,
            kdf: KdfCost::TestOnly,
            jlis_ca,
            ..PlatformConfig::standard()
        };
        let platform = Platform::open(
            Arc::new(MemoryStore::new()),
            clock.clone(),
            Arc::new(RevokedSerials::default()),
            config,
        )
        .unwrap();
        let state = AppState {
            platform: Arc::new(platform),
            sim_clock: Some(clock.clone()),
            metrics: Arc::new(Metrics::default()),
            jlis: jlis_url.map(|u| JlisClient::new(u).unwrap()),
        };
        Harness {
            app: router(state),
            clock,
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
        who: &ClientIdentity,
        token: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap();
        request.extensions_mut().insert(who.clone());
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    }
}

/// Yokohama live, a care-management office in Yokohama, the given people ingested with their
/// card links, the care manager signed in.
pub struct World {
    pub h: Harness,
    pub city: ClientIdentity,
    pub cm: ClientIdentity,
    pub cm_token: String,
}

impl World {
    pub async fn new(h: Harness, items: Vec<Value>) -> World {
        let operator = h.identity(Role::Operator, "-", "ops1");
        let a = h
            .call(
                Method::PUT,
                &format!("/v1/operator/municipalities/{YOKOHAMA}"),
                &operator,
                None,
                None,
                Some(json!({"live_from": "2026-11-01"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.json());
        let office = json!({"role": "care-management", "municipality": YOKOHAMA, "admin_password": PASSWORD});
        let a = h
            .call(
                Method::PUT,
                &format!("/v1/operator/offices/{CM}"),
                &operator,
                None,
                None,
                Some(office),
            )
            .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.json());
        let city = h.identity(Role::Municipality, YOKOHAMA, "kikan1");
        let a = h
            .call(
                Method::POST,
                "/v1/municipality/ingest",
                &city,
                None,
                Some("batch-1"),
                Some(json!({ "items": items })),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
        let cm = h.identity(Role::CareManagement, CM, "cm-pc1");
        let mut world = World {
            h,
            city,
            cm,
            cm_token: String::new(),
        };
        world.sign_in().await;
        world
    }

    /// Signs the care manager in again (sessions last 8 hours of platform time).
    pub async fn sign_in(&mut self) {
        let a = self
            .h
            .call(
                Method::POST,
                "/v1/session",
                &self.cm,
                None,
                None,
                Some(json!({"staff_id": "admin", "password": PASSWORD})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
        self.cm_token = a.json()["token"].as_str().unwrap().to_owned();
    }

    /// Moves the platform's (and J-LIS's) clock to `day` and signs in again.
    pub async fn set_date(&mut self, day: &str) {
        self.h.clock.set(at(day));
        self.sign_in().await;
    }

    pub async fn as_cm(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        self.h
            .call(method, uri, &self.cm, Some(&self.cm_token), None, body)
            .await
    }

    /// A nonce for the care manager's terminal.
    pub async fn nonce(&self) -> String {
        let a = self.as_cm(Method::POST, "/v1/identity/nonce", None).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
        a.json()["nonce"].as_str().unwrap().to_owned()
    }

    pub async fn verify(&self, assertion: Value) -> Answer {
        self.as_cm(Method::POST, "/v1/identity/verify", Some(assertion))
            .await
    }

    /// The status of the care manager's read of `person`'s insurance card.
    pub async fn read_card(&self, person: &Person) -> Answer {
        let uri = format!(
            "/v1/persons/{}/{}/classes/insurance-card",
            person.insurer, person.insured
        );
        self.as_cm(Method::GET, &uri, None).await
    }
}

/// A J-LIS mock serving on a fresh local port.
pub async fn serve_jlis(jlis: &JlisMock) -> JlisServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    jlis.serve(listener).unwrap()
}

// ------------------------------------------------------------------ platform over TLS

/// The platform on a real socket: TLS 1.3, client certificates from a PKI folder.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub pki: PkiDir,
    pub verifier: Arc<ClientVerifier>,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// A platform at 2026-10-01 on 127.0.0.1, optionally trusting a J-LIS CA and asking a
    /// J-LIS service.
    pub async fn start(clock: Arc<ManualClock>, jlis: Option<(String, Vec<u8>)>) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::init(dir.path(), &InitOptions::default(), clock.now(), false).unwrap();
        let verifier = pki.client_verifier(StaleCrl::Refuse).unwrap();
        let server_config = pki.server_config(verifier.clone(), clock.clone()).unwrap();
        let (jlis_url, jlis_ca) = match jlis {
            Some((url, ca)) => (Some(url), Some(ca)),
            None => (None, None),
        };
        let config = PlatformConfig {
            kdf: KdfCost::TestOnly,
            sim_clock: true,
            jlis_ca,
            ..PlatformConfig::standard()
        };
        let platform = Platform::open(
            Arc::new(MemoryStore::new()),
            clock.clone(),
            verifier.clone(),
            config,
        )
        .unwrap();
        let state = AppState {
            platform: Arc::new(platform),
            sim_clock: Some(clock.clone()),
            metrics: Arc::new(Metrics::default()),
            jlis: jlis_url.map(|u| JlisClient::new(&u).unwrap()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(kiban_platform::server::serve(
            listener,
            server_config,
            router(state),
            async move {
                let _ = stopped.await;
            },
        ));
        Running {
            addr,
            pki,
            verifier,
            clock,
            _dir: dir,
            _stop: stop,
        }
    }

    pub fn principal(role: Role, org: &str, terminal: &str) -> Principal {
        let organisation = match role {
            Role::Operator => Organisation::None,
            _ => Organisation::parse_for(role, org).unwrap(),
        };
        Principal::new(role, organisation, TerminalId::parse(terminal).unwrap()).unwrap()
    }

    /// A client with a fresh certificate for `principal`.
    pub fn client(&mut self, principal: &Principal) -> PlatformClient {
        let now = self.clock.now();
        let entry = self.pki.issue_client(principal, 365, now, false).unwrap();
        let credentials = self.pki.client_credentials(&entry.serial).unwrap();
        PlatformClient::with_credentials(
            self.addr,
            "localhost",
            self.pki.root_der(),
            credentials,
            self.clock.clone(),
        )
        .unwrap()
    }
}

impl Running {
    /// The operator's certificate desk over this platform's PKI folder and verifier.
    pub fn desk(&mut self) -> kiban_actors::operator::CertificateDesk<'_> {
        kiban_actors::operator::CertificateDesk::new(
            &mut self.pki,
            self.verifier.clone(),
            self.addr,
            "localhost",
            self.clock.clone(),
        )
    }
}

pub mod scene;
