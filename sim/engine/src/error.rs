//! The engine's typed errors: a scenario that does not load (with the line it is about) and a
//! run that cannot proceed.

use std::path::PathBuf;

/// A scenario file that cannot be used. `line` is 1-based; 0 means the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct ScenarioError {
    /// The name the caller gave the text (usually its path).
    pub source_name: String,
    /// The line the problem is on (0: the whole file).
    pub line: usize,
    /// What is wrong, naming the key or value.
    pub message: String,
}

/// Why a run failed (as opposed to an expectation that failed, which is a verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A wire run was started from inside a Tokio runtime (it builds its own).
    #[error("a wire run blocks on its own runtime and cannot start inside a Tokio runtime")]
    InsideRuntime,
    /// The wire world could not be built or kept running: runtime, sockets, PKI, or an
    /// operator or setup call the platform refused (not an expectation, which is a verdict).
    #[error("wire run: {0}")]
    Wire(String),
    /// The report folder or a file in it could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("chart {name}: {message}")]
    Chart {
        /// The chart file.
        name: String,
        /// The drawing backend's message.
        message: String,
    },
    /// The run options are unusable (a scale override out of range).
    #[error("run options: {0}")]
    Options(String),
    /// A bug: the model asked the core's view for something it had not added.
    #[error("internal model error: {0}")]
    Internal(String),
}
