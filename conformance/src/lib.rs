//! kiban-conformance: the conformance suite a vendor runs against a 介護情報基盤 platform, on a
//! laptop or in CI.
//!
//! - [`catalogue`]: the requirement catalogue (`requirements.toml`): stable ids, one rule
//!   each, its source and the actors it binds; [`catalogue::coverage`] checks that every
//!   requirement has a case and every case cites known requirements.
//! - [`cases`]: the cases, grouped by area, each citing its requirements.
//! - [`target`]: the target file (base URL, CA, a client certificate per slot, capabilities,
//!   policy, optional PKI folder and J-LIS).
//! - [`run`] / [`run_async`]: the runner (parallel, results ordered by id, filters, timeouts).
//! - [`report`]: console summary, JUnit XML, JSON (`kiban-conformance/1`, with a SHA-256
//!   digest over results and inputs) and Markdown.
//! - [`csv`]: the care-plan CSV validator (the platform's codec, with spec clauses).
//! - [`reference`]: the reference platform started in-process, with optional faults.
//! - [`observe`]: observe mode (client-side conformance): the reference behind a recording
//!   layer, checks over what a vendor system sent, a script of expected interactions.
//!
//! The library never prints; the CLI (`kiban conformance …`) does.

pub mod cases;
pub mod catalogue;
pub mod csv;
pub mod http;
pub mod observe;
pub mod reference;
pub mod report;
pub mod runner;
pub mod suite;
pub mod target;

pub use catalogue::{Area, Catalogue, Requirement};

/// The deviation ledger as shipped (`deviations.toml`).
pub const DEVIATIONS_TOML: &str = include_str!("../deviations.toml");

/// The known deviations of kiban's reference platform: case id → reason. The self-run test
/// expects exactly these cases to fail against the reference.
pub fn reference_deviations() -> std::collections::BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        reason: String,
    }
    toml::from_str::<std::collections::BTreeMap<String, Entry>>(DEVIATIONS_TOML)
        .map(|m| m.into_iter().map(|(id, e)| (id, e.reason)).collect())
        .unwrap_or_default()
}
pub use report::{Report, Strength};
pub use runner::{Filter, RunError, RunOptions, run, run_async};
pub use target::{Slot, Target};
