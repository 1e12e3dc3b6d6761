//! Writes `reports/performance.md` from the latest criterion results:
//!
//! ```sh
//! cargo bench -p kiban-benches --bench decision
//! cargo run -p kiban-benches --release --bin perf-report [-- --criterion DIR --out FILE]
//! ```
//!
//! Defaults are the workspace's `target/criterion`, `reports/performance.md` and
//! `Cargo.lock`. Exit codes: 0 written, 1 no results or unreadable files, 2 bad arguments.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use kiban_benches::report::{collect, machine, render};

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut criterion = std::env::var_os("CARGO_TARGET_DIR")
        .map_or(root.join("target"), PathBuf::from)
        .join("criterion");
    let mut out = root.join("reports").join("performance.md");
    let lock = root.join("Cargo.lock");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--criterion", Some(v)) => criterion = PathBuf::from(v),
            ("--out", Some(v)) => out = PathBuf::from(v),
            _ => {
                eprintln!("usage: perf-report [--criterion DIR] [--out FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let result = collect(&criterion).and_then(|ms| Ok((ms, machine(&lock)?)));
    let (measurements, machine) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("perf-report: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(dir) = out.parent()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("perf-report: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    if let Err(e) = std::fs::write(&out, render(&measurements, &machine)) {
        eprintln!("perf-report: {}: {e}", out.display());
        return ExitCode::from(1);
    }
    println!(
        "wrote {} ({} results from {})",
        out.display(),
        measurements.len(),
        criterion.display()
    );
    ExitCode::SUCCESS
}
