//! The national model: certified persons, their care relationships with offices, and the
//! events of their lives, simulated per prefecture over the core's [`View`].
//!
//! **One rule, one place.** Whether an office can read a person's information is always
//! `kiban_core::decide::decide` over the partition's view; the model never re-implements a
//! rule. It only keeps the view up to date (go-live dates, registrations, consent, service
//! records, stays) and remembers each relationship's latest decision, so the monthly
//! counters are exact without re-deciding every relationship every day:
//!
//! * A decision over a fixed view changes only when `now` crosses an instant stored in the
//!   view (go-live, credential validity, registration start/end, consent given/withdrawn) or
//!   derived from it by the core (`lapse_instant`, `consent_expiry`). After each decision the
//!   model schedules a re-check at the earliest such instant still ahead.
//! * Every change the model makes to the view re-decides the relationships it touches.
//! * A service record can revive a lapsed registration, so a lapsed relationship whose
//!   service continues is also re-checked at its next record.
//!
//! `tests` compares these counters with a brute-force pass that re-decides every
//! relationship at every month's end.
//!
//! **Partitions.** Offices serve persons in their own or a neighbouring municipality of the
//! same prefecture, so prefectures never interact: each is a partition with its own view,
//! event queue and random streams (seeded from the scenario seed and the prefecture), run on
//! any thread in any order with identical results.
//!
//! **Time.** Events happen at JST midnight of their day (see [`crate::calendar`]). A month's
//! stocks are read after the events of its last day.

mod person;

use kiban_core::decide::{
    Decision, DenyReason, Principal, Request, consent_expiry, decide, lapse_instant,
};
use kiban_core::geo::Municipality;
use kiban_core::rules::{ConsentModel, LapsePolicy, Rules};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{
    Consent, Credential, CredentialId, Holder, MunicipalityId, OfficeId, PersonId, Registration,
    StayKind, View,
};
use kiban_core::vocab::InfoClass;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::{Calendar, Day, NEVER};
use crate::metrics::{Counter, Counters, N_COUNTERS, is_flow};
use crate::params::{ModelParams, NoCardRegistration};
use crate::queue::EventQueue;
use crate::scenario::OfficeKind;

const NONE: u32 = u32::MAX;
/// `Rel::status` before the first decision.
const UNDECIDED: u8 = u8::MAX;

/// What every partition of a run shares (read-only).
#[derive(Debug)]
pub(crate) struct RunCtx {
    pub cal: Calendar,
    pub params: ModelParams,
    pub rules: Rules,
    pub classes: [InfoClass; 3],
    pub scale: f64,
}

/// A municipality of a partition.
#[derive(Debug, Clone)]
pub(crate) struct LocalMuni {
    /// Index in the world.
    pub global: usize,
    /// 2020 population.
    pub population: u32,
    /// Go-live.
    pub live_from: Option<Date>,
    /// Drawn as a survey respondent.
    pub respondent: bool,
}

#[derive(Debug, Clone, Copy)]
struct OfficeRow {
    muni: u32,
    credential: CredentialId,
    ready: Day,
}

// Person flags.
const ALIVE: u16 = 1;
const CARD: u16 = 1 << 1;
const USER: u16 = 1 << 2;
const FACILITY: u16 = 1 << 3;
const CERTIFIED: u16 = 1 << 4;
const IN_STAY: u16 = 1 << 5;
const ELECTRONIC: u16 = 1 << 6;
const CONSENT_AT_APPLY: u16 = 1 << 7;
const REFUSED: u16 = 1 << 8;

#[derive(Debug, Clone, Copy)]
struct PersonState {
    rel_head: u32,
    /// Day (from the period start; may lie past the period) the certification ends.
    cert_end: u32,
    apply_day: Day,
    muni: u16,
    flags: u16,
}

// Relationship flags (the low two bits are the office kind).
const KIND_MASK: u16 = 0b11;
const CROSS: u16 = 1 << 2;
const FIRST: u16 = 1 << 3;
const CONTACT_PENDING: u16 = 1 << 4;
const MUNI_PENDING: u16 = 1 << 5;
const EVER_REGISTERED: u16 = 1 << 6;
const REL_REFUSED: u16 = 1 << 7;
const COUNTED: u16 = 1 << 8;
const COUNTED_ACTIVE: u16 = 1 << 9;

/// A care relationship: a person and an office whose service started on `from` and, once
/// ended, stopped on `until`.
#[derive(Debug, Clone, Copy)]
struct Rel {
    person: u32,
    office: u32,
    next: u32,
    from: Day,
    until: Day,
    next_check: Day,
    status: u8,
    counted_status: u8,
    flags: u16,
}

impl Rel {
    fn kind(&self) -> OfficeKind {
        match self.flags & KIND_MASK {
            0 => OfficeKind::CareManagement,
            1 => OfficeKind::Service,
            _ => OfficeKind::Facility,
        }
    }

    fn active(&self) -> bool {
        self.until == NEVER
    }
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Life(u32),
    StayEnd(u32),
    Apply(u32),
    Decide(u32),
    Check(u32),
    Contact(u32),
    MuniVerify(u32),
    Arrival,
}

/// Sizes of a partition, for the run's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub persons: u64,
    pub relationships: u64,
    pub registrations: u64,
    pub offices: u64,
    pub events: u64,
}

/// One prefecture (or the whole of a small world's prefecture) with its own view.
#[derive(Debug)]
pub(crate) struct Partition<'a> {
    ctx: &'a RunCtx,
    view: View,
    munis: Vec<LocalMuni>,
    offices: Vec<OfficeRow>,
    /// Offices of each kind per municipality: `office_index[m][k]..office_index[m][k + 1]`
    /// within `by_kind[k]`.
    by_kind: [Vec<u32>; 3],
    muni_ranges: Vec<[(u32, u32); 3]>,
    persons: Vec<PersonState>,
    rels: Vec<Rel>,
    queue: EventQueue<Ev>,
    world_rng: ChaCha8Rng,
    act_rng: ChaCha8Rng,
    counters: Vec<Counters>,
    arrival_per_day: f64,
    /// Time of the next arrival, in days from the period start.
    next_arrival: f64,
    arrival_cumulative: Vec<f64>,
    day: Day,
    events: u64,
}

fn seed_for(seed: u64, key: u64, stream: u64) -> u64 {
    // SplitMix64 finaliser over the three inputs: independent streams per partition.
    let mut z =
        seed ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `x` rounded up or down at random so that the expectation is `x`.
fn stochastic_round(rng: &mut impl Rng, x: f64) -> u32 {
    let floor = x.floor();
    let up = rng.random::<f64>() < x - floor;
    floor as u32 + u32::from(up)
}

/// An exponential draw with mean `mean`.
fn exp(rng: &mut impl Rng, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -mean * (1.0 - u).ln()
}

fn pick(rng: &mut impl Rng, shares: &[f64]) -> usize {
    let x: f64 = rng.random();
    let mut acc = 0.0;
    for (i, s) in shares.iter().enumerate() {
        acc += s;
        if x < acc {
            return i;
        }
    }
    shares.len() - 1
}

impl<'a> Partition<'a> {
    /// Builds a partition: municipalities, offices and the starting population.
    pub(crate) fn build(
        ctx: &'a RunCtx,
        seed: u64,
        key: u64,
        munis: Vec<LocalMuni>,
        geo_rows: &[&Municipality],
    ) -> Partition<'a> {
        let p = &ctx.params;
        let mut world_rng = ChaCha8Rng::seed_from_u64(seed_for(seed, key, 1));
        let act_rng = ChaCha8Rng::seed_from_u64(seed_for(seed, key, 2));
        let expected: Vec<f64> = munis
            .iter()
            .map(|m| f64::from(m.population) * p.certified_ratio * ctx.scale)
            .collect();
        let total_expected: f64 = expected.iter().sum();
        let mut view = View::new(ctx.rules.clone());
        // Room for the starting population, three years of arrivals and their relationships.
        let persons_hint =
            (total_expected * (1.0 + 3.0 * (p.annual_death_rate + p.annual_growth))) as usize + 16;
        view.reserve(persons_hint, persons_hint * 3 / 2);
        for m in &munis {
            let live = m.live_from.map_or(Timestamp::MAX, Date::midnight_jst);
            view.add_municipality(geo_rows[m.global].code, live);
        }
        let cal = &ctx.cal;
        let mut offices = Vec::new();
        let mut by_kind: [Vec<u32>; 3] = Default::default();
        let mut muni_ranges = Vec::with_capacity(munis.len());
        for (mi, m) in munis.iter().enumerate() {
            let full = f64::from(m.population) * p.certified_ratio;
            let mut ranges = [(0, 0); 3];
            for kind in OfficeKind::ALL {
                let per = match kind {
                    OfficeKind::CareManagement => p.persons_per_care_management_office,
                    OfficeKind::Service => p.persons_per_service_office,
                    OfficeKind::Facility => p.persons_per_facility,
                };
                let n = stochastic_round(&mut world_rng, full / per);
                let list = &mut by_kind[kind as usize];
                let start = list.len() as u32;
                for _ in 0..n {
                    let id = view
                        .add_office(kind.role(), MunicipalityId(mi as u32))
                        .unwrap_or_else(|e| unreachable!("office roles are office roles: {e}"));
                    let credential = view
                        .add_credential(Credential {
                            holder: Holder::Office(id),
                            not_before: Timestamp::MIN,
                            not_after: Timestamp::MAX,
                            revoked_at: Timestamp::MAX,
                        })
                        .unwrap_or_else(|e| unreachable!("the office was just added: {e}"));
                    let months = exp(&mut world_rng, p.office_readiness_mean_months);
                    let ready_at = cal
                        .start()
                        .midnight_jst()
                        .plus_days((months * 30.4375) as i64);
                    let ready = cal.day_at_or_after(ready_at).unwrap_or(NEVER);
                    list.push(id.0);
                    offices.push(OfficeRow {
                        muni: mi as u32,
                        credential,
                        ready,
                    });
                }
                ranges[kind as usize] = (start, list.len() as u32);
            }
            muni_ranges.push(ranges);
        }
        let mut cumulative = Vec::with_capacity(munis.len());
        let mut acc = 0.0;
        for e in &expected {
            acc += e;
            cumulative.push(acc);
        }
        let mut part = Partition {
            ctx,
            view,
            counters: vec![[0; N_COUNTERS]; munis.len()],
            munis,
            offices,
            by_kind,
            muni_ranges,
            persons: Vec::with_capacity(persons_hint),
            rels: Vec::with_capacity(persons_hint * 2),
            queue: EventQueue::new(cal.days()),
            world_rng,
            act_rng,
            arrival_per_day: 0.0,
            next_arrival: 0.0,
            arrival_cumulative: cumulative,
            day: 0,
            events: 0,
        };
        let mut n_initial = 0u64;
        for (mi, &e) in expected.iter().enumerate() {
            let n = stochastic_round(&mut part.world_rng, e);
            for _ in 0..n {
                part.initial_person(mi);
            }
            n_initial += u64::from(n);
        }
        part.arrival_per_day =
            n_initial as f64 * (p.annual_death_rate + p.annual_growth).max(0.0) / 365.25;
        part.schedule_arrival();
        part
    }

    /// Runs every event up to and including `last_day`.
    pub(crate) fn advance(&mut self, last_day: Day) {
        let mut day = self.day;
        loop {
            while let Some(ev) = self.queue.pop(day) {
                self.day = day;
                self.events += 1;
                self.handle(ev);
            }
            if day >= last_day {
                break;
            }
            day += 1;
            self.day = day;
        }
    }

    /// The counters of the month ending on `last_day` (call after `advance(last_day)`), per
    /// municipality with its world index; flows are reset.
    pub(crate) fn snapshot(&mut self, last_day: Day) -> Vec<(usize, Counters)> {
        let at = self.ctx.cal.instant(last_day);
        let mut out = Vec::with_capacity(self.munis.len());
        for (mi, m) in self.munis.iter().enumerate() {
            let mut c = self.counters[mi];
            let live = self
                .view
                .municipality(MunicipalityId(mi as u32))
                .is_ok_and(|row| row.live_from <= at);
            c[Counter::Municipalities as usize] = 1;
            c[Counter::Live as usize] = i64::from(live);
            c[Counter::Respondents as usize] = i64::from(m.respondent);
            c[Counter::RespondentsLive as usize] = i64::from(m.respondent && live);
            c[Counter::PersonsInsurerLive as usize] = if live {
                c[Counter::Certified as usize]
            } else {
                0
            };
            out.push((m.global, c));
            for (k, v) in self.counters[mi].iter_mut().enumerate() {
                if k >= Counter::CardReads as usize {
                    *v = 0;
                }
            }
        }
        debug_assert!(is_flow(Counter::CardReads));
        out
    }

    /// Sizes for the run statistics.
    pub(crate) fn sizes(&self) -> Sizes {
        let counts = self.view.counts();
        Sizes {
            persons: counts.persons as u64,
            relationships: self.rels.len() as u64,
            registrations: counts.registrations as u64,
            offices: counts.offices as u64,
            events: self.events,
        }
    }

    // -----------------------------------------------------------------------------------
    // Helpers.

    fn now(&self) -> Timestamp {
        self.ctx.cal.instant(self.day)
    }

    fn add(&mut self, muni: u16, c: Counter, delta: i64) {
        self.counters[usize::from(muni)][c as usize] += delta;
    }

    fn person_muni(&self, p: u32) -> u16 {
        self.persons[p as usize].muni
    }

    fn push(&mut self, day: u32, ev: Ev) {
        if let Ok(d) = Day::try_from(day) {
            self.queue.push(d, ev);
        }
    }

    fn cert_end_instant(&self, p: u32) -> Timestamp {
        let start = self.ctx.cal.instant(0);
        start.plus_days(i64::from(self.persons[p as usize].cert_end))
    }

    fn insurer_live(&self, p: u32) -> bool {
        let now = self.now();
        self.view
            .person(PersonId(p))
            .and_then(|row| self.view.municipality(row.insurer))
            .is_ok_and(|m| m.live_from <= now)
    }

    /// Draws the next arrival time of the partition's Poisson stream of new applicants
    /// and schedules an `Arrival` on its day (several arrivals may share a day).
    fn schedule_arrival(&mut self) {
        if self.arrival_per_day <= 0.0 {
            return;
        }
        self.next_arrival += exp(&mut self.world_rng, 1.0 / self.arrival_per_day);
        let day = self.next_arrival.floor();
        if day < f64::from(self.ctx.cal.days()) {
            self.push(day as u32, Ev::Arrival);
        }
    }

    fn choose_office(&mut self, muni: u16, kind: OfficeKind) -> Option<u32> {
        let k = kind as usize;
        let (lo, hi) = self.muni_ranges[usize::from(muni)][k];
        let all = self.by_kind[k].len() as u32;
        let local = hi - lo;
        let others = all - local;
        let go_out = local == 0
            || others > 0
                && self.world_rng.random::<f64>() < self.ctx.params.cross_municipality_share;
        if go_out && others > 0 {
            // Uniform over the prefecture's other offices of the kind (so weighted by how
            // many each municipality has): skip over the local block.
            let mut i = self.world_rng.random_range(0..others);
            if i >= lo {
                i += local;
            }
            return Some(self.by_kind[k][i as usize]);
        }
        (local > 0).then(|| self.by_kind[k][(lo + self.world_rng.random_range(0..local)) as usize])
    }

    // -----------------------------------------------------------------------------------
    // Decisions and counters.

    fn request(&self, r: usize) -> Request {
        let rel = &self.rels[r];
        Request {
            principal: Principal::Office {
                office: OfficeId(rel.office),
                credential: self.offices[rel.office as usize].credential,
            },
            subject: PersonId(rel.person),
            class: self.ctx.classes[rel.kind() as usize],
        }
    }

    fn buckets(&self, r: usize, status: u8, active: bool) -> ([Option<Counter>; 4], usize) {
        let rel = &self.rels[r];
        let card = self.persons[rel.person as usize].flags & CARD != 0;
        let mut out = [None; 4];
        let reason = (status != 0).then(|| DenyReason::ALL[usize::from(status) - 1]);
        if !active {
            out[0] = (status == 0).then_some(Counter::Exposure);
            return (out, 1);
        }
        out[0] = Some(Counter::Relationships);
        out[1] = Some(match reason {
            None => Counter::Electronic,
            Some(DenyReason::InsurerNotLive) => Counter::PaperInsurerNotLive,
            Some(DenyReason::OfficeMunicipalityNotLive) => Counter::PaperOfficeMunicipalityNotLive,
            Some(DenyReason::NotRegistered) if card => Counter::PaperNotRegistered,
            Some(DenyReason::NotRegistered) => Counter::PaperNoCard,
            Some(DenyReason::ConsentMissing | DenyReason::ConsentWithdrawn) => {
                Counter::PaperNoConsent
            }
            Some(DenyReason::RegistrationLapsed) => Counter::PaperRegistrationLapsed,
            Some(DenyReason::ConsentExpired) => Counter::PaperConsentExpired,
            Some(_) => Counter::PaperOther,
        });
        if rel.flags & CROSS != 0 {
            out[2] = Some(Counter::CrossRelationships);
            if reason == Some(DenyReason::OfficeMunicipalityNotLive) {
                out[3] = Some(Counter::CrossOfficeNotLive);
            }
        }
        (out, 4)
    }

    fn count(&mut self, r: usize, sign: i64) {
        let rel = self.rels[r];
        let (status, active) = if sign > 0 {
            (rel.status, rel.active())
        } else {
            if rel.flags & COUNTED == 0 {
                return;
            }
            (rel.counted_status, rel.flags & COUNTED_ACTIVE != 0)
        };
        let muni = self.person_muni(rel.person);
        let (list, n) = self.buckets(r, status, active);
        for c in list[..n].iter().flatten() {
            self.add(muni, *c, sign);
        }
        let rel = &mut self.rels[r];
        if sign > 0 {
            rel.flags |= COUNTED;
            rel.counted_status = rel.status;
            if active {
                rel.flags |= COUNTED_ACTIVE;
            } else {
                rel.flags &= !COUNTED_ACTIVE;
            }
        } else {
            rel.flags &= !(COUNTED | COUNTED_ACTIVE);
        }
    }

    /// Re-decides relationship `r` now, books it in the counters and schedules its next
    /// re-check.
    fn refresh(&mut self, r: usize) {
        let rel = self.rels[r];
        self.update_records(r);
        let now = self.now();
        let decision = decide(&self.view, &self.request(r), now);
        let muni = self.person_muni(rel.person);
        self.add(muni, Counter::Decisions, 1);
        let status = match decision {
            Decision::Permit => 0,
            Decision::Deny(reason) => (reason as u8) + 1,
        };
        let lapsed = Some((DenyReason::RegistrationLapsed as u8) + 1);
        if rel.active() && Some(status) == lapsed && Some(rel.status) != lapsed {
            self.add(muni, Counter::LapsesWhileActive, 1);
        }
        let unchanged = rel.flags & COUNTED != 0
            && rel.counted_status == status
            && (rel.flags & COUNTED_ACTIVE != 0) == rel.active();
        if unchanged {
            self.rels[r].status = status;
        } else {
            self.count(r, -1);
            self.rels[r].status = status;
            self.count(r, 1);
        }
        self.schedule_check(r);
    }

    /// Schedules the re-check of `r` at the earliest instant after now at which its decision
    /// may change.
    fn schedule_check(&mut self, r: usize) {
        let now = self.now();
        let rel = self.rels[r];
        let mut next = Timestamp::MAX;
        let mut consider = |t: Timestamp| {
            if t > now && t < next {
                next = t;
            }
        };
        let policy = self.view.rules().policy;
        let Ok(person) = self.view.person(PersonId(rel.person)).copied() else {
            return;
        };
        let office = self.offices[rel.office as usize];
        for m in [person.insurer, MunicipalityId(office.muni)] {
            if let Ok(row) = self.view.municipality(m) {
                consider(row.live_from);
            }
        }
        let consents = |c: &Consent| {
            [
                c.given_at,
                c.withdrawn_at,
                consent_expiry(policy.consent.expiry, c),
            ]
        };
        for t in consents(&person.consent) {
            consider(t);
        }
        if let Some(reg) = self
            .view
            .registration_of(PersonId(rel.person), OfficeId(rel.office))
        {
            consider(reg.registered_at);
            consider(reg.ended_at);
            consider(lapse_instant(policy.lapse, reg, &person));
            for t in consents(&reg.consent) {
                consider(t);
            }
            if rel.status == DenyReason::RegistrationLapsed as u8 + 1 {
                // A new service record or claim can revive a lapsed registration, also just
                // after the service ended (the record and claim of its last month).
                let month = now.date_jst();
                let this_first = Date::new(month.year(), month.month(), 1)
                    .unwrap_or_else(|| unreachable!("first of a month"));
                let next_first = this_first.plus_months(1);
                let last_possible = if rel.active() {
                    Timestamp::MAX
                } else {
                    self.ctx
                        .cal
                        .date(rel.until)
                        .plus_months(1)
                        .plus_days(i64::from(CLAIM_DAY_OFFSET))
                        .midnight_jst()
                };
                for t in [
                    this_first.plus_days(i64::from(CLAIM_DAY_OFFSET)),
                    next_first,
                    next_first.plus_days(i64::from(CLAIM_DAY_OFFSET)),
                ] {
                    let t = t.midnight_jst();
                    if t <= last_possible {
                        consider(t);
                    }
                }
            }
        }
        if let Some(day) = self.ctx.cal.day_at_or_after(next) {
            if day > self.day && self.rels[r].next_check != day {
                self.rels[r].next_check = day;
                self.queue.push(day, Ev::Check(r as u32));
            }
        }
    }

    /// Brings the registration's last service record and last claim up to now.
    fn update_records(&mut self, r: usize) {
        let rel = self.rels[r];
        let key = (PersonId(rel.person), OfficeId(rel.office));
        let Some(reg) = self.view.registration_of(key.0, key.1).copied() else {
            return;
        };
        let stay = self.view.person(key.0).ok().and_then(|p| p.stay);
        let cal = &self.ctx.cal;
        let pauses =
            |kind: StayKind| kind == StayKind::Hospital || rel.kind() != OfficeKind::Facility;
        let stay = stay.filter(|s| pauses(s.kind)).map(|s| (s.from, s.until));
        let (day, from, until) = (self.day, rel.from, rel.until);
        let service = latest_record(cal, day, 0, reg.last_service_at, from, until, stay);
        let claim = latest_record(
            cal,
            day,
            CLAIM_DAY_OFFSET,
            reg.last_claim_at,
            from,
            until,
            stay,
        );
        if service != reg.last_service_at || claim != reg.last_claim_at {
            if let Ok(reg) = self.view.registration_mut(key.0, key.1) {
                reg.last_service_at = service;
                reg.last_claim_at = claim;
            }
        }
    }

    /// Re-decides `r` and plans what its office does next.
    fn evaluate(&mut self, r: usize) {
        self.refresh(r);
        self.plan(r);
    }

    /// Re-decides every relationship of a person whose decision can still change: an
    /// ended relationship that is not registered (or whose registration ended) never gets
    /// a registration again (a person has one relationship per office), so it is final.
    fn evaluate_person(&mut self, p: u32) {
        let mut r = self.persons[p as usize].rel_head;
        while r != NONE {
            let rel = self.rels[r as usize];
            let finished = !rel.active()
                && matches!(
                    self.status_reason(r as usize),
                    Some(DenyReason::NotRegistered | DenyReason::RegistrationEnded)
                );
            if !finished {
                self.evaluate(r as usize);
            }
            r = rel.next;
        }
    }

    /// Whether a stay can change a decision: only through the lapse of a registration
    /// (`lapse_instant` reads stays and records; with `LapsePolicy::Never` it is always
    /// "never").
    fn stays_matter(&self) -> bool {
        !matches!(self.view.rules().policy.lapse, LapsePolicy::Never)
    }

    fn status_reason(&self, r: usize) -> Option<DenyReason> {
        let s = self.rels[r].status;
        (s != 0 && s != UNDECIDED).then(|| DenyReason::ALL[usize::from(s) - 1])
    }

    fn office_may_obtain_consent(&self, r: usize) -> bool {
        let rel = &self.rels[r];
        let person = &self.persons[rel.person as usize];
        match self.view.rules().policy.consent.model {
            ConsentModel::PerOffice => rel.flags & REL_REFUSED == 0,
            ConsentModel::Comprehensive => {
                self.ctx.params.consent_by_offices
                    && rel.kind() != OfficeKind::Service
                    && person.flags & REFUSED == 0
            }
        }
    }

    /// Schedules the office's next contact or the municipality's verification when the
    /// relationship is on paper for a reason they can fix.
    fn plan(&mut self, r: usize) {
        let rel = self.rels[r];
        let person = self.persons[rel.person as usize];
        if !rel.active() || person.flags & ALIVE == 0 {
            return;
        }
        let interval = u32::from(self.ctx.params.contact_interval_days);
        match self.status_reason(r) {
            Some(DenyReason::NotRegistered | DenyReason::RegistrationLapsed) => {
                if person.flags & CARD != 0 {
                    if rel.flags & CONTACT_PENDING == 0 {
                        let ready = u32::from(self.offices[rel.office as usize].ready);
                        if ready == u32::from(NEVER) {
                            return;
                        }
                        let base = ready.max(u32::from(self.day));
                        let day = base + self.act_rng.random_range(1..=interval);
                        self.rels[r].flags |= CONTACT_PENDING;
                        self.push(day, Ev::Contact(r as u32));
                    }
                } else if self.ctx.params.no_card_registration
                    == NoCardRegistration::MunicipalityVerified
                    && rel.flags & MUNI_PENDING == 0
                {
                    let wait = exp(
                        &mut self.act_rng,
                        self.ctx.params.municipality_verification_days,
                    )
                    .ceil()
                    .max(1.0);
                    self.rels[r].flags |= MUNI_PENDING;
                    self.push(u32::from(self.day) + wait as u32, Ev::MuniVerify(r as u32));
                }
            }
            Some(DenyReason::ConsentMissing | DenyReason::ConsentExpired)
                if rel.flags & CONTACT_PENDING == 0 && self.office_may_obtain_consent(r) =>
            {
                let day = u32::from(self.day) + self.act_rng.random_range(1..=interval);
                self.rels[r].flags |= CONTACT_PENDING;
                self.push(day, Ev::Contact(r as u32));
            }
            _ => {}
        }
    }

    /// The office meets the person: it registers with the card if it is not registered (and
    /// is equipped), and asks for consent where it may and consent is what is missing.
    fn contact(&mut self, r: usize) {
        self.rels[r].flags &= !CONTACT_PENDING;
        let rel = self.rels[r];
        let person = self.persons[rel.person as usize];
        if !rel.active() || person.flags & ALIVE == 0 {
            return;
        }
        // The kept status is current: every change re-decides it.
        for _ in 0..2 {
            match self.status_reason(r) {
                Some(DenyReason::NotRegistered | DenyReason::RegistrationLapsed) => {
                    if person.flags & CARD == 0 {
                        break;
                    }
                    let ready = self.offices[rel.office as usize].ready;
                    if ready > self.day {
                        break;
                    }
                    self.register(r, true);
                }
                Some(DenyReason::ConsentMissing | DenyReason::ConsentExpired)
                    if self.office_may_obtain_consent(r) =>
                {
                    self.office_asks_consent(r);
                }
                _ => break,
            }
        }
        self.plan(r);
    }

    fn register(&mut self, r: usize, with_card: bool) {
        let rel = self.rels[r];
        let (person, office) = (PersonId(rel.person), OfficeId(rel.office));
        let existed = self.view.registration_of(person, office).is_some();
        let now = self.now();
        if self
            .view
            .register(person, office, Registration::at(now))
            .is_err()
        {
            return;
        }
        let muni = self.person_muni(rel.person);
        if with_card {
            self.add(muni, Counter::CardReads, 1);
            if rel.flags & FIRST != 0 && rel.from == self.day {
                self.add(muni, Counter::CardReadsFirstConference, 1);
            }
        } else {
            self.add(muni, Counter::MunicipalityVerified, 1);
        }
        if existed {
            self.add(muni, Counter::ReRegistrations, 1);
        }
        self.rels[r].flags |= EVER_REGISTERED;
        self.refresh(r);
    }

    fn office_asks_consent(&mut self, r: usize) {
        let rel = self.rels[r];
        let agrees = self.act_rng.random::<f64>() < self.ctx.params.consent_by_office_share;
        let now = self.now();
        let consent = Consent::given(now).with_certification_end(self.cert_end_instant(rel.person));
        match self.view.rules().policy.consent.model {
            ConsentModel::PerOffice => {
                if agrees {
                    if let Ok(reg) = self
                        .view
                        .registration_mut(PersonId(rel.person), OfficeId(rel.office))
                    {
                        reg.consent = consent;
                    }
                } else {
                    self.rels[r].flags |= REL_REFUSED;
                }
                self.refresh(r);
            }
            ConsentModel::Comprehensive => {
                if agrees {
                    let _ = self.view.set_consent(PersonId(rel.person), consent);
                    // Every relationship of the person may change; `r` itself is planned by
                    // the caller.
                    let mut i = self.persons[rel.person as usize].rel_head;
                    while i != NONE {
                        if i as usize == r {
                            self.refresh(r);
                        } else {
                            self.evaluate(i as usize);
                        }
                        i = self.rels[i as usize].next;
                    }
                } else {
                    self.persons[rel.person as usize].flags |= REFUSED;
                    self.refresh(r);
                }
            }
        }
    }

    fn muni_verify(&mut self, r: usize) {
        self.rels[r].flags &= !MUNI_PENDING;
        let rel = self.rels[r];
        if !rel.active() || self.persons[rel.person as usize].flags & ALIVE == 0 {
            return;
        }
        if matches!(
            self.status_reason(r),
            Some(DenyReason::NotRegistered | DenyReason::RegistrationLapsed)
        ) {
            self.register(r, false);
            if matches!(
                self.status_reason(r),
                Some(DenyReason::ConsentMissing | DenyReason::ConsentExpired)
            ) && self.office_may_obtain_consent(r)
            {
                self.office_asks_consent(r);
            }
        }
        self.plan(r);
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Life(p) => self.life(p),
            Ev::StayEnd(p) => self.stay_end(p),
            Ev::Apply(p) => self.apply(p),
            Ev::Decide(p) => self.certify(p),
            Ev::Check(r) => {
                let r = r as usize;
                if self.rels[r].next_check == self.day {
                    self.rels[r].next_check = NEVER;
                    self.evaluate(r);
                }
            }
            Ev::Contact(r) => self.contact(r as usize),
            Ev::MuniVerify(r) => self.muni_verify(r as usize),
            Ev::Arrival => {
                let x = self.world_rng.random::<f64>()
                    * self.arrival_cumulative.last().copied().unwrap_or(0.0);
                let mi = self
                    .arrival_cumulative
                    .partition_point(|&c| c <= x)
                    .min(self.munis.len() - 1);
                let p = self.new_person(mi);
                let muni = self.person_muni(p);
                self.add(muni, Counter::NewApplications, 1);
                self.apply(p);
                self.schedule_arrival();
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Relationships.

    fn new_rel(&mut self, p: u32, kind: OfficeKind, first: bool) -> Option<usize> {
        let muni = self.person_muni(p);
        // A person has at most one relationship with an office: the registration, its
        // records and its consent are per (person, office).
        let mut office = None;
        for _ in 0..8 {
            let candidate = self.choose_office(muni, kind)?;
            if !self.has_office(p, candidate) {
                office = Some(candidate);
                break;
            }
        }
        let office = office?;
        let cross = self.offices[office as usize].muni != u32::from(muni);
        let r = self.rels.len();
        let flags = kind as u16 | if cross { CROSS } else { 0 } | if first { FIRST } else { 0 };
        self.rels.push(Rel {
            person: p,
            office,
            next: self.persons[p as usize].rel_head,
            from: self.day,
            until: NEVER,
            next_check: NEVER,
            status: UNDECIDED,
            counted_status: UNDECIDED,
            flags,
        });
        self.persons[p as usize].rel_head = r as u32;
        self.add(muni, Counter::ServiceStarts, 1);
        self.refresh(r);
        // The contract: the office reads the card at once if it can.
        self.rels[r].flags |= CONTACT_PENDING;
        self.contact(r);
        Some(r)
    }

    fn has_office(&self, p: u32, office: u32) -> bool {
        let mut r = self.persons[p as usize].rel_head;
        while r != NONE {
            if self.rels[r as usize].office == office {
                return true;
            }
            r = self.rels[r as usize].next;
        }
        false
    }

    fn end_rel(&mut self, r: usize, at_death: bool) {
        let rel = self.rels[r];
        if !rel.active() {
            return;
        }
        self.count(r, -1);
        self.rels[r].until = self.day;
        let muni = self.person_muni(rel.person);
        self.add(muni, Counter::ServiceEnds, 1);
        let p = &self.ctx.params;
        let end_registration = if at_death {
            p.end_registrations_at_death
        } else {
            self.act_rng.random::<f64>() < p.registration_end_on_service_end_share
        };
        if end_registration {
            let now = self.now();
            if let Ok(reg) = self
                .view
                .registration_mut(PersonId(rel.person), OfficeId(rel.office))
            {
                reg.ended_at = reg.ended_at.min(now);
            }
        }
        self.refresh(r);
    }

    /// Starts the services of a person who uses them; `first` marks a first care conference.
    fn start_services(&mut self, p: u32, first: bool) {
        let facility = self.persons[p as usize].flags & FACILITY != 0;
        let mut started = 0;
        let kinds: &[OfficeKind] = if facility {
            &[OfficeKind::Facility]
        } else {
            &[OfficeKind::CareManagement, OfficeKind::Service]
        };
        for &kind in kinds {
            started += usize::from(self.new_rel(p, kind, first).is_some());
        }
        if !facility && self.world_rng.random::<f64>() < self.ctx.params.second_service_office_share
        {
            started += usize::from(self.new_rel(p, OfficeKind::Service, first).is_some());
        }
        if first && started > 0 {
            let muni = self.person_muni(p);
            self.add(muni, Counter::FirstConferences, 1);
        }
    }
}

/// Claims (レセプト) for a month's service reach the 国保連 by the 10th of the next month:
/// a claim instant is the first of the month plus 9 days. **Assumption** on the exact day.
const CLAIM_DAY_OFFSET: Day = 9;

/// The latest record instant at or before day `now` and after `last`: records fall on the
/// first of each month (plus `offset` days for claims) for a month in which the office served
/// the person, i.e. some time of `[from, until)` in that month lies outside the pausing stay.
/// The period starts on the first of a month, so no record falls before it for a service
/// that started in it.
fn latest_record(
    cal: &Calendar,
    now: Day,
    offset: Day,
    last: Timestamp,
    from: Day,
    until: Day,
    stay: Option<(Timestamp, Timestamp)>,
) -> Timestamp {
    let from_ts = cal.instant(from);
    let until_ts = if until == NEVER {
        Timestamp::MAX
    } else {
        cal.instant(until)
    };
    let mut mi = cal.month_index(now);
    loop {
        let first = cal.month_start(mi);
        if first <= from || mi == 0 {
            return last;
        }
        let record_day = u32::from(first) + u32::from(offset);
        let record = cal.instant(first).plus_days(i64::from(offset));
        if record <= last {
            return last;
        }
        let month_start = cal.instant(cal.month_start(mi - 1));
        if record_day <= u32::from(now)
            && served(month_start, cal.instant(first), from_ts, until_ts, stay)
        {
            return record;
        }
        mi -= 1;
    }
}

fn served(
    a: Timestamp,
    b: Timestamp,
    from: Timestamp,
    until: Timestamp,
    stay: Option<(Timestamp, Timestamp)>,
) -> bool {
    let lo = a.max(from);
    let hi = b.min(until);
    if lo >= hi {
        return false;
    }
    match stay {
        None => true,
        Some((sf, su)) => lo < hi.min(sf) || lo.max(su) < hi,
    }
}

#[cfg(test)]
mod tests;
