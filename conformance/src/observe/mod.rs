//! Observe mode (client-side conformance): kiban's reference platform, started in-process
//! with a fresh PKI and real TLS 1.3 + client certificates, records every request a vendor's
//! system sends, judges it, and writes the suite's four reports.
//!
//! [`start`] starts the reference behind the recording layer (`server.rs`, `record.rs`) on
//! `listen`, sets the world up through the operator API exactly as a suite run does (the
//! municipality slot live, the pending one not, the slot offices with their administrator),
//! issues the vendor's client certificates (role and organisation of the observed slot, one
//! per terminal) and writes them with the operator root CA and a connection file
//! (`connection.toml`, [`CONNECTION_FORMAT`]) into the output folder, so a real external
//! system can connect. Only then does recording start. Everything a certificate observe mode
//! keeps for itself sends (the harness's peers, e.g. a care office submitting to an observed
//! municipality) is recorded as `harness` and never judged.
//!
//! [`Observer::wait`] returns when the script ([`script`]) is complete, the caller's stop
//! future resolves (Ctrl-C in the CLI) or the duration passes; [`Observer::finish`] runs the
//! checks ([`checks::CHECKS`]) and the script's expectations, one test case each, writes the
//! reports (console, JUnit, JSON with digest, Markdown) and the exchange log
//! (`exchanges.jsonl`), and stops the platform.
//!
//! Determinism: the reports carry the platform's simulated clock, sequence numbers, principals,
//! routes and body digests, never a port, a certificate serial or wall-clock time, so the same
//! client behaviour gives byte-identical reports. The exchange log is for people: it also
//! holds monotonic offsets (how long a client waited before a retry).

pub mod checks;
pub mod record;
pub(crate) mod routes;
pub mod script;
pub(crate) mod server;

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiban_actors::jlis::JlisMock;
use kiban_certs::store::{PkiDir, files};
use kiban_certs::{
    ClientCredentials, Clock, ManualClock, Organisation, Principal, Serial, TerminalId,
};
use kiban_core::time::Timestamp;
use kiban_core::vocab::Role;
use serde::Serialize;

use crate::catalogue::Actor;
use crate::reference::{ObserveHook, ReferenceOptions, RunningReference, SLOT_ORGS};
use crate::report::{Report, ReportError};
use crate::target::{JlisAccess, Slot, Target};
use record::{Party, Recorder};
use script::Script;

/// The connection file's format.
pub const CONNECTION_FORMAT: &str = "kiban-observe-connection/1";

/// The exchange log's file name in the output folder.
pub const EXCHANGE_LOG: &str = "exchanges.jsonl";

/// The password of every slot office's administrator (`admin`), written into the connection
/// file for office roles.
pub const ADMIN_PASSWORD: &str = crate::suite::ADMIN_PASSWORD;

/// The connection file's name in the output folder.
pub const CONNECTION_FILE: &str = "connection.toml";

/// The roles observe mode can observe, with the CLI's aliases.
pub const ROLES: &[(&str, Role)] = &[
    ("municipality", Role::Municipality),
    ("care-management", Role::CareManagement),
    ("care-office", Role::CareManagement),
    ("care-service", Role::CareService),
    ("facility", Role::Facility),
    ("medical-institution", Role::MedicalInstitution),
    ("medical", Role::MedicalInstitution),
];

/// The role named `text` (a role name or an alias of [`ROLES`]).
pub fn parse_role(text: &str) -> Result<Role, ObserveError> {
    ROLES
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, role)| *role)
        .ok_or_else(|| {
            let names: Vec<&str> = ROLES.iter().map(|(n, _)| *n).collect();
            ObserveError::Usage(format!(
                "role {text:?} cannot be observed; expected one of: {}",
                names.join(", ")
            ))
        })
}

/// The requirement catalogue's name for the vendor software of `role`.
pub fn actor_of(role: Role) -> Actor {
    match role {
        Role::Municipality => Actor::MunicipalitySystem,
        Role::MedicalInstitution => Actor::MedicalSoftware,
        _ => Actor::OfficeSoftware,
    }
}

/// The slot whose organisation the observed system is.
fn slot_of(role: Role) -> Option<Slot> {
    match role {
        Role::Municipality => Some(Slot::Municipality),
        Role::CareManagement => Some(Slot::CareManagement),
        Role::CareService => Some(Slot::CareService),
        Role::Facility => Some(Slot::Facility),
        Role::MedicalInstitution => Some(Slot::MedicalInstitution),
        _ => None,
    }
}

/// How to observe.
#[derive(Debug, Clone)]
pub struct ObserveOptions {
    /// The role of the system under observation.
    pub role: Role,
    /// Where the platform listens (default `127.0.0.1:0`, a free port).
    pub listen: SocketAddr,
    /// The output folder: certificates, connection file, reports, exchange log.
    pub out: PathBuf,
    /// The script and the name it is reported under (its file name).
    pub script: Option<(String, Script)>,
    /// The vendor's terminals, one client certificate each.
    pub terminals: Vec<String>,
    /// The reference platform (policy, start instant).
    pub reference: ReferenceOptions,
}

impl ObserveOptions {
    /// Observe `role`, writing into `out`: a free port on 127.0.0.1, no script, terminals
    /// `vendor-1` and `vendor-2`, the default reference.
    pub fn new(role: Role, out: impl Into<PathBuf>) -> ObserveOptions {
        ObserveOptions {
            role,
            listen: ([127, 0, 0, 1], 0).into(),
            out: out.into(),
            script: None,
            terminals: vec!["vendor-1".to_owned(), "vendor-2".to_owned()],
            reference: ReferenceOptions::default(),
        }
    }
}

/// Why observation could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// Bad options (role, script, terminals).
    #[error("{0}")]
    Usage(String),
    /// The reference platform did not start.
    #[error("reference platform: {0}")]
    Reference(#[from] crate::reference::ReferenceError),
    /// The harness could not set the world up or issue certificates.
    #[error("setup: {0}")]
    Setup(String),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The reports could not be written.
    #[error("{0}")]
    Report(#[from] ReportError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ObserveError + '_ {
    move |source| ObserveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A client certificate observe mode issued, written into the output folder.
#[derive(Clone)]
pub struct VendorTerminal {
    /// Whom it names.
    pub principal: Principal,
    /// Its serial.
    pub serial: Serial,
    /// Its last instant of validity.
    pub not_after: Timestamp,
    /// The chain file (leaf, then the issuing CA).
    pub chain: PathBuf,
    /// The private key file.
    pub key: PathBuf,
    /// The same, in memory.
    pub credentials: ClientCredentials,
}

impl std::fmt::Debug for VendorTerminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorTerminal")
            .field("principal", &self.principal.to_uri())
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

/// How observation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every expectation of the script was met.
    ScriptComplete,
    /// The caller stopped it (Ctrl-C).
    Stopped,
    /// The duration passed.
    Duration,
}

impl Ended {
    /// How the report says it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Ended::ScriptComplete => "ended when the script was complete",
            Ended::Stopped => "stopped",
            Ended::Duration => "ended after the duration",
        }
    }
}

/// The script as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptInfo {
    /// Its file name.
    pub name: String,
    /// SHA-256 of its text.
    pub sha256: String,
    /// Expectations.
    pub expectations: usize,
    /// Injected failures.
    pub injections: usize,
}

/// What an observe-mode report says was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObserveInfo {
    /// The observed role.
    pub role: String,
    /// Its organisation.
    pub organisation: String,
    /// The vendor terminals' principals.
    pub terminals: Vec<String>,
    /// The script, if any.
    pub script: Option<ScriptInfo>,
    /// How it ended.
    pub ended: String,
    /// Exchanges of the vendor.
    pub exchanges: usize,
    /// Handshakes refused (counted as the vendor's).
    pub handshakes_refused: usize,
    /// Exchanges of the harness's peers (recorded, not judged).
    pub peer_exchanges: usize,
}

/// A running observation.
pub struct Observer {
    reference: RunningReference,
    recorder: Arc<Recorder>,
    role: Role,
    organisation: Organisation,
    out: PathBuf,
    script: Option<(String, Script)>,
    terminals: Vec<VendorTerminal>,
    pki: Mutex<PkiDir>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("role", &self.role)
            .field("base_url", &self.base_url())
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

/// Starts observing (see the module docs); blocking, not for async code.
pub fn start(options: ObserveOptions) -> Result<Observer, ObserveError> {
    let slot = slot_of(options.role).ok_or_else(|| {
        ObserveError::Usage(format!(
            "role {} cannot be observed (vendor roles: municipality, care-management, care-service, facility, medical-institution)",
            options.role
        ))
    })?;
    if let Some((name, script)) = &options.script {
        if script.role.is_some_and(|r| r != options.role) {
            return Err(ObserveError::Usage(format!(
                "script {name} is written for role {}, not {}",
                script.role.map_or("?", Role::as_str),
                options.role
            )));
        }
    }
    if options.terminals.is_empty() {
        return Err(ObserveError::Usage("at least one terminal".to_owned()));
    }
    let terminal_ids = options
        .terminals
        .iter()
        .map(|t| {
            TerminalId::parse(t).map_err(|e| ObserveError::Usage(format!("terminal {t:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let org_text = SLOT_ORGS
        .iter()
        .find(|(s, _, _)| *s == slot)
        .map(|(_, org, _)| *org)
        .ok_or_else(|| ObserveError::Setup(format!("no organisation for slot {slot}")))?;
    let organisation = Organisation::parse_for(options.role, org_text)
        .map_err(|e| ObserveError::Setup(e.to_string()))?;

    let recorder = Arc::new(Recorder::new(
        options.script.as_ref().map(|(_, s)| s.clone()),
    ));
    let reference = crate::reference::start_serving(
        &options.reference,
        Some(ObserveHook {
            listen: options.listen,
            recorder: recorder.clone(),
        }),
    )?;
    let target = reference.target().clone();
    recorder.set_harness(
        target
            .clients
            .values()
            .map(|c| c.identity.principal.to_uri())
            .collect::<BTreeSet<_>>(),
    );
    setup(&reference, &target)?;

    let pki_dir = target
        .pki
        .as_ref()
        .map(|p| p.dir.clone())
        .ok_or_else(|| ObserveError::Setup("the reference has no PKI folder".to_owned()))?;
    let pki = PkiDir::open(&pki_dir).map_err(|e| ObserveError::Setup(e.to_string()))?;
    let client_dir = options.out.join("client");
    std::fs::create_dir_all(&client_dir).map_err(io(&client_dir))?;
    let ca = client_dir.join(files::ROOT_CERT);
    std::fs::copy(pki_dir.join(files::ROOT_CERT), &ca).map_err(io(&ca))?;
    let mut observer = Observer {
        reference,
        recorder,
        role: options.role,
        organisation,
        out: options.out.clone(),
        script: options.script,
        terminals: Vec::new(),
        pki: Mutex::new(pki),
    };
    for terminal in terminal_ids {
        let principal = Principal::new(options.role, organisation, terminal)
            .map_err(|e| ObserveError::Setup(e.to_string()))?;
        let issued = observer.issue(&principal)?;
        observer.terminals.push(issued);
    }
    // Recording starts before the connection file exists, so nothing a client does after
    // reading it goes unrecorded.
    observer.recorder.arm();
    observer.write_connection_file()?;
    Ok(observer)
}

/// The world of a suite run, through the harness's operator certificate.
fn setup(reference: &RunningReference, target: &Target) -> Result<(), ObserveError> {
    let operator = target
        .clients
        .get(&Slot::Operator)
        .ok_or_else(|| ObserveError::Setup("no operator certificate".to_owned()))?;
    let clock = reference.clock().clone();
    let config = kiban_certs::tls::client_config(
        &target.server_ca,
        operator.credentials.clone(),
        clock.clone(),
    )
    .map_err(|e| ObserveError::Setup(e.to_string()))?;
    let client = crate::http::Client::new(
        "operator",
        target.addr,
        &target.server_name,
        config,
        Duration::from_secs(30),
    );
    let orgs = target
        .clients
        .iter()
        .map(|(slot, c)| (*slot, c.identity.principal.organisation().to_string()))
        .collect();
    let start = target.start.unwrap_or_else(|| clock.now());
    reference
        .block_on(crate::runner::setup_world(
            &client,
            &orgs,
            Some((clock.as_ref(), start)),
            clock.as_ref(),
        ))
        .ok_or_else(|| ObserveError::Setup("the reference runtime is gone".to_owned()))?
        .map_err(ObserveError::Setup)
}

impl Observer {
    /// `https://<address>` of the observed platform.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.reference.target().addr
    }

    /// The name its server certificate carries (`localhost`).
    pub fn server_name(&self) -> &str {
        &self.reference.target().server_name
    }

    /// The observed role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The observed organisation.
    pub fn organisation(&self) -> Organisation {
        self.organisation
    }

    /// The vendor's certificates.
    pub fn terminals(&self) -> &[VendorTerminal] {
        &self.terminals
    }

    /// The connection file.
    pub fn connection_file(&self) -> PathBuf {
        self.out.join(CONNECTION_FILE)
    }

    /// The operator root CA file the vendor trusts.
    pub fn ca_file(&self) -> PathBuf {
        self.out.join("client").join(files::ROOT_CERT)
    }

    /// The harness's own view of the platform (its slot certificates, for peers whose
    /// traffic is recorded but not judged).
    pub fn harness(&self) -> &Target {
        self.reference.target()
    }

    /// The in-process J-LIS mock (to issue cards to the persons a test uses).
    pub fn jlis(&self) -> Option<&JlisMock> {
        match &self.reference.target().jlis {
            Some(JlisAccess::InProcess(mock)) => Some(mock),
            _ => None,
        }
    }

    /// The platform's clock (stands at the start instant unless someone moves it).
    pub fn clock(&self) -> &Arc<ManualClock> {
        self.reference.clock()
    }

    /// Issues one more client certificate from the observed platform's operator CA and writes
    /// it into the output folder; its traffic is judged like the vendor's (a certificate of
    /// another role or organisation is a finding).
    pub fn issue_terminal(
        &self,
        role: Role,
        organisation: Organisation,
        terminal: &str,
    ) -> Result<VendorTerminal, ObserveError> {
        let terminal =
            TerminalId::parse(terminal).map_err(|e| ObserveError::Usage(e.to_string()))?;
        let principal = Principal::new(role, organisation, terminal)
            .map_err(|e| ObserveError::Usage(e.to_string()))?;
        self.issue(&principal)
    }

    fn issue(&self, principal: &Principal) -> Result<VendorTerminal, ObserveError> {
        let mut pki = self.pki.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pki
            .issue_client(principal, 3650, self.clock().now(), false)
            .map_err(|e| ObserveError::Setup(e.to_string()))?;
        let credentials = pki
            .client_credentials(&entry.serial)
            .map_err(|e| ObserveError::Setup(e.to_string()))?;
        let stem = principal.file_stem();
        let dir = self.out.join("client");
        let chain = dir.join(format!("{stem}.chain.pem"));
        let key = dir.join(format!("{stem}.key.pem"));
        let source = pki.dir().join(files::CLIENTS);
        for (from, to) in [
            (source.join(format!("{stem}.chain.pem")), &chain),
            (source.join(format!("{stem}.key.pem")), &key),
        ] {
            std::fs::copy(&from, to).map_err(io(to))?;
        }
        Ok(VendorTerminal {
            principal: principal.clone(),
            serial: entry.serial,
            not_after: entry.not_after,
            chain,
            key,
            credentials,
        })
    }

    fn write_connection_file(&self) -> Result<(), ObserveError> {
        let target = self.reference.target();
        let org = |slot: Slot| {
            target.clients.get(&slot).map_or_else(String::new, |c| {
                c.identity.principal.organisation().to_string()
            })
        };
        let mut text = format!(
            "# How a vendor system connects to kiban's observed platform (kiban conformance observe).\n\
             # TLS 1.3 only; present one of the client certificates below; trust server_ca for the\n\
             # server certificate, which names server_name. Paths are relative to this file.\n\
             format = \"{CONNECTION_FORMAT}\"\nbase_url = \"{}\"\nserver_name = \"{}\"\nserver_ca = \"client/{}\"\n\
             role = \"{}\"\norganisation = \"{}\"\nplatform_time = \"{}\"\n",
            self.base_url(),
            target.server_name,
            files::ROOT_CERT,
            self.role,
            self.organisation,
            self.clock().now(),
        );
        if self.role != Role::Municipality {
            text.push_str(&format!(
                "# the office's administrator staff account (POST /v1/session)\nadmin_staff_id = \"admin\"\nadmin_password = \"{}\"\n",
                crate::suite::ADMIN_PASSWORD
            ));
        }
        text.push_str(&format!(
            "\n[world]\nlive_municipality = \"{}\"\npending_municipality = \"{}\"\ncare_management_office = \"{}\"\ncare_service_office = \"{}\"\nfacility = \"{}\"\nmedical_institution = \"{}\"\n",
            org(Slot::Municipality),
            org(Slot::MunicipalityPending),
            org(Slot::CareManagement),
            org(Slot::CareService),
            org(Slot::Facility),
            org(Slot::MedicalInstitution),
        ));
        for t in &self.terminals {
            let rel = |p: &Path| {
                p.strip_prefix(&self.out)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .replace('\\', "/")
            };
            text.push_str(&format!(
                "\n[[terminals]]\nterminal = \"{}\"\nprincipal = \"{}\"\nchain = \"{}\"\nkey = \"{}\"\n",
                t.principal.terminal(),
                t.principal.to_uri(),
                rel(&t.chain),
                rel(&t.key)
            ));
        }
        let path = self.connection_file();
        std::fs::write(&path, text).map_err(io(&path))
    }

    /// Whether the script is complete.
    pub fn is_complete(&self) -> bool {
        self.recorder.is_complete()
    }

    /// Waits until the script is complete, `stop` resolves, or `duration` passes (needs a
    /// runtime with timers).
    pub async fn wait(&self, duration: Option<Duration>, stop: impl Future<Output = ()>) -> Ended {
        let complete = self.recorder.completed();
        let timer = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = complete => Ended::ScriptComplete,
            () = stop => Ended::Stopped,
            () = timer => Ended::Duration,
        }
    }

    /// The report as it stands.
    pub fn report(&self, ended: Ended) -> Report {
        let (exchanges, handshakes) = self.recorder.snapshot();
        let vendor: Vec<&record::Observed> = exchanges
            .iter()
            .filter(|e| e.party == Party::Vendor)
            .collect();
        let vendor_handshakes: Vec<&record::Handshake> = handshakes
            .iter()
            .filter(|h| h.party == Party::Vendor && h.refused != Some(record::Refusal::Aborted))
            .collect();
        let min_backoff = Duration::from_millis(
            self.script
                .as_ref()
                .map_or(script::DEFAULT_MIN_BACKOFF_MS, |(_, s)| s.min_backoff_ms),
        );
        let organisation = self.organisation.to_string();
        let subject = checks::Subject {
            role: self.role,
            organisation: &organisation,
            min_backoff,
        };
        let mut results = checks::run(&subject, &vendor, &vendor_handshakes);
        if let Some((_, script)) = &self.script {
            results.extend(script.results(&vendor));
        }
        let info = ObserveInfo {
            role: self.role.to_string(),
            organisation: organisation.clone(),
            terminals: self
                .terminals
                .iter()
                .map(|t| t.principal.to_uri())
                .collect(),
            script: self.script.as_ref().map(|(name, s)| ScriptInfo {
                name: name.clone(),
                sha256: s.sha256.clone(),
                expectations: s.expect.len(),
                injections: s.fail.len(),
            }),
            ended: ended.as_str().to_owned(),
            exchanges: vendor.len(),
            handshakes_refused: vendor_handshakes
                .iter()
                .filter(|h| h.refused.is_some())
                .count(),
            peer_exchanges: exchanges.len() - vendor.len(),
        };
        let target = self.reference.target();
        let description = serde_json::json!({
            "mode": "observe",
            "platform": "kiban reference (in-process)",
            "server_name": target.server_name,
            "start": target.start.map(|t| t.to_string()),
            "policy": target.policy,
        });
        Report::observed(description, info, results, actor_of(self.role))
    }

    /// Judges what was recorded, writes the four reports and the exchange log into the output
    /// folder, and stops the platform. Returns the report and the files written.
    pub fn finish(self, ended: Ended) -> Result<(Report, Vec<PathBuf>), ObserveError> {
        let report = self.report(ended);
        let mut written = report.write_all(&self.out)?;
        let (exchanges, handshakes) = self.recorder.snapshot();
        let mut log = String::new();
        for h in &handshakes {
            let mut value = serde_json::to_value(h).unwrap_or_default();
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("kind".into(), "handshake".into());
                map.insert("elapsed_ms".into(), (h.elapsed.as_millis() as u64).into());
            }
            log.push_str(&value.to_string());
            log.push('\n');
        }
        for e in &exchanges {
            let mut value = serde_json::to_value(e).unwrap_or_default();
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("kind".into(), "exchange".into());
                map.insert("arrived_ms".into(), (e.arrived.as_millis() as u64).into());
                map.insert("answered_ms".into(), (e.answered.as_millis() as u64).into());
            }
            log.push_str(&value.to_string());
            log.push('\n');
        }
        let path = self.out.join(EXCHANGE_LOG);
        std::fs::write(&path, log).map_err(io(&path))?;
        written.push(path);
        drop(self);
        Ok((report, written))
    }
}
