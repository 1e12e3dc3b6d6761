//! The in-memory store: the same contract as SQLite without durability, for tests and
//! throwaway runs. Rows live in ordered maps so iteration order is deterministic.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Mutex;

use kiban_core::vocab::InfoClass;

use super::{
    AuditEvent, Change, Commit, ConsentReceiptRow, ExchangeFileInfo, ExchangeFileRow,
    IdempotencyRow, RecordRow, Snapshot, Store, StoreError,
};

/// Rows in memory, behind one lock (a commit is atomic because it holds it).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Commits applied since the store was made.
    commits: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    municipalities: BTreeMap<String, super::MunicipalityRow>,
    offices: BTreeMap<String, super::OfficeRow>,
    staff: BTreeMap<(String, String), super::StaffRow>,
    persons: BTreeMap<u32, super::PersonRow>,
    consents: BTreeMap<u32, kiban_core::view::Consent>,
    registrations:
        BTreeMap<(u32, String), (kiban_certs::Organisation, kiban_core::view::Registration)>,
    representations: BTreeMap<(String, u32), kiban_core::view::Representation>,
    receipts: Vec<ConsentReceiptRow>,
    records: Vec<RecordRow>,
    idempotency: BTreeMap<(String, String), IdempotencyRow>,
    inbox: BTreeMap<u64, super::InboxRow>,
    exchange: BTreeMap<u64, ExchangeFileRow>,
    exchange_names: BTreeMap<(String, String), u64>,
    audit: Vec<AuditEvent>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Applying a commit only inserts into maps and cannot stop halfway on bad input, so
        // a lock poisoned by a panicking reader still guards consistent rows.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        let s = self.lock();
        Ok(Snapshot {
            municipalities: s.municipalities.values().cloned().collect(),
            offices: s.offices.values().cloned().collect(),
            staff: s.staff.values().cloned().collect(),
            persons: s.persons.values().cloned().collect(),
            consents: s.consents.iter().map(|(p, c)| (*p, *c)).collect(),
            registrations: s
                .registrations
                .iter()
                .map(|((p, _), (o, r))| (*p, *o, *r))
                .collect(),
            representations: s
                .representations
                .iter()
                .map(|((a, p), r)| (a.clone(), *p, *r))
                .collect(),
            last_inbox_id: s.inbox.keys().next_back().copied().unwrap_or(0),
            last_exchange_id: s.exchange.keys().next_back().copied().unwrap_or(0),
        })
    }

    fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let mut s = self.lock();
        for change in commit.changes {
            match change {
                Change::Municipality(row) => {
                    s.municipalities.insert(row.code.to_string(), row);
                }
                Change::Office(row) => {
                    s.offices.insert(row.org.to_string(), row);
                }
                Change::Staff(row) => {
                    s.staff
                        .insert((row.office.to_string(), row.staff_id.clone()), row);
                }
                Change::Person(row) => {
                    s.persons.insert(row.id, row);
                }
                Change::Consent { person, consent } => {
                    s.consents.insert(person, consent);
                }
                Change::ConsentReceipt(row) => s.receipts.push(row),
                Change::Registration {
                    person,
                    office,
                    registration,
                } => {
                    s.registrations
                        .insert((person, office.to_string()), (office, registration));
                }
                Change::Representation {
                    agent,
                    person,
                    representation,
                } => {
                    s.representations.insert((agent, person), representation);
                }
                Change::Record(row) => s.records.push(row),
                Change::Inbox(row) => {
                    s.inbox.insert(row.id, row);
                }
                Change::InboxAck { id, at } => {
                    if let Some(row) = s.inbox.get_mut(&id) {
                        row.acked_at.get_or_insert(at);
                    }
                }
                Change::ExchangeFile(row) => {
                    // Like SQLite's UNIQUE (sender, name): the first file under a name stays.
                    let key = (row.info.sender.clone(), row.info.name.clone());
                    if let Entry::Vacant(slot) = s.exchange_names.entry(key) {
                        slot.insert(row.info.id);
                        s.exchange.insert(row.info.id, row);
                    }
                }
                Change::ExchangeAck { id, at } => {
                    if let Some(row) = s.exchange.get_mut(&id) {
                        row.info.acked_at.get_or_insert(at);
                    }
                }
            }
        }
        s.audit.extend(commit.audit);
        if let Some(row) = commit.idempotency {
            s.idempotency
                .insert((row.scope.clone(), row.key.clone()), row);
        }
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn records(&self, person: u32, class: InfoClass) -> Result<Vec<RecordRow>, StoreError> {
        Ok(self
            .lock()
            .records
            .iter()
            .filter(|r| r.person == person && r.class == class)
            .cloned()
            .collect())
    }

    fn consent_receipts(&self, person: u32) -> Result<Vec<ConsentReceiptRow>, StoreError> {
        Ok(self
            .lock()
            .receipts
            .iter()
            .filter(|r| r.person == person)
            .cloned()
            .collect())
    }

    fn idempotency(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRow>, StoreError> {
        Ok(self
            .lock()
            .idempotency
            .get(&(scope.to_owned(), key.to_owned()))
            .cloned())
    }

    fn inbox(
        &self,
        municipality: kiban_core::id::MunicipalityCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<super::InboxRow>, StoreError> {
        let s = self.lock();
        let rows = s.inbox.range(after.saturating_add(1)..).map(|(_, r)| r);
        Ok(rows
            .filter(|r| r.municipality == municipality && r.acked_at.is_none())
            .take(limit)
            .cloned()
            .collect())
    }

    fn inbox_message(&self, id: u64) -> Result<Option<super::InboxRow>, StoreError> {
        Ok(self.lock().inbox.get(&id).cloned())
    }

    fn audit_for_person(&self, person: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let about = |e: &&AuditEvent| {
            e.entry.get("person").and_then(|p| p.as_u64()) == Some(u64::from(person))
        };
        Ok(self.lock().audit.iter().filter(about).cloned().collect())
    }

    fn exchange_pending(
        &self,
        receiver: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ExchangeFileInfo>, StoreError> {
        let s = self.lock();
        let rows = s.exchange.range(after.saturating_add(1)..).map(|(_, r)| r);
        Ok(rows
            .filter(|r| r.info.receiver == receiver && r.info.acked_at.is_none())
            .take(limit)
            .map(|r| r.info.clone())
            .collect())
    }

    fn exchange_info(&self, id: u64) -> Result<Option<ExchangeFileInfo>, StoreError> {
        Ok(self.lock().exchange.get(&id).map(|r| r.info.clone()))
    }

    fn exchange_by_name(
        &self,
        sender: &str,
        name: &str,
    ) -> Result<Option<ExchangeFileInfo>, StoreError> {
        let s = self.lock();
        let id = s.exchange_names.get(&(sender.to_owned(), name.to_owned()));
        Ok(id.and_then(|id| s.exchange.get(id)).map(|r| r.info.clone()))
    }

    fn exchange_file(&self, id: u64) -> Result<Option<ExchangeFileRow>, StoreError> {
        Ok(self.lock().exchange.get(&id).cloned())
    }
}
