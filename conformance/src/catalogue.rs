//! The requirement catalogue (`conformance/requirements.toml`, embedded): stable ids, one
//! rule each, its source and the actors it binds. Cases cite requirements by id; the coverage
//! check ([`coverage`]) proves every requirement has a case and every case cites known ones.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The catalogue as shipped.
pub const REQUIREMENTS_TOML: &str = include_str!("../requirements.toml");

/// A group of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// TLS and certificates.
    Tls,
    /// Staff accounts and sessions.
    Staff,
    /// Identity verification and registration.
    Identity,
    /// Consent, both models.
    Consent,
    /// The role × class access matrix.
    Access,
    /// Rollout gates, with the cross-municipality rule.
    Rollout,
    /// Ingestion by municipality systems.
    Ingest,
    /// Submissions to municipalities and their inbox.
    Submit,
    /// The care-plan data exchange.
    Careplan,
    /// The audit log and the person's rights (portal).
    Audit,
    /// Error handling and bad input.
    Errors,
    /// Privacy (no My Number).
    Privacy,
    /// The interactions an observe-mode script expects of a vendor system.
    Script,
}

impl Area {
    /// Every area, in report order.
    pub const ALL: [Area; 13] = [
        Area::Tls,
        Area::Staff,
        Area::Identity,
        Area::Consent,
        Area::Access,
        Area::Rollout,
        Area::Ingest,
        Area::Submit,
        Area::Careplan,
        Area::Audit,
        Area::Errors,
        Area::Privacy,
        Area::Script,
    ];

    /// The stable kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Area::Tls => "tls",
            Area::Staff => "staff",
            Area::Identity => "identity",
            Area::Consent => "consent",
            Area::Access => "access",
            Area::Rollout => "rollout",
            Area::Ingest => "ingest",
            Area::Submit => "submit",
            Area::Careplan => "careplan",
            Area::Audit => "audit",
            Area::Errors => "errors",
            Area::Privacy => "privacy",
            Area::Script => "script",
        }
    }

    /// A human title.
    pub const fn title(self) -> &'static str {
        match self {
            Area::Tls => "TLS and certificates",
            Area::Staff => "Staff accounts",
            Area::Identity => "Identity verification and registration",
            Area::Consent => "Consent",
            Area::Access => "Access matrix",
            Area::Rollout => "Rollout gates",
            Area::Ingest => "Ingestion",
            Area::Submit => "Submissions and inbox",
            Area::Careplan => "Care-plan exchange",
            Area::Audit => "Audit and the person's rights",
            Area::Errors => "Error handling and bad input",
            Area::Privacy => "Privacy",
            Area::Script => "Scripted interactions (observe mode)",
        }
    }

    /// The area named `text`.
    pub fn parse(text: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who must honour a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    /// The platform (介護情報基盤 and its web service).
    Platform,
    /// A municipality's standard care-insurance system.
    MunicipalitySystem,
    /// Care office software (care management, services, facilities).
    OfficeSoftware,
    /// Medical software (EHR, document software) of medical institutions.
    MedicalSoftware,
}

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The stable id, e.g. `KIBAN-TLS-001`.
    pub id: String,
    /// The suite area that tests it.
    pub area: Area,
    /// The rule, one sentence.
    pub rule: String,
    /// Where it comes from.
    pub source: String,
    /// Who must honour it.
    pub binds: Vec<Actor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    area: Area,
    rule: String,
    source: String,
    binds: Vec<Actor>,
}

/// Why a catalogue does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// Not TOML of the expected shape.
    #[error("requirements TOML: {0}")]
    Toml(String),
    /// An id that is not `KIBAN-<AREA>-<nnn>`.
    #[error("requirement id {0:?} is not KIBAN-<AREA>-<three digits>")]
    BadId(String),
    /// A requirement without a rule, a source or an actor.
    #[error("requirement {0} has an empty rule, source or binds")]
    Incomplete(String),
}

/// The requirement catalogue, ordered by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    requirements: Vec<Requirement>,
}

impl Catalogue {
    /// The catalogue shipped with the suite.
    pub fn shipped() -> Catalogue {
        // The shipped file is checked by this crate's tests; it always parses.
        Catalogue::parse(REQUIREMENTS_TOML).unwrap_or(Catalogue {
            requirements: Vec::new(),
        })
    }

    /// Parses a catalogue, rejecting unknown keys, malformed ids and empty fields.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let raw: BTreeMap<String, RawRequirement> =
            toml::from_str(text).map_err(|e| CatalogueError::Toml(e.to_string()))?;
        let mut requirements = Vec::with_capacity(raw.len());
        for (id, r) in raw {
            if !is_requirement_id(&id) {
                return Err(CatalogueError::BadId(id));
            }
            if r.rule.trim().is_empty() || r.source.trim().is_empty() || r.binds.is_empty() {
                return Err(CatalogueError::Incomplete(id));
            }
            requirements.push(Requirement {
                id,
                area: r.area,
                rule: r.rule,
                source: r.source,
                binds: r.binds,
            });
        }
        Ok(Catalogue { requirements })
    }

    /// Every requirement, ordered by id.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The requirement `id`.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.requirements[i])
    }

    /// SHA-256 of the catalogue text, for reports.
    pub fn digest() -> String {
        crate::report::sha256_hex(REQUIREMENTS_TOML.as_bytes())
    }
}

fn is_requirement_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    matches!(parts.as_slice(), ["KIBAN", area, n]
        if area.len() == 3 && area.bytes().all(|b| b.is_ascii_uppercase())
            && n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What the coverage check found wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Requirements no case and no observe-mode check cites.
    pub untested: Vec<String>,
    /// Cases (and observe-mode checks) that cite no requirement.
    pub uncited: Vec<String>,
    /// `(case or check, id)` pairs citing an id not in the catalogue.
    pub unknown: Vec<(String, String)>,
}

impl Coverage {
    /// Whether every requirement is tested and every case cites known requirements.
    pub fn is_complete(&self) -> bool {
        self.untested.is_empty() && self.uncited.is_empty() && self.unknown.is_empty()
    }
}

/// Checks the suite's cases, observe mode's checks and the script's default requirement
/// against `catalogue`: a requirement binding only vendor software may be tested from the
/// client side alone.
pub fn coverage(catalogue: &Catalogue) -> Coverage {
    let mut cited = std::collections::BTreeSet::new();
    let mut out = Coverage::default();
    let cases = crate::cases::all()
        .into_iter()
        .map(|c| (c.id, c.requirements));
    let checks = crate::observe::checks::CHECKS
        .iter()
        .map(|c| (c.id, c.requirements))
        .chain([(
            "SCR-nn",
            &[crate::observe::script::SCRIPT_REQUIREMENT] as &[&str],
        )]);
    for (case, requirements) in cases.chain(checks) {
        if requirements.is_empty() {
            out.uncited.push(case.to_owned());
        }
        for id in requirements {
            if catalogue.get(id).is_none() {
                out.unknown.push((case.to_owned(), (*id).to_owned()));
            }
            cited.insert(*id);
        }
    }
    out.untested = catalogue
        .requirements()
        .iter()
        .filter(|r| !cited.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect();
    out
}
