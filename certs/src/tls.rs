//! rustls configurations of the platform (server) and of its clients (actors, the
//! conformance runner), and the revocation state the server consults.
//!
//! The server side:
//! - TLS 1.3 only, cipher suites TLS_AES_256_GCM_SHA384 and TLS_AES_128_GCM_SHA256 (the
//!   NIST SP 800-52r2 subset rustls implements), groups X25519, P-256, P-384.
//! - A client certificate is required and must chain to the operator root, carry
//!   id-kp-clientAuth, be inside its validity at the injected clock's `now`, not be on the
//!   client CRL, and name exactly one valid principal ([`crate::principal`]).
//! - CRL swap without restart: [`ClientVerifier`] is the `ClientCertVerifier` of the
//!   `ServerConfig`; it holds the current generation (a webpki verifier built with the CRL
//!   plus the set of revoked serials) behind an `RwLock<Arc<…>>`. [`ClientVerifier::install_crl`]
//!   checks the new CRL's signature and number and replaces both in one step, so the next
//!   handshake and the next [`ClientVerifier::is_revoked`] see the same list. The
//!   `ServerConfig` and the listener stay as they are.
//! - No session resumption: no session cache, no TLS 1.3 tickets, no 0-RTT. A resumed
//!   session would skip the certificate check; without resumption every connection is a
//!   full handshake. A keep-alive connection can still outlive a revocation or the
//!   certificate's expiry, so the server calls [`ClientVerifier::admit`] (or
//!   `is_revoked`) on every request.
//! - Revocation is checked for the end-entity certificate only (the client CRL is signed
//!   by the client-issuing intermediate; the root publishes no CRL, so revoking the
//!   intermediate means a new PKI). A CRL past its nextUpdate fails closed by default
//!   ([`StaleCrl::Refuse`]): every handshake is refused until a fresh CRL is installed.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use kiban_core::time::Timestamp;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    RootCertStore, ServerConfig, SignatureScheme,
};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::clock::{Clock, ClockTimeProvider};
use crate::pki::ClientCredentials;
use crate::principal::ClientIdentity;
use crate::serial::Serial;

/// Why a TLS configuration could not be built or a CRL not installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls refused the configuration (e.g. a key that does not match the certificate).
    #[error("tls configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built (e.g. an unparsable CRL).
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// The CRL is not DER, not signed by a known issuer, or older than the installed one.
    #[error("crl rejected: {0}")]
    Crl(String),
}

/// What to do when the installed CRL is past its nextUpdate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StaleCrl {
    /// Refuse every client certificate until a fresh CRL is installed (fail closed).
    #[default]
    Refuse,
    /// Keep using the stale CRL (availability over freshness; monitor `crl_status`).
    Accept,
}

/// The installed CRL as the verifier sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlStatus {
    /// The CRL number.
    pub number: u64,
    /// thisUpdate.
    pub this_update: Timestamp,
    /// nextUpdate, if the CRL has one.
    pub next_update: Option<Timestamp>,
    /// How many serials it revokes.
    pub revoked: usize,
}

/// Why a request on an established connection is refused by [`ClientVerifier::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The certificate was revoked after the connection was established.
    #[error("certificate-revoked")]
    Revoked,
    /// The certificate expired after the connection was established.
    #[error("certificate-expired")]
    Expired,
    /// The certificate is not valid yet (the clock went back).
    #[error("certificate-not-yet-valid")]
    NotYetValid,
}

/// One CRL's worth of verifier state: swapped as a whole.
#[derive(Debug)]
struct Generation {
    webpki: Arc<dyn ClientCertVerifier>,
    revoked: HashSet<Serial>,
    status: CrlStatus,
}

/// The platform's client-certificate verifier with a swappable CRL (see the module docs).
#[derive(Debug)]
pub struct ClientVerifier {
    roots: Arc<RootCertStore>,
    hints: Vec<DistinguishedName>,
    crl_issuers: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    stale: StaleCrl,
    current: RwLock<Arc<Generation>>,
}

impl ClientVerifier {
    /// A verifier trusting `root`, accepting CRLs signed by one of `crl_issuers` (the
    /// client-issuing intermediate), starting with `crl`.
    pub fn new(
        root: CertificateDer<'static>,
        crl_issuers: Vec<CertificateDer<'static>>,
        crl: &CertificateRevocationListDer<'_>,
        stale: StaleCrl,
    ) -> Result<Arc<ClientVerifier>, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(root)?;
        let roots = Arc::new(roots);
        let provider = provider();
        let first = build_generation(&roots, &provider, &crl_issuers, stale, crl, None)?;
        Ok(Arc::new(ClientVerifier {
            hints: roots.subjects(),
            roots,
            crl_issuers,
            provider,
            stale,
            current: RwLock::new(Arc::new(first)),
        }))
    }

    /// Replaces the CRL for every later handshake and `is_revoked` call, without touching
    /// connections or the listener. The CRL must be signed by a known issuer and its number
    /// must not be lower than the installed one's (no rollback to an older list).
    pub fn install_crl(
        &self,
        crl: &CertificateRevocationListDer<'_>,
    ) -> Result<CrlStatus, TlsError> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let next = build_generation(
            &self.roots,
            &self.provider,
            &self.crl_issuers,
            self.stale,
            crl,
            Some(current.status.number),
        )?;
        let status = next.status.clone();
        *current = Arc::new(next);
        Ok(status)
    }

    /// Whether the installed CRL revokes `serial`: the cheap per-request check.
    pub fn is_revoked(&self, serial: &Serial) -> bool {
        self.generation().revoked.contains(serial)
    }

    /// The per-request check for an established connection: refused if the certificate
    /// was revoked since, or is outside its validity at `now`.
    pub fn admit(&self, identity: &ClientIdentity, now: Timestamp) -> Result<(), Refusal> {
        if self.is_revoked(&identity.serial) {
            return Err(Refusal::Revoked);
        }
        if now > identity.not_after {
            return Err(Refusal::Expired);
        }
        if now < identity.not_before {
            return Err(Refusal::NotYetValid);
        }
        Ok(())
    }

    /// The installed CRL's number, dates and size.
    pub fn crl_status(&self) -> CrlStatus {
        self.generation().status.clone()
    }

    fn generation(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified =
            self.generation()
                .webpki
                .verify_client_cert(end_entity, intermediates, now)?;
        // A chain-valid certificate that names no principal cannot be authorised: refuse it
        // in the handshake rather than on the first request.
        ClientIdentity::from_der(end_entity).map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
        })?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.generation()
            .webpki
            .verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.generation()
            .webpki
            .verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.generation().webpki.supported_verify_schemes()
    }
}

/// Checks a CRL and builds the verifier state for it.
fn build_generation(
    roots: &Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
    issuers: &[CertificateDer<'static>],
    stale: StaleCrl,
    crl_der: &CertificateRevocationListDer<'_>,
    installed: Option<u64>,
) -> Result<Generation, TlsError> {
    let crl_err = |s: String| TlsError::Crl(s);
    let (rest, crl) = CertificateRevocationList::from_der(crl_der)
        .map_err(|e| crl_err(format!("not a DER CRL: {e}")))?;
    if !rest.is_empty() {
        return Err(crl_err(format!("{} bytes follow the CRL", rest.len())));
    }
    let signed_by_known_issuer = issuers.iter().any(|issuer| {
        x509_parser::parse_x509_certificate(issuer).is_ok_and(|(_, cert)| {
            cert.subject().as_raw() == crl.issuer().as_raw()
                && crl.verify_signature(cert.public_key()).is_ok()
        })
    });
    if !signed_by_known_issuer {
        return Err(crl_err("not signed by the client-issuing CA".to_owned()));
    }
    let number = match crl.crl_number().map(|n| n.to_u64_digits()) {
        Some(digits) if digits.len() <= 1 => digits.first().copied().unwrap_or(0),
        Some(_) => return Err(crl_err("crl number does not fit 64 bits".to_owned())),
        None => return Err(crl_err("the crl has no crl number".to_owned())),
    };
    if let Some(installed) = installed.filter(|&n| number < n) {
        return Err(crl_err(format!(
            "crl number {number} is older than the installed {installed}"
        )));
    }
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| Serial::from_be_bytes(r.raw_serial()))
        .collect::<Result<HashSet<_>, _>>()
        .map_err(|e| crl_err(format!("revoked serial: {e}")))?;
    let status = CrlStatus {
        number,
        this_update: Timestamp::from_unix_seconds(crl.last_update().timestamp()),
        next_update: crl
            .next_update()
            .map(|t| Timestamp::from_unix_seconds(t.timestamp())),
        revoked: revoked.len(),
    };
    let mut builder = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .with_crls([CertificateRevocationListDer::from(crl_der.to_vec())])
        .only_check_end_entity_revocation();
    if stale == StaleCrl::Refuse {
        builder = builder.enforce_revocation_expiration();
    }
    Ok(Generation {
        webpki: builder.build()?,
        revoked,
        status,
    })
}

/// The crypto provider of every configuration here: ring, TLS 1.3 AES-GCM suites only.
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
    ];
    Arc::new(provider)
}

/// The platform's server configuration: TLS 1.3 only, `verifier` requiring a client
/// certificate, no resumption and no 0-RTT, certificate checks at `clock`'s time.
/// `chain` is the server certificate first.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    verifier: Arc<ClientVerifier>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config =
        ServerConfig::builder_with_details(provider(), Arc::new(ClockTimeProvider(clock)))
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    config.max_early_data_size = 0;
    Ok(Arc::new(config))
}

/// A client configuration for actors and the conformance runner: TLS 1.3 only, trusts the
/// operator `root`, verifies the server name, presents `credentials`.
pub fn client_config(
    root: &CertificateDer<'static>,
    credentials: ClientCredentials,
    clock: Arc<dyn Clock>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let config =
        client_builder(root, clock)?.with_client_auth_cert(credentials.chain, credentials.key)?;
    Ok(Arc::new(config))
}

/// Like [`client_config`] but presenting no certificate: negative-test material (the
/// platform must refuse it).
pub fn client_config_without_certificate(
    root: &CertificateDer<'static>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<ClientConfig>, TlsError> {
    Ok(Arc::new(client_builder(root, clock)?.with_no_client_auth()))
}

fn client_builder(
    root: &CertificateDer<'static>,
    clock: Arc<dyn Clock>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone())?;
    // `with_root_certificates` verifies the server chain and name with webpki, using this
    // configuration's provider and time provider.
    Ok(
        ClientConfig::builder_with_details(provider(), Arc::new(ClockTimeProvider(clock)))
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots),
    )
}
