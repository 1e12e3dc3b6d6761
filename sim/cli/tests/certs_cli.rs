//! `kiban certs` end to end: the built binary creates a PKI, issues a client certificate
//! that `openssl verify` accepts and whose principal URI `openssl x509 -text` shows, and
//! `kiban certs revoke` makes the next TLS handshake against a server built from the same
//! folder fail (after the server reloads the CRL, without restarting its listener).
//!
//! `openssl` must be installed (CI installs it): without it these tests fail, they do not
//! skip.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use kiban_certs::clock::SystemClock;
use kiban_certs::pki::ClientCredentials;
use kiban_certs::store::PkiDir;
use kiban_certs::tls::{self, StaleCrl};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CertificateError, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

const OFFICE: &str = "2875104529";
const URI: &str = "urn:kiban:principal:v1:care-service:2875104529:pc-01";

fn kiban(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiban"))
        .arg("certs")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run kiban")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    match Command::new("openssl").current_dir(dir).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "openssl is required by this test and was not found on PATH \
             (install it: apt-get install openssl; CI does this in .ci/run)"
        ),
        Err(e) => panic!("cannot run openssl: {e}"),
    }
}

/// The value of the `  serial      <hex>` line of `kiban certs issue`.
fn serial_of(issue_output: &str) -> String {
    issue_output
        .lines()
        .find_map(|l| l.trim().strip_prefix("serial"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| panic!("no serial line in:\n{issue_output}"))
}

/// A blocking TLS server on 127.0.0.1:0 that greets each client and reports each
/// handshake's outcome on a channel.
fn start_server(
    config: Arc<ServerConfig>,
) -> (
    std::net::SocketAddr,
    mpsc::Receiver<Result<(), rustls::Error>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut conn = ServerConnection::new(config.clone()).unwrap();
            let mut outcome = Ok(());
            while conn.is_handshaking() {
                if let Err(e) = conn.complete_io(&mut tcp) {
                    outcome = Err(e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                        .cloned()
                        .unwrap_or_else(|| rustls::Error::General(e.to_string())));
                    break;
                }
            }
            if outcome.is_ok() {
                let mut stream = StreamOwned::new(conn, tcp);
                let _ = stream.write_all(b"hello\n");
                stream.conn.send_close_notify();
                let _ = stream.flush();
            }
            if tx.send(outcome).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

/// Connects with `config`; Ok with the greeting, or the client-side error.
fn connect(
    addr: std::net::SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Result<String, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn = ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut line = String::new();
    BufReader::new(StreamOwned::new(conn, tcp))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.is_empty() {
        return Err("closed before the greeting".to_owned());
    }
    Ok(line)
}

fn credentials_from_files(pki: &Path) -> ClientCredentials {
    let chain_file = pki.join("clients/care-service-2875104529-pc-01.chain.pem");
    let key_file = pki.join("clients/care-service-2875104529-pc-01.key.pem");
    ClientCredentials {
        chain: CertificateDer::pem_file_iter(&chain_file)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap(),
        key: PrivateKeyDer::from_pem_file(&key_file).unwrap(),
    }
}

#[test]
fn issued_certificate_passes_openssl_and_revoke_makes_the_next_handshake_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    succeeded(kiban(&pki, &["init"]));
    let issued = succeeded(kiban(
        &pki,
        &[
            "issue",
            "--role",
            "care-service",
            "--office",
            OFFICE,
            "--terminal",
            "pc-01",
        ],
    ));
    let serial = serial_of(&issued);

    let verify = openssl(
        &pki,
        &[
            "verify",
            "-CAfile",
            "operator-root-ca.cert.pem",
            "-untrusted",
            "client-issuing-ca.cert.pem",
            "clients/care-service-2875104529-pc-01.cert.pem",
        ],
    );
    assert!(
        verify.status.success(),
        "openssl verify: {}{}",
        stdout(&verify),
        stderr(&verify)
    );
    assert!(
        stdout(&verify).trim_end().ends_with(": OK"),
        "{}",
        stdout(&verify)
    );
    let text = openssl(
        &pki,
        &[
            "x509",
            "-noout",
            "-text",
            "-in",
            "clients/care-service-2875104529-pc-01.cert.pem",
        ],
    );
    assert!(text.status.success());
    assert!(
        stdout(&text).contains(&format!("URI:{URI}")),
        "{}",
        stdout(&text)
    );
    let serial_line = openssl(
        &pki,
        &[
            "x509",
            "-noout",
            "-serial",
            "-in",
            "clients/care-service-2875104529-pc-01.cert.pem",
        ],
    );
    assert_eq!(stdout(&serial_line).trim(), format!("serial={serial}"));

    // A platform-side server built from the folder, on the real clock.
    let store = PkiDir::open(&pki).unwrap();
    let verifier = store.client_verifier(StaleCrl::Refuse).unwrap();
    let server_config = store
        .server_config(verifier.clone(), Arc::new(SystemClock))
        .unwrap();
    let client_config = tls::client_config(
        store.root_der(),
        credentials_from_files(&pki),
        Arc::new(SystemClock),
    )
    .unwrap();
    let (addr, outcomes) = start_server(server_config);
    assert_eq!(connect(addr, client_config.clone()).unwrap(), "hello\n");
    outcomes.recv().unwrap().unwrap();

    let revoked = succeeded(kiban(
        &pki,
        &["revoke", "--serial", &serial, "--reason", "staff-left"],
    ));
    assert!(revoked.contains("reason code 3"), "{revoked}");
    PkiDir::open(&pki).unwrap().reload_crl(&verifier).unwrap();
    assert!(verifier.is_revoked(&serial.parse().unwrap()));

    assert!(connect(addr, client_config).is_err());
    assert_eq!(
        outcomes.recv().unwrap(),
        Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
    );
    let crl_check = openssl(
        &pki,
        &[
            "verify",
            "-crl_check",
            "-CRLfile",
            "client-issuing-ca.crl.pem",
            "-CAfile",
            "operator-root-ca.cert.pem",
            "-untrusted",
            "client-issuing-ca.cert.pem",
            "clients/care-service-2875104529-pc-01.cert.pem",
        ],
    );
    assert!(!crl_check.status.success());
    assert!(
        stdout(&crl_check).contains("certificate revoked")
            || stderr(&crl_check).contains("certificate revoked")
    );
}

#[test]
fn bad_input_exits_2_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let not_yet = kiban(&pki, &["list"]);
    assert_eq!(not_yet.status.code(), Some(2));
    assert!(
        stderr(&not_yet).contains("run init first"),
        "{}",
        stderr(&not_yet)
    );

    succeeded(kiban(&pki, &["init"]));
    let again = kiban(&pki, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("without --force"),
        "{}",
        stderr(&again)
    );

    let bad_office = kiban(
        &pki,
        &[
            "issue",
            "--role",
            "care-service",
            "--office",
            "2875104528",
            "--terminal",
            "pc-01",
        ],
    );
    assert_eq!(bad_office.status.code(), Some(2));
    assert!(
        stderr(&bad_office).contains(
            "care-office number: check digit (character 10) is '8', the body requires '9'"
        ),
        "{}",
        stderr(&bad_office)
    );

    let bad_terminal = kiban(
        &pki,
        &[
            "issue",
            "--role",
            "care-service",
            "--office",
            OFFICE,
            "--terminal",
            "pc 01",
        ],
    );
    assert_eq!(bad_terminal.status.code(), Some(2));
    assert!(
        stderr(&bad_terminal).contains("terminal id character 3"),
        "{}",
        stderr(&bad_terminal)
    );

    let representative = kiban(
        &pki,
        &["issue", "--role", "representative", "--terminal", "t"],
    );
    assert_eq!(representative.status.code(), Some(2));
    assert!(
        stderr(&representative).contains("does not get a client certificate"),
        "{}",
        stderr(&representative)
    );
    // `person` is the マイナポータル relay, which takes no organisation.
    let relay = kiban(
        &pki,
        &[
            "issue",
            "--role",
            "person",
            "--office",
            OFFICE,
            "--terminal",
            "pmh",
        ],
    );
    assert_eq!(relay.status.code(), Some(2));
    succeeded(kiban(
        &pki,
        &["issue", "--role", "person", "--terminal", "pmh"],
    ));

    succeeded(kiban(
        &pki,
        &["issue", "--role", "operator", "--terminal", "ops"],
    ));
    let twice = kiban(&pki, &["issue", "--role", "operator", "--terminal", "ops"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("already has certificate"),
        "{}",
        stderr(&twice)
    );
    succeeded(kiban(
        &pki,
        &[
            "issue",
            "--role",
            "operator",
            "--terminal",
            "ops",
            "--force",
        ],
    ));
}

#[test]
fn list_warns_about_certificates_expiring_soon_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    succeeded(kiban(&pki, &["init"]));
    let issued = succeeded(kiban(
        &pki,
        &[
            "issue",
            "--role",
            "municipality",
            "--municipality",
            "141003",
            "--terminal",
            "desk1",
            "--days",
            "5",
        ],
    ));
    let serial = serial_of(&issued);
    let calm = succeeded(kiban(&pki, &["list", "--expiring-within", "1"]));
    assert!(
        calm.contains("no certificate expires within 1 days"),
        "{calm}"
    );
    let warned = kiban(&pki, &["list", "--expiring-within", "10"]);
    assert_eq!(warned.status.code(), Some(1));
    let text = stdout(&warned);
    assert!(
        text.contains(&format!("warning: client {serial} expires")),
        "{text}"
    );
    assert!(
        text.contains("urn:kiban:principal:v1:municipality:141003:desk1"),
        "{text}"
    );
}
