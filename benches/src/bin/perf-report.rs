//! Writes `reports/performance.md`; with `--run`, first measures everything again.
//!
//! ```sh
//! cargo run -p kiban-benches --release --bin perf-report -- --run           # all benches, then the report (~15 min, ~3.5 GiB)
//! cargo run -p kiban-benches --release --bin perf-report -- --run --quick   # tiny end-to-end check (CI)
//! cargo run -p kiban-benches --release --bin perf-report                    # the report from existing results
//! ```
//!
//! `--run` runs `cargo bench -p kiban-benches --bench decision --bench http --bench sim`
//! (the decision against Cedar and Rego, the read endpoint against its mTLS floor, the event
//! queue and the national model at scales 0.01, 0.1 and 1.0) with `KIBAN_BENCH_FULL=1` (the
//! decision also at 7·10⁶ persons, where DESIGN §7 states its target), recording the load average
//! before and after and the commands, then writes the report. `--quick` makes that run tiny
//! (`KIBAN_BENCH_QUICK=1`: 10⁴ persons, national scales 0.001 and 0.002, short criterion
//! samples) and keeps it apart from real results: criterion's and the perf files go to
//! `<target>/kiban-perf-quick/`, and the report to `<target>/kiban-perf-quick/performance.md`
//! unless `--out` says otherwise. A quick report says in its first lines that it is one.
//!
//! Other options: `--criterion DIR` (default `$CRITERION_HOME` or `<target>/criterion`),
//! `--perf DIR` (default `$KIBAN_PERF_DIR` or `<target>/kiban-perf`), `--out FILE` (default
//! `reports/performance.md`); `<target>` is `$CARGO_TARGET_DIR` or the workspace's `target`.
//! Exit codes: 0 written, 1 a bench failed or no results or unreadable files, 2 bad
//! arguments.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use kiban_benches::report::{Inputs, collect, machine, render};
use kiban_benches::results::{
    self, HTTP_LATENCY_FILE, LatencyRecord, NATIONAL_FILE, NationalRecord, RUN_FILE, RunRecord,
};

/// Criterion options of the quick run.
const QUICK_CRITERION: [&str; 6] = [
    "--warm-up-time",
    "0.1",
    "--measurement-time",
    "0.3",
    "--sample-size",
    "10",
];

struct Options {
    run: bool,
    quick: bool,
    criterion: Option<PathBuf>,
    perf: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn usage() -> ExitCode {
    eprintln!("usage: perf-report [--run [--quick]] [--criterion DIR] [--perf DIR] [--out FILE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut options = Options {
        run: false,
        quick: false,
        criterion: None,
        perf: None,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--run" => options.run = true,
            "--quick" => options.quick = true,
            "--criterion" | "--perf" | "--out" => {
                let Some(value) = args.next().map(PathBuf::from) else {
                    return usage();
                };
                match arg.as_str() {
                    "--criterion" => options.criterion = Some(value),
                    "--perf" => options.perf = Some(value),
                    _ => options.out = Some(value),
                }
            }
            _ => return usage(),
        }
    }
    if options.quick && !options.run {
        eprintln!("perf-report: --quick only makes sense with --run");
        return usage();
    }
    match report(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf-report: {e}");
            ExitCode::from(1)
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn report(options: &Options) -> Result<(), String> {
    let root = workspace();
    let quick_dir = results::target_dir().join("kiban-perf-quick");
    let (criterion, perf, out) = if options.quick {
        (
            options
                .criterion
                .clone()
                .unwrap_or_else(|| quick_dir.join("criterion")),
            options.perf.clone().unwrap_or_else(|| quick_dir.clone()),
            options
                .out
                .clone()
                .unwrap_or_else(|| quick_dir.join("performance.md")),
        )
    } else {
        (
            options
                .criterion
                .clone()
                .unwrap_or_else(results::criterion_dir),
            options.perf.clone().unwrap_or_else(results::perf_dir),
            options
                .out
                .clone()
                .unwrap_or_else(|| root.join("reports").join("performance.md")),
        )
    };
    if options.run {
        if options.quick && options.criterion.is_none() && options.perf.is_none() {
            // Old quick results must not stand in for missing new ones.
            let _ = std::fs::remove_dir_all(&quick_dir);
        }
        run_benches(&root, &criterion, &perf, options.quick)?;
    }
    let measurements = collect(&criterion).map_err(|e| e.to_string())?;
    let latency: Vec<LatencyRecord> = results::read(&perf.join(HTTP_LATENCY_FILE))
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let national: Vec<NationalRecord> = results::read(&perf.join(NATIONAL_FILE))
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let run: Option<RunRecord> = results::read(&perf.join(RUN_FILE)).map_err(|e| e.to_string())?;
    let inputs = Inputs {
        machine: machine(&root.join("Cargo.lock")).map_err(|e| e.to_string())?,
        measurements,
        latency,
        national,
        run,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&out, render(&inputs)).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "wrote {} ({} criterion results from {}, perf files from {})",
        out.display(),
        inputs.measurements.len(),
        criterion.display(),
        perf.display()
    );
    Ok(())
}

/// Runs the benches into `criterion` and `perf`, then records the run in `perf/run.json`.
fn run_benches(root: &Path, criterion: &Path, perf: &Path, quick: bool) -> Result<(), String> {
    let load_at_start = results::load_average();
    let started_unix = results::unix_now();
    let started = Instant::now();
    if load_at_start[0] >= 1.5 {
        eprintln!(
            "perf-report: warning: load average {:.2} at the start; the machine is not quiet, \
             so the numbers will be noisy",
            load_at_start[0]
        );
    }
    std::fs::create_dir_all(perf).map_err(|e| format!("{}: {e}", perf.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "kiban-benches",
            "--bench",
            "decision",
            "--bench",
            "http",
            "--bench",
            "sim",
        ])
        .env("CRITERION_HOME", criterion)
        .env("KIBAN_PERF_DIR", perf);
    let mut shown = format!(
        "CRITERION_HOME={} KIBAN_PERF_DIR={} ",
        criterion.display(),
        perf.display()
    );
    if quick {
        command.env("KIBAN_BENCH_QUICK", "1");
        command.arg("--").args(QUICK_CRITERION);
        shown.push_str("KIBAN_BENCH_QUICK=1 ");
    } else {
        // The DESIGN §7 decision target is stated at the national size.
        command.env("KIBAN_BENCH_FULL", "1");
        shown.push_str("KIBAN_BENCH_FULL=1 ");
    }
    shown.push_str("cargo bench -p kiban-benches --bench decision --bench http --bench sim");
    if quick {
        shown.push_str(" -- ");
        shown.push_str(&QUICK_CRITERION.join(" "));
    }
    eprintln!("perf-report: {shown}");
    let status = command
        .status()
        .map_err(|e| format!("starting cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("cargo bench failed ({status})"));
    }
    let record = RunRecord {
        quick,
        load_at_start,
        load_at_end: results::load_average(),
        started_unix,
        wall_s: started.elapsed().as_secs_f64(),
        commands: vec![shown],
    };
    results::write(&perf.join(RUN_FILE), &record).map_err(|e| e.to_string())
}
