//! The read endpoint over TLS 1.3 with a client certificate, and its floor, on 127.0.0.1.
//!
//! [`Scene::start`] makes one operator PKI and one rustls server configuration (kiban-certs:
//! TLS 1.3 only, client certificate required and verified against the operator CA and its
//! CRL, no resumption) and serves it three times:
//!
//! - **floor**: a trivial axum handler on the axum low-level rustls loop (accept, TLS
//!   handshake, the peer certificate read once per connection and attached to every request,
//!   hyper-util HTTP/1.1), answering every `GET /v1/persons/{insurer}/{insured}/classes/{class}`
//!   with a constant 200 whose body is the real endpoint's answer for the first person, byte
//!   for byte. It does nothing the endpoint would not also have to do.
//! - **endpoint-memory**: the reference platform (`kiban_platform::server::serve` and the
//!   full router, metrics middleware included) over the in-memory store.
//! - **endpoint-sqlite**: the same over the durable SQLite store (WAL, `synchronous=FULL`) in
//!   a temporary folder on disk: the real configuration. Every read's audit record is
//!   committed before the answer, so this arm includes the store's commit cost.
//!
//! Each platform is populated the way the field does it, over the wire with the actors of
//! kiban-actors: the operator puts Yokohama on the platform and registers a care-management
//! office, Yokohama uploads its insured persons (insurance cards) and a certification
//! survey for each, and registers the office for each person at its counter (people without
//! a card); the office opens a terminal, signs its administrator in and records each
//! person's consent on the municipality's behalf, because the class read, the certification
//! survey, is read-with-consent for care management. The benchmark client then uses its own
//! terminal certificate of that office and its own staff session.
//!
//! The client ([`Target`]) is the same for all three servers: hyper's HTTP/1.1 client
//! connection over tokio-rustls with the office terminal's certificate, TCP_NODELAY, the
//! bearer token on every request. Every answer is checked (status 200 and the exact body
//! the endpoint gave for that person at setup), so a measurement is also a correctness check.
//!
//! Clocks: the platforms run on one `ManualClock` fixed at 2026-10-01 09:00 JST so the setup
//! is deterministic; `kiban serve` uses the system clock, which costs the same to read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use kiban_actors::client::{ApiRequest, PlatformClient, RetryPolicy};
use kiban_actors::jlis::JlisMock;
use kiban_actors::migration::MigrationState;
use kiban_actors::municipality::{CounterCheck, Municipality, MunicipalityConfig};
use kiban_actors::office::{Office, OfficeSpec};
use kiban_actors::operator::{CertificateDesk, Operator};
use kiban_actors::people::{PeopleConfig, generate};
use kiban_actors::reader::ReaderConfig;
use kiban_actors::wire::PersonRef;
use kiban_certs::store::{InitOptions, PkiDir};
use kiban_certs::tls::{ClientVerifier, StaleCrl};
use kiban_certs::{Clock, ManualClock, Organisation, Principal, TerminalId};
use kiban_core::id::{CareOfficeNumber, MunicipalityCode};
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::{InfoClass, Role};
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::careplan::ServiceTypeCode;
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig};
use kiban_platform::store::{MemoryStore, SqliteStore, Store};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::ServiceExt;

/// Yokohama (横浜市), the municipality of the benchmark's persons.
const CITY: &str = "141003";
/// The office administrator's password, given to the operator at registration.
const ADMIN_PASSWORD: &str = "kiban bench administrator";
/// The class every benchmark request reads: read-with-consent for care management.
pub const CLASS: InfoClass = InfoClass::CertificationSurvey;

/// Why the scene could not be set up, or an exchange failed or answered wrongly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Setting up the PKI, a platform or its data failed.
    #[error("setup: {0}")]
    Setup(String),
    /// A socket or runtime operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The server answered something other than the expected 200 and body.
    #[error(
        "{arm}: request {index} answered {status} with {len} bytes, expected 200 and {expected} bytes"
    )]
    Answer {
        /// The server.
        arm: &'static str,
        /// The request's index in the cycle.
        index: usize,
        /// The status received.
        status: u16,
        /// The body length received.
        len: usize,
        /// The body length expected.
        expected: usize,
    },
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> HttpError + '_ {
    move |e| HttpError::Setup(format!("{what}: {e}"))
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> HttpError {
    move |source| HttpError::Io { what, source }
}

/// The three servers measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arm {
    /// The trivial axum + rustls mTLS handler.
    Floor,
    /// The platform over the in-memory store.
    EndpointMemory,
    /// The platform over the durable SQLite store.
    EndpointSqlite,
}

impl Arm {
    /// Every arm, in report order.
    pub const ALL: [Arm; 3] = [Arm::Floor, Arm::EndpointMemory, Arm::EndpointSqlite];

    /// The arm's name in bench ids and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Arm::Floor => "floor",
            Arm::EndpointMemory => "endpoint-memory",
            Arm::EndpointSqlite => "endpoint-sqlite",
        }
    }
}

/// How the scene is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneOptions {
    /// Persons in each platform; the requests cycle through them.
    pub persons: usize,
    /// Seed of the generated people.
    pub seed: u64,
}

impl Default for SceneOptions {
    /// 64 persons, seed 8.
    fn default() -> Self {
        SceneOptions {
            persons: 64,
            seed: 8,
        }
    }
}

/// The three servers on 127.0.0.1 and what a client needs to call them. Dropping it stops
/// the servers and removes the temporary folder (PKI and SQLite database).
pub struct Scene {
    runtime: Option<tokio::runtime::Runtime>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    targets: Vec<(Arm, Target)>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Scene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scene")
            .field(
                "targets",
                &self
                    .targets
                    .iter()
                    .map(|(a, t)| (a.name(), t.addr))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// A server and the requests a client sends it: cheap to clone, `'static`.
#[derive(Clone)]
pub struct Target {
    arm: Arm,
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    authorization: Arc<str>,
    paths: Arc<[String]>,
    bodies: Arc<[Bytes]>,
}

impl std::fmt::Debug for Target {
    /// The arm, address and request count; never the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("arm", &self.arm.name())
            .field("addr", &self.addr)
            .field("requests", &self.paths.len())
            .finish_non_exhaustive()
    }
}

/// One kept-alive client connection.
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Scene {
    /// Starts the servers on their own multi-threaded runtime (as `kiban serve` does: one
    /// worker per core) and populates both platforms. Blocking; call it outside a runtime.
    pub fn start(options: SceneOptions) -> Result<Scene, HttpError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bench-server")
            .build()
            .map_err(io("server runtime"))?;
        let dir = tempfile::Builder::new()
            .prefix("kiban-bench-http-")
            .tempdir()
            .map_err(io("temporary folder"))?;
        let start = Date::new(2026, 10, 1)
            .map(|d| d.midnight_jst().plus_seconds(9 * 3600))
            .ok_or_else(|| HttpError::Setup("start date".into()))?;
        let clock = Arc::new(ManualClock::new(start));
        let mut pki = PkiDir::init(
            &dir.path().join("pki"),
            &InitOptions::default(),
            start,
            false,
        )
        .map_err(setup("PKI"))?;
        let verifier = pki
            .client_verifier(StaleCrl::Refuse)
            .map_err(setup("client verifier"))?;
        let server_config = pki
            .server_config(verifier.clone(), clock.clone())
            .map_err(setup("server TLS configuration"))?;
        let mut stops = Vec::new();
        let mut targets = Vec::new();
        for (arm, store) in [
            (
                Arm::EndpointMemory,
                Arc::new(MemoryStore::new()) as Arc<dyn Store>,
            ),
            (Arm::EndpointSqlite, {
                let data = dir.path().join("data");
                std::fs::create_dir_all(&data).map_err(io("data folder"))?;
                Arc::new(SqliteStore::open(&data).map_err(setup("SQLite store"))?) as Arc<dyn Store>
            }),
        ] {
            let platform = Platform::open(
                store,
                clock.clone(),
                verifier.clone(),
                PlatformConfig {
                    kdf: KdfCost::TestOnly,
                    ..PlatformConfig::standard()
                },
            )
            .map_err(setup("platform"))?;
            let state = AppState {
                platform: Arc::new(platform),
                sim_clock: None,
                metrics: Arc::new(Metrics::default()),
                jlis: None,
            };
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let config = server_config.clone();
            let addr = runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(io("binding the platform"))?;
                let addr = listener.local_addr().map_err(io("platform address"))?;
                tokio::spawn(kiban_platform::server::serve(
                    listener,
                    config,
                    router(state),
                    async move {
                        let _ = stopped.await;
                    },
                ));
                Ok::<_, HttpError>(addr)
            })?;
            stops.push(stop);
            let mut world = World {
                pki: &mut pki,
                verifier: verifier.clone(),
                clock: clock.clone(),
                addr,
                tag: arm.name().trim_start_matches("endpoint-"),
            };
            let target = runtime.block_on(world.populate(arm, options))?;
            targets.push((arm, target));
        }
        let endpoint = targets[0].1.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let body = endpoint.bodies[0].clone();
        let config = server_config.clone();
        let addr = runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(io("binding the floor"))?;
            let addr = listener.local_addr().map_err(io("floor address"))?;
            tokio::spawn(serve_floor(listener, config, body, stopped));
            Ok::<_, HttpError>(addr)
        })?;
        stops.push(stop);
        let floor = Target {
            arm: Arm::Floor,
            addr,
            bodies: vec![endpoint.bodies[0].clone(); endpoint.paths.len()].into(),
            ..endpoint
        };
        targets.insert(0, (Arm::Floor, floor));
        Ok(Scene {
            runtime: Some(runtime),
            stops,
            targets,
            _dir: dir,
        })
    }

    /// The client side of `arm`.
    pub fn target(&self, arm: Arm) -> &Target {
        self.targets
            .iter()
            .find(|(a, _)| *a == arm)
            .map(|(_, t)| t)
            .unwrap_or_else(|| unreachable!("every arm is started"))
    }
}

/// The floor: the axum low-level rustls loop and a constant handler.
async fn serve_floor(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    body: Bytes,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    /// The connection's client certificate, as a real handler would receive it.
    #[derive(Clone)]
    struct PeerCertificate(#[allow(dead_code)] Arc<CertificateDer<'static>>);

    let acceptor = TlsAcceptor::from(config);
    let app = Router::new().route(
        "/v1/persons/{insurer}/{insured}/classes/{class}",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    tokio::pin!(stop);
    loop {
        let tcp = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|c| PeerCertificate(Arc::new(c.clone().into_owned())));
            let service = tower::service_fn(move |mut request: Request<Incoming>| {
                if let Some(peer) = &peer {
                    request.extensions_mut().insert(peer.clone());
                }
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let _ = Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
                .await;
        });
    }
}

/// One platform being populated through its API.
struct World<'a> {
    pki: &'a mut PkiDir,
    verifier: Arc<ClientVerifier>,
    clock: Arc<ManualClock>,
    addr: SocketAddr,
    tag: &'a str,
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

fn principal(role: Role, org: Organisation, terminal: &str) -> Result<Principal, HttpError> {
    let terminal = TerminalId::parse(terminal).map_err(setup("terminal"))?;
    Principal::new(role, org, terminal).map_err(setup("principal"))
}

impl World<'_> {
    /// A platform client with a fresh certificate for `principal`.
    fn client(&mut self, principal: &Principal) -> Result<PlatformClient, HttpError> {
        let credentials = self.credentials(principal)?;
        PlatformClient::with_credentials(
            self.addr,
            "localhost",
            self.pki.root_der(),
            credentials,
            self.clock.clone(),
        )
        .map_err(setup("client"))
    }

    fn credentials(
        &mut self,
        principal: &Principal,
    ) -> Result<kiban_certs::ClientCredentials, HttpError> {
        let entry = self
            .pki
            .issue_client(principal, 365, self.clock.now(), false)
            .map_err(setup("client certificate"))?;
        self.pki
            .client_credentials(&entry.serial)
            .map_err(setup("client credentials"))
    }

    async fn populate(&mut self, arm: Arm, options: SceneOptions) -> Result<Target, HttpError> {
        let tag = self.tag.to_owned();
        let today = self.clock.now().date_jst();
        let city = MunicipalityCode::parse(CITY).map_err(setup("city"))?;
        let city_org = Organisation::parse_for(Role::Municipality, CITY).map_err(setup("city"))?;
        let operator = Operator::new(self.client(&principal(
            Role::Operator,
            Organisation::None,
            &format!("ops-{tag}"),
        )?)?)
        .with_retry(quick());
        operator
            .enrol_municipality(city, Some(today))
            .await
            .map_err(setup("go-live"))?;
        let office_org = Organisation::CareOffice(CareOfficeNumber::random(
            &mut ChaCha8Rng::seed_from_u64(options.seed),
        ));
        operator
            .register_office(&office_org, Role::CareManagement, city, ADMIN_PASSWORD)
            .await
            .map_err(setup("office registration"))?;

        // Yokohama: migration, insured persons, surveys, counter registrations.
        let city_client = self.client(&principal(
            Role::Municipality,
            city_org,
            &format!("kikan-{tag}"),
        )?)?;
        let jlis = JlisMock::generate(
            Date::new(2015, 1, 1)
                .map(Date::midnight_jst)
                .unwrap_or(Timestamp::MIN),
            30 * 365,
            self.clock.clone(),
        )
        .map_err(setup("J-LIS mock"))?;
        let mut yokohama = Municipality::new(
            city,
            city_client,
            jlis,
            MunicipalityConfig {
                retry: quick(),
                ..MunicipalityConfig::standard(options.seed)
            },
        )
        .map_err(setup("municipality"))?;
        let before = today.plus_months(-1);
        yokohama
            .migrate(MigrationState::Standardized, before)
            .and_then(|()| yokohama.migrate(MigrationState::Sending, before))
            .and_then(|()| yokohama.migrate(MigrationState::Sharing, today))
            .map_err(setup("migration"))?;
        let people = generate(
            options.seed,
            options.persons,
            PeopleConfig {
                municipalities: Some(vec![city]),
                card_holding_rate: 0.0,
                representative_rate: 0.0,
                ..PeopleConfig::standard(today)
            },
        )
        .map_err(setup("people"))?;
        yokohama.enrol(&people, today);
        yokohama.sync().await.map_err(setup("ingestion"))?;
        let surveys: Vec<serde_json::Value> = people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                serde_json::json!({"kind": "certification-survey", "insured": p.insured, "document": {
                    "surveyed_on": today.plus_days(-30),
                    "basic_items": (0..74).map(|k| 1 + (i + k) % 3).collect::<Vec<_>>(),
                    "special_notes": "基準時間 52 分; 夜間の見守りが必要",
                }})
            })
            .collect();
        let survey_client = self.client(&principal(
            Role::Municipality,
            city_org,
            &format!("survey-{tag}"),
        )?)?;
        let request = ApiRequest::post("/v1/municipality/ingest")
            .json(&serde_json::json!({ "items": surveys }))
            .map_err(setup("survey batch"))?
            .idempotency_key(format!("bench-surveys-{tag}"));
        survey_client
            .send_with_retry(&request, &quick())
            .await
            .map_err(setup("survey upload"))?;
        let office_number = office_org.to_string();
        for p in &people {
            yokohama
                .register_without_card(p.insured, &office_number, CounterCheck::PhotoId)
                .await
                .map_err(setup("counter registration"))?;
        }

        // The office: a terminal, its administrator, consent on the municipality's behalf.
        let mut office = Office::new(
            OfficeSpec {
                role: Role::CareManagement,
                organisation: office_org,
                name: "ひまわり居宅介護支援".into(),
                municipality: city,
                service_type: ServiceTypeCode::parse("43"),
            },
            ADMIN_PASSWORD,
            options.seed,
        )
        .with_retry(quick());
        let terminal = format!("cm-{tag}");
        let mut desk = CertificateDesk::new(
            self.pki,
            self.verifier.clone(),
            self.addr,
            "localhost",
            self.clock.clone(),
        );
        office
            .open_terminal(&terminal, &mut desk, 365, ReaderConfig::default())
            .map_err(setup("terminal"))?;
        office
            .sign_in(&terminal, "admin")
            .await
            .map_err(setup("sign-in"))?;
        for p in &people {
            office
                .consent_on_behalf(&terminal, PersonRef::of(p), None)
                .await
                .map_err(setup("consent"))?;
        }

        // The benchmark's own terminal and staff session, then one read per person.
        let bench = principal(Role::CareManagement, office_org, &format!("bench-{tag}"))?;
        let credentials = self.credentials(&bench)?;
        let config =
            kiban_certs::tls::client_config(self.pki.root_der(), credentials, self.clock.clone())
                .map_err(setup("client TLS configuration"))?;
        let paths: Vec<String> = people
            .iter()
            .map(|p| PersonRef::of(p).path(&format!("classes/{CLASS}")))
            .collect();
        let mut target = Target {
            arm,
            addr: self.addr,
            config,
            authorization: Arc::from(""),
            paths: paths.into(),
            bodies: Arc::from(Vec::new()),
        };
        let mut conn = target.connect().await?;
        let login = serde_json::json!({"staff_id": "admin", "password": ADMIN_PASSWORD});
        let (status, body) = conn
            .exchange(
                hyper::Request::post("/v1/session")
                    .header(header::HOST, "localhost")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(login.to_string())))?,
            )
            .await?;
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(String::from))
            .filter(|_| (200..300).contains(&status))
            .ok_or_else(|| HttpError::Setup(format!("bench sign-in answered {status}")))?;
        target.authorization = Arc::from(format!("Bearer {token}"));
        let mut bodies = Vec::with_capacity(target.paths.len());
        for index in 0..target.paths.len() {
            let (status, body) = conn.exchange(target.request(index, false)?).await?;
            let records = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("records").and_then(|r| r.as_array()).map(Vec::len));
            if status != 200 || records != Some(1) {
                return Err(HttpError::Setup(format!(
                    "read {index} answered {status} with {records:?} records: {}",
                    String::from_utf8_lossy(&body)
                )));
            }
            bodies.push(body);
        }
        target.bodies = bodies.into();
        Ok(target)
    }
}

impl Connection {
    /// Sends one request on this connection and reads the whole answer.
    pub async fn exchange(
        &mut self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<(u16, Bytes), HttpError> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

impl Target {
    /// Which server this is.
    pub fn arm(&self) -> Arm {
        self.arm
    }

    /// How many distinct requests it cycles through.
    pub fn requests(&self) -> usize {
        self.paths.len()
    }

    /// A new connection: TCP, a full TLS 1.3 handshake with the client certificate, HTTP/1.1.
    pub async fn connect(&self) -> Result<Connection, HttpError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(io("connecting"))?;
        tcp.set_nodelay(true).map_err(io("TCP_NODELAY"))?;
        let name = ServerName::try_from("localhost").map_err(setup("server name"))?;
        let tls = TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(io("TLS handshake"))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Request `index` (modulo the cycle); `close` asks the server to close after answering.
    pub fn request(
        &self,
        index: usize,
        close: bool,
    ) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
        let path = &self.paths[index % self.paths.len()];
        let mut builder = hyper::Request::get(path.as_str())
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, &*self.authorization);
        if close {
            builder = builder.header(header::CONNECTION, "close");
        }
        Ok(builder.body(Full::new(Bytes::new()))?)
    }

    /// Sends request `index` on `conn` and checks the answer.
    pub async fn call(
        &self,
        conn: &mut Connection,
        index: usize,
        close: bool,
    ) -> Result<(), HttpError> {
        let (status, body) = conn.exchange(self.request(index, close)?).await?;
        let expected = &self.bodies[index % self.bodies.len()];
        if status != 200 || body != *expected {
            return Err(HttpError::Answer {
                arm: self.arm.name(),
                index,
                status,
                len: body.len(),
                expected: expected.len(),
            });
        }
        Ok(())
    }

    /// `requests` requests spread over the kept-alive connections `conns` (each sends its
    /// share one after another; the connections run concurrently); the wall time.
    pub async fn keep_alive(
        &self,
        conns: &mut Vec<Connection>,
        requests: u64,
    ) -> Result<Duration, HttpError> {
        if conns.is_empty() {
            return Err(HttpError::Setup("keep_alive needs a connection".into()));
        }
        let k = conns.len() as u64;
        let started = Instant::now();
        if conns.len() == 1 {
            let conn = &mut conns[0];
            for i in 0..requests {
                self.call(conn, i as usize, false).await?;
            }
            return Ok(started.elapsed());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (j, mut conn) in std::mem::take(conns).into_iter().enumerate() {
            let target = self.clone();
            let share = requests / k + u64::from((j as u64) < requests % k);
            tasks.spawn(async move {
                for n in 0..share {
                    target.call(&mut conn, j + (n * k) as usize, false).await?;
                }
                Ok::<_, HttpError>(conn)
            });
        }
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(conn)) => conns.push(conn),
                Ok(Err(e)) => failure = Some(e),
                Err(e) => failure = Some(HttpError::Setup(format!("client task: {e}"))),
            }
        }
        let elapsed = started.elapsed();
        match failure {
            Some(e) => Err(e),
            None => Ok(elapsed),
        }
    }

    /// `requests` requests, each on a new connection with a full handshake (and
    /// `Connection: close`, so the server closes first); the wall time.
    pub async fn handshakes(&self, requests: u64) -> Result<Duration, HttpError> {
        let started = Instant::now();
        for i in 0..requests {
            let mut conn = self.connect().await?;
            self.call(&mut conn, i as usize, true).await?;
        }
        Ok(started.elapsed())
    }

    /// The latency of each of `n` requests, one after another: on one kept-alive connection,
    /// or each on a new connection (`handshake`), in ns.
    pub async fn latencies(&self, n: usize, handshake: bool) -> Result<Vec<u64>, HttpError> {
        let mut samples = Vec::with_capacity(n);
        let mut kept = if handshake {
            None
        } else {
            Some(self.connect().await?)
        };
        for i in 0..n {
            let started = Instant::now();
            match &mut kept {
                Some(conn) => self.call(conn, i, false).await?,
                None => {
                    let mut conn = self.connect().await?;
                    self.call(&mut conn, i, true).await?;
                }
            }
            samples.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        Ok(samples)
    }
}

/// Order statistics of a latency sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median, ns.
    pub p50_ns: u64,
    /// 99th percentile (nearest rank), ns.
    pub p99_ns: u64,
    /// Largest, ns.
    pub max_ns: u64,
}

impl Percentiles {
    /// The percentiles of `samples` (nearest-rank); `None` when there are none.
    pub fn of(samples: &[u64]) -> Option<Percentiles> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let rank = |p: usize| sorted[(n * p).div_ceil(100).clamp(1, n) - 1];
        (n > 0).then(|| Percentiles {
            n,
            p50_ns: rank(50),
            p99_ns: rank(99),
            max_ns: sorted[n - 1],
        })
    }
}
