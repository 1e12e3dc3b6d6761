//! Rules as data: the access matrix and the policies a policy team may change (consent
//! model and expiry, registration lapse, rollout gates). The decision function reads these
//! values; it contains no policy constants of its own.

mod matrix;
mod policy;

use std::fmt;

pub use matrix::{Access, AccessMatrix, DEFAULT_MATRIX_TOML};
pub use policy::{ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, RolloutPolicy};

/// The complete rule set a decision is made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Who may read which class, and whether consent is needed.
    pub matrix: AccessMatrix,
    /// Consent, registration-lapse and rollout policies.
    pub policy: Policy,
}

impl Rules {
    /// The published matrix under the 2025 proposal's policy ([`Policy::proposal_2025`]).
    pub fn published() -> Rules {
        Rules {
            matrix: AccessMatrix::published(),
            policy: Policy::proposal_2025(),
        }
    }
}

/// A rule table or policy that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RulesError {
    /// The text is not valid TOML or does not have the expected shape.
    Toml(String),
    /// The access matrix is incomplete or names something unknown.
    Matrix(String),
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesError::Toml(msg) => write!(f, "rules TOML: {}", msg.trim_end()),
            RulesError::Matrix(msg) => write!(f, "access matrix: {msg}"),
        }
    }
}

impl std::error::Error for RulesError {}
