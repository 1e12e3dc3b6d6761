//! The equivalence gate: before anything is measured, every engine must give the same
//! permit/deny on every entry of the corpus, and that answer must be the one the corpus was
//! built for. The first disagreement stops the bench with the request, its `now`, the case,
//! the expected decision and every engine's answer.
//!
//! Only permit/deny is compared: the peers have no reason codes. kiban's exact reasons are
//! checked against the corpus's built-in expectations when the corpus is built.

use std::fmt::{self, Write as _};

use kiban_core::decide::{Decision, Request};
use kiban_core::time::Timestamp;

use crate::corpus::{Case, Corpus};
use crate::engines::{Engine, EngineError};

/// What the gate checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// Entries compared.
    pub entries: usize,
    /// Engines compared, by name.
    pub engines: Vec<&'static str>,
    /// Entries expected to be permits.
    pub permits: usize,
}

/// The first entry on which an engine disagrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Its index in the corpus.
    pub index: usize,
    /// What it exercises.
    pub case: Case,
    /// The request.
    pub request: Request,
    /// When.
    pub now: Timestamp,
    /// The decision the corpus was built for.
    pub expected: Decision,
    /// Every engine's answer (permit = `true`), in the order given.
    pub answers: Vec<(&'static str, bool)>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut answers = String::new();
        for (name, permit) in &self.answers {
            let _ = write!(
                answers,
                "\n    {name}: {}",
                if *permit { "permit" } else { "deny" }
            );
        }
        write!(
            f,
            "entry {} ({}): {:?} at {:?} ({} s) should be {}; answers:{answers}",
            self.index,
            self.case,
            self.request,
            self.now,
            self.now.unix_seconds(),
            self.expected,
        )
    }
}

/// Why the gate stopped the bench.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// Engines disagree (with each other or with the corpus).
    #[error("equivalence gate: engines disagree on {0}")]
    Mismatch(Box<Mismatch>),
    /// An engine failed to answer.
    #[error("equivalence gate: entry {index}: {source}")]
    Engine {
        /// The entry.
        index: usize,
        /// The engine's error.
        source: EngineError,
    },
    /// Nothing to compare.
    #[error("equivalence gate: {0}")]
    Empty(&'static str),
}

/// Asks every engine about every entry of `corpus`; passes only if all answers equal the
/// corpus's expected permit/deny.
pub fn check(corpus: &Corpus, engines: &mut [&mut dyn Engine]) -> Result<Passed, GateError> {
    if engines.is_empty() {
        return Err(GateError::Empty("no engines"));
    }
    if corpus.entries.is_empty() {
        return Err(GateError::Empty("an empty corpus"));
    }
    let mut answers = Vec::with_capacity(engines.len());
    for (index, entry) in corpus.entries.iter().enumerate() {
        answers.clear();
        for engine in engines.iter_mut() {
            let permit = engine
                .permits(index)
                .map_err(|source| GateError::Engine { index, source })?;
            answers.push((engine.name(), permit));
        }
        let expected = entry.expected.is_permit();
        if answers.iter().any(|&(_, permit)| permit != expected) {
            return Err(GateError::Mismatch(Box::new(Mismatch {
                index,
                case: entry.case,
                request: entry.request,
                now: entry.now,
                expected: entry.expected,
                answers: answers.clone(),
            })));
        }
    }
    Ok(Passed {
        entries: corpus.entries.len(),
        engines: engines.iter().map(|e| e.name()).collect(),
        permits: corpus
            .entries
            .iter()
            .filter(|e| e.expected.is_permit())
            .count(),
    })
}
