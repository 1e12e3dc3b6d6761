//! Where kiban-certs gets the time: a [`Clock`] handed in by the caller.
//!
//! Library functions take `now` (a [`Timestamp`]) or a `Clock`; the only code in the crate
//! that reads the operating system's clock is [`SystemClock`], which the CLI and servers
//! outside simulations pass in. Tests and scenarios use [`ManualClock`]. rustls asks its
//! configuration for the time when it verifies a certificate, so the TLS configurations are
//! built with [`ClockTimeProvider`], which forwards to the same `Clock`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use kiban_core::time::Timestamp;
use rustls::pki_types::UnixTime;
use rustls::time_provider::TimeProvider;
use time::OffsetDateTime;

/// A source of the current instant.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock: the one place in kiban-certs that reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one sanctioned clock read (see the module docs).
    fn now(&self) -> Timestamp {
        let secs = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970: report the negative offset.
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        Timestamp::from_unix_seconds(secs)
    }
}

/// A clock that stands still until it is set or advanced: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: Timestamp) -> Self {
        ManualClock(AtomicI64::new(at.unix_seconds()))
    }

    /// Moves the clock to `at` (backwards too).
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.unix_seconds(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds (saturating).
    pub fn advance_seconds(&self, secs: i64) {
        let now = self.now().plus_seconds(secs);
        self.set(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}

/// Adapts a [`Clock`] to rustls's [`TimeProvider`], so certificate checks in a handshake
/// use the injected time.
#[derive(Debug, Clone)]
pub struct ClockTimeProvider(pub Arc<dyn Clock>);

impl TimeProvider for ClockTimeProvider {
    fn current_time(&self) -> Option<UnixTime> {
        // rustls has no time before the epoch; such a clock means "unable to tell".
        let secs = u64::try_from(self.0.now().unix_seconds()).ok()?;
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            secs,
        )))
    }
}

/// Converts an instant to the date type rcgen takes; out-of-range instants clamp to the
/// range `time` supports (years -9999 to 9999).
pub(crate) fn to_offset(at: Timestamp) -> OffsetDateTime {
    const MIN: i64 = -377_705_116_800; // -9999-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = at.unix_seconds().clamp(MIN, MAX);
    // Clamped into the supported range above, so the conversion cannot fail.
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Converts a date read from a certificate or file back to an instant.
pub(crate) fn from_offset(at: OffsetDateTime) -> Timestamp {
    Timestamp::from_unix_seconds(at.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::from_unix_seconds(1_000));
        assert_eq!(clock.now().unix_seconds(), 1_000);
        clock.advance_seconds(86_400);
        assert_eq!(clock.now().unix_seconds(), 87_400);
    }

    #[test]
    fn time_provider_reports_the_injected_clock_and_nothing_before_the_epoch() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
            1_775_000_000,
        )));
        let provider = ClockTimeProvider(clock.clone());
        assert_eq!(
            provider.current_time().map(|t| t.as_secs()),
            Some(1_775_000_000)
        );
        clock.set(Timestamp::from_unix_seconds(-1));
        assert_eq!(provider.current_time(), None);
    }

    #[test]
    fn offset_conversion_round_trips_and_clamps() {
        let at = Timestamp::from_unix_seconds(1_775_000_000);
        assert_eq!(from_offset(to_offset(at)), at);
        assert_eq!(to_offset(Timestamp::MAX).year(), 9999);
    }
}
