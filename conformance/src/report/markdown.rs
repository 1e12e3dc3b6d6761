//! The Markdown rendering: summary, per-area tables, failures with their exchanges,
//! requirement coverage, the measured strength, and the digest of the JSON twin.

use std::fmt::Write as _;

use super::{Outcome, Report};
use crate::catalogue::{Area, Catalogue};

pub(super) fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from(if report.observe.is_some() {
        "# kiban conformance observe report\n\n"
    } else {
        "# kiban conformance report\n\n"
    });
    let _ = writeln!(
        out,
        "Schema `{}`, suite {} ({} cases, {} requirements, catalogue sha256 `{}`).\n",
        report.schema,
        report.suite.version,
        report.suite.cases,
        report.suite.requirements,
        &report.suite.requirements_sha256[..16.min(report.suite.requirements_sha256.len())]
    );
    match (&report.options, &report.observe) {
        (_, Some(o)) => {
            let _ = writeln!(
                out,
                "Observe mode: the platform recorded what a vendor system of role `{}` (organisation `{}`, terminals {}) sent; {}. {} exchange(s) by the system, {} refused handshake(s), {} exchange(s) of the harness's own peers (not judged). Script: {}.\n",
                o.role,
                o.organisation,
                o.terminals.join(", "),
                o.ended,
                o.exchanges,
                o.handshakes_refused,
                o.peer_exchanges,
                o.script.as_ref().map_or("none".to_owned(), |s| format!(
                    "`{}` (sha256 `{}`), {} expectation(s), {} injected failure(s)",
                    s.name,
                    &s.sha256[..16.min(s.sha256.len())],
                    s.expectations,
                    s.injections
                ))
            );
            out.push_str("| total | passed | failed | skipped | errors |\n|---|---|---|---|---|\n");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |\n",
                s.total, s.passed, s.failed, s.skipped, s.errors
            );
        }
        (Some(options), None) => {
            let _ = writeln!(
                out,
                "Target `{}`, run tag `{}`, {} jobs.\n",
                report.target["base_url"].as_str().unwrap_or("?"),
                options.run_tag,
                options.jobs
            );
            out.push_str(
                "| total | passed | failed | skipped | errors | time |\n|---|---|---|---|---|---|\n",
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.1} s |\n",
                s.total,
                s.passed,
                s.failed,
                s.skipped,
                s.errors,
                report.duration_ms as f64 / 1000.0
            );
        }
        (None, None) => {}
    }
    for area in Area::ALL {
        let results: Vec<_> = report.results.iter().filter(|r| r.area == area).collect();
        if results.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} (`{}`)\n", area.title(), area.as_str());
        out.push_str("| case | result | requirements | title |\n|---|---|---|---|\n");
        for r in results {
            let result = match &r.outcome {
                Outcome::Skip { reason } => format!("skip: {}", cell(reason)),
                other => other.as_str().to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.id,
                result,
                r.requirements.join(", "),
                cell(&r.title)
            );
        }
        out.push('\n');
    }
    let problems: Vec<_> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail { .. } | Outcome::Error { .. }))
        .collect();
    if !problems.is_empty() {
        out.push_str("## Failures and errors\n\n");
        for r in problems {
            match &r.outcome {
                Outcome::Fail { failure } => {
                    let _ = writeln!(out, "### {} {}\n", r.id, r.title);
                    let all = if r.findings.is_empty() {
                        std::slice::from_ref(failure)
                    } else {
                        r.findings.as_slice()
                    };
                    for finding in all {
                        let _ = writeln!(
                            out,
                            "- requirement: `{}`\n- check: {}\n- expected: {}\n- actual: {}\n",
                            finding.requirement, finding.check, finding.expected, finding.actual
                        );
                        if let Some(ex) = &finding.exchange {
                            let _ = writeln!(out, "```text\n{ex}\n```\n");
                        }
                    }
                }
                Outcome::Error { message } => {
                    let _ = writeln!(out, "### {} {}\n\nerror: {}\n", r.id, r.title, message);
                }
                _ => {}
            }
        }
    }
    out.push_str("## Requirements\n\n| requirement | status | cases | rule |\n|---|---|---|---|\n");
    let catalogue = Catalogue::shipped();
    for req in &report.requirements {
        let rule = catalogue.get(&req.id).map_or("", |r| r.rule.as_str());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            req.id,
            req.status,
            req.cases.join(", "),
            cell(rule)
        );
    }
    if let Some(strength) = &report.strength {
        let _ = writeln!(
            out,
            "\n## Strength\n\n{} of {} deliberately broken platform behaviours caught: catch rate {:.0}%.\n\n| fault | cases run | caught by |\n|---|---|---|",
            strength.caught,
            strength.total,
            strength.catch_rate * 100.0
        );
        for f in &strength.faults {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                f.fault,
                f.cases_run,
                if f.caught_by.is_empty() {
                    "**not caught**".to_owned()
                } else {
                    f.caught_by.join(", ")
                }
            );
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
