//! The wire-mode walkthrough behind `kiban demo`: one short, seeded story told end to end over
//! real sockets, written down as `walkthrough.md` and `walkthrough.json`.
//!
//! [`run`] creates a fresh temporary PKI, starts the reference platform (TLS 1.3 with client
//! certificates, in-memory store, simulated clock at 2026-10-01) and the J-LIS mock on
//! 127.0.0.1, and drives the actors of this crate through it:
//!
//! 1. the operator puts Yokohama on the platform and Yokohama uploads a few generated people;
//! 2. a care-management office verifies the first person's card and reads; a second office
//!    that did not verify is refused `not-registered`; consent is recorded on the
//!    municipality's behalf for a consent class;
//! 3. the care plan and the month's 利用票 go to a 訪問介護 provider as MS932 CSV files and its
//!    実績 come back;
//! 4. a physician opinion (sent twice) reaches the municipality's inbox exactly once;
//! 5. the person signs in through the マイナポータル relay, reads their access log and
//!    withdraws consent; the care manager's next consent-class read is refused
//!    `consent-withdrawn`.
//!
//! Each step records its actor, request route, expected and actual outcome (`ok`,
//! `permitted`, or the refusal's code) and a short detail. The files hold only seeded or
//! derived values (insured numbers, office numbers, file names stamped by the simulated
//! clock): no wall-clock time, socket address, token, nonce, certificate serial, card link
//! or My Number, so the same seed writes byte-identical files. A step that fails unexpectedly
//! is recorded and ends the walkthrough early ([`DemoOutcome::completed`] is then false);
//! [`DemoError`] is kept for the harness itself (runtime, PKI, sockets, files).

use std::path::{Path, PathBuf};

use kiban_certs::Organisation;
use kiban_core::id::{CareOfficeNumber, MedicalInstitutionCode, MunicipalityCode};
use kiban_core::time::Date;
use kiban_core::vocab::{InfoClass, Role};
use kiban_platform::careplan::{ClockTime, ServiceCode, ServiceTypeCode, Weekday};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::careplan::{CarePlan, PlannedService, actuals_for, year_month};
use crate::certification::ApplicationKind;
use crate::medical::{OpinionRoute, PhysicianOpinion};
use crate::migration::MigrationState;
use crate::office::{Office, OfficeSpec};
use crate::outcome::{ActorError, ReadOutcome};
use crate::people::{PeopleConfig, generate};
use crate::reader::Presence;
use crate::wire::PersonRef;
use crate::world::{OfficeSetup, TerminalSetup, WireWorld, WorldConfig, WorldError};

/// The walkthrough's municipality (横浜市) and its simulated first day.
const CITY: &str = "141003";
const TODAY: &str = "2026-10-01";
/// How many people Yokohama uploads.
const PEOPLE: usize = 3;
/// The offices' administrator password (a fixed demo value, never written out).
const ADMIN_PASSWORD: &str = "kiban demo administrator";

/// Why the walkthrough could not be run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// [`run`] was called from inside a Tokio runtime (use [`run_async`] there).
    #[error("demo::run blocks and cannot be called inside a Tokio runtime; use run_async")]
    InsideRuntime,
    /// The Tokio runtime could not be built.
    #[error("tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A file or folder could not be written or created.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A local socket could not be bound or served.
    #[error("socket: {0}")]
    Socket(#[source] std::io::Error),
    /// The temporary PKI or the J-LIS CA could not be made.
    #[error("PKI: {0}")]
    Pki(String),
    /// The platform could not be opened.
    #[error("platform: {0}")]
    Platform(String),
    /// The people could not be generated.
    #[error("people: {0}")]
    People(#[from] crate::people::PeopleError),
    /// An actor could not be set up.
    #[error("setup: {0}")]
    Setup(#[from] ActorError),
    /// The JSON log could not be serialised.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<WorldError> for DemoError {
    fn from(e: WorldError) -> DemoError {
        match e {
            WorldError::Io { path, source } => DemoError::Io { path, source },
            WorldError::Socket(e) => DemoError::Socket(e),
            WorldError::Pki(m) => DemoError::Pki(m),
            WorldError::Platform(m) => DemoError::Platform(m),
            WorldError::Actor(e) => DemoError::Setup(e),
        }
    }
}

/// One step of the walkthrough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoStep {
    /// 1-based position.
    pub index: usize,
    /// Who acts (e.g. `care-management 1234567890`).
    pub actor: String,
    /// What they do, in words.
    pub action: String,
    /// The request(s) on the wire (`METHOD /path`), or `(local)` for the actor's own work.
    pub route: String,
    /// The expected outcome: `ok`, `permitted` or a refusal code.
    pub expected: String,
    /// The actual outcome, in the same terms (`error` when no refusal code came back).
    pub actual: String,
    /// Seeded or derived particulars (counts, file names, levels).
    pub detail: String,
}

impl DemoStep {
    /// Whether the actual outcome is the expected one.
    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

/// What the walkthrough came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoOutcome {
    /// The seed.
    pub seed: u64,
    /// Whether every step ran (false when one failed unexpectedly and ended the walk).
    pub completed: bool,
    /// The steps, in order.
    pub steps: Vec<DemoStep>,
    /// Where `walkthrough.md` was written.
    #[serde(skip)]
    pub markdown: PathBuf,
    /// Where `walkthrough.json` was written.
    #[serde(skip)]
    pub json: PathBuf,
}

impl DemoOutcome {
    /// Whether the walk completed and every step came out as expected.
    pub fn passed(&self) -> bool {
        self.completed && !self.steps.is_empty() && self.steps.iter().all(DemoStep::passed)
    }

    /// The steps whose outcome differs from the expected one.
    pub fn failures(&self) -> impl Iterator<Item = &DemoStep> {
        self.steps.iter().filter(|s| !s.passed())
    }
}

/// Runs the walkthrough for `seed` on its own current-thread Tokio runtime and writes
/// `out_dir/walkthrough.md` and `out_dir/walkthrough.json` (creating `out_dir`). Must not be
/// called from inside a Tokio runtime ([`DemoError::InsideRuntime`]); use [`run_async`] there.
pub fn run(out_dir: &Path, seed: u64) -> Result<DemoOutcome, DemoError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(DemoError::InsideRuntime);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DemoError::Runtime)?;
    runtime.block_on(run_async(out_dir, seed))
}

/// [`run`] on the caller's runtime.
pub async fn run_async(out_dir: &Path, seed: u64) -> Result<DemoOutcome, DemoError> {
    let mut world = start_world(seed).await?;
    let mut walk = Walk::default();
    let walked = walkthrough(&mut world, &mut walk, seed).await;
    world.stop().await;
    walked?;
    let mut outcome = DemoOutcome {
        seed,
        completed: walk.completed,
        steps: walk.steps,
        markdown: out_dir.join("walkthrough.md"),
        json: out_dir.join("walkthrough.json"),
    };
    write_files(&mut outcome, out_dir)?;
    Ok(outcome)
}

// ------------------------------------------------------------------ the log

#[derive(Default)]
struct Walk {
    steps: Vec<DemoStep>,
    completed: bool,
}

/// A step that failed unexpectedly: recorded, and the walk stops.
struct Halt;

impl Walk {
    fn record(
        &mut self,
        actor: &str,
        action: &str,
        route: &str,
        expected: &str,
        actual: &str,
        detail: String,
    ) {
        self.steps.push(DemoStep {
            index: self.steps.len() + 1,
            actor: actor.to_owned(),
            action: action.to_owned(),
            route: route.to_owned(),
            expected: expected.to_owned(),
            actual: actual.to_owned(),
            detail,
        });
    }

    /// Records `result`'s failure (expected `expected`) and halts, or hands back its value.
    fn check<T>(
        &mut self,
        result: Result<T, ActorError>,
        actor: &str,
        action: &str,
        route: &str,
        expected: &str,
    ) -> Result<T, Halt> {
        result.map_err(|e| {
            let actual = e
                .reason()
                .map_or_else(|| "error".to_owned(), |r| r.code().to_owned());
            self.record(actor, action, route, expected, &actual, e.to_string());
            Halt
        })
    }

    /// Records a read's outcome against `expected` (`permitted` or a refusal code).
    fn read(
        &mut self,
        result: Result<ReadOutcome, ActorError>,
        actor: &str,
        action: &str,
        route: &str,
        expected: &str,
    ) -> Result<ReadOutcome, Halt> {
        let read = self.check(result, actor, action, route, expected)?;
        let (actual, detail) = match &read {
            ReadOutcome::Permitted(records) => (
                "permitted".to_owned(),
                format!("{} record(s)", records.records.len()),
            ),
            ReadOutcome::Refused(refused) => (refused.reason.code().to_owned(), String::new()),
        };
        self.record(actor, action, route, expected, &actual, detail);
        Ok(read)
    }
}

fn write_files(outcome: &mut DemoOutcome, out_dir: &Path) -> Result<(), DemoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let mut json = serde_json::to_string_pretty(&*outcome)?;
    json.push('\n');
    std::fs::write(&outcome.json, json).map_err(io(&outcome.json))?;
    std::fs::write(&outcome.markdown, markdown(outcome)).map_err(io(&outcome.markdown))?;
    Ok(())
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(outcome: &DemoOutcome) -> String {
    let mut md = format!("# kiban walkthrough (seed {})\n\n", outcome.seed);
    md.push_str(
        "The reference platform (TLS 1.3, client certificates from a fresh PKI, in-memory \
         store, simulated clock) and the J-LIS mock on local sockets; every actor is a real \
         client. Simulated date: ",
    );
    md.push_str(TODAY);
    md.push_str(".\n\n");
    let passed = outcome.steps.iter().filter(|s| s.passed()).count();
    md.push_str(&format!(
        "Result: **{}** — {passed} of {} step(s) as expected{}.\n\n",
        if outcome.passed() { "PASS" } else { "FAIL" },
        outcome.steps.len(),
        if outcome.completed {
            ""
        } else {
            ", walkthrough stopped early"
        },
    ));
    md.push_str("| # | actor | action | request | expected | actual | detail |\n");
    md.push_str("|---|---|---|---|---|---|---|\n");
    for s in &outcome.steps {
        let mark = if s.passed() { "" } else { " ✗" };
        md.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {}{mark} | {} |\n",
            s.index,
            cell(&s.actor),
            cell(&s.action),
            cell(&s.route),
            cell(&s.expected),
            cell(&s.actual),
            cell(&s.detail),
        ));
    }
    md
}

// ------------------------------------------------------------------ the scene

fn setup<T, E: std::fmt::Display>(
    r: Result<T, E>,
    wrap: fn(String) -> DemoError,
) -> Result<T, DemoError> {
    r.map_err(|e| wrap(e.to_string()))
}

fn some<T>(o: Option<T>, what: &str) -> Result<T, DemoError> {
    o.ok_or_else(|| DemoError::Platform(format!("invalid {what}")))
}

fn date(text: &str) -> Result<Date, DemoError> {
    setup(text.parse::<Date>(), DemoError::Platform)
}

/// The world of the walkthrough: Yokohama's first day, the published rules.
async fn start_world(seed: u64) -> Result<WireWorld, DemoError> {
    let today = date(TODAY)?;
    let config = WorldConfig {
        label: format!("demo-{seed}"),
        ..WorldConfig::new(today, today.plus_months(12))
    };
    Ok(WireWorld::start(config).await?)
}

fn care_office(seed: u64) -> Organisation {
    Organisation::CareOffice(CareOfficeNumber::random(&mut ChaCha8Rng::seed_from_u64(
        seed,
    )))
}

fn clinic(seed: u64) -> Organisation {
    Organisation::MedicalInstitution(MedicalInstitutionCode::random(
        &mut ChaCha8Rng::seed_from_u64(seed),
    ))
}

/// Distinct sub-seeds of the walkthrough's seed, one per use.
fn sub(seed: u64, n: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(n)
}

// ------------------------------------------------------------------ the walk

async fn walkthrough(s: &mut WireWorld, w: &mut Walk, seed: u64) -> Result<(), DemoError> {
    match walk(s, w, seed).await {
        Ok(()) => {
            w.completed = true;
            Ok(())
        }
        Err(Stop::Halt(Halt)) => Ok(()),
        Err(Stop::Setup(e)) => Err(e),
    }
}

enum Stop {
    Halt(Halt),
    Setup(DemoError),
}

impl From<Halt> for Stop {
    fn from(h: Halt) -> Stop {
        Stop::Halt(h)
    }
}

impl From<ActorError> for Stop {
    fn from(e: ActorError) -> Stop {
        Stop::Setup(DemoError::Setup(e))
    }
}

impl From<DemoError> for Stop {
    fn from(e: DemoError) -> Stop {
        Stop::Setup(e)
    }
}

/// An office registered by the operator in Yokohama, with terminal `terminal` opened and its
/// administrator signed in; one step.
#[allow(clippy::too_many_arguments)]
async fn office(
    s: &mut WireWorld,
    w: &mut Walk,
    role: Role,
    organisation: Organisation,
    name: &str,
    service_type: Option<&str>,
    terminal: &str,
    seed: u64,
) -> Result<Office, Stop> {
    let city = setup(MunicipalityCode::parse(CITY), DemoError::Platform)?;
    let number = organisation.to_string();
    let actor = format!("operator → {role} {number}");
    let route = format!("PUT /v1/operator/offices/{number}; POST /v1/session");
    let action = format!("registers {name}, opens terminal {terminal}, signs the administrator in");
    let service_type = match service_type {
        Some(t) => Some(some(ServiceTypeCode::parse(t), "service type")?),
        None => None,
    };
    let setup = OfficeSetup {
        spec: OfficeSpec {
            role,
            organisation,
            name: name.to_owned(),
            municipality: city,
            service_type,
        },
        admin_password: ADMIN_PASSWORD.to_owned(),
        seed,
        terminals: vec![TerminalSetup {
            name: terminal.to_owned(),
            days: 365,
            staff: "admin".to_owned(),
        }],
    };
    let office = s.open_office(setup).await;
    let office = w.check(office, &actor, &action, &route, "ok")?;
    w.record(&actor, &action, &route, "ok", "ok", String::new());
    Ok(office)
}

async fn walk(s: &mut WireWorld, w: &mut Walk, seed: u64) -> Result<(), Stop> {
    let today = date(TODAY)?;
    let city_code = setup(MunicipalityCode::parse(CITY), DemoError::Platform)?;
    let mut city = s.municipality_system(city_code, sub(seed, 1))?;
    let config = PeopleConfig {
        municipalities: Some(vec![city_code]),
        card_holding_rate: 1.0,
        representative_rate: 0.0,
        ..PeopleConfig::standard(today)
    };
    let population = generate(sub(seed, 2), PEOPLE, config).map_err(DemoError::from)?;
    let person = &population[0];
    let me = PersonRef::of(person);
    let mut card = setup(
        s.jlis().issue_card(
            some(person.card_request(), "card request")?,
            date("2026-09-01")?.midnight_jst(),
            &mut ChaCha8Rng::seed_from_u64(sub(seed, 3)),
        ),
        DemoError::Pki,
    )?;

    // 1. Yokohama goes live and uploads.
    let actor_city = format!("municipality {CITY} 横浜市");
    let before = today.plus_months(-1);
    let migrated = city
        .migrate(MigrationState::Standardized, before)
        .and_then(|()| city.migrate(MigrationState::Sending, before))
        .and_then(|()| city.migrate(MigrationState::Sharing, today))
        .map_err(ActorError::from);
    let action = "migrates legacy → standardized → sending → sharing";
    w.check(migrated, &actor_city, action, "(local)", "ok")?;
    w.record(
        &actor_city,
        action,
        "(local)",
        "ok",
        "ok",
        format!("sharing from {today}"),
    );
    let route = format!("PUT /v1/operator/municipalities/{CITY}");
    let action = "schedules Yokohama's go-live";
    let live = s
        .operator()
        .enrol_municipality(city_code, Some(today))
        .await;
    w.check(live, "operator 国保中央会", action, &route, "ok")?;
    w.record(
        "operator 国保中央会",
        action,
        &route,
        "ok",
        "ok",
        format!("live from {today}"),
    );
    let enrolled = city.enrol(&population, today);
    let action = format!("uploads {enrolled} generated insured person(s)");
    let route = "POST /v1/municipality/ingest";
    let report = w.check(city.sync().await, &actor_city, &action, route, "ok")?;
    let insured: Vec<String> = population.iter().map(|p| p.insured.to_string()).collect();
    w.record(
        &actor_city,
        &action,
        route,
        "ok",
        "ok",
        format!(
            "{} batch(es), {} item(s), {} person(s) created: {}",
            report.batches,
            report.items,
            report.persons_created,
            insured.join(", ")
        ),
    );

    // 2. Offices; verification; reads.
    let mut cm = office(
        s,
        w,
        Role::CareManagement,
        care_office(sub(seed, 4)),
        "ひまわり居宅介護支援",
        Some("43"),
        "cm-1",
        sub(seed, 5),
    )
    .await?;
    let other = office(
        s,
        w,
        Role::CareManagement,
        care_office(sub(seed, 6)),
        "さくら居宅介護支援",
        Some("43"),
        "cm-9",
        sub(seed, 7),
    )
    .await?;
    let help = office(
        s,
        w,
        Role::CareService,
        care_office(sub(seed, 8)),
        "ケアサービス髙橋",
        Some("11"),
        "help-1",
        sub(seed, 9),
    )
    .await?;
    let doctor = office(
        s,
        w,
        Role::MedicalInstitution,
        clinic(sub(seed, 10)),
        "みなと内科",
        None,
        "emr-1",
        sub(seed, 11),
    )
    .await?;
    let cm_actor = format!("care-management {}", cm.number());
    let other_actor = format!("care-management {} (did not verify)", other.number());
    let help_actor = format!("care-service {}", help.number());
    let doctor_actor = format!("medical institution {}", doctor.number());

    let route = "POST /v1/identity/nonce; POST /v1/identity/verify";
    let action = format!(
        "verifies insured {}'s My Number card at contract (PIN)",
        person.insured
    );
    let pin = person
        .pin()
        .ok_or_else(|| DemoError::Pki("generated card without a PIN".into()))?;
    let verified = cm
        .verify("cm-1", &mut card, Presence::Pin(pin), s.now())
        .await;
    let verified = w.check(verified, &cm_actor, &action, route, "ok")?;
    w.record(
        &cm_actor,
        &action,
        route,
        "ok",
        "ok",
        format!("registered after {} attempt(s)", verified.attempts),
    );

    let read_route = |class: InfoClass| format!("GET {}", me.path(&format!("classes/{class}")));
    let class = InfoClass::InsuranceCard;
    let read = cm.read("cm-1", me, class).await;
    w.read(
        read,
        &cm_actor,
        "reads the insurance card",
        &read_route(class),
        "permitted",
    )?;
    let read = other.read("cm-9", me, class).await;
    w.read(
        read,
        &other_actor,
        "reads the insurance card",
        &read_route(class),
        "not-registered",
    )?;
    let consent_class = InfoClass::CertificationSurvey;
    let read = cm.read("cm-1", me, consent_class).await;
    w.read(
        read,
        &cm_actor,
        "reads the certification survey (a consent class)",
        &read_route(consent_class),
        "consent-missing",
    )?;
    let route = format!("PUT {}", me.path("consent"));
    let action = "records the person's consent on the municipality's behalf";
    let consent = cm.consent_on_behalf("cm-1", me, None).await;
    w.check(consent, &cm_actor, action, &route, "ok")?;
    w.record(&cm_actor, action, &route, "ok", "ok", String::new());
    let read = cm.read("cm-1", me, consent_class).await;
    w.read(
        read,
        &cm_actor,
        "reads the certification survey again",
        &read_route(consent_class),
        "permitted",
    )?;

    // 3. The care-plan CSV exchange.
    let (Some(cm_end), Some(help_end)) = (cm.spec().endpoint(), help.spec().endpoint()) else {
        return Err(DemoError::Platform("office without an exchange endpoint".into()).into());
    };
    let Some(certification) = city.certification_of(person.insured) else {
        return Err(DemoError::Platform("the person has no certification".into()).into());
    };
    let mut plan = CarePlan::for_person(
        person,
        certification,
        cm_end,
        "ひまわり居宅介護支援",
        "山田 花子",
        today,
    );
    let code = |c: &str| some(ServiceCode::parse(c), "service code");
    let time = |h, m| some(ClockTime::new(h, m), "clock time");
    plan.services = vec![
        PlannedService {
            provider: help_end,
            provider_name: "ケアサービス髙橋".into(),
            service_kind: "訪問介護".into(),
            content: "入浴介助".into(),
            code: code("111211")?,
            units: 387,
            weekdays: vec![Weekday::Monday, Weekday::Thursday],
            start: time(10, 0)?,
            end: time(10, 30)?,
        },
        PlannedService {
            provider: help_end,
            provider_name: "ケアサービス髙橋".into(),
            service_kind: "訪問介護".into(),
            content: "掃除・調理（生活援助）".into(),
            code: code("111111")?,
            units: 244,
            weekdays: vec![Weekday::Wednesday],
            start: time(14, 0)?,
            end: time(14, 45)?,
        },
    ];
    let action = "writes the care plan and November's 利用票 as MS932 CSV files and sends them";
    let route = "PUT /v1/careplan/files/{name}";
    let november = w.check(
        date("2026-11-01")
            .map_err(|e| ActorError::Unexpected(e.to_string()))
            .and_then(year_month),
        &cm_actor,
        action,
        route,
        "ok",
    )?;
    let sent_at = s.now().plus_seconds(10 * 3600);
    let files = plan.plan_files(help_end, sent_at).and_then(|mut files| {
        files.extend(plan.usage_files(help_end, november, today, sent_at.plus_seconds(60))?);
        Ok(files)
    });
    let files = w.check(files, &cm_actor, action, route, "ok")?;
    let receipts = cm.send_files("cm-1", &files).await;
    let receipts = w.check(receipts, &cm_actor, action, route, "ok")?;
    let names: Vec<String> = files.iter().map(|f| f.name.to_string()).collect();
    w.record(
        &cm_actor,
        action,
        route,
        "ok",
        "ok",
        format!("{} file(s): {}", receipts.len(), names.join(", ")),
    );

    let action = "fetches, parses and acknowledges the files";
    let route = "GET /v1/careplan/inbox; GET /v1/careplan/files/by-id/{id}; POST /v1/careplan/inbox/{id}/ack";
    let received = help.receive_files("help-1").await;
    let received = w.check(received, &help_actor, action, route, "ok")?;
    let intact = received.len() == files.len()
        && received.iter().all(|r| {
            r.parsed.findings.is_empty()
                && files.iter().any(|f| f.name == r.name && f.bytes == r.bytes)
        });
    w.record(
        &help_actor,
        action,
        route,
        "ok",
        if intact { "ok" } else { "mismatch" },
        format!(
            "{} file(s), byte for byte as sent, no findings: {intact}",
            received.len()
        ),
    );

    let action = "answers the 予定 with its 実績";
    let route = "PUT /v1/careplan/files/{name}";
    let planned = received
        .iter()
        .find(|f| f.kind() == kiban_platform::careplan::FileKind::Plan);
    let actual = match planned {
        Some(planned) => date("2026-12-02")
            .map_err(|e| ActorError::Unexpected(e.to_string()))
            .and_then(|on| actuals_for(planned, help_end, on, sent_at.plus_days(40))),
        None => Ok(None),
    };
    let actual = w.check(actual, &help_actor, action, route, "ok")?;
    let Some(actual) = actual else {
        w.record(
            &help_actor,
            action,
            route,
            "ok",
            "no-plan-lines",
            String::new(),
        );
        return Err(Halt.into());
    };
    let sent = help
        .send_files("help-1", std::slice::from_ref(&actual))
        .await;
    w.check(sent, &help_actor, action, route, "ok")?;
    w.record(
        &help_actor,
        action,
        route,
        "ok",
        "ok",
        actual.name.to_string(),
    );

    let action = "receives the 実績";
    let route = "GET /v1/careplan/inbox; GET /v1/careplan/files/by-id/{id}; POST /v1/careplan/inbox/{id}/ack";
    let back = cm.receive_files("cm-1").await;
    let back = w.check(back, &cm_actor, action, route, "ok")?;
    let same = back.len() == 1 && back[0].bytes == actual.bytes;
    let lines = back.first().map_or(0, |f| f.parsed.records.len());
    w.record(
        &cm_actor,
        action,
        route,
        "ok",
        if same { "ok" } else { "mismatch" },
        format!("{} file(s), {lines} record(s)", back.len()),
    );

    // 4. A physician opinion reaches the inbox once.
    let action = "applies for a change of care level (区分変更) and uploads the application";
    let route = "POST /v1/municipality/ingest";
    let applied = city.apply(
        person.insured,
        ApplicationKind::Change,
        today,
        None,
        &doctor.number(),
    );
    let applied = w.check(applied, &actor_city, action, route, "ok")?;
    let synced = city.sync().await;
    let synced = w.check(synced, &actor_city, action, route, "ok")?;
    w.record(
        &actor_city,
        action,
        route,
        "ok",
        "ok",
        format!(
            "opinion request {}; {} item(s)",
            applied.opinion_request.reference, synced.items
        ),
    );

    let opinion = PhysicianOpinion::write(
        applied.opinion_request.clone(),
        date("2026-10-10")?,
        "港 太郎",
        4,
    );
    let action = "submits the physician opinion by the web route, then again (same key)";
    let route = "POST /v1/submissions";
    let first = doctor
        .submit_opinion("emr-1", &opinion, OpinionRoute::Web)
        .await;
    let first = w.check(first, &doctor_actor, action, route, "ok")?;
    let again = doctor
        .submit_opinion("emr-1", &opinion, OpinionRoute::Web)
        .await;
    let again = w.check(again, &doctor_actor, action, route, "ok")?;
    w.record(
        &doctor_actor,
        action,
        route,
        "ok",
        if first.id == again.id {
            "ok"
        } else {
            "duplicated"
        },
        format!(
            "key {}; the resend replays the first receipt: {}",
            opinion.idempotency_key(),
            first.id == again.id
        ),
    );
    let action = "polls and acknowledges its inbox";
    let route = "GET /v1/municipality/inbox; POST /v1/municipality/inbox/{id}/ack";
    let polled = city.poll_inbox(date("2026-10-11")?).await;
    let polled = w.check(polled, &actor_city, action, route, "ok")?;
    let once = polled.opinions == [applied.case]
        && polled.processed.len() == 1
        && polled.acknowledged.len() == 1;
    w.record(
        &actor_city,
        action,
        route,
        "ok",
        if once { "ok" } else { "mismatch" },
        format!(
            "{} message(s), {} opinion(s) matched to case {}",
            polled.processed.len(),
            polled.opinions.len(),
            applied.case.0
        ),
    );
    let action = "polls its inbox again";
    let polled = city.poll_inbox(date("2026-10-12")?).await;
    let polled = w.check(polled, &actor_city, action, route, "ok")?;
    w.record(
        &actor_city,
        action,
        route,
        "ok",
        if polled.processed.is_empty() {
            "ok"
        } else {
            "duplicated"
        },
        format!("{} new message(s)", polled.processed.len()),
    );

    // 5. The person through the portal.
    let mut portal = s.portal("pmh-01", sub(seed, 12))?;
    let person_actor = format!("person {} via マイナポータル", person.insured);
    let action = "signs in with the My Number card (PIN)";
    let route = "POST /v1/identity/nonce; POST /v1/portal/session";
    let session = portal.sign_in(&mut card, Presence::Pin(pin), s.now()).await;
    let session = w.check(session, &person_actor, action, route, "ok")?;
    w.record(&person_actor, action, route, "ok", "ok", String::new());
    let action = "reads their access log";
    let route = format!("GET {}", me.path("access-log"));
    let log = portal.access_log(&session, me).await;
    let log = w.check(log, &person_actor, action, &route, "ok")?;
    let reads_by_cm = log
        .iter()
        .filter(|e| {
            e.entry["action"] == "read" && e.entry["by"]["org"] == serde_json::json!(cm.number())
        })
        .count();
    w.record(
        &person_actor,
        action,
        &route,
        "ok",
        "ok",
        format!(
            "{} entr(ies), {reads_by_cm} read(s) by {}",
            log.len(),
            cm.number()
        ),
    );
    let action = "withdraws consent";
    let route = format!("DELETE {}", me.path("consent"));
    let withdrawn = portal.withdraw_consent(&session, me).await;
    let withdrawn = w.check(withdrawn, &person_actor, action, &route, "ok")?;
    w.record(
        &person_actor,
        action,
        &route,
        "ok",
        "ok",
        format!("{:?}", withdrawn.action).to_lowercase(),
    );
    let action = "signs out";
    let signed_out = portal.sign_out(session).await;
    w.check(
        signed_out,
        &person_actor,
        action,
        "DELETE /v1/portal/session",
        "ok",
    )?;
    w.record(
        &person_actor,
        action,
        "DELETE /v1/portal/session",
        "ok",
        "ok",
        String::new(),
    );

    let read = cm.read("cm-1", me, consent_class).await;
    w.read(
        read,
        &cm_actor,
        "reads the certification survey after the withdrawal",
        &read_route(consent_class),
        "consent-withdrawn",
    )?;
    let read = cm.read("cm-1", me, class).await;
    w.read(
        read,
        &cm_actor,
        "reads the insurance card (not a consent class)",
        &read_route(class),
        "permitted",
    )?;
    Ok(())
}
