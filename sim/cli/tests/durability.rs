//! Acknowledged writes survive `kill -9`: `kiban serve` runs as a child process on its SQLite
//! store, a client writes insured persons one by one over TLS 1.3 with a client certificate,
//! the server is killed with SIGKILL at a seeded random point, restarted, and must hold every
//! acknowledged person (and at most the one write that was in flight). At the end SQLite's
//! integrity check passes and `kiban audit verify` finds the audit log intact.
//!
//! `KIBAN_CRASH_ITERATIONS` sets the number of kill/restart rounds (default 20);
//! `KIBAN_CRASH_SEED` the seed of the kill points (default 1).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::Request;
use hyper_util::rt::TokioIo;
use kiban_certs::store::{InitOptions, PkiDir};
use kiban_certs::tls::client_config;
use kiban_certs::{Clock, Organisation, Principal, SystemClock, TerminalId};
use kiban_core::vocab::Role;
use rand::{RngExt, SeedableRng};
use rustls::pki_types::ServerName;
use serde_json::{Value, json};

struct Server {
    child: Child,
    addr: SocketAddr,
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn start(dir: &Path) -> Server {
    let addr = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_kiban"))
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--log-level",
            "warn",
        ])
        .arg("--pki")
        .arg(dir.join("pki"))
        .arg("--data")
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "kiban serve did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, addr }
}

struct Client {
    config: Arc<rustls::ClientConfig>,
}

impl Client {
    fn new(pki: &mut PkiDir, principal: &Principal) -> Client {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let entry = pki.issue_client(principal, 30, clock.now(), false).unwrap();
        let credentials = pki.client_credentials(&entry.serial).unwrap();
        Client {
            config: client_config(pki.root_der(), credentials, clock).unwrap(),
        }
    }

    async fn call(
        &self,
        addr: SocketAddr,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(self.config.clone())
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost");
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = send
            .send_request(request.body(body).unwrap())
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

fn principal(role: Role, org: &str, terminal: &str) -> Principal {
    let organisation = if role == Role::Operator {
        Organisation::None
    } else {
        Organisation::parse_for(role, org).unwrap()
    };
    Principal::new(role, organisation, TerminalId::parse(terminal).unwrap()).unwrap()
}

fn env_number(name: &str, default: u64) -> u64 {
    #[allow(clippy::disallowed_methods)] // Test configuration, not the core.
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn person(n: u64) -> Value {
    json!({"items": [{"kind": "insured-person", "insured": format!("{n:010}"),
        "insurance_card": {"care_level": "care-1", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
        "copay": {"ratio": "10-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}}}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_and_the_audit_log_stays_intact() {
    let iterations = env_number("KIBAN_CRASH_ITERATIONS", 20);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(env_number("KIBAN_CRASH_SEED", 1));
    let dir = tempfile::tempdir().unwrap();
    let mut pki = PkiDir::init(
        &dir.path().join("pki"),
        &InitOptions::default(),
        SystemClock.now(),
        false,
    )
    .unwrap();
    let operator = Client::new(&mut pki, &principal(Role::Operator, "-", "ops1"));
    let city = Client::new(&mut pki, &principal(Role::Municipality, "141003", "kikan1"));

    let mut server = start(dir.path());
    let (s, v) = operator
        .call(
            server.addr,
            "PUT",
            "/v1/operator/municipalities/141003",
            None,
            Some(json!({"live_from": "2026-01-01"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 204, "{v}");
    let mut acknowledged = 0u64;
    let mut next = 1u64;
    for round in 0..iterations {
        let writes_before_kill = rng.random_range(0..12u32);
        let mut in_flight = false;
        for _ in 0..writes_before_kill {
            match city
                .call(
                    server.addr,
                    "POST",
                    "/v1/municipality/ingest",
                    Some(&format!("p{next}")),
                    Some(person(next)),
                )
                .await
            {
                Ok((201, _)) => {
                    acknowledged = next;
                    next += 1;
                }
                other => panic!("round {round}: write {next} failed before the kill: {other:?}"),
            }
        }
        // One more write races the kill: it may or may not land, but must not half-land.
        let racing = {
            let city_config = city.config.clone();
            let addr = server.addr;
            let body = person(next);
            let key = format!("p{next}");
            tokio::spawn(async move {
                Client {
                    config: city_config,
                }
                .call(
                    addr,
                    "POST",
                    "/v1/municipality/ingest",
                    Some(&key),
                    Some(body),
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_micros(rng.random_range(0..3000u64))).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        if let Ok(Ok((201, _))) = racing.await {
            in_flight = true;
        }
        server = start(dir.path());
        let (s, health) = operator
            .call(server.addr, "GET", "/healthz", None, None)
            .await
            .unwrap();
        assert_eq!(s, 200);
        let persons = health["persons"].as_u64().unwrap();
        if in_flight {
            acknowledged = next;
            next += 1;
            assert_eq!(
                persons, acknowledged,
                "round {round}: the acknowledged racing write was lost"
            );
        } else {
            assert!(
                persons == acknowledged || persons == acknowledged + 1,
                "round {round}: {persons} persons, {acknowledged} acknowledged"
            );
            if persons == acknowledged + 1 {
                // The unacknowledged write landed; a retry with its key must replay, not duplicate.
                let (s, v) = city
                    .call(
                        server.addr,
                        "POST",
                        "/v1/municipality/ingest",
                        Some(&format!("p{next}")),
                        Some(person(next)),
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    (s, v["persons_created"].as_u64()),
                    (201, Some(1)),
                    "round {round}: replayed receipt"
                );
                acknowledged = next;
                next += 1;
            }
        }
        for n in [1, acknowledged] {
            if n == 0 {
                continue;
            }
            let uri = format!("/v1/persons/141002/{n:010}/classes/insurance-card");
            let (s, v) = city
                .call(server.addr, "GET", &uri, None, None)
                .await
                .unwrap();
            assert_eq!(s, 200, "round {round}: person {n}: {v}");
        }
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(acknowledged > 0, "the test wrote something");
    let db = rusqlite::Connection::open(dir.path().join("data").join("platform.sqlite3")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(db);
    let out = Command::new(env!("CARGO_BIN_EXE_kiban"))
        .args(["audit", "verify", "--data"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
