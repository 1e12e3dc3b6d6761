//! `kiban scenario run FILE|DIR…`: loads scenario files (a folder means its `*.toml` files,
//! in name order), runs each with kiban-engine — model mode in-process, wire mode against a
//! fresh reference platform and the actors on loopback — and writes its report folder under
//! `--out` (`<out>/<file stem>/`). Prints one line per expectation that failed (step, line,
//! variant, expected vs actual) and a summary per scenario.
//!
//! Exit codes: 0 every expectation passed; 1 an expectation failed, or with `--check` a
//! committed report folder differs from a fresh run; 2 a scenario does not load or the
//! arguments are wrong; 3 a report could not be written.
//!
//! `--check` runs into a temporary folder and compares it byte for byte with the report
//! folder under `--out` without touching it: CI uses it to prove the committed reports are
//! current (the reports are deterministic, so any difference is a real change).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use kiban_engine::{EngineError, Lang, RunOptions, Scenario};

use crate::exit::{Code, UsageError};

/// `kiban scenario …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Run scenario files (or every `*.toml` in a folder) and write their reports.
    Run(RunArgs),
}

/// `kiban scenario run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or folders of them.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// Where report folders go (one per scenario, named after the file).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out: PathBuf,
    /// Replace every scenario's seed.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Replace the population scale of generated worlds (0 < X ≤ 1).
    #[arg(long, value_name = "X")]
    scale: Option<f64>,
    /// Report language: `en` or `ja` (default: the scenario's, else English).
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The code's git commit, recorded in the reports' inputs (the engine never asks git).
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
    /// Compare fresh reports with the folders under --out instead of writing them.
    #[arg(long)]
    check: bool,
}

fn parse_lang(text: &str) -> Result<Lang, String> {
    match text {
        "en" => Ok(Lang::En),
        "ja" => Ok(Lang::Ja),
        other => Err(format!("unknown language {other:?}; expected en or ja")),
    }
}

pub(crate) fn run(cmd: ScenarioCommand) -> anyhow::Result<Code> {
    match cmd {
        ScenarioCommand::Run(args) => run_all(&args),
    }
}

fn run_all(args: &RunArgs) -> anyhow::Result<Code> {
    let files = scenario_files(&args.paths)?;
    let mut loaded = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
        let name = file.display().to_string();
        let scenario = Scenario::from_toml(&text, &name).map_err(|e| UsageError(e.to_string()))?;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| scenario.name.clone());
        loaded.push((stem, scenario));
    }
    let scratch = if args.check {
        Some(tempfile::tempdir().context("creating a scratch folder for --check")?)
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    let mut code = Code::Success;
    for (stem, scenario) in &loaded {
        let committed = args.out.join(stem);
        let target = match &scratch {
            Some(dir) => dir.path().join(stem),
            None => committed.clone(),
        };
        let options = RunOptions {
            seed: args.seed,
            scale: args.scale,
            lang: args.lang,
            git_commit: args.commit.clone(),
            threads: args.threads,
            ..RunOptions::new(&target)
        };
        let outcome = match kiban_engine::run(scenario, &options) {
            Ok(outcome) => outcome,
            Err(e @ EngineError::Options(_)) => {
                return Err(UsageError(format!("{}: {e}", scenario.source_name)).into());
            }
            Err(e) => return Err(e).context(scenario.source_name.clone()),
        };
        let failed: Vec<_> = outcome.verdicts.iter().filter(|v| !v.passed).collect();
        for v in &failed {
            writeln!(
                out,
                "FAIL {}:{} step {} [{}] {}: expected {}, got {}",
                scenario.source_name, v.line, v.step, v.variant, v.subject, v.expected, v.actual
            )?;
        }
        let passed = outcome.verdicts.len() - failed.len();
        writeln!(
            out,
            "{}: {passed}/{} expectations passed; report in {}",
            scenario.source_name,
            outcome.verdicts.len(),
            committed.display()
        )?;
        if !failed.is_empty() {
            code = Code::Failure;
        }
        if args.check {
            let differences = compare_dirs(&target, &committed)?;
            for d in &differences {
                writeln!(out, "STALE {}: {d}", committed.display())?;
            }
            if !differences.is_empty() {
                code = Code::Failure;
            }
        }
    }
    Ok(code)
}

/// The scenario files named by `paths`: files as given, folders as their `*.toml` files in
/// name order.
pub(crate) fn scenario_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            in_dir.sort();
            if in_dir.is_empty() {
                return Err(
                    UsageError(format!("{}: no *.toml scenario files", path.display())).into(),
                );
            }
            files.extend(in_dir);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(UsageError(format!("{}: no such file or folder", path.display())).into());
        }
    }
    Ok(files)
}

/// Files that differ between a fresh report folder and a committed one, by relative path.
fn compare_dirs(fresh: &Path, committed: &Path) -> anyhow::Result<Vec<String>> {
    let mut fresh_files = relative_files(fresh)?;
    let committed_files = if committed.is_dir() {
        relative_files(committed)?
    } else {
        return Ok(vec!["no committed report folder".to_owned()]);
    };
    let mut differences = Vec::new();
    for rel in &committed_files {
        if !fresh_files.contains(rel) {
            differences.push(format!("{} is not produced any more", rel.display()));
        }
    }
    fresh_files.retain(|rel| {
        let missing = !committed_files.contains(rel);
        if missing {
            differences.push(format!("{} is missing", rel.display()));
        }
        !missing
    });
    for rel in fresh_files {
        let a = std::fs::read(fresh.join(&rel))?;
        let b = std::fs::read(committed.join(&rel))?;
        if a != b {
            differences.push(format!("{} differs", rel.display()));
        }
    }
    differences.sort();
    Ok(differences)
}

fn relative_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}
