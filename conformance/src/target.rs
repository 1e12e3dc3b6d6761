//! The target: which platform the suite runs against, read from a target file (TOML,
//! `format = "kiban-conformance-target/1"`), plus what only an in-process caller can hand in
//! (the reference's J-LIS mock).
//!
//! ```toml
//! format = "kiban-conformance-target/1"
//! base_url = "https://127.0.0.1:8443"
//! server_name = "localhost"            # optional: the name the server certificate carries
//! server_ca = "pki/operator-root-ca.cert.pem"
//!
//! [capabilities]
//! sim_clock = true                     # PUT /v1/operator/clock works (kiban serve --sim-clock)
//! start = "2026-10-01T09:00:00+09:00"  # optional: the time the runner sets it to first
//!
//! [policy]                             # what the platform enforces (default: the 2025 proposal)
//! consent = { model = "comprehensive", expiry = "never" }
//! lapse = { kind = "never" }
//! rollout = { cross-municipality-rule = true }
//!
//! [clients.operator]                   # one certificate per slot (see `Slot`)
//! chain = "pki/clients/operator-ops.chain.pem"
//! key = "pki/clients/operator-ops.key.pem"
//!
//! [pki]                                # optional: the operator PKI folder (kiban certs init);
//! dir = "pki"                          # the runner issues and revokes its own certificates
//! crl_reload_ms = 3000                 # how long the platform takes to install a new CRL
//!
//! [jlis]                               # optional: identity tests; the runner serves the
//! ca_cert = "pki/jlis-ca.cert.pem"     # J-LIS mock at `listen` and the platform must ask
//! ca_key = "pki/jlis-ca.key.pem"       # http://<listen> (kiban serve --jlis-url)
//! listen = "127.0.0.1:8600"
//! ```
//!
//! Relative paths are relative to the target file's folder. Unknown keys are errors.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiban_actors::jlis::JlisMock;
use kiban_certs::{ClientCredentials, ClientIdentity, JlisCa};
use kiban_core::rules::Policy;
use kiban_core::time::Timestamp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

/// The target file format this version reads.
pub const TARGET_FORMAT: &str = "kiban-conformance-target/1";

/// A client certificate the suite needs, by what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// The operator (国保中央会).
    Operator,
    /// A municipality the suite makes live: the insurer of most fixtures.
    Municipality,
    /// A second municipality the suite keeps not live (rollout gates).
    MunicipalityPending,
    /// A care-management office located in the live municipality.
    CareManagement,
    /// A second terminal of the same care-management office (session binding).
    CareManagementTerminal2,
    /// A care-service office located in the live municipality.
    CareService,
    /// A facility located in the live municipality.
    Facility,
    /// A medical institution located in the live municipality.
    MedicalInstitution,
    /// A care-service office located in the pending municipality (cross-municipality rule).
    CareServicePending,
    /// The マイナポータル relay (role person).
    Person,
}

impl Slot {
    /// Every slot.
    pub const ALL: [Slot; 10] = [
        Slot::Operator,
        Slot::Municipality,
        Slot::MunicipalityPending,
        Slot::CareManagement,
        Slot::CareManagementTerminal2,
        Slot::CareService,
        Slot::Facility,
        Slot::MedicalInstitution,
        Slot::CareServicePending,
        Slot::Person,
    ];

    /// The name in the target file (`[clients.<name>]`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Slot::Operator => "operator",
            Slot::Municipality => "municipality",
            Slot::MunicipalityPending => "municipality-pending",
            Slot::CareManagement => "care-management",
            Slot::CareManagementTerminal2 => "care-management-2",
            Slot::CareService => "care-service",
            Slot::Facility => "facility",
            Slot::MedicalInstitution => "medical-institution",
            Slot::CareServicePending => "care-service-pending",
            Slot::Person => "person",
        }
    }

    /// The role the slot's certificate must name.
    pub const fn role(self) -> kiban_core::vocab::Role {
        use kiban_core::vocab::Role;
        match self {
            Slot::Operator => Role::Operator,
            Slot::Municipality | Slot::MunicipalityPending => Role::Municipality,
            Slot::CareManagement | Slot::CareManagementTerminal2 => Role::CareManagement,
            Slot::CareService | Slot::CareServicePending => Role::CareService,
            Slot::Facility => Role::Facility,
            Slot::MedicalInstitution => Role::MedicalInstitution,
            Slot::Person => Role::Person,
        }
    }

    fn parse(text: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A slot's certificate, read and parsed.
#[derive(Debug, Clone)]
pub struct SlotCredentials {
    /// Chain and key.
    pub credentials: ClientCredentials,
    /// The principal and validity the certificate carries.
    pub identity: ClientIdentity,
}

/// The operator PKI folder, when the runner may issue and revoke certificates.
#[derive(Debug, Clone)]
pub struct PkiAccess {
    /// The folder (`kiban certs init`).
    pub dir: PathBuf,
    /// How long the platform may take to install a new CRL.
    pub crl_reload: Duration,
}

/// How the suite reaches J-LIS for identity cases.
#[derive(Clone)]
pub enum JlisAccess {
    /// The runner serves a J-LIS mock with this CA at `listen`; the platform asks it.
    Serve {
        /// Where to listen.
        listen: SocketAddr,
        /// The J-LIS CA the platform trusts.
        ca_pem: (String, String),
    },
    /// A J-LIS mock already served in this process (the reference platform's).
    InProcess(JlisMock),
}

impl fmt::Debug for JlisAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JlisAccess::Serve { listen, .. } => write!(f, "Serve({listen})"),
            JlisAccess::InProcess(_) => f.write_str("InProcess"),
        }
    }
}

/// A platform to run the suite against.
#[derive(Debug, Clone)]
pub struct Target {
    /// `https://host:port` as written.
    pub base_url: String,
    /// The resolved address.
    pub addr: SocketAddr,
    /// The name the server certificate must carry.
    pub server_name: String,
    /// The operator root the server certificate chains to.
    pub server_ca: CertificateDer<'static>,
    /// Certificates per slot.
    pub clients: BTreeMap<Slot, SlotCredentials>,
    /// Whether the operator may set the platform clock.
    pub sim_clock: bool,
    /// The time to set the clock to first (sim clock only).
    pub start: Option<Timestamp>,
    /// The policy the platform enforces.
    pub policy: Policy,
    /// The operator PKI, if the runner may issue and revoke.
    pub pki: Option<PkiAccess>,
    /// J-LIS, if identity cases are wanted.
    pub jlis: Option<JlisAccess>,
}

/// Why a target file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not TOML of the target shape (unknown keys included).
    #[error("{path}: {detail}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A value that does not make sense.
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    format: String,
    base_url: String,
    #[serde(default)]
    server_name: Option<String>,
    server_ca: PathBuf,
    #[serde(default)]
    capabilities: RawCapabilities,
    #[serde(default)]
    policy: Option<Policy>,
    #[serde(default)]
    clients: BTreeMap<String, RawClient>,
    #[serde(default)]
    pki: Option<RawPki>,
    #[serde(default)]
    jlis: Option<RawJlis>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapabilities {
    #[serde(default)]
    sim_clock: bool,
    #[serde(default)]
    start: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    chain: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPki {
    dir: PathBuf,
    #[serde(default = "default_crl_reload_ms")]
    crl_reload_ms: u64,
}

fn default_crl_reload_ms() -> u64 {
    3000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJlis {
    ca_cert: PathBuf,
    ca_key: PathBuf,
    listen: SocketAddr,
}

impl Target {
    /// Reads a target file.
    pub fn load(path: &Path) -> Result<Target, TargetError> {
        let text = std::fs::read_to_string(path).map_err(|source| TargetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Target::from_toml(&text, base).map_err(|e| match e {
            TargetError::Toml { detail, .. } => TargetError::Toml {
                path: path.to_path_buf(),
                detail,
            },
            other => other,
        })
    }

    /// Parses a target file's text; relative paths are relative to `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Target, TargetError> {
        let raw: RawTarget = toml::from_str(text).map_err(|e| TargetError::Toml {
            path: PathBuf::new(),
            detail: e.to_string(),
        })?;
        if raw.format != TARGET_FORMAT {
            return Err(TargetError::Invalid(format!(
                "format {:?} is not {TARGET_FORMAT:?}",
                raw.format
            )));
        }
        let (host, addr) = resolve(&raw.base_url)?;
        let resolve_path = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let server_ca = read_cert(&resolve_path(&raw.server_ca))?;
        let mut clients = BTreeMap::new();
        for (name, client) in &raw.clients {
            let slot = Slot::parse(name).ok_or_else(|| {
                TargetError::Invalid(format!(
                    "[clients.{name}]: unknown slot; expected one of {}",
                    Slot::ALL.map(Slot::as_str).join(", ")
                ))
            })?;
            let credentials =
                read_credentials(&resolve_path(&client.chain), &resolve_path(&client.key))?;
            clients.insert(slot, slot_credentials(slot, credentials)?);
        }
        let start = match &raw.capabilities.start {
            Some(text) => Some(parse_time(text)?),
            None => None,
        };
        let jlis = match raw.jlis {
            Some(j) => Some(JlisAccess::Serve {
                listen: j.listen,
                ca_pem: (
                    read_text(&resolve_path(&j.ca_cert))?,
                    read_text(&resolve_path(&j.ca_key))?,
                ),
            }),
            None => None,
        };
        Ok(Target {
            base_url: raw.base_url,
            addr,
            server_name: raw.server_name.unwrap_or(host),
            server_ca,
            clients,
            sim_clock: raw.capabilities.sim_clock,
            start,
            policy: raw.policy.unwrap_or(Policy::proposal_2025()),
            pki: raw.pki.map(|p| PkiAccess {
                dir: resolve_path(&p.dir),
                crl_reload: Duration::from_millis(p.crl_reload_ms),
            }),
            jlis,
        })
    }

    /// The slot's certificate, if the target has one.
    pub fn client(&self, slot: Slot) -> Option<&SlotCredentials> {
        self.clients.get(&slot)
    }

    /// A short description without secrets, for reports.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "base_url": self.base_url,
            "server_name": self.server_name,
            "slots": self.clients.iter().map(|(s, c)| (s.as_str().to_owned(), serde_json::Value::String(c.identity.principal.to_uri()))).collect::<serde_json::Map<_, _>>(),
            "sim_clock": self.sim_clock,
            "start": self.start.map(|t| t.to_string()),
            "policy": self.policy,
            "pki": self.pki.is_some(),
            "jlis": self.jlis.is_some(),
        })
    }
}

/// Checks that `credentials` name a principal of the slot's role.
pub(crate) fn slot_credentials(
    slot: Slot,
    credentials: ClientCredentials,
) -> Result<SlotCredentials, TargetError> {
    let leaf = credentials
        .chain
        .first()
        .ok_or_else(|| TargetError::Invalid(format!("[clients.{slot}]: the chain is empty")))?;
    let identity = ClientIdentity::from_der(leaf)
        .map_err(|e| TargetError::Invalid(format!("[clients.{slot}]: {e}")))?;
    if identity.principal.role() != slot.role() {
        return Err(TargetError::Invalid(format!(
            "[clients.{slot}]: the certificate names role {}, the slot needs {}",
            identity.principal.role(),
            slot.role()
        )));
    }
    Ok(SlotCredentials {
        credentials,
        identity,
    })
}

fn resolve(base_url: &str) -> Result<(String, SocketAddr), TargetError> {
    let rest = base_url.strip_prefix("https://").ok_or_else(|| {
        TargetError::Invalid(format!("base_url {base_url:?} must start with https://"))
    })?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return Err(TargetError::Invalid(format!(
            "base_url {base_url:?} must be https://host:port without a path"
        )));
    }
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !authority.ends_with(']')
    {
        authority.to_owned()
    } else {
        format!("{authority}:443")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| TargetError::Invalid(format!("base_url {base_url:?}: {e}")))?
        .next()
        .ok_or_else(|| TargetError::Invalid(format!("base_url {base_url:?}: no address")))?;
    let host = with_port
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_owned())
        .unwrap_or_default();
    Ok((host, addr))
}

fn read_text(path: &Path) -> Result<String, TargetError> {
    std::fs::read_to_string(path).map_err(|source| TargetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>, TargetError> {
    CertificateDer::from_pem_slice(read_text(path)?.as_bytes())
        .map_err(|e| TargetError::Invalid(format!("{}: {e}", path.display())))
}

fn read_credentials(chain: &Path, key: &Path) -> Result<ClientCredentials, TargetError> {
    let chain_text = read_text(chain)?;
    let chain_certs = CertificateDer::pem_slice_iter(chain_text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TargetError::Invalid(format!("{}: {e}", chain.display())))?;
    let key = PrivateKeyDer::from_pem_slice(read_text(key)?.as_bytes())
        .map_err(|e| TargetError::Invalid(format!("{}: {e}", key.display())))?;
    Ok(ClientCredentials {
        chain: chain_certs,
        key,
    })
}

/// Parses an RFC 3339 time.
fn parse_time(text: &str) -> Result<Timestamp, TargetError> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| TargetError::Invalid(format!("capabilities.start {text:?}: {e}")))?;
    Ok(Timestamp::from_unix_seconds(t.unix_timestamp()))
}

/// The J-LIS CA of a `Serve` access.
pub(crate) fn jlis_ca(ca_pem: &(String, String)) -> Result<JlisCa, TargetError> {
    JlisCa::from_pem(&ca_pem.0, &ca_pem.1, kiban_certs::KeyAlgorithm::EcdsaP256)
        .map_err(|e| TargetError::Invalid(format!("[jlis]: {e}")))
}
