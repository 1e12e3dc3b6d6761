//! Wire mode: a scenario's named world run against the real reference platform over
//! loopback mTLS, with the actors of `kiban_actors` doing every step through the platform's
//! public API.
//!
//! Setup (on the scenario's first day): a [`WireWorld`] under the scenario's `[policy]`;
//! each listed municipality's system is put on the platform with its go-live date from the
//! run's rollout (the same generator stream as model mode, so the same dates); each named
//! office is registered by the operator with its terminals (certificates valid `days` from
//! the first day) and their staff signed in; each named person is generated from the seed
//! (insured at their insurer, with a My Number card unless `card = false`, and a
//! representative with their own card if asked), and their insurer uploads them.
//!
//! The clock: the steps run in date order (file order within a date); before the first step
//! of a new date the operator sets the platform's clock to that date's **JST midnight** (the
//! instant model mode decides at) and publishes a fresh CRL. Staff sessions last 8 hours, so
//! on a new date a terminal's first call is refused `invalid-session`; its staff member then
//! signs in again and the call is made once more (a staff member who left cannot, and the
//! refusal stands). A decide step is a real read of the class: `permit`, or the refusal's
//! problem code (a core reason, or a platform code such as `staff-disabled`). A refusal at
//! the TLS handshake instead of on a kept-alive connection counts by its alert
//! (`certificate-revoked`, `certificate-expired`, otherwise `tls-refused`). An action is
//! `applied`, or `refused: <code>`.
//!
//! Nothing of the run that is random or wall-clock reaches the results: certificate serials,
//! tokens, nonces, card links and My Numbers stay inside the actors; the report names
//! offices by their seeded numbers and people by their seeded insured numbers.

use std::collections::BTreeSet;

use kiban_actors::card::Card;
use kiban_actors::client::ClientError;
use kiban_actors::municipality::{CounterCheck, Municipality};
use kiban_actors::office::{Office, OfficeSpec};
use kiban_actors::outcome::{ActorError, ReadOutcome, Reason};
use kiban_actors::people::{PeopleConfig, Person, generate};
use kiban_actors::portal::Portal;
use kiban_actors::reader::Presence;
use kiban_actors::wire::PersonRef;
use kiban_actors::world::{OfficeSetup, TerminalSetup, WireWorld, WorldConfig};
use kiban_certs::Organisation;
use kiban_core::geo::Municipalities;
use kiban_core::id::{CareOfficeNumber, InsuredNumber, MedicalInstitutionCode, MunicipalityCode};
use kiban_core::rules::{AccessMatrix, Rules};
use kiban_core::time::Date;
use kiban_core::vocab::Role;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::EngineError;
use crate::rollout;
use crate::run::{RunOptions, RunOutcome, VariantStats, Verdict, describe_action, describe_step};
use crate::scenario::{
    Action, Expected, Reader, RepresentativeKind, Scenario, Selection, Step, StepKind,
};

/// Runs an office call; if the platform answers `invalid-session` (sessions last 8 hours,
/// the clock moved on), the terminal's staff member signs in again and the call is made
/// once more. A staff member who left cannot sign in, and the first answer stands.
macro_rules! fresh {
    ($office:expr, $terminal:expr, $call:expr) => {{
        let first = $call;
        let expired = matches!(&first, Err(e) if e.reason() == Some(Reason::InvalidSession));
        let staff = $office.signed_in($terminal).map(str::to_owned);
        match staff {
            Some(staff) if expired && $office.sign_in($terminal, &staff).await.is_ok() => $call,
            _ => first,
        }
    }};
}

/// The administrators' initial password (a fixed value; never written out).
const ADMIN_PASSWORD: &str = "kiban scenario administrator";

/// One row of a wire run: what was done or read, by whom, and how it came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireStep {
    /// Step number (file order).
    pub number: usize,
    /// Its line in the scenario file.
    pub line: usize,
    /// The date (run at its JST midnight).
    pub date: Date,
    /// Who acts (office and terminal, municipality, holder via the portal).
    pub actor: String,
    /// What they do, with the scenario's names.
    pub action: String,
    /// The request(s) on the wire, as route templates.
    pub request: String,
    /// `permit`, a refusal code, or `applied`.
    pub expected: String,
    /// What happened, in the same terms.
    pub actual: String,
    /// Whether they agree.
    pub passed: bool,
    /// The step's note.
    pub note: String,
}

/// A municipality of the world as set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetupMunicipality {
    pub code: MunicipalityCode,
    pub name: String,
    pub live_from: Option<Date>,
}

/// A terminal as set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetupTerminal {
    pub name: String,
    pub staff: String,
    /// The certificate's last valid instant is this date's JST midnight.
    pub valid_until: Date,
}

/// An office as set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetupOffice {
    pub name: String,
    pub role: Role,
    pub number: String,
    pub municipality: MunicipalityCode,
    pub terminals: Vec<SetupTerminal>,
}

/// A person as set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetupPerson {
    pub name: String,
    pub insurer: MunicipalityCode,
    pub insured: InsuredNumber,
    pub card: bool,
    pub representative: Option<RepresentativeKind>,
}

/// Everything a wire report needs.
#[derive(Debug, Clone)]
pub(crate) struct WireResults {
    pub seed: u64,
    pub municipalities: Vec<SetupMunicipality>,
    pub offices: Vec<SetupOffice>,
    pub people: Vec<SetupPerson>,
    pub steps: Vec<WireStep>,
    pub verdicts: Vec<Verdict>,
    pub stats: VariantStats,
}

/// Runs a wire scenario on its own current-thread runtime and writes its report.
pub(crate) fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunOutcome, EngineError> {
    if let Some(s) = options.scale {
        if !(s > 0.0 && s <= 1.0) {
            return Err(EngineError::Options(format!(
                "scale must be in (0, 1], found {s}"
            )));
        }
        // A wire world has no generated population; like model mode, a scale override
        // leaves such a world alone.
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(EngineError::InsideRuntime);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::Wire(format!("tokio runtime: {e}")))?;
    let results = runtime.block_on(run_async(scenario, options))?;
    let files = crate::report::wire::write(scenario, options, &results)?;
    Ok(RunOutcome {
        verdicts: results.verdicts.clone(),
        files,
        stats: vec![results.stats.clone()],
    })
}

/// Distinct sub-seeds of the run's seed, one per use.
fn sub(seed: u64, n: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(n)
        .rotate_left(17)
}

fn setup_err(what: &str) -> impl Fn(ActorError) -> EngineError + '_ {
    move |e| EngineError::Wire(format!("{what}: {e}"))
}

async fn run_async(scenario: &Scenario, options: &RunOptions) -> Result<WireResults, EngineError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let geo = Municipalities::embedded();
    let Selection::Codes(codes) = &scenario.world.municipalities else {
        return Err(EngineError::Wire(
            "a wire world lists its municipalities".into(),
        ));
    };
    let munis: Vec<&kiban_core::geo::Municipality> =
        codes.iter().filter_map(|c| geo.get(*c)).collect();
    // The same rollout stream as model mode: the same scenario gives the same dates.
    let mut rollout_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0072_6f6c_6c6f_7574);
    let schedule = rollout::schedule(&mut rollout_rng, &munis, &scenario.rollout, &[]);
    let baseline = scenario
        .variants
        .first()
        .ok_or_else(|| EngineError::Wire("no baseline".into()))?;
    let config = WorldConfig {
        rules: Rules {
            matrix: AccessMatrix::published(),
            policy: baseline.policy,
        },
        label: "scenario".to_owned(),
        ..WorldConfig::new(scenario.start, scenario.end)
    };
    let mut world = WireWorld::start(config)
        .await
        .map_err(|e| EngineError::Wire(e.to_string()))?;
    let setup = Setup::build(&mut world, scenario, seed, &munis, &schedule.live_from).await;
    let results = match setup {
        Ok(mut setup) => {
            let steps = setup.run_steps(&mut world, scenario).await;
            steps.map(|steps| setup.results(scenario, seed, steps))
        }
        Err(e) => Err(e),
    };
    world.stop().await;
    results
}

/// A named office on the platform.
struct LiveOffice {
    office: Office,
    /// Terminal names in scenario order.
    terminals: Vec<String>,
    /// Each terminal's configured certificate days.
    days: Vec<u32>,
    /// Each terminal's configured staff.
    staff: Vec<String>,
}

/// A named person: their record, their card and their representative's.
struct LivePerson {
    person: Person,
    card: Option<Card>,
    agent: Option<(Card, kiban_actors::card::Pin)>,
}

struct Setup {
    municipalities: Vec<SetupMunicipality>,
    cities: Vec<Municipality>,
    offices: Vec<LiveOffice>,
    setup_offices: Vec<SetupOffice>,
    people: Vec<LivePerson>,
    portal: Portal,
}

impl Setup {
    async fn build(
        world: &mut WireWorld,
        scenario: &Scenario,
        seed: u64,
        munis: &[&kiban_core::geo::Municipality],
        live_from: &[Option<Date>],
    ) -> Result<Setup, EngineError> {
        let start = scenario.start;
        let mut cities = Vec::new();
        let mut municipalities = Vec::new();
        for (i, m) in munis.iter().enumerate() {
            let mut city = world
                .municipality_system(m.code, sub(seed, 0x100 + i as u64))
                .map_err(setup_err("municipality system"))?;
            world
                .put_on_platform(&mut city, start.plus_months(-1), live_from[i])
                .await
                .map_err(setup_err("putting a municipality on the platform"))?;
            cities.push(city);
            municipalities.push(SetupMunicipality {
                code: m.code,
                name: m.name.clone(),
                live_from: live_from[i],
            });
        }

        let mut numbers = BTreeSet::new();
        let mut offices = Vec::new();
        let mut setup_offices = Vec::new();
        for (i, o) in scenario.world.offices.iter().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(sub(seed, 0x200 + i as u64));
            let organisation = loop {
                let org = match o.role {
                    Role::MedicalInstitution => {
                        Organisation::MedicalInstitution(MedicalInstitutionCode::random(&mut rng))
                    }
                    _ => Organisation::CareOffice(CareOfficeNumber::random(&mut rng)),
                };
                if numbers.insert(org.to_string()) {
                    break org;
                }
            };
            let terminals: Vec<TerminalSetup> = o
                .terminals
                .iter()
                .map(|t| TerminalSetup {
                    name: t.name.clone(),
                    days: t.days,
                    staff: t.staff.clone(),
                })
                .collect();
            let office = world
                .open_office(OfficeSetup {
                    spec: OfficeSpec {
                        role: o.role,
                        organisation,
                        name: o.name.clone(),
                        municipality: o.municipality,
                        service_type: None,
                    },
                    admin_password: ADMIN_PASSWORD.to_owned(),
                    seed: sub(seed, 0x300 + i as u64),
                    terminals,
                })
                .await
                .map_err(setup_err("opening an office"))?;
            setup_offices.push(SetupOffice {
                name: o.name.clone(),
                role: o.role,
                number: organisation.to_string(),
                municipality: o.municipality,
                terminals: o
                    .terminals
                    .iter()
                    .map(|t| SetupTerminal {
                        name: t.name.clone(),
                        staff: t.staff.clone(),
                        valid_until: start.plus_days(i64::from(t.days)),
                    })
                    .collect(),
            });
            offices.push(LiveOffice {
                office,
                terminals: o.terminals.iter().map(|t| t.name.clone()).collect(),
                days: o.terminals.iter().map(|t| t.days).collect(),
                staff: o.terminals.iter().map(|t| t.staff.clone()).collect(),
            });
        }

        let mut insured = BTreeSet::new();
        let mut people = Vec::new();
        let issued_on = start.plus_months(-12);
        for (j, p) in scenario.world.people.iter().enumerate() {
            let config = PeopleConfig {
                municipalities: Some(vec![p.insurer]),
                card_holding_rate: if p.card { 1.0 } else { 0.0 },
                representative_rate: if p.representative.is_some() { 1.0 } else { 0.0 },
                guardian_share: if p.representative == Some(RepresentativeKind::Guardian) {
                    1.0
                } else {
                    0.0
                },
                ..PeopleConfig::standard(start)
            };
            let mut attempt = 0u64;
            let person = loop {
                let drawn = generate(
                    sub(seed, 0x400 + j as u64 + (attempt << 32)),
                    1,
                    config.clone(),
                )
                .map_err(|e| EngineError::Wire(format!("people: {e}")))?;
                let person = drawn
                    .into_iter()
                    .next()
                    .ok_or_else(|| EngineError::Wire("people: none drawn".into()))?;
                if insured.insert((person.insurer, person.insured)) {
                    break person;
                }
                attempt += 1;
            };
            let card = if p.card {
                Some(
                    world
                        .issue_card(&person, issued_on, sub(seed, 0x500 + j as u64))
                        .map_err(setup_err("issuing a card"))?,
                )
            } else {
                None
            };
            let agent = if p.representative.is_some() {
                let agent_seed = sub(seed, 0x600 + j as u64);
                let pin = person
                    .representative_card_request(agent_seed)
                    .and_then(|r| r.pin)
                    .ok_or_else(|| EngineError::Wire("representative without a PIN".into()))?;
                let card = world
                    .issue_representative_card(
                        &person,
                        agent_seed,
                        issued_on,
                        sub(seed, 0x700 + j as u64),
                    )
                    .map_err(setup_err("issuing a representative's card"))?;
                Some((card, pin))
            } else {
                None
            };
            let city = cities
                .iter_mut()
                .find(|c| c.code() == p.insurer)
                .ok_or_else(|| EngineError::Wire(format!("no system for {}", p.insurer)))?;
            city.enrol(std::slice::from_ref(&person), start);
            people.push(LivePerson {
                person,
                card,
                agent,
            });
        }
        for city in &mut cities {
            city.sync()
                .await
                .map_err(setup_err("uploading the insured persons"))?;
        }
        let portal = world
            .portal("pmh-01", sub(seed, 0x800))
            .map_err(setup_err("the portal relay"))?;
        Ok(Setup {
            municipalities,
            cities,
            offices,
            setup_offices,
            people,
            portal,
        })
    }

    async fn run_steps(
        &mut self,
        world: &mut WireWorld,
        scenario: &Scenario,
    ) -> Result<Vec<WireStep>, EngineError> {
        let mut order: Vec<(Date, usize)> = scenario
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.kind {
                StepKind::Decide { date, .. } | StepKind::Action { date, .. } => Some((date, i)),
                StepKind::Metric { .. } => None,
            })
            .collect();
        order.sort();
        let mut today = scenario.start;
        let mut rows = Vec::with_capacity(order.len());
        for (date, i) in order {
            if date != today {
                world
                    .set_date(date)
                    .await
                    .map_err(setup_err("setting the clock"))?;
                today = date;
            }
            let step = &scenario.steps[i];
            rows.push(self.step(world, scenario, step, date).await);
        }
        Ok(rows)
    }

    fn city_of(&self, person: usize) -> Option<usize> {
        let insurer = self.people[person].person.insurer;
        self.cities.iter().position(|c| c.insurer() == insurer)
    }

    /// The terminal a step of office `o` acts from (its `terminal`, else the first).
    fn terminal(&self, o: usize, step: &Step) -> String {
        let office = &self.offices[o];
        office.terminals[step.terminal.unwrap_or(0)].clone()
    }

    fn office_actor(&self, scenario: &Scenario, o: usize, terminal: &str) -> String {
        let office = &scenario.world.offices[o];
        format!("{} ({}) · {terminal}", office.name, office.role)
    }

    fn city_actor(&self, person: usize) -> String {
        self.city_of(person)
            .map(|c| {
                let m = &self.municipalities[c];
                format!("municipality {} {}", m.code, m.name)
            })
            .unwrap_or_else(|| "municipality".to_owned())
    }

    async fn step(
        &mut self,
        world: &mut WireWorld,
        scenario: &Scenario,
        step: &Step,
        date: Date,
    ) -> WireStep {
        let now = world.now();
        let mut row = WireStep {
            number: step.number,
            line: step.line,
            date,
            actor: String::new(),
            action: String::new(),
            request: String::new(),
            expected: String::new(),
            actual: String::new(),
            passed: false,
            note: step.note.clone(),
        };
        match &step.kind {
            StepKind::Decide {
                reader,
                person,
                class,
                expect,
                ..
            } => {
                let subject = PersonRef::of(&self.people[*person].person);
                let read_route = format!("GET /v1/persons/{{insurer}}/{{insured}}/classes/{class}");
                row.action = format!("reads {class} of {}", scenario.world.people[*person].name);
                row.expected = expect.code().to_owned();
                let outcome = match *reader {
                    Reader::Office { office } => {
                        let t = self.terminal(office, step);
                        row.actor = self.office_actor(scenario, office, &t);
                        row.request = read_route;
                        let live = &mut self.offices[office].office;
                        if live.is_retired(&t) {
                            live.read_from_retired(&t, subject, *class).await
                        } else {
                            fresh!(live, &t, live.read(&t, subject, *class).await)
                        }
                    }
                    Reader::Portal { holder, agent } => {
                        let name = &scenario.world.people[holder].name;
                        row.actor = if agent {
                            format!("representative of {name} via マイナポータル")
                        } else {
                            format!("{name} via マイナポータル")
                        };
                        row.request = format!(
                            "POST /v1/identity/nonce; POST /v1/portal/session; {read_route}"
                        );
                        let live = &mut self.people[holder];
                        let card = if agent {
                            live.agent.as_mut().map(|(card, pin)| (card, *pin))
                        } else {
                            let pin = live.person.pin();
                            live.card.as_mut().zip(pin)
                        };
                        match card {
                            None => Err(ActorError::NoCardLink),
                            Some((card, pin)) => {
                                match self.portal.sign_in(card, Presence::Pin(pin), now).await {
                                    Ok(session) => {
                                        let read =
                                            self.portal.read(&session, subject, *class).await;
                                        let _ = self.portal.sign_out(session).await;
                                        read
                                    }
                                    Err(e) => Err(e),
                                }
                            }
                        }
                    }
                };
                row.actual = match outcome {
                    Ok(ReadOutcome::Permitted(_)) => "permit".to_owned(),
                    Ok(ReadOutcome::Refused(r)) => r.reason.code().to_owned(),
                    Err(e) => outcome_code(&e),
                };
                row.passed = match expect {
                    Expected::Permit => row.actual == "permit",
                    Expected::Deny(r) => row.actual == r.code(),
                    Expected::Refusal(code) => &row.actual == code,
                };
            }
            StepKind::Action { action, .. } => {
                row.action = describe_action(scenario, action);
                row.expected = "applied".to_owned();
                let result = self
                    .act(world, scenario, step, action, date, &mut row)
                    .await;
                row.actual = match result {
                    Ok(()) => "applied".to_owned(),
                    Err(e) => format!("refused: {}", outcome_code(&e)),
                };
                row.passed = row.actual == "applied";
            }
            StepKind::Metric { .. } => {
                row.actual = "not run: metric steps are model-only".to_owned();
            }
        }
        row
    }

    async fn act(
        &mut self,
        world: &mut WireWorld,
        scenario: &Scenario,
        step: &Step,
        action: &Action,
        date: Date,
        row: &mut WireStep,
    ) -> Result<(), ActorError> {
        let now = world.now();
        let person_path = "/v1/persons/{insurer}/{insured}";
        match action {
            Action::Register { office, person } => {
                let t = self.terminal(*office, step);
                row.actor = self.office_actor(scenario, *office, &t);
                row.request = "POST /v1/identity/nonce; POST /v1/identity/verify".to_owned();
                let live = &mut self.people[*person];
                let pin = live.person.pin().ok_or(ActorError::NoCardLink)?;
                let card = live.card.as_mut().ok_or(ActorError::NoCardLink)?;
                let o = &mut self.offices[*office].office;
                fresh!(o, &t, o.verify(&t, card, Presence::Pin(pin), now).await).map(|_| ())
            }
            Action::RegisterWithoutCard { office, person } => {
                row.actor = self.city_actor(*person);
                row.request = format!("PUT {person_path}/registrations/{{office}}");
                let number = self.offices[*office].office.number();
                let insured = self.people[*person].person.insured;
                let city = self.city(*person)?;
                city.register_without_card(insured, &number, CounterCheck::PhotoId)
                    .await
            }
            Action::EndRegistration { office, person } => {
                let t = self.terminal(*office, step);
                row.actor = self.office_actor(scenario, *office, &t);
                row.request = format!("DELETE {person_path}/registration");
                let subject = PersonRef::of(&self.people[*person].person);
                let o = &mut self.offices[*office].office;
                fresh!(o, &t, o.end_registration(&t, subject).await)
            }
            Action::ServiceRecord { office, person } => {
                let t = self.terminal(*office, step);
                row.actor = self.office_actor(scenario, *office, &t);
                row.request = format!(
                    "POST {person_path}/activity (service); POST {person_path}/activity (claim)"
                );
                let subject = PersonRef::of(&self.people[*person].person);
                let o = &mut self.offices[*office].office;
                fresh!(
                    o,
                    &t,
                    match o.record_service(&t, subject, date).await {
                        Ok(()) => o.record_claim(&t, subject, date).await,
                        Err(e) => Err(e),
                    }
                )
            }
            Action::Consent { person } => {
                row.actor = self.city_actor(*person);
                row.request = format!("PUT {person_path}/consent (application)");
                let insured = self.people[*person].person.insured;
                self.city(*person)?
                    .record_consent(insured, None)
                    .await
                    .map(|_| ())
            }
            Action::OfficeConsent { office, person } => {
                let t = self.terminal(*office, step);
                row.actor = self.office_actor(scenario, *office, &t);
                row.request = format!("PUT {person_path}/consent (office-own)");
                let subject = PersonRef::of(&self.people[*person].person);
                let o = &mut self.offices[*office].office;
                fresh!(o, &t, o.record_own_consent(&t, subject, None).await).map(|_| ())
            }
            Action::WithdrawConsent { person } => {
                row.actor = self.city_actor(*person);
                row.request = format!("DELETE {person_path}/consent");
                let insured = self.people[*person].person.insured;
                self.city(*person)?
                    .withdraw_consent(insured)
                    .await
                    .map(|_| ())
            }
            Action::StayStart { .. } | Action::StayEnd { .. } => Err(ActorError::Unexpected(
                "the platform has no route for stays".into(),
            )),
            Action::StaffLeaves { office, staff } => {
                let live = &self.offices[*office];
                // The administrator disables the account on the first terminal they work on.
                let t = live
                    .staff
                    .iter()
                    .zip(&live.terminals)
                    .find(|(s, t)| s.as_str() == "admin" && !live.office.is_retired(t))
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| ActorError::UnknownTerminal("(administrator's)".into()))?;
                row.actor = self.office_actor(scenario, *office, &t);
                row.request = "DELETE /v1/office/staff/{staff_id}".to_owned();
                let o = &mut self.offices[*office].office;
                fresh!(o, &t, o.staff_leaves(&t, staff).await)
            }
            Action::RetireTerminal { office, terminal } => {
                let live = &mut self.offices[*office];
                let name = live.terminals[*terminal].clone();
                row.actor = format!(
                    "{} ({}) at the operator's certificate desk",
                    scenario.world.offices[*office].name, scenario.world.offices[*office].role
                );
                row.request = format!("(desk) revoke {name}'s certificate; CRL installed");
                live.office
                    .retire_terminal(&name, &mut world.desk())
                    .map(|_| ())
            }
            Action::RenewTerminal { office, terminal } => {
                let live = &mut self.offices[*office];
                let name = live.terminals[*terminal].clone();
                let days = live.days[*terminal];
                row.actor = format!(
                    "{} ({}) at the operator's certificate desk",
                    scenario.world.offices[*office].name, scenario.world.offices[*office].role
                );
                row.request = format!("(desk) renew {name}'s certificate for {days} days");
                live.office.renew_terminal(&name, &mut world.desk(), days)
            }
            Action::RegisterRepresentative { person } => {
                row.actor = self.city_actor(*person);
                row.request = format!("PUT {person_path}/representatives/{{agent}}");
                let kind = match scenario.world.people[*person].representative {
                    Some(RepresentativeKind::Guardian) => {
                        kiban_platform::platform::RepresentativeKind::Guardian
                    }
                    _ => kiban_platform::platform::RepresentativeKind::Family,
                };
                let insured = self.people[*person].person.insured;
                let city = self
                    .city_of(*person)
                    .ok_or(ActorError::NotInsuredHere(insured))?;
                let (card, _) = self.people[*person]
                    .agent
                    .as_ref()
                    .ok_or(ActorError::NoCardLink)?;
                self.cities[city]
                    .register_representative(insured, card, kind, None, None)
                    .await
                    .map(|_| ())
            }
            Action::EndRepresentative { person } => {
                row.actor = self.city_actor(*person);
                row.request = format!("DELETE {person_path}/representatives/{{agent}}");
                let insured = self.people[*person].person.insured;
                let (card, _) = self.people[*person]
                    .agent
                    .as_ref()
                    .ok_or(ActorError::NoCardLink)?;
                let link = world
                    .jlis()
                    .link_for(card.my_number())
                    .ok_or(ActorError::NoCardLink)?;
                self.city(*person)?
                    .end_representative(insured, &link)
                    .await
                    .map(|_| ())
            }
        }
    }

    fn city(&mut self, person: usize) -> Result<&mut Municipality, ActorError> {
        let insured = self.people[person].person.insured;
        let i = self
            .city_of(person)
            .ok_or(ActorError::NotInsuredHere(insured))?;
        Ok(&mut self.cities[i])
    }

    fn results(self, scenario: &Scenario, seed: u64, steps: Vec<WireStep>) -> WireResults {
        let verdicts: Vec<Verdict> = steps
            .iter()
            .map(|row| {
                let step = &scenario.steps[row.number - 1];
                Verdict {
                    step: row.number,
                    line: row.line,
                    variant: step.variant.clone(),
                    subject: describe_step(scenario, step),
                    expected: row.expected.clone(),
                    actual: row.actual.clone(),
                    passed: row.passed,
                    note: row.note.clone(),
                }
            })
            .collect();
        let registrations = steps
            .iter()
            .zip(steps.iter().map(|r| &scenario.steps[r.number - 1].kind))
            .filter(|(r, kind)| {
                r.actual == "applied"
                    && matches!(
                        kind,
                        StepKind::Action {
                            action: Action::Register { .. } | Action::RegisterWithoutCard { .. },
                            ..
                        }
                    )
            })
            .count() as u64;
        let decisions = steps
            .iter()
            .filter(|r| matches!(scenario.steps[r.number - 1].kind, StepKind::Decide { .. }))
            .count() as u64;
        let stats = VariantStats {
            variant: "baseline".to_owned(),
            persons: self.people.len() as u64,
            relationships: 0,
            registrations,
            offices: self.offices.len() as u64,
            events: steps.len() as u64,
            decisions,
        };
        let mut verdicts = verdicts;
        verdicts.sort_by_key(|v| v.step);
        let mut steps = steps;
        steps.sort_by_key(|s| (s.date, s.number));
        WireResults {
            seed,
            municipalities: self.municipalities,
            offices: self.setup_offices,
            people: self
                .people
                .iter()
                .zip(&scenario.world.people)
                .map(|(live, named)| SetupPerson {
                    name: named.name.clone(),
                    insurer: named.insurer,
                    insured: live.person.insured,
                    card: named.card,
                    representative: named.representative,
                })
                .collect(),
            steps,
            verdicts,
            stats,
        }
    }
}

/// The outcome of a failed call in report terms: the refusal's problem code; a TLS refusal
/// by its alert; otherwise `error: <kind>` (never a message with a serial, token or
/// address).
fn outcome_code(e: &ActorError) -> String {
    if let Some(reason) = e.reason() {
        return reason.code().to_owned();
    }
    match e {
        ActorError::Platform { error, .. } => match error {
            ClientError::Tls(message) => tls_code(message).to_owned(),
            ClientError::Connect(_) => "error: cannot connect".to_owned(),
            ClientError::Transport(_) => "error: connection failed".to_owned(),
            ClientError::Timeout(_) => "error: timeout".to_owned(),
            ClientError::Refused(r) => format!("error: HTTP {}", r.status),
            _ => "error: unexpected answer".to_owned(),
        },
        ActorError::Pki(_) => "error: PKI".to_owned(),
        ActorError::Unexpected(_) => "error: unexpected answer".to_owned(),
        other => format!("error: {other}"),
    }
}

/// A TLS failure by the alert the platform sent: the certificate's state when it names one.
fn tls_code(message: &str) -> &'static str {
    if message.contains("CertificateRevoked") {
        "certificate-revoked"
    } else if message.contains("CertificateExpired") {
        "certificate-expired"
    } else {
        "tls-refused"
    }
}

#[cfg(test)]
mod tests {
    use super::tls_code;

    #[test]
    fn tls_alerts_name_the_certificate_state() {
        assert_eq!(
            tls_code("received fatal alert: CertificateRevoked"),
            "certificate-revoked"
        );
        assert_eq!(
            tls_code("received fatal alert: CertificateExpired"),
            "certificate-expired"
        );
        assert_eq!(
            tls_code("received fatal alert: BadCertificate"),
            "tls-refused"
        );
    }
}
