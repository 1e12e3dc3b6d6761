//! Shared fixtures and a tiny TLS server/client pair over real sockets on 127.0.0.1:0.
//!
//! The server accepts connections one after another. After a handshake it sends one line
//! `hello <principal-uri>`; then for each request line it answers `ok` or the refusal of
//! the per-request check (`ClientVerifier::admit`). Each handshake's outcome is sent on a
//! channel, so tests wait for it instead of sleeping.

use std::sync::{Arc, OnceLock};

use kiban_certs::clock::{Clock, ManualClock};
use kiban_certs::pki::{ClientCredentials, IssuedCertificate, OperatorPki, PkiOptions, Validity};
use kiban_certs::principal::{ClientIdentity, Principal};
use kiban_certs::tls::{self, ClientVerifier, StaleCrl};
use kiban_core::time::Timestamp;
use rustls::pki_types::{CertificateRevocationListDer, ServerName};
use rustls::{ClientConfig, ProtocolVersion};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// 2026-04-01T09:13:20+09:00: the fixed "now" of these tests.
pub(crate) const NOW: Timestamp = Timestamp::from_unix_seconds(1_775_002_400);

/// One operator PKI, its server certificate and one valid client, shared by every test.
pub(crate) struct Fixture {
    pub(crate) pki: OperatorPki,
    pub(crate) server: IssuedCertificate,
    pub(crate) principal: Principal,
    pub(crate) client: IssuedCertificate,
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = OperatorPki::generate(&PkiOptions::default(), NOW).unwrap();
        let server = pki
            .issue_server(
                &kiban_certs::pki::default_server_names(),
                Validity::days_from(NOW, 90),
            )
            .unwrap();
        let principal: Principal = "urn:kiban:principal:v1:care-service:2875104529:pc-01"
            .parse()
            .unwrap();
        let client = pki
            .issue_client(&principal, Validity::days_from(NOW, 365))
            .unwrap();
        Fixture {
            pki,
            server,
            principal,
            client,
        }
    })
}

impl Fixture {
    pub(crate) fn credentials(&self) -> ClientCredentials {
        self.pki.client_credentials(&self.client)
    }

    /// A CRL of the fixture's intermediate revoking `revoked` (serial, reason), numbered
    /// `number`, valid for 7 days from `NOW`.
    pub(crate) fn crl(
        &self,
        number: u64,
        revoked: &[kiban_certs::pki::Revocation],
    ) -> CertificateRevocationListDer<'static> {
        self.pki
            .client_crl(revoked, number, NOW, NOW.plus_days(7))
            .unwrap()
            .der()
            .clone()
    }

    pub(crate) fn verifier(&self, crl: &CertificateRevocationListDer<'_>) -> Arc<ClientVerifier> {
        ClientVerifier::new(
            self.pki.root_der().clone(),
            vec![self.pki.client_issuing_der().clone()],
            crl,
            StaleCrl::Refuse,
        )
        .unwrap()
    }

    pub(crate) fn client_config(&self, creds: ClientCredentials) -> Arc<ClientConfig> {
        tls::client_config(self.pki.root_der(), creds, clock(NOW)).unwrap()
    }
}

pub(crate) fn clock(at: Timestamp) -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(at))
}

/// What the server saw of one connection.
pub(crate) type Accepted = Result<ClientIdentity, rustls::Error>;

/// A running listener.
pub(crate) struct Server {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) verifier: Arc<ClientVerifier>,
    outcomes: mpsc::UnboundedReceiver<Accepted>,
}

impl Server {
    /// Starts a listener on 127.0.0.1:0 with the fixture's server certificate, `verifier`
    /// and a clock at [`NOW`].
    pub(crate) async fn start(verifier: Arc<ClientVerifier>) -> Server {
        Server::start_with_clock(verifier, Arc::new(ManualClock::new(NOW))).await
    }

    /// Like [`Server::start`] with a clock the test can move.
    pub(crate) async fn start_with_clock(
        verifier: Arc<ClientVerifier>,
        server_clock: Arc<ManualClock>,
    ) -> Server {
        let f = fixture();
        let config = tls::server_config(
            vec![f.server.der().clone()],
            f.server.private_key(),
            verifier.clone(),
            server_clock.clone(),
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, outcomes) = mpsc::unbounded_channel();
        let acceptor = TlsAcceptor::from(config);
        let per_request = verifier.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, tx, per_request, server_clock) = (
                    acceptor.clone(),
                    tx.clone(),
                    per_request.clone(),
                    server_clock.clone(),
                );
                tokio::spawn(async move {
                    serve(acceptor, tcp, tx, per_request, server_clock).await;
                });
            }
        });
        Server {
            addr,
            verifier,
            outcomes,
        }
    }

    /// The next handshake outcome on the server side.
    pub(crate) async fn next_outcome(&mut self) -> Accepted {
        self.outcomes.recv().await.expect("server task ended")
    }
}

async fn serve(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    tx: mpsc::UnboundedSender<Accepted>,
    verifier: Arc<ClientVerifier>,
    server_clock: Arc<ManualClock>,
) {
    let tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            let err = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .cloned()
                .unwrap_or_else(|| rustls::Error::General(e.to_string()));
            let _ = tx.send(Err(err));
            return;
        }
    };
    let (_, conn) = tls.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    let leaf = conn
        .peer_certificates()
        .expect("verified client has a certificate")[0]
        .clone();
    let identity = ClientIdentity::from_der(&leaf).expect("the verifier checked the principal");
    let uri = identity.principal.to_uri();
    let _ = tx.send(Ok(identity.clone()));
    let mut stream = BufReader::new(tls);
    if stream
        .get_mut()
        .write_all(format!("hello {uri}\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    while matches!(stream.read_line(&mut line).await, Ok(n) if n > 0) {
        let answer = match verifier.admit(&identity, server_clock.now()) {
            Ok(()) => "ok".to_owned(),
            Err(refusal) => refusal.to_string(),
        };
        line.clear();
        if stream
            .get_mut()
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A client connection that completed its side of the handshake and read the greeting.
pub(crate) struct Client {
    stream: BufReader<tokio_rustls::client::TlsStream<TcpStream>>,
    /// The greeting line.
    pub(crate) greeting: String,
}

impl Client {
    /// Connects to `addr` expecting server name `name`; Err is any client-side failure
    /// (handshake, alert, or the server closing before the greeting).
    pub(crate) async fn connect(
        addr: std::net::SocketAddr,
        config: Arc<ClientConfig>,
        name: &str,
    ) -> Result<Client, String> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut stream = BufReader::new(tls);
        let mut greeting = String::new();
        match stream.read_line(&mut greeting).await {
            Ok(0) => Err("closed before the greeting".to_owned()),
            Ok(_) => Ok(Client { stream, greeting }),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The negotiated protocol version.
    pub(crate) fn version(&self) -> Option<ProtocolVersion> {
        self.stream.get_ref().get_ref().1.protocol_version()
    }

    /// How the handshake went (full or resumed).
    pub(crate) fn handshake_kind(&self) -> Option<rustls::HandshakeKind> {
        self.stream.get_ref().get_ref().1.handshake_kind()
    }

    /// Sends one request line and returns the answer line.
    pub(crate) async fn request(&mut self) -> String {
        self.stream.get_mut().write_all(b"request\n").await.unwrap();
        let mut answer = String::new();
        self.stream.read_line(&mut answer).await.unwrap();
        answer.trim_end().to_owned()
    }
}
