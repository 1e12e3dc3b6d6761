//! The checks observe mode runs over what a vendor system sent: each has a stable id
//! (`OBS-TLS-01` …), cites the catalogue's requirements (the coverage check counts them), says
//! which roles it applies to, and turns every violation into a finding naming the requirement,
//! what was expected, what happened and the exchange (or handshake) that showed it. A check
//! whose subject never occurred is skipped as "not exercised", never passed on nothing.
//!
//! Most checks read the platform's own answer (its problem code) rather than re-deciding what
//! the platform decides: a read refused `not-registered` *is* a read before registration.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kiban_core::vocab::Role;

use super::record::{Handshake, Observed, Refusal};
use super::routes::{self, Resend};
use super::script::outcome;
use crate::catalogue::Area;
use crate::report::{CaseResult, Outcome};
use crate::suite::Failure;

/// One observe-mode check.
#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    /// Stable id.
    pub id: &'static str,
    /// Area.
    pub area: Area,
    /// What it checks, one line.
    pub title: &'static str,
    /// Every requirement its findings may cite.
    pub requirements: &'static [&'static str],
    /// Roles it applies to.
    pub roles: &'static [Role],
}

const VENDORS: &[Role] = &[
    Role::Municipality,
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
];
const OFFICES: &[Role] = &[
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
];
const MUNICIPALITY: &[Role] = &[Role::Municipality];
const EXCHANGE: &[Role] = kiban_platform::platform::exchange::EXCHANGE_ROLES;

/// Every check, ordered by id.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "OBS-CPX-01",
        area: Area::Careplan,
        title: "Every file delivered to the exchange inbox is fetched, then acknowledged once",
        requirements: &["KIBAN-CPX-007"],
        roles: EXCHANGE,
    },
    CheckDef {
        id: "OBS-ERR-01",
        area: Area::Errors,
        title: "No request is refused as malformed (route, method, media type, schema, identifiers)",
        requirements: &[
            "KIBAN-ERR-005",
            "KIBAN-ING-005",
            "KIBAN-CPX-002",
            "KIBAN-CPX-003",
        ],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-ERR-02",
        area: Area::Errors,
        title: "Only routes and classes the role may use are called",
        requirements: &[
            "KIBAN-ERR-006",
            "KIBAN-ACC-002",
            "KIBAN-ACC-005",
            "KIBAN-STF-003",
            "KIBAN-CON-003",
        ],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-ERR-03",
        area: Area::Errors,
        title: "Requests are resent only when that is safe",
        requirements: &["KIBAN-ERR-007"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-ERR-04",
        area: Area::Errors,
        title: "After a 503 or 429 the client waits (Retry-After, or a back-off) before resending",
        requirements: &["KIBAN-ERR-008"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-IDV-01",
        area: Area::Identity,
        title: "Reads and writes about a person only while the office is registered for them",
        requirements: &["KIBAN-IDV-008"],
        roles: OFFICES,
    },
    CheckDef {
        id: "OBS-IDV-02",
        area: Area::Identity,
        title: "Each card verification signs a fresh nonce issued to its own terminal",
        requirements: &["KIBAN-IDV-002"],
        roles: OFFICES,
    },
    CheckDef {
        id: "OBS-ING-01",
        area: Area::Ingest,
        title: "Every ingestion and submission carries an Idempotency-Key",
        requirements: &["KIBAN-ING-003", "KIBAN-SUB-001"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-ING-02",
        area: Area::Ingest,
        title: "An Idempotency-Key is never reused for other bytes",
        requirements: &["KIBAN-ING-002", "KIBAN-SUB-005"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-PRV-01",
        area: Area::Privacy,
        title: "No request carries a My Number (path, query, header or body)",
        requirements: &["KIBAN-PRV-004", "KIBAN-PRV-001"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-STF-01",
        area: Area::Staff,
        title: "Office operations are sent only under a staff member's session",
        requirements: &["KIBAN-STF-001"],
        roles: OFFICES,
    },
    CheckDef {
        id: "OBS-STF-02",
        area: Area::Staff,
        title: "The municipality system authenticates by its certificate alone (no staff sign-in)",
        requirements: &["KIBAN-STF-007"],
        roles: MUNICIPALITY,
    },
    CheckDef {
        id: "OBS-SUB-01",
        area: Area::Submit,
        title: "Every inbox message delivered is acknowledged once, and only delivered ones",
        requirements: &["KIBAN-SUB-006"],
        roles: MUNICIPALITY,
    },
    CheckDef {
        id: "OBS-TLS-01",
        area: Area::Tls,
        title: "Every connection completes a TLS 1.3 handshake",
        requirements: &["KIBAN-TLS-001"],
        roles: VENDORS,
    },
    CheckDef {
        id: "OBS-TLS-02",
        area: Area::Tls,
        title: "Every connection presents the operator-issued certificate of the observed role and organisation",
        requirements: &["KIBAN-TLS-002", "KIBAN-TLS-009"],
        roles: VENDORS,
    },
];

/// Whom and what the checks judge.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    pub(crate) role: Role,
    pub(crate) organisation: &'a str,
    pub(crate) min_backoff: Duration,
}

/// Problem codes that say the request itself was malformed, with the requirement each
/// breaks (`idempotency-key-required` belongs to OBS-ING-01, `personal-number-refused` to
/// OBS-PRV-01).
fn malformed(code: &str, route: Option<&str>) -> Option<&'static str> {
    let ingest = route == Some("/v1/municipality/ingest");
    Some(match code {
        "invalid-item" | "batch-too-large" if ingest => "KIBAN-ING-005",
        "invalid-identifier" | "invalid-body" | "malformed-json" if ingest => "KIBAN-ING-005",
        "careplan-file-name" => "KIBAN-CPX-002",
        "careplan-invalid" => "KIBAN-CPX-003",
        "malformed-json"
        | "invalid-body"
        | "bad-body"
        | "invalid-item"
        | "invalid-identifier"
        | "invalid-path"
        | "invalid-query"
        | "invalid-idempotency-key"
        | "unsupported-media-type"
        | "body-too-large"
        | "batch-too-large"
        | "unknown-route"
        | "method-not-allowed"
        | "invalid-table"
        | "unknown-class"
        | "invalid-staff-id"
        | "weak-password"
        | "invalid-office-number"
        | "invalid-card-link"
        | "invalid-assertion" => "KIBAN-ERR-005",
        _ => return None,
    })
}

fn finding(
    requirement: &str,
    check: &str,
    expected: &str,
    actual: String,
    ex: &Observed,
) -> Failure {
    Failure {
        requirement: requirement.to_owned(),
        check: check.to_owned(),
        expected: expected.to_owned(),
        actual,
        exchange: Some(ex.describe()),
    }
}

fn handshake_finding(
    requirement: &str,
    check: &str,
    expected: &str,
    actual: String,
    h: &Handshake,
) -> Failure {
    Failure {
        requirement: requirement.to_owned(),
        check: check.to_owned(),
        expected: expected.to_owned(),
        actual,
        exchange: Some(h.describe()),
    }
}

/// Runs every check over the vendor's exchanges (by sequence) and handshakes.
pub(crate) fn run(
    subject: &Subject<'_>,
    vendor: &[&Observed],
    handshakes: &[&Handshake],
) -> Vec<CaseResult> {
    CHECKS
        .iter()
        .map(|def| {
            let (outcome, findings) = if def.roles.contains(&subject.role) {
                match judge(def.id, subject, vendor, handshakes) {
                    None => (
                        Outcome::Skip {
                            reason: format!("not exercised: {}", exercised_by(def.id)),
                        },
                        Vec::new(),
                    ),
                    Some(findings) => (outcome(&findings), findings),
                }
            } else {
                (
                    Outcome::Skip {
                        reason: format!("does not apply to role {}", subject.role),
                    },
                    Vec::new(),
                )
            };
            CaseResult {
                id: def.id.to_owned(),
                area: def.area,
                title: def.title.to_owned(),
                requirements: def.requirements.iter().map(|r| (*r).to_owned()).collect(),
                tags: vec!["observe".to_owned()],
                outcome,
                findings,
                duration_ms: 0,
            }
        })
        .collect()
}

/// What must have happened for a check to say anything.
fn exercised_by(id: &str) -> &'static str {
    match id {
        "OBS-TLS-01" | "OBS-TLS-02" => "no connection was made",
        "OBS-CPX-01" => "no exchange inbox was read and no file acknowledged",
        "OBS-SUB-01" => "no inbox was read and no message acknowledged",
        "OBS-ING-01" | "OBS-ING-02" => "no ingestion or submission was sent",
        "OBS-ERR-03" => "no request was sent twice",
        "OBS-ERR-04" => "no request was answered 503 or 429 (a script [[fail]] makes one)",
        "OBS-IDV-01" => "no request about a person was sent",
        "OBS-IDV-02" => "no card verification was sent",
        _ => "no request was sent",
    }
}

/// The findings of check `id`, or `None` when nothing it judges happened.
fn judge(
    id: &str,
    subject: &Subject<'_>,
    vendor: &[&Observed],
    handshakes: &[&Handshake],
) -> Option<Vec<Failure>> {
    let mut out = Vec::new();
    let code_is =
        |x: &Observed, codes: &[&str]| x.code.as_deref().is_some_and(|c| codes.contains(&c));
    match id {
        "OBS-TLS-01" => {
            if handshakes.is_empty() {
                return None;
            }
            let check = "TLS 1.3 handshake";
            for h in handshakes {
                match h.refused {
                    Some(Refusal::NoTls13) => out.push(handshake_finding(
                        "KIBAN-TLS-001",
                        check,
                        "a TLS 1.3 ClientHello",
                        "the client offered no TLS 1.3".to_owned(),
                        h,
                    )),
                    Some(Refusal::ClientAlert | Refusal::Other) => out.push(handshake_finding(
                        "KIBAN-TLS-001",
                        check,
                        "a completed TLS 1.3 handshake with the platform's certificate (the CA file of the connection folder)",
                        "the handshake failed".to_owned(),
                        h,
                    )),
                    None if h.tls.as_deref() != Some("TLSv1_3") => out.push(handshake_finding(
                        "KIBAN-TLS-001",
                        check,
                        "TLSv1_3",
                        h.tls.clone().unwrap_or_default(),
                        h,
                    )),
                    _ => {}
                }
            }
        }
        "OBS-TLS-02" => {
            if handshakes.is_empty() {
                return None;
            }
            let expected = format!(
                "a current certificate of role {} and organisation {}",
                subject.role, subject.organisation
            );
            for h in handshakes {
                let problem = match (h.refused, &h.peer) {
                    (Some(Refusal::NoCertificate), _) => Some((
                        "KIBAN-TLS-002",
                        "the client presented no certificate".to_owned(),
                    )),
                    (Some(Refusal::CertificateRefused), _) => Some((
                        "KIBAN-TLS-009",
                        "the certificate was refused in the handshake".to_owned(),
                    )),
                    (None, None) => Some((
                        "KIBAN-TLS-009",
                        "the certificate names no valid principal".to_owned(),
                    )),
                    (None, Some(peer))
                        if peer.role != subject.role
                            || peer.organisation != subject.organisation =>
                    {
                        Some((
                            "KIBAN-TLS-009",
                            format!(
                                "a certificate of role {} and organisation {}",
                                peer.role, peer.organisation
                            ),
                        ))
                    }
                    _ => None,
                };
                if let Some((requirement, actual)) = problem {
                    out.push(handshake_finding(
                        requirement,
                        "client certificate",
                        &expected,
                        actual,
                        h,
                    ));
                }
            }
        }
        "OBS-STF-01" => {
            if vendor.is_empty() {
                return None;
            }
            for x in vendor {
                if code_is(x, &["staff-session-required", "invalid-session"]) {
                    out.push(finding(
                        "KIBAN-STF-001",
                        "staff session",
                        "the request under a signed-in staff member's session (POST /v1/session first)",
                        format!("refused {}", x.code.as_deref().unwrap_or_default()),
                        x,
                    ));
                }
            }
        }
        "OBS-STF-02" => {
            if vendor.is_empty() {
                return None;
            }
            for x in vendor {
                let session = x.route.as_deref() == Some("/v1/session")
                    || x.template.as_deref() == Some("/v1/session");
                if session || x.bearer {
                    out.push(finding(
                        "KIBAN-STF-007",
                        "certificate-only authentication",
                        "no staff sign-in and no bearer token",
                        if session {
                            "a staff sign-in route was called".to_owned()
                        } else {
                            "a bearer token was sent".to_owned()
                        },
                        x,
                    ));
                }
            }
        }
        "OBS-IDV-01" => {
            let mut any = false;
            for x in vendor {
                if x.route_or_path().starts_with("/v1/persons/") {
                    any = true;
                }
                if code_is(
                    x,
                    &[
                        "not-registered",
                        "registration-ended",
                        "registration-lapsed",
                    ],
                ) {
                    out.push(finding(
                        "KIBAN-IDV-008",
                        "registration before reads and writes",
                        "a request about a person the office is registered for (verify the card first)",
                        format!("refused {}", x.code.as_deref().unwrap_or_default()),
                        x,
                    ));
                }
            }
            if !any {
                return None;
            }
        }
        "OBS-IDV-02" => {
            let verifies: Vec<&&Observed> = vendor
                .iter()
                .filter(|x| x.route.as_deref() == Some("/v1/identity/verify"))
                .collect();
            if verifies.is_empty() {
                return None;
            }
            for x in verifies {
                if code_is(x, &["invalid-nonce"]) {
                    out.push(finding(
                        "KIBAN-IDV-002",
                        "fresh nonce",
                        "a nonce issued to this terminal, unused and unexpired",
                        "refused invalid-nonce".to_owned(),
                        x,
                    ));
                }
            }
        }
        "OBS-ING-01" => {
            let keyed: Vec<&&Observed> = vendor
                .iter()
                .filter(|x| {
                    x.route
                        .as_deref()
                        .is_some_and(|r| route_resend(x, r) == Some(Resend::Keyed))
                })
                .collect();
            if keyed.is_empty() {
                return None;
            }
            for x in keyed {
                if x.idempotency_key.is_none() {
                    let (required, _) = routes::key_requirements(x.route_or_path());
                    out.push(finding(
                        required,
                        "Idempotency-Key present",
                        "an Idempotency-Key header",
                        "none".to_owned(),
                        x,
                    ));
                }
            }
        }
        "OBS-ING-02" => {
            let mut first: BTreeMap<(String, String, String), &Observed> = BTreeMap::new();
            let mut any = false;
            for x in vendor {
                let (Some(route), Some(key)) = (x.route.as_deref(), x.idempotency_key.as_deref())
                else {
                    continue;
                };
                if route_resend(x, route) != Some(Resend::Keyed) {
                    continue;
                }
                any = true;
                let slot = (
                    x.organisation().to_owned(),
                    route.to_owned(),
                    key.to_owned(),
                );
                match first.get(&slot) {
                    None => {
                        first.insert(slot, x);
                    }
                    Some(p) if p.body_sha256 != x.body_sha256 => {
                        let (_, reused) = routes::key_requirements(route);
                        out.push(finding(
                            reused,
                            "one key per request",
                            &format!(
                                "the bytes first sent under key {key} (exchange #{}, sha256 {})",
                                p.seq,
                                &p.body_sha256[..16.min(p.body_sha256.len())]
                            ),
                            "other bytes under the same key".to_owned(),
                            x,
                        ));
                    }
                    Some(_) => {}
                }
            }
            if !any {
                return None;
            }
        }
        "OBS-SUB-01" => inbox(
            vendor,
            "/v1/municipality/inbox",
            "/v1/municipality/inbox/{id}/ack",
            None,
            "KIBAN-SUB-006",
            &mut out,
        )?,
        "OBS-CPX-01" => inbox(
            vendor,
            "/v1/careplan/inbox",
            "/v1/careplan/inbox/{id}/ack",
            Some("/v1/careplan/files/by-id/{id}"),
            "KIBAN-CPX-007",
            &mut out,
        )?,
        "OBS-ERR-01" => {
            if vendor.is_empty() {
                return None;
            }
            for x in vendor {
                if x.injected {
                    continue;
                }
                let Some(code) = x.code.as_deref() else {
                    continue;
                };
                if let Some(requirement) = malformed(code, x.route.as_deref()) {
                    out.push(finding(
                        requirement,
                        "well-formed request",
                        "a request the API accepts as well-formed",
                        format!("{} {code}", x.status),
                        x,
                    ));
                }
            }
        }
        "OBS-ERR-02" => {
            if vendor.is_empty() {
                return None;
            }
            for x in vendor {
                let by_table = x
                    .route
                    .as_deref()
                    .and_then(|r| {
                        kiban_platform::api::ROUTES
                            .iter()
                            .find(|s| s.path == r && s.method == x.method)
                    })
                    .filter(|spec| !routes::allows(spec, subject.role))
                    .filter(|spec| {
                        !(subject.role == Role::Municipality && spec.path == "/v1/session")
                    });
                if let Some(spec) = by_table {
                    out.push(finding(
                        "KIBAN-ERR-006",
                        "routes of the role",
                        &format!(
                            "only routes open to role {} (x-kiban-roles of {} {})",
                            subject.role, spec.method, spec.path
                        ),
                        "a route of other roles was called".to_owned(),
                        x,
                    ));
                    continue;
                }
                let requirement = match x.code.as_deref() {
                    Some("role-forbidden") if subject.role == Role::MedicalInstitution => {
                        "KIBAN-ACC-002"
                    }
                    Some("role-forbidden" | "not-an-office-role") => "KIBAN-ERR-006",
                    Some("not-creator") => "KIBAN-ACC-005",
                    Some("admin-required") => "KIBAN-STF-003",
                    Some("consent-occasion-forbidden") => "KIBAN-CON-003",
                    _ => continue,
                };
                out.push(finding(
                    requirement,
                    "what the role may do",
                    &format!("only what role {} may do", subject.role),
                    format!("refused {}", x.code.as_deref().unwrap_or_default()),
                    x,
                ));
            }
        }
        "OBS-ERR-03" => {
            let mut any = false;
            for (i, x) in vendor.iter().enumerate() {
                let Some(previous) = vendor[..i].iter().rev().find(|p| same_request(p, x)) else {
                    continue;
                };
                any = true;
                let Some(route) = x.route.as_deref() else {
                    continue;
                };
                let kind = route_resend(x, route);
                let check = "safe resend";
                if kind == Some(Resend::SingleUse) {
                    out.push(finding(
                        "KIBAN-ERR-007",
                        check,
                        "a new nonce and a new signature for every verification",
                        format!(
                            "the verification of exchange #{} sent again unchanged",
                            previous.seq
                        ),
                        x,
                    ));
                } else if !previous.injected
                    && matches!(previous.status, 400 | 405 | 413 | 415 | 422)
                {
                    out.push(finding(
                        "KIBAN-ERR-007",
                        check,
                        "no resend of a request the platform refused as such (fix it first)",
                        format!(
                            "sent again unchanged after exchange #{} was answered {} {}",
                            previous.seq,
                            previous.status,
                            previous.code.as_deref().unwrap_or("")
                        ),
                        x,
                    ));
                } else if kind == Some(Resend::Unsafe) && previous.failed_retryably() {
                    out.push(finding(
                        "KIBAN-ERR-007",
                        check,
                        "no resend of a write that is applied again (it takes no Idempotency-Key)",
                        format!(
                            "sent again after exchange #{} was answered {}",
                            previous.seq, previous.status
                        ),
                        x,
                    ));
                }
            }
            // The same bytes under a new key after a failure: a second application if the
            // first had gone through.
            for (i, x) in vendor.iter().enumerate() {
                let Some(route) = x.route.as_deref() else {
                    continue;
                };
                if route_resend(x, route) != Some(Resend::Keyed) {
                    continue;
                }
                let renamed = vendor[..i].iter().rev().find(|p| {
                    p.organisation() == x.organisation()
                        && p.method == x.method
                        && p.path == x.path
                        && p.body_sha256 == x.body_sha256
                        && p.idempotency_key != x.idempotency_key
                        && p.failed_retryably()
                });
                if let Some(p) = renamed {
                    any = true;
                    out.push(finding(
                        "KIBAN-ERR-007",
                        "safe resend",
                        &format!(
                            "a retry under the first key ({})",
                            p.idempotency_key.as_deref().unwrap_or("none")
                        ),
                        format!(
                            "the bytes of exchange #{} (answered {}) sent again under another key",
                            p.seq, p.status
                        ),
                        x,
                    ));
                }
            }
            if !any {
                return None;
            }
        }
        "OBS-ERR-04" => {
            let mut any = false;
            for (i, p) in vendor.iter().enumerate() {
                if !matches!(p.status, 429 | 503) {
                    continue;
                }
                any = true;
                let Some(next) = vendor[i + 1..].iter().find(|x| {
                    x.organisation() == p.organisation() && x.method == p.method && x.path == p.path
                }) else {
                    continue;
                };
                let gap = next.arrived.saturating_sub(p.answered);
                let (wait, said) = match p.retry_after {
                    Some(s) => (Duration::from_secs(s), format!("the Retry-After of {s} s")),
                    None => (
                        subject.min_backoff,
                        format!(
                            "a back-off of at least {} ms (no Retry-After)",
                            subject.min_backoff.as_millis()
                        ),
                    ),
                };
                if gap < wait {
                    out.push(finding(
                        "KIBAN-ERR-008",
                        "wait before resending",
                        &format!(
                            "{said} after exchange #{} ({} {})",
                            p.seq,
                            p.status,
                            p.code.as_deref().unwrap_or("")
                        ),
                        "resent sooner (the exchange log has the measured gap)".to_owned(),
                        next,
                    ));
                }
            }
            if !any {
                return None;
            }
        }
        "OBS-PRV-01" => {
            if vendor.is_empty() {
                return None;
            }
            for x in vendor {
                if x.my_numbers.is_empty() {
                    continue;
                }
                let requirement = if x.route.as_deref() == Some("/v1/municipality/ingest") {
                    "KIBAN-PRV-001"
                } else {
                    "KIBAN-PRV-004"
                };
                out.push(finding(
                    requirement,
                    "no My Number",
                    "persons named by insurer and insured number, card holders by card link",
                    format!(
                        "a My-Number-shaped value (12 digits, valid check digit; redacted) in the {}",
                        x.my_numbers.join(", ")
                    ),
                    x,
                ));
            }
        }
        _ => return None,
    }
    Some(out)
}

fn route_resend(x: &Observed, route: &str) -> Option<Resend> {
    kiban_platform::api::ROUTES
        .iter()
        .find(|s| s.path == route && s.method == x.method)
        .map(Resend::of)
}

fn same_request(p: &Observed, x: &Observed) -> bool {
    p.organisation() == x.organisation()
        && p.method == x.method
        && p.path == x.path
        && p.body_sha256 == x.body_sha256
        && p.idempotency_key == x.idempotency_key
}

/// The inbox discipline: every delivered id acknowledged once (after a fetch, where
/// `fetch` is given), no id acknowledged that was not delivered, none delivered again without
/// an acknowledgement attempt in between.
fn inbox(
    vendor: &[&Observed],
    list: &str,
    ack: &str,
    fetch: Option<&str>,
    requirement: &str,
    out: &mut Vec<Failure>,
) -> Option<()> {
    let id_of = |x: &Observed| -> Option<u64> {
        let path = x.path.split_once('?').map_or(x.path.as_str(), |(p, _)| p);
        let parts: Vec<&str> = path.split('/').collect();
        let i = if x.route.as_deref() == Some(ack) {
            parts.len().checked_sub(2)?
        } else {
            parts.len().checked_sub(1)?
        };
        parts.get(i)?.parse().ok()
    };
    let mut delivered: BTreeMap<u64, &Observed> = BTreeMap::new();
    let mut last_delivery: BTreeMap<u64, u64> = BTreeMap::new();
    let mut attempted_since: BTreeSet<u64> = BTreeSet::new();
    let mut fetched: BTreeSet<u64> = BTreeSet::new();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut any = false;
    let check = "inbox discipline";
    for x in vendor {
        let route = x.route.as_deref();
        if route == Some(list) && x.method == "GET" && (200..300).contains(&x.status) {
            any = true;
            for id in &x.delivered {
                if let Some(before) = last_delivery.get(id) {
                    if !attempted_since.contains(id) && !acked.contains_key(id) {
                        out.push(finding(
                            requirement,
                            check,
                            &format!("an acknowledgement of {id} after it was delivered by exchange #{before}"),
                            format!("{id} delivered again without an acknowledgement attempt"),
                            x,
                        ));
                    }
                }
                delivered.entry(*id).or_insert(x);
                last_delivery.insert(*id, x.seq);
                attempted_since.remove(id);
            }
        } else if fetch.is_some()
            && route == fetch
            && x.method == "GET"
            && (200..300).contains(&x.status)
        {
            if let Some(id) = id_of(x) {
                fetched.insert(id);
            }
        } else if route == Some(ack) && x.method == "POST" && !x.injected {
            any = true;
            let Some(id) = id_of(x) else { continue };
            attempted_since.insert(id);
            if !delivered.contains_key(&id) {
                out.push(finding(
                    requirement,
                    check,
                    "acknowledgements only of delivered ids",
                    format!("{id} acknowledged but never delivered to this system"),
                    x,
                ));
                continue;
            }
            if let Some(first) = acked.get(&id) {
                out.push(finding(
                    requirement,
                    check,
                    "one acknowledgement per delivery",
                    format!("{id} acknowledged again after exchange #{first} was answered"),
                    x,
                ));
                continue;
            }
            if fetch.is_some() && !fetched.contains(&id) {
                out.push(finding(
                    requirement,
                    check,
                    "the file fetched (GET /v1/careplan/files/by-id/{id}) before it is acknowledged",
                    format!("{id} acknowledged without being fetched"),
                    x,
                ));
            }
            if (200..300).contains(&x.status) {
                acked.insert(id, x.seq);
            }
        }
    }
    for (id, x) in &delivered {
        if !acked.contains_key(id) {
            out.push(finding(
                requirement,
                check,
                &format!("{id} acknowledged"),
                "never acknowledged while observed".to_owned(),
                x,
            ));
        }
    }
    any.then_some(())
}
