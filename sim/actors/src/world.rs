//! A reusable wire world: the reference platform and the J-LIS mock on 127.0.0.1 with a
//! fresh temporary PKI and a simulated clock, plus the operator, and helpers that put
//! municipalities on the platform, open offices with terminals and signed-in staff, issue
//! cards and move the clock. The walkthrough behind `kiban demo` ([`crate::demo`]) and the
//! engine's wire mode (`kiban_engine`, `mode = "wire"`) both build their scene here, so the
//! setup is written once.
//!
//! [`WireWorld::start`] creates the PKI (operator root, client-issuing CA, server
//! certificate; every lifetime long enough for the run), starts the platform (TLS 1.3 with
//! client certificates, in-memory store, the caller's rules, `--sim-clock`) and J-LIS, and
//! signs the operator in by certificate. Everything else is the public API of the actors:
//! the operator enrols municipalities and offices, offices open terminals at the operator's
//! certificate desk and sign their administrator in, municipalities upload.
//!
//! Time: the clock starts at the JST midnight of [`WorldConfig::start`]; [`WireWorld::set_date`]
//! moves it (through the operator's `PUT /v1/operator/clock`) to another date's JST midnight
//! and publishes a fresh CRL, as the operator does at least weekly (the platform refuses new
//! handshakes under a stale CRL).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use kiban_certs::pki::Lifetimes;
use kiban_certs::store::{InitOptions, PkiDir};
use kiban_certs::tls::{ClientVerifier, StaleCrl};
use kiban_certs::{Clock, ManualClock, Organisation, Principal, TerminalId};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::Rules;
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::Role;
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::identity::JlisClient;
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig};
use kiban_platform::store::MemoryStore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::card::Card;
use crate::client::{PlatformClient, RetryPolicy};
use crate::jlis::{JlisMock, JlisServer};
use crate::migration::MigrationState;
use crate::municipality::{Municipality, MunicipalityConfig};
use crate::office::{Office, OfficeSpec};
use crate::operator::{CertificateDesk, Operator};
use crate::outcome::ActorError;
use crate::people::Person;
use crate::portal::Portal;
use crate::reader::{CardReader, ReaderConfig};

/// Why the world could not be built (as opposed to an actor's refusal, an [`ActorError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    /// The temporary folder of the PKI could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A local socket could not be bound or served.
    #[error("socket: {0}")]
    Socket(#[source] std::io::Error),
    /// The PKI or the J-LIS CA could not be made.
    #[error("PKI: {0}")]
    Pki(String),
    /// The platform could not be opened.
    #[error("platform: {0}")]
    Platform(String),
    /// An actor could not be set up (e.g. the operator's first call failed).
    #[error("setup: {0}")]
    Actor(#[from] ActorError),
}

/// How to build a world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// The first simulated day (the clock starts at its JST midnight).
    pub start: Date,
    /// The last day the world must work on: the server certificate and the system
    /// principals' certificates (operator, municipalities, the relay) are valid past it.
    pub end: Date,
    /// The access matrix and policy the platform decides under.
    pub rules: Rules,
    /// A label for the temporary PKI folder (`kiban-<label>-…`).
    pub label: String,
    /// Where the platform asks J-LIS (`None`: the mock's own server; tests put a wiremock
    /// peer here to play an outage).
    pub jlis_url: Option<String>,
}

impl WorldConfig {
    /// The published rules, from `start` to `end`.
    pub fn new(start: Date, end: Date) -> WorldConfig {
        WorldConfig {
            start,
            end,
            rules: Rules::published(),
            label: "world".to_owned(),
            jlis_url: None,
        }
    }
}

/// Retries quick enough for local sockets: 3 attempts, 5–20 ms apart.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

/// One terminal of an office to open: its name, its certificate's validity in days, and
/// who signs in on it (`admin`, or a staff member the administrator adds first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalSetup {
    /// The terminal's name (`pc-1`, `byod-1`, …).
    pub name: String,
    /// Certificate validity from now, in days.
    pub days: u32,
    /// The staff member signed in on it.
    pub staff: String,
}

/// An office to put on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSetup {
    /// Who the office is.
    pub spec: OfficeSpec,
    /// The administrator's initial password (given to the operator).
    pub admin_password: String,
    /// Seeds the office's generator (staff passwords, readers).
    pub seed: u64,
    /// Its terminals, opened in order; the administrator adds the other staff members on
    /// the first terminal the administrator signs in on.
    pub terminals: Vec<TerminalSetup>,
}

/// The platform and J-LIS on local sockets, the PKI folder, the clock and the operator.
pub struct WireWorld {
    addr: std::net::SocketAddr,
    pki: PkiDir,
    verifier: Arc<ClientVerifier>,
    clock: Arc<ManualClock>,
    jlis: JlisMock,
    jlis_server: Option<JlisServer>,
    operator: Operator,
    system_days: u32,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for WireWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireWorld")
            .field("now", &self.clock.now())
            .finish_non_exhaustive()
    }
}

fn pki_err(e: impl std::fmt::Display) -> WorldError {
    WorldError::Pki(e.to_string())
}

fn actor_pki(e: impl std::fmt::Display) -> ActorError {
    ActorError::Pki(e.to_string())
}

impl WireWorld {
    /// Starts the world (inside a Tokio runtime with I/O and time enabled).
    pub async fn start(config: WorldConfig) -> Result<WireWorld, WorldError> {
        let today = config.start.midnight_jst();
        let clock = Arc::new(ManualClock::new(today));
        let span =
            (config.end.midnight_jst().unix_seconds() - today.unix_seconds()).max(0) / 86_400;
        // Long enough for the whole run and a margin.
        let system_days = u32::try_from(span + 400).unwrap_or(u32::MAX);
        let jlis_from = Date::new(config.start.year() - 12, 1, 1)
            .ok_or_else(|| WorldError::Pki("start year out of range".into()))?;
        let jlis = JlisMock::generate(jlis_from.midnight_jst(), 40 * 365, clock.clone())
            .map_err(pki_err)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(WorldError::Socket)?;
        let jlis_server = jlis.serve(listener).map_err(WorldError::Socket)?;

        let dir = tempfile::Builder::new()
            .prefix(&format!("kiban-{}-", config.label))
            .tempdir()
            .map_err(|source| WorldError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let defaults = Lifetimes::default();
        let options = InitOptions {
            lifetimes: Lifetimes {
                root_days: defaults.root_days.max(system_days + 30),
                intermediate_days: defaults.intermediate_days.max(system_days + 30),
                server_days: system_days,
                ..defaults
            },
            ..InitOptions::default()
        };
        let pki = PkiDir::init(dir.path(), &options, clock.now(), false).map_err(pki_err)?;
        let verifier = pki.client_verifier(StaleCrl::Refuse).map_err(pki_err)?;
        let server_config = pki
            .server_config(verifier.clone(), clock.clone())
            .map_err(pki_err)?;
        let platform_config = PlatformConfig {
            rules: config.rules,
            kdf: KdfCost::TestOnly,
            sim_clock: true,
            jlis_ca: Some(jlis.ca_der().to_vec()),
            ..PlatformConfig::standard()
        };
        let platform = Platform::open(
            Arc::new(MemoryStore::new()),
            clock.clone(),
            verifier.clone(),
            platform_config,
        )
        .map_err(|e| WorldError::Platform(e.to_string()))?;
        let jlis_url = config
            .jlis_url
            .clone()
            .unwrap_or_else(|| jlis_server.base_url());
        let jlis_client =
            JlisClient::new(&jlis_url).map_err(|e| WorldError::Platform(e.to_string()))?;
        let state = AppState {
            platform: Arc::new(platform),
            sim_clock: Some(clock.clone()),
            metrics: Arc::new(Metrics::default()),
            jlis: Some(jlis_client),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(WorldError::Socket)?;
        let addr = listener.local_addr().map_err(WorldError::Socket)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(kiban_platform::server::serve(
            listener,
            server_config,
            router(state),
            async move {
                let _ = stopped.await;
            },
        ));
        let mut pki = pki;
        let operator_client = system_client(
            &mut pki,
            addr,
            &clock,
            &system_principal(Role::Operator, Organisation::None, "ops1")?,
            system_days,
        )?;
        Ok(WireWorld {
            addr,
            pki,
            verifier,
            clock,
            jlis,
            jlis_server: Some(jlis_server),
            operator: Operator::new(operator_client).with_retry(quick_retry()),
            system_days,
            _dir: dir,
            stop: Some(stop),
        })
    }

    /// Stops the platform and J-LIS.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.jlis_server.take() {
            server.shutdown().await;
        }
    }

    /// The simulated now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The simulated clock (shared by the platform, J-LIS and every client).
    pub fn clock(&self) -> Arc<ManualClock> {
        self.clock.clone()
    }

    /// The J-LIS mock.
    pub fn jlis(&self) -> &JlisMock {
        &self.jlis
    }

    /// The operator.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// A platform client with a fresh certificate for a system principal (operator,
    /// municipality, the relay), valid for the whole run.
    pub fn client(&mut self, principal: &Principal) -> Result<PlatformClient, ActorError> {
        system_client(
            &mut self.pki,
            self.addr,
            &self.clock,
            principal,
            self.system_days,
        )
        .map_err(|e| match e {
            WorldError::Actor(e) => e,
            other => ActorError::Pki(other.to_string()),
        })
    }

    /// The operator's certificate desk over this world's PKI and the platform's verifier.
    pub fn desk(&mut self) -> CertificateDesk<'_> {
        CertificateDesk::new(
            &mut self.pki,
            self.verifier.clone(),
            self.addr,
            "localhost",
            self.clock.clone(),
        )
    }

    /// Municipality `code`'s system (a municipality certificate `kikan1`), still on its
    /// legacy system, with quick retries; `seed` seeds its enrolment dates.
    pub fn municipality_system(
        &mut self,
        code: MunicipalityCode,
        seed: u64,
    ) -> Result<Municipality, ActorError> {
        let org = Organisation::parse_for(Role::Municipality, code.as_str()).map_err(actor_pki)?;
        let client = self.client(&principal(Role::Municipality, org, "kikan1")?)?;
        Municipality::new(
            code,
            client,
            self.jlis.clone(),
            MunicipalityConfig {
                retry: quick_retry(),
                ..MunicipalityConfig::standard(seed)
            },
        )
    }

    /// Puts `city` on the platform: its system migrates (standardized and sending on
    /// `sending_from`, sharing on `live_from` if given) and the operator enrols it, sharing
    /// from `live_from` (`None`: on the platform for its data migration, not sharing).
    pub async fn put_on_platform(
        &self,
        city: &mut Municipality,
        sending_from: Date,
        live_from: Option<Date>,
    ) -> Result<(), ActorError> {
        city.migrate(MigrationState::Standardized, sending_from)?;
        city.migrate(MigrationState::Sending, sending_from)?;
        if let Some(live) = live_from {
            city.migrate(MigrationState::Sharing, live.max(sending_from))?;
        }
        self.operator
            .enrol_municipality(city.code(), live_from)
            .await
    }

    /// Registers an office with the operator, opens its terminals at the certificate desk,
    /// adds the staff members the terminals name (by the administrator, on the first
    /// terminal) and signs each terminal's staff member in.
    pub async fn open_office(&mut self, setup: OfficeSetup) -> Result<Office, ActorError> {
        let OfficeSetup {
            spec,
            admin_password,
            seed,
            terminals,
        } = setup;
        self.operator
            .register_office(
                &spec.organisation,
                spec.role,
                spec.municipality,
                &admin_password,
            )
            .await?;
        let mut office = Office::new(spec, &admin_password, seed).with_retry(quick_retry());
        for t in &terminals {
            office.open_terminal(&t.name, &mut self.desk(), t.days, ReaderConfig::default())?;
        }
        let mut added = BTreeSet::new();
        if let Some(first) = terminals.first() {
            office.sign_in(&first.name, "admin").await?;
            for t in &terminals {
                if t.staff != "admin" && added.insert(t.staff.clone()) {
                    office.add_staff(&first.name, &t.staff, false).await?;
                }
            }
        }
        for t in &terminals {
            if office.signed_in(&t.name) != Some(t.staff.as_str()) {
                office.sign_in(&t.name, &t.staff).await?;
            }
        }
        Ok(office)
    }

    /// Issues `person`'s My Number card at `issued_on`'s JST midnight (J-LIS), drawing the
    /// card serial from `seed`.
    pub fn issue_card(
        &self,
        person: &Person,
        issued_on: Date,
        seed: u64,
    ) -> Result<Card, ActorError> {
        let request = person.card_request().ok_or(ActorError::NoCardLink)?;
        Ok(self.jlis.issue_card(
            request,
            issued_on.midnight_jst(),
            &mut ChaCha8Rng::seed_from_u64(seed),
        )?)
    }

    /// Issues the card of `person`'s representative (see
    /// [`Person::representative_card_request`]; `agent_seed` draws the agent, `seed` the
    /// card serial).
    pub fn issue_representative_card(
        &self,
        person: &Person,
        agent_seed: u64,
        issued_on: Date,
        seed: u64,
    ) -> Result<Card, ActorError> {
        let request = person
            .representative_card_request(agent_seed)
            .ok_or(ActorError::NoCardLink)?;
        Ok(self.jlis.issue_card(
            request,
            issued_on.midnight_jst(),
            &mut ChaCha8Rng::seed_from_u64(seed),
        )?)
    }

    /// The マイナポータル relay on terminal `terminal` (a certificate of role `person`), its
    /// reader drawing from `seed`.
    pub fn portal(&mut self, terminal: &str, seed: u64) -> Result<Portal, ActorError> {
        let org = Organisation::parse_for(Role::Person, "-").map_err(actor_pki)?;
        let client = self.client(&principal(Role::Person, org, terminal)?)?;
        let reader = CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(seed))?;
        Ok(Portal::new(client, reader).with_retry(quick_retry()))
    }

    /// Moves the platform's (and J-LIS's) clock to `date`'s JST midnight through the
    /// operator and publishes a fresh CRL.
    pub async fn set_date(&mut self, date: Date) -> Result<(), ActorError> {
        self.operator.set_clock(date.midnight_jst()).await?;
        self.desk().publish_crl()
    }
}

/// A principal for a terminal of an organisation.
pub fn principal(
    role: Role,
    organisation: Organisation,
    terminal: &str,
) -> Result<Principal, ActorError> {
    let terminal = TerminalId::parse(terminal).map_err(actor_pki)?;
    Principal::new(role, organisation, terminal).map_err(actor_pki)
}

fn system_principal(
    role: Role,
    organisation: Organisation,
    terminal: &str,
) -> Result<Principal, WorldError> {
    principal(role, organisation, terminal).map_err(WorldError::Actor)
}

fn system_client(
    pki: &mut PkiDir,
    addr: std::net::SocketAddr,
    clock: &Arc<ManualClock>,
    principal: &Principal,
    days: u32,
) -> Result<PlatformClient, WorldError> {
    let entry = pki
        .issue_client(principal, days, clock.now(), false)
        .map_err(pki_err)?;
    let credentials = pki.client_credentials(&entry.serial).map_err(pki_err)?;
    PlatformClient::with_credentials(
        addr,
        "localhost",
        pki.root_der(),
        credentials,
        clock.clone(),
    )
    .map_err(|e| WorldError::Actor(e.into()))
}
