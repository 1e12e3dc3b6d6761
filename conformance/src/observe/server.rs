//! The observed platform on its socket: the same TLS 1.3 + client-certificate acceptor and
//! per-connection HTTP/1.1 server as `kiban_platform::server::serve` (the connection's
//! `ClientIdentity`, or why its certificate names no principal, is attached to every request
//! exactly as there), with the recording layer around the platform's router: every handshake
//! is recorded (refused ones with the reason), and every request is read, recorded with its
//! answer, and, when the script says so, answered by observe mode in the platform's place.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use kiban_certs::ClientIdentity;
use kiban_platform::api::MAX_BODY_BYTES;
use kiban_platform::error::{ApiError, ProblemCode};
use kiban_platform::server::PrincipalProblem;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::record::{Handshake, Observed, Party, Peer, Recorder, Refusal, redact, redact_text};
use super::routes;

/// What every request of one connection shares.
struct Connection {
    number: u64,
    tls: String,
    identity: Option<Result<ClientIdentity, PrincipalProblem>>,
    peer: Option<Peer>,
    party: Party,
}

/// Serves `app` on `listener` with TLS from `config`, recording through `recorder`, until
/// `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    recorder: Arc<Recorder>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    let (refused, detail) = classify(&e);
                    recorder.handshake(Handshake {
                        number: 0,
                        at: recorder.now().to_string(),
                        elapsed: recorder.elapsed(),
                        party: Party::Vendor,
                        tls: None,
                        peer: None,
                        principal_problem: None,
                        refused: Some(refused),
                        detail: Some(detail),
                    });
                    return;
                }
            };
            let connection = connection(tls.get_ref().1, &recorder);
            let connection = Arc::new(connection);
            let service = tower::service_fn(move |request: Request<Incoming>| {
                handle(request, connection.clone(), app.clone(), recorder.clone())
            });
            let _ = Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
                .await;
        });
    }
}

/// Reads the accepted connection's version and principal and records the handshake.
fn connection(tls: &rustls::ServerConnection, recorder: &Recorder) -> Connection {
    let version = tls
        .protocol_version()
        .map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"));
    let identity = tls
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|der| ClientIdentity::from_der(der).map_err(|e| PrincipalProblem(e.to_string())));
    let peer = match &identity {
        Some(Ok(id)) => Some(Peer {
            principal: id.principal.to_uri(),
            role: id.principal.role(),
            organisation: id.principal.organisation().to_string(),
            terminal: id.principal.terminal().to_string(),
        }),
        _ => None,
    };
    let party = recorder.party(peer.as_ref());
    let number = recorder.handshake(Handshake {
        number: 0,
        at: recorder.now().to_string(),
        elapsed: recorder.elapsed(),
        party,
        tls: Some(version.clone()),
        peer: peer.clone(),
        principal_problem: match &identity {
            Some(Err(p)) => Some(p.0.clone()),
            _ => None,
        },
        refused: None,
        detail: None,
    });
    Connection {
        number,
        tls: version,
        identity,
        peer,
        party,
    }
}

/// Why a handshake failed, from the TLS library's error.
fn classify(error: &std::io::Error) -> (Refusal, String) {
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return (Refusal::Aborted, error.kind().to_string());
    };
    let refusal = match tls {
        rustls::Error::PeerIncompatible(_) => Refusal::NoTls13,
        rustls::Error::NoCertificatesPresented => Refusal::NoCertificate,
        rustls::Error::InvalidCertificate(_) => Refusal::CertificateRefused,
        rustls::Error::AlertReceived(_) => Refusal::ClientAlert,
        _ => Refusal::Other,
    };
    (refusal, tls.to_string())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn handle(
    request: Request<Incoming>,
    connection: Arc<Connection>,
    app: Router,
    recorder: Arc<Recorder>,
) -> Result<Response, Infallible> {
    let (mut parts, body) = request.into_parts();
    match &connection.identity {
        Some(Ok(id)) => {
            parts.extensions.insert(id.clone());
        }
        Some(Err(problem)) => {
            parts.extensions.insert(problem.clone());
        }
        None => {}
    }
    let Some(seq) = recorder.begin() else {
        // Not armed yet (the harness is setting the world up): serve without recording.
        let request = Request::from_parts(parts, Body::new(body));
        return app.oneshot(request).await;
    };
    let at = recorder.now().to_string();
    let arrived = recorder.elapsed();
    let collected = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes);

    let method = parts.method.as_str().to_owned();
    let raw_path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut my_numbers = Vec::new();
    let (path, found) = redact_text(&raw_path);
    if found {
        my_numbers.push("path".to_owned());
    }
    for (name, value) in &parts.headers {
        if name == header::AUTHORIZATION {
            continue;
        }
        if redact(value.as_bytes()).1 {
            my_numbers.push(format!("header {name}"));
        }
    }
    let route = routes::route(&method, parts.uri.path());
    let idempotency_key = parts
        .headers
        .get("idempotency-key")
        .map(|v| redact_text(&String::from_utf8_lossy(v.as_bytes())).0);
    let mut observed = Observed {
        seq,
        at,
        arrived,
        answered: arrived,
        connection: connection.number,
        party: connection.party,
        peer: connection.peer.clone(),
        tls: connection.tls.clone(),
        method: method.clone(),
        path,
        route: route.map(|r| r.path.to_owned()),
        template: routes::template(parts.uri.path()).map(str::to_owned),
        idempotency_key,
        content_type: header_text(&parts.headers, header::CONTENT_TYPE),
        bearer: parts
            .headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes().starts_with(b"Bearer ")),
        body_bytes: 0,
        body_sha256: String::new(),
        my_numbers,
        status: 0,
        code: None,
        retry_after: None,
        injected: false,
        delivered: Vec::new(),
    };
    let bytes = match collected {
        Ok(bytes) => bytes,
        Err(e) => {
            let response = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    format!("the body exceeds {MAX_BODY_BYTES} bytes"),
                )
                .into_response()
            } else {
                ApiError::bad_request("bad-body", "the request body could not be read")
                    .into_response()
            };
            finish(&recorder, observed, &response, Vec::new());
            return Ok(response);
        }
    };
    let (redacted, found) = redact(&bytes);
    if found {
        observed.my_numbers.push("body".to_owned());
    }
    observed.body_bytes = bytes.len();
    observed.body_sha256 = crate::report::sha256_hex(&redacted);

    if let Some(injection) =
        recorder.injection(connection.party, &method, observed.route.as_deref())
    {
        let (code, detail) = if injection.status == 429 {
            (
                "too-many-requests",
                "observe mode: too many requests (script [[fail]])",
            )
        } else {
            (
                "service-unavailable",
                "observe mode: the platform is unavailable (script [[fail]])",
            )
        };
        let status =
            StatusCode::from_u16(injection.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = ApiError::new(status, code, detail).into_response();
        if let Some(seconds) = injection.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        observed.injected = true;
        finish(&recorder, observed, &response, Vec::new());
        return Ok(response);
    }

    let inbox = matches!(
        observed.route.as_deref(),
        Some("/v1/municipality/inbox" | "/v1/careplan/inbox")
    ) && method == "GET";
    let request = Request::from_parts(parts, Body::from(bytes));
    let Ok(response) = app.oneshot(request).await;
    if inbox && response.status().is_success() {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        let delivered = delivered_ids(&body);
        let response = Response::from_parts(parts, Body::from(body));
        finish(&recorder, observed, &response, delivered);
        return Ok(response);
    }
    finish(&recorder, observed, &response, Vec::new());
    Ok(response)
}

/// The ids of an inbox answer (a JSON array of objects with an `id`).
fn delivered_ids(body: &[u8]) -> Vec<u64> {
    #[derive(serde::Deserialize)]
    struct Entry {
        id: u64,
    }
    serde_json::from_slice::<Vec<Entry>>(body)
        .map(|entries| entries.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}

fn finish(recorder: &Recorder, mut observed: Observed, response: &Response, delivered: Vec<u64>) {
    observed.status = response.status().as_u16();
    observed.code = response
        .extensions()
        .get::<ProblemCode>()
        .map(|c| c.0.to_owned());
    observed.retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    observed.delivered = delivered;
    observed.answered = recorder.elapsed();
    recorder.record(observed);
}
