//! The client every actor uses to call the platform: HTTP/1.1 over TLS 1.3 with the actor's
//! client certificate (`kiban_certs::tls::client_config`), JSON or raw bodies (CSV files with
//! the caller's content type), bearer tokens for staff sessions, and refusals read from the
//! platform's problem+json into a typed [`Refusal`].
//!
//! **What is retried.** [`PlatformClient::send_with_retry`] retries only requests that are safe
//! to send twice: `GET`/`HEAD`, and `POST`/`PUT`/`PATCH`/`DELETE` that carry an
//! `Idempotency-Key` (the platform replays the first response of a key with the same body and
//! refuses a reused key with another body, `idempotency-key-reused`). It retries only when the
//! failure may pass: no connection, a broken connection, a timeout, or a refusal that is
//! retryable (503 such as `jlis-unavailable`, 429, a gateway's 502/504, or a 5xx the problem
//! document marks `retryable`). A 4xx (other than 429) is an answer, never retried. Identity
//! verification (`POST /v1/identity/verify`) has no key and a single-use nonce: after a
//! retryable refusal the actor asks for a new nonce and signs again. Between attempts it waits
//! the policy's back-off, or the refusal's `Retry-After` (delta-seconds) when that is longer;
//! a `Retry-After` beyond the policy's longest wait ends the retries instead of resending
//! early.
//!
//! Connections are kept alive and reused one request at a time; a request that fails on a
//! reused connection before it was sent is sent once more on a fresh one. Time is the tokio
//! timer's (timeouts and back-off), never a simulation clock.

use std::error::Error as _;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, header};
use hyper_util::rt::TokioIo;
use kiban_certs::{ClientCredentials, Clock};
use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Largest response body read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Default time for one exchange (connect, send, read the whole answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The media type of problem documents.
const PROBLEM_JSON: &str = "application/problem+json";

/// A platform refusal: the HTTP status and the problem document's `code` and `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// The stable code (`not-registered`, `jlis-unavailable`, …); `http-<status>` when the
    /// answer was not a problem document.
    pub code: String,
    /// The human-readable detail (at most 500 characters of a non-problem body).
    pub detail: String,
    /// The problem document's `retryable` member (false when absent).
    pub retryable_hint: bool,
    /// The answer's `Retry-After` in delta-seconds (an HTTP-date or a malformed value is
    /// ignored: the back-off applies).
    pub retry_after: Option<Duration>,
}

impl Refusal {
    /// Reads a refusal from an answer's status, content type and body.
    pub fn from_response(status: u16, content_type: Option<&str>, body: &[u8]) -> Refusal {
        let is_problem = content_type
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(PROBLEM_JSON));
        let problem = is_problem
            .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
            .flatten();
        let text = |v: &serde_json::Value, key: &str| v[key].as_str().map(str::to_owned);
        match problem {
            Some(p) if text(&p, "code").is_some() => Refusal {
                status,
                code: text(&p, "code").unwrap_or_default(),
                detail: text(&p, "detail").unwrap_or_default(),
                retryable_hint: p["retryable"].as_bool().unwrap_or(false),
                retry_after: None,
            },
            _ => Refusal {
                status,
                code: format!("http-{status}"),
                detail: String::from_utf8_lossy(body).chars().take(500).collect(),
                retryable_hint: false,
                retry_after: None,
            },
        }
    }

    /// The same refusal with the answer's `Retry-After` header value, if it is a number of
    /// seconds.
    pub fn with_retry_after(mut self, header: Option<&str>) -> Refusal {
        self.retry_after = header
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        self
    }

    /// Whether the same request may succeed later: 503 (e.g. `jlis-unavailable`), 429, a
    /// gateway's 502/504, or a 5xx the platform marked retryable. Never another 4xx.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 502 | 503 | 504) || (self.status >= 500 && self.retryable_hint)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

/// Why a call produced no successful answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No TCP connection (refused, unreachable).
    #[error("cannot connect to the platform: {0}")]
    Connect(String),
    /// The TLS handshake failed or the server refused the client certificate.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The connection broke during the exchange.
    #[error("the connection failed: {0}")]
    Transport(String),
    /// No complete answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The platform answered with an error status.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The request could not be built (bad path, header or body).
    #[error("invalid request: {0}")]
    Request(String),
    /// A successful answer whose body is not what the caller expected.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// Whether the same request may succeed later (see [`Refusal::is_retryable`]); transport
    /// failures and timeouts are, TLS failures and bad requests are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Connect(_) | ClientError::Transport(_) | ClientError::Timeout(_) => true,
            ClientError::Refused(r) => r.is_retryable(),
            ClientError::Tls(_) | ClientError::Request(_) | ClientError::Decode(_) => false,
        }
    }

    /// The refusal, if the platform answered with an error status.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ClientError::Refused(r) => Some(r),
            _ => None,
        }
    }
}

/// A request to the platform.
#[derive(Clone)]
pub struct ApiRequest {
    method: Method,
    path: String,
    body: Option<(String, Bytes)>,
    idempotency_key: Option<String>,
    bearer: Option<String>,
}

impl fmt::Debug for ApiRequest {
    /// Method, path, content type and body length; never the token or the body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "body",
                &self
                    .body
                    .as_ref()
                    .map(|(t, b)| format!("{t}, {} bytes", b.len())),
            )
            .field("idempotency_key", &self.idempotency_key.is_some())
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// A request with `method` for `path` (which starts with `/`, query included).
    pub fn new(method: Method, path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method,
            path: path.into(),
            body: None,
            idempotency_key: None,
            bearer: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::PUT, path)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::DELETE, path)
    }

    /// A JSON body (`application/json`).
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<ApiRequest, ClientError> {
        let bytes = serde_json::to_vec(value).map_err(|e| ClientError::Request(e.to_string()))?;
        Ok(self.bytes("application/json", bytes))
    }

    /// A raw body with the caller's content type (e.g. a care-plan CSV file).
    pub fn bytes(mut self, content_type: &str, body: impl Into<Bytes>) -> ApiRequest {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    /// An `Idempotency-Key` header, which also makes a write safe to retry.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> ApiRequest {
        self.idempotency_key = Some(key.into());
        self
    }

    /// A bearer token for this request only (overrides the client's).
    pub fn bearer(mut self, token: impl Into<String>) -> ApiRequest {
        self.bearer = Some(token.into());
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether sending the request twice has the effect of sending it once: `GET`/`HEAD`,
    /// or a write with an `Idempotency-Key`.
    pub fn is_retry_safe(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD || self.idempotency_key.is_some()
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl ApiResponse {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The body as a JSON value (`Null` for an empty body).
    pub fn value(&self) -> Result<serde_json::Value, ClientError> {
        if self.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        self.json()
    }
}

/// Bounded retries with exponential back-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled before each next one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, waiting 200 ms, 400 ms, 800 ms.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// A call that failed after its retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error} (after {attempts} attempt(s))")]
pub struct RetryError {
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    #[source]
    pub error: ClientError,
}

enum Transport {
    Tls {
        connector: TlsConnector,
        server_name: ServerName<'static>,
    },
    Plain,
}

/// A client of the platform for one actor terminal (one client certificate).
pub struct PlatformClient {
    addr: SocketAddr,
    host: String,
    transport: Transport,
    bearer: Option<String>,
    timeout: Duration,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl fmt::Debug for PlatformClient {
    /// Address and transport; never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformClient")
            .field("addr", &self.addr)
            .field("host", &self.host)
            .field("tls", &matches!(self.transport, Transport::Tls { .. }))
            .field("bearer", &self.bearer.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PlatformClient {
    /// A client of the platform at `addr` whose certificate names `server_name` (e.g.
    /// `localhost`), using a rustls client configuration (normally
    /// `kiban_certs::tls::client_config`).
    pub fn new(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<PlatformClient, ClientError> {
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| ClientError::Request(format!("server name {server_name:?}: {e}")))?;
        let host = match &server_name {
            ServerName::DnsName(name) => format!("{}:{}", name.as_ref(), addr.port()),
            _ => addr.to_string(),
        };
        Ok(PlatformClient {
            addr,
            host,
            transport: Transport::Tls {
                connector: TlsConnector::from(config),
                server_name,
            },
            bearer: None,
            timeout: DEFAULT_TIMEOUT,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// A client presenting `credentials` and trusting the operator `root`, checking
    /// certificates at `clock`'s time (TLS 1.3 only; see `kiban_certs::tls::client_config`).
    pub fn with_credentials(
        addr: SocketAddr,
        server_name: &str,
        root: &CertificateDer<'static>,
        credentials: ClientCredentials,
        clock: Arc<dyn Clock>,
    ) -> Result<PlatformClient, ClientError> {
        let config = kiban_certs::tls::client_config(root, credentials, clock)
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        PlatformClient::new(addr, server_name, config)
    }

    /// A client speaking plain HTTP, for mock peers in tests (the platform itself accepts
    /// only TLS with a client certificate).
    pub fn plain(addr: SocketAddr) -> PlatformClient {
        PlatformClient {
            addr,
            host: addr.to_string(),
            transport: Transport::Plain,
            bearer: None,
            timeout: DEFAULT_TIMEOUT,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The same client with `timeout` for each exchange.
    pub fn with_timeout(mut self, timeout: Duration) -> PlatformClient {
        self.timeout = timeout;
        self
    }

    /// Sets (or clears) the bearer token sent with every request (a staff session).
    pub fn set_bearer(&mut self, token: Option<String>) {
        self.bearer = token;
    }

    /// Whether a bearer token is set.
    pub fn has_bearer(&self) -> bool {
        self.bearer.is_some()
    }

    /// The platform's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `request` once. A 2xx answer is `Ok`; any other status is
    /// [`ClientError::Refused`].
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ClientError> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(self.timeout)),
        }
    }

    /// Sends `request`, retrying as the module docs say, at most `policy.max_attempts`
    /// times in all.
    pub async fn send_with_retry(
        &self,
        request: &ApiRequest,
        policy: &RetryPolicy,
    ) -> Result<ApiResponse, RetryError> {
        let allowed = if request.is_retry_safe() {
            policy.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send(request).await {
                Ok(response) => return Ok(response),
                Err(error) if attempt < allowed && error.is_retryable() => {
                    let told = error.refusal().and_then(|r| r.retry_after);
                    if told.is_some_and(|t| t > policy.max_backoff) {
                        // Resending before the platform's Retry-After would be early.
                        return Err(RetryError {
                            attempts: attempt,
                            error,
                        });
                    }
                    let wait = policy.backoff(attempt).max(told.unwrap_or_default());
                    tokio::time::sleep(wait).await;
                }
                Err(error) => {
                    return Err(RetryError {
                        attempts: attempt,
                        error,
                    });
                }
            }
        }
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(&ApiRequest::get(path)).await?.json()
    }

    async fn exchange(&self, request: &ApiRequest) -> Result<ApiResponse, ClientError> {
        let (mut sender, reused) = self.connection().await?;
        let answer = match sender.send_request(self.build(request)?).await {
            Err(e) if reused && e.is_canceled() => {
                // The kept-alive connection closed before the request went out.
                sender = self.open().await?;
                sender.send_request(self.build(request)?).await
            }
            other => other,
        };
        let response = answer.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .to_bytes();
        if !sender.is_closed() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(sender);
        }
        if (200..300).contains(&status) {
            Ok(ApiResponse {
                status,
                content_type,
                body,
            })
        } else {
            Err(ClientError::Refused(
                Refusal::from_response(status, content_type.as_deref(), &body)
                    .with_retry_after(retry_after.as_deref()),
            ))
        }
    }

    fn build(&self, request: &ApiRequest) -> Result<Request<Full<Bytes>>, ClientError> {
        if !request.path.starts_with('/') {
            return Err(ClientError::Request(format!(
                "the path must start with '/': {:?}",
                request.path
            )));
        }
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(request.path.as_str())
            .header(header::HOST, self.host.as_str())
            .header(header::ACCEPT, "application/json, application/problem+json");
        if let Some(token) = request.bearer.as_ref().or(self.bearer.as_ref()) {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(key) = &request.idempotency_key {
            builder = builder.header("idempotency-key", key.as_str());
        }
        let body = match &request.body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type.as_str());
                bytes.clone()
            }
            None => Bytes::new(),
        };
        builder
            .body(Full::new(body))
            .map_err(|e| ClientError::Request(e.to_string()))
    }

    /// A kept-alive connection ready for a request, or a new one; `true` if reused.
    async fn connection(&self) -> Result<(SendRequest<Full<Bytes>>, bool), ClientError> {
        loop {
            let next = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(mut sender) = next else {
                break;
            };
            if !sender.is_closed() && sender.ready().await.is_ok() {
                return Ok((sender, true));
            }
        }
        Ok((self.open().await?, false))
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        // Small requests and answers: do not wait for Nagle.
        let _ = tcp.set_nodelay(true);
        match &self.transport {
            Transport::Tls {
                connector,
                server_name,
            } => {
                let tls = connector
                    .connect(server_name.clone(), tcp)
                    .await
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
                handshake(TokioIo::new(tls)).await
            }
            Transport::Plain => handshake(TokioIo::new(tcp)).await,
        }
    }
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, ClientError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| transport_error(&e))?;
    tokio::spawn(async move {
        // The connection ends when the server closes it or the sender is dropped.
        let _ = connection.await;
    });
    Ok(sender)
}

/// A hyper error as a client error: a TLS alert from the server (e.g. a refused client
/// certificate, which TLS 1.3 reports after the handshake) is [`ClientError::Tls`], anything
/// else [`ClientError::Transport`].
fn transport_error(e: &hyper::Error) -> ClientError {
    let mut source = e.source();
    while let Some(err) = source {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = err.downcast_ref::<rustls::Error>().or(inner) {
            return ClientError::Tls(tls.to_string());
        }
        source = err.source();
    }
    ClientError::Transport(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_documents_become_typed_refusals() {
        let body = br#"{"type":"urn:kiban:problem:jlis-unavailable","title":"Service Unavailable","status":503,"detail":"J-LIS could not confirm","code":"jlis-unavailable","retryable":true}"#;
        let r = Refusal::from_response(503, Some("application/problem+json"), body);
        assert_eq!(
            (r.status, r.code.as_str(), r.detail.as_str()),
            (503, "jlis-unavailable", "J-LIS could not confirm")
        );
        assert!(r.is_retryable());
        let r = Refusal::from_response(
            403,
            Some("application/problem+json; charset=utf-8"),
            br#"{"code":"not-registered","detail":"x","retryable":false}"#,
        );
        assert_eq!(r.code, "not-registered");
        assert!(!r.is_retryable());
    }

    #[test]
    fn other_error_bodies_keep_the_status() {
        let r = Refusal::from_response(502, Some("text/html"), b"<html>bad gateway</html>");
        assert_eq!(r.code, "http-502");
        assert!(r.is_retryable(), "a gateway error may pass");
        let r = Refusal::from_response(500, Some("application/problem+json"), b"not json");
        assert_eq!(r.code, "http-500");
        assert!(!r.is_retryable(), "an internal error is not retried");
        let r = Refusal::from_response(503, None, b"").with_retry_after(Some(" 2 "));
        assert_eq!(r.retry_after, Some(Duration::from_secs(2)));
        let r = Refusal::from_response(503, None, b"")
            .with_retry_after(Some("Wed, 21 Oct 2026 07:28:00 GMT"));
        assert_eq!(
            r.retry_after, None,
            "an HTTP-date falls back to the back-off"
        );
        let r = Refusal::from_response(400, None, &[0xff; 600]);
        assert_eq!(r.detail.chars().count(), 500);
        assert!(!r.is_retryable());
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        let refusal = |status, hint| {
            ClientError::Refused(Refusal {
                status,
                code: "x".into(),
                detail: String::new(),
                retryable_hint: hint,
                retry_after: None,
            })
        };
        assert!(refusal(503, false).is_retryable());
        assert!(refusal(429, false).is_retryable());
        assert!(refusal(500, true).is_retryable());
        assert!(
            !refusal(409, true).is_retryable(),
            "4xx never, whatever the hint"
        );
        assert!(!refusal(404, false).is_retryable());
        assert!(ClientError::Connect("refused".into()).is_retryable());
        assert!(ClientError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(!ClientError::Tls("bad certificate".into()).is_retryable());
        assert!(!ClientError::Request("bad path".into()).is_retryable());
    }

    #[test]
    fn only_reads_and_keyed_writes_are_safe_to_retry() {
        assert!(ApiRequest::get("/v1/x").is_retry_safe());
        assert!(!ApiRequest::post("/v1/x").is_retry_safe());
        assert!(
            ApiRequest::post("/v1/x")
                .idempotency_key("k")
                .is_retry_safe()
        );
        assert!(!ApiRequest::put("/v1/x").is_retry_safe());
        assert!(
            ApiRequest::put("/v1/x")
                .idempotency_key("k")
                .is_retry_safe()
        );
        assert!(!ApiRequest::delete("/v1/x").is_retry_safe());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
    }

    #[test]
    fn debug_never_shows_the_token_or_body() {
        let request = ApiRequest::post("/v1/session")
            .bearer("secret-token")
            .bytes("text/csv", b"name,secret".to_vec());
        let shown = format!("{request:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("11 bytes"));
    }
}
