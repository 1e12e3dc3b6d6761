//! kiban-benches: the access decision measured against peer policy engines.
//!
//! [`corpus`] builds a seeded world of a given size through the public `View` API and a
//! request corpus covering every decision; [`engines`] adapts kiban's `decide`, Cedar and
//! Rego (regorus) to one question, "is request *i* of the corpus permitted?"; [`gate`] is the
//! equivalence gate every bench runs before it measures: all engines must agree on the whole
//! corpus. The criterion bench is `benches/decision.rs`; its doc comment states the fairness
//! rules.

pub mod corpus;
pub mod engines;
pub mod gate;
pub mod report;
