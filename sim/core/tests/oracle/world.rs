//! The naive world: plain vectors of plain rows, with no indexes and no hash maps, and the
//! builder that turns it into a [`View`] through the public `View` methods only.
//!
//! Ids are dense positions: row `i` of a vector is the id `i` the view hands out (the builder
//! asserts it). Later registrations and representations of the same pair replace earlier
//! ones, as `View::register` and `View::represent` document, so the oracle takes the last
//! matching row.

use std::fmt::Write as _;

use kiban_core::decide::{Principal, Request};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::{Access, AccessMatrix, Policy, Rules};
use kiban_core::time::Timestamp;
use kiban_core::view::{
    AgentId, Consent, Credential, CredentialId, Holder, MunicipalityId, OfficeId, PersonId,
    Registration, Representation, Stay, StayKind, View,
};
use kiban_core::vocab::{InfoClass, Role};

/// A municipality: only its go-live matters to the rules.
#[derive(Debug, Clone)]
pub(crate) struct NMunicipality {
    /// [`Timestamp::MAX`]: not scheduled.
    pub(crate) live_from: Timestamp,
}

/// An office: its role and the index of the municipality where it is located.
#[derive(Debug, Clone)]
pub(crate) struct NOffice {
    pub(crate) role: Role,
    pub(crate) municipality: usize,
}

/// A consent record; [`Timestamp::MAX`] means never / not / unknown, as in the view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NConsent {
    pub(crate) given_at: Timestamp,
    /// Never before `given_at` (the view's precondition).
    pub(crate) withdrawn_at: Timestamp,
    pub(crate) certification_end: Timestamp,
}

impl NConsent {
    pub(crate) const NONE: NConsent = NConsent {
        given_at: Timestamp::MAX,
        withdrawn_at: Timestamp::MAX,
        certification_end: Timestamp::MAX,
    };
}

/// A stay; `until` is [`Timestamp::MAX`] while open and never before `from`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NStay {
    pub(crate) kind: StayKind,
    pub(crate) from: Timestamp,
    pub(crate) until: Timestamp,
}

/// A person.
#[derive(Debug, Clone)]
pub(crate) struct NPerson {
    pub(crate) insurer: usize,
    pub(crate) consent: NConsent,
    pub(crate) stay: Option<NStay>,
}

/// A registration of `office` for `person`.
#[derive(Debug, Clone)]
pub(crate) struct NRegistration {
    pub(crate) person: usize,
    pub(crate) office: usize,
    pub(crate) registered_at: Timestamp,
    /// [`Timestamp::MAX`]: not ended.
    pub(crate) ended_at: Timestamp,
    /// [`Timestamp::MIN`]: none.
    pub(crate) last_service_at: Timestamp,
    /// [`Timestamp::MIN`]: none.
    pub(crate) last_claim_at: Timestamp,
    pub(crate) consent: NConsent,
}

/// A period in which `agent` may act for `person`; `until` is exclusive, MAX when open.
#[derive(Debug, Clone)]
pub(crate) struct NRepresentation {
    pub(crate) agent: usize,
    pub(crate) person: usize,
    pub(crate) from: Timestamp,
    pub(crate) until: Timestamp,
}

/// Who holds a credential (indices into the world's vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NHolder {
    Office(usize),
    Municipality(usize),
    Operator,
}

/// A client certificate.
#[derive(Debug, Clone)]
pub(crate) struct NCredential {
    pub(crate) holder: NHolder,
    pub(crate) not_before: Timestamp,
    /// Exclusive.
    pub(crate) not_after: Timestamp,
    /// [`Timestamp::MAX`]: not revoked.
    pub(crate) revoked_at: Timestamp,
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NCell {
    pub(crate) role: Role,
    pub(crate) class: InfoClass,
    pub(crate) access: Access,
}

/// The rules: every cell of the matrix for the seven roles that have a column (the
/// representative uses the person's), and the policy.
#[derive(Debug, Clone)]
pub(crate) struct NRules {
    /// Whether the cells are the published table (then the builder uses
    /// `AccessMatrix::published()` as is, so the embedded table is checked too).
    pub(crate) published: bool,
    pub(crate) cells: Vec<NCell>,
    pub(crate) policy: Policy,
}

/// The world.
#[derive(Debug, Clone)]
pub(crate) struct NaiveWorld {
    pub(crate) municipalities: Vec<NMunicipality>,
    pub(crate) offices: Vec<NOffice>,
    pub(crate) persons: Vec<NPerson>,
    pub(crate) agents: usize,
    pub(crate) credentials: Vec<NCredential>,
    pub(crate) registrations: Vec<NRegistration>,
    pub(crate) representations: Vec<NRepresentation>,
    pub(crate) rules: NRules,
}

/// A principal by raw index; indices past the end of their vector are unknown ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NPrincipal {
    Office { office: u32, credential: u32 },
    Municipality { municipality: u32, credential: u32 },
    Operator { credential: u32 },
    Person { person: u32 },
    Representative { agent: u32 },
}

/// A request by raw index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NaiveRequest {
    pub(crate) principal: NPrincipal,
    pub(crate) subject: u32,
    pub(crate) class: InfoClass,
}

/// The roles that have their own matrix column.
pub(crate) const COLUMN_ROLES: [Role; 7] = [
    Role::Municipality,
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
    Role::Person,
    Role::Operator,
];

/// The office roles.
pub(crate) const OFFICE_ROLES: [Role; 4] = [
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
];

/// The published table, read straight from `sim/core/rules/access-matrix.toml` with the
/// `toml` crate (not through `AccessMatrix`).
pub(crate) fn published_cells() -> Vec<NCell> {
    let text = include_str!("../../rules/access-matrix.toml");
    let table: toml::Table = toml::from_str(text).expect("access-matrix.toml parses");
    let mut cells = Vec::new();
    for (class_name, row) in &table {
        let class: InfoClass = class_name.parse().expect("known class");
        let row = row.as_table().expect("a table per class");
        for (role_name, level) in row {
            let role: Role = role_name.parse().expect("known role");
            let access = match level.as_str().expect("a level string") {
                "none" => Access::None,
                "read" => Access::Read,
                "read-with-consent" => Access::ReadWithConsent,
                "creator" => Access::Creator,
                other => panic!("unknown level {other}"),
            };
            cells.push(NCell {
                role,
                class,
                access,
            });
        }
    }
    assert_eq!(
        cells.len(),
        COLUMN_ROLES.len() * InfoClass::ALL.len(),
        "complete table"
    );
    cells
}

/// What the naive table says `role` may do with `class`: a linear scan. Representatives
/// use the person's column (the matrix file's header says so).
pub(crate) fn cell(rules: &NRules, role: Role, class: InfoClass) -> Access {
    let role = if role == Role::Representative {
        Role::Person
    } else {
        role
    };
    rules
        .cells
        .iter()
        .find(|c| c.role == role && c.class == class)
        .map(|c| c.access)
        .expect("every column role has every class")
}

/// The world as a [`View`], with the ids the view handed out.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) view: View,
    municipalities: Vec<MunicipalityId>,
    offices: Vec<OfficeId>,
    persons: Vec<PersonId>,
    agents: Vec<AgentId>,
    credentials: Vec<CredentialId>,
}

impl Built {
    /// The view's request for a naive request. In-range indices go through the id mapping;
    /// out-of-range ones have no row, so they are passed as the raw (unknown) id.
    pub(crate) fn request(&self, req: &NaiveRequest) -> Request {
        fn map<T: Copy>(ids: &[T], raw: u32, make: fn(u32) -> T) -> T {
            ids.get(raw as usize).copied().unwrap_or(make(raw))
        }
        let principal = match req.principal {
            NPrincipal::Office { office, credential } => Principal::Office {
                office: map(&self.offices, office, OfficeId),
                credential: map(&self.credentials, credential, CredentialId),
            },
            NPrincipal::Municipality {
                municipality,
                credential,
            } => Principal::Municipality {
                municipality: map(&self.municipalities, municipality, MunicipalityId),
                credential: map(&self.credentials, credential, CredentialId),
            },
            NPrincipal::Operator { credential } => Principal::Operator {
                credential: map(&self.credentials, credential, CredentialId),
            },
            NPrincipal::Person { person } => Principal::Person {
                person: map(&self.persons, person, PersonId),
            },
            NPrincipal::Representative { agent } => Principal::Representative {
                agent: map(&self.agents, agent, AgentId),
            },
        };
        Request {
            principal,
            subject: map(&self.persons, req.subject, PersonId),
            class: req.class,
        }
    }
}

fn view_consent(c: NConsent) -> Consent {
    let consent = if c.given_at == Timestamp::MAX {
        Consent::NONE
    } else {
        Consent::given(c.given_at)
    };
    let consent = consent.with_certification_end(c.certification_end);
    if c.withdrawn_at == Timestamp::MAX {
        consent
    } else {
        consent.withdrawn(c.withdrawn_at)
    }
}

fn view_rules(rules: &NRules) -> Rules {
    let mut matrix = AccessMatrix::published();
    if !rules.published {
        for c in &rules.cells {
            matrix.set(c.role, c.class, c.access);
        }
    }
    Rules {
        matrix,
        policy: rules.policy,
    }
}

/// Builds the view through its public methods. Panics if the world breaks a documented
/// precondition (that is a generator bug) or if the ids are not dense.
pub(crate) fn build(w: &NaiveWorld) -> Built {
    let mut view = View::new(view_rules(&w.rules));
    let mut municipalities = Vec::new();
    for (i, m) in w.municipalities.iter().enumerate() {
        let code =
            MunicipalityCode::parse_lenient(&format!("{:05}", 13101 + i)).expect("valid code");
        // Added unscheduled, then scheduled: exercises both methods.
        let id = view.add_municipality(code, Timestamp::MAX);
        view.set_live_from(id, m.live_from)
            .expect("known municipality");
        assert_eq!(id, MunicipalityId(i as u32), "dense municipality ids");
        municipalities.push(id);
    }
    let mut offices = Vec::new();
    for (i, o) in w.offices.iter().enumerate() {
        let id = view
            .add_office(o.role, municipalities[o.municipality])
            .expect("office");
        assert_eq!(id, OfficeId(i as u32), "dense office ids");
        offices.push(id);
    }
    let mut persons = Vec::new();
    for (i, p) in w.persons.iter().enumerate() {
        let id = view.add_person(municipalities[p.insurer]).expect("person");
        assert_eq!(id, PersonId(i as u32), "dense person ids");
        view.set_consent(id, view_consent(p.consent))
            .expect("consent");
        let stay = p.stay.map(|s| Stay {
            kind: s.kind,
            from: s.from,
            until: s.until,
        });
        view.set_stay(id, stay).expect("stay is not backwards");
        persons.push(id);
    }
    let mut agents = Vec::new();
    for i in 0..w.agents {
        let id = view.add_agent();
        assert_eq!(id, AgentId(i as u32), "dense agent ids");
        agents.push(id);
    }
    let mut credentials = Vec::new();
    for (i, c) in w.credentials.iter().enumerate() {
        let holder = match c.holder {
            NHolder::Office(o) => Holder::Office(offices[o]),
            NHolder::Municipality(m) => Holder::Municipality(municipalities[m]),
            NHolder::Operator => Holder::Operator,
        };
        let id = view
            .add_credential(Credential {
                holder,
                not_before: c.not_before,
                not_after: c.not_after,
                revoked_at: Timestamp::MAX,
            })
            .expect("credential");
        if c.revoked_at != Timestamp::MAX {
            view.revoke_credential(id, c.revoked_at)
                .expect("known credential");
        }
        assert_eq!(id, CredentialId(i as u32), "dense credential ids");
        credentials.push(id);
    }
    for r in &w.registrations {
        let (p, o) = (persons[r.person], offices[r.office]);
        view.register(p, o, Registration::at(r.registered_at))
            .expect("register");
        let row = view.registration_mut(p, o).expect("just registered");
        row.ended_at = r.ended_at;
        row.last_service_at = r.last_service_at;
        row.last_claim_at = r.last_claim_at;
        row.consent = view_consent(r.consent);
    }
    for r in &w.representations {
        let representation = Representation {
            from: r.from,
            until: r.until,
        };
        view.represent(agents[r.agent], persons[r.person], representation)
            .expect("representation is not backwards");
    }
    Built {
        view,
        municipalities,
        offices,
        persons,
        agents,
        credentials,
    }
}

/// The rows a decision about `req` can depend on, for failure messages.
pub(crate) fn relevant_rows(w: &NaiveWorld, req: &NaiveRequest) -> String {
    let mut out = String::new();
    let credential = |out: &mut String, c: u32| {
        let _ = writeln!(
            out,
            "  credential[{c}] = {:?}",
            w.credentials.get(c as usize)
        );
    };
    let mut office_row = None;
    match req.principal {
        NPrincipal::Office {
            office,
            credential: c,
        } => {
            office_row = w.offices.get(office as usize);
            let _ = writeln!(out, "  office[{office}] = {office_row:?}");
            if let Some(o) = office_row {
                let _ = writeln!(
                    out,
                    "  office municipality[{}] = {:?}",
                    o.municipality, w.municipalities[o.municipality]
                );
            }
            credential(&mut out, c);
            for (i, r) in w.registrations.iter().enumerate() {
                if r.office == office as usize && r.person == req.subject as usize {
                    let _ = writeln!(out, "  registration #{i} (the last one counts) = {r:?}");
                }
            }
        }
        NPrincipal::Municipality {
            municipality,
            credential: c,
        } => {
            let _ = writeln!(
                out,
                "  municipality[{municipality}] = {:?}",
                w.municipalities.get(municipality as usize)
            );
            credential(&mut out, c);
        }
        NPrincipal::Operator { credential: c } => credential(&mut out, c),
        NPrincipal::Person { person } => {
            let _ = writeln!(
                out,
                "  person[{person}] = {:?}",
                w.persons.get(person as usize)
            );
        }
        NPrincipal::Representative { agent } => {
            let _ = writeln!(out, "  agents = {}", w.agents);
            for (i, r) in w.representations.iter().enumerate() {
                if r.agent == agent as usize && r.person == req.subject as usize {
                    let _ = writeln!(out, "  representation #{i} (the last one counts) = {r:?}");
                }
            }
        }
    }
    let subject = w.persons.get(req.subject as usize);
    let _ = writeln!(out, "  subject person[{}] = {subject:?}", req.subject);
    if let Some(p) = subject {
        let _ = writeln!(
            out,
            "  subject insurer municipality[{}] = {:?}",
            p.insurer, w.municipalities[p.insurer]
        );
    }
    let role = match req.principal {
        NPrincipal::Office { .. } => office_row.map(|o| o.role),
        NPrincipal::Municipality { .. } => Some(Role::Municipality),
        NPrincipal::Operator { .. } => Some(Role::Operator),
        NPrincipal::Person { .. } => Some(Role::Person),
        NPrincipal::Representative { .. } => Some(Role::Representative),
    };
    if let Some(role) = role {
        let _ = writeln!(
            out,
            "  matrix[{role}][{}] = {:?}",
            req.class,
            cell(&w.rules, role, req.class)
        );
    }
    let _ = writeln!(
        out,
        "  policy = {:?} (published matrix: {})",
        w.rules.policy, w.rules.published
    );
    out
}
