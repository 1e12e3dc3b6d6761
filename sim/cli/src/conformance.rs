//! `kiban conformance …`: the vendor conformance suite (kiban-conformance).
//!
//! - `run --target FILE` runs the cases against a platform described by a target file;
//!   `run --reference` starts kiban's own reference platform in-process (fresh PKI, J-LIS
//!   mock, settable clock) and runs against it. Reports (console summary, JUnit XML, JSON with
//!   its digest, Markdown) go to `--out`.
//! - `csv FILES…|DIR` validates care-plan CSV files (MS932, names, columns, codes, cross-file
//!   consistency); every finding cites its clause of the standard.
//!
//! Exit codes: 0 all selected cases passed / no error finding; 1 a case failed or a file has
//! an error finding; 2 bad arguments or an unusable target file; 3 the run could not happen.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use kiban_conformance::runner::{Filter, RunOptions};
use kiban_conformance::{Area, Target};

use crate::exit::{Code, UsageError};

/// `kiban conformance …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConformanceCommand {
    /// Run the conformance cases against a platform and write the reports.
    Run(RunArgs),
    /// Validate care-plan CSV files (ケアプランデータ連携 standard v4.1 / v3.2).
    Csv(CsvArgs),
}

/// `kiban conformance run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The target file (base URL, CA, client certificates per role, capabilities).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "reference",
        required_unless_present = "reference"
    )]
    target: Option<PathBuf>,
    /// Start kiban's reference platform in-process and run against it.
    #[arg(long)]
    reference: bool,
    /// Where the four reports go.
    #[arg(long, value_name = "DIR", default_value = "reports/conformance")]
    out: PathBuf,
    /// Cases run at once (results do not depend on it).
    #[arg(long, value_name = "N", default_value_t = 4)]
    jobs: usize,
    /// Only cases whose id starts with one of these (repeatable).
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<String>,
    /// Only cases of these areas (repeatable).
    #[arg(long = "area", value_name = "AREA", value_parser = parse_area)]
    areas: Vec<Area>,
    /// Only cases with one of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Seconds allowed per case.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

/// `kiban conformance csv`.
#[derive(Debug, Args)]
pub(crate) struct CsvArgs {
    /// Files or folders of care-plan CSV files.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// Print the findings as JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_area(text: &str) -> Result<Area, String> {
    Area::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
        format!(
            "unknown area {text:?}; expected one of: {}",
            names.join(", ")
        )
    })
}

pub(crate) fn run(cmd: ConformanceCommand) -> anyhow::Result<Code> {
    match cmd {
        ConformanceCommand::Run(args) => run_cases(&args),
        ConformanceCommand::Csv(args) => csv(&args),
    }
}

fn run_cases(args: &RunArgs) -> anyhow::Result<Code> {
    if args.jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".to_owned()).into());
    }
    let options = RunOptions {
        jobs: args.jobs,
        filter: Filter {
            ids: args.ids.clone(),
            areas: args.areas.clone(),
            tags: args.tags.clone(),
        },
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..RunOptions::default()
    };
    // The reference (if any) stays up until the run is over.
    let mut reference = None;
    let target: Target = match (&args.target, args.reference) {
        (Some(file), _) => {
            Target::load(file).map_err(|e| UsageError(format!("{}: {e}", file.display())))?
        }
        (None, _) => {
            let started = kiban_conformance::reference::start(&Default::default())
                .context("starting the reference platform")?;
            let target = started.target().clone();
            reference = Some(started);
            target
        }
    };
    let report = kiban_conformance::run(&target, &options).context("running the suite")?;
    drop(reference);
    let files = report
        .write_all(&args.out)
        .with_context(|| format!("writing reports into {}", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", report.console_summary())?;
    for file in files {
        writeln!(out, "wrote {}", file.display())?;
    }
    Ok(if report.all_passed() {
        Code::Success
    } else {
        Code::Failure
    })
}

fn csv(args: &CsvArgs) -> anyhow::Result<Code> {
    let report =
        kiban_conformance::csv::validate(&args.paths).map_err(|e| UsageError(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", report.to_json())?;
    } else {
        write!(out, "{}", report.to_text())?;
    }
    Ok(if report.is_valid() {
        Code::Success
    } else {
        Code::Failure
    })
}
