//! kiban-benches: kiban's performance, measured against peers and floors.
//!
//! [`corpus`] builds a seeded world of a given size through the public `View` API and a
//! request corpus covering every decision; [`engines`] adapts kiban's `decide`, Cedar and
//! Rego (regorus) to one question, "is request *i* of the corpus permitted?"; [`gate`] is the
//! equivalence gate every decision bench runs before it measures: all engines must agree on
//! the whole corpus. [`http`] serves the platform's read endpoint (in-memory and SQLite
//! stores) beside a trivial axum + rustls floor behind one mTLS configuration, populated by
//! the actors, with the one client that measures them; [`sim`] drives the engine's event
//! queue (hold model) and measures the national model at a scale. [`results`] holds the
//! files the benches write beside criterion's, and [`report`] turns everything into
//! `reports/performance.md` (`perf-report --run`). The criterion benches are
//! `benches/decision.rs`, `benches/http.rs` and `benches/sim.rs`; their doc comments state
//! the fairness rules.

pub mod corpus;
pub mod engines;
pub mod gate;
pub mod http;
pub mod report;
pub mod results;
pub mod sim;
