//! One named test per reason code and per permit path, over a small hand-built world:
//! Yokohama (live 2026-11-01) and Kawasaki (live 2027-10-01), the Yokohama resident Aiko,
//! and offices on both sides of the city line.

use super::*;
use crate::id::MunicipalityCode;
use crate::rules::{ConsentPolicy, Policy, RolloutPolicy, Rules};
use crate::time::Date;
use crate::view::{Consent, Credential, Registration, Representation, Stay};

fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

/// The world every test starts from; each test changes one thing.
struct World {
    view: View,
    yokohama: MunicipalityId,
    kawasaki: MunicipalityId,
    aiko: PersonId,
    bunta: PersonId,
    cm: OfficeId,
    cm_cred: CredentialId,
    svc_kawasaki: OfficeId,
    svc_kawasaki_cred: CredentialId,
    city_cred: CredentialId,
    kawasaki_cred: CredentialId,
    operator_cred: CredentialId,
    daughter: AgentId,
}

const NOW: &str = "2027-12-01";

fn world() -> World {
    world_with(Policy::proposal_2025())
}

fn world_with(policy: Policy) -> World {
    let mut view = View::new(Rules {
        policy,
        ..Rules::published()
    });
    let yokohama =
        view.add_municipality(MunicipalityCode::parse("141003").unwrap(), at("2026-11-01"));
    let kawasaki =
        view.add_municipality(MunicipalityCode::parse("141305").unwrap(), at("2027-10-01"));
    let aiko = view.add_person(yokohama).unwrap();
    let bunta = view.add_person(kawasaki).unwrap();
    view.set_consent(aiko, Consent::given(at("2026-11-10")))
        .unwrap();
    let cm = view.add_office(Role::CareManagement, yokohama).unwrap();
    let svc_kawasaki = view.add_office(Role::CareService, kawasaki).unwrap();
    let cred = |holder| Credential {
        holder,
        not_before: at("2026-04-01"),
        not_after: at("2029-04-01"),
        revoked_at: Timestamp::MAX,
    };
    let cm_cred = view.add_credential(cred(Holder::Office(cm))).unwrap();
    let svc_kawasaki_cred = view
        .add_credential(cred(Holder::Office(svc_kawasaki)))
        .unwrap();
    let city_cred = view
        .add_credential(cred(Holder::Municipality(yokohama)))
        .unwrap();
    let kawasaki_cred = view
        .add_credential(cred(Holder::Municipality(kawasaki)))
        .unwrap();
    let operator_cred = view.add_credential(cred(Holder::Operator)).unwrap();
    view.register(aiko, cm, Registration::at(at("2026-12-01")))
        .unwrap();
    view.register(aiko, svc_kawasaki, Registration::at(at("2027-10-15")))
        .unwrap();
    let daughter = view.add_agent();
    view.represent(
        daughter,
        aiko,
        Representation {
            from: at("2027-01-01"),
            until: Timestamp::MAX,
        },
    )
    .unwrap();
    World {
        view,
        yokohama,
        kawasaki,
        aiko,
        bunta,
        cm,
        cm_cred,
        svc_kawasaki,
        svc_kawasaki_cred,
        city_cred,
        kawasaki_cred,
        operator_cred,
        daughter,
    }
}

impl World {
    fn cm_reads(&self, class: InfoClass) -> Decision {
        self.ask(
            Principal::Office {
                office: self.cm,
                credential: self.cm_cred,
            },
            self.aiko,
            class,
            NOW,
        )
    }

    fn ask(
        &self,
        principal: Principal,
        subject: PersonId,
        class: InfoClass,
        now: &str,
    ) -> Decision {
        decide(
            &self.view,
            &Request {
                principal,
                subject,
                class,
            },
            at(now),
        )
    }
}

fn deny(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

#[test]
fn permit_registered_office_reads_shared_class_without_consent_check() {
    let mut w = world();
    w.view.set_consent(w.aiko, Consent::NONE).unwrap();
    assert_eq!(w.cm_reads(InfoClass::InsuranceCard), Decision::Permit);
}

#[test]
fn permit_registered_office_reads_consent_class_with_comprehensive_consent() {
    assert_eq!(
        world().cm_reads(InfoClass::CertificationSurvey),
        Decision::Permit
    );
}

#[test]
fn permit_cross_municipality_office_once_both_are_live() {
    let w = world();
    let svc = Principal::Office {
        office: w.svc_kawasaki,
        credential: w.svc_kawasaki_cred,
    };
    assert_eq!(
        w.ask(svc, w.aiko, InfoClass::HomeCarePlan, NOW),
        Decision::Permit
    );
}

#[test]
fn permit_person_representative_insurer_and_creator() {
    let w = world();
    assert_eq!(
        w.ask(
            Principal::Person { person: w.aiko },
            w.aiko,
            InfoClass::InsuranceCard,
            NOW
        ),
        Decision::Permit
    );
    let rep = Principal::Representative { agent: w.daughter };
    assert_eq!(
        w.ask(rep, w.aiko, InfoClass::HomeCarePlan, NOW),
        Decision::Permit
    );
    let city = Principal::Municipality {
        municipality: w.yokohama,
        credential: w.city_cred,
    };
    assert_eq!(
        w.ask(city, w.aiko, InfoClass::CertificationSurvey, NOW),
        Decision::Permit
    );
}

#[test]
fn deny_unknown_principal() {
    let w = world();
    let ghost = Principal::Office {
        office: OfficeId(99),
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(ghost, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::UnknownPrincipal)
    );
    let ghost = Principal::Representative { agent: AgentId(7) };
    assert_eq!(
        w.ask(ghost, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::UnknownPrincipal)
    );
}

#[test]
fn deny_credential_mismatch() {
    let w = world();
    let borrowed = Principal::Office {
        office: w.cm,
        credential: w.svc_kawasaki_cred,
    };
    assert_eq!(
        w.ask(borrowed, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::CredentialMismatch)
    );
    let missing = Principal::Office {
        office: w.cm,
        credential: CredentialId(999),
    };
    assert_eq!(
        w.ask(missing, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::CredentialMismatch)
    );
}

#[test]
fn deny_certificate_revoked_from_the_revocation_instant() {
    let mut w = world();
    w.view.revoke_credential(w.cm_cred, at(NOW)).unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        deny(DenyReason::CertificateRevoked)
    );
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2027-11-30"),
        Decision::Permit
    );
}

#[test]
fn deny_certificate_not_yet_valid_and_expired_at_the_edges() {
    let w = world();
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    // Valid [2026-04-01, 2029-04-01): registration and go-live are earlier checks, so move
    // the world's clock only within them for the expiry edge.
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2026-03-31"),
        deny(DenyReason::CertificateNotYetValid)
    );
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2029-04-01"),
        deny(DenyReason::CertificateExpired)
    );
    let just_before = decide(
        &w.view,
        &Request {
            principal: cm,
            subject: w.aiko,
            class: InfoClass::InsuranceCard,
        },
        at("2029-04-01").plus_seconds(-1),
    );
    assert_eq!(just_before, Decision::Permit);
}

#[test]
fn deny_role_forbidden() {
    let w = world();
    let op = Principal::Operator {
        credential: w.operator_cred,
    };
    assert_eq!(
        w.ask(op, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::RoleForbidden)
    );
    let svc = Principal::Office {
        office: w.svc_kawasaki,
        credential: w.svc_kawasaki_cred,
    };
    assert_eq!(
        w.ask(svc, w.aiko, InfoClass::CertificationSurvey, NOW),
        deny(DenyReason::RoleForbidden)
    );
}

#[test]
fn deny_unknown_subject() {
    let w = world();
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(cm, PersonId(42), InfoClass::InsuranceCard, NOW),
        deny(DenyReason::UnknownSubject)
    );
}

#[test]
fn deny_insurer_not_live_until_the_go_live_instant() {
    let w = world();
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2026-10-31"),
        deny(DenyReason::InsurerNotLive)
    );
    let person = Principal::Person { person: w.aiko };
    let just_before = at("2026-11-01").plus_seconds(-1);
    let req = Request {
        principal: person,
        subject: w.aiko,
        class: InfoClass::InsuranceCard,
    };
    assert_eq!(
        decide(&w.view, &req, just_before),
        deny(DenyReason::InsurerNotLive)
    );
    assert_eq!(decide(&w.view, &req, at("2026-11-01")), Decision::Permit);
}

#[test]
fn deny_office_municipality_not_live_under_the_cross_municipality_rule() {
    let w = world();
    let svc = Principal::Office {
        office: w.svc_kawasaki,
        credential: w.svc_kawasaki_cred,
    };
    // Yokohama is live, Kawasaki is not until 2027-10-01: the Kawasaki office cannot read
    // the Yokohama resident even with a registration.
    assert_eq!(
        w.ask(svc, w.aiko, InfoClass::InsuranceCard, "2027-09-30"),
        deny(DenyReason::OfficeMunicipalityNotLive)
    );
}

#[test]
fn cross_municipality_rule_off_lets_the_office_read_once_the_insurer_is_live() {
    let mut policy = Policy::proposal_2025();
    policy.rollout = RolloutPolicy {
        cross_municipality_rule: false,
    };
    let mut w = world_with(policy);
    let reg = w.view.registration_mut(w.aiko, w.svc_kawasaki).unwrap();
    reg.registered_at = at("2027-01-01");
    let svc = Principal::Office {
        office: w.svc_kawasaki,
        credential: w.svc_kawasaki_cred,
    };
    assert_eq!(
        w.ask(svc, w.aiko, InfoClass::InsuranceCard, "2027-09-30"),
        Decision::Permit
    );
}

#[test]
fn deny_not_own_record() {
    let w = world();
    let person = Principal::Person { person: w.bunta };
    assert_eq!(
        w.ask(person, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::NotOwnRecord)
    );
}

#[test]
fn deny_not_representative_before_appointment_and_for_others() {
    let w = world();
    let rep = Principal::Representative { agent: w.daughter };
    assert_eq!(
        w.ask(rep, w.aiko, InfoClass::InsuranceCard, "2026-12-31"),
        deny(DenyReason::NotRepresentative)
    );
    assert_eq!(
        w.ask(rep, w.bunta, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::NotRepresentative)
    );
}

#[test]
fn representative_has_no_more_rights_than_the_person() {
    let w = world();
    let rep = Principal::Representative { agent: w.daughter };
    assert_eq!(
        w.ask(rep, w.aiko, InfoClass::CertificationSurvey, NOW),
        deny(DenyReason::RoleForbidden)
    );
}

#[test]
fn deny_not_insurer() {
    let w = world();
    let kawasaki = Principal::Municipality {
        municipality: w.kawasaki,
        credential: w.kawasaki_cred,
    };
    assert_eq!(
        w.ask(kawasaki, w.aiko, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::NotInsurer)
    );
}

#[test]
fn deny_not_registered_without_or_before_registration() {
    let w = world();
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(cm, w.bunta, InfoClass::InsuranceCard, NOW),
        deny(DenyReason::NotRegistered)
    );
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2026-11-30"),
        deny(DenyReason::NotRegistered)
    );
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2026-12-01"),
        Decision::Permit
    );
}

#[test]
fn deny_registration_ended_from_the_end_instant() {
    let mut w = world();
    w.view.registration_mut(w.aiko, w.cm).unwrap().ended_at = at(NOW);
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        deny(DenyReason::RegistrationEnded)
    );
}

#[test]
fn deny_registration_lapsed_after_inactivity() {
    let policy = Policy {
        lapse: LapsePolicy::AfterInactivity {
            months: 2,
            exempt_hospital_stays: true,
            exempt_short_stays: false,
        },
        ..Policy::proposal_2025()
    };
    let mut w = world_with(policy);
    w.view
        .registration_mut(w.aiko, w.cm)
        .unwrap()
        .last_service_at = at("2027-10-01");
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        deny(DenyReason::RegistrationLapsed)
    );
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        w.ask(cm, w.aiko, InfoClass::InsuranceCard, "2027-11-30"),
        Decision::Permit
    );
}

#[test]
fn open_exempt_hospital_stay_defers_the_lapse() {
    let policy = Policy {
        lapse: LapsePolicy::AfterInactivity {
            months: 2,
            exempt_hospital_stays: true,
            exempt_short_stays: false,
        },
        ..Policy::proposal_2025()
    };
    let mut w = world_with(policy);
    w.view
        .registration_mut(w.aiko, w.cm)
        .unwrap()
        .last_service_at = at("2027-10-01");
    let stay = Stay {
        kind: StayKind::Hospital,
        from: at("2027-10-20"),
        until: Timestamp::MAX,
    };
    w.view.set_stay(w.aiko, Some(stay)).unwrap();
    assert_eq!(w.cm_reads(InfoClass::InsuranceCard), Decision::Permit);
    // A short stay is not exempt under this policy.
    w.view
        .set_stay(
            w.aiko,
            Some(Stay {
                kind: StayKind::ShortStay,
                ..stay
            }),
        )
        .unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        deny(DenyReason::RegistrationLapsed)
    );
}

#[test]
fn deny_registration_lapsed_when_claims_stop() {
    let policy = Policy {
        lapse: LapsePolicy::TiedToClaims { grace_months: 1 },
        ..Policy::proposal_2025()
    };
    let mut w = world_with(policy);
    w.view.registration_mut(w.aiko, w.cm).unwrap().last_claim_at = at("2027-11-01");
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        deny(DenyReason::RegistrationLapsed)
    );
    w.view.registration_mut(w.aiko, w.cm).unwrap().last_claim_at = at("2027-11-02");
    assert_eq!(w.cm_reads(InfoClass::InsuranceCard), Decision::Permit);
}

#[test]
fn deny_consent_missing() {
    let mut w = world();
    w.view.set_consent(w.aiko, Consent::NONE).unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentMissing)
    );
}

#[test]
fn deny_consent_withdrawn() {
    let mut w = world();
    w.view
        .set_consent(w.aiko, Consent::given(at("2026-11-10")).withdrawn(at(NOW)))
        .unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentWithdrawn)
    );
    assert_eq!(
        w.cm_reads(InfoClass::InsuranceCard),
        Decision::Permit,
        "shared classes need no consent"
    );
}

#[test]
fn deny_consent_expired_under_each_expiry_policy() {
    let after_12 = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::Comprehensive,
            expiry: ConsentExpiry::AfterMonths(12),
        },
        ..Policy::proposal_2025()
    };
    let w = world_with(after_12);
    // Given 2026-11-10, so it ends 2027-11-10.
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentExpired)
    );

    let with_cert = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::Comprehensive,
            expiry: ConsentExpiry::WithCertificationPeriod,
        },
        ..Policy::proposal_2025()
    };
    let mut w = world_with(with_cert);
    let consent = Consent::given(at("2026-11-10")).with_certification_end(at(NOW));
    w.view.set_consent(w.aiko, consent).unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentExpired)
    );
}

#[test]
fn per_office_consent_model_looks_at_the_registration() {
    let per_office = Policy {
        consent: ConsentPolicy {
            model: ConsentModel::PerOffice,
            expiry: ConsentExpiry::Never,
        },
        ..Policy::proposal_2025()
    };
    let mut w = world_with(per_office);
    // The person's comprehensive consent does not count for offices under this model.
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentMissing)
    );
    w.view.registration_mut(w.aiko, w.cm).unwrap().consent = Consent::given(at("2027-01-01"));
    assert_eq!(w.cm_reads(InfoClass::CertificationSurvey), Decision::Permit);
    // The municipality still uses the person's own record.
    let city = Principal::Municipality {
        municipality: w.yokohama,
        credential: w.city_cred,
    };
    assert_eq!(
        w.ask(city, w.aiko, InfoClass::LifeFeedback, NOW),
        Decision::Permit
    );
}

#[test]
fn every_reason_code_is_unique_and_parses_back() {
    for reason in DenyReason::ALL {
        assert_eq!(DenyReason::from_code(reason.code()), Some(reason));
    }
    let mut codes: Vec<_> = DenyReason::ALL.iter().map(|r| r.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), DenyReason::ALL.len());
    assert_eq!(Decision::Permit.code(), "permit");
}

#[test]
fn earlier_checks_win_when_several_fail() {
    let mut w = world();
    // Revoked credential and missing consent: the credential is checked first.
    w.view
        .revoke_credential(w.cm_cred, at("2027-01-01"))
        .unwrap();
    w.view.set_consent(w.aiko, Consent::NONE).unwrap();
    assert_eq!(
        w.cm_reads(InfoClass::CertificationSurvey),
        deny(DenyReason::CertificateRevoked)
    );
}

#[test]
fn standing_checks_the_relation_without_matrix_or_consent() {
    let mut w = world();
    w.view.set_consent(w.aiko, Consent::NONE).unwrap();
    let cm = Principal::Office {
        office: w.cm,
        credential: w.cm_cred,
    };
    assert_eq!(
        standing(&w.view, cm, w.aiko, at(NOW)),
        Ok(Role::CareManagement)
    );
    assert_eq!(
        standing(&w.view, cm, w.bunta, at(NOW)),
        Err(DenyReason::NotRegistered)
    );
    let op = Principal::Operator {
        credential: w.operator_cred,
    };
    assert_eq!(
        standing(&w.view, op, w.aiko, at(NOW)),
        Ok(Role::Operator),
        "the matrix is not consulted"
    );
    w.view
        .revoke_credential(w.cm_cred, at("2027-01-01"))
        .unwrap();
    assert_eq!(
        standing(&w.view, cm, w.aiko, at(NOW)),
        Err(DenyReason::CertificateRevoked)
    );
}

/// Six offices registered for one person under calendar-month policies, in states that
/// cover every registration and per-office consent outcome; built with registrations added
/// in `order`, so which four sit in the person's hot row depends on it.
fn six_offices(
    order: &[usize],
    per_office: bool,
) -> (View, PersonId, Vec<(OfficeId, CredentialId)>) {
    six_offices_under(order, calendar_policy(per_office))
}

/// Per-office or comprehensive consent expiring after 12 months, registrations lapsing 2
/// months after the last service record (hospital stays exempt).
fn calendar_policy(per_office: bool) -> Policy {
    Policy {
        consent: ConsentPolicy {
            model: if per_office {
                ConsentModel::PerOffice
            } else {
                ConsentModel::Comprehensive
            },
            expiry: ConsentExpiry::AfterMonths(12),
        },
        lapse: LapsePolicy::AfterInactivity {
            months: 2,
            exempt_hospital_stays: true,
            exempt_short_stays: false,
        },
        ..Policy::proposal_2025()
    }
}

fn six_offices_under(
    order: &[usize],
    policy: Policy,
) -> (View, PersonId, Vec<(OfficeId, CredentialId)>) {
    let mut view = View::new(Rules {
        policy,
        ..Rules::published()
    });
    let city = view.add_municipality(MunicipalityCode::parse("141003").unwrap(), at("2026-11-01"));
    let person = view.add_person(city).unwrap();
    view.set_consent(person, Consent::given(at("2027-01-10")))
        .unwrap();
    let offices: Vec<_> = (0..6)
        .map(|_| {
            let office = view.add_office(Role::CareManagement, city).unwrap();
            let credential = view
                .add_credential(Credential {
                    holder: Holder::Office(office),
                    not_before: at("2026-04-01"),
                    not_after: at("2029-04-01"),
                    revoked_at: Timestamp::MAX,
                })
                .unwrap();
            (office, credential)
        })
        .collect();
    let consent = Consent::given(at("2027-02-01"));
    let rows = [
        // current, with a recent service record and its own consent
        Registration {
            last_service_at: at("2027-11-15"),
            consent,
            ..Registration::at(at("2027-01-01"))
        },
        // ended
        Registration {
            ended_at: at("2027-11-20"),
            consent,
            ..Registration::at(at("2027-01-01"))
        },
        // lapsed two months after its last service record
        Registration {
            last_service_at: at("2027-09-01"),
            ..Registration::at(at("2027-01-01"))
        },
        // starts later
        Registration::at(at("2027-12-15")),
        // current, per-office consent withdrawn
        Registration {
            last_service_at: at("2027-11-01"),
            consent: consent.withdrawn(at("2027-06-01")),
            ..Registration::at(at("2027-01-01"))
        },
        // current, per-office consent expired (12 months)
        Registration {
            last_service_at: at("2027-11-01"),
            consent: Consent::given(at("2026-11-15")),
            ..Registration::at(at("2026-11-10"))
        },
    ];
    for &i in order {
        view.register(person, offices[i].0, rows[i]).unwrap();
    }
    (view, person, offices)
}

fn answers(view: &View, person: PersonId, offices: &[(OfficeId, CredentialId)]) -> Vec<Decision> {
    let mut out = Vec::new();
    for now in [
        "2027-01-01",
        "2027-06-01",
        "2027-11-01",
        "2027-12-01",
        "2028-01-10",
    ] {
        for &(office, credential) in offices {
            for &class in InfoClass::ALL.iter() {
                let request = Request {
                    principal: Principal::Office { office, credential },
                    subject: person,
                    class,
                };
                out.push(decide(view, &request, at(now)));
            }
        }
    }
    out
}

#[test]
fn registrations_beyond_the_hot_row_decide_like_inline_ones() {
    for per_office in [false, true] {
        let (forward, person, offices) = six_offices(&[0, 1, 2, 3, 4, 5], per_office);
        let (backward, _, _) = six_offices(&[5, 4, 3, 2, 1, 0], per_office);
        let expected = answers(&forward, person, &offices);
        assert_eq!(answers(&backward, person, &offices), expected);
        let cm = |i: usize| Principal::Office {
            office: offices[i].0,
            credential: offices[i].1,
        };
        let ask = |view: &View, i: usize, class| {
            decide(
                view,
                &Request {
                    principal: cm(i),
                    subject: person,
                    class,
                },
                at(NOW),
            )
        };
        for view in [&forward, &backward] {
            assert_eq!(ask(view, 0, InfoClass::InsuranceCard), Decision::Permit);
            assert_eq!(
                ask(view, 1, InfoClass::InsuranceCard),
                deny(DenyReason::RegistrationEnded)
            );
            assert_eq!(
                ask(view, 2, InfoClass::InsuranceCard),
                deny(DenyReason::RegistrationLapsed)
            );
            assert_eq!(
                ask(view, 3, InfoClass::InsuranceCard),
                deny(DenyReason::NotRegistered)
            );
            let consent_of = |i| ask(view, i, InfoClass::CertificationSurvey);
            if per_office {
                assert_eq!(consent_of(0), Decision::Permit);
                assert_eq!(consent_of(4), deny(DenyReason::ConsentWithdrawn));
                assert_eq!(consent_of(5), deny(DenyReason::ConsentExpired));
            } else {
                assert_eq!(consent_of(4), Decision::Permit);
                assert_eq!(consent_of(5), Decision::Permit);
            }
        }
    }
}

#[test]
fn a_registration_changed_in_place_decides_the_same_before_and_after_it_is_settled() {
    let (mut view, person, offices) = six_offices(&[0, 1, 2, 3, 4, 5], true);
    for (i, &(office, _)) in offices.iter().enumerate() {
        let reg = view.registration_mut(person, office).unwrap();
        match i % 3 {
            0 => reg.ended_at = at("2027-06-01"),
            1 => reg.last_service_at = at("2027-12-20"),
            _ => reg.consent = Consent::given(at("2027-11-01")),
        }
        // Decided while the change is not settled into the derived rows …
        let pending = answers(&view, person, &offices);
        // … and after the next change to the view settles it.
        let mut settled = view.clone();
        settled.add_agent();
        assert_eq!(answers(&settled, person, &offices), pending, "office {i}");
    }
}

#[test]
fn new_rules_recompute_every_lapse_and_expiry() {
    let (mut view, person, offices) = six_offices(&[0, 1, 2, 3, 4, 5], false);
    let mut rules = view.rules().clone();
    rules.policy.lapse = LapsePolicy::Never;
    rules.policy.consent.expiry = ConsentExpiry::AfterMonths(6);
    view.set_rules(rules.clone());
    let (fresh, _, _) = six_offices_under(&[0, 1, 2, 3, 4, 5], rules.policy);
    assert_eq!(
        answers(&view, person, &offices),
        answers(&fresh, person, &offices)
    );
    let cm = Principal::Office {
        office: offices[2].0,
        credential: offices[2].1,
    };
    let ask = |class| {
        decide(
            &view,
            &Request {
                principal: cm,
                subject: person,
                class,
            },
            at(NOW),
        )
    };
    // No lapse any more; consent given 2027-01-10 expired after six months.
    assert_eq!(ask(InfoClass::InsuranceCard), Decision::Permit);
    assert_eq!(
        ask(InfoClass::CertificationSurvey),
        deny(DenyReason::ConsentExpired)
    );
}
