//! The runner's HTTP/1.1-over-TLS client. Unlike the actors' client it keeps every exchange
//! verbatim (request line, the headers that matter, bodies and the whole answer, problem
//! documents included), so a failing case can show the exchange that proved it, and it
//! connects with any rustls configuration (TLS 1.2 only, no certificate, a rogue CA) for the
//! TLS cases. Connections are kept alive and reused one request at a time.

use std::error::Error as _;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, header};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ProtocolVersion};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Largest answer read.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How much of a body an exchange's text shows.
const SHOWN_BODY_CHARS: usize = 1200;

/// A request the runner sends.
#[derive(Clone)]
pub struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Option<(String, Bytes)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl fmt::Debug for Req {
    /// Method and path; never the headers (tokens) or the body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Req")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Req {
    /// A request for `path` (starting with `/`).
    pub fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// `GET`.
    pub fn get(path: impl Into<String>) -> Req {
        Req::new(Method::GET, path)
    }

    /// `POST`.
    pub fn post(path: impl Into<String>) -> Req {
        Req::new(Method::POST, path)
    }

    /// `PUT`.
    pub fn put(path: impl Into<String>) -> Req {
        Req::new(Method::PUT, path)
    }

    /// `DELETE`.
    pub fn delete(path: impl Into<String>) -> Req {
        Req::new(Method::DELETE, path)
    }

    /// A JSON body.
    pub fn json(self, value: &serde_json::Value) -> Req {
        self.raw("application/json", value.to_string().into_bytes())
    }

    /// A raw body with a content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<Bytes>) -> Req {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    /// A header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Req {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Req {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// `Idempotency-Key: <key>`.
    pub fn key(self, key: &str) -> Req {
        self.header("idempotency-key", key)
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The body.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The server said `Connection: close`.
    #[serde(skip)]
    pub connection_close: bool,
}

impl Resp {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the answer is a problem+json document.
    pub fn is_problem(&self) -> bool {
        self.content_type
            .as_deref()
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/problem+json"))
    }

    /// The problem document's `code`, if it is one.
    pub fn code(&self) -> Option<String> {
        if !self.is_problem() {
            return None;
        }
        self.json()["code"].as_str().map(str::to_owned)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoAnswer {
    /// connect, tls, closed (the connection ended before the request was sent),
    /// transport or timeout.
    pub kind: &'static str,
    /// What happened.
    pub message: String,
}

impl fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failure: {}", self.kind, self.message)
    }
}

/// One request and what came back, as shown in failure messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Who sent it (the slot or a named ad-hoc client).
    pub client: String,
    /// `METHOD path`.
    pub request_line: String,
    /// Request headers that matter (the bearer token is redacted).
    pub request_headers: Vec<(String, String)>,
    /// The request body (text, possibly truncated).
    pub request_body: Option<String>,
    /// The answer or why there was none.
    pub outcome: Result<Resp, NoAnswer>,
}

impl Exchange {
    /// The answer, if any.
    pub fn resp(&self) -> Option<&Resp> {
        self.outcome.as_ref().ok()
    }

    /// The status (0 when no answer came).
    pub fn status(&self) -> u16 {
        self.resp().map_or(0, |r| r.status)
    }

    /// The problem code, if the answer is a problem document.
    pub fn code(&self) -> Option<String> {
        self.resp().and_then(Resp::code)
    }

    /// The body as JSON (`Null` without a JSON answer).
    pub fn json(&self) -> serde_json::Value {
        self.resp().map_or(serde_json::Value::Null, Resp::json)
    }

    /// A short form: `403 consent-missing`, `200`, or the transport failure.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Ok(r) => match r.code() {
                Some(code) => format!("{} {code}", r.status),
                None => r.status.to_string(),
            },
            Err(e) => e.to_string(),
        }
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "> {} (as {})", self.request_line, self.client)?;
        for (name, value) in &self.request_headers {
            writeln!(f, "> {name}: {value}")?;
        }
        if let Some(body) = &self.request_body {
            writeln!(f, "> {body}")?;
        }
        match &self.outcome {
            Ok(r) => {
                writeln!(
                    f,
                    "< {} {}",
                    r.status,
                    r.content_type.as_deref().unwrap_or("(no content type)")
                )?;
                if !r.body.is_empty() {
                    write!(f, "< {}", shorten(&r.text()))?;
                }
                Ok(())
            }
            Err(e) => write!(f, "< no answer: {e}"),
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= SHOWN_BODY_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(SHOWN_BODY_CHARS).collect();
    out.push_str(" …(truncated)");
    out
}

fn record(client: &str, req: &Req, outcome: Result<Resp, NoAnswer>) -> Exchange {
    let request_headers = req
        .headers
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case("authorization") {
                (n.clone(), "Bearer <redacted>".to_owned())
            } else {
                (n.clone(), v.clone())
            }
        })
        .chain(
            req.body
                .as_ref()
                .map(|(t, _)| ("content-type".to_owned(), t.clone())),
        )
        .collect();
    let request_body = req.body.as_ref().map(|(t, b)| {
        if t.starts_with("application/json") || std::str::from_utf8(b).is_ok() {
            shorten(&String::from_utf8_lossy(b))
        } else {
            format!("({} bytes of {t})", b.len())
        }
    });
    Exchange {
        client: client.to_owned(),
        request_line: format!("{} {}", req.method, req.path),
        request_headers,
        request_body,
        outcome,
    }
}

/// One TLS connection carrying HTTP/1.1 requests one at a time.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: String,
    /// The negotiated TLS version.
    pub version: Option<ProtocolVersion>,
    /// Whether the handshake resumed an earlier session.
    pub resumed: bool,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("version", &self.version)
            .field("resumed", &self.resumed)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Opens a connection to `addr` with `config`, expecting the server to be `server_name`.
    pub async fn open(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<Conn, NoAnswer> {
        match tokio::time::timeout(timeout, Conn::open_inner(addr, server_name, config)).await {
            Ok(result) => result,
            Err(_) => Err(NoAnswer {
                kind: "timeout",
                message: format!("no TLS connection within {timeout:?}"),
            }),
        }
    }

    async fn open_inner(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<Conn, NoAnswer> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|e| NoAnswer {
            kind: "tls",
            message: format!("server name {server_name:?}: {e}"),
        })?;
        let tcp = TcpStream::connect(addr).await.map_err(|e| NoAnswer {
            kind: "connect",
            message: e.to_string(),
        })?;
        let _ = tcp.set_nodelay(true);
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| NoAnswer {
                kind: "tls",
                message: e.to_string(),
            })?;
        let (version, resumed) = {
            let session = tls.get_ref().1;
            (
                session.protocol_version(),
                session.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            )
        };
        let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| no_answer(&e))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or the sender is dropped.
            let _ = connection.await;
        });
        Ok(Conn {
            send,
            host: server_name.to_owned(),
            version,
            resumed,
        })
    }

    /// Sends `req` and reads the whole answer.
    pub async fn send(&mut self, req: &Req) -> Result<Resp, NoAnswer> {
        let mut builder = hyper::Request::builder()
            .method(req.method.clone())
            .uri(req.path.as_str())
            .header(header::HOST, self.host.as_str())
            .header(header::ACCEPT, "application/json, application/problem+json");
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match &req.body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type.as_str());
                bytes.clone()
            }
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(body)).map_err(|e| NoAnswer {
            kind: "request",
            message: e.to_string(),
        })?;
        self.send.ready().await.map_err(|e| no_answer(&e))?;
        let response = self
            .send
            .send_request(request)
            .await
            .map_err(|e| no_answer(&e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let connection_close = response
            .headers()
            .get(header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| NoAnswer {
                kind: "transport",
                message: e.to_string(),
            })?
            .to_bytes()
            .to_vec();
        Ok(Resp {
            status,
            content_type,
            body,
            connection_close,
        })
    }

    /// Sends `req` and records the exchange under `client`.
    pub async fn exchange(&mut self, client: &str, req: &Req) -> Exchange {
        let outcome = self.send(req).await;
        record(client, req, outcome)
    }

    fn is_usable(&self) -> bool {
        !self.send.is_closed()
    }
}

/// A hyper error as a missing answer: a TLS alert (e.g. a refused client certificate, which
/// TLS 1.3 reports after the handshake) is `tls`, anything else `transport`.
fn no_answer(e: &hyper::Error) -> NoAnswer {
    if e.is_canceled() {
        return NoAnswer {
            kind: "closed",
            message: e.to_string(),
        };
    }
    let mut source = e.source();
    while let Some(err) = source {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = err.downcast_ref::<rustls::Error>().or(inner) {
            return NoAnswer {
                kind: "tls",
                message: tls.to_string(),
            };
        }
        source = err.source();
    }
    NoAnswer {
        kind: "transport",
        message: e.to_string(),
    }
}

/// A client with one TLS configuration (one certificate), pooling kept-alive connections.
pub struct Client {
    name: String,
    addr: SocketAddr,
    server_name: String,
    config: Arc<ClientConfig>,
    timeout: Duration,
    idle: Mutex<Vec<Conn>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client named `name` (shown in exchanges).
    pub fn new(
        name: impl Into<String>,
        addr: SocketAddr,
        server_name: &str,
        config: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Client {
        Client {
            name: name.into(),
            addr,
            server_name: server_name.to_owned(),
            config,
            timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The client's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection with this client's configuration (not pooled).
    pub async fn connect(&self) -> Result<Conn, NoAnswer> {
        Conn::open(
            self.addr,
            &self.server_name,
            self.config.clone(),
            self.timeout,
        )
        .await
    }

    /// Sends `req` on a kept-alive connection (or a new one) and records the exchange.
    pub async fn send(&self, req: &Req) -> Exchange {
        let outcome = match tokio::time::timeout(self.timeout, self.send_pooled(req)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(NoAnswer {
                kind: "timeout",
                message: format!("no answer within {:?}", self.timeout),
            }),
        };
        record(&self.name, req, outcome)
    }

    async fn send_pooled(&self, req: &Req) -> Result<Resp, NoAnswer> {
        let pooled = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.retain(Conn::is_usable);
            idle.pop()
        };
        let (mut conn, reused) = match pooled {
            Some(conn) => (conn, true),
            None => (self.connect().await?, false),
        };
        let outcome = match conn.send(req).await {
            // A kept-alive connection closed by the server before the request went out.
            Err(e) if reused && e.kind == "closed" => {
                conn = self.connect().await?;
                conn.send(req).await
            }
            other => other,
        };
        // A refused request with a body may have been answered before the body was read
        // (413, 415): the server then drops the connection, so it is not reused.
        let reusable = match &outcome {
            Ok(r) => !(r.connection_close || (r.status >= 400 && req.body.is_some())),
            Err(_) => false,
        };
        if reusable && conn.is_usable() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
        outcome
    }
}
