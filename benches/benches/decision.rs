//! The access decision (`kiban_core::decide::decide`) against Cedar and Rego, in one
//! criterion run, on the same corpus, after the equivalence gate.
//!
//! ```sh
//! cargo bench -p kiban-benches --bench decision                  # 10^4, 10^5, 10^6 persons
//! KIBAN_BENCH_FULL=1 cargo bench -p kiban-benches --bench decision   # and 7·10^6 (about 3 GB)
//! KIBAN_BENCH_PERSONS=7000000 cargo bench -p kiban-benches --bench decision  # only these sizes
//! cargo bench -p kiban-benches --bench decision -- --test        # every body once, 10^4 only (CI)
//! KIBAN_BENCH_QUICK=1 cargo bench -p kiban-benches --bench decision  # 10^4 only (perf-report --quick)
//! ```
//!
//! **Groups.** `decision/corpus/<engine>/<persons>`: each engine answers the corpus
//! (`kiban_benches::corpus`: 4,096 requests, about 60 % permits, every deny reason and every
//! boundary instant, each with its own `now`) in a fixed shuffled cycle.
//! `decision/random/kiban/<persons>`: `decide` on 2^20 office requests drawn uniformly over
//! the whole world (half registered pairs, half random pairs), so the rows touched do not
//! stay in cache: the memory-bound figure of a national rehearsal. `decision/policy/<engine>
//! -<variant>/<persons>`: kiban and Cedar engine-only on the corpus built under each policy
//! variant (consent model and expiry, registration lapse, rollout rule), at 10^5 persons.
//!
//! **Gate.** Before a group is measured, `kiban_benches::gate::check` asks every engine in it
//! about every corpus entry; if any answer differs from the corpus's expected permit/deny
//! the bench panics with the first mismatch (request, `now`, case, every engine's answer)
//! and measures nothing. Every measured iteration also asserts its answer, so a bench is a
//! correctness check too.
//!
//! **Fairness rules.**
//! - Every engine decides the same requests from the same rows: the world's `View` (read
//!   through its public accessors) and its certificate table. Time is passed explicitly as
//!   `now` (Unix seconds for the peers); no engine reads a clock.
//! - The peers' policies are generated from, or written against, the same rules: the Cedar
//!   policy set from the published `AccessMatrix` and the view's `Policy`
//!   (`engines::cedar::policy_text`; print it with `cargo run -p kiban-benches --example
//!   cedar_policy`), the Rego matrix from the same `AccessMatrix` (`engines/kiban.rego`).
//!   Policies are parsed once, outside timing; no schema validation in the hot path.
//! - Calendar-month lapse and expiry instants, which neither Cedar nor Rego can compute, are
//!   derived with kiban-core's public `lapse_instant` and `consent_expiry` while a peer's
//!   input is built: before timing in the engine-only arms, inside it in the per-request
//!   arms. kiban's view computes the same instants when a row is inserted or changed, so
//!   neither side pays calendar arithmetic per decision in the engine-only arms.
//! - `cedar-engine-only` is Cedar's published method: the `Request` and the entity slice
//!   (`Entities`, transitive closure computed) of every entry are built before timing; the
//!   timed call is `Authorizer::is_authorized` (which clones the `Request` internally).
//!   `cedar-per-request` builds the slice, context and request from the rows inside the
//!   timer, as a service must. The slice holds only the rows the request touches (Cedar's
//!   recommended entity slicing), never a store of every person.
//! - `regorus-engine-only` reuses one `regorus::Engine` with the policy and data loaded; the
//!   timed work is `set_input` of a pre-built `Value` (a reference-count copy) and
//!   `eval_rule("data.kiban.allow")`. `regorus-per-request` also builds the `Value` input
//!   from the rows inside the timer.
//! - `kiban` has a single arm: the view is its deployed form (the platform and the national
//!   model both hold it), so there is nothing to build per request.
//! - All arms run in one process, one thread, release profile of the workspace (`[profile.bench]`),
//!   the system allocator, with the same iteration wrapper (`Engine::permits` through a
//!   monomorphised generic, the index advanced by one, the answer asserted).
//! - Excluded from timing: building the world and corpus, parsing policies, the gate,
//!   preparing engine-only inputs, criterion's own overhead (subtracted by its linear
//!   regression).
//! - Cedar and Rego answer allow/deny only; the gate compares permit/deny, and kiban's exact
//!   reason codes are checked separately when the corpus is built.
//!
//! **Versions.** Pinned in the root `Cargo.toml`: `cedar-policy = "=4.14.1"` (default
//! features), `regorus = "=0.14.1"` (features `arc`, `std`), `criterion = "0.8.2"`. The
//! report generator (`cargo run -p kiban-benches --bin perf-report`) reads the resolved
//! versions from `Cargo.lock` and writes them, with `rustc -V` and the CPU, next to the
//! numbers.
//!
//! **Settings.** 50 samples, 1 s warm-up, 3 s measurement, noise threshold 3 %, no plots;
//! criterion's command-line options override them.
// A measuring program, not library code: it may read the environment and print progress.
#![allow(
    clippy::print_stderr,
    reason = "the bench reports build times and gate results"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use kiban_benches::corpus::{Corpus, Spec, World, build, policy_variants, random_requests};
use kiban_benches::engines::{
    CedarEngineOnly, CedarModel, CedarPerRequest, Engine, Kiban, RegoEngineOnly, RegoModel,
    RegoPerRequest,
};
use kiban_benches::gate;
use kiban_core::decide::decide;

/// Sizes measured by default.
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// The national size, added by `KIBAN_BENCH_FULL=1`.
const NATIONAL: usize = 7_000_000;

/// Persons in the policy-variant worlds.
const POLICY_PERSONS: usize = 100_000;

/// Requests in the uniformly random pool (a power of two).
const RANDOM_POOL: usize = 1 << 20;

fn main() {
    let quick = quick_mode();
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .noise_threshold(0.03)
        .without_plots()
        .configure_from_args();
    for persons in sizes(quick) {
        decision_at(&mut c, persons);
    }
    let policy_persons = if quick { SIZES[0] } else { POLICY_PERSONS };
    for (variant, policy) in policy_variants() {
        let spec = Spec::new(policy_persons).with_policy(policy);
        policy_variant(&mut c, variant, &spec);
    }
    c.final_summary();
}

/// Criterion's own rule: test mode unless run by `cargo bench` without `--test`. Listing
/// also needs no large world, and neither does the quick run (`KIBAN_BENCH_QUICK=1`, from
/// `perf-report --run --quick`).
fn quick_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--test")
        || has("--list")
        || !has("--bench")
        || std::env::var("KIBAN_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn sizes(quick: bool) -> Vec<usize> {
    if quick {
        return vec![SIZES[0]];
    }
    if let Ok(list) = std::env::var("KIBAN_BENCH_PERSONS") {
        return list
            .split(',')
            .map(|s| {
                s.trim().parse().unwrap_or_else(|_| {
                    panic!("KIBAN_BENCH_PERSONS: {s:?} is not a number of persons")
                })
            })
            .collect();
    }
    let mut sizes = SIZES.to_vec();
    if std::env::var("KIBAN_BENCH_FULL").is_ok_and(|v| v == "1") {
        sizes.push(NATIONAL);
    }
    sizes
}

fn built(spec: &Spec) -> (World, Corpus) {
    let started = Instant::now();
    let (world, corpus) = build(spec).unwrap_or_else(|e| panic!("corpus: {e}"));
    let counts = world.view().counts();
    eprintln!(
        "world: {} persons, {} registrations, {} offices, {} requests; built in {:.1?}{}",
        counts.persons,
        counts.registrations,
        counts.offices,
        corpus.entries.len(),
        started.elapsed(),
        peak_memory().map_or(String::new(), |m| format!("; peak memory {m}")),
    );
    (world, corpus)
}

/// VmHWM of this process (Linux), for the log.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_string())
}

fn gate_or_abort(corpus: &Corpus, engines: &mut [&mut dyn Engine]) {
    match gate::check(corpus, engines) {
        Ok(passed) => eprintln!(
            "gate: {} engines agree on {} entries ({} permits): {}",
            passed.engines.len(),
            passed.entries,
            passed.permits,
            passed.engines.join(", ")
        ),
        Err(e) => panic!("{e}"),
    }
}

fn decision_at(c: &mut Criterion, persons: usize) {
    let (world, corpus) = built(&Spec::new(persons));
    let rules = world.view().rules().clone();
    let model = || CedarModel::new(&rules).unwrap_or_else(|e| panic!("{e}"));
    let rego = || RegoModel::new(&rules).unwrap_or_else(|e| panic!("{e}"));
    let mut kiban = Kiban::new(&world, &corpus);
    let mut cedar =
        CedarEngineOnly::new(model(), &world, &corpus).unwrap_or_else(|e| panic!("{e}"));
    let mut cedar_each = CedarPerRequest::new(model(), &world, &corpus);
    let mut regorus =
        RegoEngineOnly::new(rego(), &world, &corpus).unwrap_or_else(|e| panic!("{e}"));
    let mut regorus_each = RegoPerRequest::new(rego(), &world, &corpus);
    gate_or_abort(
        &corpus,
        &mut [
            &mut kiban,
            &mut cedar,
            &mut cedar_each,
            &mut regorus,
            &mut regorus_each,
        ],
    );
    let expected = corpus.expected_permits();
    let mut g = c.benchmark_group("decision/corpus");
    g.throughput(Throughput::Elements(1));
    measure(&mut g, &mut kiban, persons, &expected);
    measure(&mut g, &mut cedar, persons, &expected);
    measure(&mut g, &mut cedar_each, persons, &expected);
    measure(&mut g, &mut regorus, persons, &expected);
    measure(&mut g, &mut regorus_each, persons, &expected);
    g.finish();

    let pool = random_requests(&world, RANDOM_POOL, 2);
    let mut g = c.benchmark_group("decision/random");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("kiban", persons), |b| {
        let view = world.view();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & (RANDOM_POOL - 1);
            let (request, now) = &pool[i];
            decide(view, black_box(request), *now)
        });
    });
    g.finish();
}

fn policy_variant(c: &mut Criterion, variant: &str, spec: &Spec) {
    let (world, corpus) = built(spec);
    let rules = world.view().rules().clone();
    let mut kiban = Kiban::new(&world, &corpus);
    let model = CedarModel::new(&rules).unwrap_or_else(|e| panic!("{e}"));
    let mut cedar = CedarEngineOnly::new(model, &world, &corpus).unwrap_or_else(|e| panic!("{e}"));
    let rego = RegoModel::new(&rules).unwrap_or_else(|e| panic!("{e}"));
    let mut regorus = RegoEngineOnly::new(rego, &world, &corpus).unwrap_or_else(|e| panic!("{e}"));
    gate_or_abort(&corpus, &mut [&mut kiban, &mut cedar, &mut regorus]);
    let expected = corpus.expected_permits();
    let mut g = c.benchmark_group("decision/policy");
    g.throughput(Throughput::Elements(1));
    let id = |engine: &str| BenchmarkId::new(format!("{engine}-{variant}"), spec.persons);
    bench_cycle(&mut g, id(kiban.name()), &mut kiban, &expected);
    bench_cycle(&mut g, id(cedar.name()), &mut cedar, &expected);
    g.finish();
}

/// Measures `engine` cycling through the corpus.
fn measure<E: Engine>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    engine: &mut E,
    persons: usize,
    expected: &[bool],
) {
    let id = BenchmarkId::new(engine.name(), persons);
    bench_cycle(g, id, engine, expected);
}

/// One iteration: the next corpus index, the engine's answer, the answer asserted.
fn bench_cycle<E: Engine>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    engine: &mut E,
    expected: &[bool],
) {
    let len = expected.len();
    g.bench_function(id, |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            if i == len {
                i = 0;
            }
            let permit = match engine.permits(black_box(i)) {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
            assert!(permit == expected[i], "entry {i} changed its answer");
            permit
        });
    });
}
