//! Identity verification with a virtual My Number card (本人確認), which registers the
//! verifying office as the person's responsible office (担当事業所登録).
//!
//! The flow: the office terminal asks the platform for a nonce; the card reader has the card
//! sign it with the card's user-authentication key (after the PIN, a face match or the
//! staff's visual check); the platform checks the card certificate against the virtual J-LIS
//! CA and the signature over its own nonce, then asks J-LIS whether the certificate is valid
//! *now* and which card link it belongs to. Only a positive, well-formed answer registers;
//! J-LIS down, slow or wrong fails closed with a retryable `jlis-unavailable`.
//!
//! The platform never sees a My Number: the certificate names an opaque card serial, and
//! J-LIS answers with the opaque card link the municipality gave at ingestion.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::BodyExt;
use kiban_certs::Serial;
use kiban_core::time::Timestamp;
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ApiError;

/// How long a nonce may be used.
pub const NONCE_SECONDS: i64 = 300;

/// How long the platform waits for J-LIS.
pub const JLIS_TIMEOUT: Duration = Duration::from_secs(3);

/// `POST /v1/identity/verify`: the card reader's signed assertion.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardAssertion {
    /// The nonce from `POST /v1/identity/nonce` (base64).
    pub nonce: String,
    /// The card's user-authentication certificate (base64 DER).
    pub card_certificate: String,
    /// The card's signature over the nonce bytes (base64, ECDSA ASN.1 DER).
    pub signature: String,
    /// How the reader confirmed the holder.
    pub method: VerificationMethod,
}

/// How the card reader confirmed that the holder is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerificationMethod {
    /// The 4-digit PIN of the user-authentication certificate.
    Pin,
    /// Face recognition by the reader.
    Face,
    /// Staff compared the face with the card photo (目視).
    Visual,
}

/// A nonce issued to an office terminal.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Nonce {
    /// 32 random bytes, base64.
    pub nonce: String,
    /// When it stops being accepted (RFC 3339, JST).
    pub expires_at: String,
}

/// What a checked assertion proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCard {
    /// The card certificate's serial, to ask J-LIS about.
    pub certificate_serial: Serial,
    /// The card serial the certificate names.
    pub card_serial: String,
}

/// J-LIS's answer about a card certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JlisStatus {
    /// `valid`, `revoked`, `suspended` (lost, on hold) or `expired`.
    pub status: String,
    /// The holder's opaque card link (present when valid).
    #[serde(default)]
    pub link: Option<String>,
}

impl JlisStatus {
    /// The card link when J-LIS says the certificate is valid now; otherwise the refusal
    /// naming why (`card-revoked`, `card-suspended`, `card-expired`), or `jlis-unavailable`
    /// when J-LIS said valid but named no link.
    pub fn valid_link(&self) -> Result<&str, ApiError> {
        match (self.status.as_str(), &self.link) {
            ("valid", Some(link)) => Ok(link),
            ("valid", None) => Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "jlis-unavailable",
                "J-LIS confirmed the card but named no link",
            )),
            ("revoked", _) => Err(ApiError::forbidden(
                "card-revoked",
                "J-LIS reports the card certificate revoked",
            )),
            ("suspended", _) => Err(ApiError::forbidden(
                "card-suspended",
                "J-LIS reports the card suspended (reported lost)",
            )),
            _ => Err(ApiError::forbidden(
                "card-expired",
                "J-LIS reports the card certificate expired",
            )),
        }
    }
}

/// Checks a card certificate against the J-LIS CA at `now` and the signature over `nonce`.
pub fn check_assertion(
    jlis_ca: &[u8],
    assertion: &CardAssertion,
    nonce: &[u8],
    now: Timestamp,
) -> Result<VerifiedCard, ApiError> {
    let bad = |detail: &str| ApiError::bad_request("invalid-assertion", detail.to_owned());
    let refused = |code: &'static str, detail: &str| ApiError::forbidden(code, detail.to_owned());
    let cert_der = B64
        .decode(&assertion.card_certificate)
        .map_err(|_| bad("card_certificate is not base64"))?;
    let signature = B64
        .decode(&assertion.signature)
        .map_err(|_| bad("signature is not base64"))?;
    let (_, ca) = X509Certificate::from_der(jlis_ca)
        .map_err(|_| ApiError::internal(&"the J-LIS CA certificate does not parse"))?;
    let (rest, cert) = X509Certificate::from_der(&cert_der)
        .map_err(|_| bad("card_certificate is not an X.509 certificate"))?;
    if !rest.is_empty() {
        return Err(bad("card_certificate has trailing bytes"));
    }
    if cert.issuer() != ca.subject() || cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err(refused(
            "card-not-trusted",
            "the card certificate was not issued by J-LIS",
        ));
    }
    let validity = cert.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now.unix_seconds() < from || now.unix_seconds() > until {
        return Err(refused(
            "card-expired",
            "the card certificate is outside its validity",
        ));
    }
    let spki = cert.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match curve {
        Some(oid) if oid == x509_parser::oid_registry::OID_EC_P256 => &ECDSA_P256_SHA256_ASN1,
        Some(oid) if oid == x509_parser::oid_registry::OID_NIST_EC_P384 => &ECDSA_P384_SHA384_ASN1,
        _ => {
            return Err(refused(
                "card-not-trusted",
                "the card key is not ECDSA P-256 or P-384",
            ));
        }
    };
    UnparsedPublicKey::new(algorithm, &spki.subject_public_key.data)
        .verify(nonce, &signature)
        .map_err(|_| {
            refused(
                "assertion-signature-invalid",
                "the signature does not verify over the platform's nonce with the card key",
            )
        })?;
    let card_serial = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .ok_or_else(|| {
            refused(
                "card-not-trusted",
                "the card certificate names no card serial",
            )
        })?
        .to_owned();
    let certificate_serial = Serial::from_be_bytes(cert.raw_serial()).map_err(|_| {
        refused(
            "card-not-trusted",
            "the card certificate has no usable serial",
        )
    })?;
    Ok(VerifiedCard {
        certificate_serial,
        card_serial,
    })
}

/// The J-LIS mock's HTTP interface: `GET {base}/v1/certificates/{serial}` answers a
/// [`JlisStatus`] as JSON.
#[derive(Debug, Clone)]
pub struct JlisClient {
    base: String,
}

/// Why J-LIS gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JlisError {
    /// The base URL is not `http://host:port`.
    #[error("J-LIS URL must be http://host:port, found {0:?}")]
    BadUrl(String),
    /// Could not connect, or the connection failed.
    #[error("J-LIS unreachable: {0}")]
    Unreachable(String),
    /// No answer within the timeout.
    #[error("J-LIS did not answer within {0:?}")]
    Timeout(Duration),
    /// An answer that is not a 200 with the expected JSON.
    #[error("J-LIS answered something unusable: {0}")]
    Malformed(String),
}

impl JlisClient {
    /// A client for the J-LIS service at `base` (e.g. `http://127.0.0.1:8600`).
    pub fn new(base: &str) -> Result<JlisClient, JlisError> {
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| JlisError::BadUrl(base.to_owned()))?;
        if rest.is_empty() || rest.contains('/') && !rest.ends_with('/') {
            return Err(JlisError::BadUrl(base.to_owned()));
        }
        Ok(JlisClient {
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Asks whether the card certificate `serial` is valid now, within [`JLIS_TIMEOUT`].
    pub async fn status(&self, serial: &Serial) -> Result<JlisStatus, JlisError> {
        match tokio::time::timeout(JLIS_TIMEOUT, self.fetch(serial)).await {
            Ok(answer) => answer,
            Err(_) => Err(JlisError::Timeout(JLIS_TIMEOUT)),
        }
    }

    async fn fetch(&self, serial: &Serial) -> Result<JlisStatus, JlisError> {
        let authority = self.base.trim_start_matches("http://").to_owned();
        let tcp = tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(|e| JlisError::Unreachable(e.to_string()))?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .map_err(|e| JlisError::Unreachable(e.to_string()))?;
        tokio::spawn(conn);
        let request = hyper::Request::builder()
            .uri(format!("/v1/certificates/{serial}"))
            .header(hyper::header::HOST, authority)
            .body(axum::body::Body::empty())
            .map_err(|e| JlisError::Malformed(e.to_string()))?;
        let response = send
            .send_request(request)
            .await
            .map_err(|e| JlisError::Unreachable(e.to_string()))?;
        if response.status() != hyper::StatusCode::OK {
            return Err(JlisError::Malformed(format!(
                "status {}",
                response.status()
            )));
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| JlisError::Unreachable(e.to_string()))?
            .to_bytes();
        if body.len() > 4096 {
            return Err(JlisError::Malformed("answer too large".into()));
        }
        let status: JlisStatus =
            serde_json::from_slice(&body).map_err(|e| JlisError::Malformed(e.to_string()))?;
        if !matches!(
            status.status.as_str(),
            "valid" | "revoked" | "suspended" | "expired"
        ) {
            return Err(JlisError::Malformed(format!(
                "unknown status {:?}",
                status.status
            )));
        }
        Ok(status)
    }
}
