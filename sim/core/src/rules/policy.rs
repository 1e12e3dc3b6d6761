//! The policies the seeds leave open (DOMAIN §4–§5), as values. Each variant states its
//! rule in its doc comment; `decide` implements exactly those sentences.

use serde::{Deserialize, Serialize};

use super::RulesError;

/// Consent, registration-lapse and rollout policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// How consent is held and when it expires.
    pub consent: ConsentPolicy,
    /// When a responsible-office registration stops granting access.
    pub lapse: LapsePolicy,
    /// Which go-live dates gate access.
    pub rollout: RolloutPolicy,
}

impl Policy {
    /// The 2025 proposal (seed 004): comprehensive consent that does not expire, registrations
    /// that last until ended, and offices gated by their own municipality's go-live.
    pub const fn proposal_2025() -> Policy {
        Policy {
            consent: ConsentPolicy {
                model: ConsentModel::Comprehensive,
                expiry: ConsentExpiry::Never,
            },
            lapse: LapsePolicy::Never,
            rollout: RolloutPolicy {
                cross_municipality_rule: true,
            },
        }
    }

    /// Parses a policy from TOML, rejecting unknown keys.
    pub fn from_toml_str(text: &str) -> Result<Policy, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::Toml(e.to_string()))
    }
}

/// How consent is held and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConsentPolicy {
    /// Whose consent record a read with consent looks at.
    pub model: ConsentModel,
    /// When a given consent stops counting.
    pub expiry: ConsentExpiry,
}

/// Whose consent record counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentModel {
    /// 2025 proposal: one comprehensive consent per person, obtained by the municipality at
    /// application or renewal, or by a care-management office or facility on its behalf;
    /// it covers every class, all data now and later, and every office.
    Comprehensive,
    /// 2024 proposal: each office obtains its own consent; an office's reads with consent
    /// look at the consent recorded on its registration. Non-office roles (municipality,
    /// person, representative) use the person's own consent record.
    PerOffice,
}

/// When a consent stops counting (besides withdrawal, which always ends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentExpiry {
    /// Consent lasts until withdrawn.
    Never,
    /// Consent ends when the certification period in force when it was given ends (the
    /// person re-consents at renewal). A consent given before any certification end is
    /// known does not expire.
    WithCertificationPeriod,
    /// Consent ends this many calendar months after it was given.
    AfterMonths(u16),
}

/// When a responsible-office registration stops granting access (besides being ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields, rename_all = "kebab-case")]
pub enum LapsePolicy {
    /// A registration lasts until the office or the municipality ends it.
    Never,
    /// A registration lapses `months` calendar months after the later of its start and the
    /// office's last service record for the person. With an exemption for a stay kind, a
    /// stay of that kind that began at or before that instant defers the lapse to `months`
    /// after the stay ends; while the stay is open the registration does not lapse.
    #[serde(rename_all = "kebab-case")]
    AfterInactivity {
        /// Months without a service record.
        months: u16,
        /// Whether hospital stays defer the lapse.
        exempt_hospital_stays: bool,
        /// Whether short stays (短期入所) defer the lapse.
        exempt_short_stays: bool,
    },
    /// Access follows claims (レセプト): a registration lapses `grace_months` calendar months
    /// after the later of its start and the office's last claim for the person.
    #[serde(rename_all = "kebab-case")]
    TiedToClaims {
        /// Months without a claim.
        grace_months: u16,
    },
}

/// Which go-live dates gate access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RolloutPolicy {
    /// On: an office reads only once the municipality where it is located shares (seed 002:
    /// offices come on line with their own municipality), so a Kawasaki office cannot read a
    /// Yokohama resident's data before Kawasaki is live. Off: only the person's insurer
    /// must be live. The insurer gate applies either way.
    pub cross_municipality_rule: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_reads_every_variant_from_toml() {
        let p = Policy::from_toml_str(
            r#"
            consent = { model = "per-office", expiry = { after-months = 24 } }
            lapse = { kind = "after-inactivity", months = 2, exempt-hospital-stays = true, exempt-short-stays = false }
            rollout = { cross-municipality-rule = false }
            "#,
        )
        .unwrap();
        assert_eq!(p.consent.model, ConsentModel::PerOffice);
        assert_eq!(p.consent.expiry, ConsentExpiry::AfterMonths(24));
        assert_eq!(
            p.lapse,
            LapsePolicy::AfterInactivity {
                months: 2,
                exempt_hospital_stays: true,
                exempt_short_stays: false
            }
        );
        let claims = Policy::from_toml_str(
            "consent = { model = \"comprehensive\", expiry = \"with-certification-period\" }\n\
             lapse = { kind = \"tied-to-claims\", grace-months = 1 }\n\
             rollout = { cross-municipality-rule = true }",
        )
        .unwrap();
        assert_eq!(claims.lapse, LapsePolicy::TiedToClaims { grace_months: 1 });
    }

    #[test]
    fn unknown_policy_keys_are_rejected_with_their_name() {
        let err = Policy::from_toml_str(
            "consent = { model = \"comprehensive\", expiry = \"never\", colour = 1 }\n\
             lapse = { kind = \"never\" }\nrollout = { cross-municipality-rule = true }",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn proposal_2025_round_trips_through_toml() {
        let text = toml::to_string(&Policy::proposal_2025()).unwrap();
        assert_eq!(
            Policy::from_toml_str(&text).unwrap(),
            Policy::proposal_2025()
        );
    }
}
