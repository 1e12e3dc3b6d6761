//! TLS and certificates: TLS 1.3 only, a client certificate required and issued by the
//! operator, validity, revocation (new connections and open ones), the principal, and no
//! session resumption.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiban_certs::clock::ClockTimeProvider;
use kiban_certs::defects::{Defect, defective_client};
use kiban_certs::pki::PkiOptions;
use kiban_certs::{ClientCredentials, OperatorPki, Principal, RevocationReason, TerminalId};
use rustls::{ClientConfig, ProtocolVersion, RootCertStore};

use super::{body, case};
use crate::catalogue::Area::Tls;
use crate::http::{Conn, Req};
use crate::suite::{CaseDef, Ctx, Need, Stop, Verdict, ensure, expect, fail, runner_error};
use crate::target::Slot;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "TLS-01",
            Tls,
            "a valid client certificate gets a TLS 1.3 connection and service",
            &["KIBAN-TLS-001"],
            body!(tls_13_works),
        ),
        case(
            "TLS-02",
            Tls,
            "a TLS 1.2-only client is refused in the handshake",
            &["KIBAN-TLS-001"],
            body!(tls_12_refused),
        )
        .tags(&["negative", "fault:tls12-accepted"]),
        case(
            "TLS-03",
            Tls,
            "a client without a certificate gets no service",
            &["KIBAN-TLS-002"],
            body!(no_certificate_refused),
        )
        .tags(&["negative"]),
        case(
            "TLS-04",
            Tls,
            "a certificate from another CA with the same names is refused",
            &["KIBAN-TLS-003"],
            body!(unknown_ca_refused),
        )
        .tags(&["negative"]),
        case(
            "TLS-05",
            Tls,
            "expired and not-yet-valid certificates are refused",
            &["KIBAN-TLS-004"],
            body!(validity_enforced),
        )
        .tags(&["negative"])
        .needs(&[Need::Issuer]),
        case(
            "TLS-06",
            Tls,
            "a revoked certificate is refused on a new connection",
            &["KIBAN-TLS-005"],
            body!(revoked_refused_on_new_connection),
        )
        .tags(&["negative", "revocation"])
        .needs(&[Need::Issuer, Need::Slot(Slot::Municipality)]),
        case(
            "TLS-07",
            Tls,
            "revocation acts on the next request of an open keep-alive connection",
            &["KIBAN-TLS-006"],
            body!(revoked_refused_on_open_connection),
        )
        .tags(&[
            "negative",
            "revocation",
            "fault:revocation-ignored-on-keep-alive",
        ])
        .needs(&[Need::Issuer, Need::Slot(Slot::Municipality)]),
        case(
            "TLS-08",
            Tls,
            "certificates without clientAuth or without exactly one valid principal are refused",
            &["KIBAN-TLS-007"],
            body!(principal_required),
        )
        .tags(&["negative"])
        .needs(&[Need::Issuer]),
        case(
            "TLS-09",
            Tls,
            "a second connection is a full handshake (no session resumption)",
            &["KIBAN-TLS-008"],
            body!(no_resumption),
        ),
    ]
}

/// A client configuration over `versions` trusting the target's CA, presenting `creds`.
fn config(
    cx: &Ctx,
    creds: Option<ClientCredentials>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<ClientConfig>, Stop> {
    let mut roots = RootCertStore::empty();
    roots
        .add(cx.shared.target.server_ca.clone())
        .map_err(runner_error)?;
    let builder = ClientConfig::builder_with_details(
        Arc::new(rustls::crypto::ring::default_provider()),
        Arc::new(ClockTimeProvider(cx.shared.tls_clock.clone())),
    )
    .with_protocol_versions(versions)
    .map_err(runner_error)?
    .with_root_certificates(roots);
    let config = match creds {
        Some(c) => builder
            .with_client_auth_cert(c.chain, c.key)
            .map_err(runner_error)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

fn slot_creds(cx: &Ctx, slot: Slot) -> Result<ClientCredentials, Stop> {
    cx.shared
        .target
        .client(slot)
        .map(|c| c.credentials.clone())
        .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Slot(slot))))
}

async fn open(cx: &Ctx, config: Arc<ClientConfig>) -> Result<Conn, crate::http::NoAnswer> {
    let t = &cx.shared.target;
    Conn::open(t.addr, &t.server_name, config, cx.shared.timeout).await
}

/// An operation route every certificate-authenticated municipality may call.
const MUNICIPALITY_PROBE: &str = "/v1/municipality/inbox";

/// Expects the client behind `config` to get no service on `path`: the handshake fails, the
/// connection breaks, or the answer is a 401/403 problem.
async fn expect_no_service(
    cx: &Ctx,
    config: Arc<ClientConfig>,
    requirement: &str,
    check: &str,
    client: &str,
) -> Verdict {
    let mut conn = match open(cx, config).await {
        Ok(conn) => conn,
        Err(_) => return Ok(()),
    };
    let ex = conn.exchange(client, &Req::get(MUNICIPALITY_PROBE)).await;
    match &ex.outcome {
        Err(_) => Ok(()),
        Ok(r) if matches!(r.status, 401 | 403) && r.is_problem() => Ok(()),
        Ok(_) => Err(fail(
            requirement,
            check,
            "the handshake refused (or 401/403)",
            ex.summary(),
            Some(&ex),
        )),
    }
}

async fn tls_13_works(cx: Ctx) -> Verdict {
    let config = config(
        &cx,
        Some(slot_creds(&cx, Slot::Operator)?),
        &[&rustls::version::TLS13],
    )?;
    let mut conn = open(&cx, config).await.map_err(|e| {
        fail(
            "KIBAN-TLS-001",
            "TLS 1.3 handshake with the operator's certificate",
            "a TLS 1.3 connection",
            e.to_string(),
            None,
        )
    })?;
    ensure(
        conn.version == Some(ProtocolVersion::TLSv1_3),
        "KIBAN-TLS-001",
        "negotiated version",
        "TLSv1_3",
        format!("{:?}", conn.version),
        None,
    )?;
    let ex = conn.exchange("operator", &Req::get("/healthz")).await;
    expect(
        &ex,
        "KIBAN-TLS-001",
        "a request on the TLS 1.3 connection",
        200,
        None,
    )
}

async fn tls_12_refused(cx: Ctx) -> Verdict {
    let config = config(
        &cx,
        Some(slot_creds(&cx, Slot::Operator)?),
        &[&rustls::version::TLS12],
    )?;
    match open(&cx, config).await {
        Err(_) => Ok(()),
        Ok(mut conn) => {
            let ex = conn
                .exchange("operator (TLS 1.2 only)", &Req::get("/healthz"))
                .await;
            Err(fail(
                "KIBAN-TLS-001",
                "handshake offering only TLS 1.2",
                "the handshake refused",
                format!("a {:?} connection, then {}", conn.version, ex.summary()),
                Some(&ex),
            ))
        }
    }
}

async fn no_certificate_refused(cx: Ctx) -> Verdict {
    let config = config(&cx, None, &[&rustls::version::TLS13])?;
    expect_no_service(
        &cx,
        config,
        "KIBAN-TLS-002",
        "a TLS 1.3 client without a certificate",
        "no certificate",
    )
    .await
}

async fn unknown_ca_refused(cx: Ctx) -> Verdict {
    let principal = cx
        .shared
        .target
        .client(Slot::Operator)
        .map(|c| c.identity.principal.clone())
        .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Slot(Slot::Operator))))?;
    let now = cx.now();
    let rogue = OperatorPki::generate(&PkiOptions::default(), now).map_err(runner_error)?;
    let bad = defective_client(&rogue, &principal, Defect::UnknownCa, now).map_err(runner_error)?;
    let config = config(&cx, Some(bad.credentials), &[&rustls::version::TLS13])?;
    expect_no_service(
        &cx,
        config,
        "KIBAN-TLS-003",
        "a certificate from a look-alike CA",
        "look-alike CA",
    )
    .await
}

/// A principal of the live municipality with a fresh terminal (never a slot's).
fn fresh_principal(
    cx: &mut Ctx,
    role: kiban_core::vocab::Role,
    slot: Slot,
) -> Result<Principal, Stop> {
    let org = cx
        .organisation(slot)
        .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Slot(slot))))?;
    let terminal =
        TerminalId::parse(&format!("conf-{}", cx.unique().to_lowercase())).map_err(runner_error)?;
    Principal::new(role, org, terminal).map_err(runner_error)
}

async fn validity_enforced(mut cx: Ctx) -> Verdict {
    let principal = fresh_principal(
        &mut cx,
        kiban_core::vocab::Role::Municipality,
        Slot::Municipality,
    )?;
    let now = cx.now();
    for defect in [Defect::Expired, Defect::NotYetValid] {
        let bad = {
            let pki = cx.issuer()?;
            defective_client(pki.pki(), &principal, defect, now).map_err(runner_error)?
        };
        let config = config(&cx, Some(bad.credentials), &[&rustls::version::TLS13])?;
        expect_no_service(
            &cx,
            config,
            "KIBAN-TLS-004",
            &format!("a {defect} certificate from the operator's CA"),
            defect.as_str(),
        )
        .await?;
    }
    Ok(())
}

async fn principal_required(mut cx: Ctx) -> Verdict {
    let principal = fresh_principal(
        &mut cx,
        kiban_core::vocab::Role::Municipality,
        Slot::Municipality,
    )?;
    let now = cx.now();
    for defect in [
        Defect::ServerAuthOnlyEku,
        Defect::NoPrincipal,
        Defect::MalformedPrincipal,
        Defect::SeveralPrincipals,
    ] {
        let bad = {
            let pki = cx.issuer()?;
            defective_client(pki.pki(), &principal, defect, now).map_err(runner_error)?
        };
        let config = config(&cx, Some(bad.credentials), &[&rustls::version::TLS13])?;
        expect_no_service(
            &cx,
            config,
            "KIBAN-TLS-007",
            &format!("a {defect} certificate from the operator's CA"),
            defect.as_str(),
        )
        .await?;
    }
    Ok(())
}

/// Issues a fresh municipality certificate from the target's PKI folder.
fn issue_fresh(cx: &mut Ctx) -> Result<(kiban_certs::Serial, ClientCredentials), Stop> {
    let principal = fresh_principal(
        cx,
        kiban_core::vocab::Role::Municipality,
        Slot::Municipality,
    )?;
    let now = cx.now();
    let mut pki = cx.issuer()?;
    let entry = pki
        .issue_client(&principal, 30, now, true)
        .map_err(runner_error)?;
    let creds = pki
        .client_credentials(&entry.serial)
        .map_err(runner_error)?;
    Ok((entry.serial, creds))
}

fn revoke(cx: &Ctx, serial: &kiban_certs::Serial) -> Result<(), Stop> {
    let now = cx.now();
    cx.issuer()?
        .revoke(serial, RevocationReason::KeyCompromise, now)
        .map(|_| ())
        .map_err(runner_error)
}

fn reload_deadline(cx: &Ctx) -> Instant {
    let wait = cx
        .shared
        .target
        .pki
        .as_ref()
        .map_or(Duration::from_secs(3), |p| p.crl_reload);
    Instant::now() + wait + Duration::from_millis(500)
}

async fn revoked_refused_on_new_connection(mut cx: Ctx) -> Verdict {
    let (serial, creds) = issue_fresh(&mut cx)?;
    let config = config(&cx, Some(creds), &[&rustls::version::TLS13])?;
    let mut conn = open(&cx, config.clone()).await.map_err(|e| {
        fail(
            "KIBAN-TLS-005",
            "a fresh certificate before revocation",
            "a connection",
            e.to_string(),
            None,
        )
    })?;
    let ex = conn
        .exchange(
            "fresh municipality certificate",
            &Req::get(MUNICIPALITY_PROBE),
        )
        .await;
    expect(
        &ex,
        "KIBAN-TLS-005",
        "a fresh certificate before revocation",
        200,
        None,
    )?;
    drop(conn);
    revoke(&cx, &serial)?;
    let deadline = reload_deadline(&cx);
    loop {
        let refused = match open(&cx, config.clone()).await {
            Err(_) => true,
            Ok(mut conn) => {
                let ex = conn
                    .exchange("revoked certificate", &Req::get(MUNICIPALITY_PROBE))
                    .await;
                if Instant::now() > deadline {
                    return expect_refused_after_revocation(
                        &ex,
                        "KIBAN-TLS-005",
                        "a new connection with the revoked certificate",
                    );
                }
                !(200..300).contains(&ex.status())
            }
        };
        if refused {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn expect_refused_after_revocation(
    ex: &crate::http::Exchange,
    requirement: &str,
    check: &str,
) -> Verdict {
    match &ex.outcome {
        Err(_) => Ok(()),
        Ok(r) if !(200..300).contains(&r.status) => Ok(()),
        Ok(_) => Err(fail(
            requirement,
            check,
            "refused once the platform's CRL reload time has passed",
            ex.summary(),
            Some(ex),
        )),
    }
}

async fn revoked_refused_on_open_connection(mut cx: Ctx) -> Verdict {
    let (serial, creds) = issue_fresh(&mut cx)?;
    let config = config(&cx, Some(creds), &[&rustls::version::TLS13])?;
    let mut conn = open(&cx, config.clone()).await.map_err(|e| {
        fail(
            "KIBAN-TLS-006",
            "a fresh certificate before revocation",
            "a connection",
            e.to_string(),
            None,
        )
    })?;
    let ex = conn
        .exchange(
            "fresh municipality certificate",
            &Req::get(MUNICIPALITY_PROBE),
        )
        .await;
    expect(
        &ex,
        "KIBAN-TLS-006",
        "a fresh certificate before revocation",
        200,
        None,
    )?;
    revoke(&cx, &serial)?;
    let deadline = reload_deadline(&cx);
    loop {
        let ex = conn
            .exchange(
                "revoked certificate, same connection",
                &Req::get(MUNICIPALITY_PROBE),
            )
            .await;
        if !(200..300).contains(&ex.status()) {
            // Refused (certificate-revoked) or the connection was closed: no more service.
            return Ok(());
        }
        if Instant::now() > deadline {
            // Tell "ignored on open connections" from "the CRL was never installed".
            let installed = match open(&cx, config.clone()).await {
                Err(_) => true,
                Ok(mut fresh) => !(200..300).contains(
                    &fresh
                        .exchange(
                            "revoked certificate, new connection",
                            &Req::get(MUNICIPALITY_PROBE),
                        )
                        .await
                        .status(),
                ),
            };
            if installed {
                // The CRL is in force now (new connections are refused): the open connection's
                // next request must be refused too, however late the platform installed it.
                let ex = conn
                    .exchange(
                        "revoked certificate, same connection",
                        &Req::get(MUNICIPALITY_PROBE),
                    )
                    .await;
                if !(200..300).contains(&ex.status()) {
                    return Ok(());
                }
                return Err(fail(
                    "KIBAN-TLS-006",
                    "the next request on a connection opened before the revocation",
                    "403 certificate-revoked (new connections are already refused)",
                    ex.summary(),
                    Some(&ex),
                ));
            }
            return Err(Stop::Error("the platform did not install the new CRL within [pki].crl_reload_ms; revocation could not be tested".to_owned()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn no_resumption(cx: Ctx) -> Verdict {
    let config = config(
        &cx,
        Some(slot_creds(&cx, Slot::Operator)?),
        &[&rustls::version::TLS13],
    )?;
    for attempt in 0..2 {
        let mut conn = open(&cx, config.clone()).await.map_err(|e| {
            fail(
                "KIBAN-TLS-008",
                "connect",
                "a connection",
                e.to_string(),
                None,
            )
        })?;
        let ex = conn.exchange("operator", &Req::get("/healthz")).await;
        expect(
            &ex,
            "KIBAN-TLS-008",
            "a request on the connection",
            200,
            None,
        )?;
        if attempt == 1 {
            ensure(
                !conn.resumed,
                "KIBAN-TLS-008",
                "the second connection's handshake with the same client session cache",
                "a full handshake",
                "a resumed session",
                Some(&ex),
            )?;
        }
    }
    Ok(())
}
