//! The indexed, in-memory state a decision is made over. The platform fills it from its
//! store; the national model fills it from generated events. Everything is addressed by
//! dense integer ids handed out here, so the hot path does array indexing and at most two
//! integer-keyed hash probes, never string comparison or allocation.
//!
//! # Layout
//!
//! Callers see plain rows ([`Person`], [`Registration`], …). Beside them the view keeps what
//! the rules derive from those rows, recomputed whenever a row or the rules change, so a
//! decision reads instants instead of computing them:
//!
//! - `hot`: one 64-byte, cache-line-aligned row per person (`PersonHot`): the insurer, the
//!   window during which the person's consent counts (`[given, min(withdrawn, expiry))`), and
//!   the office and access window (`[registered, min(ended, lapse))`) of the person's first
//!   four registrations. A decision about a person usually needs only this line: a current
//!   inline registration or consent is confirmed from it, and an office absent from a
//!   person with no more than four registrations is `not-registered` at once.
//! - Windows count seconds from 2000-01-01 JST in a `u32` and never claim more than the exact
//!   interval (an instant the scale cannot hold narrows the window). Whenever a window does
//!   not confirm, `decide` checks the exact rows, so every denial reason comes from the exact
//!   instants and the hot row can only shorten the way to a permit or to `not-registered`.
//! - `regs`: every registration in one dense table with its lapse instant and its per-office
//!   consent's expiry precomputed, reached through `reg_index` (`(person, office)` → row) and
//!   linked per person (so a stay or a rules change recomputes one person's rows).
//! - `consent_expires`: each person's consent expiry under the rules.
//!
//! [`View::registration_mut`] hands out the row itself; its derived instants are recomputed by
//! the next `&mut self` call, and until then `decide` computes that one registration's
//! instants from the row (so a change is seen at once). [`View::set_rules`] recomputes
//! everything (linear in persons and registrations).
//!
//! Sizing: per person 56 B (row) + 64 B (hot) + 12 B; per registration an 80-byte row plus a
//! 12-byte index slot, so 7 M persons and 20 M registrations take roughly 3 GB.

use rustc_hash::FxHashMap;

use crate::decide::{consent_expiry, lapse_instant};
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
///
/// Besides the rows callers see ([`Person`], [`Registration`], …) the view keeps what the
/// rules derive from them, recomputed when a row or the rules change, so that `decide`
/// does no calendar arithmetic and touches one cache line for the common case: per person a
/// 64-byte hot row ([`PersonHot`]: insurer, the consent's open window and the first four
/// registrations' open windows), per registration its lapse instant and its per-office
/// consent's expiry. See the module documentation.
#[derive(Debug, Clone)]
pub struct View {
    pub(crate) rules: Rules,
    pub(crate) municipalities: Vec<Municipality>,
    pub(crate) offices: Vec<Office>,
    pub(crate) persons: Vec<Person>,
    /// The hot row of each person, indexed like `persons`.
    pub(crate) hot: Vec<PersonHot>,
    /// When each person's consent expires under the rules ([`consent_expiry`]).
    pub(crate) consent_expires: Vec<Timestamp>,
    /// Each person's most recently added registration (`regs` index), or [`NO_REG`]; the
    /// rest follow through [`RegRow::next`].
    pub(crate) reg_head: Vec<u32>,
    pub(crate) credentials: Vec<Credential>,
    pub(crate) n_agents: u32,
    /// Every registration, in the order first added.
    pub(crate) regs: Vec<RegRow>,
    /// `(person, office)` → index into `regs`.
    pub(crate) reg_index: FxHashMap<(PersonId, OfficeId), u32>,
    /// The registration handed out by [`View::registration_mut`] whose derived instants
    /// and hot window are not recomputed yet (the next `&mut self` call does it); `decide`
    /// computes its instants from the row itself.
    pub(crate) dirty: Option<(u32, PersonId)>,
    pub(crate) representations: FxHashMap<(AgentId, PersonId), Representation>,
}

/// "No registration" in [`View::reg_head`] and [`RegRow::next`].
pub(crate) const NO_REG: u32 = u32::MAX;

/// Registrations kept inline in a person's hot row; a person with more has
/// [`PersonHot::more`] set and the rest are found through the index.
pub(crate) const INLINE_REGS: usize = 4;

/// Seconds from the Unix epoch to the hot rows' time base, 2000-01-01T00:00:00+09:00.
/// Hot windows count seconds from it in a `u32`, so they reach 2136.
const HOT_BASE: i64 = 946_652_400;

/// A half-open interval `[from, until)` on the hot rows' second scale, stored so that it
/// never claims more than the exact interval: `contains` true implies the exact checks
/// pass; false means "ask the exact rows" (and is the answer for instants the scale cannot
/// hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Window {
    from: u32,
    until: u32,
}

impl Window {
    /// Contains nothing: every check goes to the exact rows.
    pub(crate) const EMPTY: Window = Window {
        from: u32::MAX,
        until: 0,
    };

    /// `[from, until)`, narrowed to what the scale can hold.
    pub(crate) fn new(from: Timestamp, until: Timestamp) -> Window {
        // Earlier than the base: the window starts at the base (later than the truth).
        // Beyond the scale: it never starts. An end beyond the scale is the scale's end
        // (earlier than the truth).
        let scale = |t: Timestamp| match t.unix_seconds().checked_sub(HOT_BASE) {
            None => 0,
            Some(d) => u32::try_from(d.max(0)).unwrap_or(u32::MAX),
        };
        Window {
            from: scale(from),
            until: scale(until),
        }
    }

    /// Whether `tick` (from [`Window::tick`]) lies inside.
    #[inline]
    pub(crate) fn contains(self, tick: u32) -> bool {
        (self.from <= tick) & (tick < self.until)
    }

    /// `now` on the hot scale; `u32::MAX` (inside no window) when the scale cannot hold it.
    #[inline]
    pub(crate) fn tick(now: Timestamp) -> u32 {
        match now.unix_seconds().checked_sub(HOT_BASE) {
            Some(d) if d >= 0 => u32::try_from(d).unwrap_or(u32::MAX),
            _ => u32::MAX,
        }
    }
}

/// One registration as the hot row holds it: the office and when it grants access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct HotReg {
    pub(crate) office: OfficeId,
    /// `[registered_at, min(ended_at, lapse instant))`.
    pub(crate) access: Window,
}

/// What a decision about a person needs first, in one 64-byte cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(64))]
pub(crate) struct PersonHot {
    pub(crate) insurer: MunicipalityId,
    /// Inline registrations in use.
    pub(crate) len: u8,
    /// The person has registrations beyond the inline ones.
    pub(crate) more: bool,
    _pad: [u8; 2],
    /// `[given_at, min(withdrawn_at, expiry))` of the person's own consent.
    pub(crate) consent: Window,
    pub(crate) regs: [HotReg; INLINE_REGS],
}

const _: () = assert!(std::mem::size_of::<PersonHot>() == 64);

impl PersonHot {
    fn new(insurer: MunicipalityId) -> PersonHot {
        PersonHot {
            insurer,
            len: 0,
            more: false,
            _pad: [0; 2],
            consent: Window::EMPTY,
            regs: [HotReg {
                office: OfficeId(u32::MAX),
                access: Window::EMPTY,
            }; INLINE_REGS],
        }
    }

    /// Looks `office` up among the inline registrations without branching on the row's
    /// contents (so the processor can go on to the next request while this row is still on
    /// its way from memory): whether it is inline, and whether it grants access at `tick`.
    #[inline]
    pub(crate) fn inline_access(&self, office: OfficeId, tick: u32) -> (bool, bool) {
        let (mut inline, mut open) = (false, false);
        for (k, reg) in self.regs.iter().enumerate() {
            let hit = (k < usize::from(self.len)) & (reg.office == office);
            inline |= hit;
            open |= hit & reg.access.contains(tick);
        }
        (inline, open)
    }

    fn inline_mut(&mut self, office: OfficeId) -> Option<&mut HotReg> {
        self.regs[..usize::from(self.len)]
            .iter_mut()
            .find(|r| r.office == office)
    }
}

/// A registration with what the rules derive from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RegRow {
    pub(crate) office: OfficeId,
    /// The person's next registration (`regs` index), or [`NO_REG`].
    pub(crate) next: u32,
    pub(crate) reg: Registration,
    /// [`lapse_instant`] under the rules.
    pub(crate) lapse_at: Timestamp,
    /// [`consent_expiry`] of the per-office consent under the rules.
    pub(crate) consent_expires: Timestamp,
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
            hot: Vec::new(),
            consent_expires: Vec::new(),
            reg_head: Vec::new(),
            credentials: Vec::new(),
            n_agents: 0,
            regs: Vec::new(),
            reg_index: FxHashMap::default(),
            dirty: None,
            representations: FxHashMap::default(),
        }
    }

    /// Reserves room for `persons` persons and `registrations` registrations.
    pub fn reserve(&mut self, persons: usize, registrations: usize) {
        self.persons.reserve(persons);
        self.hot.reserve(persons);
        self.consent_expires.reserve(persons);
        self.reg_head.reserve(persons);
        self.regs.reserve(registrations);
        self.reg_index.reserve(registrations);
    }

    /// The rules decisions are made under.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Replaces the rules (a what-if, or a policy change at a scenario step). Recomputes
    /// every consent expiry and lapse instant: linear in persons and registrations.
    pub fn set_rules(&mut self, rules: Rules) {
        self.flush();
        self.rules = rules;
        for p in 0..self.persons.len() {
            let person = PersonId(dense_id(p + 1));
            self.refresh_person(person);
            self.refresh_regs_of(person);
        }
    }

    /// Adds a municipality.
    pub fn add_municipality(
        &mut self,
        code: MunicipalityCode,
        live_from: Timestamp,
    ) -> MunicipalityId {
        self.flush();
        self.municipalities.push(Municipality { code, live_from });
        MunicipalityId(dense_id(self.municipalities.len()))
    }

    /// Sets when a municipality starts sharing.
    pub fn set_live_from(&mut self, id: MunicipalityId, at: Timestamp) -> Result<(), ViewError> {
        self.flush();
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
        self.flush();
        if !role.is_office() {
            return Err(ViewError::NotAnOfficeRole(role));
        }
        self.municipality(municipality)?;
        self.offices.push(Office { role, municipality });
        Ok(OfficeId(dense_id(self.offices.len())))
    }

    /// Adds a person insured with `insurer`, without consent or stay.
    pub fn add_person(&mut self, insurer: MunicipalityId) -> Result<PersonId, ViewError> {
        self.flush();
        self.municipality(insurer)?;
        self.persons.push(Person {
            insurer,
            consent: Consent::NONE,
            stay: None,
        });
        self.hot.push(PersonHot::new(insurer));
        self.consent_expires.push(Timestamp::MAX);
        self.reg_head.push(NO_REG);
        let id = PersonId(dense_id(self.persons.len()));
        self.refresh_person(id);
        Ok(id)
    }

    /// Adds an agent who may later represent persons.
    pub fn add_agent(&mut self) -> AgentId {
        self.flush();
        self.n_agents = self
            .n_agents
            .checked_add(1)
            .expect("fewer than 2^32 agents");
        AgentId(self.n_agents - 1)
    }

    /// Adds a credential.
    pub fn add_credential(&mut self, credential: Credential) -> Result<CredentialId, ViewError> {
        self.flush();
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
        self.flush();
        let row = self
            .credentials
            .get_mut(id.0 as usize)
            .ok_or(ViewError::UnknownId("credential", id.0))?;
        row.revoked_at = row.revoked_at.min(at);
        Ok(())
    }

    /// Sets the person's comprehensive consent record.
    pub fn set_consent(&mut self, person: PersonId, consent: Consent) -> Result<(), ViewError> {
        self.flush();
        self.person_mut(person)?.consent = consent;
        self.refresh_person(person);
        Ok(())
    }

    /// Sets the person's latest stay (which may defer the lapse of their registrations).
    pub fn set_stay(&mut self, person: PersonId, stay: Option<Stay>) -> Result<(), ViewError> {
        self.flush();
        if stay.is_some_and(|s| s.until < s.from) {
            return Err(ViewError::BackwardsInterval);
        }
        self.person_mut(person)?.stay = stay;
        self.refresh_regs_of(person);
        Ok(())
    }

    /// Registers `office` as responsible for `person`, replacing an earlier registration.
    pub fn register(
        &mut self,
        person: PersonId,
        office: OfficeId,
        registration: Registration,
    ) -> Result<(), ViewError> {
        self.flush();
        self.person(person)?;
        self.office(office)?;
        let p = person.0 as usize;
        let idx = match self.reg_index.get(&(person, office)) {
            Some(&idx) => {
                self.regs[idx as usize].reg = registration;
                idx
            }
            None => {
                let idx = u32::try_from(self.regs.len())
                    .ok()
                    .filter(|&i| i != NO_REG)
                    .expect("fewer than 2^32 - 1 registrations");
                self.regs.push(RegRow {
                    office,
                    next: self.reg_head[p],
                    reg: registration,
                    lapse_at: Timestamp::MAX,
                    consent_expires: Timestamp::MAX,
                });
                self.reg_head[p] = idx;
                self.reg_index.insert((person, office), idx);
                let hot = &mut self.hot[p];
                match hot.regs.get_mut(usize::from(hot.len)) {
                    Some(slot) => {
                        *slot = HotReg {
                            office,
                            access: Window::EMPTY,
                        };
                        hot.len += 1;
                    }
                    None => hot.more = true,
                }
                idx
            }
        };
        self.refresh_reg(idx, person);
        Ok(())
    }

    /// The registration of `office` for `person`, if any.
    pub fn registration_of(&self, person: PersonId, office: OfficeId) -> Option<&Registration> {
        self.reg_index
            .get(&(person, office))
            .map(|&idx| &self.regs[idx as usize].reg)
    }

    /// The registration of `office` for `person`, for updates (end, records, consent).
    /// What the rules derive from it is recomputed by the next `&mut self` call on the
    /// view; until then `decide` reads this registration's row directly.
    pub fn registration_mut(
        &mut self,
        person: PersonId,
        office: OfficeId,
    ) -> Result<&mut Registration, ViewError> {
        self.flush();
        let idx = *self
            .reg_index
            .get(&(person, office))
            .ok_or(ViewError::NoRegistration)?;
        if let Some(hot) = self.hot[person.0 as usize].inline_mut(office) {
            hot.access = Window::EMPTY;
        }
        self.dirty = Some((idx, person));
        Ok(&mut self.regs[idx as usize].reg)
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
        self.flush();
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
            registrations: self.regs.len(),
            credentials: self.credentials.len(),
        }
    }

    /// Recomputes what the rules derive from the registration handed out by
    /// [`View::registration_mut`], if any.
    fn flush(&mut self) {
        if let Some((idx, person)) = self.dirty.take() {
            self.refresh_reg(idx, person);
        }
    }

    /// Recomputes the person's consent expiry and hot consent window.
    fn refresh_person(&mut self, person: PersonId) {
        let p = person.0 as usize;
        let consent = self.persons[p].consent;
        let expires = consent_expiry(self.rules.policy.consent.expiry, &consent);
        self.consent_expires[p] = expires;
        self.hot[p].consent = Window::new(consent.given_at, consent.withdrawn_at.min(expires));
    }

    /// Recomputes every registration of the person (after a stay or rules change).
    fn refresh_regs_of(&mut self, person: PersonId) {
        let mut idx = self.reg_head[person.0 as usize];
        while idx != NO_REG {
            self.refresh_reg(idx, person);
            idx = self.regs[idx as usize].next;
        }
    }

    /// Recomputes registration `idx`'s lapse instant, per-office consent expiry and hot
    /// window.
    fn refresh_reg(&mut self, idx: u32, person: PersonId) {
        let policy = self.rules.policy;
        let row = &mut self.regs[idx as usize];
        let p = person.0 as usize;
        row.lapse_at = lapse_instant(policy.lapse, &row.reg, &self.persons[p]);
        row.consent_expires = consent_expiry(policy.consent.expiry, &row.reg.consent);
        let access = Window::new(row.reg.registered_at, row.reg.ended_at.min(row.lapse_at));
        if let Some(hot) = self.hot[p].inline_mut(row.office) {
            hot.access = access;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_windows_never_claim_more_than_the_exact_interval() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            HOT_BASE - 1,
            HOT_BASE,
            HOT_BASE + 1,
            HOT_BASE + 1_000_000_000,
            HOT_BASE + i64::from(u32::MAX) - 1,
            HOT_BASE + i64::from(u32::MAX),
            HOT_BASE + i64::from(u32::MAX) + 1,
            i64::MAX - 1,
            i64::MAX,
        ];
        let t = Timestamp::from_unix_seconds;
        let mut inside = 0;
        for &from in &edges {
            for &until in &edges {
                let window = Window::new(t(from), t(until));
                for &now in &edges {
                    if window.contains(Window::tick(t(now))) {
                        inside += 1;
                        assert!(from <= now && now < until, "{from} {until} {now}");
                    }
                }
            }
        }
        assert!(inside > 0, "the scale answers something");
        assert!(!Window::EMPTY.contains(0));
        // Instants the scale holds are exact at both ends.
        let w = Window::new(t(HOT_BASE + 10), t(HOT_BASE + 20));
        assert!(w.contains(Window::tick(t(HOT_BASE + 10))));
        assert!(w.contains(Window::tick(t(HOT_BASE + 19))));
        assert!(!w.contains(Window::tick(t(HOT_BASE + 9))));
        assert!(!w.contains(Window::tick(t(HOT_BASE + 20))));
    }
}
