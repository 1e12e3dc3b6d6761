//! Explicit boundary tests, expectations worked out by hand from the rules text: for every
//! go-live, validity, registration, lapse, representation and consent instant `t`, the
//! answer one second before `t` and at `t` (half-open intervals: a start counts at `t`, an
//! end no longer counts at `t`). Each case checks `decide` and the oracle.

use kiban_core::decide::{DenyReason, decide};
use kiban_core::rules::{ConsentExpiry, ConsentModel, LapsePolicy, Policy};
use kiban_core::time::Timestamp;
use kiban_core::view::StayKind;
use kiban_core::vocab::InfoClass;

use super::as_result;
use super::generate::jst;
use super::naive::oracle;
use super::world::{
    NConsent, NCredential, NHolder, NMunicipality, NOffice, NPerson, NPrincipal, NRegistration,
    NRepresentation, NRules, NStay, NaiveRequest, NaiveWorld, build, published_cells,
    relevant_rows,
};
use DenyReason::*;

type Answer = Result<(), DenyReason>;

const OK: Answer = Ok(());

fn day(month: u8, day: u8) -> Timestamp {
    jst(2026, month, day, 0)
}

/// M0 (live 04-01) insures P0; O0 (care management) is in M0, O1 (care service) in M1 (live
/// 06-01). Credentials C0 (O0), C1 (O1), C2 (M0), C3 (operator) are valid 2026-01-01 to
/// 2031-01-01. P0 consented 04-10; O0 and O1 registered for P0 on 04-15; agent A0 represents
/// P0 from 05-01 until 09-01. Published matrix, 2025 proposal policy.
fn fixture() -> NaiveWorld {
    let credential = |holder| NCredential {
        holder,
        not_before: jst(2026, 1, 1, 0),
        not_after: jst(2031, 1, 1, 0),
        revoked_at: Timestamp::MAX,
    };
    let registration = |office| NRegistration {
        person: 0,
        office,
        registered_at: day(4, 15),
        ended_at: Timestamp::MAX,
        last_service_at: Timestamp::MIN,
        last_claim_at: Timestamp::MIN,
        consent: NConsent::NONE,
    };
    NaiveWorld {
        municipalities: vec![
            NMunicipality {
                live_from: day(4, 1),
            },
            NMunicipality {
                live_from: day(6, 1),
            },
        ],
        offices: vec![
            NOffice {
                role: kiban_core::vocab::Role::CareManagement,
                municipality: 0,
            },
            NOffice {
                role: kiban_core::vocab::Role::CareService,
                municipality: 1,
            },
        ],
        persons: vec![NPerson {
            insurer: 0,
            consent: NConsent {
                given_at: day(4, 10),
                ..NConsent::NONE
            },
            stay: None,
        }],
        agents: 1,
        credentials: vec![
            credential(NHolder::Office(0)),
            credential(NHolder::Office(1)),
            credential(NHolder::Municipality(0)),
            credential(NHolder::Operator),
        ],
        registrations: vec![registration(0), registration(1)],
        representations: vec![NRepresentation {
            agent: 0,
            person: 0,
            from: day(5, 1),
            until: day(9, 1),
        }],
        rules: NRules {
            published: true,
            cells: published_cells(),
            policy: Policy::proposal_2025(),
        },
    }
}

fn request(principal: NPrincipal, class: InfoClass) -> NaiveRequest {
    NaiveRequest {
        principal,
        subject: 0,
        class,
    }
}

/// O0 reads P0's insurance card (care management: read, no consent).
const O0_CARD: NaiveRequest = NaiveRequest {
    principal: NPrincipal::Office {
        office: 0,
        credential: 0,
    },
    subject: 0,
    class: InfoClass::InsuranceCard,
};
/// O0 reads P0's certification survey (care management: read with consent).
const O0_SURVEY: NaiveRequest = NaiveRequest {
    principal: NPrincipal::Office {
        office: 0,
        credential: 0,
    },
    subject: 0,
    class: InfoClass::CertificationSurvey,
};
/// P0 reads their own insurance card (person: read).
const P0_CARD: NaiveRequest = NaiveRequest {
    principal: NPrincipal::Person { person: 0 },
    subject: 0,
    class: InfoClass::InsuranceCard,
};
/// P0 reads their home-modification history (person: read with consent).
const P0_HOME: NaiveRequest = NaiveRequest {
    principal: NPrincipal::Person { person: 0 },
    subject: 0,
    class: InfoClass::HomeModification,
};

/// Checks `decide` and the oracle against the hand-worked answers.
fn expect(w: &NaiveWorld, req: NaiveRequest, cases: &[(Timestamp, Answer)]) {
    let built = build(w);
    for &(now, want) in cases {
        let decided = as_result(decide(&built.view, &built.request(&req), now));
        let oracle_says = oracle(w, &req, now);
        assert!(
            decided == want && oracle_says == want,
            "{req:?} at {now}: expected {want:?}, decide {decided:?}, oracle {oracle_says:?}\n{}",
            relevant_rows(w, &req)
        );
    }
}

/// One second before `t` and at `t`.
fn edge(t: Timestamp, before: Answer, at: Answer) -> [(Timestamp, Answer); 2] {
    [(t.plus_seconds(-1), before), (t, at)]
}

#[test]
fn municipality_go_live_starts_at_live_from() {
    let mut w = fixture();
    expect(&w, P0_CARD, &edge(day(4, 1), Err(InsurerNotLive), OK));
    expect(&w, O0_CARD, &edge(day(4, 15), Err(NotRegistered), OK));
    w.municipalities[0].live_from = day(5, 1);
    expect(&w, O0_CARD, &edge(day(5, 1), Err(InsurerNotLive), OK));
    // Not scheduled: never live.
    w.municipalities[0].live_from = Timestamp::MAX;
    expect(&w, P0_CARD, &[(jst(2030, 1, 1, 0), Err(InsurerNotLive))]);
}

#[test]
fn office_municipality_go_live_gates_offices_only_under_the_cross_municipality_rule() {
    let mut w = fixture();
    let o1_card = request(
        NPrincipal::Office {
            office: 1,
            credential: 1,
        },
        InfoClass::InsuranceCard,
    );
    expect(
        &w,
        o1_card,
        &edge(day(6, 1), Err(OfficeMunicipalityNotLive), OK),
    );
    // The insurer gate comes first.
    expect(
        &w,
        o1_card,
        &edge(
            day(4, 1),
            Err(InsurerNotLive),
            Err(OfficeMunicipalityNotLive),
        ),
    );
    w.rules.policy.rollout.cross_municipality_rule = false;
    expect(&w, o1_card, &edge(day(6, 1), OK, OK));
    expect(&w, o1_card, &edge(day(4, 15), Err(NotRegistered), OK));
}

#[test]
fn credential_validity_is_half_open_and_revocation_takes_effect_at_its_instant() {
    let mut w = fixture();
    w.credentials[0].not_before = jst(2026, 5, 1, 12 * 3600);
    w.credentials[0].not_after = day(7, 1);
    expect(
        &w,
        O0_CARD,
        &edge(jst(2026, 5, 1, 12 * 3600), Err(CertificateNotYetValid), OK),
    );
    expect(&w, O0_CARD, &edge(day(7, 1), OK, Err(CertificateExpired)));
    w.credentials[0].revoked_at = day(6, 15);
    expect(&w, O0_CARD, &edge(day(6, 15), OK, Err(CertificateRevoked)));
    // Revoked is checked before not-yet-valid.
    w.credentials[0].revoked_at = day(4, 20);
    expect(
        &w,
        O0_CARD,
        &[
            (day(4, 20), Err(CertificateRevoked)),
            (day(5, 1), Err(CertificateRevoked)),
        ],
    );
    // Someone else's credential, whatever its state.
    let theirs = request(
        NPrincipal::Office {
            office: 0,
            credential: 1,
        },
        InfoClass::InsuranceCard,
    );
    expect(&w, theirs, &[(day(5, 15), Err(CredentialMismatch))]);
    let operator_with_m0 = request(
        NPrincipal::Operator { credential: 2 },
        InfoClass::InsuranceCard,
    );
    expect(
        &w,
        operator_with_m0,
        &[(day(5, 15), Err(CredentialMismatch))],
    );
    let m0 = request(
        NPrincipal::Municipality {
            municipality: 0,
            credential: 2,
        },
        InfoClass::InsuranceCard,
    );
    expect(&w, m0, &edge(day(4, 1), Err(InsurerNotLive), OK));
    let operator = request(
        NPrincipal::Operator { credential: 3 },
        InfoClass::InsuranceCard,
    );
    expect(&w, operator, &[(day(5, 15), Err(RoleForbidden))]);
}

#[test]
fn registration_counts_from_registered_at_until_ended_at() {
    let mut w = fixture();
    w.registrations[0].ended_at = day(6, 10);
    expect(&w, O0_CARD, &edge(day(4, 15), Err(NotRegistered), OK));
    expect(&w, O0_CARD, &edge(day(6, 10), OK, Err(RegistrationEnded)));
    // A later registration of the same pair replaces the earlier one.
    let mut again = w.registrations[0].clone();
    again.registered_at = day(7, 1);
    again.ended_at = Timestamp::MAX;
    w.registrations.push(again);
    expect(&w, O0_CARD, &[(day(5, 1), Err(NotRegistered))]);
    expect(&w, O0_CARD, &edge(day(7, 1), Err(NotRegistered), OK));
}

#[test]
fn lapse_never_lasts_until_ended() {
    let w = fixture();
    expect(&w, O0_CARD, &[(jst(2030, 1, 1, 0), OK)]);
}

#[test]
fn lapse_after_inactivity_counts_from_the_later_of_start_and_last_service() {
    let mut w = fixture();
    w.rules.policy.lapse = LapsePolicy::AfterInactivity {
        months: 1,
        exempt_hospital_stays: false,
        exempt_short_stays: false,
    };
    // No service record: a month after registration.
    expect(&w, O0_CARD, &edge(day(5, 15), OK, Err(RegistrationLapsed)));
    // A service record before the registration does not move it.
    w.registrations[0].last_service_at = day(3, 1);
    expect(&w, O0_CARD, &edge(day(5, 15), OK, Err(RegistrationLapsed)));
    // A later one does, to the same wall-clock time a month on.
    w.registrations[0].last_service_at = jst(2026, 5, 20, 10 * 3600);
    expect(
        &w,
        O0_CARD,
        &edge(jst(2026, 6, 20, 10 * 3600), OK, Err(RegistrationLapsed)),
    );
    // Zero months: lapsed as soon as it starts.
    w.rules.policy.lapse = LapsePolicy::AfterInactivity {
        months: 0,
        exempt_hospital_stays: true,
        exempt_short_stays: true,
    };
    expect(
        &w,
        O0_CARD,
        &edge(jst(2026, 5, 20, 10 * 3600), OK, Err(RegistrationLapsed)),
    );
}

#[test]
fn exempt_stays_defer_the_lapse() {
    let lapse = jst(2026, 6, 20, 10 * 3600);
    let mut w = fixture();
    w.registrations[0].last_service_at = jst(2026, 5, 20, 10 * 3600);
    w.rules.policy.lapse = LapsePolicy::AfterInactivity {
        months: 1,
        exempt_hospital_stays: true,
        exempt_short_stays: false,
    };
    let stay = |kind, from, until| Some(NStay { kind, from, until });

    // An open exempt stay that began before the lapse: no lapse while it lasts.
    w.persons[0].stay = stay(StayKind::Hospital, day(6, 1), Timestamp::MAX);
    expect(&w, O0_CARD, &[(lapse, OK), (jst(2030, 1, 1, 0), OK)]);
    // One that began exactly at the lapse instant counts ("at or before that instant").
    w.persons[0].stay = stay(StayKind::Hospital, lapse, Timestamp::MAX);
    expect(&w, O0_CARD, &[(lapse, OK), (jst(2030, 1, 1, 0), OK)]);
    // One that began a second later does not.
    w.persons[0].stay = stay(StayKind::Hospital, lapse.plus_seconds(1), Timestamp::MAX);
    expect(&w, O0_CARD, &edge(lapse, OK, Err(RegistrationLapsed)));
    // An ended exempt stay defers the lapse to a month after it ended.
    w.persons[0].stay = stay(StayKind::Hospital, day(6, 1), jst(2026, 7, 10, 15 * 3600));
    expect(&w, O0_CARD, &[(lapse, OK)]);
    expect(
        &w,
        O0_CARD,
        &edge(jst(2026, 8, 10, 15 * 3600), OK, Err(RegistrationLapsed)),
    );
    // A stay that ended long before "defers" nothing: the lapse is never moved earlier.
    w.persons[0].stay = stay(StayKind::Hospital, day(1, 31), day(2, 28));
    expect(&w, O0_CARD, &edge(lapse, OK, Err(RegistrationLapsed)));
    // A stay of a kind that is not exempt changes nothing.
    w.persons[0].stay = stay(StayKind::ShortStay, day(6, 1), Timestamp::MAX);
    expect(&w, O0_CARD, &edge(lapse, OK, Err(RegistrationLapsed)));
    // Short stays, when exempt.
    w.rules.policy.lapse = LapsePolicy::AfterInactivity {
        months: 1,
        exempt_hospital_stays: false,
        exempt_short_stays: true,
    };
    expect(&w, O0_CARD, &[(lapse, OK), (jst(2030, 1, 1, 0), OK)]);
}

#[test]
fn lapse_tied_to_claims_counts_from_the_later_of_start_and_last_claim() {
    let mut w = fixture();
    w.rules.policy.lapse = LapsePolicy::TiedToClaims { grace_months: 2 };
    expect(&w, O0_CARD, &edge(day(6, 15), OK, Err(RegistrationLapsed)));
    w.registrations[0].last_claim_at = day(4, 30);
    expect(&w, O0_CARD, &edge(day(6, 30), OK, Err(RegistrationLapsed)));
    // Service records do not count under this policy.
    w.registrations[0].last_service_at = day(6, 20);
    expect(&w, O0_CARD, &edge(day(6, 30), OK, Err(RegistrationLapsed)));
    // Month ends clamp: 03-31 12:00 + 1 month = 04-30 12:00.
    w.rules.policy.lapse = LapsePolicy::TiedToClaims { grace_months: 1 };
    w.registrations[0].registered_at = jst(2026, 3, 31, 12 * 3600);
    w.registrations[0].last_claim_at = Timestamp::MIN;
    w.municipalities[0].live_from = Timestamp::MIN;
    expect(
        &w,
        O0_CARD,
        &edge(jst(2026, 4, 30, 12 * 3600), OK, Err(RegistrationLapsed)),
    );
}

#[test]
fn representation_counts_from_from_until_until() {
    let w = fixture();
    let a0 = request(
        NPrincipal::Representative { agent: 0 },
        InfoClass::InsuranceCard,
    );
    expect(&w, a0, &edge(day(5, 1), Err(NotRepresentative), OK));
    expect(&w, a0, &edge(day(9, 1), OK, Err(NotRepresentative)));
    // Representatives use the person's column.
    let a0_survey = request(
        NPrincipal::Representative { agent: 0 },
        InfoClass::CertificationSurvey,
    );
    expect(&w, a0_survey, &[(day(6, 1), Err(RoleForbidden))]);
}

#[test]
fn consent_counts_from_given_until_withdrawn() {
    let mut w = fixture();
    expect(&w, P0_HOME, &edge(day(4, 10), Err(ConsentMissing), OK));
    w.persons[0].consent.withdrawn_at = day(7, 1);
    expect(&w, P0_HOME, &edge(day(7, 1), OK, Err(ConsentWithdrawn)));
    // Withdrawn the instant it was given.
    w.persons[0].consent.withdrawn_at = day(4, 10);
    expect(
        &w,
        P0_HOME,
        &edge(day(4, 10), Err(ConsentMissing), Err(ConsentWithdrawn)),
    );
    // No consent at all; a class without consent is unaffected.
    w.persons[0].consent = NConsent::NONE;
    expect(&w, P0_HOME, &[(jst(2030, 1, 1, 0), Err(ConsentMissing))]);
    expect(&w, P0_CARD, &[(jst(2030, 1, 1, 0), OK)]);
    // Offices under the comprehensive model look at the person's consent.
    w.persons[0].consent = NConsent {
        given_at: day(4, 20),
        ..NConsent::NONE
    };
    expect(&w, O0_SURVEY, &edge(day(4, 20), Err(ConsentMissing), OK));
}

#[test]
fn consent_expiry_under_each_policy() {
    let mut w = fixture();
    // Never.
    expect(&w, P0_HOME, &[(jst(2030, 1, 1, 0), OK)]);
    // With the certification period: ends at its end; an unknown end never comes.
    w.rules.policy.consent.expiry = ConsentExpiry::WithCertificationPeriod;
    expect(&w, P0_HOME, &[(jst(2030, 1, 1, 0), OK)]);
    w.persons[0].consent.certification_end = day(10, 1);
    expect(&w, P0_HOME, &edge(day(10, 1), OK, Err(ConsentExpired)));
    // After months: two calendar months after it was given.
    w.rules.policy.consent.expiry = ConsentExpiry::AfterMonths(2);
    expect(&w, P0_HOME, &edge(day(6, 10), OK, Err(ConsentExpired)));
    // Withdrawal is checked before expiry.
    w.persons[0].consent.withdrawn_at = day(6, 10);
    expect(&w, P0_HOME, &edge(day(6, 10), OK, Err(ConsentWithdrawn)));
    // Zero months: expired as soon as given.
    w.rules.policy.consent.expiry = ConsentExpiry::AfterMonths(0);
    expect(
        &w,
        P0_HOME,
        &edge(day(4, 10), Err(ConsentMissing), Err(ConsentExpired)),
    );
}

#[test]
fn per_office_consent_is_the_registrations_for_offices_and_the_persons_otherwise() {
    let mut w = fixture();
    w.rules.policy.consent.model = ConsentModel::PerOffice;
    // O0's registration has no consent of its own: the person's does not help it.
    expect(&w, O0_SURVEY, &[(day(5, 1), Err(ConsentMissing))]);
    w.registrations[0].consent = NConsent {
        given_at: day(5, 1),
        ..NConsent::NONE
    };
    expect(&w, O0_SURVEY, &edge(day(5, 1), Err(ConsentMissing), OK));
    w.registrations[0].consent.withdrawn_at = day(6, 1);
    expect(&w, O0_SURVEY, &edge(day(6, 1), OK, Err(ConsentWithdrawn)));
    w.rules.policy.consent.expiry = ConsentExpiry::AfterMonths(1);
    w.registrations[0].consent.withdrawn_at = Timestamp::MAX;
    expect(&w, O0_SURVEY, &edge(day(6, 1), OK, Err(ConsentExpired)));
    // The person still reads with their own consent record.
    expect(&w, P0_HOME, &edge(day(4, 10), Err(ConsentMissing), OK));
    expect(&w, P0_HOME, &edge(day(5, 10), OK, Err(ConsentExpired)));
}
