//! The platform over real sockets: TLS 1.3 with client certificates from a real PKI folder,
//! keep-alive connections, and refusals that take effect on the next request of an
//! already-open connection (certificate revocation via a CRL swap, staff disabling).

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use kiban_certs::store::{InitOptions, PkiDir};
use kiban_certs::tls::{ClientVerifier, StaleCrl, client_config};
use kiban_certs::{ManualClock, Organisation, Principal, RevocationReason, TerminalId};
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::Role;
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig};
use kiban_platform::store::MemoryStore;
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

struct Running {
    addr: std::net::SocketAddr,
    pki: PkiDir,
    verifier: Arc<ClientVerifier>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let pki = PkiDir::init(
        dir.path(),
        &InitOptions::default(),
        clock.now_for_tests(),
        false,
    )
    .unwrap();
    let verifier = pki.client_verifier(StaleCrl::Refuse).unwrap();
    let server_config = pki.server_config(verifier.clone(), clock.clone()).unwrap();
    let config = PlatformConfig {
        kdf: KdfCost::TestOnly,
        sim_clock: true,
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
        jlis: None,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
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

trait NowForTests {
    fn now_for_tests(&self) -> Timestamp;
}

impl NowForTests for ManualClock {
    fn now_for_tests(&self) -> Timestamp {
        kiban_certs::Clock::now(self)
    }
}

/// A keep-alive HTTP/1.1 connection over TLS with the client certificate of `principal`.
struct Connection {
    send: SendRequest<Body>,
    serial: kiban_certs::Serial,
}

impl Running {
    fn principal(role: Role, org: &str, terminal: &str) -> Principal {
        let organisation = match role {
            Role::Operator => Organisation::None,
            _ => Organisation::parse_for(role, org).unwrap(),
        };
        Principal::new(role, organisation, TerminalId::parse(terminal).unwrap()).unwrap()
    }

    async fn connect(&mut self, principal: &Principal) -> Connection {
        let now = self.clock.now_for_tests();
        let entry = self.pki.issue_client(principal, 365, now, false).unwrap();
        let credentials = self.pki.client_credentials(&entry.serial).unwrap();
        let config = client_config(self.pki.root_der(), credentials, self.clock.clone()).unwrap();
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        Connection {
            send,
            serial: entry.serial,
        }
    }
}

impl Connection {
    async fn call(
        &mut self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send.ready().await.unwrap();
        let response = self
            .send
            .send_request(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

const CM: &str = "1470100015";

/// Yokohama live, the care manager's office registered, Aiko ingested and registered.
async fn seeded(server: &mut Running) -> (Connection, String) {
    let mut operator = server
        .connect(&Running::principal(Role::Operator, "-", "ops1"))
        .await;
    let (s, v) = operator
        .call(
            "PUT",
            "/v1/operator/municipalities/141003",
            None,
            Some(json!({"live_from": "2026-09-01"})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let office = json!({"role": "care-management", "municipality": "141003", "admin_password": "correct horse"});
    let (s, v) = operator
        .call(
            "PUT",
            &format!("/v1/operator/offices/{CM}"),
            None,
            Some(office),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mut city = server
        .connect(&Running::principal(Role::Municipality, "141003", "kikan1"))
        .await;
    let card = json!({"care_level": "care-1", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
        "copay": {"ratio": "10-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}});
    let batch = json!({"items": [{"kind": "insured-person", "insured": "0000000001", "insurance_card": card}]});
    let request = Request::builder()
        .method("POST")
        .uri("/v1/municipality/ingest")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("idempotency-key", "b1")
        .body(Body::from(batch.to_string()))
        .unwrap();
    city.send.ready().await.unwrap();
    assert_eq!(city.send.send_request(request).await.unwrap().status(), 201);
    let (s, v) = city
        .call(
            "PUT",
            &format!("/v1/persons/141002/0000000001/registrations/{CM}"),
            None,
            Some(json!({"verified_by": "counter"})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mut cm = server
        .connect(&Running::principal(Role::CareManagement, CM, "cm-pc1"))
        .await;
    let (s, v) = cm
        .call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"staff_id": "admin", "password": "correct horse"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    (cm, token)
}

const READ: &str = "/v1/persons/141002/0000000001/classes/insurance-card";

#[tokio::test]
async fn main_flow_over_mtls_reads_the_ingested_card() {
    let mut server = start().await;
    let (mut cm, token) = seeded(&mut server).await;
    let (s, v) = cm.call("GET", READ, Some(&token), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["records"][0]["document"]["care_level"], "care-1");
}

#[tokio::test]
async fn revocation_takes_effect_on_the_next_request_of_an_open_connection() {
    let mut server = start().await;
    let (mut cm, token) = seeded(&mut server).await;
    let (s, _) = cm.call("GET", READ, Some(&token), None).await;
    assert_eq!(s, 200);
    let now = server.clock.now_for_tests();
    server
        .pki
        .revoke(&cm.serial, RevocationReason::StaffLeft, now)
        .unwrap();
    server.pki.reload_crl(&server.verifier).unwrap();
    let (s, v) = cm.call("GET", READ, Some(&token), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("certificate-revoked")),
        "same keep-alive connection"
    );
}

#[tokio::test]
async fn disabling_staff_takes_effect_on_the_next_request_of_an_open_connection() {
    let mut server = start().await;
    let (mut cm, admin_token) = seeded(&mut server).await;
    let (s, _) = cm
        .call(
            "POST",
            "/v1/office/staff",
            Some(&admin_token),
            Some(json!({"staff_id": "sato", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(s, 201);
    let mut sato_pc = server
        .connect(&Running::principal(Role::CareManagement, CM, "cm-pc2"))
        .await;
    let (s, v) = sato_pc
        .call(
            "POST",
            "/v1/session",
            None,
            Some(json!({"staff_id": "sato", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let sato = v["token"].as_str().unwrap().to_owned();
    assert_eq!(sato_pc.call("GET", READ, Some(&sato), None).await.0, 200);
    let (s, _) = cm
        .call("DELETE", "/v1/office/staff/sato", Some(&admin_token), None)
        .await;
    assert_eq!(s, 204);
    let (s, v) = sato_pc.call("GET", READ, Some(&sato), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("staff-disabled")),
        "{v}"
    );
    assert_eq!(
        cm.call("GET", READ, Some(&admin_token), None).await.0,
        200,
        "colleagues are unaffected"
    );
}
