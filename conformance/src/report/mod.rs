//! The run's report and its four renderings: a console summary, JUnit XML (quick-junit),
//! JSON with a versioned schema (`kiban-conformance/1`, or `kiban-conformance-observe/1` for
//! observe mode, which has no run options but an `observe` section) and Markdown. The JSON carries a
//! SHA-256 digest over its own canonical form (keys sorted, no whitespace, the `digest` member
//! left out), which covers the inputs (suite version, requirement catalogue digest, target
//! description, options) and every result; [`verify_json`] recomputes it, so an edited report
//! shows.

mod junit;
mod markdown;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalogue::{Area, Catalogue};
use crate::runner::RunOptions;
use crate::suite::{CaseDef, Failure};
use crate::target::Target;

/// The JSON schema name and version.
pub const SCHEMA: &str = "kiban-conformance/1";

/// The JSON schema of observe-mode reports.
pub const OBSERVE_SCHEMA: &str = "kiban-conformance-observe/1";

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// The target broke a requirement.
    Fail {
        /// What broke.
        failure: Failure,
    },
    /// Not run against this target.
    Skip {
        /// Why.
        reason: String,
    },
    /// The runner could not complete the case (timeout, setup, a runner-side problem).
    Error {
        /// What went wrong.
        message: String,
    },
}

impl Outcome {
    /// `pass`, `fail`, `skip` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Skip { .. } => "skip",
            Outcome::Error { .. } => "error",
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Area.
    pub area: Area,
    /// Title.
    pub title: String,
    /// Requirements it tests.
    pub requirements: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Every finding, when an observe-mode check found several (the outcome names the first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Failure>,
    /// Wall time in milliseconds (0 in observe mode, whose reports carry no wall time).
    pub duration_ms: u64,
}

impl CaseResult {
    pub(crate) fn new(case: &CaseDef, outcome: Outcome, duration: Duration) -> CaseResult {
        CaseResult {
            id: case.id.to_owned(),
            area: case.area,
            title: case.title.to_owned(),
            requirements: case.requirements.iter().map(|r| (*r).to_owned()).collect(),
            tags: case.tags.iter().map(|t| (*t).to_owned()).collect(),
            outcome,
            findings: Vec::new(),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        }
    }

    pub(crate) fn case_id(&self) -> &'static str {
        crate::cases::all()
            .into_iter()
            .find(|c| c.id == self.id)
            .map_or("", |c| c.id)
    }
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases in the report.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Errors.
    pub errors: usize,
}

/// What one requirement's cases showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementStatus {
    /// The requirement id.
    pub id: String,
    /// `pass` (all its cases that ran passed, at least one ran), `fail`, `error`,
    /// `skip` (none ran) or `not-selected`.
    pub status: String,
    /// Its cases in this report.
    pub cases: Vec<String>,
}

/// One deliberately broken behaviour and the cases that caught it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCatch {
    /// The fault's stable name.
    pub fault: String,
    /// Cases run against the platform with the fault switched on.
    pub cases_run: usize,
    /// Cases that failed (caught it), by id.
    pub caught_by: Vec<String>,
}

/// The suite's measured strength: which named faults it catches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strength {
    /// Per fault.
    pub faults: Vec<FaultCatch>,
    /// Faults caught by at least one case.
    pub caught: usize,
    /// Faults measured.
    pub total: usize,
    /// `caught / total`.
    pub catch_rate: f64,
}

impl Strength {
    /// The strength of per-fault results.
    pub fn new(mut faults: Vec<FaultCatch>) -> Strength {
        faults.sort_by(|a, b| a.fault.cmp(&b.fault));
        let caught = faults.iter().filter(|f| !f.caught_by.is_empty()).count();
        let total = faults.len();
        Strength {
            faults,
            caught,
            total,
            catch_rate: if total == 0 {
                0.0
            } else {
                caught as f64 / total as f64
            },
        }
    }
}

/// The suite's identity in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteInfo {
    /// The crate version.
    pub version: String,
    /// Cases in the suite.
    pub cases: usize,
    /// Requirements in the catalogue.
    pub requirements: usize,
    /// SHA-256 of the requirement catalogue.
    pub requirements_sha256: String,
}

/// The options as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedOptions {
    /// Jobs.
    pub jobs: usize,
    /// Timeout per case, ms.
    pub timeout_ms: u64,
    /// Id filters.
    pub ids: Vec<String>,
    /// Area filters.
    pub areas: Vec<Area>,
    /// Tag filters.
    pub tags: Vec<String>,
    /// The run tag in fixture identifiers.
    pub run_tag: String,
}

/// A run's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// The suite.
    pub suite: SuiteInfo,
    /// The target, without secrets.
    pub target: Value,
    /// The options (runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<ReportedOptions>,
    /// What was observed (observe mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observe: Option<crate::observe::ObserveInfo>,
    /// Counts.
    pub summary: Summary,
    /// Per case, ordered by id.
    pub results: Vec<CaseResult>,
    /// Per requirement, ordered by id.
    pub requirements: Vec<RequirementStatus>,
    /// The measured strength, when a strength run was attached.
    pub strength: Option<Strength>,
    /// Wall time of the run, ms.
    pub duration_ms: u64,
}

/// File names written by [`Report::write_all`].
pub const FILES: [&str; 4] = [
    "conformance.txt",
    "conformance.junit.xml",
    "conformance.json",
    "conformance.md",
];

/// Why a report could not be written or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The JUnit serializer failed.
    #[error("junit: {0}")]
    Junit(String),
    /// A JSON report that does not parse or has no digest.
    #[error("json report: {0}")]
    Json(String),
}

impl Report {
    pub(crate) fn new(
        target: &Target,
        options: &RunOptions,
        run_tag: &str,
        results: Vec<CaseResult>,
        duration: Duration,
    ) -> Report {
        let catalogue = Catalogue::shipped();
        let summary = summarise(&results);
        let requirements = catalogue
            .requirements()
            .iter()
            .map(|req| requirement_status(req, &results, "not-selected"))
            .collect();
        Report {
            schema: SCHEMA.to_owned(),
            suite: SuiteInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                cases: crate::cases::all().len(),
                requirements: catalogue.requirements().len(),
                requirements_sha256: Catalogue::digest(),
            },
            target: target.describe(),
            options: Some(ReportedOptions {
                jobs: options.jobs,
                timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
                ids: options.filter.ids.clone(),
                areas: options.filter.areas.clone(),
                tags: options.filter.tags.clone(),
                run_tag: run_tag.to_owned(),
            }),
            observe: None,
            summary,
            results,
            requirements,
            strength: None,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// An observe-mode report: the checks' and the script's results (ordered by id), the
    /// requirements they cite plus every other requirement binding the observed `actor`
    /// (`not-observed`), no run options and no wall time.
    pub(crate) fn observed(
        target: Value,
        info: crate::observe::ObserveInfo,
        mut results: Vec<CaseResult>,
        actor: crate::catalogue::Actor,
    ) -> Report {
        results.sort_by(|a, b| a.id.cmp(&b.id));
        let catalogue = Catalogue::shipped();
        let summary = summarise(&results);
        let requirements = catalogue
            .requirements()
            .iter()
            .filter(|req| {
                req.binds.contains(&actor)
                    || results.iter().any(|r| r.requirements.contains(&req.id))
            })
            .map(|req| requirement_status(req, &results, "not-observed"))
            .collect();
        Report {
            schema: OBSERVE_SCHEMA.to_owned(),
            suite: SuiteInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                cases: results.len(),
                requirements: catalogue.requirements().len(),
                requirements_sha256: Catalogue::digest(),
            },
            target,
            options: None,
            observe: Some(info),
            summary,
            results,
            requirements,
            strength: None,
            duration_ms: 0,
        }
    }
}

fn summarise(results: &[CaseResult]) -> Summary {
    let mut summary = Summary {
        total: results.len(),
        ..Summary::default()
    };
    for r in results {
        match r.outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail { .. } => summary.failed += 1,
            Outcome::Skip { .. } => summary.skipped += 1,
            Outcome::Error { .. } => summary.errors += 1,
        }
    }
    summary
}

fn requirement_status(
    req: &crate::catalogue::Requirement,
    results: &[CaseResult],
    none: &str,
) -> RequirementStatus {
    let mine: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.requirements.contains(&req.id))
        .collect();
    let status = if mine.is_empty() {
        none
    } else if mine
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Fail { .. }))
    {
        "fail"
    } else if mine
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Error { .. }))
    {
        "error"
    } else if mine.iter().any(|r| r.outcome == Outcome::Pass) {
        "pass"
    } else {
        "skip"
    };
    RequirementStatus {
        id: req.id.clone(),
        status: status.to_owned(),
        cases: mine.iter().map(|r| r.id.clone()).collect(),
    }
}

impl Report {
    /// Whether every case that ran passed (skips allowed, no failure or error).
    pub fn all_passed(&self) -> bool {
        self.summary.failed == 0 && self.summary.errors == 0
    }

    /// The result of case `id`.
    pub fn result(&self, id: &str) -> Option<&CaseResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// Attaches a strength measurement.
    pub fn with_strength(mut self, strength: Strength) -> Report {
        self.strength = Some(strength);
        self
    }

    /// The console summary: one line of counts, then every failure, error and skip.
    pub fn console_summary(&self) -> String {
        let s = &self.summary;
        let mut out = match &self.observe {
            None => format!(
                "kiban conformance ({}): {} cases: {} passed, {} failed, {} skipped, {} errors in {:.1} s\n",
                self.schema,
                s.total,
                s.passed,
                s.failed,
                s.skipped,
                s.errors,
                self.duration_ms as f64 / 1000.0
            ),
            Some(o) => format!(
                "kiban conformance observe ({}): role {} ({}), {}; {} exchange(s), {} refused handshake(s); {} checks: {} passed, {} failed, {} skipped, {} errors\n",
                self.schema,
                o.role,
                o.organisation,
                o.ended,
                o.exchanges,
                o.handshakes_refused,
                s.total,
                s.passed,
                s.failed,
                s.skipped,
                s.errors
            ),
        };
        for area in Area::ALL {
            let mine: Vec<&CaseResult> = self.results.iter().filter(|r| r.area == area).collect();
            if mine.is_empty() {
                continue;
            }
            let passed = mine.iter().filter(|r| r.outcome == Outcome::Pass).count();
            let _ = writeln!(out, "  {:<9} {passed}/{} passed", area.as_str(), mine.len());
        }
        for r in &self.results {
            match &r.outcome {
                Outcome::Pass => {}
                Outcome::Fail { failure } => {
                    let _ = writeln!(out, "FAIL  {} {}", r.id, r.title);
                    if r.findings.is_empty() {
                        let _ = writeln!(out, "      {}", indent(&failure.to_string()));
                    }
                    for finding in &r.findings {
                        let _ = writeln!(out, "      {}", indent(&finding.to_string()));
                    }
                }
                Outcome::Error { message } => {
                    let _ = writeln!(out, "ERROR {} {}: {}", r.id, r.title, message);
                }
                Outcome::Skip { reason } => {
                    let _ = writeln!(out, "SKIP  {} {}: {}", r.id, r.title, reason);
                }
            }
        }
        if let Some(strength) = &self.strength {
            let _ = writeln!(
                out,
                "strength: {}/{} faults caught (catch rate {:.0}%)",
                strength.caught,
                strength.total,
                strength.catch_rate * 100.0
            );
        }
        out
    }

    /// The JSON report with its digest.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        let digest = sha256_hex(canonical(&value).as_bytes());
        if let Value::Object(map) = &mut value {
            map.insert(
                "digest".to_owned(),
                serde_json::json!({"algorithm": "sha256", "over": "the canonical JSON of this document without the digest member (object keys sorted, no whitespace)", "value": digest}),
            );
        }
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// The JUnit XML report.
    pub fn to_junit(&self) -> Result<String, ReportError> {
        junit::render(self)
    }

    /// The Markdown report.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// Writes the four reports ([`FILES`]) into `dir` (created if missing); returns the paths.
    pub fn write_all(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let contents = [
            self.console_summary(),
            self.to_junit()?,
            self.to_json(),
            self.to_markdown(),
        ];
        let mut written = Vec::new();
        for (name, text) in FILES.iter().zip(contents) {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Checks the digest of a JSON report: `Ok(true)` if it matches its content.
pub fn verify_json(text: &str) -> Result<bool, ReportError> {
    let mut value: Value =
        serde_json::from_str(text).map_err(|e| ReportError::Json(e.to_string()))?;
    let Some(Value::Object(digest)) = value.as_object_mut().and_then(|m| m.remove("digest")) else {
        return Err(ReportError::Json("no digest member".to_owned()));
    };
    let claimed = digest
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| ReportError::Json("digest without a value".to_owned()))?;
    Ok(sha256_hex(canonical(&value).as_bytes()) == claimed)
}

/// Compact JSON with object keys sorted at every level.
pub(crate) fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n      ")
}
