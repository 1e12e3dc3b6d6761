//! Tests of the national model: the event-kept counters equal a brute-force pass that
//! re-decides every relationship with `decide` at every month's end, under policies that
//! exercise every time-dependent rule (go-live, lapse with and without stay exemptions,
//! claims, consent expiry, per-office consent).

use kiban_core::decide::decide;
use kiban_core::geo::{Municipalities, Municipality};
use kiban_core::rules::{
    AccessMatrix, ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, RolloutPolicy,
    Rules,
};
use kiban_core::view::{OfficeId, PersonId};
use kiban_core::vocab::InfoClass;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::params::NoCardRegistration;
use crate::rollout;
use crate::scenario::{Generator, Rollout, SurveyParams};

impl Partition<'_> {
    /// Re-decides every relationship now and books it as `count` would.
    fn brute_force(&mut self) -> Vec<Counters> {
        let mut out = vec![[0; N_COUNTERS]; self.munis.len()];
        for r in 0..self.rels.len() {
            let rel = self.rels[r];
            if self
                .view
                .registration_of(PersonId(rel.person), OfficeId(rel.office))
                .is_some()
            {
                self.update_records(r);
            }
            let status = match decide(&self.view, &self.request(r), self.now()) {
                Decision::Permit => 0,
                Decision::Deny(reason) => reason as u8 + 1,
            };
            let (list, n) = self.buckets(r, status, rel.active());
            let muni = usize::from(self.person_muni(rel.person));
            for c in list[..n].iter().flatten() {
                out[muni][*c as usize] += 1;
            }
        }
        out
    }
}

const STOCKS: [Counter; 13] = [
    Counter::Relationships,
    Counter::Electronic,
    Counter::PaperInsurerNotLive,
    Counter::PaperOfficeMunicipalityNotLive,
    Counter::PaperNotRegistered,
    Counter::PaperNoCard,
    Counter::PaperNoConsent,
    Counter::PaperRegistrationLapsed,
    Counter::PaperConsentExpired,
    Counter::PaperOther,
    Counter::CrossRelationships,
    Counter::CrossOfficeNotLive,
    Counter::Exposure,
];

fn run_prefecture(policy: Policy, params: ModelParams, scale: f64) -> (u64, u64) {
    let geo = Municipalities::embedded();
    let world: Vec<&Municipality> = geo.iter().filter(|m| m.prefecture == "鳥取県").collect();
    let rollout = Rollout {
        generator: Generator::Survey2025(SurveyParams::default()),
        dates: Default::default(),
        default: None,
        delays: Vec::new(),
    };
    let schedule = rollout::schedule(&mut ChaCha8Rng::seed_from_u64(5), &world, &rollout, &[]);
    let start = "2026-04-01".parse().unwrap();
    let end = "2029-03-31".parse().unwrap();
    let ctx = RunCtx {
        cal: Calendar::new(start, end).unwrap(),
        params,
        rules: Rules {
            matrix: AccessMatrix::published(),
            policy,
        },
        classes: [
            InfoClass::CertificationSurvey,
            InfoClass::LifeFeedback,
            InfoClass::LifeFeedback,
        ],
        scale,
    };
    let munis = (0..world.len())
        .map(|i| LocalMuni {
            global: i,
            population: world[i].population_2020,
            live_from: schedule.live_from[i],
            respondent: schedule.respondent[i],
        })
        .collect();
    let mut part = Partition::build(&ctx, 11, 31, munis, &world);
    let mut permits_seen = 0;
    for mi in 0..ctx.cal.months().len() {
        let last = ctx.cal.last_day_of_month(mi);
        part.advance(last);
        let brute = part.brute_force();
        for (m, (kept, fresh)) in part.counters.iter().zip(&brute).enumerate() {
            for c in STOCKS {
                assert_eq!(
                    kept[c as usize],
                    fresh[c as usize],
                    "{c:?} of municipality {m} at {} under {policy:?}",
                    ctx.cal.months()[mi]
                );
            }
            permits_seen += fresh[Counter::Electronic as usize] as u64;
        }
        part.snapshot(last);
    }
    (permits_seen, part.sizes().registrations)
}

#[test]
fn kept_counters_equal_brute_force_decisions_under_the_2025_proposal() {
    let (permits, registrations) =
        run_prefecture(Policy::proposal_2025(), ModelParams::default(), 0.05);
    assert!(
        permits > 0 && registrations > 0,
        "{permits} {registrations}"
    );
}

#[test]
fn kept_counters_equal_brute_force_under_lapse_and_consent_expiry() {
    let policy = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::Comprehensive,
            expiry: ConsentExpiry::WithCertificationPeriod,
        },
        lapse: LapsePolicy::AfterInactivity {
            months: 1,
            exempt_hospital_stays: false,
            exempt_short_stays: true,
        },
        rollout: RolloutPolicy {
            cross_municipality_rule: true,
        },
    };
    let params = ModelParams {
        hospital_stays_per_year: 1.0,
        short_stays_per_year: 2.0,
        registration_end_on_service_end_share: 0.3,
        end_registrations_at_death: false,
        ..ModelParams::default()
    };
    run_prefecture(policy, params, 0.05);
}

#[test]
fn kept_counters_equal_brute_force_under_claims_and_per_office_consent() {
    let policy = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::PerOffice,
            expiry: ConsentExpiry::AfterMonths(6),
        },
        lapse: LapsePolicy::TiedToClaims { grace_months: 1 },
        rollout: RolloutPolicy {
            cross_municipality_rule: false,
        },
    };
    let params = ModelParams {
        no_card_registration: NoCardRegistration::MunicipalityVerified,
        card_holding_rate: 0.5,
        hospital_stays_per_year: 1.0,
        ..ModelParams::default()
    };
    run_prefecture(policy, params, 0.05);
}

#[test]
fn records_follow_service_months_and_pausing_stays() {
    let cal = Calendar::new("2026-04-01".parse().unwrap(), "2027-03-31".parse().unwrap()).unwrap();
    let day = |s: &str| cal.day_of(s.parse().unwrap()).unwrap();
    let at = |s: &str| s.parse::<Date>().unwrap().midnight_jst();
    let from = day("2026-04-10");
    let never = NEVER;
    // Served through April and May: the last record on 06-01 is visible on 06-15.
    assert_eq!(
        latest_record(
            &cal,
            day("2026-06-15"),
            0,
            Timestamp::MIN,
            from,
            never,
            None
        ),
        at("2026-06-01")
    );
    // The claim for May is on 06-10.
    assert_eq!(
        latest_record(
            &cal,
            day("2026-06-15"),
            CLAIM_DAY_OFFSET,
            Timestamp::MIN,
            from,
            never,
            None
        ),
        at("2026-06-10")
    );
    // On 06-05 the claim for May has not come yet: the one for April (05-10) is the latest.
    assert_eq!(
        latest_record(
            &cal,
            day("2026-06-05"),
            CLAIM_DAY_OFFSET,
            Timestamp::MIN,
            from,
            never,
            None
        ),
        at("2026-05-10")
    );
    // A hospital stay covering all of May and June: the last record is for April.
    let stay = Some((at("2026-04-30"), at("2026-07-03")));
    assert_eq!(
        latest_record(
            &cal,
            day("2026-07-02"),
            0,
            Timestamp::MIN,
            from,
            never,
            stay
        ),
        at("2026-05-01")
    );
    // Nothing after the service ended in May.
    assert_eq!(
        latest_record(
            &cal,
            day("2026-09-15"),
            0,
            Timestamp::MIN,
            from,
            day("2026-05-20"),
            None
        ),
        at("2026-06-01")
    );
    // Never before the service started, and never earlier than the last known record.
    assert_eq!(
        latest_record(
            &cal,
            day("2026-04-20"),
            0,
            Timestamp::MIN,
            from,
            never,
            None
        ),
        Timestamp::MIN
    );
    assert_eq!(
        latest_record(
            &cal,
            day("2026-06-15"),
            0,
            at("2026-07-01"),
            from,
            never,
            None
        ),
        at("2026-07-01")
    );
}
