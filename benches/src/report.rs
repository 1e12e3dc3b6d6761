//! `reports/performance.md` from a benchmark run: every number in it is read from what the
//! run wrote — criterion's `estimates.json` files (median point estimates and their
//! confidence intervals), the perf folder's `http-latency.json`, `national.json` and `run.json`
//! ([`crate::results`]) — the machine from `/proc`, `rustc -V` and the crates' versions from
//! `Cargo.lock`. Nothing is typed in; a figure that was not measured is reported as missing,
//! and a target that is not met says so with what the measurement shows about why.
//!
//! Ratios are only formed between arms of the same group and parameter. Criterion keeps the
//! latest result of each bench id, so a partial run can leave older results beside newer
//! ones; each table therefore shows when its arms were measured, and a ratio between arms
//! measured more than [`SAME_RUN`] apart is marked as not from one run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::results::{LatencyRecord, NationalRecord, RunRecord};

/// Arms measured within this span of each other count as one run.
pub const SAME_RUN: Duration = Duration::from_secs(30 * 60);

/// The persons the DESIGN §7 decision target is stated for.
pub const NATIONAL_PERSONS: u64 = 7_000_000;

/// DESIGN §7: median decision time at national size.
pub const TARGET_MEDIAN_NS: f64 = 100.0;

/// DESIGN §7: speed-up over Cedar engine-only.
pub const TARGET_CEDAR_RATIO: f64 = 50.0;

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Criterion group, e.g. `decision/corpus`.
    pub group: String,
    /// Function id, e.g. `kiban` or `cedar-engine-only`.
    pub function: String,
    /// Parameter (persons, connections, pending events), when there is one.
    pub parameter: Option<u64>,
    /// Median time per iteration, ns.
    pub median_ns: f64,
    /// Lower bound of the median's confidence interval, ns.
    pub median_low_ns: f64,
    /// Upper bound, ns.
    pub median_high_ns: f64,
    /// When the estimates were written.
    pub measured: SystemTime,
}

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A criterion file is not what criterion writes.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No benchmark results at all.
    #[error(
        "no `decision/*`, `http/*` or `sim/*` results under {0}; run `cargo bench -p kiban-benches` first"
    )]
    NoResults(PathBuf),
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: Estimate,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| ReportError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The criterion groups the report reads.
pub const GROUPS: [&str; 3] = ["decision/", "http/", "sim/"];

/// Every `decision/*`, `http/*` and `sim/*` result under `criterion_dir` (criterion's output
/// folder).
pub fn collect(criterion_dir: &Path) -> Result<Vec<Measurement>, ReportError> {
    let mut found = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(_) if dir != criterion_dir => continue,
            Err(e) => return Err(io(&dir)(e)),
        };
        for entry in entries {
            let path = entry.map_err(io(&dir))?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(m) = measurement(&path)? {
                        found.push(m);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    found.retain(|m| GROUPS.iter().any(|g| m.group.starts_with(g)));
    if found.is_empty() {
        return Err(ReportError::NoResults(criterion_dir.to_path_buf()));
    }
    found.sort_by(|a, b| {
        (&a.group, a.parameter, &a.function).cmp(&(&b.group, b.parameter, &b.function))
    });
    Ok(found)
}

fn measurement(new_dir: &Path) -> Result<Option<Measurement>, ReportError> {
    let bench = new_dir.join("benchmark.json");
    let estimates = new_dir.join("estimates.json");
    if !bench.is_file() || !estimates.is_file() {
        return Ok(None);
    }
    let b: BenchmarkJson = read_json(&bench)?;
    let e: EstimatesJson = read_json(&estimates)?;
    let measured = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .map_err(io(&estimates))?;
    let parameter = match &b.value_str {
        Some(v) => Some(v.parse::<u64>().map_err(|_| ReportError::Format {
            path: bench.clone(),
            message: format!("parameter {v:?} is not a number"),
        })?),
        None => None,
    };
    Ok(Some(Measurement {
        group: b.group_id,
        function: b.function_id.unwrap_or_default(),
        parameter,
        median_ns: e.median.point_estimate,
        median_low_ns: e.median.confidence_interval.lower_bound,
        median_high_ns: e.median.confidence_interval.upper_bound,
        measured,
    }))
}

/// Where and with what the numbers were measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Total memory.
    pub memory: String,
    /// `rustc -V`.
    pub rustc: String,
    /// `(crate, version)` of the engines and the harness, from `Cargo.lock`.
    pub versions: Vec<(String, String)>,
}

/// The crates whose versions the report names: the peers, the HTTP stack, the store, the
/// harness.
pub const VERSIONED: [&str; 8] = [
    "cedar-policy",
    "regorus",
    "rustls",
    "tokio",
    "hyper",
    "axum",
    "rusqlite",
    "criterion",
];

/// Reads the machine description (Linux `/proc`; "unknown" where unavailable).
pub fn machine(lockfile: &Path) -> Result<Machine, ReportError> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".to_string(), |(_, v)| v.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("unknown".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or("unknown".to_string(), |s| s.trim().to_string());
    let lock = std::fs::read_to_string(lockfile).map_err(io(lockfile))?;
    Ok(Machine {
        cpu,
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory,
        rustc,
        versions: locked_versions(&lock, &VERSIONED),
    })
}

/// `(name, version)` of each of `names` in a `Cargo.lock` text (every version, if several).
pub fn locked_versions(lock: &str, names: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.take().filter(|n| names.contains(&n.as_str()))
        {
            out.push((n, v.trim_matches('"').to_string()));
        }
    }
    out.sort();
    out
}

/// A duration in ns, in the unit that reads best.
pub fn format_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

fn persons(n: Option<u64>) -> String {
    match n {
        None => "–".into(),
        Some(n) if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}·10⁶", n / 1_000_000),
        Some(n) => thousands(n),
    }
}

fn jst(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let ts = kiban_core::time::Timestamp::from_unix_seconds(secs);
    format!("{ts}")
}

fn spread(ms: &[&Measurement]) -> Duration {
    let min = ms.iter().map(|m| m.measured).min();
    let max = ms.iter().map(|m| m.measured).max();
    match (min, max) {
        (Some(a), Some(b)) => b.duration_since(a).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// The engines of the corpus group, in report order.
const CORPUS_ARMS: [&str; 5] = [
    "kiban",
    "cedar-engine-only",
    "cedar-per-request",
    "regorus-engine-only",
    "regorus-per-request",
];

/// Everything a report is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Criterion's results ([`collect`]).
    pub measurements: Vec<Measurement>,
    /// HTTP latency percentiles (`http-latency.json`), if measured.
    pub latency: Vec<LatencyRecord>,
    /// The national model per scale (`national.json`), if measured.
    pub national: Vec<NationalRecord>,
    /// The record of `perf-report --run`, if the results came from one.
    pub run: Option<RunRecord>,
    /// The machine.
    pub machine: Machine,
}

/// The command that regenerates the report.
pub const COMMAND: &str = "cargo run -p kiban-benches --release --bin perf-report -- --run";

/// The report text.
pub fn render(inputs: &Inputs) -> String {
    let ms = &inputs.measurements;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Performance\n");
    let quick = inputs.run.as_ref().is_some_and(|r| r.quick);
    if quick {
        let _ = writeln!(
            w,
            "> **Quick run** (`--quick`): tiny sizes and short samples that only prove the \
             benches and this generator work end to end. These numbers are not measurements \
             to quote.\n"
        );
    }
    let _ = writeln!(
        w,
        "Generated by `{COMMAND}`, which runs every bench of `kiban-benches` and writes this \
         file from what they measured: criterion's medians with their 95 % confidence \
         intervals, the HTTP latency percentiles and the national model's records. No number \
         in this file is typed by hand. How each bench is built, and its fairness rules, are \
         in the doc comments of `benches/benches/decision.rs`, `http.rs` and `sim.rs`.\n"
    );
    machine_section(w, &inputs.machine, inputs.run.as_ref());
    let group =
        |name: &str| -> Vec<&Measurement> { ms.iter().filter(|m| m.group == name).collect() };
    let corpus = group("decision/corpus");
    let random = group("decision/random");
    let policy = group("decision/policy");
    let keep_alive = group("http/keep-alive");
    let handshake = group("http/handshake");
    let queue = group("sim/queue");
    let _ = writeln!(w, "## DESIGN §7 targets\n");
    let _ = writeln!(w, "| target | measured | met |\n|---|---|---|");
    decision_targets(w, &corpus, &random);
    http_targets(w, &keep_alive);
    national_targets(w, &inputs.national);
    let _ = writeln!(w);
    let largest = sizes(&corpus).into_iter().flatten().max();
    if largest.is_some_and(|n| n < NATIONAL_PERSONS) {
        let _ = writeln!(
            w,
            "The largest decision world measured is {} persons; the 7·10⁶ run is optional \
             because it needs about 3 GB of memory and time to build \
             (`KIBAN_BENCH_FULL=1`).\n",
            persons(largest)
        );
    }
    notes_section(
        w,
        &corpus,
        &random,
        &keep_alive,
        &inputs.latency,
        &inputs.national,
    );
    corpus_section(w, &corpus);
    random_section(w, &corpus, &random);
    policy_section(w, &policy);
    http_section(w, &keep_alive, &handshake, &inputs.latency);
    queue_section(w, &queue);
    national_section(w, &inputs.national);
    commands_section(w, inputs.run.as_ref());
    let _ = writeln!(w, "## Not measured\n");
    let _ = writeln!(
        w,
        "- p99 of the decision itself (criterion reports medians; allocation-freedom is \
         checked by `sim/core/tests/no_alloc.rs`).\n\
         - Resumed TLS handshakes: the platform's TLS configuration offers no resumption \
         (no tickets, no session cache; kiban-certs), so there is no resumed arm.\n\
         - Durable ingestion throughput (DESIGN §7: ≥ 50,000 records/s) and the conformance \
         self-run time are not part of these benches."
    );
    out
}

fn machine_section(w: &mut String, m: &Machine, run: Option<&RunRecord>) {
    let _ = writeln!(w, "## Machine and versions\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| CPU | {} ({} logical) |", m.cpu, m.cpus);
    let _ = writeln!(w, "| memory | {} |", m.memory);
    match run {
        Some(r) => {
            let l = |x: [f64; 3]| format!("{:.2}, {:.2}, {:.2}", x[0], x[1], x[2]);
            let _ = writeln!(
                w,
                "| load average (1, 5, 15 min) | {} at the start, {} at the end (the run's own threads included) |",
                l(r.load_at_start),
                l(r.load_at_end)
            );
            let _ = writeln!(
                w,
                "| run | started {}, {:.0} s |",
                jst(UNIX_EPOCH + Duration::from_secs(r.started_unix)),
                r.wall_s
            );
        }
        None => {
            let _ = writeln!(
                w,
                "| load average | not recorded (report written without `--run`) |"
            );
        }
    }
    let _ = writeln!(w, "| compiler | {} |", m.rustc);
    for (name, version) in &m.versions {
        let _ = writeln!(w, "| {name} | {version} |");
    }
    let _ = writeln!(w);
}

fn find<'a>(ms: &[&'a Measurement], function: &str, n: Option<u64>) -> Option<&'a Measurement> {
    ms.iter()
        .copied()
        .find(|m| m.function == function && m.parameter == n)
}

fn sizes(ms: &[&Measurement]) -> BTreeSet<Option<u64>> {
    ms.iter().map(|m| m.parameter).collect()
}

fn ratio_text(slow: &Measurement, fast: &Measurement) -> String {
    let ratio = slow.median_ns / fast.median_ns;
    let same_run = spread(&[slow, fast]) <= SAME_RUN;
    format!(
        "{ratio:.1}×{}",
        if same_run { "" } else { " (not one run)" }
    )
}

fn decision_targets(w: &mut String, corpus: &[&Measurement], random: &[&Measurement]) {
    let national = Some(NATIONAL_PERSONS);
    for (label, set) in [("corpus", corpus), ("uniformly random", random)] {
        match find(set, "kiban", national) {
            Some(m) => {
                let _ = writeln!(
                    w,
                    "| decision median ≤ {TARGET_MEDIAN_NS} ns at 7·10⁶ persons ({label}) | {} | {} |",
                    format_ns(m.median_ns),
                    yes_no(m.median_ns <= TARGET_MEDIAN_NS)
                );
            }
            None => {
                let _ = writeln!(
                    w,
                    "| decision median ≤ {TARGET_MEDIAN_NS} ns at 7·10⁶ persons ({label}) | not measured (run with `KIBAN_BENCH_FULL=1`) | – |"
                );
            }
        }
    }
    for n in sizes(corpus) {
        if let (Some(k), Some(c)) = (
            find(corpus, "kiban", n),
            find(corpus, "cedar-engine-only", n),
        ) {
            let ratio = c.median_ns / k.median_ns;
            let _ = writeln!(
                w,
                "| decision ≥ {TARGET_CEDAR_RATIO}× faster than Cedar engine-only, same run ({} persons) | {} | {} |",
                persons(n),
                ratio_text(c, k),
                yes_no(ratio >= TARGET_CEDAR_RATIO)
            );
        }
    }
    let _ = writeln!(
        w,
        "| decision p99 ≤ 1 µs, no allocation | p99 not measured; no allocation: `sim/core/tests/no_alloc.rs` | – |"
    );
}

fn yes_no(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

fn corpus_section(w: &mut String, corpus: &[&Measurement]) {
    let _ = writeln!(w, "## Decision on the corpus, per engine\n");
    let _ = writeln!(
        w,
        "Median time per decision (95 % confidence interval of the median) while cycling the \
         4,096-request corpus; in brackets, how many times slower than kiban in the same run.\n"
    );
    let arms: Vec<&str> = CORPUS_ARMS
        .iter()
        .copied()
        .filter(|a| corpus.iter().any(|m| m.function == *a))
        .collect();
    let _ = write!(w, "| persons |");
    for a in &arms {
        let _ = write!(w, " {a} |");
    }
    let _ = writeln!(w, " measured (JST) |");
    let _ = writeln!(w, "|---|{}---|", "---|".repeat(arms.len()));
    for n in sizes(corpus) {
        let row: Vec<&Measurement> = corpus
            .iter()
            .copied()
            .filter(|m| m.parameter == n)
            .collect();
        let kiban = find(corpus, "kiban", n);
        let _ = write!(w, "| {} |", persons(n));
        for a in &arms {
            match find(corpus, a, n) {
                Some(m) => {
                    let _ = write!(
                        w,
                        " {} ({}–{})",
                        format_ns(m.median_ns),
                        format_ns(m.median_low_ns),
                        format_ns(m.median_high_ns)
                    );
                    if let Some(k) = kiban.filter(|_| *a != "kiban") {
                        let _ = write!(w, " [{}]", ratio_text(m, k));
                    }
                    let _ = write!(w, " |");
                }
                None => {
                    let _ = write!(w, " – |");
                }
            }
        }
        let when = row
            .iter()
            .map(|m| m.measured)
            .min()
            .map(jst)
            .unwrap_or_default();
        let _ = writeln!(w, " {when} |");
    }
    let _ = writeln!(w);
}

fn random_section(w: &mut String, corpus: &[&Measurement], random: &[&Measurement]) {
    if random.is_empty() {
        return;
    }
    let _ = writeln!(w, "## kiban on uniformly random requests\n");
    let _ = writeln!(
        w,
        "2²⁰ office requests over the whole world (half registered pairs), so rows are \
         rarely in cache. The anchors' guardrail is latency at the largest index within \
         1.5× of latency at 10⁴.\n"
    );
    let smallest = find(random, "kiban", sizes(random).into_iter().next().flatten());
    let _ = writeln!(
        w,
        "| persons | random | corpus (cached) | random / smallest size |\n|---|---|---|---|"
    );
    for n in sizes(random) {
        let Some(m) = find(random, "kiban", n) else {
            continue;
        };
        let cached = find(corpus, "kiban", n).map_or("–".into(), |c| format_ns(c.median_ns));
        let growth = smallest.map_or("–".into(), |s| {
            format!("{:.2}×", m.median_ns / s.median_ns)
        });
        let _ = writeln!(
            w,
            "| {} | {} ({}–{}) | {cached} | {growth} |",
            persons(n),
            format_ns(m.median_ns),
            format_ns(m.median_low_ns),
            format_ns(m.median_high_ns),
        );
    }
    let _ = writeln!(w);
}

/// kiban's and Cedar's result for one variant.
type Pair<'a> = (Option<&'a Measurement>, Option<&'a Measurement>);

fn policy_section(w: &mut String, policy: &[&Measurement]) {
    if policy.is_empty() {
        return;
    }
    let _ = writeln!(w, "## Under each policy variant\n");
    let _ = writeln!(
        w,
        "The corpus rebuilt under each policy (consent model and expiry, registration lapse, \
         rollout rule); kiban and Cedar engine-only, gate passed for kiban, Cedar and Rego.\n"
    );
    let _ = writeln!(
        w,
        "| variant | persons | kiban | cedar-engine-only | Cedar / kiban |\n|---|---|---|---|---|"
    );
    let mut variants: BTreeMap<(String, Option<u64>), Pair<'_>> = BTreeMap::new();
    for m in policy {
        if let Some(v) = m.function.strip_prefix("kiban-") {
            variants.entry((v.to_string(), m.parameter)).or_default().0 = Some(m);
        } else if let Some(v) = m.function.strip_prefix("cedar-engine-only-") {
            variants.entry((v.to_string(), m.parameter)).or_default().1 = Some(m);
        }
    }
    for ((variant, n), (k, c)) in variants {
        let show = |m: Option<&Measurement>| m.map_or("–".into(), |m| format_ns(m.median_ns));
        let ratio = match (k, c) {
            (Some(k), Some(c)) => ratio_text(c, k),
            _ => "–".into(),
        };
        let _ = writeln!(
            w,
            "| {variant} | {} | {} | {} | {ratio} |",
            persons(n),
            show(k),
            show(c)
        );
    }
    let _ = writeln!(w);
}

/// DESIGN §7: endpoint keep-alive throughput over the floor's.
pub const TARGET_HTTP_RATIO: f64 = 0.85;

/// DESIGN §7: the national model's wall time at full scale, s.
pub const TARGET_NATIONAL_WALL_S: f64 = 60.0;

/// DESIGN §7: the national model's peak memory at full scale, GiB.
pub const TARGET_NATIONAL_PEAK_GIB: f64 = 4.0;

/// Connections of the throughput arms.
const THROUGHPUT_CONNECTIONS: u64 = 4;

/// The HTTP arms, in report order.
const HTTP_ARMS: [&str; 3] = ["floor", "endpoint-memory", "endpoint-sqlite"];

/// A rate in units per second, grouped by thousands.
fn per_second(ns: f64) -> String {
    if ns <= 0.0 {
        return "–".into();
    }
    let rate = 1e9 / ns;
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else {
        format!("{}/s", thousands(rate.round() as u64))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A scale as written in commands: `1.0`, `0.1`, `0.002`.
fn scale_text(scale: f64) -> String {
    if scale.fract() == 0.0 {
        format!("{scale:.1}")
    } else {
        format!("{scale}")
    }
}

fn mib(kib: u64) -> String {
    let mib = kib as f64 / 1024.0;
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

fn http_targets(w: &mut String, keep_alive: &[&Measurement]) {
    let k = Some(THROUGHPUT_CONNECTIONS);
    let Some(floor) = find(keep_alive, "floor", k) else {
        let _ = writeln!(
            w,
            "| endpoint keep-alive throughput ≥ {TARGET_HTTP_RATIO}× the mTLS floor | not measured (`cargo bench -p kiban-benches --bench http`) | – |"
        );
        return;
    };
    for (arm, store) in [
        ("endpoint-sqlite", "SQLite store, the real configuration"),
        ("endpoint-memory", "in-memory store"),
    ] {
        if let Some(m) = find(keep_alive, arm, k) {
            let ratio = floor.median_ns / m.median_ns;
            let _ = writeln!(
                w,
                "| endpoint keep-alive throughput ≥ {TARGET_HTTP_RATIO}× the mTLS floor ({store}, {THROUGHPUT_CONNECTIONS} connections) | {ratio:.2}× ({} vs {}){} | {} |",
                per_second(m.median_ns),
                per_second(floor.median_ns),
                if spread(&[floor, m]) <= SAME_RUN {
                    ""
                } else {
                    " (not one run)"
                },
                yes_no(ratio >= TARGET_HTTP_RATIO)
            );
        }
    }
}

fn national_targets(w: &mut String, national: &[NationalRecord]) {
    let full = national.iter().find(|r| (r.scale - 1.0).abs() < 1e-9);
    match full {
        Some(r) => {
            let wall = r.run_ns as f64 / 1e9;
            let gib = r.peak_rss_kib as f64 / 1024.0 / 1024.0;
            let _ = writeln!(
                w,
                "| national model (scale 1.0) ≤ {TARGET_NATIONAL_WALL_S} s wall on this machine | {wall:.1} s | {} |",
                yes_no(wall <= TARGET_NATIONAL_WALL_S)
            );
            let _ = writeln!(
                w,
                "| national model (scale 1.0) ≤ {TARGET_NATIONAL_PEAK_GIB} GiB peak memory | {gib:.2} GiB | {} |",
                yes_no(gib <= TARGET_NATIONAL_PEAK_GIB)
            );
        }
        None => {
            let _ = writeln!(
                w,
                "| national model (scale 1.0) ≤ {TARGET_NATIONAL_WALL_S} s, ≤ {TARGET_NATIONAL_PEAK_GIB} GiB | not measured at scale 1.0 | – |"
            );
        }
    }
    if let Some((small, large)) = growth_pair(national) {
        let per = |r: &NationalRecord| r.run_ns as f64 / r.persons.max(1) as f64;
        let ratio = per(large) / per(small);
        let _ = writeln!(
            w,
            "| national model cost linear in population | time per person at scale {} is {ratio:.2}× that at scale {} | {} |",
            scale_text(large.scale),
            scale_text(small.scale),
            if ratio <= 1.5 {
                "yes (within 1.5×)"
            } else {
                "**no** (above 1.5×)"
            }
        );
    }
}

/// The two largest scales measured, smaller first.
fn growth_pair(national: &[NationalRecord]) -> Option<(&NationalRecord, &NationalRecord)> {
    let mut sorted: Vec<&NationalRecord> = national.iter().filter(|r| r.persons > 0).collect();
    sorted.sort_by(|a, b| a.scale.total_cmp(&b.scale));
    match sorted.as_slice() {
        [.., a, b] => Some((a, b)),
        _ => None,
    }
}

fn latency_of<'a>(
    latency: &'a [LatencyRecord],
    arm: &str,
    mode: &str,
) -> Option<&'a LatencyRecord> {
    latency.iter().find(|r| r.arm == arm && r.mode == mode)
}

fn notes_section(
    w: &mut String,
    corpus: &[&Measurement],
    random: &[&Measurement],
    keep_alive: &[&Measurement],
    latency: &[LatencyRecord],
    national: &[NationalRecord],
) {
    let mut notes = Vec::new();
    let national_size = Some(NATIONAL_PERSONS);
    if let Some(r) = find(random, "kiban", national_size)
        && r.median_ns > TARGET_MEDIAN_NS
    {
        let cached = find(corpus, "kiban", national_size).map_or(String::new(), |c| {
            format!(
                " On the corpus, whose rows stay in cache, the same world decides in {}.",
                format_ns(c.median_ns)
            )
        });
        notes.push(format!(
            "**Decision on uniformly random requests at 7·10⁶ persons: {}, target {TARGET_MEDIAN_NS} ns not met.** Each request lands on a person's row that is not in any cache, so the decision waits for at least one main-memory access (the person's 64-byte hot row; a registration beyond the first four costs a second).{cached} Overlapping the misses of several requests (a batched `decide` with prefetching) is not built.",
            format_ns(r.median_ns)
        ));
    }
    let k = Some(THROUGHPUT_CONNECTIONS);
    let floor = find(keep_alive, "floor", k);
    let memory = find(keep_alive, "endpoint-memory", k);
    let sqlite = find(keep_alive, "endpoint-sqlite", k);
    if let (Some(f), Some(s)) = (floor, sqlite)
        && f.median_ns / s.median_ns < TARGET_HTTP_RATIO
    {
        let with_memory = memory.map_or(String::new(), |m| {
            format!(
                " The same platform over the in-memory store reaches {:.2}× the floor, so the \
                 difference between the two arms ({} vs {} per request at {THROUGHPUT_CONNECTIONS} \
                 connections) is the store.",
                f.median_ns / m.median_ns,
                format_ns(s.median_ns),
                format_ns(m.median_ns)
            )
        });
        notes.push(format!(
            "**Endpoint with the SQLite store: {:.2}× the floor, target {TARGET_HTTP_RATIO}× not \
             met.** Every read's decision is audited durably before the answer leaves: its row \
             is appended by the store's group commit (concurrent reads share one transaction \
             and one fsync, `synchronous=FULL`), so every read waits for at least one fsync of \
             the disk under the benchmark.{with_memory}",
            f.median_ns / s.median_ns
        ));
    }
    if let (Some(f), Some(m)) = (floor, memory)
        && f.median_ns / m.median_ns < TARGET_HTTP_RATIO
    {
        let extra = format_ns(m.median_ns - f.median_ns);
        notes.push(format!(
            "**Endpoint with the in-memory store: {:.2}× the floor, target {TARGET_HTTP_RATIO}× not \
             met.** The endpoint adds {extra} per request over the floor at \
             {THROUGHPUT_CONNECTIONS} connections. Per request the platform admits the caller \
             (revocation, staff session) on the blocking pool, then on the blocking pool again \
             decides under the world's lock, appends the audit record and fetches the records, \
             and serialises them as JSON; the floor does none of this.",
            f.median_ns / m.median_ns
        ));
    }
    if let (Some(f), Some(s)) = (
        latency_of(latency, "floor", "keep-alive"),
        latency_of(latency, "endpoint-sqlite", "keep-alive"),
    ) && s.percentiles.p99_ns > 10 * f.percentiles.p99_ns.max(1)
    {
        notes.push(format!(
            "The SQLite endpoint's keep-alive p99 ({}) is more than ten times the floor's \
             ({}): a read waits for the fsync of the commit carrying its audit record.",
            format_ns(s.percentiles.p99_ns as f64),
            format_ns(f.percentiles.p99_ns as f64)
        ));
    }
    if let Some(r) = national.iter().find(|r| (r.scale - 1.0).abs() < 1e-9) {
        let wall = r.run_ns as f64 / 1e9;
        if wall > TARGET_NATIONAL_WALL_S {
            notes.push(format!(
                "**National model at scale 1.0: {wall:.1} s, target {TARGET_NATIONAL_WALL_S} s not \
                 met** on this {}-thread run ({} events, {} decisions); the figure includes writing \
                 the report files.",
                r.threads,
                thousands(r.events),
                thousands(r.decisions)
            ));
        }
        if r.peak_rss_kib as f64 / 1024.0 / 1024.0 > TARGET_NATIONAL_PEAK_GIB {
            notes.push(format!(
                "**National model at scale 1.0: peak memory {}, target {TARGET_NATIONAL_PEAK_GIB} GiB not met.**",
                mib(r.peak_rss_kib)
            ));
        }
    }
    if national.iter().any(|r| !r.passed) {
        notes.push(
            "At least one national run did not meet every expectation of its scenario (see the \
             national table); its time and memory are still reported."
                .to_owned(),
        );
    }
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(w, "### Targets not met, and why\n");
    for n in notes {
        let _ = writeln!(w, "- {n}");
    }
    let _ = writeln!(w);
}

fn http_section(
    w: &mut String,
    keep_alive: &[&Measurement],
    handshake: &[&Measurement],
    latency: &[LatencyRecord],
) {
    if keep_alive.is_empty() && handshake.is_empty() && latency.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "## Read endpoint over TLS 1.3 with a client certificate\n"
    );
    let _ = writeln!(
        w,
        "`GET /v1/persons/{{insurer}}/{{insured}}/classes/certification-survey` by a \
         care-management office terminal (client certificate, staff session, consent \
         recorded), cycling over 64 persons. **floor**: a trivial axum handler on the same \
         rustls server configuration (client certificate required and verified), answering the \
         endpoint's own bytes as a constant. **endpoint-memory**: the reference platform over \
         its in-memory store. **endpoint-sqlite**: the platform over the durable SQLite store \
         on disk, the real configuration. Same client, same machine, same run. Time per \
         request is criterion's median (95 % interval); with {THROUGHPUT_CONNECTIONS} \
         connections it is wall time over requests, so its inverse is the throughput. In \
         brackets: the arm's throughput over the floor's.\n"
    );
    let _ = writeln!(
        w,
        "| arm | keep-alive, 1 connection | keep-alive, {THROUGHPUT_CONNECTIONS} connections | throughput ({THROUGHPUT_CONNECTIONS} connections) | new full handshake per request |\n|---|---|---|---|---|"
    );
    for arm in HTTP_ARMS {
        let cell = |set: &[&Measurement], n: u64| -> String {
            let Some(m) = find(set, arm, Some(n)) else {
                return "–".into();
            };
            let mut text = format!(
                "{} ({}–{})",
                format_ns(m.median_ns),
                format_ns(m.median_low_ns),
                format_ns(m.median_high_ns)
            );
            if arm != "floor"
                && let Some(f) = find(set, "floor", Some(n))
            {
                let _ = write!(
                    text,
                    " [{:.2}×{}]",
                    f.median_ns / m.median_ns,
                    if spread(&[f, m]) <= SAME_RUN {
                        ""
                    } else {
                        ", not one run"
                    }
                );
            }
            text
        };
        let throughput = find(keep_alive, arm, Some(THROUGHPUT_CONNECTIONS))
            .map_or("–".into(), |m| per_second(m.median_ns));
        let _ = writeln!(
            w,
            "| {arm} | {} | {} | {throughput} | {} |",
            cell(keep_alive, 1),
            cell(keep_alive, THROUGHPUT_CONNECTIONS),
            cell(handshake, 1)
        );
    }
    let _ = writeln!(w);
    if latency.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "Latency of single requests sent one after another (each timed; nearest-rank \
         percentiles), and the difference from the floor's:\n"
    );
    let _ = writeln!(
        w,
        "| arm | connection | requests | p50 | p99 | max | p50 − floor | p99 − floor |\n|---|---|---|---|---|---|---|---|"
    );
    for mode in ["keep-alive", "handshake"] {
        let floor = latency_of(latency, "floor", mode);
        for arm in HTTP_ARMS {
            let Some(r) = latency_of(latency, arm, mode) else {
                continue;
            };
            let p = r.percentiles;
            let diff = |ours: u64, theirs: Option<u64>| match theirs {
                Some(t) if arm != "floor" => {
                    let d = ours as f64 - t as f64;
                    format!("{}{}", if d < 0.0 { "−" } else { "+" }, format_ns(d.abs()))
                }
                _ => "–".into(),
            };
            let _ = writeln!(
                w,
                "| {arm} | {} | {} | {} | {} | {} | {} | {} |",
                if mode == "handshake" {
                    "new per request"
                } else {
                    "kept alive"
                },
                thousands(p.n as u64),
                format_ns(p.p50_ns as f64),
                format_ns(p.p99_ns as f64),
                format_ns(p.max_ns as f64),
                diff(p.p50_ns, floor.map(|f| f.percentiles.p50_ns)),
                diff(p.p99_ns, floor.map(|f| f.percentiles.p99_ns)),
            );
        }
    }
    let _ = writeln!(w);
}

fn queue_section(w: &mut String, queue: &[&Measurement]) {
    if queue.is_empty() {
        return;
    }
    let _ = writeln!(w, "## Simulation: the event queue\n");
    let _ = writeln!(
        w,
        "The engine's `EventQueue` (one FIFO bucket per day) under the hold model: each step \
         takes the next event and schedules it again 1–60 days later, so the number pending \
         stays constant. One thread. The anchors' DES-kernel figure is ≥ 10 M events/s at 10⁶ \
         pending (research note, not a DESIGN target).\n"
    );
    let _ = writeln!(
        w,
        "| pending events | time per hold step | events/s |\n|---|---|---|"
    );
    for n in sizes(queue) {
        if let Some(m) = find(queue, "hold", n) {
            let _ = writeln!(
                w,
                "| {} | {} ({}–{}) | {} |",
                persons(n),
                format_ns(m.median_ns),
                format_ns(m.median_low_ns),
                format_ns(m.median_high_ns),
                per_second(m.median_ns)
            );
        }
    }
    let _ = writeln!(w);
}

fn national_section(w: &mut String, national: &[NationalRecord]) {
    if national.is_empty() {
        return;
    }
    let _ = writeln!(w, "## Simulation: the national model per scale\n");
    let _ = writeln!(
        w,
        "`scenarios/national-survey-2025.toml` (1,741 municipalities, 2026-04 → 2029-03) run \
         by `kiban_engine::run` in a child process per scale, with every core; wall time of \
         the run including its report files; peak resident memory (`VmHWM`) of the child. The \
         last two columns show how cost grows with population: the wall time and memory each \
         scale adds over the previous one, per 10⁶ persons added (fixed costs cancel out).\n"
    );
    let _ = writeln!(
        w,
        "| scale | persons | events | decisions | threads | wall | events/s | peak memory | added wall per added 10⁶ persons | added memory per added 10⁶ persons | expectations |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut rows: Vec<&NationalRecord> = national.iter().collect();
    rows.sort_by(|a, b| a.scale.total_cmp(&b.scale));
    let mut previous: Option<&NationalRecord> = None;
    for r in rows {
        let wall = r.run_ns as f64 / 1e9;
        let (added_wall, added_memory) = match previous {
            Some(p) if r.persons > p.persons => {
                let millions = (r.persons - p.persons) as f64 / 1e6;
                let wall = (r.run_ns as f64 - p.run_ns as f64) / 1e9 / millions;
                let kib = (r.peak_rss_kib as f64 - p.peak_rss_kib as f64) / millions;
                (
                    format!("{wall:.2} s"),
                    if kib >= 0.0 {
                        mib(kib as u64)
                    } else {
                        format!("−{}", mib((-kib) as u64))
                    },
                )
            }
            _ => ("–".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {wall:.2} s | {} | {} | {added_wall} | {added_memory} | {} |",
            scale_text(r.scale),
            thousands(r.persons),
            thousands(r.events),
            thousands(r.decisions),
            r.threads,
            if r.run_ns > 0 {
                per_second(r.run_ns as f64 / r.events.max(1) as f64)
            } else {
                "–".into()
            },
            mib(r.peak_rss_kib),
            if r.passed {
                "all met"
            } else {
                "**some failed**"
            }
        );
        previous = Some(r);
    }
    let _ = writeln!(w);
}

fn commands_section(w: &mut String, run: Option<&RunRecord>) {
    let _ = writeln!(w, "## Commands\n");
    let _ = writeln!(w, "This file, everything measured again:\n");
    let _ = writeln!(w, "```sh\n{COMMAND}\n```\n");
    if let Some(r) = run {
        let _ = writeln!(w, "which ran, in order:\n");
        let _ = writeln!(w, "```sh");
        for c in &r.commands {
            let _ = writeln!(w, "{c}");
        }
        let _ = writeln!(w, "```\n");
    }
    let _ = writeln!(
        w,
        "Parts alone (then `cargo run -p kiban-benches --release --bin perf-report` rewrites \
         this file from whatever results are there):\n\n\
         ```sh\n\
         cargo bench -p kiban-benches --bench decision   # decision vs Cedar and Rego; KIBAN_BENCH_FULL=1 adds 7·10⁶ persons\n\
         cargo bench -p kiban-benches --bench http       # endpoint vs mTLS floor, latency percentiles\n\
         cargo bench -p kiban-benches --bench sim        # event queue; national model at 0.01, 0.1, 1.0\n\
         ```\n"
    );
}
