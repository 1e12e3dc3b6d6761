//! The runner: builds each variant's world, runs its partitions month by month on a few
//! threads, reads the month's counters, checks the expectations due that month, and hands
//! everything to the report writer.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiban_core::geo::{Municipalities, Municipality};
use kiban_core::rules::{AccessMatrix, Policy, Rules};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calendar::{Calendar, Month};
use crate::error::EngineError;
use crate::metrics::{Counters, Metric, N_COUNTERS, format_value};
use crate::model::{LocalMuni, Partition, RunCtx, Sizes};
use crate::named::NamedWorld;
use crate::params::ModelParams;
use crate::report::labels::Lang;
use crate::rollout::{self, CalibrationRow, Schedule};
use crate::scenario::{Check, Generator, Mode, Scenario, Scope, Selection, StepKind};

/// How to run a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The report folder (created if missing; files in it are overwritten).
    pub out_dir: PathBuf,
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Replaces `world.scale` (0 < scale ≤ 1) for a world with a generated population.
    pub scale: Option<f64>,
    /// Report language (default: the scenario's `[report] lang`, else English).
    pub lang: Option<Lang>,
    /// The git commit of the code, if the caller knows it (the engine never asks git).
    pub git_commit: Option<String>,
    /// Worker threads (default: the machine's parallelism). Results do not depend on it.
    pub threads: Option<usize>,
}

impl RunOptions {
    /// Defaults with a report folder.
    pub fn new(out_dir: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out_dir: out_dir.into(),
            seed: None,
            scale: None,
            lang: None,
            git_commit: None,
            threads: None,
        }
    }
}

/// The verdict of one expectation (or the outcome of one action) of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Step number (1-based, file order).
    pub step: usize,
    /// Line of the step in the scenario file.
    pub line: usize,
    /// The variant it was checked in.
    pub variant: String,
    /// What was checked, e.g. `municipalities-live-share [large] at 2027-03`.
    pub subject: String,
    /// What was expected.
    pub expected: String,
    /// What the run produced.
    pub actual: String,
    /// Whether they agree.
    pub passed: bool,
    /// The step's note.
    pub note: String,
}

/// Sizes of a run, per variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantStats {
    /// Variant name.
    pub variant: String,
    /// Persons ever in the views.
    pub persons: u64,
    /// Care relationships ever started.
    pub relationships: u64,
    /// Registrations in the views at the end.
    pub registrations: u64,
    /// Offices.
    pub offices: u64,
    /// Events processed.
    pub events: u64,
    /// Calls of `decide`.
    pub decisions: u64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Every expectation and action, in step order then variant order.
    pub verdicts: Vec<Verdict>,
    /// The files written, sorted.
    pub files: Vec<PathBuf>,
    /// Sizes per variant.
    pub stats: Vec<VariantStats>,
}

impl RunOutcome {
    /// Whether every expectation passed.
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| v.passed)
    }
}

/// One variant's results.
#[derive(Debug, Clone)]
pub(crate) struct VariantResult {
    pub name: String,
    pub description: String,
    pub policy: Policy,
    pub params: ModelParams,
    pub schedule: Schedule,
    pub calibration: Option<Vec<CalibrationRow>>,
    /// `months[m][i]`: counters of world municipality `i` at month `m`.
    pub months: Vec<Vec<Counters>>,
    pub stats: VariantStats,
}

/// Everything the report needs.
#[derive(Debug)]
pub(crate) struct Results {
    pub world: Vec<Municipality>,
    pub months: Vec<Month>,
    pub variants: Vec<VariantResult>,
    pub verdicts: Vec<Verdict>,
    pub seed: u64,
    pub scale: f64,
    pub lang: Lang,
    pub scopes: Vec<Scope>,
}

impl Results {
    /// Counters of a variant summed over a scope at a month.
    pub(crate) fn sum(&self, variant: usize, month: usize, scope: &Scope) -> Counters {
        sum_scope(&self.world, &self.variants[variant].months[month], scope)
    }

    /// A metric's value.
    pub(crate) fn value(
        &self,
        variant: usize,
        month: usize,
        scope: &Scope,
        metric: Metric,
    ) -> Option<f64> {
        metric.value(&self.sum(variant, month, scope))
    }
}

fn sum_scope(world: &[Municipality], month: &[Counters], scope: &Scope) -> Counters {
    let mut total = [0; N_COUNTERS];
    for (m, c) in world.iter().zip(month) {
        if scope.contains(m) {
            for (t, v) in total.iter_mut().zip(c) {
                *t += v;
            }
        }
    }
    total
}

/// Runs a scenario and writes its report. Expectation failures are verdicts in the outcome,
/// not errors; errors are runs that could not happen or reports that could not be written.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunOutcome, EngineError> {
    if scenario.mode == Mode::Wire {
        return crate::wire::run(scenario, options);
    }
    let seed = options.seed.unwrap_or(scenario.seed);
    let scale = match options.scale {
        Some(s) if !(s > 0.0 && s <= 1.0) => {
            return Err(EngineError::Options(format!(
                "scale must be in (0, 1], found {s}"
            )));
        }
        Some(s) if scenario.world.scale > 0.0 => s,
        _ => scenario.world.scale,
    };
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let geo = Municipalities::embedded();
    let world: Vec<&Municipality> = match &scenario.world.municipalities {
        Selection::All => geo.iter().collect(),
        Selection::Codes(codes) => codes.iter().filter_map(|c| geo.get(*c)).collect(),
    };
    let cal = scenario.calendar();
    let lang = options.lang.unwrap_or(scenario.report.lang);
    let mut scopes = scenario.report.scopes.clone();
    for s in &scenario.steps {
        if let StepKind::Metric { scope, .. } = &s.kind {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
    }
    let mut results = Results {
        world: world.iter().map(|m| (*m).clone()).collect(),
        months: cal.months().to_vec(),
        variants: Vec::new(),
        verdicts: Vec::new(),
        seed,
        scale,
        lang,
        scopes,
    };
    let mut verdicts = Vec::new();
    for variant in &scenario.variants {
        // The same rollout stream for every variant: variants differ only by what they change.
        let mut rollout_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0072_6f6c_6c6f_7574);
        let schedule =
            rollout::schedule(&mut rollout_rng, &world, &scenario.rollout, &variant.delays);
        let calibration = match &scenario.rollout.generator {
            Generator::Survey2025(p) => Some(rollout::calibration(&world, &schedule, p)),
            _ => None,
        };
        let ctx = RunCtx {
            cal: cal.clone(),
            params: variant.params.clone(),
            rules: Rules {
                matrix: AccessMatrix::published(),
                policy: variant.policy,
            },
            classes: scenario.report.classes,
            scale,
        };
        let (months, sizes, named_outcomes) = run_variant(
            scenario,
            &variant.name,
            &ctx,
            &world,
            &schedule,
            seed,
            threads,
        );
        let decisions = months
            .iter()
            .flat_map(|m| m.iter())
            .map(|c| c[crate::metrics::Counter::Decisions as usize])
            .sum::<i64>() as u64;
        let result = VariantResult {
            name: variant.name.clone(),
            description: variant.description.clone(),
            policy: variant.policy,
            params: variant.params.clone(),
            schedule,
            calibration,
            months,
            stats: VariantStats {
                variant: variant.name.clone(),
                persons: sizes.persons,
                relationships: sizes.relationships,
                registrations: sizes.registrations,
                offices: sizes.offices,
                events: sizes.events,
                decisions,
            },
        };
        results.variants.push(result);
        let vi = results.variants.len() - 1;
        for o in named_outcomes {
            let step = &scenario.steps[o.number - 1];
            let subject = describe_step(scenario, step);
            verdicts.push(Verdict {
                step: o.number,
                line: step.line,
                variant: variant.name.clone(),
                subject,
                expected: o.expected,
                actual: o.actual,
                passed: o.passed,
                note: step.note.clone(),
            });
        }
        // Metric expectations that need only this variant are checked now.
        for step in scenario.steps.iter().filter(|s| s.variant == variant.name) {
            if let StepKind::Metric {
                month,
                metric,
                scope,
                check,
            } = &step.kind
            {
                if matches!(
                    check,
                    Check::GreaterThanVariant(_) | Check::LessThanVariant(_)
                ) {
                    continue;
                }
                let mi = cal
                    .index_of_month(*month)
                    .unwrap_or_else(|| unreachable!("validated month"));
                let actual = results.value(vi, mi, scope, *metric);
                verdicts.push(metric_verdict(
                    step, *month, *metric, scope, check, actual, None,
                ));
            }
        }
    }
    for step in &scenario.steps {
        if let StepKind::Metric {
            month,
            metric,
            scope,
            check,
        } = &step.kind
        {
            let other = match check {
                Check::GreaterThanVariant(o) | Check::LessThanVariant(o) => o,
                _ => continue,
            };
            let vi = results.variants.iter().position(|v| v.name == step.variant);
            let oi = results.variants.iter().position(|v| &v.name == other);
            let (Some(vi), Some(oi)) = (vi, oi) else {
                continue;
            };
            let mi = cal
                .index_of_month(*month)
                .unwrap_or_else(|| unreachable!("validated month"));
            let actual = results.value(vi, mi, scope, *metric);
            let theirs = results.value(oi, mi, scope, *metric);
            verdicts.push(metric_verdict(
                step,
                *month,
                *metric,
                scope,
                check,
                actual,
                Some(theirs),
            ));
        }
    }
    verdicts.sort_by(|a, b| (a.step, &a.variant).cmp(&(b.step, &b.variant)));
    results.verdicts = verdicts;
    let files = crate::report::write(scenario, options, &results)?;
    Ok(RunOutcome {
        verdicts: results.verdicts.clone(),
        files,
        stats: results.variants.iter().map(|v| v.stats.clone()).collect(),
    })
}

fn metric_verdict(
    step: &crate::scenario::Step,
    month: Month,
    metric: Metric,
    scope: &Scope,
    check: &Check,
    actual: Option<f64>,
    other: Option<Option<f64>>,
) -> Verdict {
    let (expected, passed) = match (check, actual) {
        (Check::Equals(v, tol), a) => (
            if *tol > 0.0 {
                format!("= {v} ± {tol}")
            } else {
                format!("= {v}")
            },
            a.is_some_and(|a| (a - v).abs() <= *tol + 1e-12),
        ),
        (Check::Within(lo, hi), a) => (
            format!("within [{lo}, {hi}]"),
            a.is_some_and(|a| *lo <= a && a <= *hi),
        ),
        (Check::AtLeast(v), a) => (format!(">= {v}"), a.is_some_and(|a| a >= *v)),
        (Check::AtMost(v), a) => (format!("<= {v}"), a.is_some_and(|a| a <= *v)),
        (Check::GreaterThanVariant(o) | Check::LessThanVariant(o), a) => {
            let theirs = other.flatten();
            let greater = matches!(check, Check::GreaterThanVariant(_));
            let text = format!(
                "{} {o} ({})",
                if greater { ">" } else { "<" },
                format_value(metric, theirs)
            );
            let ok = match (a, theirs) {
                (Some(a), Some(t)) => {
                    if greater {
                        a > t
                    } else {
                        a < t
                    }
                }
                _ => false,
            };
            (text, ok)
        }
    };
    Verdict {
        step: step.number,
        line: step.line,
        variant: step.variant.clone(),
        subject: format!("{} [{scope}] at {month}", metric.id()),
        expected,
        actual: format_value(metric, actual),
        passed,
        note: step.note.clone(),
    }
}

type MonthTable = Vec<Vec<Counters>>;

fn run_variant(
    scenario: &Scenario,
    variant: &str,
    ctx: &RunCtx,
    world: &[&Municipality],
    schedule: &Schedule,
    seed: u64,
    threads: usize,
) -> (MonthTable, Sizes, Vec<crate::named::StepOutcome>) {
    let cal: &Calendar = &ctx.cal;
    // Partitions: prefectures, in order of their first municipality code.
    let mut groups: Vec<(String, Vec<LocalMuni>)> = Vec::new();
    for (i, m) in world.iter().enumerate() {
        let local = LocalMuni {
            global: i,
            population: m.population_2020,
            live_from: schedule.live_from[i],
            respondent: schedule.respondent[i],
        };
        match groups.iter_mut().find(|(p, _)| *p == m.prefecture) {
            Some((_, list)) => list.push(local),
            None => groups.push((m.prefecture.clone(), vec![local])),
        }
    }
    let generate = ctx.scale > 0.0;
    let slots: Vec<Mutex<Option<Partition<'_>>>> = if generate {
        groups.iter().map(|_| Mutex::new(None)).collect()
    } else {
        Vec::new()
    };
    // Largest partitions first, so two threads finish together.
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&g| {
        std::cmp::Reverse(
            groups[g]
                .1
                .iter()
                .map(|m| u64::from(m.population))
                .sum::<u64>(),
        )
    });
    let parallel = |work: &(dyn Fn(usize) + Sync)| {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads.min(order.len()).max(1) {
                s.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&g) = order.get(k) else { break };
                        work(g);
                    }
                });
            }
        });
    };
    parallel(&|g| {
        let key = groups[g].1.first().map_or(0, |m| {
            world[m.global].code.as_str().parse::<u64>().unwrap_or(0)
        });
        let part = Partition::build(ctx, seed, key, groups[g].1.clone(), world);
        *slots[g].lock().unwrap_or_else(|e| e.into_inner()) = Some(part);
    });
    let mut named =
        (!scenario.world.offices.is_empty() || !scenario.world.people.is_empty()).then(|| {
            NamedWorld::build(
                scenario,
                variant,
                ctx.rules.clone(),
                world,
                &schedule.live_from,
            )
        });
    let mut outcomes = Vec::new();
    let mut months = Vec::with_capacity(cal.months().len());
    for mi in 0..cal.months().len() {
        let last = cal.last_day_of_month(mi);
        let table: Mutex<Vec<Counters>> = Mutex::new(vec![[0; N_COUNTERS]; world.len()]);
        parallel(&|g| {
            let mut slot = slots[g].lock().unwrap_or_else(|e| e.into_inner());
            if let Some(part) = slot.as_mut() {
                part.advance(last);
                let snap = part.snapshot(last);
                let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
                for (i, c) in snap {
                    t[i] = c;
                }
            }
        });
        let mut table = table.into_inner().unwrap_or_else(|e| e.into_inner());
        if !generate {
            // Without a generated population the municipality counters still report the
            // rollout.
            let at = cal.instant(last);
            for (i, c) in table.iter_mut().enumerate() {
                let live = schedule.live_from[i].is_some_and(|d| d.midnight_jst() <= at);
                c[crate::metrics::Counter::Municipalities as usize] = 1;
                c[crate::metrics::Counter::Live as usize] = i64::from(live);
                c[crate::metrics::Counter::Respondents as usize] =
                    i64::from(schedule.respondent[i]);
                c[crate::metrics::Counter::RespondentsLive as usize] =
                    i64::from(schedule.respondent[i] && live);
            }
        }
        months.push(table);
        if let Some(n) = named.as_mut() {
            outcomes.extend(n.advance(scenario, cal.date(last)));
        }
    }
    let mut sizes = Sizes::default();
    for slot in slots {
        if let Some(part) = slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let s = part.sizes();
            sizes.persons += s.persons;
            sizes.relationships += s.relationships;
            sizes.registrations += s.registrations;
            sizes.offices += s.offices;
            sizes.events += s.events;
        }
    }
    (months, sizes, outcomes)
}

/// A decide or action step in words, as verdicts name it.
pub(crate) fn describe_step(scenario: &Scenario, step: &crate::scenario::Step) -> String {
    match &step.kind {
        StepKind::Decide {
            date,
            reader,
            person,
            class,
            ..
        } => format!(
            "decide {} reads {} of {} at {date}",
            describe_reader(scenario, step, reader),
            class,
            scenario.world.people[*person].name
        ),
        StepKind::Action { date, action } => {
            format!("action {} at {date}", describe_action(scenario, action))
        }
        StepKind::Metric { .. } => String::new(),
    }
}

/// Who reads, with the names of the scenario (and the terminal, when the step names one).
pub(crate) fn describe_reader(
    scenario: &Scenario,
    step: &crate::scenario::Step,
    reader: &crate::scenario::Reader,
) -> String {
    use crate::scenario::Reader;
    match *reader {
        Reader::Office { office } => {
            let o = &scenario.world.offices[office];
            match step.terminal {
                Some(t) => format!("{} ({})", o.name, o.terminals[t].name),
                None => o.name.clone(),
            }
        }
        Reader::Portal { holder, agent } => {
            let name = &scenario.world.people[holder].name;
            if agent {
                format!("the representative of {name} via the portal")
            } else {
                format!("{name} via the portal")
            }
        }
    }
}

/// An action in words, with the names of the scenario.
pub(crate) fn describe_action(scenario: &Scenario, action: &crate::scenario::Action) -> String {
    use crate::scenario::Action as A;
    let office = |i: usize| scenario.world.offices[i].name.as_str();
    let person = |i: usize| scenario.world.people[i].name.as_str();
    match *action {
        A::Register {
            office: o,
            person: p,
        } => format!("register {} for {}", office(o), person(p)),
        A::RegisterWithoutCard {
            office: o,
            person: p,
        } => {
            format!("register-without-card {} for {}", office(o), person(p))
        }
        A::EndRegistration {
            office: o,
            person: p,
        } => {
            format!("end-registration {} for {}", office(o), person(p))
        }
        A::ServiceRecord {
            office: o,
            person: p,
        } => {
            format!("service-record {} for {}", office(o), person(p))
        }
        A::Consent { person: p } => format!("consent {}", person(p)),
        A::OfficeConsent {
            office: o,
            person: p,
        } => {
            format!("office-consent {} to {}", person(p), office(o))
        }
        A::WithdrawConsent { person: p } => format!("withdraw-consent {}", person(p)),
        A::StayStart { person: p, kind } => format!("stay-start {} ({kind:?})", person(p)),
        A::StayEnd { person: p } => format!("stay-end {}", person(p)),
        A::StaffLeaves {
            office: o,
            ref staff,
        } => format!("staff-leaves {staff} of {}", office(o)),
        A::RetireTerminal {
            office: o,
            terminal: t,
        } => format!(
            "retire-terminal {} of {}",
            scenario.world.offices[o].terminals[t].name,
            office(o)
        ),
        A::RenewTerminal {
            office: o,
            terminal: t,
        } => format!(
            "renew-terminal {} of {}",
            scenario.world.offices[o].terminals[t].name,
            office(o)
        ),
        A::RegisterRepresentative { person: p } => {
            format!("register-representative of {}", person(p))
        }
        A::EndRepresentative { person: p } => format!("end-representative of {}", person(p)),
    }
}
