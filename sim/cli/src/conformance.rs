//! `kiban conformance …`: the vendor conformance suite (kiban-conformance).
//!
//! - `run --target FILE` runs the cases against a platform described by a target file;
//!   `run --reference` starts kiban's own reference platform in-process (fresh PKI, J-LIS
//!   mock, settable clock) and runs against it. Reports (console summary, JUnit XML, JSON with
//!   its digest, Markdown) go to `--out`.
//! - `csv FILES…|DIR` validates care-plan CSV files (MS932, names, columns, codes, cross-file
//!   consistency); every finding cites its clause of the standard.
//! - `observe --role ROLE` (client-side conformance) starts the reference platform behind a
//!   recording layer on `--listen`, writes the vendor's client certificates, the operator root
//!   CA and `connection.toml` into `--out`, prints the base URL, and records what the vendor's
//!   system sends until the `--script` is complete, Ctrl-C, or `--duration` seconds; then it
//!   judges the exchanges and writes the same four reports plus `exchanges.jsonl`.
//!
//! Exit codes: 0 all selected cases passed / no error finding / every observe check passed and
//! the script was met; 1 a case failed, a file has an error finding, or observe found a
//! violation or an unmet expectation or observed nothing at all; 2 bad arguments, an unusable target file or script, a
//! role that cannot be observed; 3 the run could not happen (e.g. `--listen` cannot be bound).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use kiban_conformance::observe::script::Script;
use kiban_conformance::observe::{ObserveError, ObserveOptions};
use kiban_conformance::runner::{Filter, RunOptions};
use kiban_conformance::{Area, Target};
use kiban_core::vocab::Role;

use crate::exit::{Code, UsageError};

/// `kiban conformance …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConformanceCommand {
    /// Run the conformance cases against a platform and write the reports.
    Run(RunArgs),
    /// Validate care-plan CSV files (ケアプランデータ連携 standard v4.1 / v3.2).
    Csv(CsvArgs),
    /// Observe a vendor's system (client-side conformance): serve the reference platform,
    /// record and judge what the system sends, write the reports.
    Observe(ObserveArgs),
}

/// `kiban conformance observe`.
#[derive(Debug, Args)]
pub(crate) struct ObserveArgs {
    /// The role of the system under observation: municipality, care-management (alias
    /// care-office), care-service, facility, medical-institution (alias medical).
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    role: Role,
    /// Where the observed platform listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8444")]
    listen: SocketAddr,
    /// The script of expected interactions (TOML, `kiban-observe-script/1`); observation
    /// ends when it is complete.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// End after this many seconds (without it and without a script: on Ctrl-C only).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Where certificates, the connection file, the reports and the exchange log go.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports/conformance-observe"
    )]
    out: PathBuf,
    /// The vendor's terminals, one client certificate each (repeatable; default vendor-1
    /// and vendor-2).
    #[arg(long = "terminal", value_name = "NAME")]
    terminals: Vec<String>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    kiban_conformance::observe::parse_role(text).map_err(|e| e.to_string())
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
        ConformanceCommand::Observe(args) => observe(args),
    }
}

fn observe(args: ObserveArgs) -> anyhow::Result<Code> {
    let mut options = ObserveOptions::new(args.role, &args.out);
    options.listen = args.listen;
    if !args.terminals.is_empty() {
        options.terminals = args.terminals;
    }
    if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let script =
            Script::parse(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        options.script = Some((name, script));
    }
    let observer = match kiban_conformance::observe::start(options) {
        Ok(observer) => observer,
        Err(ObserveError::Usage(message)) => return Err(UsageError(message).into()),
        Err(e) => return Err(e).context("starting observe mode"),
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "observing role {} ({}) at {} (server name {})",
        observer.role(),
        observer.organisation(),
        observer.base_url(),
        observer.server_name()
    )?;
    writeln!(
        out,
        "connection file: {}\nCA: {}",
        observer.connection_file().display(),
        observer.ca_file().display()
    )?;
    for terminal in observer.terminals() {
        writeln!(
            out,
            "client certificate {}: {} (key {})",
            terminal.principal.terminal(),
            terminal.chain.display(),
            terminal.key.display()
        )?;
    }
    writeln!(
        out,
        "{}",
        match (&args.script, args.duration) {
            (Some(_), Some(s)) => format!("until the script is complete, Ctrl-C, or {s} s"),
            (Some(_), None) => "until the script is complete or Ctrl-C".to_owned(),
            (None, Some(s)) => format!("for {s} s or until Ctrl-C"),
            (None, None) => "until Ctrl-C".to_owned(),
        }
    )?;
    out.flush()?;
    drop(out);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime")?;
    let ended = runtime.block_on(
        observer.wait(args.duration.map(Duration::from_secs), async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }),
    );
    drop(runtime);
    let (report, files) = observer
        .finish(ended)
        .with_context(|| format!("writing reports into {}", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", report.console_summary())?;
    let observed = report
        .observe
        .as_ref()
        .map_or(0, |o| o.exchanges + o.handshakes_refused);
    if observed == 0 {
        writeln!(
            out,
            "nothing was observed: no request of the system reached the platform"
        )?;
    }
    for file in files {
        writeln!(out, "wrote {}", file.display())?;
    }
    Ok(if report.all_passed() && observed > 0 {
        Code::Success
    } else {
        Code::Failure
    })
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
    let observed = report
        .observe
        .as_ref()
        .map_or(0, |o| o.exchanges + o.handshakes_refused);
    if observed == 0 {
        writeln!(
            out,
            "nothing was observed: no request of the system reached the platform"
        )?;
    }
    for file in files {
        writeln!(out, "wrote {}", file.display())?;
    }
    Ok(if report.all_passed() && observed > 0 {
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
