//! The platform's in-memory state: the core decision view plus the maps from the numbers
//! clients send (municipality codes, office numbers, insurer + insured numbers, certificate
//! serials) to the view's dense ids. Rebuilt from the store at start; changed only after a
//! commit succeeded, so it never runs ahead of what is durable.

use std::collections::HashMap;

use kiban_certs::{Organisation, Serial};
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::rules::Rules;
use kiban_core::time::Timestamp;
use kiban_core::view::{
    AgentId, Credential, CredentialId, Holder, MunicipalityId, OfficeId, PersonId, View, ViewError,
};
use kiban_core::vocab::Role;

use crate::store::{Change, Snapshot, StaffRow};

/// The decision view and its lookup maps.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) view: View,
    pub(crate) municipalities: HashMap<MunicipalityCode, MunicipalityId>,
    pub(crate) insurers: HashMap<InsurerNumber, MunicipalityId>,
    pub(crate) offices: HashMap<Organisation, (OfficeId, Role, MunicipalityCode)>,
    pub(crate) persons: HashMap<(InsurerNumber, InsuredNumber), PersonId>,
    pub(crate) card_links: HashMap<String, PersonId>,
    pub(crate) credentials: HashMap<Serial, CredentialId>,
    pub(crate) agents: HashMap<String, AgentId>,
    pub(crate) staff: HashMap<(Organisation, String), StaffRow>,
    pub(crate) last_inbox_id: u64,
    pub(crate) last_exchange_id: u64,
}

impl World {
    /// An empty world under `rules`.
    pub(crate) fn new(rules: Rules) -> World {
        World {
            view: View::new(rules),
            municipalities: HashMap::new(),
            insurers: HashMap::new(),
            offices: HashMap::new(),
            persons: HashMap::new(),
            card_links: HashMap::new(),
            credentials: HashMap::new(),
            agents: HashMap::new(),
            staff: HashMap::new(),
            last_inbox_id: 0,
            last_exchange_id: 0,
        }
    }

    /// Rebuilds the world from a stored snapshot.
    pub(crate) fn from_snapshot(rules: Rules, snapshot: Snapshot) -> Result<World, ViewError> {
        let mut world = World::new(rules);
        world.last_inbox_id = snapshot.last_inbox_id;
        world.last_exchange_id = snapshot.last_exchange_id;
        let mut changes = Vec::new();
        changes.extend(
            snapshot
                .municipalities
                .into_iter()
                .map(Change::Municipality),
        );
        changes.extend(snapshot.offices.into_iter().map(Change::Office));
        changes.extend(snapshot.staff.into_iter().map(Change::Staff));
        changes.extend(snapshot.persons.into_iter().map(Change::Person));
        changes.extend(
            snapshot
                .consents
                .into_iter()
                .map(|(person, consent)| Change::Consent { person, consent }),
        );
        changes.extend(
            snapshot
                .registrations
                .into_iter()
                .map(|(person, office, registration)| Change::Registration {
                    person,
                    office,
                    registration,
                }),
        );
        changes.extend(snapshot.representations.into_iter().map(
            |(agent, person, representation)| Change::Representation {
                agent,
                person,
                representation,
            },
        ));
        for change in &changes {
            world.apply(change)?;
        }
        Ok(world)
    }

    /// Applies a committed change to the view and maps.
    pub(crate) fn apply(&mut self, change: &Change) -> Result<(), ViewError> {
        match change {
            Change::Municipality(row) => {
                let live_from = row.live_from.unwrap_or(Timestamp::MAX);
                match self.municipalities.get(&row.code) {
                    Some(&id) => self.view.set_live_from(id, live_from)?,
                    None => {
                        let id = self.view.add_municipality(row.code, live_from);
                        self.municipalities.insert(row.code, id);
                        self.insurers
                            .insert(InsurerNumber::for_municipality(row.code), id);
                    }
                }
            }
            Change::Office(row) => {
                if !self.offices.contains_key(&row.org) {
                    let muni = self.municipality(row.municipality)?;
                    let id = self.view.add_office(row.role, muni)?;
                    self.offices
                        .insert(row.org, (id, row.role, row.municipality));
                }
            }
            Change::Staff(row) => {
                self.staff
                    .insert((row.office, row.staff_id.clone()), row.clone());
            }
            Change::Person(row) => {
                let key = (row.insurer, row.insured);
                if !self.persons.contains_key(&key) {
                    let insurer = *self
                        .insurers
                        .get(&row.insurer)
                        .ok_or(ViewError::UnknownId("insurer", row.id))?;
                    let id = self.view.add_person(insurer)?;
                    debug_assert_eq!(id.0, row.id, "person ids are dense and assigned in order");
                    self.persons.insert(key, id);
                }
                if let Some(link) = &row.card_link {
                    self.card_links.insert(link.clone(), PersonId(row.id));
                }
            }
            Change::Consent { person, consent } => {
                self.view.set_consent(PersonId(*person), *consent)?
            }
            Change::Inbox(row) => self.last_inbox_id = self.last_inbox_id.max(row.id),
            Change::ExchangeFile(row) => {
                self.last_exchange_id = self.last_exchange_id.max(row.info.id);
            }
            Change::ConsentReceipt(_)
            | Change::Record(_)
            | Change::InboxAck { .. }
            | Change::ExchangeAck { .. } => {}
            Change::Registration {
                person,
                office,
                registration,
            } => {
                let (office, _, _) = *self
                    .offices
                    .get(office)
                    .ok_or(ViewError::UnknownId("office", 0))?;
                self.view
                    .register(PersonId(*person), office, *registration)?;
            }
            Change::Representation {
                agent,
                person,
                representation,
            } => {
                let agent = match self.agents.get(agent) {
                    Some(&id) => id,
                    None => {
                        let id = self.view.add_agent();
                        self.agents.insert(agent.clone(), id);
                        id
                    }
                };
                self.view
                    .represent(agent, PersonId(*person), *representation)?;
            }
        }
        Ok(())
    }

    fn municipality(&self, code: MunicipalityCode) -> Result<MunicipalityId, ViewError> {
        self.municipalities
            .get(&code)
            .copied()
            .ok_or(ViewError::UnknownId("municipality", 0))
    }

    /// The view's credential for a presented certificate, added on first sight. X.509
    /// validity is inclusive of `not_after`; the view's is exclusive, hence the second.
    pub(crate) fn credential(
        &mut self,
        holder: Holder,
        serial: &Serial,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Result<CredentialId, ViewError> {
        if let Some(&id) = self.credentials.get(serial) {
            return Ok(id);
        }
        let credential = Credential {
            holder,
            not_before,
            not_after: not_after.plus_seconds(1),
            revoked_at: Timestamp::MAX,
        };
        let id = self.view.add_credential(credential)?;
        self.credentials.insert(serial.clone(), id);
        Ok(id)
    }
}
