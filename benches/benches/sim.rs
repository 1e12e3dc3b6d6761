//! The simulation: the engine's event queue under the hold model (criterion), and the
//! national model at several scales, each in a child process (wall time, events/s, peak
//! memory).
//!
//! ```sh
//! cargo bench -p kiban-benches --bench sim                  # queue; national at 0.01, 0.1, 1.0 (~3 GiB, ~1–2 min)
//! cargo bench -p kiban-benches --bench sim -- --test        # queue once; national at 0.0005 (CI)
//! KIBAN_BENCH_QUICK=1 cargo bench -p kiban-benches --bench sim   # national at 0.001, 0.002
//! KIBAN_NATIONAL_SCALES=0.01,0.1 cargo bench -p kiban-benches --bench sim   # chosen scales
//! ```
//!
//! **Queue.** `sim/queue/hold/<pending>`: one hold step (pop the next event in (day,
//! sequence) order, push it again 1–60 days later) with 10^4 and 10^6 events pending
//! (`kiban_benches::sim::Hold`, through `kiban_engine::queue::EventQueue`'s public API).
//! The queue is rebuilt, outside the timed span, when its 65,535-day horizon comes near. Each
//! step's event is checked (it came from the queue; the pending count never changes).
//!
//! **National model.** `scenarios/national-survey-2025.toml` (1,741 municipalities,
//! 2026-04 → 2029-03) at each scale, run by `kiban_engine::run` in a child process of this
//! bench (the same executable, `KIBAN_NATIONAL_CHILD=<scale>`), with every worker thread the
//! machine has and its report written to a scratch folder that is removed afterwards. The
//! child times `run` (model and report files) and reads its own peak resident memory
//! (`VmHWM`) before it exits; the parent writes one record per scale to `national.json` in
//! the perf folder (`KIBAN_PERF_DIR`, default `target/kiban-perf`) unless in `--test` mode.
//!
//! **Settings.** 30 samples, 1 s warm-up, 3 s measurement, noise threshold 3 %.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the child prints its record; the parent reports progress"
)]

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use kiban_benches::results::{self, NATIONAL_FILE, NationalRecord};
use kiban_benches::sim::{Hold, national};

/// Pending events of the hold arms.
const PENDING: [usize; 2] = [10_000, 1_000_000];
/// Longest reschedule delay, days.
const MAX_DELAY: u16 = 60;
/// The child-process switch.
const CHILD: &str = "KIBAN_NATIONAL_CHILD";

fn main() -> ExitCode {
    if let Ok(scale) = std::env::var(CHILD) {
        return child(&scale);
    }
    let mode = Mode::from_args();
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .noise_threshold(0.03)
        .without_plots()
        .configure_from_args();
    let pending: &[usize] = if mode == Mode::Test {
        &PENDING[..1]
    } else {
        &PENDING
    };
    let mut g = c.benchmark_group("sim/queue");
    g.throughput(Throughput::Elements(1));
    for &n in pending {
        let mut hold = Hold::new(n, MAX_DELAY, 7);
        g.bench_function(BenchmarkId::new("hold", n), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut started = Instant::now();
                for _ in 0..iters {
                    if hold.near_end() {
                        elapsed += started.elapsed();
                        hold = Hold::new(n, MAX_DELAY, 7);
                        started = Instant::now();
                    }
                    let event = hold.step();
                    assert!(event.is_some(), "the hold queue ran dry");
                    std::hint::black_box(event);
                }
                let elapsed = elapsed + started.elapsed();
                assert_eq!(hold.pending(), n, "the hold model lost events");
                elapsed
            });
        });
    }
    g.finish();
    c.final_summary();

    let scales = scales(mode);
    let mut records = Vec::new();
    for scale in scales {
        eprintln!("national model at scale {scale} …");
        let record = spawn_child(scale).unwrap_or_else(|e| panic!("national at {scale}: {e}"));
        eprintln!(
            "national {scale}: {} persons, {} events in {:.2} s ({:.2} M events/s), peak {:.0} MiB{}",
            record.persons,
            record.events,
            record.run_ns as f64 / 1e9,
            record.events as f64 / (record.run_ns as f64 / 1e9) / 1e6,
            record.peak_rss_kib as f64 / 1024.0,
            if record.passed {
                ""
            } else {
                "; an expectation failed"
            }
        );
        records.push(record);
    }
    if mode != Mode::Test {
        let path = results::perf_dir().join(NATIONAL_FILE);
        results::write(&path, &records).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("national records written to {}", path.display());
    }
    ExitCode::SUCCESS
}

/// Criterion's test or list mode (tiny, no files), the quick run, or a full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Test,
    List,
    Quick,
    Full,
}

impl Mode {
    fn from_args() -> Mode {
        let args: Vec<String> = std::env::args().collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if has("--list") {
            Mode::List
        } else if has("--test") || !has("--bench") {
            Mode::Test
        } else if std::env::var("KIBAN_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Mode::Quick
        } else {
            Mode::Full
        }
    }
}

fn scales(mode: Mode) -> Vec<f64> {
    match mode {
        Mode::List => Vec::new(),
        Mode::Test => vec![0.0005],
        Mode::Quick => vec![0.001, 0.002],
        Mode::Full => match std::env::var("KIBAN_NATIONAL_SCALES") {
            Ok(list) => list
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("KIBAN_NATIONAL_SCALES: {s:?} is not a scale"))
                })
                .collect(),
            Err(_) => vec![0.01, 0.1, 1.0],
        },
    }
}

fn scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scenarios")
        .join("national-survey-2025.toml")
}

/// The child: one national run, its record as one JSON line on stdout.
fn child(scale: &str) -> ExitCode {
    let Ok(scale) = scale.parse::<f64>() else {
        eprintln!("{CHILD}: {scale:?} is not a scale");
        return ExitCode::from(2);
    };
    match national(&scenario(), scale) {
        Ok(record) => match serde_json::to_string(&record) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(3)
            }
        },
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(3)
        }
    }
}

fn spawn_child(scale: f64) -> Result<NationalRecord, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .env(CHILD, scale.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("child exited with {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("child printed {line:?}: {e}"))
}
