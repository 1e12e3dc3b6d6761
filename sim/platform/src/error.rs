//! The one error type of the HTTP layer: every failure becomes an RFC 9457 problem+json body
//! with a stable `code` (the same codes as `kiban_core::decide::DenyReason` for refusals).
//! Clients never see a panic or an internal message; storage failures are logged and
//! answered with a generic 500 or, when retrying can help, a 503.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiban_core::decide::DenyReason;
use serde::Serialize;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An API failure: status, stable code and a precise, personal-data-free detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code, kebab-case.
    pub code: &'static str,
    /// What went wrong, for a human; never contains personal data.
    pub detail: String,
    /// Extension members (RFC 9457 §3.2) added to the problem body, e.g. `findings`.
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

/// The stable code of a problem answer, attached to the response's extensions so
/// middleware (metrics) can count refusals without parsing bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemCode(pub &'static str);

/// The problem+json body (RFC 9457) plus kiban's `code` member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:kiban:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The stable code (e.g. `consent-missing`).
    pub code: String,
    /// Whether the same request may succeed later (e.g. a peer was down).
    pub retryable: bool,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            extensions: None,
        }
    }

    /// Adds an extension member to the problem body (the standard members cannot be
    /// replaced: an extension named like one is ignored).
    pub fn with_extension(mut self, member: &str, value: serde_json::Value) -> ApiError {
        self.extensions
            .get_or_insert_with(Default::default)
            .insert(member.to_owned(), value);
        self
    }

    /// A refusal by the decision function.
    pub fn denied(reason: DenyReason) -> ApiError {
        let status = match reason {
            DenyReason::UnknownSubject => StatusCode::NOT_FOUND,
            DenyReason::UnknownPrincipal => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, reason.code(), deny_detail(reason))
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 403 for an action the caller's role may not take.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, detail)
    }

    /// 404.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 409.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    /// 401 for a missing or bad staff session.
    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 500: a failure on the platform's side. The cause is logged, not returned.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the platform failed to complete the request",
        )
    }

    /// Whether retrying the same request may succeed.
    pub fn retryable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
    }

    fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:kiban:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            retryable: self.retryable(),
        }
    }
}

fn deny_detail(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::UnknownPrincipal => "the caller is not known to the platform",
        DenyReason::CredentialMismatch => "the client certificate does not belong to the caller",
        DenyReason::CertificateRevoked => "the client certificate has been revoked",
        DenyReason::CertificateNotYetValid => "the client certificate is not valid yet",
        DenyReason::CertificateExpired => "the client certificate has expired",
        DenyReason::RoleForbidden => "the caller's role may not read this class of information",
        DenyReason::UnknownSubject => "no such insured person on the platform",
        DenyReason::InsurerNotLive => "the person's insurer does not share on the platform yet",
        DenyReason::OfficeMunicipalityNotLive => {
            "the caller's own municipality does not share on the platform yet"
        }
        DenyReason::NotOwnRecord => "a person may read only their own record",
        DenyReason::NotRepresentative => "the caller does not currently represent this person",
        DenyReason::NotInsurer => "the person is insured with another municipality",
        DenyReason::NotRegistered => "the office is not registered as responsible for this person",
        DenyReason::RegistrationEnded => "the office's registration for this person has ended",
        DenyReason::RegistrationLapsed => "the office's registration for this person has lapsed",
        DenyReason::ConsentMissing => {
            "this information is shared only with the person's consent, which has not been given"
        }
        DenyReason::ConsentWithdrawn => {
            "the person has withdrawn consent to share this information"
        }
        DenyReason::ConsentExpired => "the person's consent to share this information has expired",
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match &self.extensions {
            None => (self.status, Json(self.problem())).into_response(),
            Some(extensions) => {
                let mut body = serde_json::to_value(self.problem())
                    .ok()
                    .and_then(|v| match v {
                        serde_json::Value::Object(map) => Some(map),
                        _ => None,
                    })
                    .unwrap_or_default();
                for (member, value) in extensions.iter() {
                    if !body.contains_key(member) {
                        body.insert(member.clone(), value.clone());
                    }
                }
                (self.status, Json(body)).into_response()
            }
        };
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.extensions_mut().insert(ProblemCode(self.code));
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::bad_request(
                "invalid-body",
                format!(
                    "the JSON body does not match the schema: {}",
                    source_text(&e)
                ),
            ),
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                "malformed-json",
                format!("the body is not valid JSON: {}", source_text(&e)),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    e.body_text(),
                )
            }
            other => ApiError::new(other.status(), "bad-body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::bad_request("invalid-path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad_request("invalid-query", rejection.body_text())
    }
}

/// The innermost message of an extractor error (serde's, with its line and column).
fn source_text(error: &dyn std::error::Error) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
