//! What the simulation bench drives: the engine's event queue under the hold model, and the
//! national model at one scale in a child process.
//!
//! **Hold model** (the classic future-event-list benchmark): `n` events are pending; each
//! step takes the next event in (day, sequence) order and schedules it again a random 1 to
//! `max_delay` days later, so `n` events stay pending and every insert lands at a random
//! position. It goes through the public API of `kiban_engine::queue::EventQueue`, the queue
//! the national model uses (one FIFO bucket per day).
//!
//! **National model**: [`national`] runs `kiban_engine::run` on a scenario at a scale and
//! reports its size, wall time and this process's peak memory; the bench runs it in a child
//! process per scale, so each peak is that scale's alone.

use std::path::Path;
use std::time::Instant;

use kiban_engine::calendar::Day;
use kiban_engine::queue::EventQueue;
use kiban_engine::{RunOptions, Scenario};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::results::{self, NationalRecord};

/// A queued event of the hold model: the size of a small model event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Which entity.
    pub entity: u32,
    /// How often it has been rescheduled.
    pub generation: u32,
}

/// Days the hold model's queue spans (the most a `Day` can name).
const DAYS: u32 = Day::MAX as u32;

/// The hold model over the engine's queue.
#[derive(Debug)]
pub struct Hold {
    queue: EventQueue<Event>,
    day: Day,
    delays: Vec<Day>,
    next: usize,
    max_delay: Day,
    pending: usize,
}

impl Hold {
    /// `n` events on days drawn uniformly from `0..=max_delay`, delays from `1..=max_delay`
    /// (a cycle of 4,096 drawn from `seed`).
    pub fn new(n: usize, max_delay: Day, seed: u64) -> Hold {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let max_delay = max_delay.max(1);
        let mut queue = EventQueue::new(DAYS);
        for entity in 0..n {
            let day = rng.random_range(0..=max_delay);
            queue.push(
                day,
                Event {
                    entity: u32::try_from(entity).unwrap_or(u32::MAX),
                    generation: 0,
                },
            );
        }
        Hold {
            queue,
            day: 0,
            delays: (0..4096).map(|_| rng.random_range(1..=max_delay)).collect(),
            next: 0,
            max_delay,
            pending: n,
        }
    }

    /// Whether the queue's last day is within reach of the next reschedule (rebuild then).
    pub fn near_end(&self) -> bool {
        u32::from(self.day) + u32::from(self.max_delay) + 1 >= DAYS
    }

    /// Events pending.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// The day being processed.
    pub fn day(&self) -> Day {
        self.day
    }

    /// One hold step: the next event out, and in again later; `None` only when the queue is
    /// empty or [`Hold::near_end`].
    pub fn step(&mut self) -> Option<Event> {
        if self.pending == 0 || self.near_end() {
            return None;
        }
        let event = loop {
            match self.queue.pop(self.day) {
                Some(e) => break e,
                None => self.day += 1,
            }
        };
        let delay = self.delays[self.next];
        self.next = (self.next + 1) & (self.delays.len() - 1);
        let again = Event {
            generation: event.generation.wrapping_add(1),
            ..event
        };
        self.queue.push(self.day + delay, again);
        Some(event)
    }
}

/// Why a national run could not be measured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NationalError {
    /// The scenario file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The scenario does not parse.
    #[error("{0}")]
    Scenario(#[from] kiban_engine::ScenarioError),
    /// The run failed.
    #[error("{0}")]
    Run(#[from] kiban_engine::EngineError),
    /// The scratch folder could not be made.
    #[error("scratch folder: {0}")]
    Scratch(std::io::Error),
}

/// Runs `scenario` at `scale` with its report written to a scratch folder (removed after),
/// and measures it: sizes summed over variants, wall time of `run`, this process's peak
/// resident memory so far (so call it once per process).
pub fn national(scenario: &Path, scale: f64) -> Result<NationalRecord, NationalError> {
    let text = std::fs::read_to_string(scenario).map_err(|source| NationalError::Read {
        path: scenario.display().to_string(),
        source,
    })?;
    let name = scenario.display().to_string();
    let parsed = Scenario::from_toml(&text, &name)?;
    let scratch = tempfile::Builder::new()
        .prefix("kiban-bench-national-")
        .tempdir()
        .map_err(NationalError::Scratch)?;
    let mut options = RunOptions::new(scratch.path());
    options.scale = Some(scale);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    options.threads = Some(threads);
    let started = Instant::now();
    let outcome = kiban_engine::run(&parsed, &options)?;
    let run_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let sum = |f: fn(&kiban_engine::VariantStats) -> u64| outcome.stats.iter().map(f).sum();
    Ok(NationalRecord {
        scale,
        persons: sum(|s| s.persons),
        relationships: sum(|s| s.relationships),
        events: sum(|s| s.events),
        decisions: sum(|s| s.decisions),
        threads,
        run_ns,
        peak_rss_kib: results::peak_rss_kib().unwrap_or(0),
        passed: outcome.passed(),
        measured_unix: results::unix_now(),
    })
}
