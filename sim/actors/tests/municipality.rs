//! The municipality's system and its refusals: a batch that failed is resent later with the
//! same Idempotency-Key and the same bytes (wiremock sees them); an inbox message whose
//! acknowledgement was lost comes back and is processed once; and, against the real platform,
//! a first-time applicant's records wait for the decision while the consent given at the
//! application waits for the go-live.

mod support;

use std::sync::Arc;

use kiban_actors::certification::{ApplicationKind, Decision, Step};
use kiban_actors::client::PlatformClient;
use kiban_actors::migration::MigrationState;
use kiban_actors::municipality::{Municipality, MunicipalityConfig};
use kiban_actors::outcome::Reason;
use kiban_certs::ManualClock;
use kiban_core::vocab::{CareLevel, InfoClass};
use kiban_platform::store::{ConsentAction, ConsentOccasion};
use serde_json::{Value, json};
use support::scene::{Scene, quick};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_raw(
        r#"{"code":"storage-unavailable","detail":"try again","retryable":true}"#,
        "application/problem+json",
    )
}

/// Yokohama's system against a wiremock peer, already sending.
async fn city_on(mock: &MockServer) -> Municipality {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let mut city = Municipality::new(
        yokohama(),
        PlatformClient::plain(*mock.address()),
        jlis_on(clock),
        MunicipalityConfig {
            retry: quick(),
            ..MunicipalityConfig::standard(3)
        },
    )
    .unwrap();
    city.migrate(MigrationState::Standardized, date("2026-09-01"))
        .unwrap();
    city.migrate(MigrationState::Sending, date("2026-09-01"))
        .unwrap();
    city
}

#[tokio::test]
async fn a_failed_batch_is_resent_with_the_same_key_and_bytes() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/municipality/ingest"))
        .respond_with(unavailable())
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/municipality/ingest"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"applied": 1, "persons_created": 1})),
        )
        .with_priority(2)
        .mount(&mock)
        .await;
    let mut city = city_on(&mock).await;
    let population = yokohama_people(81, 2);
    city.enrol(&population[..1], date("2026-10-01"));
    let err = city.sync().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(city.pending_items(), 1, "the batch is kept in flight");
    city.enrol(&population[1..], date("2026-10-02"));
    let report = city.sync().await.unwrap();
    assert_eq!((report.batches, report.items), (2, 2));
    assert_eq!(city.pending_items(), 0);

    let requests = mock.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        5,
        "3 failed attempts, the resend, the next batch"
    );
    let key = |i: usize| requests[i].headers.get("idempotency-key").unwrap().clone();
    for i in 1..4 {
        assert_eq!(key(i), key(0));
        assert_eq!(requests[i].body, requests[0].body, "the same bytes");
    }
    assert_ne!(key(4), key(0));
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["items"][0]["insured"], population[0].insured.as_str());
    let sent = String::from_utf8_lossy(&requests[0].body).into_owned();
    assert!(
        !sent.contains(population[0].my_number().expose()),
        "no My Number leaves the municipality"
    );
}

#[tokio::test]
async fn a_message_whose_acknowledgement_was_lost_is_processed_once() {
    let mock = MockServer::start().await;
    let mut city = city_on(&mock).await;
    let population = yokohama_people(82, 1);
    let person = &population[0];
    city.enrol(&population, date("2026-10-01"));
    let applied = city
        .apply(
            person.insured,
            ApplicationKind::Change,
            date("2026-10-01"),
            None,
            "1311234567",
        )
        .unwrap();
    let message = json!([{
        "id": 1, "kind": "physician-opinion", "route": "ehr", "sender": "1311234567",
        "submitted_at": "2026-10-05T10:00:00+09:00",
        "body": {"insurer": person.insurer.as_str(), "insured": person.insured.as_str(),
            "content": {"request": applied.opinion_request.reference}},
    }]);
    Mock::given(method("GET"))
        .and(path("/v1/municipality/inbox"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/municipality/inbox/1/ack"))
        .respond_with(unavailable())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/municipality/inbox/1/ack"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&mock)
        .await;

    let first = city.poll_inbox(date("2026-10-05")).await.unwrap();
    assert_eq!(first.processed, [1]);
    assert_eq!(first.opinions, [applied.case]);
    assert!(first.acknowledged.is_empty());
    assert_eq!(first.ack_failures.len(), 1);
    assert_eq!(
        first.ack_failures[0].1.reason(),
        Some(Reason::Other("storage-unavailable".into()))
    );
    let second = city.poll_inbox(date("2026-10-06")).await.unwrap();
    assert!(
        second.processed.is_empty() && second.opinions.is_empty(),
        "processed once"
    );
    assert_eq!(second.acknowledged, [1]);
    assert_eq!(
        city.case(applied.case).unwrap().opinion_on(),
        Some(date("2026-10-05"))
    );
}

#[tokio::test]
async fn a_first_application_waits_for_its_decision_and_its_consent_for_the_go_live() {
    let mut s = Scene::start("2026-10-01").await;
    let config = kiban_actors::people::PeopleConfig {
        municipalities: Some(vec![yokohama()]),
        card_holding_rate: 0.0,
        care_levels: vec![(CareLevel::NotApplicable, 1)],
        ..kiban_actors::people::PeopleConfig::standard(date("2026-10-01"))
    };
    let population = kiban_actors::people::generate(83, 1, config).unwrap();
    let person = &population[0];
    s.city
        .migrate(MigrationState::Standardized, date("2026-09-01"))
        .unwrap();
    s.city
        .migrate(MigrationState::Sending, date("2026-09-01"))
        .unwrap();
    s.operator()
        .enrol_municipality(yokohama(), None)
        .await
        .unwrap();
    s.city.enrol(&population, date("2026-10-01"));
    assert!(
        !s.city.is_on_platform(person.insured),
        "no certification, no insurance card"
    );

    let applied = s
        .city
        .apply(
            person.insured,
            ApplicationKind::New,
            date("2026-10-01"),
            Some(CareLevel::Care1),
            "1311234567",
        )
        .unwrap();
    let report = s.city.sync().await.unwrap();
    assert_eq!(
        (report.items, report.held, report.consents_pending),
        (0, 1, 1)
    );

    s.city
        .receive_opinion_outside(applied.case, date("2026-10-15"))
        .unwrap();
    let steps = s.city.advance(date("2026-11-15"));
    let Some((_, Step::Decided(Decision::Certified(c)))) = steps.last() else {
        panic!("{steps:?}");
    };
    assert_eq!(
        (c.level, c.valid_from),
        (CareLevel::Care1, date("2026-10-01"))
    );
    assert_eq!(c.valid_until, date("2027-03-31"), "new: six months");
    let report = s.city.sync().await.unwrap();
    assert_eq!(
        (report.persons_created, report.items, report.held),
        (1, 4, 0)
    );
    assert_eq!(report.consents_pending, 1, "the insurer is not live yet");

    s.city
        .migrate(MigrationState::Sharing, date("2026-10-01"))
        .unwrap();
    s.operator()
        .enrol_municipality(yokohama(), Some(date("2026-10-01")))
        .await
        .unwrap();
    let report = s.city.sync().await.unwrap();
    assert_eq!((report.consents_recorded, report.consents_pending), (1, 0));
    let receipts = s.city.consent_receipts(person.insured).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        (receipts[0].action, receipts[0].occasion),
        (ConsentAction::Given, Some(ConsentOccasion::Application))
    );
    let read = s
        .city
        .read(person.insured, InfoClass::CertificationApplication)
        .await
        .unwrap();
    let records = &read.records().unwrap().records;
    let statuses: Vec<&Value> = records.iter().map(|r| &r.document["status"]).collect();
    assert_eq!(statuses, [&json!("received"), &json!("decided")]);
}

#[tokio::test]
async fn a_renewal_opens_sixty_days_before_the_end_and_records_consent_again() {
    let mut s = Scene::start("2026-10-01").await;
    let population = yokohama_people(84, 1);
    let person = &population[0];
    s.share_from("2026-10-01").await;
    s.city.enrol(&population, date("2026-10-01"));
    let current = s.city.certification_of(person.insured).unwrap();
    let opens = current.renewal_opens();
    assert_eq!(opens, current.valid_until.plus_days(-60));
    let early = s
        .city
        .apply(
            person.insured,
            ApplicationKind::Renewal,
            opens.plus_days(-1),
            None,
            "1311234567",
        )
        .unwrap_err();
    assert!(matches!(
        early,
        kiban_actors::outcome::ActorError::Workflow(
            kiban_actors::certification::WorkflowError::RenewalNotOpen { .. }
        )
    ));
    assert!(s.city.renewals_due(opens.plus_days(-1)).is_empty());
    assert_eq!(s.city.renewals_due(opens), [person.insured]);
    let applied = s
        .city
        .apply(
            person.insured,
            ApplicationKind::Renewal,
            opens,
            None,
            "1311234567",
        )
        .unwrap();
    assert_eq!(applied.kind, ApplicationKind::Renewal);
    let report = s.city.sync().await.unwrap();
    assert_eq!((report.consents_recorded, report.consents_pending), (1, 0));
    let receipts = s.city.consent_receipts(person.insured).await.unwrap();
    assert_eq!(receipts[0].occasion, Some(ConsentOccasion::Renewal));

    // The renewed period follows the current one without a gap, for twelve months.
    s.city
        .receive_opinion_outside(applied.case, opens.plus_days(10))
        .unwrap();
    s.city.advance(opens.plus_days(59));
    let renewed = s.city.certification_of(person.insured).unwrap();
    assert_eq!(renewed.valid_from, current.valid_until.plus_days(1));
    assert_eq!(
        renewed.valid_until,
        renewed.valid_from.plus_months(12).plus_days(-1)
    );
    assert_eq!(renewed.level, person.care_level);
}
