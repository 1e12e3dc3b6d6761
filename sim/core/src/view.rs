//! The indexed, in-memory state a decision is made over. The platform fills it from its
//! store; the national model fills it from generated events. Everything is addressed by
//! dense integer ids handed out here, so the hot path does array indexing and at most two
//! integer-keyed hash probes, never string comparison or allocation.
//!
//! Sizing: a person row is 56 bytes and a registration entry about 72 bytes with its hash
//! slot, so 7 M persons and 20 M registrations take roughly 1.9 GB.

use rustc_hash::FxHashMap;

use crate::id::MunicipalityCode;
use crate::rules::Rules;
use crate::time::Timestamp;
use crate::vocab::Role;

/// Index of a municipality (insurer) in a [`View`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityId(pub u32);
/// Index of an office (care-management, care-service, facility, medical institution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OfficeId(pub u32);
/// Index of a person (an insured person the platform holds data about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId(pub u32);
/// Index of an agent: a family member or guardian who may represent persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub u32);
/// Index of a client credential (a terminal's certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(pub u32);

/// A municipality as insurer and as the place offices are located.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality {
    /// 全国地方公共団体コード.
    pub code: MunicipalityCode,
    /// When it starts sharing on the platform; [`Timestamp::MAX`] when not scheduled.
    pub live_from: Timestamp,
}

/// An office and where it is located.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Office {
    /// Its role (an office role: see [`Role::is_office`]).
    pub role: Role,
    /// The municipality where it is located.
    pub municipality: MunicipalityId,
}

/// A consent record: the latest consent and its withdrawal, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    /// When consent was given; [`Timestamp::MAX`] when never.
    pub given_at: Timestamp,
    /// When it was withdrawn; [`Timestamp::MAX`] when not. Never before `given_at`.
    pub withdrawn_at: Timestamp,
    /// End of the certification period in force when consent was given;
    /// [`Timestamp::MAX`] when unknown. Used by `ConsentExpiry::WithCertificationPeriod`.
    pub certification_end: Timestamp,
}

impl Consent {
    /// No consent.
    pub const NONE: Consent = Consent {
        given_at: Timestamp::MAX,
        withdrawn_at: Timestamp::MAX,
        certification_end: Timestamp::MAX,
    };

    /// Consent given at `at`, not withdrawn, certification end unknown.
    pub const fn given(at: Timestamp) -> Consent {
        Consent {
            given_at: at,
            ..Consent::NONE
        }
    }

    /// The same consent with the certification period end in force when it was given.
    pub const fn with_certification_end(self, end: Timestamp) -> Consent {
        Consent {
            certification_end: end,
            ..self
        }
    }

    /// The same consent withdrawn at `at`, which must not be before it was given.
    pub fn withdrawn(self, at: Timestamp) -> Consent {
        assert!(
            at >= self.given_at,
            "a consent is withdrawn after it is given"
        );
        Consent {
            withdrawn_at: at,
            ..self
        }
    }
}

/// Kind of stay away from the usual services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayKind {
    /// Admission to hospital.
    Hospital,
    /// 短期入所 (short stay).
    ShortStay,
}

/// The person's latest stay away from usual services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    /// Hospital or short stay.
    pub kind: StayKind,
    /// Start.
    pub from: Timestamp,
    /// End; [`Timestamp::MAX`] while open. Not before `from`.
    pub until: Timestamp,
}

/// A person as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// The insurer (municipality) the person is insured with.
    pub insurer: MunicipalityId,
    /// The person's comprehensive consent.
    pub consent: Consent,
    /// The latest hospital or short stay, if any.
    pub stay: Option<Stay>,
}

/// A responsible-office registration (担当事業所登録) of an office for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// When identity verification registered the office.
    pub registered_at: Timestamp,
    /// When the registration was ended; [`Timestamp::MAX`] when not.
    pub ended_at: Timestamp,
    /// The office's last service record (実績) for the person; [`Timestamp::MIN`] when none.
    pub last_service_at: Timestamp,
    /// The office's last claim (レセプト) for the person; [`Timestamp::MIN`] when none.
    pub last_claim_at: Timestamp,
    /// The consent this office obtained itself (used under `ConsentModel::PerOffice`).
    pub consent: Consent,
}

impl Registration {
    /// A registration made at `at`, with no records yet and no per-office consent.
    pub const fn at(at: Timestamp) -> Registration {
        Registration {
            registered_at: at,
            ended_at: Timestamp::MAX,
            last_service_at: Timestamp::MIN,
            last_claim_at: Timestamp::MIN,
            consent: Consent::NONE,
        }
    }
}

/// Who holds a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    /// An office's terminal.
    Office(OfficeId),
    /// A municipality system.
    Municipality(MunicipalityId),
    /// The operator.
    Operator,
}

/// A client certificate as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    /// Whose it is.
    pub holder: Holder,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity (exclusive).
    pub not_after: Timestamp,
    /// When it was revoked; [`Timestamp::MAX`] when not.
    pub revoked_at: Timestamp,
}

/// A period during which an agent may act for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Representation {
    /// Start.
    pub from: Timestamp,
    /// End (exclusive); [`Timestamp::MAX`] when open.
    pub until: Timestamp,
}

/// The decision state: rules plus indexed rows.
#[derive(Debug, Clone)]
pub struct View {
    pub(crate) rules: Rules,
    pub(crate) municipalities: Vec<Municipality>,
    pub(crate) offices: Vec<Office>,
    pub(crate) persons: Vec<Person>,
    pub(crate) credentials: Vec<Credential>,
    pub(crate) n_agents: u32,
    pub(crate) registrations: FxHashMap<(PersonId, OfficeId), Registration>,
    pub(crate) representations: FxHashMap<(AgentId, PersonId), Representation>,
}

/// A change to a [`View`] that refers to something that does not exist or breaks a rule of
/// its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewError {
    /// An id that was not handed out by this view.
    UnknownId(&'static str, u32),
    /// An office was added with a role that is not an office role.
    NotAnOfficeRole(Role),
    /// No registration exists for the person and office.
    NoRegistration,
    /// An interval whose end is before its start.
    BackwardsInterval,
}

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewError::UnknownId(what, id) => write!(f, "unknown {what} id {id}"),
            ViewError::NotAnOfficeRole(role) => write!(f, "{role} is not an office role"),
            ViewError::NoRegistration => f.write_str("no registration for this person and office"),
            ViewError::BackwardsInterval => f.write_str("interval ends before it starts"),
        }
    }
}

impl std::error::Error for ViewError {}

impl View {
    /// An empty view under `rules`.
    pub fn new(rules: Rules) -> View {
        View {
            rules,
            municipalities: Vec::new(),
            offices: Vec::new(),
            persons: Vec::new(),
            credentials: Vec::new(),
            n_agents: 0,
            registrations: FxHashMap::default(),
            representations: FxHashMap::default(),
        }
    }

    /// Reserves room for `persons` persons and `registrations` registrations.
    pub fn reserve(&mut self, persons: usize, registrations: usize) {
        self.persons.reserve(persons);
        self.registrations.reserve(registrations);
    }

    /// The rules decisions are made under.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Replaces the rules (a what-if, or a policy change at a scenario step).
    pub fn set_rules(&mut self, rules: Rules) {
        self.rules = rules;
    }

    /// Adds a municipality.
    pub fn add_municipality(
        &mut self,
        code: MunicipalityCode,
        live_from: Timestamp,
    ) -> MunicipalityId {
        self.municipalities.push(Municipality { code, live_from });
        MunicipalityId(dense_id(self.municipalities.len()))
    }

    /// Sets when a municipality starts sharing.
    pub fn set_live_from(&mut self, id: MunicipalityId, at: Timestamp) -> Result<(), ViewError> {
        let row = self
            .municipalities
            .get_mut(id.0 as usize)
            .ok_or(ViewError::UnknownId("municipality", id.0))?;
        row.live_from = at;
        Ok(())
    }

    /// Adds an office located in `municipality`.
    pub fn add_office(
        &mut self,
        role: Role,
        municipality: MunicipalityId,
    ) -> Result<OfficeId, ViewError> {
        if !role.is_office() {
            return Err(ViewError::NotAnOfficeRole(role));
        }
        self.municipality(municipality)?;
        self.offices.push(Office { role, municipality });
        Ok(OfficeId(dense_id(self.offices.len())))
    }

    /// Adds a person insured with `insurer`, without consent or stay.
    pub fn add_person(&mut self, insurer: MunicipalityId) -> Result<PersonId, ViewError> {
        self.municipality(insurer)?;
        self.persons.push(Person {
            insurer,
            consent: Consent::NONE,
            stay: None,
        });
        Ok(PersonId(dense_id(self.persons.len())))
    }

    /// Adds an agent who may later represent persons.
    pub fn add_agent(&mut self) -> AgentId {
        self.n_agents = self
            .n_agents
            .checked_add(1)
            .expect("fewer than 2^32 agents");
        AgentId(self.n_agents - 1)
    }

    /// Adds a credential.
    pub fn add_credential(&mut self, credential: Credential) -> Result<CredentialId, ViewError> {
        match credential.holder {
            Holder::Office(id) => self.office(id).map(drop)?,
            Holder::Municipality(id) => self.municipality(id).map(drop)?,
            Holder::Operator => {}
        }
        self.credentials.push(credential);
        Ok(CredentialId(dense_id(self.credentials.len())))
    }

    /// Revokes a credential from `at` on.
    pub fn revoke_credential(&mut self, id: CredentialId, at: Timestamp) -> Result<(), ViewError> {
        let row = self
            .credentials
            .get_mut(id.0 as usize)
            .ok_or(ViewError::UnknownId("credential", id.0))?;
        row.revoked_at = row.revoked_at.min(at);
        Ok(())
    }

    /// Sets the person's comprehensive consent record.
    pub fn set_consent(&mut self, person: PersonId, consent: Consent) -> Result<(), ViewError> {
        self.person_mut(person)?.consent = consent;
        Ok(())
    }

    /// Sets the person's latest stay.
    pub fn set_stay(&mut self, person: PersonId, stay: Option<Stay>) -> Result<(), ViewError> {
        if stay.is_some_and(|s| s.until < s.from) {
            return Err(ViewError::BackwardsInterval);
        }
        self.person_mut(person)?.stay = stay;
        Ok(())
    }

    /// Registers `office` as responsible for `person`, replacing an earlier registration.
    pub fn register(
        &mut self,
        person: PersonId,
        office: OfficeId,
        registration: Registration,
    ) -> Result<(), ViewError> {
        self.person(person)?;
        self.office(office)?;
        self.registrations.insert((person, office), registration);
        Ok(())
    }

    /// The registration of `office` for `person`, if any.
    pub fn registration_of(&self, person: PersonId, office: OfficeId) -> Option<&Registration> {
        self.registrations.get(&(person, office))
    }

    /// The registration of `office` for `person`, for updates (end, records, consent).
    pub fn registration_mut(
        &mut self,
        person: PersonId,
        office: OfficeId,
    ) -> Result<&mut Registration, ViewError> {
        self.registrations
            .get_mut(&(person, office))
            .ok_or(ViewError::NoRegistration)
    }

    /// The period during which `agent` may act for `person`, if any.
    pub fn representation_of(&self, agent: AgentId, person: PersonId) -> Option<Representation> {
        self.representations.get(&(agent, person)).copied()
    }

    /// Lets `agent` act for `person` during `representation`.
    pub fn represent(
        &mut self,
        agent: AgentId,
        person: PersonId,
        representation: Representation,
    ) -> Result<(), ViewError> {
        if agent.0 >= self.n_agents {
            return Err(ViewError::UnknownId("agent", agent.0));
        }
        if representation.until < representation.from {
            return Err(ViewError::BackwardsInterval);
        }
        self.person(person)?;
        self.representations.insert((agent, person), representation);
        Ok(())
    }

    /// A municipality row.
    pub fn municipality(&self, id: MunicipalityId) -> Result<&Municipality, ViewError> {
        self.municipalities
            .get(id.0 as usize)
            .ok_or(ViewError::UnknownId("municipality", id.0))
    }

    /// An office row.
    pub fn office(&self, id: OfficeId) -> Result<&Office, ViewError> {
        self.offices
            .get(id.0 as usize)
            .ok_or(ViewError::UnknownId("office", id.0))
    }

    /// A person row.
    pub fn person(&self, id: PersonId) -> Result<&Person, ViewError> {
        self.persons
            .get(id.0 as usize)
            .ok_or(ViewError::UnknownId("person", id.0))
    }

    fn person_mut(&mut self, id: PersonId) -> Result<&mut Person, ViewError> {
        self.persons
            .get_mut(id.0 as usize)
            .ok_or(ViewError::UnknownId("person", id.0))
    }

    /// Numbers of municipalities, offices, persons and registrations.
    pub fn counts(&self) -> ViewCounts {
        ViewCounts {
            municipalities: self.municipalities.len(),
            offices: self.offices.len(),
            persons: self.persons.len(),
            registrations: self.registrations.len(),
            credentials: self.credentials.len(),
        }
    }
}

/// Row counts of a [`View`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewCounts {
    /// Municipalities.
    pub municipalities: usize,
    /// Offices.
    pub offices: usize,
    /// Persons.
    pub persons: usize,
    /// Registrations (ended ones included).
    pub registrations: usize,
    /// Credentials.
    pub credentials: usize,
}

/// The id of the row just pushed onto a table of `len` rows.
fn dense_id(len: usize) -> u32 {
    u32::try_from(len - 1).expect("fewer than 2^32 rows per table")
}
