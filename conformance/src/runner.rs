//! The runner: builds the clients from the target, sets up what every case shares (the
//! municipalities' go-live dates and the slot offices, through the operator API), then runs the
//! selected cases `jobs` at a time, each under its own timeout, and the exclusive ones (which
//! move the platform clock) alone afterwards in id order. Results are ordered by case id, so
//! a report does not depend on `jobs` or on timing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiban_actors::jlis::{JlisMock, JlisServer};
use kiban_certs::store::PkiDir;
use kiban_certs::{Clock, ManualClock, SystemClock};
use kiban_core::rules::{ConsentExpiry, LapsePolicy};
use ring::rand::SecureRandom;
use serde_json::json;

use crate::catalogue::Area;
use crate::http::{Client, Req};
use crate::report::{CaseResult, Outcome, Report};
use crate::suite::{ADMIN_PASSWORD, CaseDef, Ctx, Need, Shared, Stop};
use crate::target::{JlisAccess, Slot, Target};

/// Which cases to run. Empty lists select everything; a case must match every non-empty list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Case ids or id prefixes (`TLS-01`, `CON-`).
    pub ids: Vec<String>,
    /// Areas.
    pub areas: Vec<Area>,
    /// Tags (a case matches if it has any of them).
    pub tags: Vec<String>,
}

impl Filter {
    /// Whether `case` is selected.
    pub fn selects(&self, case: &CaseDef) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|p| case.id.starts_with(p.as_str())))
            && (self.areas.is_empty() || self.areas.contains(&case.area))
            && (self.tags.is_empty() || case.tags.iter().any(|t| self.tags.iter().any(|s| s == t)))
    }
}

/// How to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Cases run at once (at least 1).
    pub jobs: usize,
    /// Which cases.
    pub filter: Filter,
    /// Time allowed for one case (and for one exchange).
    pub timeout: Duration,
    /// Five digits that make this run's fixtures unique (default: random). Fixture insured
    /// numbers are these digits, three of the case and two of the fixture (the CSV standard
    /// wants 10 digits).
    pub run_tag: Option<String>,
}

impl Default for RunOptions {
    /// 4 jobs, every case, 60 s per case.
    fn default() -> Self {
        RunOptions {
            jobs: 4,
            filter: Filter::default(),
            timeout: Duration::from_secs(60),
            run_tag: None,
        }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The target's certificates or J-LIS CA could not be used.
    #[error("target: {0}")]
    Target(String),
    /// The runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// A run tag that is not five upper-case letters.
    #[error("run tag {0:?} must be five digits")]
    RunTag(String),
}

/// Runs the suite against `target` on a runtime of its own (do not call it from async code;
/// use [`run_async`] there).
pub fn run(target: &Target, options: &RunOptions) -> Result<Report, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.jobs.clamp(1, 16))
        .enable_all()
        .build()?;
    runtime.block_on(run_async(target, options))
}

/// Runs the suite against `target`.
pub async fn run_async(target: &Target, options: &RunOptions) -> Result<Report, RunError> {
    let started = Instant::now();
    let run_tag = match &options.run_tag {
        Some(tag) if tag.len() == 5 && tag.bytes().all(|b| b.is_ascii_digit()) => tag.clone(),
        Some(tag) => return Err(RunError::RunTag(tag.clone())),
        None => random_tag()?,
    };
    let (shared, _jlis_server) = build_shared(target, options, run_tag).await?;
    let shared = Arc::new(shared);
    let selected: Vec<(usize, CaseDef)> = crate::cases::all()
        .into_iter()
        .enumerate()
        .filter(|(_, c)| options.filter.selects(c))
        .collect();
    let mut results: BTreeMap<&'static str, CaseResult> = BTreeMap::new();
    let setup = setup(&shared).await;
    let mut parallel = Vec::new();
    let mut exclusive = Vec::new();
    for (index, case) in selected {
        if let Err(message) = &setup {
            results.insert(
                case.id,
                CaseResult::new(
                    &case,
                    Outcome::Error {
                        message: format!("suite setup failed: {message}"),
                    },
                    Duration::ZERO,
                ),
            );
            continue;
        }
        if let Some(reason) = missing_need(&shared, &case) {
            results.insert(
                case.id,
                CaseResult::new(&case, Outcome::Skip { reason }, Duration::ZERO),
            );
            continue;
        }
        if case.exclusive {
            exclusive.push((index, case));
        } else {
            parallel.push((index, case));
        }
    }
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let mut ids = BTreeMap::new();
    for (index, case) in parallel {
        let shared = shared.clone();
        let semaphore = semaphore.clone();
        let timeout = options.timeout;
        let handle = set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            run_case(shared, index, case, timeout).await
        });
        ids.insert(handle.id(), case);
    }
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((_, result)) => {
                results.insert(result.case_id(), result);
            }
            Err(e) => {
                if let Some(case) = ids.get(&e.id()) {
                    results.insert(
                        case.id,
                        CaseResult::new(
                            case,
                            Outcome::Error {
                                message: format!("the case panicked: {e}"),
                            },
                            Duration::ZERO,
                        ),
                    );
                }
            }
        }
    }
    for (index, case) in exclusive {
        let result = run_case(shared.clone(), index, case, options.timeout).await;
        results.insert(case.id, result);
    }
    Ok(Report::new(
        target,
        options,
        &shared.run_tag,
        results.into_values().collect(),
        started.elapsed(),
    ))
}

async fn run_case(
    shared: Arc<Shared>,
    index: usize,
    case: CaseDef,
    timeout: Duration,
) -> CaseResult {
    let started = Instant::now();
    let cx = Ctx::new(shared, index);
    let outcome = match tokio::time::timeout(timeout, (case.run)(cx)).await {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(Stop::Fail(failure))) => Outcome::Fail { failure },
        Ok(Err(Stop::Skip(reason))) => Outcome::Skip { reason },
        Ok(Err(Stop::Error(message))) => Outcome::Error { message },
        Err(_) => Outcome::Error {
            message: format!("timed out after {timeout:?}"),
        },
    };
    CaseResult::new(&case, outcome, started.elapsed())
}

/// The first need of `case` the target does not meet, as a skip reason.
fn missing_need(shared: &Shared, case: &CaseDef) -> Option<String> {
    case.needs.iter().find_map(|need| {
        let met = match need {
            Need::Slot(slot) => shared.clients.contains_key(slot),
            Need::SimClock => shared.sim_clock.is_some(),
            Need::Issuer => shared.issuer.is_some(),
            Need::Jlis => shared.jlis.is_some(),
            Need::ConsentModel(model) => shared.policy.consent.model == *model,
            Need::ConsentExpiresWithCertification => {
                shared.policy.consent.expiry == ConsentExpiry::WithCertificationPeriod
            }
            Need::LapseAfterInactivity => {
                matches!(shared.policy.lapse, LapsePolicy::AfterInactivity { .. })
            }
        };
        (!met).then(|| format!("needs {need}"))
    })
}

fn random_tag() -> Result<String, RunError> {
    let mut bytes = [0u8; 5];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RunError::Target("no randomness for the run tag".to_owned()))?;
    Ok(bytes.iter().map(|b| char::from(b'0' + b % 10)).collect())
}

async fn build_shared(
    target: &Target,
    options: &RunOptions,
    run_tag: String,
) -> Result<(Shared, Option<JlisServer>), RunError> {
    let (tls_clock, sim_clock): (Arc<dyn Clock>, Option<Arc<ManualClock>>) = if target.sim_clock {
        let manual = Arc::new(ManualClock::new(
            target.start.unwrap_or_else(|| SystemClock.now()),
        ));
        (manual.clone(), Some(manual))
    } else {
        (Arc::new(SystemClock), None)
    };
    let mut clients = BTreeMap::new();
    let mut orgs = BTreeMap::new();
    for (slot, creds) in &target.clients {
        let config = kiban_certs::tls::client_config(
            &target.server_ca,
            creds.credentials.clone(),
            tls_clock.clone(),
        )
        .map_err(|e| RunError::Target(format!("[clients.{slot}]: {e}")))?;
        clients.insert(
            *slot,
            Client::new(
                slot.as_str(),
                target.addr,
                &target.server_name,
                config,
                options.timeout,
            ),
        );
        orgs.insert(*slot, creds.identity.principal.organisation().to_string());
    }
    let issuer = match &target.pki {
        Some(pki) => Some(Mutex::new(
            PkiDir::open(&pki.dir).map_err(|e| RunError::Target(format!("[pki]: {e}")))?,
        )),
        None => None,
    };
    let (jlis, server) = match &target.jlis {
        None => (None, None),
        Some(JlisAccess::InProcess(mock)) => (Some(mock.clone()), None),
        Some(JlisAccess::Serve { listen, ca_pem }) => {
            let ca = crate::target::jlis_ca(ca_pem).map_err(|e| RunError::Target(e.to_string()))?;
            let mock = JlisMock::new(ca, tls_clock.clone());
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| RunError::Target(format!("[jlis] listen {listen}: {e}")))?;
            let server = mock.serve(listener)?;
            (Some(mock), Some(server))
        }
    };
    Ok((
        Shared {
            clients,
            orgs,
            target: target.clone(),
            run_tag,
            policy: target.policy,
            tls_clock,
            sim_clock,
            issuer,
            jlis,
            timeout: options.timeout,
        },
        server,
    ))
}

/// Sets the clock, the go-live dates of the two municipalities and the slot offices.
async fn setup(shared: &Arc<Shared>) -> Result<(), String> {
    let Some(operator) = shared.clients.get(&Slot::Operator) else {
        return Err("the target has no [clients.operator]: the runner sets up its fixtures through the operator API".to_owned());
    };
    let set_clock = match (&shared.sim_clock, shared.target.start) {
        (Some(clock), Some(start)) => Some((clock.as_ref(), start)),
        _ => None,
    };
    setup_world(operator, &shared.orgs, set_clock, shared.tls_clock.as_ref()).await
}

/// The world every run (and observe mode) starts from, set up through the operator API: the
/// platform clock (with `set_clock`, also moving the runner's own clock), the municipality
/// slot live since 30 days before today on `clock`, the pending municipality not live, and
/// the slot offices with [`ADMIN_PASSWORD`] for their administrator.
pub(crate) async fn setup_world(
    operator: &Client,
    orgs: &BTreeMap<Slot, String>,
    set_clock: Option<(&ManualClock, kiban_core::time::Timestamp)>,
    clock: &dyn Clock,
) -> Result<(), String> {
    let check = |ex: crate::http::Exchange, what: &str| -> Result<(), String> {
        if (200..300).contains(&ex.status()) {
            Ok(())
        } else {
            Err(format!("{what}: {}\n{ex}", ex.summary()))
        }
    };
    if let Some((sim_clock, start)) = set_clock {
        let ex = operator
            .send(
                &Req::put("/v1/operator/clock")
                    .json(&json!({"unix_seconds": start.unix_seconds()})),
            )
            .await;
        check(ex, "setting the platform clock")?;
        sim_clock.set(start);
    }
    let today = clock.now().date_jst();
    let municipalities = [
        (
            Slot::Municipality,
            json!({"live_from": today.plus_days(-30).to_string()}),
        ),
        (Slot::MunicipalityPending, json!({"live_from": null})),
    ];
    for (slot, body) in municipalities {
        let Some(code) = orgs.get(&slot) else {
            continue;
        };
        let ex = operator
            .send(&Req::put(format!("/v1/operator/municipalities/{code}")).json(&body))
            .await;
        check(ex, &format!("scheduling municipality {code} ({slot})"))?;
    }
    let offices = [
        (Slot::CareManagement, Slot::Municipality),
        (Slot::CareService, Slot::Municipality),
        (Slot::Facility, Slot::Municipality),
        (Slot::MedicalInstitution, Slot::Municipality),
        (Slot::CareServicePending, Slot::MunicipalityPending),
    ];
    for (slot, located) in offices {
        let (Some(number), Some(municipality)) = (orgs.get(&slot), orgs.get(&located)) else {
            continue;
        };
        let body = json!({"role": slot.role().as_str(), "municipality": municipality, "admin_password": ADMIN_PASSWORD});
        let ex = operator
            .send(&Req::put(format!("/v1/operator/offices/{number}")).json(&body))
            .await;
        check(ex, &format!("registering office {number} ({slot})"))?;
    }
    Ok(())
}
