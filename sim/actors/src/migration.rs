//! The migration of a municipality's care-insurance administration system (DOMAIN §5): from
//! its legacy system to the national standard (標準準拠システム), modified to send data to the
//! platform while its data is migrated, and finally sharing.
//!
//! ```text
//! Legacy ──standardize──► Standardized ──start_sending──► Sending ──start_sharing──► Sharing
//! ```
//!
//! Steps happen in this order only, once each, on non-decreasing dates; any other step is a
//! [`MigrationError`] and leaves the state unchanged. Uploads to the platform are allowed in
//! `Sending` (the data migration: the platform holds the data but does not share it yet,
//! because the operator has not scheduled the go-live) and in `Sharing`. Going live is the
//! operator's act on the platform (`PUT /v1/operator/municipalities/{code}`), which the
//! orchestrating scenario performs when the municipality reaches `Sharing`; this type records
//! the municipality's side.

use std::fmt;

use kiban_core::time::Date;

/// Where a municipality's system stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MigrationState {
    /// Still on the legacy system: nothing can be sent.
    Legacy,
    /// Migrated to the standard system (標準準拠), not yet modified to send.
    Standardized,
    /// Modified to send; its data is being migrated to the platform (uploads allowed).
    Sending,
    /// Migration done: the data is shared on the platform (uploads allowed).
    Sharing,
}

impl MigrationState {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MigrationState::Legacy => "legacy",
            MigrationState::Standardized => "standardized",
            MigrationState::Sending => "sending",
            MigrationState::Sharing => "sharing",
        }
    }

    /// Whether the system may upload to the platform.
    pub const fn allows_upload(self) -> bool {
        matches!(self, MigrationState::Sending | MigrationState::Sharing)
    }

    /// The state one step on, if any.
    pub const fn next(self) -> Option<MigrationState> {
        match self {
            MigrationState::Legacy => Some(MigrationState::Standardized),
            MigrationState::Standardized => Some(MigrationState::Sending),
            MigrationState::Sending => Some(MigrationState::Sharing),
            MigrationState::Sharing => None,
        }
    }
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a migration step or an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The step does not follow from the current state.
    #[error("cannot go from {from} to {to}: migration steps happen in order, once each")]
    OutOfOrder {
        /// The current state.
        from: MigrationState,
        /// The requested state.
        to: MigrationState,
    },
    /// A step dated before the previous one.
    #[error("a migration step on {on} is before the previous step on {previous}")]
    BackInTime {
        /// The requested date.
        on: Date,
        /// The previous step's date.
        previous: Date,
    },
    /// An upload before the system was modified to send.
    #[error(
        "the system is {0}: it uploads to the platform only once it sends (sending or sharing)"
    )]
    UploadNotAllowed(MigrationState),
}

/// The migration of one municipality: its state and the date of each step taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    state: MigrationState,
    history: Vec<(MigrationState, Date)>,
}

impl Default for Migration {
    fn default() -> Self {
        Migration::new()
    }
}

impl Migration {
    /// A municipality still on its legacy system.
    pub fn new() -> Migration {
        Migration {
            state: MigrationState::Legacy,
            history: Vec::new(),
        }
    }

    /// A municipality already at `state` since `on` (each earlier step dated `on` too).
    pub fn at(state: MigrationState, on: Date) -> Migration {
        let mut m = Migration::new();
        while m.state < state {
            if let Some(next) = m.state.next() {
                m.history.push((next, on));
                m.state = next;
            }
        }
        m
    }

    /// The current state.
    pub fn state(&self) -> MigrationState {
        self.state
    }

    /// Steps taken, oldest first: the state reached and the day.
    pub fn history(&self) -> &[(MigrationState, Date)] {
        &self.history
    }

    /// The day `state` was reached, if it was.
    pub fn reached_on(&self, state: MigrationState) -> Option<Date> {
        self.history.iter().find(|(s, _)| *s == state).map(|p| p.1)
    }

    /// Moves to `to` on `on` (the next state only).
    pub fn advance(&mut self, to: MigrationState, on: Date) -> Result<(), MigrationError> {
        if self.state.next() != Some(to) {
            return Err(MigrationError::OutOfOrder {
                from: self.state,
                to,
            });
        }
        if let Some(&(_, previous)) = self.history.last() {
            if on < previous {
                return Err(MigrationError::BackInTime { on, previous });
            }
        }
        self.history.push((to, on));
        self.state = to;
        Ok(())
    }

    /// Migrated to the standard system.
    pub fn standardize(&mut self, on: Date) -> Result<(), MigrationError> {
        self.advance(MigrationState::Standardized, on)
    }

    /// Modified to send; the data migration starts.
    pub fn start_sending(&mut self, on: Date) -> Result<(), MigrationError> {
        self.advance(MigrationState::Sending, on)
    }

    /// Data migration done: sharing.
    pub fn start_sharing(&mut self, on: Date) -> Result<(), MigrationError> {
        self.advance(MigrationState::Sharing, on)
    }

    /// `Ok` if the system may upload now.
    pub fn check_upload(&self) -> Result<(), MigrationError> {
        if self.state.allows_upload() {
            Ok(())
        } else {
            Err(MigrationError::UploadNotAllowed(self.state))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_four_states_are_reached_in_order_and_uploads_open_at_sending() {
        let mut m = Migration::new();
        assert_eq!(
            m.check_upload(),
            Err(MigrationError::UploadNotAllowed(MigrationState::Legacy))
        );
        m.standardize(d("2026-04-01")).unwrap();
        assert_eq!(
            m.check_upload(),
            Err(MigrationError::UploadNotAllowed(
                MigrationState::Standardized
            ))
        );
        m.start_sending(d("2026-07-01")).unwrap();
        assert_eq!(m.check_upload(), Ok(()));
        m.start_sharing(d("2026-10-01")).unwrap();
        assert_eq!(m.state(), MigrationState::Sharing);
        assert_eq!(m.check_upload(), Ok(()));
        assert_eq!(m.reached_on(MigrationState::Sending), Some(d("2026-07-01")));
        assert_eq!(m.history().len(), 3);
    }

    #[test]
    fn skipping_repeating_or_going_back_is_refused_and_changes_nothing() {
        let mut m = Migration::new();
        assert_eq!(
            m.start_sending(d("2026-04-01")),
            Err(MigrationError::OutOfOrder {
                from: MigrationState::Legacy,
                to: MigrationState::Sending
            })
        );
        assert_eq!(m.state(), MigrationState::Legacy);
        m.standardize(d("2026-04-01")).unwrap();
        assert!(matches!(
            m.standardize(d("2026-05-01")),
            Err(MigrationError::OutOfOrder { .. })
        ));
        assert_eq!(
            m.start_sending(d("2026-03-31")),
            Err(MigrationError::BackInTime {
                on: d("2026-03-31"),
                previous: d("2026-04-01")
            })
        );
        assert_eq!(m.state(), MigrationState::Standardized);
        let mut done = Migration::at(MigrationState::Sharing, d("2026-10-01"));
        assert!(matches!(
            done.advance(MigrationState::Legacy, d("2026-11-01")),
            Err(MigrationError::OutOfOrder { .. })
        ));
        assert_eq!(MigrationState::Sharing.next(), None);
    }

    #[test]
    fn starting_at_a_state_records_each_step() {
        let m = Migration::at(MigrationState::Sending, d("2026-05-01"));
        assert_eq!(
            m.history(),
            [
                (MigrationState::Standardized, d("2026-05-01")),
                (MigrationState::Sending, d("2026-05-01"))
            ]
        );
        assert_eq!(
            Migration::at(MigrationState::Legacy, d("2026-05-01")).history(),
            []
        );
    }
}
