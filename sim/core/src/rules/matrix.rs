//! The role × information-class access matrix: one table, loaded from TOML, looked up by
//! two array indexes on the hot path.

use std::collections::BTreeMap;
use std::fmt;

use crate::vocab::{InfoClass, Role};

use super::RulesError;

/// The matrix as published (DOMAIN §2), embedded from `sim/core/rules/access-matrix.toml`.
pub const DEFAULT_MATRIX_TOML: &str = include_str!("../../rules/access-matrix.toml");

/// What a role may do with a class of information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Not shared with this role.
    None,
    /// ○: shared without consent.
    Read,
    /// ◎: shared only with the person's consent.
    ReadWithConsent,
    /// ★: the role creates this information and reads it without consent.
    Creator,
}

impl Access {
    /// Every level.
    pub const ALL: [Access; 4] = [
        Access::None,
        Access::Read,
        Access::ReadWithConsent,
        Access::Creator,
    ];

    /// The stable name used in the TOML file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::ReadWithConsent => "read-with-consent",
            Access::Creator => "creator",
        }
    }

    /// The mark of the seed's table.
    pub const fn mark(self) -> &'static str {
        match self {
            Access::None => "-",
            Access::Read => "○",
            Access::ReadWithConsent => "◎",
            Access::Creator => "★",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The access matrix. Representatives have no column: they use the person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix {
    cells: [[Access; InfoClass::COUNT]; Role::COUNT],
}

impl AccessMatrix {
    /// The published matrix ([`DEFAULT_MATRIX_TOML`]).
    pub fn published() -> AccessMatrix {
        // The embedded file is checked by a unit test, so parsing cannot fail here.
        AccessMatrix::from_toml_str(DEFAULT_MATRIX_TOML)
            .expect("the embedded access matrix is valid")
    }

    /// Parses a matrix: one table per class, one `role = "level"` entry per role. Every
    /// class must list every role except `representative`; anything unknown is an error.
    pub fn from_toml_str(text: &str) -> Result<AccessMatrix, RulesError> {
        let raw: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|e| RulesError::Toml(e.to_string()))?;
        let mut cells = [[None::<Access>; InfoClass::COUNT]; Role::COUNT];
        for (class_name, row) in &raw {
            let class: InfoClass = class_name
                .parse()
                .map_err(|e| RulesError::Matrix(format!("table [{class_name}]: {e}")))?;
            for (role_name, level_name) in row {
                let role = parse_role(class, role_name)?;
                let level = Access::ALL.into_iter().find(|a| a.as_str() == level_name).ok_or_else(|| {
                    RulesError::Matrix(format!(
                        "[{class}] {role}: unknown level {level_name:?}; expected none, read, read-with-consent or creator"
                    ))
                })?;
                cells[role.index()][class.index()] = Some(level);
            }
        }
        let mut out = [[Access::None; InfoClass::COUNT]; Role::COUNT];
        for &role in Role::ALL.iter().filter(|r| **r != Role::Representative) {
            for &class in InfoClass::ALL {
                out[role.index()][class.index()] =
                    cells[role.index()][class.index()].ok_or_else(|| {
                        RulesError::Matrix(format!("[{class}] has no entry for role {role}"))
                    })?;
            }
        }
        out[Role::Representative.index()] = out[Role::Person.index()];
        Ok(AccessMatrix { cells: out })
    }

    /// What `role` may do with `class`.
    #[inline]
    pub fn access(&self, role: Role, class: InfoClass) -> Access {
        self.cells[role.index()][class.index()]
    }

    /// Sets one cell (for what-if tables built in code). Setting the representative column
    /// is refused: it always mirrors the person's.
    pub fn set(&mut self, role: Role, class: InfoClass, access: Access) {
        assert!(
            role != Role::Representative,
            "representatives use the person's column"
        );
        self.cells[role.index()][class.index()] = access;
        if role == Role::Person {
            self.cells[Role::Representative.index()][class.index()] = access;
        }
    }

    /// Renders the matrix as TOML that [`Self::from_toml_str`] reads back.
    pub fn to_toml_string(&self) -> String {
        let mut out = String::new();
        for &class in InfoClass::ALL {
            out.push_str(&format!("[{class}]\n"));
            for &role in Role::ALL.iter().filter(|r| **r != Role::Representative) {
                out.push_str(&format!("{role} = \"{}\"\n", self.access(role, class)));
            }
            out.push('\n');
        }
        out
    }
}

fn parse_role(class: InfoClass, name: &str) -> Result<Role, RulesError> {
    match name.parse::<Role>() {
        Ok(Role::Representative) => Err(RulesError::Matrix(format!(
            "[{class}] representative: representatives act within the person's rights; set the person entry instead"
        ))),
        Ok(role) => Ok(role),
        Err(e) => Err(RulesError::Matrix(format!("[{class}] {name}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_matrix_parses_and_round_trips() {
        let m = AccessMatrix::published();
        assert_eq!(AccessMatrix::from_toml_str(&m.to_toml_string()).unwrap(), m);
    }

    #[test]
    fn published_matrix_matches_the_seed_table() {
        let m = AccessMatrix::published();
        use InfoClass::*;
        use Role::*;
        assert_eq!(m.access(Municipality, InsuranceCard), Access::Creator);
        assert_eq!(
            m.access(CareManagement, CertificationSurvey),
            Access::ReadWithConsent
        );
        assert_eq!(m.access(CareService, CertificationSurvey), Access::None);
        assert_eq!(
            m.access(MedicalInstitution, PhysicianOpinion),
            Access::Creator
        );
        assert_eq!(m.access(CareManagement, HomeCarePlan), Access::Creator);
        assert_eq!(
            m.access(MedicalInstitution, HomeCarePlan),
            Access::ReadWithConsent
        );
        assert_eq!(m.access(Person, HomeModification), Access::ReadWithConsent);
        assert_eq!(m.access(Operator, InsuranceCard), Access::None);
    }

    #[test]
    fn representative_mirrors_the_person_column() {
        let mut m = AccessMatrix::published();
        for &class in InfoClass::ALL {
            assert_eq!(
                m.access(Role::Representative, class),
                m.access(Role::Person, class)
            );
        }
        m.set(Role::Person, InfoClass::CertificationSurvey, Access::Read);
        assert_eq!(
            m.access(Role::Representative, InfoClass::CertificationSurvey),
            Access::Read
        );
    }

    #[test]
    fn missing_unknown_and_representative_entries_are_precise_errors() {
        let full = DEFAULT_MATRIX_TOML;
        let missing = full.replacen("facility = \"read\"\n", "", 1);
        assert_eq!(
            AccessMatrix::from_toml_str(&missing)
                .unwrap_err()
                .to_string(),
            "access matrix: [insurance-card] has no entry for role facility"
        );
        let bad_level = full.replacen("person = \"read\"", "person = \"maybe\"", 1);
        assert!(
            AccessMatrix::from_toml_str(&bad_level)
                .unwrap_err()
                .to_string()
                .contains("[insurance-card] person: unknown level \"maybe\"")
        );
        let rep = format!("{full}\n[billing]\nperson = \"read\"\n");
        assert!(
            AccessMatrix::from_toml_str(&rep)
                .unwrap_err()
                .to_string()
                .contains("table [billing]: unknown InfoClass")
        );
        let rep = full.replacen("operator = \"none\"", "representative = \"read\"", 1);
        assert!(
            AccessMatrix::from_toml_str(&rep)
                .unwrap_err()
                .to_string()
                .contains("set the person entry instead")
        );
        assert!(
            AccessMatrix::from_toml_str("[insurance-card\n")
                .unwrap_err()
                .to_string()
                .starts_with("rules TOML:")
        );
    }
}
