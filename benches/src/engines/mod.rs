//! One question asked of every engine: is entry *i* of the corpus permitted? Each adapter
//! answers it from the same [`World`] and [`Corpus`]; what an adapter prepares before the
//! question (and so outside any timing) and what it does per answer is stated on its type.

pub mod cedar;
pub mod kiban;
pub mod rego;

pub use cedar::{CedarEngineOnly, CedarModel, CedarPerRequest};
pub use kiban::Kiban;
pub use rego::{RegoEngineOnly, RegoModel, RegoPerRequest};

#[cfg(doc)]
use crate::corpus::{Corpus, World};

/// An engine that decides corpus entries by index.
pub trait Engine {
    /// The bench id of the engine (`kiban`, `cedar-engine-only`, …).
    fn name(&self) -> &'static str;

    /// Whether entry `index` of the corpus the engine was built for is permitted.
    fn permits(&mut self, index: usize) -> Result<bool, EngineError>;
}

/// An engine that could not be set up or could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The policy text does not parse.
    #[error("{engine}: policy does not parse: {message}")]
    Policy {
        /// The engine.
        engine: &'static str,
        /// The engine's message.
        message: String,
    },
    /// The engine refused the entities, data or request built for an entry.
    #[error("{engine}: cannot build the request: {message}")]
    Input {
        /// The engine.
        engine: &'static str,
        /// The engine's message.
        message: String,
    },
    /// Evaluation failed, or answered something that is not a decision.
    #[error("{engine}: evaluation failed: {message}")]
    Evaluation {
        /// The engine.
        engine: &'static str,
        /// The engine's message.
        message: String,
    },
    /// The index is not in the corpus.
    #[error("{engine}: no corpus entry {index}")]
    NoEntry {
        /// The engine.
        engine: &'static str,
        /// The index asked.
        index: usize,
    },
}
