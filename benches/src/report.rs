//! `reports/performance.md` from a criterion run: every number in it is read from
//! criterion's `estimates.json` files (median point estimates and their confidence
//! intervals), the machine from `/proc`, `rustc -V` and the engines' versions from
//! `Cargo.lock`. Nothing is typed in; a figure that was not measured is reported as missing.
//!
//! Ratios are only formed between arms of the same group and size. Criterion keeps the
//! latest result of each bench id, so a partial run can leave older results beside newer
//! ones; each table therefore shows when its arms were measured, and a ratio between arms
//! measured more than [`SAME_RUN`] apart is marked as not from one run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

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
    /// Parameter (persons), when there is one.
    pub persons: Option<u64>,
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
    /// No decision results at all.
    #[error(
        "no `decision/*` results under {0}; run `cargo bench -p kiban-benches --bench decision` first"
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

/// Every `decision/*` result under `criterion_dir` (criterion's output folder).
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
    found.retain(|m| m.group.starts_with("decision/"));
    if found.is_empty() {
        return Err(ReportError::NoResults(criterion_dir.to_path_buf()));
    }
    found.sort_by(|a, b| {
        (&a.group, a.persons, &a.function).cmp(&(&b.group, b.persons, &b.function))
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
    let persons = match &b.value_str {
        Some(v) => Some(v.parse::<u64>().map_err(|_| ReportError::Format {
            path: bench.clone(),
            message: format!("parameter {v:?} is not a number of persons"),
        })?),
        None => None,
    };
    Ok(Some(Measurement {
        group: b.group_id,
        function: b.function_id.unwrap_or_default(),
        persons,
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

/// The crates whose versions the report names.
pub const VERSIONED: [&str; 3] = ["cedar-policy", "regorus", "criterion"];

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
        Some(n) => {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        }
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

/// The report text.
pub fn render(ms: &[Measurement], machine: &Machine) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Performance\n");
    let _ = writeln!(
        w,
        "Generated by `cargo run -p kiban-benches --release --bin perf-report` from criterion's \
         results in `target/criterion` (medians and their 95 % confidence intervals); no \
         number in this file is typed by hand. The bench, its corpus, the equivalence gate \
         and the fairness rules are described in `benches/benches/decision.rs`.\n"
    );
    machine_section(w, machine);
    let corpus: Vec<&Measurement> = ms.iter().filter(|m| m.group == "decision/corpus").collect();
    let random: Vec<&Measurement> = ms.iter().filter(|m| m.group == "decision/random").collect();
    let policy: Vec<&Measurement> = ms.iter().filter(|m| m.group == "decision/policy").collect();
    targets_section(w, &corpus, &random);
    corpus_section(w, &corpus);
    random_section(w, &corpus, &random);
    policy_section(w, &policy);
    let _ = writeln!(w, "## Commands\n");
    let _ = writeln!(
        w,
        "```sh\n\
         cargo bench -p kiban-benches --bench decision                      # 10⁴, 10⁵, 10⁶ persons\n\
         KIBAN_BENCH_FULL=1 cargo bench -p kiban-benches --bench decision   # also 7·10⁶ (about 3 GB)\n\
         KIBAN_BENCH_PERSONS=7000000 cargo bench -p kiban-benches --bench decision  # chosen sizes only\n\
         cargo run -p kiban-benches --release --bin perf-report             # this file\n\
         ```\n"
    );
    let _ = writeln!(w, "## Not measured yet\n");
    let _ = writeln!(
        w,
        "- p99 of the decision (criterion reports medians; a histogram arm is still to come).\n\
         - The read endpoint over TLS 1.3 with client certificates against an axum + rustls \
         mTLS floor (DESIGN §7: ≥ 0.85× its keep-alive throughput).\n\
         - The national model's wall time and peak memory at scales 0.01, 0.1 and 1.0 \
         (DESIGN §7: ≤ 60 s and ≤ 4 GiB)."
    );
    out
}

fn machine_section(w: &mut String, m: &Machine) {
    let _ = writeln!(w, "## Machine and versions\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| CPU | {} ({} logical) |", m.cpu, m.cpus);
    let _ = writeln!(w, "| memory | {} |", m.memory);
    let _ = writeln!(w, "| compiler | {} |", m.rustc);
    for (name, version) in &m.versions {
        let _ = writeln!(w, "| {name} | {version} |");
    }
    let _ = writeln!(w);
}

fn find<'a>(ms: &[&'a Measurement], function: &str, n: Option<u64>) -> Option<&'a Measurement> {
    ms.iter()
        .copied()
        .find(|m| m.function == function && m.persons == n)
}

fn sizes(ms: &[&Measurement]) -> BTreeSet<Option<u64>> {
    ms.iter().map(|m| m.persons).collect()
}

fn ratio_text(slow: &Measurement, fast: &Measurement) -> String {
    let ratio = slow.median_ns / fast.median_ns;
    let same_run = spread(&[slow, fast]) <= SAME_RUN;
    format!(
        "{ratio:.1}×{}",
        if same_run { "" } else { " (not one run)" }
    )
}

fn targets_section(w: &mut String, corpus: &[&Measurement], random: &[&Measurement]) {
    let _ = writeln!(w, "## DESIGN §7 decision targets\n");
    let largest = sizes(corpus).into_iter().flatten().max();
    let national = Some(NATIONAL_PERSONS);
    let _ = writeln!(w, "| target | measured | met |\n|---|---|---|");
    for (label, set) in [("corpus", corpus), ("uniformly random", random)] {
        match find(set, "kiban", national) {
            Some(m) => {
                let _ = writeln!(
                    w,
                    "| median ≤ {TARGET_MEDIAN_NS} ns at 7·10⁶ persons ({label}) | {} | {} |",
                    format_ns(m.median_ns),
                    yes_no(m.median_ns <= TARGET_MEDIAN_NS)
                );
            }
            None => {
                let _ = writeln!(
                    w,
                    "| median ≤ {TARGET_MEDIAN_NS} ns at 7·10⁶ persons ({label}) | not measured (run with `KIBAN_BENCH_FULL=1`) | – |"
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
                "| ≥ {TARGET_CEDAR_RATIO}× Cedar engine-only, same run ({} persons) | {} | {} |",
                persons(n),
                ratio_text(c, k),
                yes_no(ratio >= TARGET_CEDAR_RATIO)
            );
        }
    }
    let _ = writeln!(w);
    if largest.is_some_and(|n| n < NATIONAL_PERSONS) {
        let _ = writeln!(
            w,
            "The largest size measured is {} persons; the 7·10⁶ run is optional because it needs \
             about 3 GB of memory and time to build.\n",
            persons(largest)
        );
    }
    let _ = writeln!(
        w,
        "p99 ≤ 1 µs and no allocation are checked elsewhere: allocation by \
         `sim/core/tests/no_alloc.rs`; p99 is not measured yet.\n"
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
        let row: Vec<&Measurement> = corpus.iter().copied().filter(|m| m.persons == n).collect();
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
            variants.entry((v.to_string(), m.persons)).or_default().0 = Some(m);
        } else if let Some(v) = m.function.strip_prefix("cedar-engine-only-") {
            variants.entry((v.to_string(), m.persons)).or_default().1 = Some(m);
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
