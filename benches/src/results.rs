//! What the benches measure beyond criterion's `estimates.json`, as files the report reads:
//! latency percentiles of the HTTP arms (`http-latency.json`), the national model per scale
//! (`national.json`) and the run record of `perf-report --run` (`run.json`: machine load at
//! start, the commands run). They live in the perf folder ([`perf_dir`]) next to criterion's.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::http::Percentiles;

/// The HTTP latency file.
pub const HTTP_LATENCY_FILE: &str = "http-latency.json";
/// The national model file.
pub const NATIONAL_FILE: &str = "national.json";
/// The run record file.
pub const RUN_FILE: &str = "run.json";

/// The latency of one HTTP arm: requests sent one after another, each timed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRecord {
    /// `floor`, `endpoint-memory` or `endpoint-sqlite`.
    pub arm: String,
    /// `keep-alive` (one connection) or `handshake` (a new connection per request).
    pub mode: String,
    /// The percentiles.
    pub percentiles: Percentiles,
    /// When measured (Unix seconds).
    pub measured_unix: u64,
}

/// The national model at one scale, measured in a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalRecord {
    /// Population scale (1.0 = the nation).
    pub scale: f64,
    /// Persons ever in the views (all variants).
    pub persons: u64,
    /// Care relationships ever started.
    pub relationships: u64,
    /// Events processed.
    pub events: u64,
    /// Calls of `decide`.
    pub decisions: u64,
    /// Worker threads of the run.
    pub threads: usize,
    /// Wall time of `kiban_engine::run` (model and report files), ns.
    pub run_ns: u64,
    /// Peak resident memory of the child process (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
    /// Whether every expectation of the scenario held.
    pub passed: bool,
    /// When measured (Unix seconds).
    pub measured_unix: u64,
}

/// What `perf-report --run` recorded about its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Whether it was the quick (tiny, CI) run.
    pub quick: bool,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages when the run started.
    pub load_at_start: [f64; 3],
    /// The same when it ended.
    pub load_at_end: [f64; 3],
    /// When it started (Unix seconds).
    pub started_unix: u64,
    /// Its wall time, s.
    pub wall_s: f64,
    /// The commands it ran, in order.
    pub commands: Vec<String>,
}

/// Why a result file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResultsError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not what the benches write.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

/// The workspace's target folder: `CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map_or_else(|| PathBuf::from("target"), |root| root.join("target"))
        },
        PathBuf::from,
    )
}

/// Criterion's output folder as criterion chooses it: `CRITERION_HOME`, else
/// `<target>/criterion`.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME").map_or_else(|| target_dir().join("criterion"), PathBuf::from)
}

/// The folder of this module's files: `KIBAN_PERF_DIR`, else `<target>/kiban-perf`.
pub fn perf_dir() -> PathBuf {
    std::env::var_os("KIBAN_PERF_DIR")
        .map_or_else(|| target_dir().join("kiban-perf"), PathBuf::from)
}

/// Reads a JSON result file; `Ok(None)` when it does not exist.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ResultsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ResultsError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ResultsError::Format {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes a JSON result file (creating its folder).
pub fn write<T: Serialize>(path: &Path, value: &T) -> Result<(), ResultsError> {
    let io = |source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text = serde_json::to_string_pretty(value).map_err(|source| ResultsError::Format {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(io)
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// This process's peak resident memory (`VmHWM` of `/proc/self/status`), KiB; Linux only.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`); zeros where unavailable.
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse().unwrap_or(0.0));
    [
        fields.next().unwrap_or(0.0),
        fields.next().unwrap_or(0.0),
        fields.next().unwrap_or(0.0),
    ]
}
