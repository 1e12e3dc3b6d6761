//! The actors end to end over real sockets: the platform on TLS 1.3 with client
//! certificates from a real PKI folder, the J-LIS mock on HTTP, and every actor a real client
//! — the operator, Yokohama's system, care offices, a clinic and the マイナポータル relay.
//!
//! - a municipality migrates, uploads its insured persons and goes live; a care manager
//!   verifies a card and reads; an office that did not verify is refused `not-registered`;
//!   the person withdraws consent through the portal and the next read of a consent class is
//!   refused `consent-withdrawn`;
//! - physician opinions (web and EHR routes) reach the municipality's inbox exactly once,
//!   even when resent, are matched to their cases and acknowledged; the certification runs
//!   to a decision whose insurance card offices then read; the clinic reads as a deemed
//!   office once it verified the card;
//! - the fallback registration for a person without a card, and a representative acting
//!   through the portal until the person ends the representation;
//! - staff who leave, terminals that retire, certificates that expire and are renewed.

mod support;

use kiban_actors::certification::{ApplicationKind, Decision, Stage, Step};
use kiban_actors::client::ClientError;
use kiban_actors::medical::{OpinionRoute, PhysicianOpinion};
use kiban_actors::migration::{MigrationError, MigrationState};
use kiban_actors::municipality::CounterCheck;
use kiban_actors::outcome::{ActorError, ReadOutcome, Reason};
use kiban_actors::reader::Presence;
use kiban_actors::wire::PersonRef;
use kiban_certs::Clock;
use kiban_core::decide::DenyReason;
use kiban_core::vocab::{CareLevel, CarePlanTable, InfoClass, Role};
use kiban_platform::platform::RepresentativeKind;
use kiban_platform::store::{ConsentAction, ConsentOccasion};
use serde_json::{Map, Value, json};
use support::scene::{Scene, care_office, clinic, people};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn denial(outcome: &ReadOutcome) -> Option<DenyReason> {
    outcome.denial()
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// The latest record's document of a permitted read.
fn latest(outcome: &ReadOutcome) -> &Value {
    let records = &outcome.records().expect("permitted").records;
    &records.last().expect("a record").document
}

#[tokio::test]
async fn a_person_is_uploaded_verified_read_and_withdraws_consent_through_the_portal() {
    let mut s = Scene::start("2026-10-01").await;
    let population = people(61, 4, 1.0, 0.0);
    let person = &population[0];
    let me = PersonRef::of(person);
    let mut card = issue(&s.jlis, person, "2026-09-01", 5);

    // Legacy and standardized systems send nothing.
    let err = s.city.sync().await.unwrap_err();
    assert!(matches!(
        err,
        ActorError::Migration(MigrationError::UploadNotAllowed(MigrationState::Legacy))
    ));
    s.city
        .migrate(MigrationState::Standardized, date("2026-06-01"))
        .unwrap();
    assert!(s.city.sync().await.is_err());
    assert_eq!(s.city.enrol(&population, date("2026-10-01")), 4);
    assert_eq!(s.city.pending_items(), 4, "queued, not sent");

    // Sending: the operator puts the municipality on the platform without a go-live.
    s.city
        .migrate(MigrationState::Sending, date("2026-09-01"))
        .unwrap();
    s.operator()
        .enrol_municipality(yokohama(), None)
        .await
        .unwrap();
    let report = s.city.sync().await.unwrap();
    assert_eq!(
        (report.batches, report.items, report.persons_created),
        (1, 4, 4)
    );
    assert_eq!(s.city.pending_items(), 0);

    let mut cm = s
        .office(
            Role::CareManagement,
            care_office(1),
            "ひまわり居宅介護支援",
            Some("43"),
            "cm-pc1",
            365,
        )
        .await;
    let other = s
        .office(
            Role::CareManagement,
            care_office(2),
            "さくら居宅介護支援",
            Some("43"),
            "cm-pc9",
            365,
        )
        .await;

    // Uploaded but not shared: the insurer is not live, for reads and for registrations.
    let read = cm
        .read("cm-pc1", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::InsurerNotLive));
    let err = cm
        .verify(
            "cm-pc1",
            &mut card,
            Presence::Pin(person.pin().unwrap()),
            s.clock.now(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.reason(),
        Some(Reason::Denied(DenyReason::InsurerNotLive))
    );

    // Sharing from today; the care manager verifies the card at contract.
    s.city
        .migrate(MigrationState::Sharing, date("2026-10-01"))
        .unwrap();
    s.operator()
        .enrol_municipality(yokohama(), Some(date("2026-10-01")))
        .await
        .unwrap();
    let verified = cm
        .verify(
            "cm-pc1",
            &mut card,
            Presence::Pin(person.pin().unwrap()),
            s.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!((verified.person, verified.attempts), (me, 1));
    let read = cm
        .read("cm-pc1", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(latest(&read)["care_level"], person.care_level.as_str());
    let certification = s.city.certification_of(person.insured).unwrap();
    assert_eq!(
        latest(&read)["certification_valid_until"],
        certification.valid_until.to_string()
    );

    // An office that did not verify the card is not registered.
    let read = other
        .read("cm-pc9", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRegistered));

    // A consent class: no consent yet, then consent on the municipality's behalf.
    let read = cm
        .read("cm-pc1", me, InfoClass::CertificationSurvey)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::ConsentMissing));
    let receipt = cm.consent_on_behalf("cm-pc1", me, None).await.unwrap();
    assert_eq!(receipt.occasion, Some(ConsentOccasion::OnBehalf));
    assert!(
        cm.read("cm-pc1", me, InfoClass::CertificationSurvey)
            .await
            .unwrap()
            .is_permitted()
    );

    // The person, through the portal: own records, receipts, access log; then withdrawal.
    let mut portal = s.portal();
    let session = portal
        .sign_in(
            &mut card,
            Presence::Pin(person.pin().unwrap()),
            s.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!((session.person, session.represents.len()), (Some(me), 0));
    let own = portal
        .read(&session, me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(latest(&own)["care_level"], person.care_level.as_str());
    let someone_else = PersonRef::of(&population[1]);
    let read = portal
        .read(&session, someone_else, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotOwnRecord));
    let log = portal.access_log(&session, me).await.unwrap();
    let by_cm = log
        .iter()
        .filter(|e| e.entry["action"] == "read" && e.entry["by"]["org"] == json!(cm.number()));
    assert_eq!(
        by_cm.count(),
        4,
        "every read by the care manager, refused ones too"
    );
    assert!(
        log.iter().all(
            |e| e.entry["by"].get("staff").is_none() && e.entry["by"].get("terminal").is_none()
        ),
        "the person does not see staff ids or terminals"
    );
    let withdrawn = portal.withdraw_consent(&session, me).await.unwrap();
    assert_eq!(withdrawn.action, ConsentAction::Withdrawn);
    let err = portal.withdraw_consent(&session, me).await.unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoConsentToWithdraw));
    let receipts = portal.consent_receipts(&session, me).await.unwrap();
    let actions: Vec<ConsentAction> = receipts.iter().map(|r| r.action).collect();
    assert_eq!(actions, [ConsentAction::Given, ConsentAction::Withdrawn]);
    portal.sign_out(session).await.unwrap();

    // The next read of a consent class is refused; a class without consent still reads.
    let read = cm
        .read("cm-pc1", me, InfoClass::CertificationSurvey)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::ConsentWithdrawn));
    assert!(
        cm.read("cm-pc1", me, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    // The insurer sees the same receipts.
    assert_eq!(
        s.city.consent_receipts(person.insured).await.unwrap().len(),
        2
    );
    // No actor's Debug output shows a password or a My Number.
    let shown = format!("{cm:?} {other:?} {:?} {portal:?}", s.city);
    assert!(!shown.contains(support::scene::ADMIN_PASSWORD), "{shown}");
    assert!(!shown.contains(person.my_number().expose()), "{shown}");
}

#[tokio::test]
async fn opinions_reach_the_inbox_once_and_the_certification_is_decided() {
    let mut s = Scene::start("2026-10-01").await;
    let population = people(62, 3, 1.0, 0.0);
    let (a, b) = (&population[0], &population[1]);
    let mut card_a = issue(&s.jlis, a, "2026-09-01", 8);
    s.share_from("2026-10-01").await;
    s.city.enrol(&population, date("2026-10-01"));
    s.city.sync().await.unwrap();
    // C gets a card after the upload; the municipality links it through J-LIS.
    let mut card_c = issue(&s.jlis, &population[2], "2026-10-01", 9);
    assert_eq!(s.city.refresh_card_links(date("2026-10-01")), 1);
    let mut doctor = s
        .office(
            Role::MedicalInstitution,
            clinic(5),
            "みなと内科",
            None,
            "emr-1",
            365,
        )
        .await;
    let mut cm = s
        .office(
            Role::CareManagement,
            care_office(3),
            "あおば居宅介護支援",
            Some("43"),
            "cm-1",
            365,
        )
        .await;

    // Change applications (区分変更) for both; consent is not an occasion of a change.
    let today = date("2026-10-01");
    let applied_a = s
        .city
        .apply(
            a.insured,
            ApplicationKind::Change,
            today,
            Some(CareLevel::Care4),
            &doctor.number(),
        )
        .unwrap();
    let applied_b = s
        .city
        .apply(
            b.insured,
            ApplicationKind::Change,
            today,
            Some(CareLevel::Care3),
            &doctor.number(),
        )
        .unwrap();
    assert_eq!(applied_a.kind, ApplicationKind::Change);
    let err = s
        .city
        .apply(
            a.insured,
            ApplicationKind::Change,
            today,
            None,
            &doctor.number(),
        )
        .unwrap_err();
    assert!(
        matches!(err, ActorError::Workflow(_)),
        "one open case per person"
    );
    let report = s.city.sync().await.unwrap();
    assert_eq!(
        report.items, 3,
        "C's linked record and two application records"
    );
    assert_eq!(s.city.open_opinion_requests().count(), 2);

    // The doctor sends both opinions, one per route; the first is sent twice.
    let written = date("2026-10-10");
    let opinion_a =
        PhysicianOpinion::write(applied_a.opinion_request.clone(), written, "港 太郎", 5);
    let opinion_b =
        PhysicianOpinion::write(applied_b.opinion_request.clone(), written, "港 太郎", 4);
    let first = doctor
        .submit_opinion("emr-1", &opinion_a, OpinionRoute::Web)
        .await
        .unwrap();
    let again = doctor
        .submit_opinion("emr-1", &opinion_a, OpinionRoute::Web)
        .await
        .unwrap();
    assert_eq!(first.id, again.id, "the same Idempotency-Key delivers once");
    let ehr = doctor
        .submit_opinion("emr-1", &opinion_b, OpinionRoute::Ehr)
        .await
        .unwrap();
    assert_ne!(ehr.id, first.id);
    // A care manager files a care-plan request notice (for a person it is registered for).
    let c = PersonRef::of(&population[2]);
    cm.verify("cm-1", &mut card_c, Presence::Visual, s.clock.now())
        .await
        .unwrap();
    let notice = cm
        .request_care_plan("cm-1", c, map(json!({"planner": "青葉 花子"})), "cpr-1")
        .await
        .unwrap();

    let polled = s.city.poll_inbox(date("2026-10-11")).await.unwrap();
    assert_eq!(polled.processed, [first.id, ehr.id, notice.id]);
    assert_eq!(polled.opinions, [applied_a.case, applied_b.case]);
    assert_eq!(polled.care_plan_notices.len(), 1);
    assert_eq!(polled.care_plan_notices[0].person, c);
    assert_eq!(polled.care_plan_notices[0].office, cm.number());
    assert_eq!(polled.acknowledged, [first.id, ehr.id, notice.id]);
    assert!(polled.unmatched.is_empty() && polled.ack_failures.is_empty());
    let again = s.city.poll_inbox(date("2026-10-12")).await.unwrap();
    assert!(
        again.processed.is_empty() && again.acknowledged.is_empty(),
        "acknowledged: gone"
    );
    // Resending after the acknowledgement replays the receipt; nothing new is delivered.
    let late = doctor
        .submit_opinion("emr-1", &opinion_a, OpinionRoute::Web)
        .await
        .unwrap();
    assert_eq!(late.id, first.id);
    assert!(
        s.city
            .poll_inbox(date("2026-10-12"))
            .await
            .unwrap()
            .processed
            .is_empty()
    );
    assert_eq!(s.city.open_opinion_requests().count(), 0);
    let case_a = s.city.case(applied_a.case).unwrap();
    assert_eq!(case_a.opinion_on(), Some(date("2026-10-11")));
    assert_eq!(
        case_a.stage(),
        Stage::Received,
        "the survey is due on the 12th"
    );

    // The workflow runs to its decision; the new insurance card is uploaded.
    let steps = s.city.advance(date("2026-10-12"));
    assert!(
        steps
            .iter()
            .all(|(_, step)| matches!(step, Step::Surveyed(_)))
            && steps.len() == 2
    );
    assert_eq!(
        s.city.case(applied_a.case).unwrap().stage(),
        Stage::OpinionReceived
    );
    let steps = s.city.advance(date("2026-11-30"));
    let decided: Vec<Decision> = steps
        .iter()
        .filter_map(|(_, step)| match step {
            Step::Decided(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(
        (steps.len(), decided.len()),
        (6, 2),
        "primary, board, decision each"
    );
    let new_a = s.city.certification_of(a.insured).unwrap();
    assert_eq!(new_a.level, CareLevel::Care4);
    assert_eq!(
        new_a.valid_from, today,
        "a change takes effect from the application"
    );
    let report = s.city.sync().await.unwrap();
    assert_eq!(
        report.items, 8,
        "survey, two progress records and the card for each"
    );

    // The clinic reads as a deemed office only after verifying the card.
    let me = PersonRef::of(a);
    let read = doctor
        .read("emr-1", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRegistered));
    doctor
        .verify(
            "emr-1",
            &mut card_a,
            Presence::Pin(a.pin().unwrap()),
            s.clock.now(),
        )
        .await
        .unwrap();
    let read = doctor
        .read("emr-1", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(latest(&read)["care_level"], "care-4");
    assert_eq!(
        latest(&read)["certification_valid_until"],
        new_a.valid_until.to_string()
    );
    // Its own opinion is on the person's record; a class the matrix does not give it is not.
    let read = doctor
        .read("emr-1", me, InfoClass::PhysicianOpinion)
        .await
        .unwrap();
    assert_eq!(
        latest(&read)["content"]["request"],
        applied_a.opinion_request.reference
    );
    let read = doctor
        .read("emr-1", me, InfoClass::CertificationApplication)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::RoleForbidden));
    // The insurer reads the progress it uploaded: the last record says decided.
    let read = s
        .city
        .read(a.insured, InfoClass::CertificationApplication)
        .await
        .unwrap();
    assert_eq!(latest(&read)["status"], "decided");
}

#[tokio::test]
async fn a_person_without_a_card_and_a_representative_with_one() {
    let mut s = Scene::start("2026-10-01").await;
    let population = people(63, 8, 0.5, 1.0);
    let without = population
        .iter()
        .find(|p| !p.holds_card)
        .expect("someone without a card");
    let holder = population
        .iter()
        .find(|p| p.holds_card)
        .expect("a card holder");
    s.share_from("2026-10-01").await;
    let mut holder_card = issue(&s.jlis, holder, "2026-09-01", 1);
    s.city.enrol(&population, date("2026-10-01"));
    s.city.sync().await.unwrap();
    assert!(s.city.card_link_of(holder.insured).is_some());
    assert!(s.city.card_link_of(without.insured).is_none());
    let cm = s
        .office(
            Role::CareManagement,
            care_office(4),
            "みどり居宅介護支援",
            Some("43"),
            "cm-1",
            365,
        )
        .await;

    // The fallback: verified at the counter, registered by the municipality.
    let me = PersonRef::of(without);
    let read = cm.read("cm-1", me, InfoClass::InsuranceCard).await.unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRegistered));
    s.city
        .register_without_card(without.insured, &cm.number(), CounterCheck::PhotoId)
        .await
        .unwrap();
    assert!(
        cm.read("cm-1", me, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    let err = s
        .city
        .register_without_card(holder.insured, &cm.number(), CounterCheck::PhotoId)
        .await
        .unwrap_err();
    assert!(matches!(err, ActorError::FallbackForCardHolder));
    let log = s.city.access_log(without.insured).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.entry["verified_by"] == "counter-photo-id")
    );

    // The holder's family member gets their own card; the municipality registers them.
    let request = holder
        .representative_card_request(99)
        .expect("a representative");
    let agent_pin = request.pin.unwrap();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(4);
    let mut agent_card = s
        .jlis
        .issue_card(request, at("2026-09-15"), &mut rng)
        .unwrap();
    let agent_link = s.jlis.link_for(agent_card.my_number()).unwrap();
    let entry = s
        .city
        .register_representative(
            holder.insured,
            &agent_card,
            RepresentativeKind::Family,
            None,
            None,
        )
        .await
        .unwrap();
    assert!(entry.active);
    assert_eq!(entry.agent, agent_link.as_str());

    let mut portal = s.portal();
    let agent = portal
        .sign_in(&mut agent_card, Presence::Pin(agent_pin), s.clock.now())
        .await
        .unwrap();
    let theirs = PersonRef::of(holder);
    assert_eq!(
        (agent.person, agent.represents.clone()),
        (None, vec![theirs])
    );
    assert!(
        portal
            .read(&agent, theirs, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    let read = portal
        .read(&agent, me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRepresentative));
    let err = portal
        .end_representative(&agent, theirs, &agent_link)
        .await
        .unwrap_err();
    assert_eq!(
        err.reason(),
        Some(Reason::Denied(DenyReason::RoleForbidden)),
        "a representative cannot end a representation: {err}"
    );

    // A facility obtains consent on the municipality's behalf and keeps its own plan.
    let mut home = s
        .office(
            Role::Facility,
            care_office(9),
            "特別養護老人ホーム やまゆり",
            Some("51"),
            "f-1",
            365,
        )
        .await;
    home.verify("f-1", &mut holder_card, Presence::Visual, s.clock.now())
        .await
        .unwrap();
    let receipt = home.consent_on_behalf("f-1", theirs, None).await.unwrap();
    assert_eq!(receipt.occasion, Some(ConsentOccasion::OnBehalf));
    home.upload_care_plan(
        "f-1",
        theirs,
        CarePlanTable::Facility1,
        map(json!({"goal": "離床"})),
    )
    .await
    .unwrap();
    let read = home
        .read("f-1", theirs, InfoClass::FacilityCarePlan)
        .await
        .unwrap();
    assert_eq!(latest(&read)["table"], "facility-1");

    // The person ends it through the portal; the agent's next read is refused.
    let own = portal
        .sign_in(
            &mut holder_card,
            Presence::Pin(holder.pin().unwrap()),
            s.clock.now(),
        )
        .await
        .unwrap();
    let reps = portal.representatives(&own, theirs).await.unwrap();
    assert_eq!(reps.len(), 1);
    let ended = portal
        .end_representative(&own, theirs, &agent_link)
        .await
        .unwrap();
    assert!(!ended.active);
    let read = portal
        .read(&agent, theirs, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRepresentative));
}

#[tokio::test]
async fn staff_leave_terminals_retire_and_certificates_expire() {
    let mut s = Scene::start("2026-10-01").await;
    let population = people(64, 2, 0.0, 0.0);
    s.share_from("2026-10-01").await;
    s.city.enrol(&population, date("2026-10-01"));
    s.city.sync().await.unwrap();
    let me = PersonRef::of(&population[0]);
    let mut cm = s
        .office(
            Role::CareManagement,
            care_office(6),
            "ふじ居宅介護支援",
            Some("43"),
            "pc-1",
            365,
        )
        .await;
    s.city
        .register_without_card(
            population[0].insured,
            &cm.number(),
            CounterCheck::TwoDocuments,
        )
        .await
        .unwrap();
    cm.open_terminal("pc-2", &mut s.world.desk(), 30, Default::default())
        .unwrap();
    cm.open_terminal("pc-3", &mut s.world.desk(), 365, Default::default())
        .unwrap();
    assert_eq!(cm.expiring_terminals(s.clock.now(), 30), ["pc-2"]);

    // A new member of staff works on pc-2 until they leave.
    cm.add_staff("pc-1", "sato", false).await.unwrap();
    cm.sign_in("pc-2", "sato").await.unwrap();
    assert!(
        cm.read("pc-2", me, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    let err = cm.add_staff("pc-2", "tanaka", false).await.unwrap_err();
    assert_eq!(err.reason(), Some(Reason::AdminRequired));
    cm.staff_leaves("pc-1", "sato").await.unwrap();
    let err = cm
        .read("pc-2", me, InfoClass::InsuranceCard)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::StaffDisabled), "{err}");
    assert!(matches!(
        cm.sign_in("pc-2", "sato").await.unwrap_err(),
        ActorError::UnknownStaff(_)
    ));

    // pc-3 is retired: its certificate is revoked, whatever keeps using it is refused.
    cm.sign_in("pc-3", "admin").await.unwrap();
    assert!(
        cm.read("pc-3", me, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    cm.retire_terminal("pc-3", &mut s.world.desk()).unwrap();
    assert!(cm.is_retired("pc-3"));
    assert!(matches!(
        cm.read("pc-3", me, InfoClass::InsuranceCard)
            .await
            .unwrap_err(),
        ActorError::UnknownTerminal(_)
    ));
    // The device still holds the certificate and the session (a BYOD phone that went home):
    // used again, it is refused.
    let again = cm
        .read_from_retired("pc-3", me, InfoClass::InsuranceCard)
        .await;
    let refused_as_revoked = match &again {
        Ok(outcome) => outcome.denial() == Some(DenyReason::CertificateRevoked),
        Err(ActorError::Platform {
            error: ClientError::Tls(_),
            ..
        }) => true,
        Err(_) => false,
    };
    assert!(
        refused_as_revoked,
        "a revoked certificate is refused: {again:?}"
    );

    // pc-2's 30-day certificate expires; renewed, the terminal works again.
    cm.sign_in("pc-2", "admin").await.unwrap();
    s.set_date("2026-11-02").await;
    let err = cm.sign_in("pc-2", "admin").await.unwrap_err();
    let expired = err
        .reason()
        .is_some_and(|r| r == Reason::Denied(DenyReason::CertificateExpired));
    assert!(
        expired
            || matches!(
                err,
                ActorError::Platform {
                    error: ClientError::Tls(_),
                    ..
                }
            ),
        "an expired certificate is refused: {err}"
    );
    cm.renew_terminal("pc-2", &mut s.world.desk(), 365).unwrap();
    assert!(cm.expiring_terminals(s.clock.now(), 30).is_empty());
    cm.sign_in("pc-2", "admin").await.unwrap();
    assert!(
        cm.read("pc-2", me, InfoClass::InsuranceCard)
            .await
            .unwrap()
            .is_permitted()
    );
    // pc-1's session ended with the clock (8 hours); its certificate still works.
    let err = cm
        .read("pc-1", me, InfoClass::InsuranceCard)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::InvalidSession));
    cm.sign_in("pc-1", "admin").await.unwrap();
    cm.upload_care_plan(
        "pc-1",
        me,
        CarePlanTable::Home1,
        map(json!({"policy": "自宅での生活を続ける"})),
    )
    .await
    .unwrap();
    let read = cm.read("pc-1", me, InfoClass::HomeCarePlan).await.unwrap();
    assert_eq!(latest(&read)["table"], "home-1");
}

#[tokio::test]
async fn a_jlis_outage_is_retried_with_a_new_nonce_and_registers_nothing_while_it_lasts() {
    let jlis_peer = MockServer::start().await;
    let mut s = Scene::start_asking("2026-10-01", Some(jlis_peer.uri())).await;
    let population = people(65, 1, 1.0, 0.0);
    let person = &population[0];
    let me = PersonRef::of(person);
    let mut card = issue(&s.jlis, person, "2026-09-01", 6);
    s.share_from("2026-10-01").await;
    s.city.enrol(&population, date("2026-10-01"));
    s.city.sync().await.unwrap();
    let mut cm = s
        .office(
            Role::CareManagement,
            care_office(7),
            "かえで居宅介護支援",
            Some("43"),
            "cm-1",
            365,
        )
        .await;
    let mut other = s
        .office(
            Role::CareManagement,
            care_office(8),
            "もみじ居宅介護支援",
            Some("43"),
            "cm-2",
            365,
        )
        .await;
    let answer = serde_json::to_value(s.jlis.answer(card.certificate_serial()).unwrap()).unwrap();
    let path_of_card = format!("/v1/certificates/{}", card.certificate_serial());

    // One outage, then J-LIS answers: the office asks for a new nonce and succeeds.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&jlis_peer)
        .await;
    Mock::given(method("GET"))
        .and(path(path_of_card.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .with_priority(2)
        .mount(&jlis_peer)
        .await;
    let pin = Presence::Pin(person.pin().unwrap());
    let verified = cm
        .verify("cm-1", &mut card, pin, s.clock.now())
        .await
        .unwrap();
    assert_eq!((verified.person, verified.attempts), (me, 2));

    assert_eq!(jlis_peer.received_requests().await.unwrap().len(), 2);

    // J-LIS down for good: every attempt is refused, retryable, and nothing is registered.
    jlis_peer.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&jlis_peer)
        .await;
    let err = other
        .verify("cm-2", &mut card, pin, s.clock.now())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::JlisUnavailable));
    assert!(err.is_retryable());
    let read = other
        .read("cm-2", me, InfoClass::InsuranceCard)
        .await
        .unwrap();
    assert_eq!(denial(&read), Some(DenyReason::NotRegistered));
    let asked = jlis_peer.received_requests().await.unwrap().len();
    assert_eq!(asked, 3, "three attempts, each with a new nonce");
    assert_eq!(card.pin_failures(), 0, "the PIN was right every time");
}
