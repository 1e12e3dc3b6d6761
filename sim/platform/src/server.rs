//! The platform on a real socket: a TCP listener, a rustls acceptor (TLS 1.3 only, client
//! certificate required and checked against the operator CA and CRL, see kiban-certs), and
//! per connection an HTTP/1.1 server whose every request carries the connection's
//! [`ClientIdentity`] as an extension. The identity is read once per connection from the
//! verified certificate; the per-request revocation and staff checks happen in `api`.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use kiban_certs::ClientIdentity;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Why a connection's certificate could not be read as a principal; attached instead of an
/// identity so requests get a precise 403 rather than a dropped connection.
#[derive(Debug, Clone)]
pub struct PrincipalProblem(pub String);

/// Serves `app` on `listener` with TLS from `config` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
            };
            let identity = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|der| {
                    ClientIdentity::from_der(der).map_err(|e| PrincipalProblem(e.to_string()))
                });
            let service = tower::service_fn(move |mut request: Request<Incoming>| {
                match &identity {
                    Some(Ok(id)) => {
                        request.extensions_mut().insert(id.clone());
                    }
                    Some(Err(problem)) => {
                        request.extensions_mut().insert(problem.clone());
                    }
                    None => {}
                }
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let served = Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
