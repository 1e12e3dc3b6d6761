//! The reference platform started in-process for a conformance run: a fresh operator PKI in a
//! temporary folder (long-lived certificates and CRL so the clock can move months), one client
//! certificate per slot, the platform on 127.0.0.1:0 with a settable clock starting at a fixed
//! instant, a memory store and the fast test KDF, the J-LIS mock, a CRL watcher (so the
//! runner's revocations act within [`CRL_POLL`]), optional faults, and a target file
//! describing it all.
//!
//! Faults: [`ReferenceOptions::faults`] is handed to the platform unchanged. A non-empty set
//! can only be built with kiban-platform's test-only `faults` feature; this starter honours
//! `Fault::Tls12Accepted`, which belongs to whoever builds the server's TLS configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiban_actors::jlis::{JlisMock, JlisServer};
use kiban_certs::clock::ClockTimeProvider;
use kiban_certs::pki::Lifetimes;
use kiban_certs::store::{InitOptions, PkiDir, files};
use kiban_certs::tls::{ClientVerifier, StaleCrl};
use kiban_certs::{JlisCa, KeyAlgorithm, ManualClock, Organisation, Principal, TerminalId};
use kiban_core::rules::{
    AccessMatrix, ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, RolloutPolicy,
    Rules,
};
use kiban_core::time::{Date, Timestamp};
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::faults::{Fault, Faults};
use kiban_platform::identity::JlisClient;
use kiban_platform::platform::{KdfCost, Platform, PlatformConfig};
use kiban_platform::store::MemoryStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::target::{JlisAccess, Slot, Target, TargetError};

/// How often the reference re-reads the CRL file.
pub const CRL_POLL: Duration = Duration::from_millis(50);

/// The organisation of each slot in the reference world (Yokohama live, Kawasaki pending).
pub const SLOT_ORGS: [(Slot, &str, &str); 10] = [
    (Slot::Operator, "-", "conf-ops"),
    (Slot::Municipality, "141003", "conf-kikan"),
    (Slot::MunicipalityPending, "141305", "conf-kikan"),
    (Slot::CareManagement, "1470100015", "conf-cm1"),
    (Slot::CareManagementTerminal2, "1470100015", "conf-cm2"),
    (Slot::CareService, "1471100048", "conf-svc"),
    (Slot::Facility, "1470100023", "conf-fac"),
    (Slot::MedicalInstitution, "1411000019", "conf-med"),
    (Slot::CareServicePending, "1471100030", "conf-svc"),
    (Slot::Person, "-", "conf-pmh"),
];

/// How to start the reference.
#[derive(Debug, Clone)]
pub struct ReferenceOptions {
    /// The policy the platform enforces (and the target file declares).
    pub policy: Policy,
    /// Deliberately broken behaviours (empty unless built with the platform's `faults`).
    pub faults: Faults,
    /// The platform clock's first instant.
    pub start: Timestamp,
    /// Where to keep the PKI and the target file (default: a temporary folder removed on drop).
    pub dir: Option<PathBuf>,
}

impl Default for ReferenceOptions {
    /// [`reference_policy`], no fault, 2026-10-01 09:00 JST, a temporary folder.
    fn default() -> Self {
        ReferenceOptions {
            policy: reference_policy(),
            faults: Faults::NONE,
            start: Date::new(2026, 10, 1)
                .map_or(
                    Timestamp::from_unix_seconds(1_790_812_800),
                    Date::midnight_jst,
                )
                .plus_seconds(9 * 3600),
            dir: None,
        }
    }
}

/// The policy the reference runs by default: comprehensive consent that ends with the
/// certification period, registrations that lapse after 3 months without a service record, and
/// the cross-municipality rule, so every policy-dependent case has something to check.
pub fn reference_policy() -> Policy {
    Policy {
        consent: ConsentPolicy {
            model: ConsentModel::Comprehensive,
            expiry: ConsentExpiry::WithCertificationPeriod,
        },
        lapse: LapsePolicy::AfterInactivity {
            months: 3,
            exempt_hospital_stays: false,
            exempt_short_stays: false,
        },
        rollout: RolloutPolicy {
            cross_municipality_rule: true,
        },
    }
}

/// Why the reference could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The PKI, TLS configuration or platform could not be built.
    #[error("{0}")]
    Setup(String),
    /// The written target file does not load.
    #[error("target: {0}")]
    Target(#[from] TargetError),
}

fn setup(what: &str) -> impl Fn(&dyn std::fmt::Display) -> ReferenceError + '_ {
    move |e| ReferenceError::Setup(format!("{what}: {e}"))
}

/// A running reference platform; stops when dropped (do not drop it inside async code).
pub struct RunningReference {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    jlis_server: Option<JlisServer>,
    target: Target,
    target_file: PathBuf,
    clock: Arc<ManualClock>,
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for RunningReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningReference")
            .field("base_url", &self.target.base_url)
            .field("target_file", &self.target_file)
            .finish_non_exhaustive()
    }
}

impl RunningReference {
    /// The target, with the in-process J-LIS mock.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The target file written for it (its J-LIS mock is in-process and not in the file).
    pub fn target_file(&self) -> &Path {
        &self.target_file
    }

    /// The platform's settable clock.
    pub fn clock(&self) -> &Arc<ManualClock> {
        &self.clock
    }

    /// Runs `future` on the reference's runtime (not from inside async code).
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> Option<F::Output> {
        self.runtime.as_ref().map(|rt| rt.block_on(future))
    }
}

impl Drop for RunningReference {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        drop(self.jlis_server.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Starts the reference platform and writes its target file.
pub fn start(options: &ReferenceOptions) -> Result<RunningReference, ReferenceError> {
    start_serving(options, None)
}

/// How observe mode serves the reference: on `listen`, every connection and request through
/// `recorder` (see [`crate::observe`]).
pub(crate) struct ObserveHook {
    /// Where to listen.
    pub(crate) listen: std::net::SocketAddr,
    /// The recording layer.
    pub(crate) recorder: Arc<crate::observe::record::Recorder>,
}

/// [`start`], served by the platform's own server or, with `observe`, by observe mode's
/// recording server on its listen address.
pub(crate) fn start_serving(
    options: &ReferenceOptions,
    observe: Option<ObserveHook>,
) -> Result<RunningReference, ReferenceError> {
    let (temp, dir) = match &options.dir {
        Some(dir) => (None, dir.clone()),
        None => {
            let temp = tempfile::tempdir().map_err(|source| ReferenceError::Io {
                what: "creating a temporary folder".to_owned(),
                source,
            })?;
            let dir = temp.path().to_path_buf();
            (Some(temp), dir)
        }
    };
    let pki_dir = dir.join("pki");
    let clock = Arc::new(ManualClock::new(options.start));
    let init = InitOptions {
        lifetimes: Lifetimes {
            server_days: 3650,
            client_days: 3650,
            crl_days: 3650,
            ..Lifetimes::default()
        },
        ..InitOptions::default()
    };
    let mut pki =
        PkiDir::init(&pki_dir, &init, options.start, true).map_err(|e| setup("PKI")(&e))?;
    let mut clients = Vec::new();
    for (slot, org, terminal) in SLOT_ORGS {
        let role = slot.role();
        let organisation =
            Organisation::parse_for(role, org).map_err(|e| setup("slot organisation")(&e))?;
        let terminal = TerminalId::parse(terminal).map_err(|e| setup("terminal")(&e))?;
        let principal =
            Principal::new(role, organisation, terminal).map_err(|e| setup("principal")(&e))?;
        pki.issue_client(&principal, 3650, options.start, false)
            .map_err(|e| setup("client certificate")(&e))?;
        let stem = principal.file_stem();
        clients.push((
            slot,
            format!("pki/clients/{stem}.chain.pem"),
            format!("pki/clients/{stem}.key.pem"),
        ));
    }
    let verifier = pki
        .client_verifier(StaleCrl::Refuse)
        .map_err(|e| setup("client verifier")(&e))?;
    let server_config = if options.faults.has(Fault::Tls12Accepted) {
        tls12_server_config(&pki_dir, verifier.clone(), clock.clone())?
    } else {
        pki.server_config(verifier.clone(), clock.clone())
            .map_err(|e| setup("server TLS configuration")(&e))?
    };
    let read = |name: &str| {
        std::fs::read_to_string(pki_dir.join(name)).map_err(|source| ReferenceError::Io {
            what: format!("reading {name}"),
            source,
        })
    };
    let jlis_ca = JlisCa::from_pem(
        &read(files::JLIS_CERT)?,
        &read(files::JLIS_KEY)?,
        KeyAlgorithm::EcdsaP256,
    )
    .map_err(|e| setup("J-LIS CA")(&e))?;
    let jlis_ca_der = jlis_ca.cert_der().to_vec();
    let jlis = JlisMock::new(jlis_ca, clock.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| ReferenceError::Io {
            what: "starting the reference runtime".to_owned(),
            source,
        })?;
    let config = PlatformConfig {
        rules: Rules {
            matrix: AccessMatrix::published(),
            policy: options.policy,
        },
        sim_clock: true,
        kdf: KdfCost::TestOnly,
        jlis_ca: Some(jlis_ca_der),
        faults: options.faults,
        ..PlatformConfig::standard()
    };
    let platform = Platform::open(
        Arc::new(MemoryStore::new()),
        clock.clone(),
        verifier.clone(),
        config,
    )
    .map_err(|e| setup("platform")(&e))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, jlis_server) = runtime.block_on(async {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| ReferenceError::Io {
                what: what.clone(),
                source,
            }
        };
        let jlis_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(io("binding the J-LIS mock"))?;
        let jlis_server = jlis
            .serve(jlis_listener)
            .map_err(io("serving the J-LIS mock"))?;
        let jlis_client =
            JlisClient::new(&jlis_server.base_url()).map_err(|e| setup("J-LIS client")(&e))?;
        let state = AppState {
            platform: Arc::new(platform),
            sim_clock: Some(clock.clone()),
            metrics: Arc::new(Metrics::default()),
            jlis: Some(jlis_client),
        };
        let listen = observe
            .as_ref()
            .map_or_else(|| ([127, 0, 0, 1], 0).into(), |hook| hook.listen);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(io(&format!("binding the platform to {listen}")))?;
        let addr = listener.local_addr().map_err(io("platform address"))?;
        let shutdown = async move {
            let _ = stopped.await;
        };
        match observe {
            None => {
                tokio::spawn(kiban_platform::server::serve(
                    listener,
                    server_config,
                    router(state),
                    shutdown,
                ));
            }
            Some(hook) => {
                hook.recorder.set_clock(clock.clone());
                tokio::spawn(crate::observe::server::serve(
                    listener,
                    server_config,
                    router(state),
                    hook.recorder,
                    shutdown,
                ));
            }
        }
        tokio::spawn(watch_crl(pki_dir.join(files::CLIENT_CRL), verifier));
        Ok::<_, ReferenceError>((addr, jlis_server))
    })?;
    let target_file = dir.join("target.toml");
    let text = target_toml(addr, &clients, options);
    std::fs::write(&target_file, text).map_err(|source| ReferenceError::Io {
        what: format!("writing {}", target_file.display()),
        source,
    })?;
    let mut target = Target::load(&target_file)?;
    target.jlis = Some(JlisAccess::InProcess(jlis));
    Ok(RunningReference {
        runtime: Some(runtime),
        stop: Some(stop),
        jlis_server: Some(jlis_server),
        target,
        target_file,
        clock,
        _temp: temp,
    })
}

fn target_toml(
    addr: std::net::SocketAddr,
    clients: &[(Slot, String, String)],
    options: &ReferenceOptions,
) -> String {
    #[derive(serde::Serialize)]
    struct PolicySection {
        policy: Policy,
    }
    let policy = toml::to_string(&PolicySection {
        policy: options.policy,
    })
    .unwrap_or_default();
    let mut text = format!(
        "# The in-process reference platform of kiban-conformance (written by reference::start).\n\
         # Its J-LIS mock runs in the same process and is handed to the runner directly, so this\n\
         # file has no [jlis] section: identity cases need the in-process target.\n\
         format = \"{}\"\nbase_url = \"https://{addr}\"\nserver_name = \"localhost\"\nserver_ca = \"pki/{}\"\n\n\
         [capabilities]\nsim_clock = true\nstart = \"{}\"\n\n[pki]\ndir = \"pki\"\ncrl_reload_ms = {}\n\n",
        crate::target::TARGET_FORMAT,
        files::ROOT_CERT,
        options.start,
        CRL_POLL.as_millis() * 40,
    );
    text.push_str(&policy);
    for (slot, chain, key) in clients {
        text.push_str(&format!(
            "\n[clients.{slot}]\nchain = \"{chain}\"\nkey = \"{key}\"\n"
        ));
    }
    text
}

/// A server configuration that also accepts TLS 1.2 (the `Tls12Accepted` fault).
fn tls12_server_config(
    pki_dir: &Path,
    verifier: Arc<ClientVerifier>,
    clock: Arc<ManualClock>,
) -> Result<Arc<rustls::ServerConfig>, ReferenceError> {
    let cert = CertificateDer::from_pem_file(pki_dir.join(files::SERVER_CERT))
        .map_err(|e| setup("server certificate")(&e))?;
    let key = PrivateKeyDer::from_pem_file(pki_dir.join(files::SERVER_KEY))
        .map_err(|e| setup("server key")(&e))?;
    let config = rustls::ServerConfig::builder_with_details(
        Arc::new(rustls::crypto::ring::default_provider()),
        Arc::new(ClockTimeProvider(clock)),
    )
    .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
    .map_err(|e| setup("TLS 1.2 configuration")(&e))?
    .with_client_cert_verifier(verifier)
    .with_single_cert(vec![cert], key)
    .map_err(|e| setup("TLS 1.2 configuration")(&e))?;
    Ok(Arc::new(config))
}

/// Installs the CRL file whenever its content changes.
async fn watch_crl(path: PathBuf, verifier: Arc<ClientVerifier>) {
    let mut seen = std::fs::read(&path).ok();
    loop {
        tokio::time::sleep(CRL_POLL).await;
        let now = std::fs::read(&path).ok();
        if now == seen {
            continue;
        }
        if let Some(crl) = now
            .as_deref()
            .and_then(|b| CertificateRevocationListDer::from_pem_slice(b).ok())
        {
            if verifier.install_crl(&crl).is_ok() {
                seen = now;
            }
        }
    }
}

/// Why a strength measurement stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrengthError {
    /// A reference with a fault did not start.
    #[error("reference with fault {fault}: {source}")]
    Reference {
        /// The fault.
        fault: &'static str,
        /// The cause.
        source: ReferenceError,
    },
    /// A run could not start.
    #[error("run with fault {fault}: {source}")]
    Run {
        /// The fault.
        fault: &'static str,
        /// The cause.
        source: crate::runner::RunError,
    },
}

/// Measures the suite's strength: for each `(fault, set)`, starts a reference platform with
/// that fault set switched on, runs the selected cases, and records which cases failed. Cases
/// in the deviation ledger (they fail against the reference anyway) are not counted as catches.
/// The sets can only be non-empty in builds with kiban-platform's `faults` feature (tests).
pub fn measure_strength(
    sets: &[(Fault, Faults)],
    options: &crate::runner::RunOptions,
) -> Result<crate::report::Strength, StrengthError> {
    let ledger = crate::reference_deviations();
    let mut catches = Vec::with_capacity(sets.len());
    for (fault, faults) in sets {
        let reference = start(&ReferenceOptions {
            faults: *faults,
            ..ReferenceOptions::default()
        })
        .map_err(|source| StrengthError::Reference {
            fault: fault.name(),
            source,
        })?;
        let report = crate::runner::run(reference.target(), options).map_err(|source| {
            StrengthError::Run {
                fault: fault.name(),
                source,
            }
        })?;
        let caught_by = report
            .results
            .iter()
            .filter(|r| matches!(r.outcome, crate::report::Outcome::Fail { .. }))
            .filter(|r| !ledger.contains_key(&r.id))
            .map(|r| r.id.clone())
            .collect();
        catches.push(crate::report::FaultCatch {
            fault: fault.name().to_owned(),
            cases_run: report.summary.total - report.summary.skipped,
            caught_by,
        });
    }
    Ok(crate::report::Strength::new(catches))
}
