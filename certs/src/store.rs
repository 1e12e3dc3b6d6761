//! The PKI folder on disk and the certificate lifecycle over it: init, issue, renew,
//! revoke, CRL, list.
//!
//! Layout (default `kiban-data/pki/`, never committed):
//!
//! ```text
//! inventory.toml                     every certificate: kind, subject, serial, validity, status
//! operator-root-ca.cert.pem          operator root CA (trust anchor of servers and clients)
//! operator-root-ca.key.pem           its key (mode 0600, like every *.key.pem)
//! client-issuing-ca.cert.pem         intermediate that signs client certificates
//! client-issuing-ca.key.pem
//! client-issuing-ca.crl.pem          CRL of client certificates, signed by the intermediate
//! platform-server.cert.pem           platform server certificate (signed by the root)
//! platform-server.key.pem
//! jlis-ca.cert.pem                   virtual J-LIS CA (virtual My Number card certificates)
//! jlis-ca.key.pem
//! clients/<stem>.cert.pem            client certificate; <stem> = <role>-<organisation>-<terminal>
//! clients/<stem>.key.pem
//! clients/<stem>.chain.pem           leaf + intermediate: what the client presents
//! cards/<card-serial>.cert.pem       利用者証明用 certificate of a virtual card
//! cards/<card-serial>.key.pem
//! archive/<stem>.<serial>.cert.pem   certificates (and keys) replaced by renew
//! ```
//!
//! Every file is written atomically (temporary file in the same folder, fsync, rename,
//! fsync of the folder), so a crash leaves the old or the new version, never a torn one.
//! Nothing is overwritten unless the caller passes `force`. Every operation takes `now`.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiban_core::time::Timestamp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::pki::{
    CardSerial, ClientCredentials, Crl, IssuedCertificate, JlisCa, KeyAlgorithm, Lifetimes,
    OperatorPki, PkiError, PkiOptions, Revocation, RevocationReason, Validity,
};
use crate::principal::{Principal, PrincipalError};
use crate::serial::Serial;
use crate::tls::{self, ClientVerifier, CrlStatus, StaleCrl, TlsError};

/// The default PKI folder, relative to the working directory.
pub const DEFAULT_DIR: &str = "kiban-data/pki";
/// File names of the fixed parts of the layout.
pub mod files {
    /// The inventory.
    pub const INVENTORY: &str = "inventory.toml";
    /// Operator root certificate.
    pub const ROOT_CERT: &str = "operator-root-ca.cert.pem";
    /// Operator root key.
    pub const ROOT_KEY: &str = "operator-root-ca.key.pem";
    /// Client-issuing intermediate certificate.
    pub const ISSUING_CERT: &str = "client-issuing-ca.cert.pem";
    /// Client-issuing intermediate key.
    pub const ISSUING_KEY: &str = "client-issuing-ca.key.pem";
    /// CRL of client certificates.
    pub const CLIENT_CRL: &str = "client-issuing-ca.crl.pem";
    /// Platform server certificate.
    pub const SERVER_CERT: &str = "platform-server.cert.pem";
    /// Platform server key.
    pub const SERVER_KEY: &str = "platform-server.key.pem";
    /// Virtual J-LIS CA certificate.
    pub const JLIS_CERT: &str = "jlis-ca.cert.pem";
    /// Virtual J-LIS CA key.
    pub const JLIS_KEY: &str = "jlis-ca.key.pem";
    /// Folder of client certificates.
    pub const CLIENTS: &str = "clients";
    /// Folder of card certificates.
    pub const CARDS: &str = "cards";
    /// Folder of replaced certificates.
    pub const ARCHIVE: &str = "archive";
}

/// Current inventory format version.
const FORMAT: u32 = 1;

/// Why a PKI folder operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The folder has no PKI yet.
    #[error("{0} holds no PKI (no {INVENTORY}); run init first", INVENTORY = files::INVENTORY)]
    NotInitialised(PathBuf),
    /// A file to be written exists and `force` was not given.
    #[error("{0} already exists; refusing to overwrite without --force")]
    Exists(PathBuf),
    /// The inventory file cannot be read.
    #[error("{path}: invalid inventory: {detail}")]
    Inventory { path: PathBuf, detail: String },
    /// The principal already has a current certificate and `force` was not given.
    #[error("{principal} already has certificate {serial}; renew it, or pass --force")]
    AlreadyIssued { principal: String, serial: Serial },
    /// No certificate with this serial in the inventory.
    #[error("no certificate with serial {0} in the inventory")]
    UnknownSerial(Serial),
    /// The certificate is already revoked.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(Serial),
    /// The certificate was already renewed; renew its successor instead.
    #[error("certificate {serial} was already renewed as {by}; renew that one")]
    AlreadyRenewed { serial: Serial, by: Serial },
    /// Only client and server certificates can be renewed, only client certificates revoked.
    #[error("certificate {serial} is a {kind} certificate; {what}")]
    Unsupported {
        serial: Serial,
        kind: Kind,
        what: &'static str,
    },
    /// Generating or loading keys and certificates failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// Building a TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A subject in the inventory is not a valid principal.
    #[error(transparent)]
    Principal(#[from] PrincipalError),
}

impl StoreError {
    /// Whether the user can fix the error by changing the command or its input (as
    /// opposed to an I/O failure or a bug).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotInitialised(_)
                | StoreError::Exists(_)
                | StoreError::Inventory { .. }
                | StoreError::AlreadyIssued { .. }
                | StoreError::UnknownSerial(_)
                | StoreError::AlreadyRevoked(_)
                | StoreError::AlreadyRenewed { .. }
                | StoreError::Unsupported { .. }
                | StoreError::Principal(_)
        ) || matches!(
            self,
            StoreError::Pki(PkiError::ServerName(_) | PkiError::CardSerial)
        )
    }
}

/// What a certificate in the inventory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Operator root CA.
    RootCa,
    /// Client-issuing intermediate CA.
    ClientIssuingCa,
    /// Virtual J-LIS CA.
    JlisCa,
    /// Platform server certificate.
    Server,
    /// Client certificate carrying a principal.
    Client,
    /// 利用者証明用 certificate of a virtual card.
    Card,
}

impl Kind {
    /// The stable kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::RootCa => "root-ca",
            Kind::ClientIssuingCa => "client-issuing-ca",
            Kind::JlisCa => "jlis-ca",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Card => "card",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recorded revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedRecord {
    /// When.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// Why (kebab-case name; the RFC 5280 code is in the CRL).
    #[serde(with = "reason_name")]
    pub reason: RevocationReason,
}

/// One certificate in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Serial number (upper-case hex).
    pub serial: Serial,
    /// What it is.
    pub kind: Kind,
    /// Who it names: the principal URI (client), the server names joined by `,` (server),
    /// the card serial (card), or the CA's common name.
    pub subject: String,
    /// Path of the certificate file, relative to the PKI folder.
    pub cert_file: String,
    /// Path of the key file, relative to the PKI folder.
    pub key_file: String,
    /// Start of validity.
    #[serde(with = "rfc3339")]
    pub not_before: Timestamp,
    /// End of validity.
    #[serde(with = "rfc3339")]
    pub not_after: Timestamp,
    /// The serial of the certificate that renewed this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Serial>,
    /// The revocation, if revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<RevokedRecord>,
}

/// The state of a certificate at some `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Inside its validity, not revoked, not replaced.
    Active,
    /// Inside its validity and not revoked, but renewed (still accepted until it expires
    /// or is revoked: rotation overlaps).
    Replaced,
    /// Revoked.
    Revoked(RevocationReason),
    /// Past its not-after.
    Expired,
    /// Before its not-before.
    NotYetValid,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Active => f.write_str("active"),
            Status::Replaced => f.write_str("replaced"),
            Status::Revoked(reason) => write!(f, "revoked ({reason})"),
            Status::Expired => f.write_str("expired"),
            Status::NotYetValid => f.write_str("not-yet-valid"),
        }
    }
}

impl Entry {
    /// The status at `now`: revoked, then expired / not yet valid, then replaced, else active.
    pub fn status(&self, now: Timestamp) -> Status {
        if let Some(revoked) = &self.revoked {
            Status::Revoked(revoked.reason)
        } else if now > self.not_after {
            Status::Expired
        } else if now < self.not_before {
            Status::NotYetValid
        } else if self.replaced_by.is_some() {
            Status::Replaced
        } else {
            Status::Active
        }
    }

    /// Whether the certificate is usable at `now` and ends within `days` days of it.
    pub fn expires_within(&self, now: Timestamp, days: u32) -> bool {
        matches!(self.status(now), Status::Active) && self.not_after <= now.plus_days(days.into())
    }
}

/// The inventory file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Format version (1).
    pub format: u32,
    /// Key algorithm of new keys.
    #[serde(with = "algorithm_name")]
    pub algorithm: KeyAlgorithm,
    /// Number of the last CRL written.
    pub crl_number: u64,
    /// Days from thisUpdate to nextUpdate of new CRLs.
    pub crl_days: u32,
    /// Names in the server certificate.
    pub server_names: Vec<String>,
    /// Every certificate ever issued in this folder, oldest first.
    #[serde(default, rename = "certificate")]
    pub certificates: Vec<Entry>,
}

impl Inventory {
    /// The entry with `serial`.
    pub fn find(&self, serial: &Serial) -> Option<&Entry> {
        self.certificates.iter().find(|e| &e.serial == serial)
    }

    fn find_mut(&mut self, serial: &Serial) -> Result<&mut Entry, StoreError> {
        self.certificates
            .iter_mut()
            .find(|e| &e.serial == serial)
            .ok_or_else(|| StoreError::UnknownSerial(serial.clone()))
    }

    /// The current (not revoked, not replaced) entry of `kind` with `subject`.
    pub fn current(&self, kind: Kind, subject: &str) -> Option<&Entry> {
        self.certificates.iter().rev().find(|e| {
            e.kind == kind && e.subject == subject && e.revoked.is_none() && e.replaced_by.is_none()
        })
    }

    /// Revocations of client certificates, for the CRL.
    pub fn client_revocations(&self) -> Vec<Revocation> {
        self.certificates
            .iter()
            .filter(|e| e.kind == Kind::Client)
            .filter_map(|e| {
                e.revoked.as_ref().map(|r| Revocation {
                    serial: e.serial.clone(),
                    revoked_at: r.at,
                    reason: r.reason,
                })
            })
            .collect()
    }
}

/// Options of `init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Key algorithm.
    pub algorithm: KeyAlgorithm,
    /// Lifetimes of what init creates and the defaults of later commands.
    pub lifetimes: Lifetimes,
    /// DNS names and IP addresses of the server certificate.
    pub server_names: Vec<String>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            algorithm: KeyAlgorithm::default(),
            lifetimes: Lifetimes::default(),
            server_names: crate::pki::default_server_names(),
        }
    }
}

/// An opened PKI folder.
#[derive(Debug)]
pub struct PkiDir {
    dir: PathBuf,
    pki: OperatorPki,
    inventory: Inventory,
}

impl PkiDir {
    /// Creates a PKI in `dir`: root, intermediate, server certificate, J-LIS CA, an empty
    /// CRL and the inventory. Refuses if `dir` already holds a PKI unless `force`, which
    /// also deletes the old `clients/`, `cards/` and `archive/` folders (their certificates
    /// would chain to the discarded CA).
    pub fn init(
        dir: &Path,
        options: &InitOptions,
        now: Timestamp,
        force: bool,
    ) -> Result<PkiDir, StoreError> {
        for name in [files::INVENTORY, files::ROOT_KEY, files::ROOT_CERT] {
            let path = dir.join(name);
            if !force && path.exists() {
                return Err(StoreError::Exists(path));
            }
        }
        create_dir(dir)?;
        if force {
            for sub in [files::CLIENTS, files::CARDS, files::ARCHIVE] {
                remove_dir(&dir.join(sub))?;
            }
        }
        let pki = OperatorPki::generate(
            &PkiOptions {
                algorithm: options.algorithm,
                lifetimes: options.lifetimes,
            },
            now,
        )?;
        let jlis = JlisCa::generate(options.algorithm, now, options.lifetimes.root_days)?;
        let mut store = PkiDir {
            dir: dir.to_path_buf(),
            inventory: Inventory {
                format: FORMAT,
                algorithm: options.algorithm,
                crl_number: 0,
                crl_days: options.lifetimes.crl_days,
                server_names: options.server_names.clone(),
                certificates: Vec::new(),
            },
            pki,
        };
        // The server certificate first: a bad server name fails before anything is written.
        let server = store.pki.issue_server(
            &options.server_names,
            Validity::days_from(now, options.lifetimes.server_days),
        )?;
        store.write(files::ROOT_CERT, &store.pki.root_pem(), false)?;
        store.write(files::ROOT_KEY, &store.pki.root_key_pem(), true)?;
        store.write(files::ISSUING_CERT, &store.pki.client_issuing_pem(), false)?;
        store.write(
            files::ISSUING_KEY,
            &store.pki.client_issuing_key_pem(),
            true,
        )?;
        store.write(files::JLIS_CERT, &jlis.cert_pem(), false)?;
        store.write(files::JLIS_KEY, &jlis.key_pem(), true)?;
        for (kind, der, subject, cert_file, key_file) in [
            (
                Kind::RootCa,
                store.pki.root_der().clone(),
                crate::pki::names::OPERATOR_ROOT,
                files::ROOT_CERT,
                files::ROOT_KEY,
            ),
            (
                Kind::ClientIssuingCa,
                store.pki.client_issuing_der().clone(),
                crate::pki::names::CLIENT_ISSUING,
                files::ISSUING_CERT,
                files::ISSUING_KEY,
            ),
            (
                Kind::JlisCa,
                jlis.cert_der().clone(),
                crate::pki::names::JLIS_CA,
                files::JLIS_CERT,
                files::JLIS_KEY,
            ),
        ] {
            store
                .inventory
                .certificates
                .push(ca_entry(kind, &der, subject, cert_file, key_file)?);
        }
        store.record_server(&server)?;
        store.write_crl(now)?;
        Ok(store)
    }

    /// Opens the PKI in `dir`.
    pub fn open(dir: &Path) -> Result<PkiDir, StoreError> {
        let inventory_path = dir.join(files::INVENTORY);
        if !inventory_path.exists() {
            return Err(StoreError::NotInitialised(dir.to_path_buf()));
        }
        let text = read(&inventory_path)?;
        let inventory: Inventory = toml::from_str(&text).map_err(|e| StoreError::Inventory {
            path: inventory_path.clone(),
            detail: e.to_string(),
        })?;
        if inventory.format != FORMAT {
            return Err(StoreError::Inventory {
                path: inventory_path,
                detail: format!(
                    "format {} is not supported (expected {FORMAT})",
                    inventory.format
                ),
            });
        }
        let pki = OperatorPki::from_pem(
            &read(&dir.join(files::ROOT_CERT))?,
            &read(&dir.join(files::ROOT_KEY))?,
            &read(&dir.join(files::ISSUING_CERT))?,
            &read(&dir.join(files::ISSUING_KEY))?,
            inventory.algorithm,
        )?;
        Ok(PkiDir {
            dir: dir.to_path_buf(),
            pki,
            inventory,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The operator PKI (to issue in memory, e.g. negative material).
    pub fn pki(&self) -> &OperatorPki {
        &self.pki
    }

    /// Issues a client certificate for `principal`, valid `days` days from `now`. Refuses
    /// if the principal has a current certificate or its files exist, unless `force`
    /// (the previous certificate is then marked replaced, not revoked).
    pub fn issue_client(
        &mut self,
        principal: &Principal,
        days: u32,
        now: Timestamp,
        force: bool,
    ) -> Result<Entry, StoreError> {
        let subject = principal.to_uri();
        let previous = self
            .inventory
            .current(Kind::Client, &subject)
            .map(|e| e.serial.clone());
        if let (Some(serial), false) = (&previous, force) {
            return Err(StoreError::AlreadyIssued {
                principal: subject,
                serial: serial.clone(),
            });
        }
        let paths = ClientPaths::new(&principal.file_stem());
        if !force {
            for path in [&paths.cert, &paths.key, &paths.chain] {
                self.refuse_existing(path)?;
            }
        }
        let issued = self
            .pki
            .issue_client(principal, Validity::days_from(now, days))?;
        if let Some(old) = previous.as_ref().and_then(|s| self.inventory.find(s)) {
            self.archive(old)?;
        }
        let entry = self.write_client(&issued, &subject, &paths)?;
        if let Some(old) = previous {
            self.inventory.find_mut(&old)?.replaced_by = Some(entry.serial.clone());
        }
        self.inventory.certificates.push(entry.clone());
        self.save_inventory()?;
        Ok(entry)
    }

    /// Renews the client or server certificate `serial`: same subject, new key, new
    /// serial, valid `days` days from `now`. The old files move to `archive/`; the old
    /// certificate stays valid (rotation overlaps) unless `revoke_old`, which revokes it
    /// as superseded and writes a new CRL.
    pub fn renew(
        &mut self,
        serial: &Serial,
        days: u32,
        now: Timestamp,
        revoke_old: bool,
    ) -> Result<Entry, StoreError> {
        let old = self
            .inventory
            .find(serial)
            .cloned()
            .ok_or_else(|| StoreError::UnknownSerial(serial.clone()))?;
        if old.revoked.is_some() {
            return Err(StoreError::AlreadyRevoked(serial.clone()));
        }
        if let Some(by) = old.replaced_by.clone() {
            return Err(StoreError::AlreadyRenewed {
                serial: serial.clone(),
                by,
            });
        }
        let validity = Validity::days_from(now, days);
        let (issued, client) = match old.kind {
            Kind::Client => {
                let principal: Principal = old.subject.parse()?;
                let issued = self.pki.issue_client(&principal, validity)?;
                (issued, Some(ClientPaths::new(&principal.file_stem())))
            }
            Kind::Server => {
                let names = self.inventory.server_names.clone();
                (self.pki.issue_server(&names, validity)?, None)
            }
            kind => {
                return Err(StoreError::Unsupported {
                    serial: serial.clone(),
                    kind,
                    what: "only client and server certificates are renewed (re-run init for a new CA)",
                });
            }
        };
        self.archive(&old)?;
        let entry = match client {
            None => self.record_server(&issued)?,
            Some(paths) => {
                let entry = self.write_client(&issued, &old.subject, &paths)?;
                self.inventory.certificates.push(entry.clone());
                entry
            }
        };
        self.inventory.find_mut(serial)?.replaced_by = Some(entry.serial.clone());
        self.save_inventory()?;
        if revoke_old && old.kind == Kind::Client {
            self.revoke(serial, RevocationReason::Superseded, now)?;
        }
        Ok(entry)
    }

    /// Revokes the client certificate `serial` for `reason` at `now` and writes a new CRL.
    pub fn revoke(
        &mut self,
        serial: &Serial,
        reason: RevocationReason,
        now: Timestamp,
    ) -> Result<(Entry, Crl), StoreError> {
        let entry = self.inventory.find_mut(serial)?;
        if entry.kind != Kind::Client {
            return Err(StoreError::Unsupported {
                serial: serial.clone(),
                kind: entry.kind,
                what: "only client certificates are on the CRL",
            });
        }
        if entry.revoked.is_some() {
            return Err(StoreError::AlreadyRevoked(serial.clone()));
        }
        entry.revoked = Some(RevokedRecord { at: now, reason });
        let entry = entry.clone();
        let crl = self.write_crl(now)?;
        Ok((entry, crl))
    }

    /// Writes a new client CRL (next number, thisUpdate `now`, nextUpdate `now` + the
    /// configured days) and the inventory.
    pub fn write_crl(&mut self, now: Timestamp) -> Result<Crl, StoreError> {
        let number = self.inventory.crl_number + 1;
        let crl = self.pki.client_crl(
            &self.inventory.client_revocations(),
            number,
            now,
            now.plus_days(self.inventory.crl_days.max(1).into()),
        )?;
        self.write(files::CLIENT_CRL, &crl.pem(), false)?;
        self.inventory.crl_number = number;
        self.save_inventory()?;
        Ok(crl)
    }

    /// Issues the 利用者証明用 certificate of a virtual card, valid `days` days from `now`.
    pub fn issue_card(
        &mut self,
        card: &CardSerial,
        days: u32,
        now: Timestamp,
        force: bool,
    ) -> Result<Entry, StoreError> {
        if let (Some(e), false) = (self.inventory.current(Kind::Card, card.as_str()), force) {
            return Err(StoreError::AlreadyIssued {
                principal: format!("card {card}"),
                serial: e.serial.clone(),
            });
        }
        let cert_file = format!("{}/{card}.cert.pem", files::CARDS);
        let key_file = format!("{}/{card}.key.pem", files::CARDS);
        if !force {
            self.refuse_existing(&cert_file)?;
            self.refuse_existing(&key_file)?;
        }
        let jlis = JlisCa::from_pem(
            &read(&self.dir.join(files::JLIS_CERT))?,
            &read(&self.dir.join(files::JLIS_KEY))?,
            self.inventory.algorithm,
        )?;
        let issued = jlis.issue_card(card, Validity::days_from(now, days))?;
        create_dir(&self.dir.join(files::CARDS))?;
        self.write(&key_file, &issued.key_pem(), true)?;
        self.write(&cert_file, &issued.cert_pem(), false)?;
        let entry = leaf_entry(&issued, Kind::Card, card.to_string(), cert_file, key_file);
        let previous = self
            .inventory
            .current(Kind::Card, card.as_str())
            .map(|e| e.serial.clone());
        if let Some(old) = previous {
            self.inventory.find_mut(&old)?.replaced_by = Some(entry.serial.clone());
        }
        self.inventory.certificates.push(entry.clone());
        self.save_inventory()?;
        Ok(entry)
    }

    /// Every certificate with its status at `now`, oldest first.
    pub fn list(&self, now: Timestamp) -> Vec<(Entry, Status)> {
        self.inventory
            .certificates
            .iter()
            .map(|e| (e.clone(), e.status(now)))
            .collect()
    }

    /// Active certificates (CAs included) whose validity ends within `days` days of `now`.
    pub fn expiring_within(&self, now: Timestamp, days: u32) -> Vec<Entry> {
        self.inventory
            .certificates
            .iter()
            .filter(|e| e.expires_within(now, days))
            .cloned()
            .collect()
    }

    /// The operator root certificate: what clients trust.
    pub fn root_der(&self) -> &CertificateDer<'static> {
        self.pki.root_der()
    }

    /// The current client CRL as written on disk.
    pub fn client_crl(&self) -> Result<CertificateRevocationListDer<'static>, StoreError> {
        let path = self.dir.join(files::CLIENT_CRL);
        CertificateRevocationListDer::from_pem_file(&path).map_err(|e| pem_error(&path, e))
    }

    /// A client verifier for the platform, starting with the CRL on disk.
    pub fn client_verifier(&self, stale: StaleCrl) -> Result<Arc<ClientVerifier>, StoreError> {
        Ok(ClientVerifier::new(
            self.pki.root_der().clone(),
            vec![self.pki.client_issuing_der().clone()],
            &self.client_crl()?,
            stale,
        )?)
    }

    /// Installs the CRL on disk into `verifier` (no restart needed).
    pub fn reload_crl(&self, verifier: &ClientVerifier) -> Result<CrlStatus, StoreError> {
        Ok(verifier.install_crl(&self.client_crl()?)?)
    }

    /// The platform's server configuration from the files on disk, with `verifier`.
    pub fn server_config(
        &self,
        verifier: Arc<ClientVerifier>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<rustls::ServerConfig>, StoreError> {
        let cert_path = self.dir.join(files::SERVER_CERT);
        let key_path = self.dir.join(files::SERVER_KEY);
        let cert =
            CertificateDer::from_pem_file(&cert_path).map_err(|e| pem_error(&cert_path, e))?;
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_error(&key_path, e))?;
        Ok(tls::server_config(vec![cert], key, verifier, clock)?)
    }

    /// The credentials of the client certificate `serial` as stored on disk.
    pub fn client_credentials(&self, serial: &Serial) -> Result<ClientCredentials, StoreError> {
        let entry = self
            .inventory
            .find(serial)
            .ok_or_else(|| StoreError::UnknownSerial(serial.clone()))?;
        let (cert_path, key_path) = match (entry.kind, &entry.replaced_by) {
            (Kind::Client, None) => (
                self.dir.join(&entry.cert_file),
                self.dir.join(&entry.key_file),
            ),
            (Kind::Client, Some(_)) => {
                let (c, k) = archive_paths(entry);
                (self.dir.join(c), self.dir.join(k))
            }
            (kind, _) => {
                return Err(StoreError::Unsupported {
                    serial: serial.clone(),
                    kind,
                    what: "only client certificates have client credentials",
                });
            }
        };
        let leaf =
            CertificateDer::from_pem_file(&cert_path).map_err(|e| pem_error(&cert_path, e))?;
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_error(&key_path, e))?;
        Ok(ClientCredentials {
            chain: vec![leaf, self.pki.client_issuing_der().clone()],
            key,
        })
    }

    fn write_client(
        &self,
        issued: &IssuedCertificate,
        subject: &str,
        paths: &ClientPaths,
    ) -> Result<Entry, StoreError> {
        create_dir(&self.dir.join(files::CLIENTS))?;
        self.write(&paths.key, &issued.key_pem(), true)?;
        self.write(&paths.cert, &issued.cert_pem(), false)?;
        let chain = issued.cert_pem() + &self.pki.client_issuing_pem();
        self.write(&paths.chain, &chain, false)?;
        Ok(leaf_entry(
            issued,
            Kind::Client,
            subject.to_owned(),
            paths.cert.clone(),
            paths.key.clone(),
        ))
    }

    fn record_server(&mut self, issued: &IssuedCertificate) -> Result<Entry, StoreError> {
        self.write(files::SERVER_KEY, &issued.key_pem(), true)?;
        self.write(files::SERVER_CERT, &issued.cert_pem(), false)?;
        let entry = leaf_entry(
            issued,
            Kind::Server,
            self.inventory.server_names.join(","),
            files::SERVER_CERT.to_owned(),
            files::SERVER_KEY.to_owned(),
        );
        self.inventory.certificates.push(entry.clone());
        Ok(entry)
    }

    /// Moves the files of `entry` to `archive/<stem>.<serial>.*`.
    fn archive(&self, entry: &Entry) -> Result<(), StoreError> {
        create_dir(&self.dir.join(files::ARCHIVE))?;
        let (cert_to, key_to) = archive_paths(entry);
        for (from, to) in [(&entry.cert_file, cert_to), (&entry.key_file, key_to)] {
            let (from, to) = (self.dir.join(from), self.dir.join(to));
            if from.exists() {
                fs::rename(&from, &to).map_err(|source| StoreError::Io { path: from, source })?;
            }
        }
        Ok(())
    }

    fn refuse_existing(&self, relative: &str) -> Result<(), StoreError> {
        let path = self.dir.join(relative);
        if path.exists() {
            return Err(StoreError::Exists(path));
        }
        Ok(())
    }

    fn write(&self, relative: &str, contents: &str, secret: bool) -> Result<(), StoreError> {
        let path = self.dir.join(relative);
        write_atomic(&path, contents.as_bytes(), secret)
            .map_err(|source| StoreError::Io { path, source })
    }

    fn save_inventory(&self) -> Result<(), StoreError> {
        let body = toml::to_string_pretty(&self.inventory).map_err(|e| StoreError::Inventory {
            path: self.dir.join(files::INVENTORY),
            detail: e.to_string(),
        })?;
        let text = format!(
            "# kiban-certs inventory (format {FORMAT}): written by `kiban certs`; do not edit.\n\
             # Times are RFC 3339 UTC. See certs/README.md.\n\n{body}"
        );
        self.write(files::INVENTORY, &text, false)
    }
}

/// Where a client certificate's files go, relative to the PKI folder.
struct ClientPaths {
    /// `clients/<stem>.cert.pem`.
    cert: String,
    /// `clients/<stem>.key.pem`.
    key: String,
    /// `clients/<stem>.chain.pem`.
    chain: String,
}

impl ClientPaths {
    fn new(stem: &str) -> ClientPaths {
        let path = |purpose: &str| format!("{}/{stem}.{purpose}.pem", files::CLIENTS);
        ClientPaths {
            cert: path("cert"),
            key: path("key"),
            chain: path("chain"),
        }
    }
}

/// `archive/<file stem>.<serial>.cert.pem` and `.key.pem` for an entry.
fn archive_paths(entry: &Entry) -> (String, String) {
    let stem = Path::new(&entry.cert_file)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cert.pem"))
        .unwrap_or("certificate");
    (
        format!("{}/{stem}.{}.cert.pem", files::ARCHIVE, entry.serial),
        format!("{}/{stem}.{}.key.pem", files::ARCHIVE, entry.serial),
    )
}

fn leaf_entry(
    issued: &IssuedCertificate,
    kind: Kind,
    subject: String,
    cert_file: String,
    key_file: String,
) -> Entry {
    Entry {
        serial: issued.serial().clone(),
        kind,
        subject,
        cert_file,
        key_file,
        not_before: issued.validity().not_before,
        not_after: issued.validity().not_after,
        replaced_by: None,
        revoked: None,
    }
}

fn ca_entry(
    kind: Kind,
    der: &CertificateDer<'_>,
    subject: &str,
    cert_file: &str,
    key_file: &str,
) -> Result<Entry, StoreError> {
    let bad = |detail: String| PkiError::Load {
        what: "a generated CA certificate",
        detail,
    };
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| bad(e.to_string()))?;
    let validity = cert.validity();
    Ok(Entry {
        serial: Serial::from_be_bytes(cert.raw_serial()).map_err(|e| bad(e.to_string()))?,
        kind,
        subject: subject.to_owned(),
        cert_file: cert_file.to_owned(),
        key_file: key_file.to_owned(),
        not_before: Timestamp::from_unix_seconds(validity.not_before.timestamp()),
        not_after: Timestamp::from_unix_seconds(validity.not_after.timestamp()),
        replaced_by: None,
        revoked: None,
    })
}

fn pem_error(path: &Path, e: rustls::pki_types::pem::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    }
}

fn read(path: &Path) -> Result<String, StoreError> {
    fs::read_to_string(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn remove_dir(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes `contents` to `path` atomically: a temporary file beside it, fsync, rename over
/// `path`, fsync of the folder. Secret files are created with mode 0600 on Unix.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], secret: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    // A temporary file left by a crash is garbage: start afresh.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Serde of instants as RFC 3339 UTC text.
mod rfc3339 {
    use kiban_core::time::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    use crate::clock::{from_offset, to_offset};

    pub(super) fn serialize<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        let text = to_offset(*at)
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map(from_offset)
            .map_err(serde::de::Error::custom)
    }
}

/// Serde of revocation reasons by kebab-case name.
mod reason_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::pki::RevocationReason;

    pub(super) fn serialize<S: Serializer>(r: &RevocationReason, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<RevocationReason, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde of key algorithms by name.
mod algorithm_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::pki::KeyAlgorithm;

    pub(super) fn serialize<S: Serializer>(a: &KeyAlgorithm, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(a.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyAlgorithm, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        // 2026-04-01T00:00:00+09:00
        Timestamp::from_unix_seconds(1_775_000_000)
    }

    fn principal(terminal: &str) -> Principal {
        format!("urn:kiban:principal:v1:care-service:2875104529:{terminal}")
            .parse()
            .unwrap()
    }

    fn init(dir: &Path) -> PkiDir {
        PkiDir::init(dir, &InitOptions::default(), now(), false).unwrap()
    }

    #[test]
    fn init_writes_the_documented_layout_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        let store = init(&dir);
        for name in [
            files::INVENTORY,
            files::ROOT_CERT,
            files::ROOT_KEY,
            files::ISSUING_CERT,
            files::ISSUING_KEY,
            files::CLIENT_CRL,
            files::SERVER_CERT,
            files::SERVER_KEY,
            files::JLIS_CERT,
            files::JLIS_KEY,
        ] {
            assert!(dir.join(name).is_file(), "{name} missing");
        }
        let kinds: Vec<Kind> = store
            .inventory()
            .certificates
            .iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                Kind::RootCa,
                Kind::ClientIssuingCa,
                Kind::JlisCa,
                Kind::Server
            ]
        );
        assert_eq!(store.inventory().crl_number, 1);
        assert!(!dir.join(format!("{}.tmp", files::INVENTORY)).exists());
        let again = PkiDir::init(&dir, &InitOptions::default(), now(), false);
        assert!(matches!(again, Err(StoreError::Exists(_))));
        PkiDir::init(&dir, &InitOptions::default(), now(), true).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let entry = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        for key in [
            files::ROOT_KEY,
            files::ISSUING_KEY,
            files::SERVER_KEY,
            &entry.key_file,
        ] {
            let mode = fs::metadata(tmp.path().join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }

    #[test]
    fn issue_names_files_by_role_and_purpose_and_refuses_a_second_current_certificate() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let entry = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        assert_eq!(
            entry.cert_file,
            "clients/care-service-2875104529-pc-01.cert.pem"
        );
        assert_eq!(
            entry.key_file,
            "clients/care-service-2875104529-pc-01.key.pem"
        );
        assert!(
            tmp.path()
                .join("clients/care-service-2875104529-pc-01.chain.pem")
                .is_file()
        );
        let again = store.issue_client(&principal("pc-01"), 30, now(), false);
        assert!(
            matches!(again, Err(StoreError::AlreadyIssued { .. })),
            "{again:?}"
        );
        let forced = store
            .issue_client(&principal("pc-01"), 30, now(), true)
            .unwrap();
        let reopened = PkiDir::open(tmp.path()).unwrap();
        let old = reopened.inventory().find(&entry.serial).unwrap();
        assert_eq!(old.replaced_by.as_ref(), Some(&forced.serial));
        // The replaced certificate's files were archived and still load.
        reopened.client_credentials(&entry.serial).unwrap();
    }

    #[test]
    fn renew_keeps_the_principal_with_a_new_serial_and_archives_the_old_files() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let old = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        let later = now().plus_days(20);
        let new = store.renew(&old.serial, 365, later, false).unwrap();
        assert_ne!(new.serial, old.serial);
        assert_eq!(new.subject, old.subject);
        assert_eq!(new.cert_file, old.cert_file);
        let creds = store.client_credentials(&new.serial).unwrap();
        assert_eq!(
            Principal::from_der(&creds.chain[0]).unwrap(),
            principal("pc-01")
        );
        let archived = tmp.path().join(format!(
            "archive/care-service-2875104529-pc-01.{}.cert.pem",
            old.serial
        ));
        assert!(archived.is_file());
        assert_eq!(
            store.inventory().find(&old.serial).unwrap().status(later),
            Status::Replaced
        );
        assert!(matches!(
            store.renew(&old.serial, 30, later, false),
            Err(StoreError::AlreadyRenewed { .. })
        ));
    }

    #[test]
    fn renew_with_revoke_old_puts_the_old_serial_on_the_crl_as_superseded() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let old = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        store.renew(&old.serial, 365, now(), true).unwrap();
        let status = store.inventory().find(&old.serial).unwrap().status(now());
        assert_eq!(status, Status::Revoked(RevocationReason::Superseded));
        assert_eq!(store.inventory().client_revocations().len(), 1);
    }

    #[test]
    fn revoke_writes_a_crl_listing_the_serial_with_its_reason_code() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let entry = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        let (revoked, crl) = store
            .revoke(&entry.serial, RevocationReason::StaffLeft, now())
            .unwrap();
        assert_eq!(
            revoked.status(now()),
            Status::Revoked(RevocationReason::StaffLeft)
        );
        assert_eq!(crl.number, 2);
        let der = store.client_crl().unwrap();
        let (_, parsed) = x509_parser::parse_x509_crl(&der).unwrap();
        let listed: Vec<_> = parsed.iter_revoked_certificates().collect();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            Serial::from_be_bytes(listed[0].raw_serial()).unwrap(),
            entry.serial
        );
        assert_eq!(listed[0].reason_code().map(|(_, r)| r.0), Some(3));
        assert!(matches!(
            store.revoke(&entry.serial, RevocationReason::StaffLeft, now()),
            Err(StoreError::AlreadyRevoked(_))
        ));
        let root_serial = store.inventory().certificates[0].serial.clone();
        assert!(matches!(
            store.revoke(&root_serial, RevocationReason::KeyCompromise, now()),
            Err(StoreError::Unsupported { .. })
        ));
    }

    #[test]
    fn list_reports_status_at_now_and_expiring_warns_only_for_usable_certificates() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let short = store
            .issue_client(&principal("short"), 10, now(), false)
            .unwrap();
        let long = store
            .issue_client(&principal("long"), 300, now(), false)
            .unwrap();
        let gone = store
            .issue_client(&principal("gone"), 5, now(), false)
            .unwrap();
        store
            .revoke(&gone.serial, RevocationReason::TerminalRetired, now())
            .unwrap();
        let expiring: Vec<Serial> = store
            .expiring_within(now(), 30)
            .into_iter()
            .map(|e| e.serial)
            .collect();
        assert!(expiring.contains(&short.serial));
        assert!(!expiring.contains(&long.serial));
        assert!(!expiring.contains(&gone.serial));
        // The 90-day server certificate warns at 100 days, the CAs do not.
        let kinds: Vec<Kind> = store
            .expiring_within(now(), 100)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.contains(&Kind::Server) && !kinds.contains(&Kind::RootCa));
        let after = now().plus_days(11);
        let statuses: Vec<Status> = store.list(after).into_iter().map(|(_, s)| s).collect();
        assert!(statuses.contains(&Status::Expired));
    }

    #[test]
    fn inventory_round_trips_through_toml() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let e = store
            .issue_client(&principal("pc-01"), 30, now(), false)
            .unwrap();
        store
            .revoke(&e.serial, RevocationReason::KeyCompromise, now())
            .unwrap();
        let reopened = PkiDir::open(tmp.path()).unwrap();
        assert_eq!(reopened.inventory(), store.inventory());
        let text = fs::read_to_string(tmp.path().join(files::INVENTORY)).unwrap();
        assert!(text.contains("reason = \"key-compromise\""), "{text}");
    }

    #[test]
    fn opening_an_empty_folder_says_to_run_init() {
        let tmp = tempfile::tempdir().unwrap();
        let err = PkiDir::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::NotInitialised(_)));
        assert!(err.is_user_error());
    }

    #[test]
    fn card_certificates_name_only_the_card_serial() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = init(tmp.path());
        let card = CardSerial::parse("CARD0001").unwrap();
        let entry = store.issue_card(&card, 30, now(), false).unwrap();
        let der = CertificateDer::from_pem_file(tmp.path().join(&entry.cert_file)).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(
            cert.subject().to_string(),
            "C=JP, O=kiban virtual J-LIS, CN=CARD0001"
        );
        assert!(cert.subject_alternative_name().unwrap().is_none());
    }

    #[test]
    fn write_atomic_replaces_whole_files_and_clears_stale_temporaries() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.pem");
        fs::write(tmp.path().join("f.pem.tmp"), b"torn").unwrap();
        write_atomic(&path, b"one", false).unwrap();
        write_atomic(&path, b"two", false).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert!(!tmp.path().join("f.pem.tmp").exists());
    }
}
