//! `decide` performs no heap allocation, on the permit path and on every deny path the
//! world below reaches. Its own test binary, because `allocation-counter` replaces the
//! global allocator.

use kiban_core::decide::{Decision, DenyReason, Principal, Request, decide};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::{ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, Rules};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{Consent, Credential, Holder, Registration, Stay, StayKind, View};
use kiban_core::vocab::{InfoClass, Role};

fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

#[test]
fn decide_allocates_nothing_on_permit_and_deny_paths() {
    let policy = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::Comprehensive,
            expiry: ConsentExpiry::AfterMonths(24),
        },
        lapse: LapsePolicy::AfterInactivity {
            months: 2,
            exempt_hospital_stays: true,
            exempt_short_stays: true,
        },
        ..Policy::proposal_2025()
    };
    let mut view = View::new(Rules {
        policy,
        ..Rules::published()
    });
    let city = view.add_municipality(MunicipalityCode::parse("141003").unwrap(), at("2026-11-01"));
    let late = view.add_municipality(MunicipalityCode::parse("141305").unwrap(), at("2028-04-01"));
    let office = view.add_office(Role::CareManagement, city).unwrap();
    let late_office = view.add_office(Role::CareService, late).unwrap();
    let cred = view.add_credential(credential(office)).unwrap();
    let late_cred = view.add_credential(credential(late_office)).unwrap();
    let person = view.add_person(city).unwrap();
    let stranger = view.add_person(city).unwrap();
    view.set_consent(person, Consent::given(at("2026-11-10")))
        .unwrap();
    let stay = Stay {
        kind: StayKind::Hospital,
        from: at("2027-01-01"),
        until: Timestamp::MAX,
    };
    view.set_stay(person, Some(stay)).unwrap();
    view.register(person, office, Registration::at(at("2026-12-01")))
        .unwrap();
    view.register(person, late_office, Registration::at(at("2026-12-01")))
        .unwrap();

    let ask = |principal, subject, class| Request {
        principal,
        subject,
        class,
    };
    let office_p = Principal::Office {
        office,
        credential: cred,
    };
    let cases = [
        (
            ask(office_p, person, InfoClass::CertificationSurvey),
            Decision::Permit,
        ),
        (
            ask(office_p, stranger, InfoClass::InsuranceCard),
            Decision::Deny(DenyReason::NotRegistered),
        ),
        (
            ask(office_p, stranger, InfoClass::LifeFeedback),
            Decision::Deny(DenyReason::NotRegistered),
        ),
        (
            ask(
                Principal::Office {
                    office: late_office,
                    credential: late_cred,
                },
                person,
                InfoClass::InsuranceCard,
            ),
            Decision::Deny(DenyReason::OfficeMunicipalityNotLive),
        ),
        (
            ask(
                Principal::Person { person: stranger },
                person,
                InfoClass::InsuranceCard,
            ),
            Decision::Deny(DenyReason::NotOwnRecord),
        ),
        (
            ask(
                Principal::Office {
                    office,
                    credential: late_cred,
                },
                person,
                InfoClass::InsuranceCard,
            ),
            Decision::Deny(DenyReason::CredentialMismatch),
        ),
    ];
    let now = at("2027-06-01");
    let mut decisions = Vec::with_capacity(cases.len());
    let info = allocation_counter::measure(|| {
        for (request, _) in &cases {
            decisions.push(decide(std::hint::black_box(&view), request, now));
        }
    });
    assert_eq!(info.count_total, 0, "decide allocated: {info:?}");
    let expected: Vec<_> = cases.iter().map(|(_, d)| *d).collect();
    assert_eq!(decisions, expected);
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the test above against a counter that counts nothing.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(Box::new(7u64));
    });
    assert_eq!(info.count_total, 1);
}

fn credential(office: kiban_core::view::OfficeId) -> Credential {
    Credential {
        holder: Holder::Office(office),
        not_before: at("2026-04-01"),
        not_after: at("2029-04-01"),
        revoked_at: Timestamp::MAX,
    }
}
