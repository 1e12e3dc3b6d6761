//! The life of a certified person in the model: the starting population, new applicants,
//! certification (application, opinion, decision, renewal), consent at application, service
//! use, stays, moves into a facility, office changes and death. Rates and shares come from
//! [`crate::params::ModelParams`].

use kiban_core::decide::consent_expiry;
use kiban_core::time::Timestamp;
use kiban_core::view::{Consent, MunicipalityId, PersonId, Stay, StayKind};
use rand::RngExt;

use super::{
    ALIVE, CARD, CERTIFIED, CONSENT_AT_APPLY, ELECTRONIC, Ev, FACILITY, IN_STAY, NONE, OfficeKind,
    Partition, PersonState, REFUSED, USER, exp, pick,
};
use crate::calendar::days_between;
use crate::metrics::Counter;

/// What happens next in a person's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LifeEvent {
    Death,
    Hospital,
    ShortStay,
    OfficeChange,
    Admission,
    ServiceStart,
}

impl Partition<'_> {
    /// Adds a person to the view with their drawn traits (card, level, setting); not yet
    /// certified, no events.
    pub(super) fn new_person(&mut self, mi: usize) -> u32 {
        let p = &self.ctx.params;
        let id = self
            .view
            .add_person(MunicipalityId(mi as u32))
            .unwrap_or_else(|e| unreachable!("the municipality exists: {e}"));
        let rng = &mut self.world_rng;
        let mut flags = ALIVE;
        if rng.random::<f64>() < p.card_holding_rate {
            flags |= CARD;
        }
        // Level index 0–1 要支援, 2–3 要介護1–2, 4–6 要介護3–5. The copay ratio is drawn so the
        // random stream already has it, but no rule or metric reads it yet.
        let level = pick(rng, &p.level_shares);
        let _copay = pick(rng, &p.copay_shares);
        if rng.random::<f64>() < p.service_use_share {
            flags |= USER;
            let facility_share = match level {
                0 | 1 => 0.0,
                2 | 3 => p.facility_share_care_1_2,
                _ => p.facility_share_care_3_5,
            };
            if rng.random::<f64>() < facility_share {
                flags |= FACILITY;
            }
        }
        self.persons.push(PersonState {
            rel_head: NONE,
            cert_end: u32::MAX,
            apply_day: 0,
            muni: mi as u16,
            flags,
        });
        id.0
    }

    /// A person certified at the period start, with their relationships already running.
    pub(super) fn initial_person(&mut self, mi: usize) {
        let p = self.new_person(mi);
        let params = &self.ctx.params;
        let months = self
            .world_rng
            .random_range(1..=i32::from(params.initial_remaining_months_max));
        let offset = self.world_rng.random_range(0..28);
        let start = self.ctx.cal.start();
        let end = start.plus_months(months).plus_days(offset);
        self.persons[p as usize].cert_end = days_between(start, end) as u32;
        self.persons[p as usize].flags |= CERTIFIED;
        let muni = self.person_muni(p);
        self.add(muni, Counter::Certified, 1);
        self.schedule_renewal(p);
        if self.persons[p as usize].flags & USER != 0 {
            self.start_services(p, false);
        }
        self.schedule_life(p);
    }

    fn schedule_renewal(&mut self, p: u32) {
        let params = &self.ctx.params;
        let before = self.world_range(
            u32::from(params.renewal_latest_days),
            u32::from(params.renewal_window_days),
        );
        let end = self.persons[p as usize].cert_end;
        let day = end.saturating_sub(before).max(u32::from(self.day) + 1);
        self.push(day, Ev::Apply(p));
    }

    /// A draw from the world stream in `lo..=hi` (`hi` below `lo` means `lo`).
    fn world_range(&mut self, lo: u32, hi: u32) -> u32 {
        self.world_rng.random_range(lo..=hi.max(lo))
    }

    fn life_rates(&self, p: u32) -> [(LifeEvent, f64); 4] {
        let params = &self.ctx.params;
        let flags = self.persons[p as usize].flags;
        let death = (LifeEvent::Death, params.annual_death_rate);
        let hospital = (LifeEvent::Hospital, params.hospital_stays_per_year);
        if flags & USER == 0 {
            return [
                death,
                hospital,
                (LifeEvent::ServiceStart, params.service_starts_per_year),
                (LifeEvent::ShortStay, 0.0),
            ];
        }
        if flags & FACILITY != 0 {
            return [
                death,
                hospital,
                (LifeEvent::ShortStay, 0.0),
                (LifeEvent::Admission, 0.0),
            ];
        }
        // Home care: office changes and admissions are drawn as one rate and split below.
        [
            death,
            hospital,
            (LifeEvent::ShortStay, params.short_stays_per_year),
            (
                LifeEvent::OfficeChange,
                params.service_changes_per_year + params.facility_admissions_per_year,
            ),
        ]
    }

    pub(super) fn schedule_life(&mut self, p: u32) {
        let total: f64 = self.life_rates(p).iter().map(|r| r.1).sum();
        if total <= 0.0 {
            return;
        }
        let days = exp(&mut self.world_rng, 365.25 / total).ceil().max(1.0);
        let day = f64::from(self.day) + days;
        if day < f64::from(self.ctx.cal.days()) {
            self.push(day as u32, Ev::Life(p));
        }
    }

    pub(super) fn life(&mut self, p: u32) {
        let flags = self.persons[p as usize].flags;
        if flags & ALIVE == 0 || flags & IN_STAY != 0 {
            return;
        }
        let rates = self.life_rates(p);
        let total: f64 = rates.iter().map(|r| r.1).sum();
        let mut x = self.world_rng.random::<f64>() * total;
        let mut event = rates[0].0;
        for (e, rate) in rates {
            if x < rate {
                event = e;
                break;
            }
            x -= rate;
        }
        if event == LifeEvent::OfficeChange {
            let params = &self.ctx.params;
            let share = params.facility_admissions_per_year
                / (params.service_changes_per_year + params.facility_admissions_per_year);
            if self.world_rng.random::<f64>() < share {
                event = LifeEvent::Admission;
            }
        }
        let muni = self.person_muni(p);
        match event {
            LifeEvent::Death => {
                self.die(p);
                return;
            }
            LifeEvent::Hospital | LifeEvent::ShortStay => {
                let (kind, mean, counter) = if event == LifeEvent::Hospital {
                    (
                        StayKind::Hospital,
                        self.ctx.params.hospital_stay_mean_days,
                        Counter::HospitalStays,
                    )
                } else {
                    (
                        StayKind::ShortStay,
                        self.ctx.params.short_stay_mean_days,
                        Counter::ShortStays,
                    )
                };
                self.add(muni, counter, 1);
                let now = self.now();
                let stay = Stay {
                    kind,
                    from: now,
                    until: Timestamp::MAX,
                };
                let _ = self.view.set_stay(PersonId(p), Some(stay));
                self.persons[p as usize].flags |= IN_STAY;
                if self.stays_matter() {
                    self.evaluate_person(p);
                }
                let days = exp(&mut self.world_rng, mean).round().max(1.0) as u32;
                self.push(u32::from(self.day) + days, Ev::StayEnd(p));
                // The life chain resumes when the stay ends.
                return;
            }
            LifeEvent::OfficeChange => {
                let mut candidates = Vec::new();
                let mut r = self.persons[p as usize].rel_head;
                while r != NONE {
                    let rel = &self.rels[r as usize];
                    if rel.active() && rel.kind() == OfficeKind::Service {
                        candidates.push(r as usize);
                    }
                    r = rel.next;
                }
                if !candidates.is_empty() {
                    let which = candidates[self.world_rng.random_range(0..candidates.len())];
                    self.end_rel(which, false);
                    self.new_rel(p, OfficeKind::Service, false);
                }
            }
            LifeEvent::Admission => {
                let mut r = self.persons[p as usize].rel_head;
                while r != NONE {
                    self.end_rel(r as usize, false);
                    r = self.rels[r as usize].next;
                }
                self.persons[p as usize].flags |= FACILITY;
                self.new_rel(p, OfficeKind::Facility, false);
            }
            LifeEvent::ServiceStart => {
                self.persons[p as usize].flags |= USER;
                self.start_services(p, true);
            }
        }
        self.schedule_life(p);
    }

    fn die(&mut self, p: u32) {
        let muni = self.person_muni(p);
        self.add(muni, Counter::Deaths, 1);
        if self.persons[p as usize].flags & CERTIFIED != 0 {
            self.add(muni, Counter::Certified, -1);
        }
        self.persons[p as usize].flags &= !(ALIVE | CERTIFIED);
        let mut r = self.persons[p as usize].rel_head;
        while r != NONE {
            self.end_rel(r as usize, true);
            r = self.rels[r as usize].next;
        }
    }

    pub(super) fn stay_end(&mut self, p: u32) {
        if self.persons[p as usize].flags & ALIVE == 0 {
            return;
        }
        let now = self.now();
        if let Ok(Some(stay)) = self.view.person(PersonId(p)).map(|row| row.stay) {
            let _ = self
                .view
                .set_stay(PersonId(p), Some(Stay { until: now, ..stay }));
        }
        self.persons[p as usize].flags &= !IN_STAY;
        if self.stays_matter() {
            self.evaluate_person(p);
        }
        self.schedule_life(p);
    }

    /// A certification application (new, or renewal before expiry). The municipality asks
    /// for comprehensive consent if it is live; the physician opinion is electronic with the
    /// configured share if the insurer is live.
    pub(super) fn apply(&mut self, p: u32) {
        let flags = self.persons[p as usize].flags;
        if flags & ALIVE == 0 {
            return;
        }
        let params = &self.ctx.params;
        let live = self.insurer_live(p);
        let electronic = live && self.act_rng.random::<f64>() < params.electronic_opinion_share;
        let other_mean = params.lead_days_paper_mean - params.opinion_days_mean;
        let other = other_mean * self.world_rng.random_range(0.5..1.5);
        let opinion = params.opinion_days_mean * (0.5 + 0.5 * exp(&mut self.world_rng, 1.0));
        let saved = if electronic {
            params.electronic_opinion_days_saved
        } else {
            0.0
        };
        let lead = (other + opinion - saved).round().max(1.0) as u32;
        let state = &mut self.persons[p as usize];
        state.apply_day = self.day;
        state.flags &= !(ELECTRONIC | CONSENT_AT_APPLY | REFUSED);
        if electronic {
            state.flags |= ELECTRONIC;
        }
        self.push(u32::from(self.day) + lead, Ev::Decide(p));
        if live {
            if self.act_rng.random::<f64>() < self.ctx.params.consent_at_application_share {
                let now = self.now();
                let _ = self.view.set_consent(PersonId(p), Consent::given(now));
                self.persons[p as usize].flags |= CONSENT_AT_APPLY;
            } else {
                self.persons[p as usize].flags |= REFUSED;
            }
            self.evaluate_person(p);
        }
    }

    /// The certification decision: the new validity, services for new applicants, the
    /// consent's certification end, and the next renewal.
    pub(super) fn certify(&mut self, p: u32) {
        let state = self.persons[p as usize];
        if state.flags & ALIVE == 0 {
            return;
        }
        let muni = state.muni;
        let lead = i64::from(self.day - state.apply_day);
        self.add(muni, Counter::CertDecisions, 1);
        if state.flags & ELECTRONIC != 0 {
            self.add(muni, Counter::CertDecisionsElectronic, 1);
            self.add(muni, Counter::LeadDaysElectronic, lead);
        } else {
            self.add(muni, Counter::LeadDaysPaper, lead);
        }
        let cal_start = self.ctx.cal.start();
        let renewal = state.flags & CERTIFIED != 0;
        let end = if renewal {
            let shares: Vec<f64> = self.ctx.params.renewal_months.iter().map(|x| x.1).collect();
            let months = self.ctx.params.renewal_months[pick(&mut self.world_rng, &shares)].0;
            cal_start
                .plus_days(i64::from(state.cert_end))
                .plus_months(i32::from(months))
        } else {
            cal_start
                .plus_days(i64::from(state.apply_day))
                .plus_months(i32::from(self.ctx.params.new_certification_months))
        };
        self.persons[p as usize].cert_end = days_between(cal_start, end).max(0) as u32;
        if state.flags & CONSENT_AT_APPLY != 0 {
            self.persons[p as usize].flags &= !CONSENT_AT_APPLY;
            if let Ok(row) = self.view.person(PersonId(p)) {
                let old = row.consent;
                let consent = old.with_certification_end(end.midnight_jst());
                let _ = self.view.set_consent(PersonId(p), consent);
                // The certification end matters only if the expiry policy reads it.
                let expiry = self.view.rules().policy.consent.expiry;
                if consent_expiry(expiry, &old) != consent_expiry(expiry, &consent) {
                    self.evaluate_person(p);
                }
            }
        }
        if !renewal {
            self.persons[p as usize].flags |= CERTIFIED;
            self.add(muni, Counter::Certified, 1);
            if state.flags & USER != 0 {
                self.start_services(p, true);
            }
            self.schedule_life(p);
        }
        self.schedule_renewal(p);
    }
}
