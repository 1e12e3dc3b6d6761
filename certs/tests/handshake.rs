//! Real-socket TLS tests (tokio + tokio-rustls on 127.0.0.1:0): what the platform's server
//! configuration accepts and refuses, and that clients verify the server.

use std::sync::Arc;

use kiban_certs::clock::ManualClock;
use kiban_certs::defects::{Defect, defective_client};
use kiban_certs::pki::{Revocation, RevocationReason};
use kiban_certs::principal::PrincipalError;
use kiban_certs::tls;
use rustls::{CertificateError, ProtocolVersion};

use crate::support::{Client, NOW, Server, clock, fixture};

/// The client-side outcome of a refused connection is an error; the server-side outcome
/// is returned for precise assertions.
async fn refused(server: &mut Server, config: Arc<rustls::ClientConfig>) -> rustls::Error {
    let client = Client::connect(server.addr, config, "localhost").await;
    assert!(
        client.is_err(),
        "client was accepted: {:?}",
        client.ok().map(|c| c.greeting)
    );
    server
        .next_outcome()
        .await
        .expect_err("server accepted the handshake")
}

async fn refused_defect(defect: Defect) -> rustls::Error {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let bad = defective_client(&f.pki, &f.principal, defect, NOW).unwrap();
    refused(&mut server, f.client_config(bad.credentials)).await
}

fn certificate_error(err: &rustls::Error) -> &CertificateError {
    match err {
        rustls::Error::InvalidCertificate(e) => e,
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[tokio::test]
async fn valid_client_completes_a_tls13_handshake_and_the_server_sees_its_principal() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let mut client = Client::connect(server.addr, f.client_config(f.credentials()), "localhost")
        .await
        .unwrap();
    assert_eq!(client.version(), Some(ProtocolVersion::TLSv1_3));
    assert_eq!(client.greeting.trim_end(), format!("hello {}", f.principal));
    let seen = server.next_outcome().await.unwrap();
    assert_eq!(seen.principal, f.principal);
    assert_eq!(&seen.serial, f.client.serial());
    assert_eq!(client.request().await, "ok");
}

#[tokio::test]
async fn every_listed_server_name_verifies_and_another_name_fails() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    for name in ["localhost", "127.0.0.1"] {
        Client::connect(server.addr, f.client_config(f.credentials()), name)
            .await
            .unwrap();
        server.next_outcome().await.unwrap();
    }
    let err = Client::connect(
        server.addr,
        f.client_config(f.credentials()),
        "platform.other.test",
    )
    .await
    .err()
    .expect("a client expecting another name must fail");
    assert!(err.contains("not valid for name"), "{err}");
}

#[tokio::test]
async fn client_offering_only_tls12_is_refused() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(f.pki.root_der().clone()).unwrap();
    let creds = f.credentials();
    let tls12 = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(creds.chain, creds.key)
    .unwrap();
    let err = refused(&mut server, Arc::new(tls12)).await;
    assert!(matches!(err, rustls::Error::PeerIncompatible(_)), "{err:?}");
}

#[tokio::test]
async fn client_without_certificate_is_refused() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let anonymous = tls::client_config_without_certificate(f.pki.root_der(), clock(NOW)).unwrap();
    let err = refused(&mut server, anonymous).await;
    assert_eq!(err, rustls::Error::NoCertificatesPresented);
}

#[tokio::test]
async fn client_of_an_unknown_ca_with_the_same_names_is_refused() {
    let err = refused_defect(Defect::UnknownCa).await;
    // The look-alike intermediate names the real root as its issuer, so webpki finds the
    // trust anchor by name and then fails on the signature.
    assert!(
        matches!(
            certificate_error(&err),
            CertificateError::BadSignature | CertificateError::UnknownIssuer
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn expired_client_is_refused() {
    let err = refused_defect(Defect::Expired).await;
    assert!(
        matches!(
            certificate_error(&err),
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn not_yet_valid_client_is_refused() {
    let err = refused_defect(Defect::NotYetValid).await;
    assert!(
        matches!(
            certificate_error(&err),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_auth_only_eku_is_refused() {
    let err = refused_defect(Defect::ServerAuthOnlyEku).await;
    assert!(
        matches!(
            certificate_error(&err),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn chain_valid_certificates_without_one_valid_principal_are_refused() {
    for (defect, expected) in [
        (Defect::NoPrincipal, PrincipalError::NoPrincipalUri),
        (
            Defect::SeveralPrincipals,
            PrincipalError::SeveralPrincipalUris { count: 2 },
        ),
    ] {
        let err = refused_defect(defect).await;
        let CertificateError::Other(other) = certificate_error(&err) else {
            panic!("{defect}: {err:?}");
        };
        assert_eq!(other.0.downcast_ref::<PrincipalError>(), Some(&expected));
    }
    let err = refused_defect(Defect::MalformedPrincipal).await;
    assert!(matches!(
        certificate_error(&err),
        CertificateError::Other(_)
    ));
}

#[tokio::test]
async fn revoked_after_crl_swap_is_refused_without_restart() {
    let f = fixture();
    let verifier = f.verifier(&f.crl(1, &[]));
    let mut server = Server::start(verifier.clone()).await;
    let config = f.client_config(f.credentials());
    Client::connect(server.addr, config.clone(), "localhost")
        .await
        .unwrap();
    server.next_outcome().await.unwrap();
    assert!(!verifier.is_revoked(f.client.serial()));

    let revoked = [Revocation {
        serial: f.client.serial().clone(),
        revoked_at: NOW,
        reason: RevocationReason::KeyCompromise,
    }];
    let status = server.verifier.install_crl(&f.crl(2, &revoked)).unwrap();
    assert_eq!((status.number, status.revoked), (2, 1));
    assert!(verifier.is_revoked(f.client.serial()));

    let err = refused(&mut server, config).await;
    assert_eq!(certificate_error(&err), &CertificateError::Revoked);
}

#[tokio::test]
async fn keep_alive_connection_is_refused_per_request_once_revoked() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let mut client = Client::connect(server.addr, f.client_config(f.credentials()), "localhost")
        .await
        .unwrap();
    server.next_outcome().await.unwrap();
    assert_eq!(client.request().await, "ok");
    let revoked = [Revocation {
        serial: f.client.serial().clone(),
        revoked_at: NOW,
        reason: RevocationReason::StaffLeft,
    }];
    server.verifier.install_crl(&f.crl(2, &revoked)).unwrap();
    assert_eq!(client.request().await, "certificate-revoked");
}

#[tokio::test]
async fn keep_alive_connection_is_refused_per_request_once_expired() {
    let f = fixture();
    let server_clock = Arc::new(ManualClock::new(NOW));
    let mut server =
        Server::start_with_clock(f.verifier(&f.crl(1, &[])), server_clock.clone()).await;
    let mut client = Client::connect(server.addr, f.client_config(f.credentials()), "localhost")
        .await
        .unwrap();
    server.next_outcome().await.unwrap();
    server_clock.set(f.client.validity().not_after.plus_seconds(1));
    assert_eq!(client.request().await, "certificate-expired");
}

#[tokio::test]
async fn every_connection_is_a_full_handshake_because_the_server_offers_no_resumption() {
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let config = f.client_config(f.credentials());
    for _ in 0..2 {
        let mut client = Client::connect(server.addr, config.clone(), "localhost")
            .await
            .unwrap();
        // A request round trip makes sure any ticket the server sent has been read.
        assert_eq!(client.request().await, "ok");
        assert_eq!(client.handshake_kind(), Some(rustls::HandshakeKind::Full));
        server.next_outcome().await.unwrap();
    }
}

#[tokio::test]
async fn stale_crl_refuses_every_client_until_a_fresh_one_is_installed() {
    let f = fixture();
    let server_clock = Arc::new(ManualClock::new(NOW));
    let mut server =
        Server::start_with_clock(f.verifier(&f.crl(1, &[])), server_clock.clone()).await;
    let config = f.client_config(f.credentials());
    server_clock.set(NOW.plus_days(8));
    let err = refused(&mut server, config.clone()).await;
    assert!(
        matches!(
            certificate_error(&err),
            CertificateError::ExpiredRevocationList
                | CertificateError::ExpiredRevocationListContext { .. }
        ),
        "{err:?}"
    );
    let fresh = f
        .pki
        .client_crl(&[], 2, NOW.plus_days(8), NOW.plus_days(15))
        .unwrap();
    server.verifier.install_crl(fresh.der()).unwrap();
    // The client's own clock is still at NOW; the server's has moved on.
    Client::connect(server.addr, config, "localhost")
        .await
        .unwrap();
    server.next_outcome().await.unwrap();
}

#[tokio::test]
async fn a_virtual_card_certificate_is_not_a_platform_client_certificate() {
    // The J-LIS CA is a trust domain of its own: a card's 利用者証明用 certificate presented
    // as a TLS client certificate is from an unknown issuer.
    let f = fixture();
    let mut server = Server::start(f.verifier(&f.crl(1, &[]))).await;
    let jlis =
        kiban_certs::JlisCa::generate(kiban_certs::KeyAlgorithm::EcdsaP256, NOW, 365).unwrap();
    let card = jlis
        .issue_card(
            &kiban_certs::CardSerial::parse("CARD0001").unwrap(),
            kiban_certs::Validity::days_from(NOW, 30),
        )
        .unwrap();
    let creds = kiban_certs::ClientCredentials {
        chain: vec![card.der().clone()],
        key: card.private_key(),
    };
    let err = refused(&mut server, f.client_config(creds)).await;
    assert_eq!(certificate_error(&err), &CertificateError::UnknownIssuer);
}
