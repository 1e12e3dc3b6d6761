//! kiban-engine: scenarios for kiban. A scenario is one TOML file (format in
//! `scenarios/README.md`); [`Scenario::from_toml`] loads it, [`run`] runs it and writes a
//! report folder, and the [`RunOutcome`] lists every expectation's verdict.
//!
//! Model mode runs the national model in-process: all 1,741 municipalities (or a chosen
//! few), certified persons generated at a scale of the national figure, their care
//! relationships, certifications, stays and deaths as events on a virtual clock, and every
//! access question answered by `kiban_core::decide::decide` over a `kiban_core::view::View`.
//! Wire mode runs a scenario's named world against the real reference platform and the
//! actors of `kiban_actors` over loopback mTLS: offices verify cards with readers, the
//! platform's simulated clock follows the steps' dates, and each decide step is a real read
//! whose outcome (permit or the problem code) is checked against the expectation; the
//! report is written in the same folder style (see `scenarios/README.md`, "Wire mode").
//!
//! Determinism: randomness comes only from ChaCha generators seeded by the scenario's seed,
//! time only from the scenario's calendar, and output is ordered; the same scenario, seed
//! and code give byte-identical reports, whatever the number of threads (wire runs use key
//! pairs, serials and tokens from the OS generator inside the actors and the platform, and
//! report none of them).
//!
//! ```no_run
//! use kiban_engine::{RunOptions, Scenario, run};
//! let text = std::fs::read_to_string("scenarios/national-survey-2025.toml").unwrap();
//! let scenario = Scenario::from_toml(&text, "scenarios/national-survey-2025.toml").unwrap();
//! let outcome = run(&scenario, &RunOptions::new("reports/national-survey-2025")).unwrap();
//! assert!(outcome.passed());
//! ```

pub mod calendar;
pub mod error;
pub mod metrics;
mod model;
mod named;
pub mod params;
pub mod queue;
pub mod report;
pub mod rollout;
mod run;
pub mod scenario;
mod wire;

pub use error::{EngineError, ScenarioError};
pub use report::labels::Lang;
pub use run::{RunOptions, RunOutcome, VariantStats, Verdict, run};
pub use scenario::Scenario;
