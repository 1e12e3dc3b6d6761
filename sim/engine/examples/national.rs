//! Runs a scenario in release mode and prints how long it took and how much memory it
//! needed: the national-scale measurement of DESIGN §7 (not a test, no assertion).
//!
//! ```sh
//! /usr/bin/time -v cargo run --release -p kiban-engine --example national -- \
//!     scenarios/national-survey-2025.toml --scale 1.0 --out target/national
//! ```
// A measuring program outside the library: it may read the wall clock and print.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use kiban_engine::{RunOptions, Scenario, run};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: national SCENARIO.toml [--scale S] [--out DIR] [--threads N] [--seed N]");
        return ExitCode::from(2);
    };
    let mut options = RunOptions::new("target/national");
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--scale" => options.scale = value.parse().ok(),
            "--out" => options.out_dir = value.into(),
            "--threads" => options.threads = value.parse().ok(),
            "--seed" => options.seed = value.parse().ok(),
            other => {
                eprintln!("unknown flag {other}");
                return ExitCode::from(2);
            }
        }
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::from_toml(&text, &path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let outcome = match run(&scenario, &options) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(3);
        }
    };
    let elapsed = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map_or("unknown", |l| l.trim_start_matches("VmHWM:").trim());
    for s in &outcome.stats {
        println!(
            "{}: {} persons, {} relationships, {} registrations, {} offices, {} events, {} decisions",
            s.variant,
            s.persons,
            s.relationships,
            s.registrations,
            s.offices,
            s.events,
            s.decisions
        );
    }
    for v in outcome.verdicts.iter().filter(|v| !v.passed) {
        println!(
            "FAIL step {} (line {}) {}: expected {}, got {}",
            v.step, v.line, v.subject, v.expected, v.actual
        );
    }
    println!(
        "{} verdicts, {} failed; run {:.2?}; peak memory {peak}; report in {}",
        outcome.verdicts.len(),
        outcome.verdicts.iter().filter(|v| !v.passed).count(),
        elapsed,
        options.out_dir.display()
    );
    if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
