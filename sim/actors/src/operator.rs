//! The operator (国保中央会 / 国保連): puts municipalities and offices on the platform, sets
//! the simulated clock, and runs the certificate desk that issues, renews and revokes the
//! client certificates of office terminals (DOMAIN §6: certificates left on terminals of
//! staff who left, retired terminals, expiry and renewal).
//!
//! [`Operator`] calls the platform's operator routes with the operator's own certificate.
//! [`CertificateDesk`] works on the operator's PKI folder (`kiban_certs::store::PkiDir`):
//! every issued certificate comes back as a [`TerminalCertificate`] holding a ready
//! [`PlatformClient`]; a revocation writes a new CRL and installs it in the platform's
//! verifier at once, so the next request of the revoked terminal — even on an open
//! keep-alive connection — is refused.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use kiban_certs::store::PkiDir;
use kiban_certs::tls::ClientVerifier;
use kiban_certs::{Clock, Organisation, Principal, RevocationReason, Serial};
use kiban_core::id::MunicipalityCode;
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::Role;
use serde_json::json;

use crate::client::{ApiRequest, PlatformClient, RetryPolicy};
use crate::outcome::ActorError;
use crate::wire::send;

/// The operator's client of the platform.
#[derive(Debug)]
pub struct Operator {
    client: PlatformClient,
    retry: RetryPolicy,
}

impl Operator {
    /// The operator, calling through `client` (a certificate of role `operator`).
    pub fn new(client: PlatformClient) -> Operator {
        Operator {
            client,
            retry: RetryPolicy::default(),
        }
    }

    /// The same operator with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Operator {
        self.retry = retry;
        self
    }

    /// Puts a municipality on the platform: sharing from `live_from`, or (with `None`) on
    /// the platform for its data migration but not sharing yet.
    pub async fn enrol_municipality(
        &self,
        code: MunicipalityCode,
        live_from: Option<Date>,
    ) -> Result<(), ActorError> {
        let request = ApiRequest::put(format!("/v1/operator/municipalities/{code}"))
            .json(&json!({ "live_from": live_from }))?;
        send(&self.client, &request, &self.retry).await?;
        Ok(())
    }

    /// Registers an office (role, location) with its administrator's initial password.
    pub async fn register_office(
        &self,
        office: &Organisation,
        role: Role,
        municipality: MunicipalityCode,
        admin_password: &str,
    ) -> Result<(), ActorError> {
        let request = ApiRequest::put(format!("/v1/operator/offices/{office}")).json(&json!({
            "role": role,
            "municipality": municipality,
            "admin_password": admin_password,
        }))?;
        send(&self.client, &request, &self.retry).await?;
        Ok(())
    }

    /// Sets the platform's clock (a platform started with a simulated clock only).
    pub async fn set_clock(&self, at: Timestamp) -> Result<(), ActorError> {
        let request = ApiRequest::put("/v1/operator/clock")
            .json(&json!({ "unix_seconds": at.unix_seconds() }))?;
        send(&self.client, &request, &self.retry).await?;
        Ok(())
    }
}

/// A client certificate issued to a terminal, with a client that presents it.
pub struct TerminalCertificate {
    /// Whom it names.
    pub principal: Principal,
    /// Its serial.
    pub serial: Serial,
    /// Its last instant of validity.
    pub not_after: Timestamp,
    /// A client presenting it.
    pub client: PlatformClient,
}

impl fmt::Debug for TerminalCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TerminalCertificate")
            .field("principal", &self.principal.to_uri())
            .field("serial", &self.serial.to_string())
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The operator's certificate desk over its PKI folder and the platform's verifier.
pub struct CertificateDesk<'a> {
    pki: &'a mut PkiDir,
    verifier: Arc<ClientVerifier>,
    platform: SocketAddr,
    server_name: String,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CertificateDesk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateDesk")
            .field("pki", &self.pki.dir())
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

impl<'a> CertificateDesk<'a> {
    /// A desk issuing from `pki`, installing CRLs in `verifier`, for a platform at
    /// `platform` whose certificate names `server_name`; `clock` dates every act.
    pub fn new(
        pki: &'a mut PkiDir,
        verifier: Arc<ClientVerifier>,
        platform: SocketAddr,
        server_name: &str,
        clock: Arc<dyn Clock>,
    ) -> CertificateDesk<'a> {
        CertificateDesk {
            pki,
            verifier,
            platform,
            server_name: server_name.to_owned(),
            clock,
        }
    }

    /// A principal for a terminal of an organisation (the role must fit the organisation).
    pub fn principal(
        role: Role,
        organisation: Organisation,
        terminal: &str,
    ) -> Result<Principal, ActorError> {
        let terminal =
            kiban_certs::TerminalId::parse(terminal).map_err(|e| ActorError::Pki(e.to_string()))?;
        Principal::new(role, organisation, terminal).map_err(|e| ActorError::Pki(e.to_string()))
    }

    fn certificate(&self, serial: &Serial) -> Result<TerminalCertificate, ActorError> {
        let entry = self
            .pki
            .inventory()
            .find(serial)
            .cloned()
            .ok_or_else(|| ActorError::Pki(format!("no certificate {serial}")))?;
        let principal =
            Principal::parse_uri(&entry.subject).map_err(|e| ActorError::Pki(e.to_string()))?;
        let credentials = self
            .pki
            .client_credentials(serial)
            .map_err(|e| ActorError::Pki(e.to_string()))?;
        let client = PlatformClient::with_credentials(
            self.platform,
            &self.server_name,
            self.pki.root_der(),
            credentials,
            self.clock.clone(),
        )?;
        Ok(TerminalCertificate {
            principal,
            serial: entry.serial,
            not_after: entry.not_after,
            client,
        })
    }

    /// Issues a certificate for `principal`, valid `days` days from now. Refused if the
    /// principal already has a current one (renew it instead).
    pub fn issue(
        &mut self,
        principal: &Principal,
        days: u32,
    ) -> Result<TerminalCertificate, ActorError> {
        let now = self.clock.now();
        let entry = self
            .pki
            .issue_client(principal, days, now, false)
            .map_err(|e| ActorError::Pki(e.to_string()))?;
        self.certificate(&entry.serial)
    }

    /// Renews certificate `serial` for `days` days from now (new key and serial; the old one
    /// stays valid until it expires, as rotations overlap).
    pub fn renew(&mut self, serial: &Serial, days: u32) -> Result<TerminalCertificate, ActorError> {
        let now = self.clock.now();
        let entry = self
            .pki
            .renew(serial, days, now, false)
            .map_err(|e| ActorError::Pki(e.to_string()))?;
        self.certificate(&entry.serial)
    }

    /// Revokes certificate `serial` now for `reason` and installs the new CRL.
    pub fn revoke(&mut self, serial: &Serial, reason: RevocationReason) -> Result<(), ActorError> {
        let now = self.clock.now();
        self.pki
            .revoke(serial, reason, now)
            .map_err(|e| ActorError::Pki(e.to_string()))?;
        self.install_crl()
    }

    /// Writes a fresh CRL (its nextUpdate moves on) and installs it; done after every clock
    /// jump longer than the CRL's lifetime, as the operator publishes CRLs regularly.
    pub fn publish_crl(&mut self) -> Result<(), ActorError> {
        let now = self.clock.now();
        self.pki
            .write_crl(now)
            .map_err(|e| ActorError::Pki(e.to_string()))?;
        self.install_crl()
    }

    fn install_crl(&self) -> Result<(), ActorError> {
        self.pki
            .reload_crl(&self.verifier)
            .map(|_| ())
            .map_err(|e| ActorError::Pki(e.to_string()))
    }
}
