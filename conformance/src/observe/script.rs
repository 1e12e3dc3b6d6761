//! The script of expected interactions (`kiban-observe-script/1`, TOML): what a vendor system
//! is expected to do while observed, and the failures observe mode answers in the platform's
//! place to see how it retries. Examples: `conformance/observe-scripts/` (the tests run the
//! actors against them).
//!
//! ```toml
//! format = "kiban-observe-script/1"
//! role = "municipality"            # optional: the role it is written for (must match --role)
//! min_backoff_ms = 100             # optional: the least wait after a 503/429 without Retry-After
//!
//! [[expect]]                       # in report order
//! id = "ingest"                    # a label, unique; other expectations name it in `after`
//! route = "POST /v1/municipality/ingest"   # method and route template as in the OpenAPI document
//! at_least = 1                     # default 1
//! at_most = 20                     # optional
//! status = "2xx"                   # which answers count: "2xx" (default), "4xx", "any", or 204
//! after = []                       # labels whose `at_least` must be met before the first of these
//! requirement = "KIBAN-ING-001"    # optional; default KIBAN-SCR-001
//!
//! [[expect]]
//! id = "inbox"
//! route = "GET /v1/municipality/inbox"
//! after = ["ingest"]
//!
//! [[fail]]                         # answer a request in the platform's place
//! route = "POST /v1/municipality/ingest"
//! nth = 1                          # the nth such request of the vendor (default 1)
//! status = 503                     # 503 (default) or 429
//! retry_after = 1                  # optional: a Retry-After header, seconds
//! ```
//!
//! The script is **complete** when it has expectations, every one has its `at_least`
//! exchanges and every label it comes `after` is complete; observe mode then stops (unless run without a script,
//! or stopped earlier). Exchanges observe mode answered itself never count. At the end each
//! expectation is one test case: it fails when it has fewer than `at_least` or more than
//! `at_most` counting exchanges, or one of them came before a label in `after` was complete.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::record::Observed;
use crate::catalogue::{Area, Catalogue};
use crate::report::{CaseResult, Outcome};
use crate::suite::Failure;

/// The script format this version reads.
pub const SCRIPT_FORMAT: &str = "kiban-observe-script/1";

/// The requirement an expectation cites unless it names another.
pub const SCRIPT_REQUIREMENT: &str = "KIBAN-SCR-001";

/// Why a script cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// Not TOML of the script's shape (the message names the line).
    #[error("{0}")]
    Toml(String),
    /// Well-formed but wrong; the message names the expectation or failure.
    #[error("{0}")]
    Invalid(String),
}

/// Which answers count for an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Any answer of the platform.
    Any,
    /// A class: 2 for 2xx, 4 for 4xx …
    Class(u16),
    /// One status.
    Exact(u16),
}

impl StatusFilter {
    fn parse(raw: Option<RawStatus>) -> Result<StatusFilter, String> {
        match raw {
            None => Ok(StatusFilter::Class(2)),
            Some(RawStatus::Code(code)) if (100..600).contains(&code) => {
                Ok(StatusFilter::Exact(code))
            }
            Some(RawStatus::Code(code)) => Err(format!("status {code} is not an HTTP status")),
            Some(RawStatus::Text(text)) => {
                let t = text.to_ascii_lowercase();
                if t == "any" {
                    return Ok(StatusFilter::Any);
                }
                match t.as_bytes() {
                    [c @ b'1'..=b'5', b'x', b'x'] => Ok(StatusFilter::Class(u16::from(c - b'0'))),
                    _ => t
                        .parse::<u16>()
                        .ok()
                        .filter(|c| (100..600).contains(c))
                        .map(StatusFilter::Exact)
                        .ok_or_else(|| {
                            format!(
                                "status {text:?}: expected \"2xx\", \"4xx\", \"any\" or a status"
                            )
                        }),
                }
            }
        }
    }

    fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Any => status != 0,
            StatusFilter::Class(c) => status / 100 == c,
            StatusFilter::Exact(s) => status == s,
        }
    }

    fn describe(self) -> String {
        match self {
            StatusFilter::Any => "any status".to_owned(),
            StatusFilter::Class(c) => format!("{c}xx"),
            StatusFilter::Exact(s) => s.to_string(),
        }
    }
}

/// One expected interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Its label.
    pub id: String,
    /// Method, upper case.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Least count.
    pub at_least: u32,
    /// Greatest count.
    pub at_most: Option<u32>,
    /// Which answers count.
    pub status: StatusFilter,
    /// Labels that must be complete first.
    pub after: Vec<String>,
    /// The requirement it cites.
    pub requirement: String,
}

/// A failure answered in the platform's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailRule {
    /// Method, upper case.
    pub method: String,
    /// Route template.
    pub route: String,
    /// The nth vendor request of this route gets it.
    pub nth: u32,
    /// 503 or 429.
    pub status: u16,
    /// The `Retry-After` header, seconds.
    pub retry_after: Option<u64>,
}

/// What the recording layer answers instead of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    /// 503 or 429.
    pub status: u16,
    /// `Retry-After`, seconds.
    pub retry_after: Option<u64>,
}

impl FailRule {
    pub(crate) fn injection(&self) -> Injection {
        Injection {
            status: self.status,
            retry_after: self.retry_after,
        }
    }
}

/// A parsed script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The role it is written for.
    pub role: Option<kiban_core::vocab::Role>,
    /// The least wait after a 503/429 without Retry-After, milliseconds.
    pub min_backoff_ms: u64,
    /// Expectations, in report order.
    pub expect: Vec<Expectation>,
    /// Injected failures.
    pub fail: Vec<FailRule>,
    /// SHA-256 of the script text.
    pub sha256: String,
}

/// The default least back-off, milliseconds.
pub const DEFAULT_MIN_BACKOFF_MS: u64 = 100;

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStatus {
    Code(u16),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    format: String,
    role: Option<String>,
    min_backoff_ms: Option<u64>,
    #[serde(default)]
    expect: Vec<RawExpect>,
    #[serde(default)]
    fail: Vec<RawFail>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    id: Option<String>,
    route: String,
    at_least: Option<u32>,
    at_most: Option<u32>,
    status: Option<RawStatus>,
    #[serde(default)]
    after: Vec<String>,
    requirement: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFail {
    route: String,
    nth: Option<u32>,
    status: Option<u16>,
    retry_after: Option<u64>,
}

/// `METHOD /template` → (method, template), checked against the platform's route table.
fn operation(text: &str, what: &str) -> Result<(String, String), ScriptError> {
    let (method, path) = text.trim().split_once(' ').ok_or_else(|| {
        ScriptError::Invalid(format!(
            "{what}: route {text:?} must be \"METHOD /template\", e.g. \"POST /v1/municipality/ingest\""
        ))
    })?;
    let method = method.to_ascii_uppercase();
    let path = path.trim();
    if kiban_platform::api::ROUTES
        .iter()
        .any(|r| r.method == method && r.path == path)
    {
        Ok((method, path.to_owned()))
    } else {
        Err(ScriptError::Invalid(format!(
            "{what}: {method} {path} is not a route of the platform (see kiban openapi)"
        )))
    }
}

impl Script {
    /// Parses a script, rejecting unknown keys, unknown routes, duplicate labels, `after`
    /// labels that are not earlier in the list, unknown requirements and impossible counts.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let raw: RawScript = toml::from_str(text).map_err(|e| ScriptError::Toml(e.to_string()))?;
        if raw.format != SCRIPT_FORMAT {
            return Err(ScriptError::Invalid(format!(
                "format {:?}: this version reads {SCRIPT_FORMAT:?}",
                raw.format
            )));
        }
        let role = match &raw.role {
            None => None,
            Some(r) => Some(r.parse().map_err(|_| {
                ScriptError::Invalid(format!("role {r:?} is not a role of the platform"))
            })?),
        };
        let catalogue = Catalogue::shipped();
        let mut expect = Vec::with_capacity(raw.expect.len());
        let mut labels: BTreeMap<String, usize> = BTreeMap::new();
        for (i, e) in raw.expect.into_iter().enumerate() {
            let id = e.id.unwrap_or_else(|| format!("expect-{}", i + 1));
            let what = format!("[[expect]] #{} ({id})", i + 1);
            let (method, route) = operation(&e.route, &what)?;
            let at_least = e.at_least.unwrap_or(1);
            if e.at_most.is_some_and(|m| m < at_least) {
                return Err(ScriptError::Invalid(format!(
                    "{what}: at_most is less than at_least"
                )));
            }
            for label in &e.after {
                if !labels.contains_key(label) {
                    return Err(ScriptError::Invalid(format!(
                        "{what}: after {label:?} names no earlier expectation"
                    )));
                }
            }
            let requirement = e
                .requirement
                .unwrap_or_else(|| SCRIPT_REQUIREMENT.to_owned());
            if catalogue.get(&requirement).is_none() {
                return Err(ScriptError::Invalid(format!(
                    "{what}: requirement {requirement} is not in the catalogue"
                )));
            }
            let status = StatusFilter::parse(e.status)
                .map_err(|m| ScriptError::Invalid(format!("{what}: {m}")))?;
            if labels.insert(id.clone(), i).is_some() {
                return Err(ScriptError::Invalid(format!(
                    "{what}: the id is used twice"
                )));
            }
            expect.push(Expectation {
                id,
                method,
                route,
                at_least,
                at_most: e.at_most,
                status,
                after: e.after,
                requirement,
            });
        }
        let mut fail = Vec::with_capacity(raw.fail.len());
        for (i, f) in raw.fail.into_iter().enumerate() {
            let what = format!("[[fail]] #{}", i + 1);
            let (method, route) = operation(&f.route, &what)?;
            let status = f.status.unwrap_or(503);
            if !matches!(status, 429 | 503) {
                return Err(ScriptError::Invalid(format!(
                    "{what}: status {status}: observe mode injects 503 or 429"
                )));
            }
            let nth = f.nth.unwrap_or(1);
            if nth == 0 {
                return Err(ScriptError::Invalid(format!("{what}: nth counts from 1")));
            }
            fail.push(FailRule {
                method,
                route,
                nth,
                status,
                retry_after: f.retry_after,
            });
        }
        Ok(Script {
            role,
            min_backoff_ms: raw.min_backoff_ms.unwrap_or(DEFAULT_MIN_BACKOFF_MS),
            expect,
            fail,
            sha256: crate::report::sha256_hex(text.as_bytes()),
        })
    }

    fn counting<'a>(&self, e: &Expectation, vendor: &[&'a Observed]) -> Vec<&'a Observed> {
        vendor
            .iter()
            .filter(|x| {
                !x.injected
                    && x.method == e.method
                    && x.route.as_deref() == Some(e.route.as_str())
                    && e.status.matches(x.status)
            })
            .copied()
            .collect()
    }

    /// Sequence number at which each expectation met its `at_least` (0 for `at_least = 0`).
    fn met_at(&self, vendor: &[&Observed]) -> Vec<Option<u64>> {
        self.expect
            .iter()
            .map(|e| {
                if e.at_least == 0 {
                    return Some(0);
                }
                let n = usize::try_from(e.at_least).unwrap_or(usize::MAX);
                self.counting(e, vendor).get(n - 1).map(|x| x.seq)
            })
            .collect()
    }

    /// Whether every expectation is complete (`vendor`: the vendor's exchanges by sequence).
    /// A script without expectations (only injected failures) is never complete: it runs
    /// until stopped or the duration passes.
    pub fn is_complete(&self, vendor: &[&Observed]) -> bool {
        if self.expect.is_empty() {
            return false;
        }
        let met = self.met_at(vendor);
        self.expect.iter().enumerate().all(|(i, e)| {
            met[i].is_some()
                && e.after
                    .iter()
                    .all(|l| self.label(l).is_some_and(|j| met[j].is_some()))
        })
    }

    fn label(&self, id: &str) -> Option<usize> {
        self.expect.iter().position(|e| e.id == id)
    }

    /// One test case per expectation (`SCR-01` …).
    pub fn results(&self, vendor: &[&Observed]) -> Vec<CaseResult> {
        let met = self.met_at(vendor);
        self.expect
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let counted = self.counting(e, vendor);
                let mut findings = Vec::new();
                let operation = format!("{} {}", e.method, e.route);
                let wanted = format!(
                    "{} exchange(s) of {operation} answered {}",
                    match e.at_most {
                        Some(m) if m == e.at_least => format!("exactly {m}"),
                        Some(m) => format!("{} to {m}", e.at_least),
                        None => format!("at least {}", e.at_least),
                    },
                    e.status.describe()
                );
                let count = u32::try_from(counted.len()).unwrap_or(u32::MAX);
                if count < e.at_least {
                    let other = vendor.iter().find(|x| {
                        x.method == e.method && x.route.as_deref() == Some(e.route.as_str())
                    });
                    findings.push(Failure {
                        requirement: e.requirement.clone(),
                        check: format!("expectation {:?}: {operation}", e.id),
                        expected: wanted.clone(),
                        actual: match other {
                            Some(_) => format!(
                                "{count}; other exchange(s) of the route were answered otherwise (first shown)"
                            ),
                            None => format!("{count}"),
                        },
                        exchange: other.map(|x| x.describe()),
                    });
                }
                if let Some(extra) = e
                    .at_most
                    .and_then(|m| counted.get(usize::try_from(m).unwrap_or(usize::MAX)))
                {
                    findings.push(Failure {
                        requirement: e.requirement.clone(),
                        check: format!("expectation {:?}: {operation}", e.id),
                        expected: wanted.clone(),
                        actual: format!("{count}; the first one too many is shown"),
                        exchange: Some(extra.describe()),
                    });
                }
                for label in &e.after {
                    let Some(j) = self.label(label) else { continue };
                    let early = counted
                        .iter()
                        .find(|x| met[j].is_none_or(|t| x.seq < t));
                    match (early, met[j]) {
                        (Some(x), Some(t)) => findings.push(Failure {
                            requirement: e.requirement.clone(),
                            check: format!("expectation {:?} after {label:?}", e.id),
                            expected: format!("{operation} only after {label:?} was complete (exchange #{t})"),
                            actual: format!("exchange #{} came first", x.seq),
                            exchange: Some(x.describe()),
                        }),
                        (_, None) => findings.push(Failure {
                            requirement: e.requirement.clone(),
                            check: format!("expectation {:?} after {label:?}", e.id),
                            expected: format!("{label:?} complete before {operation}"),
                            actual: format!("{label:?} never completed"),
                            exchange: early.map(|x| x.describe()),
                        }),
                        (None, Some(_)) => {}
                    }
                }
                let after = if e.after.is_empty() {
                    String::new()
                } else {
                    format!(", after {}", e.after.join(", "))
                };
                CaseResult {
                    id: format!("SCR-{:02}", i + 1),
                    area: Area::Script,
                    title: format!("{}: {wanted}{after}", e.id),
                    requirements: vec![e.requirement.clone()],
                    tags: vec!["observe".to_owned(), "script".to_owned()],
                    outcome: outcome(&findings),
                    findings,
                    duration_ms: 0,
                }
            })
            .collect()
    }
}

/// Pass without findings; otherwise a failure on the first, naming how many there are.
pub(crate) fn outcome(findings: &[Failure]) -> Outcome {
    match findings.first() {
        None => Outcome::Pass,
        Some(first) => {
            let mut failure = first.clone();
            if findings.len() > 1 {
                failure.actual = format!(
                    "{} (and {} more finding(s))",
                    failure.actual,
                    findings.len() - 1
                );
            }
            Outcome::Fail { failure }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_checked_when_parsed() {
        let ok = "format = \"kiban-observe-script/1\"\n[[expect]]\nid = \"a\"\nroute = \"POST /v1/municipality/ingest\"\n[[expect]]\nroute = \"GET /v1/municipality/inbox\"\nafter = [\"a\"]\nstatus = \"any\"\n[[fail]]\nroute = \"POST /v1/municipality/ingest\"\nretry_after = 1\n";
        let script = Script::parse(ok).unwrap();
        assert_eq!(script.expect.len(), 2);
        assert_eq!(script.expect[1].id, "expect-2");
        assert_eq!(script.expect[1].status, StatusFilter::Any);
        assert_eq!(script.fail[0].status, 503);
        let bad = |text: &str| Script::parse(text).unwrap_err().to_string();
        assert!(
            bad(&ok.replace("/ingest\"\n[[expect]]", "/ingestx\"\n[[expect]]"))
                .contains("not a route")
        );
        assert!(
            bad(&ok.replace("after = [\"a\"]", "after = [\"b\"]")).contains("names no earlier")
        );
        assert!(bad(&ok.replace("retry_after = 1", "status = 500")).contains("503 or 429"));
        assert!(bad(&ok.replace("status = \"any\"", "status = \"2yy\"")).contains("status"));
        assert!(
            bad(&ok.replace("format = \"kiban-observe-script/1\"", "format = \"x\""))
                .contains("this version reads")
        );
        assert!(bad(&format!("{ok}colour = 1\n")).contains("colour"));
        assert!(
            bad(&ok.replace("id = \"a\"", "id = \"a\"\nat_least = 3\nat_most = 2"))
                .contains("at_most")
        );
        let only_failures = Script::parse("format = \"kiban-observe-script/1\"\n").unwrap();
        assert!(
            !only_failures.is_complete(&[]),
            "nothing expected never completes"
        );
    }
}
