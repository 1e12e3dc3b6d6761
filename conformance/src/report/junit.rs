//! The JUnit XML rendering (quick-junit): one `<testsuite>` per area, one `<testcase>` per
//! case (classname `kiban.conformance.<area>`, name `<id> <title>`), failures with the
//! requirement and the exchange, errors, and skips with their reason.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, Report, ReportError};
use crate::catalogue::Area;

pub(super) fn render(report: &Report) -> Result<String, ReportError> {
    let name = if report.observe.is_some() {
        "kiban-conformance-observe"
    } else {
        "kiban-conformance"
    };
    let mut junit = quick_junit::Report::new(name);
    junit.set_time(Duration::from_millis(report.duration_ms));
    for area in Area::ALL {
        let results: Vec<_> = report.results.iter().filter(|r| r.area == area).collect();
        if results.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(format!("kiban.conformance.{}", area.as_str()));
        suite.add_property(Property::new("schema", report.schema.as_str()));
        for r in results {
            let status = match &r.outcome {
                Outcome::Pass => TestCaseStatus::success(),
                Outcome::Fail { failure } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_type(failure.requirement.as_str());
                    s.set_message(format!(
                        "{}: {}: expected {}, got {}",
                        failure.requirement, failure.check, failure.expected, failure.actual
                    ));
                    if r.findings.len() > 1 {
                        let all: Vec<String> = r.findings.iter().map(ToString::to_string).collect();
                        s.set_description(all.join("\n\n"));
                    } else if let Some(ex) = &failure.exchange {
                        s.set_description(ex.as_str());
                    }
                    s
                }
                Outcome::Error { message } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(message.as_str());
                    s
                }
                Outcome::Skip { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(reason.as_str());
                    s
                }
            };
            let mut case = TestCase::new(format!("{} {}", r.id, r.title), status);
            case.set_classname(format!("kiban.conformance.{}", area.as_str()));
            case.set_time(Duration::from_millis(r.duration_ms));
            case.add_property(Property::new("requirements", r.requirements.join(" ")));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map_err(|e| ReportError::Junit(e.to_string()))
}
