//! The certificate authorities of the test PKI and what they issue.
//!
//! ```text
//! operator root CA ("kiban operator root CA", self-signed)
//! ├── client-issuing CA (intermediate, path length 0) ── client certificates (principal URI)
//! │                                                    └─ CRL of client certificates
//! └── platform server certificate (SAN localhost, 127.0.0.1, ::1 by default)
//! virtual J-LIS CA (self-signed, separate trust) ── 利用者証明用 certificates of virtual cards
//! ```
//!
//! Every function here takes its times as arguments (a [`Validity`] or `now`); nothing
//! reads a clock. Keys are ECDSA P-256 unless a [`KeyAlgorithm`] says otherwise; each
//! certificate gets a fresh key and a fresh random [`Serial`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use kiban_core::time::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};

use crate::clock::to_offset;
use crate::principal::Principal;
use crate::serial::Serial;

/// How far back a new certificate's validity starts, so a verifier whose clock is a little
/// behind the issuer's still accepts it.
pub const BACKDATE_SECONDS: i64 = 3_600;

/// Why the PKI could not generate, load or sign something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// rcgen refused to generate a key, certificate or CRL.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// The operating system's random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A stored key or certificate could not be read.
    #[error("cannot read {what}: {detail}")]
    Load { what: &'static str, detail: String },
    /// A server name is neither a DNS name nor an IP address.
    #[error("invalid server name {0:?}")]
    ServerName(String),
    /// A validity period that ends before it starts.
    #[error("validity ends ({not_after}) before it starts ({not_before})")]
    Validity {
        not_before: Timestamp,
        not_after: Timestamp,
    },
    /// A card serial that is not 1–32 characters of `A-Z 0-9`.
    #[error("a card serial is 1-32 characters A-Z and 0-9")]
    CardSerial,
}

/// The key algorithm of generated keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (the default).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
}

impl KeyAlgorithm {
    /// The stable name: `p256` or `p384`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "p256",
            KeyAlgorithm::EcdsaP384 => "p384",
        }
    }

    fn generate(self) -> Result<KeyPair, PkiError> {
        let alg = match self {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        };
        Ok(KeyPair::generate_for(alg)?)
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "p256" => Ok(KeyAlgorithm::EcdsaP256),
            "p384" => Ok(KeyAlgorithm::EcdsaP384),
            _ => Err(format!(
                "unknown key algorithm {s:?}; expected p256 or p384"
            )),
        }
    }
}

/// A validity period, both ends inclusive as in X.509.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First instant the certificate is valid.
    pub not_before: Timestamp,
    /// Last instant the certificate is valid.
    pub not_after: Timestamp,
}

impl Validity {
    /// Valid from [`BACKDATE_SECONDS`] before `now` until `days` days after `now`.
    pub fn days_from(now: Timestamp, days: u32) -> Validity {
        Validity {
            not_before: now.plus_seconds(-BACKDATE_SECONDS),
            not_after: now.plus_days(i64::from(days)),
        }
    }

    /// A period from `not_before` to `not_after`, if it does not end before it starts.
    pub fn new(not_before: Timestamp, not_after: Timestamp) -> Result<Validity, PkiError> {
        if not_after < not_before {
            return Err(PkiError::Validity {
                not_before,
                not_after,
            });
        }
        Ok(Validity {
            not_before,
            not_after,
        })
    }

    fn apply(self, params: &mut CertificateParams) {
        params.not_before = to_offset(self.not_before);
        params.not_after = to_offset(self.not_after);
    }
}

/// How long each authority and certificate lives when not told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Operator root and J-LIS CA, in days.
    pub root_days: u32,
    /// Client-issuing intermediate, in days.
    pub intermediate_days: u32,
    /// Platform server certificate, in days (≤ 90 keeps Mozilla "modern" scanners happy).
    pub server_days: u32,
    /// Client certificates, in days (国保連 issue for one to three years).
    pub client_days: u32,
    /// Virtual card certificates, in days (JPKI 利用者証明用: about five years).
    pub card_days: u32,
    /// CRL validity (nextUpdate − thisUpdate), in days.
    pub crl_days: u32,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            root_days: 3_650,
            intermediate_days: 1_825,
            server_days: 90,
            client_days: 365,
            card_days: 1_825,
            crl_days: 7,
        }
    }
}

/// A certificate this crate issued, with its private key.
pub struct IssuedCertificate {
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    serial: Serial,
    validity: Validity,
}

impl IssuedCertificate {
    /// The certificate (DER).
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    /// The private key (PKCS#8) as PEM. Secret.
    pub fn key_pem(&self) -> String {
        pem_encode("PRIVATE KEY", self.key.secret_pkcs8_der())
    }

    /// The private key as rustls takes it.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// The serial number.
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// The validity period.
    pub fn validity(&self) -> Validity {
        self.validity
    }
}

impl Clone for IssuedCertificate {
    fn clone(&self) -> Self {
        IssuedCertificate {
            der: self.der.clone(),
            key: self.key.clone_key(),
            serial: self.serial.clone(),
            validity: self.validity,
        }
    }
}

impl fmt::Debug for IssuedCertificate {
    /// Shows the serial and validity, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("serial", &self.serial)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

/// What a TLS client presents: its certificate chain (leaf first) and private key.
pub struct ClientCredentials {
    /// Leaf, then intermediates (not the root).
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientCredentials {
    fn clone(&self) -> Self {
        ClientCredentials {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// A revocation reason of this PKI, each mapped to an RFC 5280 §5.3.1 CRLReason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RevocationReason {
    /// The key is or may be compromised (device lost or stolen, BYOD leak): keyCompromise (1).
    KeyCompromise,
    /// The terminal is retired: cessationOfOperation (5).
    TerminalRetired,
    /// The member of staff using the terminal left: affiliationChanged (3).
    StaffLeft,
    /// Replaced by a renewed certificate: superseded (4).
    Superseded,
}

impl RevocationReason {
    /// Every reason.
    pub const ALL: [RevocationReason; 4] = [
        RevocationReason::KeyCompromise,
        RevocationReason::TerminalRetired,
        RevocationReason::StaffLeft,
        RevocationReason::Superseded,
    ];

    /// The stable kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::TerminalRetired => "terminal-retired",
            RevocationReason::StaffLeft => "staff-left",
            RevocationReason::Superseded => "superseded",
        }
    }

    /// The RFC 5280 CRLReason code.
    pub const fn rfc5280_code(self) -> u8 {
        match self {
            RevocationReason::KeyCompromise => 1,
            RevocationReason::StaffLeft => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::TerminalRetired => 5,
        }
    }

    fn to_rcgen(self) -> rcgen::RevocationReason {
        match self {
            RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            RevocationReason::StaffLeft => rcgen::RevocationReason::AffiliationChanged,
            RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
            RevocationReason::TerminalRetired => rcgen::RevocationReason::CessationOfOperation,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RevocationReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RevocationReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown revocation reason {s:?}; expected one of: key-compromise, terminal-retired, staff-left, superseded"
                )
            })
    }
}

/// One entry of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The revoked certificate.
    pub serial: Serial,
    /// When the CA processed the revocation.
    pub revoked_at: Timestamp,
    /// Why.
    pub reason: RevocationReason,
}

/// A signed certificate revocation list.
#[derive(Debug, Clone)]
pub struct Crl {
    der: CertificateRevocationListDer<'static>,
    /// The CRL number (monotonic per issuer).
    pub number: u64,
    /// thisUpdate.
    pub this_update: Timestamp,
    /// nextUpdate: after it the CRL is stale.
    pub next_update: Timestamp,
}

impl Crl {
    /// The CRL (DER).
    pub fn der(&self) -> &CertificateRevocationListDer<'static> {
        &self.der
    }

    /// The CRL as PEM (`X509 CRL`).
    pub fn pem(&self) -> String {
        pem_encode("X509 CRL", &self.der)
    }
}

/// A CA: its certificate and an rcgen issuer holding its key.
struct Authority {
    cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn self_signed(name: &str, alg: KeyAlgorithm, validity: Validity) -> Result<Self, PkiError> {
        let key = alg.generate()?;
        let params = ca_params(name, BasicConstraints::Unconstrained, validity)?;
        let cert = params.self_signed(&key)?.der().clone();
        Ok(Authority {
            cert,
            issuer: Issuer::new(params, key),
        })
    }

    fn subordinate(
        parent: &Authority,
        name: &str,
        alg: KeyAlgorithm,
        validity: Validity,
    ) -> Result<Self, PkiError> {
        let key = alg.generate()?;
        let params = ca_params(name, BasicConstraints::Constrained(0), validity)?;
        let cert = params.signed_by(&key, &parent.issuer)?.der().clone();
        Ok(Authority {
            cert,
            issuer: Issuer::new(params, key),
        })
    }

    fn from_pem(what: &'static str, cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let load = |detail: String| PkiError::Load { what, detail };
        let cert =
            CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| load(e.to_string()))?;
        let key = KeyPair::from_pem(key_pem).map_err(|e| load(e.to_string()))?;
        let issuer = Issuer::from_ca_cert_der(&cert, key).map_err(|e| load(e.to_string()))?;
        Ok(Authority { cert, issuer })
    }

    fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// Signs a leaf with a fresh key and serial.
    fn issue(
        &self,
        mut params: CertificateParams,
        alg: KeyAlgorithm,
        validity: Validity,
    ) -> Result<IssuedCertificate, PkiError> {
        let key = alg.generate()?;
        let serial = Serial::random().map_err(|_| PkiError::Random)?;
        params.serial_number = Some(serial.to_rcgen());
        params.use_authority_key_identifier_extension = true;
        validity.apply(&mut params);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCertificate {
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            serial,
            validity,
        })
    }

    fn crl(
        &self,
        revoked: &[Revocation],
        number: u64,
        this_update: Timestamp,
        next_update: Timestamp,
    ) -> Result<Crl, PkiError> {
        let params = CertificateRevocationListParams {
            this_update: to_offset(this_update),
            next_update: to_offset(next_update),
            crl_number: rcgen::SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: r.serial.to_rcgen(),
                    revocation_time: to_offset(r.revoked_at),
                    reason_code: Some(r.reason.to_rcgen()),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer)?;
        Ok(Crl {
            der: crl.der().clone(),
            number,
            this_update,
            next_update,
        })
    }
}

/// Subject names of the authorities; fixed so a regenerated PKI looks the same by name
/// (and a look-alike PKI is a proper "unknown CA" test: same names, different keys).
pub mod names {
    /// Organisation of the operator's certificates.
    pub const OPERATOR_ORG: &str = "kiban virtual operator";
    /// Common name of the operator root CA.
    pub const OPERATOR_ROOT: &str = "kiban operator root CA";
    /// Common name of the client-issuing intermediate.
    pub const CLIENT_ISSUING: &str = "kiban client-issuing CA";
    /// Organisation of the virtual J-LIS.
    pub const JLIS_ORG: &str = "kiban virtual J-LIS";
    /// Common name of the virtual J-LIS CA.
    pub const JLIS_CA: &str = "kiban virtual JPKI user-authentication CA";
}

fn ca_params(
    common_name: &str,
    constraints: BasicConstraints,
    validity: Validity,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    let org = if common_name == names::JLIS_CA {
        names::JLIS_ORG
    } else {
        names::OPERATOR_ORG
    };
    params.distinguished_name = dn(org, common_name);
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(Serial::random().map_err(|_| PkiError::Random)?.to_rcgen());
    params.use_authority_key_identifier_extension = true;
    validity.apply(&mut params);
    Ok(params)
}

fn dn(org: &str, common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, common_name);
    dn
}

/// The extended key usage a client certificate carries; anything but `ClientAuth` exists
/// to make negative test material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEku {
    /// id-kp-clientAuth (the only correct one).
    ClientAuth,
    /// id-kp-serverAuth only: a client must be refused with it.
    ServerAuthOnly,
}

/// Everything about a client certificate, for issuing deliberately wrong ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSpec {
    /// Subject common name.
    pub common_name: String,
    /// The SAN URIs (a correct certificate has exactly one principal URI).
    pub san_uris: Vec<String>,
    /// Extended key usage.
    pub eku: ClientEku,
    /// Validity period.
    pub validity: Validity,
}

impl ClientSpec {
    /// The correct specification for `principal`.
    pub fn for_principal(principal: &Principal, validity: Validity) -> ClientSpec {
        ClientSpec {
            common_name: principal.file_stem(),
            san_uris: vec![principal.to_uri()],
            eku: ClientEku::ClientAuth,
            validity,
        }
    }
}

/// Options of a new operator PKI.
#[derive(Debug, Clone, Default)]
pub struct PkiOptions {
    /// Key algorithm of every key.
    pub algorithm: KeyAlgorithm,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
}

/// The operator's PKI: root CA and client-issuing intermediate.
pub struct OperatorPki {
    root: Authority,
    client_issuing: Authority,
    algorithm: KeyAlgorithm,
}

impl fmt::Debug for OperatorPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorPki")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl OperatorPki {
    /// A new root and intermediate, valid from `now`.
    pub fn generate(options: &PkiOptions, now: Timestamp) -> Result<OperatorPki, PkiError> {
        let alg = options.algorithm;
        let root = Authority::self_signed(
            names::OPERATOR_ROOT,
            alg,
            Validity::days_from(now, options.lifetimes.root_days),
        )?;
        let client_issuing = Authority::subordinate(
            &root,
            names::CLIENT_ISSUING,
            alg,
            Validity::days_from(now, options.lifetimes.intermediate_days),
        )?;
        Ok(OperatorPki {
            root,
            client_issuing,
            algorithm: alg,
        })
    }

    /// Loads a PKI from its PEM files' contents; new keys use `algorithm`.
    pub fn from_pem(
        root_cert: &str,
        root_key: &str,
        issuing_cert: &str,
        issuing_key: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<OperatorPki, PkiError> {
        Ok(OperatorPki {
            root: Authority::from_pem("the operator root CA", root_cert, root_key)?,
            client_issuing: Authority::from_pem(
                "the client-issuing CA",
                issuing_cert,
                issuing_key,
            )?,
            algorithm,
        })
    }

    /// The key algorithm of new keys.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The root certificate (DER): the trust anchor of servers and clients.
    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root.cert
    }

    /// The root certificate as PEM.
    pub fn root_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.root.cert)
    }

    /// The root's private key as PEM. Secret.
    pub fn root_key_pem(&self) -> String {
        self.root.key_pem()
    }

    /// The client-issuing intermediate (DER).
    pub fn client_issuing_der(&self) -> &CertificateDer<'static> {
        &self.client_issuing.cert
    }

    /// The client-issuing intermediate as PEM.
    pub fn client_issuing_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.client_issuing.cert)
    }

    /// The intermediate's private key as PEM. Secret.
    pub fn client_issuing_key_pem(&self) -> String {
        self.client_issuing.key_pem()
    }

    /// A client certificate for `principal`, signed by the intermediate.
    pub fn issue_client(
        &self,
        principal: &Principal,
        validity: Validity,
    ) -> Result<IssuedCertificate, PkiError> {
        self.issue_client_spec(&ClientSpec::for_principal(principal, validity))
    }

    /// A client certificate exactly as `spec` says, right or wrong.
    pub fn issue_client_spec(&self, spec: &ClientSpec) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(names::OPERATOR_ORG, &spec.common_name);
        params.subject_alt_names = spec
            .san_uris
            .iter()
            .map(|uri| Ok(SanType::URI(uri.as_str().try_into()?)))
            .collect::<Result<_, rcgen::Error>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![match spec.eku {
            ClientEku::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
            ClientEku::ServerAuthOnly => ExtendedKeyUsagePurpose::ServerAuth,
        }];
        self.client_issuing
            .issue(params, self.algorithm, spec.validity)
    }

    /// What a client presents for a certificate issued by the intermediate: leaf and
    /// intermediate.
    pub fn client_credentials(&self, issued: &IssuedCertificate) -> ClientCredentials {
        ClientCredentials {
            chain: vec![issued.der.clone(), self.client_issuing.cert.clone()],
            key: issued.private_key(),
        }
    }

    /// The platform's server certificate for `names` (DNS names or IP addresses), signed by
    /// the root.
    pub fn issue_server(
        &self,
        names: &[String],
        validity: Validity,
    ) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        let first = names.first().map_or("kiban platform", String::as_str);
        params.distinguished_name = dn(names::OPERATOR_ORG, first);
        params.subject_alt_names = names
            .iter()
            .map(|name| server_name(name))
            .collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.root.issue(params, self.algorithm, validity)
    }

    /// The CRL of client certificates, signed by the intermediate.
    pub fn client_crl(
        &self,
        revoked: &[Revocation],
        number: u64,
        now: Timestamp,
        next_update: Timestamp,
    ) -> Result<Crl, PkiError> {
        self.client_issuing.crl(revoked, number, now, next_update)
    }
}

/// The default server names: `localhost`, `127.0.0.1`, `::1`.
pub fn default_server_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

fn server_name(name: &str) -> Result<SanType, PkiError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !valid {
        return Err(PkiError::ServerName(name.chars().take(64).collect()));
    }
    Ok(SanType::DnsName(
        name.try_into()
            .map_err(|_| PkiError::ServerName(name.to_owned()))?,
    ))
}

/// An opaque virtual My Number card serial: 1–32 characters of `A-Z 0-9`. It is the only
/// thing a 利用者証明用 certificate names: no My Number, no name, no address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardSerial(String);

impl CardSerial {
    /// Validates a card serial.
    pub fn parse(text: &str) -> Result<CardSerial, PkiError> {
        let ok = (1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(CardSerial(text.to_owned()))
        } else {
            Err(PkiError::CardSerial)
        }
    }

    /// The serial as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The virtual J-LIS CA, which issues the 利用者証明用 (user-authentication) certificates
/// of virtual My Number cards. It is a trust domain of its own: the operator CA never
/// signs card certificates and the platform's client verifier does not trust this CA.
pub struct JlisCa {
    authority: Authority,
    algorithm: KeyAlgorithm,
}

impl fmt::Debug for JlisCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JlisCa")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl JlisCa {
    /// A new J-LIS CA valid from `now` for `days` days.
    pub fn generate(
        algorithm: KeyAlgorithm,
        now: Timestamp,
        days: u32,
    ) -> Result<JlisCa, PkiError> {
        Ok(JlisCa {
            authority: Authority::self_signed(
                names::JLIS_CA,
                algorithm,
                Validity::days_from(now, days),
            )?,
            algorithm,
        })
    }

    /// Loads the CA from its PEM files' contents.
    pub fn from_pem(cert: &str, key: &str, algorithm: KeyAlgorithm) -> Result<JlisCa, PkiError> {
        Ok(JlisCa {
            authority: Authority::from_pem("the J-LIS CA", cert, key)?,
            algorithm,
        })
    }

    /// The CA certificate (DER).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.authority.cert
    }

    /// The CA certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.authority.cert)
    }

    /// The CA's private key as PEM. Secret.
    pub fn key_pem(&self) -> String {
        self.authority.key_pem()
    }

    /// A user-authentication certificate for the card `serial`: subject
    /// `C=JP, O=kiban virtual J-LIS, CN=<serial>`, no SAN, EKU clientAuth.
    pub fn issue_card(
        &self,
        serial: &CardSerial,
        validity: Validity,
    ) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(names::JLIS_ORG, serial.as_str());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.authority.issue(params, self.algorithm, validity)
    }

    /// The CRL of card certificates (lost or cancelled cards).
    pub fn crl(
        &self,
        revoked: &[Revocation],
        number: u64,
        now: Timestamp,
        next_update: Timestamp,
    ) -> Result<Crl, PkiError> {
        self.authority.crl(revoked, number, now, next_update)
    }
}

/// Base64 PEM with 64-column lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                b64.push(b'=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.chunks(64) {
        // The alphabet is ASCII.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_unix_seconds(1_775_000_000)
    }

    #[test]
    fn pem_round_trips() {
        for len in [0usize, 1, 2, 3, 4, 47, 48, 49, 200] {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let pem = pem_encode("CERTIFICATE", &data);
            let back = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
            assert_eq!(back.as_ref(), &data[..], "len {len}");
        }
    }

    #[test]
    fn reasons_map_to_rfc5280_codes_and_names_round_trip() {
        let codes: Vec<u8> = RevocationReason::ALL
            .iter()
            .map(|r| r.rfc5280_code())
            .collect();
        assert_eq!(codes, [1, 5, 3, 4]);
        for r in RevocationReason::ALL {
            assert_eq!(r.as_str().parse::<RevocationReason>().unwrap(), r);
            assert_eq!(r.to_rcgen() as u8, r.rfc5280_code());
        }
    }

    #[test]
    fn authorities_reload_from_pem_and_keep_issuing() {
        let pki = OperatorPki::generate(&PkiOptions::default(), now()).unwrap();
        let again = OperatorPki::from_pem(
            &pki.root_pem(),
            &pki.root_key_pem(),
            &pki.client_issuing_pem(),
            &pki.client_issuing_key_pem(),
            KeyAlgorithm::EcdsaP256,
        )
        .unwrap();
        assert_eq!(again.root_der(), pki.root_der());
        let p: Principal = "urn:kiban:principal:v1:operator:-:ops".parse().unwrap();
        let issued = again
            .issue_client(&p, Validity::days_from(now(), 30))
            .unwrap();
        assert_eq!(Principal::from_der(issued.der()).unwrap(), p);
    }

    #[test]
    fn p384_pki_issues_certificates_that_parse_back() {
        let options = PkiOptions {
            algorithm: KeyAlgorithm::EcdsaP384,
            ..PkiOptions::default()
        };
        let pki = OperatorPki::generate(&options, now()).unwrap();
        let p: Principal = "urn:kiban:principal:v1:municipality:141003:desk1"
            .parse()
            .unwrap();
        let issued = pki
            .issue_client(&p, Validity::days_from(now(), 30))
            .unwrap();
        assert_eq!(Principal::from_der(issued.der()).unwrap(), p);
        let crl = pki.client_crl(&[], 1, now(), now().plus_days(1)).unwrap();
        assert!(crl.pem().starts_with("-----BEGIN X509 CRL-----"));
    }

    #[test]
    fn server_names_accept_dns_and_ip_and_refuse_junk() {
        assert!(server_name("localhost").is_ok());
        assert!(server_name("platform.kiban.test").is_ok());
        assert!(matches!(server_name("::1"), Ok(SanType::IpAddress(_))));
        assert!(server_name("bad name").is_err());
        assert!(server_name("").is_err());
        assert!(server_name("-x.test").is_err());
    }

    #[test]
    fn card_serials_are_opaque_upper_alphanumerics() {
        assert!(CardSerial::parse("JPKI0001A").is_ok());
        assert!(CardSerial::parse("").is_err());
        assert!(CardSerial::parse("lower").is_err());
        assert!(CardSerial::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn debug_never_shows_keys() {
        let pki = OperatorPki::generate(&PkiOptions::default(), now()).unwrap();
        let p: Principal = "urn:kiban:principal:v1:operator:-:ops".parse().unwrap();
        let issued = pki.issue_client(&p, Validity::days_from(now(), 1)).unwrap();
        let creds = pki.client_credentials(&issued);
        let shown = format!("{issued:?} {creds:?} {pki:?}");
        assert!(!shown.contains("PRIVATE"), "{shown}");
        assert!(!shown.contains(&issued.key_pem()[30..60]));
    }
}
