//! Observe mode end to end. The actors of kiban-actors are well-behaved vendor systems: a
//! municipality system and a care-management office's software are driven against the
//! observed platform, every check passes (or is not exercised) and the script completes, and
//! the reports of two runs with the same seed are byte-identical. A deliberately misbehaving
//! raw client (the suite's own HTTP client, and rustls configurations of its own) shows each
//! kind of finding under the right requirement; no My Number it sent reaches any file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiban_actors::careplan::{CarePlan, PlannedService, actuals_for, year_month};
use kiban_actors::certification::ApplicationKind;
use kiban_actors::client::{PlatformClient, RetryPolicy};
use kiban_actors::medical::{OpinionRoute, PhysicianOpinion};
use kiban_actors::migration::MigrationState;
use kiban_actors::municipality::{Municipality, MunicipalityConfig};
use kiban_actors::office::{Office, OfficeSpec};
use kiban_actors::operator::TerminalCertificate;
use kiban_actors::outcome::ReadOutcome;
use kiban_actors::people::{PeopleConfig, Person, generate};
use kiban_actors::reader::{CardReader, Presence, ReaderConfig};
use kiban_actors::wire::PersonRef;
use kiban_certs::{ClientCredentials, Clock, Organisation};
use kiban_conformance::http::{Client, Req};
use kiban_conformance::observe::script::Script;
use kiban_conformance::observe::{self, ADMIN_PASSWORD, Ended, ObserveOptions, Observer};
use kiban_conformance::report::{FILES, Outcome, verify_json};
use kiban_conformance::{Report, Slot};
use kiban_core::id::{MunicipalityCode, MyNumber};
use kiban_core::time::Date;
use kiban_core::vocab::{InfoClass, Role};
use kiban_platform::careplan::{ClockTime, ServiceCode, ServiceTypeCode, Weekday};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const CITY: &str = "141003";

const MUNICIPALITY_SCRIPT: &str = include_str!("../observe-scripts/municipality.toml");

const OFFICE_SCRIPT: &str = include_str!("../observe-scripts/care-management.toml");

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn clock(observer: &Observer) -> Arc<dyn Clock> {
    observer.clock().clone()
}

fn client_with(observer: &Observer, credentials: ClientCredentials) -> PlatformClient {
    PlatformClient::with_credentials(
        observer.addr(),
        observer.server_name(),
        &observer.harness().server_ca,
        credentials,
        clock(observer),
    )
    .unwrap()
}

fn start(role: Role, out: &Path, script: &str) -> Observer {
    let mut options = ObserveOptions::new(role, out);
    options.script = Some(("script.toml".to_owned(), Script::parse(script).unwrap()));
    observe::start(options).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An office of a harness slot (its traffic is recorded, never judged), administrator signed in.
async fn harness_office(
    observer: &Observer,
    slot: Slot,
    service_type: Option<&str>,
    seed: u64,
) -> (Office, String) {
    let creds = &observer.harness().clients[&slot];
    let principal = creds.identity.principal.clone();
    let terminal = principal.terminal().to_string();
    let spec = OfficeSpec {
        role: principal.role(),
        organisation: *principal.organisation(),
        name: format!("harness {slot}"),
        municipality: MunicipalityCode::parse(CITY).unwrap(),
        service_type: service_type.map(|t| ServiceTypeCode::parse(t).unwrap()),
    };
    let certificate = TerminalCertificate {
        client: client_with(observer, creds.credentials.clone()),
        principal,
        serial: creds.identity.serial.clone(),
        not_after: creds.identity.not_after,
    };
    let mut office = Office::new(spec, ADMIN_PASSWORD, seed);
    office
        .install_terminal(&terminal, certificate, ReaderConfig::default())
        .unwrap();
    office.sign_in(&terminal, "admin").await.unwrap();
    (office, terminal)
}

fn people(seed: u64, today: Date, n: usize) -> Vec<Person> {
    let config = PeopleConfig {
        municipalities: Some(vec![MunicipalityCode::parse(CITY).unwrap()]),
        card_holding_rate: 1.0,
        representative_rate: 0.0,
        ..PeopleConfig::standard(today)
    };
    generate(seed, n, config).unwrap()
}

fn sharing(city: &mut Municipality, today: Date) {
    city.migrate(MigrationState::Standardized, today.plus_months(-1))
        .unwrap();
    city.migrate(MigrationState::Sending, today.plus_months(-1))
        .unwrap();
    city.migrate(MigrationState::Sharing, today).unwrap();
}

/// The municipality system of kiban-actors observed: uploads (the first answer is an injected
/// 503), an application whose opinion a harness doctor submits, the inbox polled and acked.
fn municipality_run(out: &Path, seed: u64) -> (Report, Vec<std::path::PathBuf>) {
    let observer = start(Role::Municipality, out, MUNICIPALITY_SCRIPT);
    let rt = runtime();
    let ended = rt.block_on(async {
        let today = observer.clock().now().date_jst();
        let code = MunicipalityCode::parse(CITY).unwrap();
        let client = client_with(&observer, observer.terminals()[0].credentials.clone());
        let mut city = Municipality::new(
            code,
            client,
            observer.jlis().unwrap().clone(),
            MunicipalityConfig::standard(seed),
        )
        .unwrap();
        sharing(&mut city, today);
        let population = people(seed, today, 3);
        city.enrol(&population, today);
        city.sync().await.unwrap();
        let (doctor, terminal) =
            harness_office(&observer, Slot::MedicalInstitution, None, seed).await;
        let applied = city
            .apply(
                population[0].insured,
                ApplicationKind::Change,
                today,
                None,
                &doctor.number(),
            )
            .unwrap();
        city.sync().await.unwrap();
        let opinion = PhysicianOpinion::write(applied.opinion_request, today, "港 太郎", 4);
        doctor
            .submit_opinion(&terminal, &opinion, OpinionRoute::Web)
            .await
            .unwrap();
        let polled = city.poll_inbox(today).await.unwrap();
        assert_eq!(polled.acknowledged.len(), 1, "{polled:?}");
        observer
            .wait(Some(Duration::from_secs(10)), std::future::pending())
            .await
    });
    assert_eq!(ended, Ended::ScriptComplete);
    observer.finish(ended).unwrap()
}

fn outcome<'a>(report: &'a Report, id: &str) -> &'a str {
    report
        .result(id)
        .map_or_else(|| panic!("no {id}"), |r| r.outcome.as_str())
}

fn read_reports(dir: &Path) -> BTreeMap<&'static str, String> {
    FILES
        .iter()
        .map(|f| (*f, std::fs::read_to_string(dir.join(f)).unwrap()))
        .collect()
}

#[test]
fn the_municipality_system_of_kiban_actors_passes_every_check_and_the_report_is_deterministic() {
    let first = tempfile::tempdir().unwrap();
    let (report, files) = municipality_run(first.path(), 11);
    assert!(report.all_passed(), "{}", report.console_summary());
    for id in [
        "OBS-TLS-01",
        "OBS-TLS-02",
        "OBS-STF-02",
        "OBS-ING-01",
        "OBS-ING-02",
        "OBS-SUB-01",
        "OBS-ERR-01",
        "OBS-ERR-02",
        "OBS-ERR-03",
        "OBS-ERR-04",
        "OBS-PRV-01",
        "SCR-01",
        "SCR-02",
        "SCR-03",
    ] {
        assert_eq!(
            outcome(&report, id),
            "pass",
            "{id}\n{}",
            report.console_summary()
        );
    }
    assert_eq!(outcome(&report, "OBS-STF-01"), "skip");
    let observed = report.observe.as_ref().unwrap();
    assert_eq!(observed.ended, Ended::ScriptComplete.as_str());
    assert!(
        observed.peer_exchanges >= 2,
        "the doctor's sign-in and opinion"
    );
    assert_eq!(files.len(), 5);
    let json = std::fs::read_to_string(first.path().join("conformance.json")).unwrap();
    assert!(verify_json(&json).unwrap());
    let connection = std::fs::read_to_string(first.path().join(observe::CONNECTION_FILE)).unwrap();
    assert!(connection.contains("format = \"kiban-observe-connection/1\""));
    assert!(connection.contains("role = \"municipality\""));

    let second = tempfile::tempdir().unwrap();
    let (again, _) = municipality_run(second.path(), 11);
    assert_eq!(again.to_json(), report.to_json());
    assert_eq!(read_reports(first.path()), read_reports(second.path()));
    for text in read_reports(first.path()).values() {
        assert!(!text.contains("127.0.0.1"), "no address in a report");
    }
}

#[test]
fn the_care_management_software_of_kiban_actors_passes_every_check_and_completes_the_script() {
    let out = tempfile::tempdir().unwrap();
    let seed = 5;
    let observer = start(Role::CareManagement, out.path(), OFFICE_SCRIPT);
    let rt = runtime();
    let ended = rt.block_on(async {
        let today = observer.clock().now().date_jst();
        let code = MunicipalityCode::parse(CITY).unwrap();
        // The insurer is a harness peer: it puts the people on the platform.
        let city_creds = observer.harness().clients[&Slot::Municipality]
            .credentials
            .clone();
        let mut city = Municipality::new(
            code,
            client_with(&observer, city_creds),
            observer.jlis().unwrap().clone(),
            MunicipalityConfig::standard(seed),
        )
        .unwrap();
        sharing(&mut city, today);
        let population = people(seed, today, 2);
        let person = &population[0];
        let me = PersonRef::of(person);
        // The card exists before the municipality asks J-LIS for its holders' card links.
        let mut card = observer
            .jlis()
            .unwrap()
            .issue_card(
                person.card_request().unwrap(),
                date("2026-09-01").midnight_jst(),
                &mut ChaCha8Rng::seed_from_u64(seed),
            )
            .unwrap();
        city.enrol(&population, today);
        city.sync().await.unwrap();

        // The vendor: care-management software on terminal vendor-1.
        let vendor = &observer.terminals()[0];
        let terminal = vendor.principal.terminal().to_string();
        let spec = OfficeSpec {
            role: Role::CareManagement,
            organisation: observer.organisation(),
            name: "ひまわり居宅介護支援".to_owned(),
            municipality: code,
            service_type: Some(ServiceTypeCode::parse("43").unwrap()),
        };
        let mut cm = Office::new(spec, ADMIN_PASSWORD, seed).with_retry(RetryPolicy::default());
        cm.install_terminal(
            &terminal,
            TerminalCertificate {
                client: client_with(&observer, vendor.credentials.clone()),
                principal: vendor.principal.clone(),
                serial: vendor.serial.clone(),
                not_after: vendor.not_after,
            },
            ReaderConfig::default(),
        )
        .unwrap();
        cm.sign_in(&terminal, "admin").await.unwrap();
        let pin = person.pin().unwrap();
        cm.verify(
            &terminal,
            &mut card,
            Presence::Pin(pin),
            observer.clock().now(),
        )
        .await
        .unwrap();
        let read = cm
            .read(&terminal, me, InfoClass::InsuranceCard)
            .await
            .unwrap();
        assert!(matches!(read, ReadOutcome::Permitted(_)), "{read:?}");
        cm.request_care_plan(&terminal, me, serde_json::Map::new(), "cpr-vendor-1")
            .await
            .unwrap();

        // Plan files to a harness care-service office, which answers with 実績.
        let (help, help_terminal) =
            harness_office(&observer, Slot::CareService, Some("11"), seed).await;
        let (cm_end, help_end) = (
            cm.spec().endpoint().unwrap(),
            help.spec().endpoint().unwrap(),
        );
        let certification = city.certification_of(person.insured).unwrap();
        let mut plan = CarePlan::for_person(
            person,
            certification,
            cm_end,
            "ひまわり",
            "山田 花子",
            today,
        );
        plan.services = vec![PlannedService {
            provider: help_end,
            provider_name: "ケアサービス".into(),
            service_kind: "訪問介護".into(),
            content: "入浴介助".into(),
            code: ServiceCode::parse("111211").unwrap(),
            units: 387,
            weekdays: vec![Weekday::Monday, Weekday::Thursday],
            start: ClockTime::new(10, 0).unwrap(),
            end: ClockTime::new(10, 30).unwrap(),
        }];
        let sent_at = observer.clock().now().plus_seconds(3600);
        let mut files = plan.plan_files(help_end, sent_at).unwrap();
        files.extend(
            plan.usage_files(
                help_end,
                year_month(date("2026-11-01")).unwrap(),
                today,
                sent_at.plus_seconds(60),
            )
            .unwrap(),
        );
        cm.send_files(&terminal, &files).await.unwrap();
        let received = help.receive_files(&help_terminal).await.unwrap();
        let planned = received
            .iter()
            .find(|f| f.kind() == kiban_platform::careplan::FileKind::Plan)
            .unwrap();
        let actual = actuals_for(planned, help_end, date("2026-12-02"), sent_at.plus_days(40))
            .unwrap()
            .unwrap();
        help.send_files(&help_terminal, std::slice::from_ref(&actual))
            .await
            .unwrap();
        let back = cm.receive_files(&terminal).await.unwrap();
        assert_eq!(back.len(), 1);
        observer
            .wait(Some(Duration::from_secs(10)), std::future::pending())
            .await
    });
    assert_eq!(ended, Ended::ScriptComplete);
    let (report, _) = observer.finish(ended).unwrap();
    assert!(report.all_passed(), "{}", report.console_summary());
    for id in [
        "OBS-TLS-01",
        "OBS-TLS-02",
        "OBS-STF-01",
        "OBS-IDV-01",
        "OBS-IDV-02",
        "OBS-ING-01",
        "OBS-ING-02",
        "OBS-CPX-01",
        "OBS-ERR-01",
        "OBS-ERR-02",
        "OBS-PRV-01",
    ] {
        assert_eq!(
            outcome(&report, id),
            "pass",
            "{id}\n{}",
            report.console_summary()
        );
    }
    assert_eq!(outcome(&report, "OBS-SUB-01"), "skip");
    for i in 1..=8 {
        assert_eq!(outcome(&report, &format!("SCR-{i:02}")), "pass");
    }
}

/// The requirements of every finding of check `id`.
fn finding_requirements(report: &Report, id: &str) -> Vec<String> {
    let result = report.result(id).unwrap_or_else(|| panic!("no {id}"));
    match &result.outcome {
        Outcome::Fail { failure } if result.findings.is_empty() => {
            vec![failure.requirement.clone()]
        }
        Outcome::Fail { .. } => result
            .findings
            .iter()
            .map(|f| f.requirement.clone())
            .collect(),
        other => panic!("{id}: {other:?}\n{}", report.console_summary()),
    }
}

fn tls_config(
    observer: &Observer,
    versions: &[&'static rustls::SupportedProtocolVersion],
    credentials: Option<ClientCredentials>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(observer.harness().server_ca.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match credentials {
        Some(c) => builder.with_client_auth_cert(c.chain, c.key).unwrap(),
        None => builder.with_no_client_auth(),
    })
}

fn raw(observer: &Observer, config: Arc<rustls::ClientConfig>) -> Client {
    Client::new(
        "vendor",
        observer.addr(),
        observer.server_name(),
        config,
        Duration::from_secs(10),
    )
}

const MISBEHAVING_SCRIPT: &str = r#"
format = "kiban-observe-script/1"

[[expect]]
id = "ingest"
route = "POST /v1/municipality/ingest"
at_most = 1

[[expect]]
id = "consent"
route = "PUT /v1/persons/{insurer}/{insured}/consent"

[[fail]]
route = "GET /v1/municipality/inbox"
nth = 1
retry_after = 2

[[fail]]
route = "POST /v1/municipality/ingest"
nth = 8
"#;

#[test]
fn a_misbehaving_municipality_client_shows_each_kind_of_finding_and_no_my_number_is_kept() {
    let out = tempfile::tempdir().unwrap();
    let observer = start(Role::Municipality, out.path(), MISBEHAVING_SCRIPT);
    let vendor = observer.terminals()[0].credentials.clone();
    let tls13 = tls_config(&observer, &[&rustls::version::TLS13], Some(vendor.clone()));
    let my_number = MyNumber::random(&mut ChaCha8Rng::seed_from_u64(3));
    let digits = my_number.expose().to_owned();
    let rt = runtime();
    let ended = rt.block_on(async {
        let today = observer.clock().now().date_jst();
        // A well-behaved municipality actor on the same certificate puts a person, an
        // application and (through a harness doctor) an inbox message on the platform.
        let code = MunicipalityCode::parse(CITY).unwrap();
        let mut city = Municipality::new(
            code,
            client_with(&observer, vendor.clone()),
            observer.jlis().unwrap().clone(),
            MunicipalityConfig::standard(2),
        )
        .unwrap();
        sharing(&mut city, today);
        let population = people(2, today, 1);
        city.enrol(&population, today);
        city.sync().await.unwrap();
        let (doctor, terminal) = harness_office(&observer, Slot::MedicalInstitution, None, 2).await;
        let applied = city
            .apply(
                population[0].insured,
                ApplicationKind::Change,
                today,
                None,
                &doctor.number(),
            )
            .unwrap();
        city.sync().await.unwrap();
        let opinion = PhysicianOpinion::write(applied.opinion_request, today, "港 太郎", 4);
        doctor
            .submit_opinion(&terminal, &opinion, OpinionRoute::Web)
            .await
            .unwrap();

        // TLS: TLS 1.2 only; no certificate; a certificate of another role and organisation.
        let tls12 = tls_config(&observer, &[&rustls::version::TLS12], Some(vendor.clone()));
        assert_eq!(
            raw(&observer, tls12)
                .send(&Req::get("/healthz"))
                .await
                .status(),
            0
        );
        let anonymous = tls_config(&observer, &[&rustls::version::TLS13], None);
        assert_eq!(
            raw(&observer, anonymous)
                .send(&Req::get("/healthz"))
                .await
                .status(),
            0
        );
        let rogue = observer
            .issue_terminal(
                Role::CareService,
                Organisation::parse_for(Role::CareService, "1471100048").unwrap(),
                "rogue-1",
            )
            .unwrap();
        let rogue = tls_config(
            &observer,
            &[&rustls::version::TLS13],
            Some(rogue.credentials),
        );
        assert_eq!(
            raw(&observer, rogue)
                .send(&Req::get("/healthz"))
                .await
                .status(),
            200
        );

        let c = raw(&observer, tls13);
        let ingest = "/v1/municipality/ingest";
        // No Idempotency-Key; a key reused for other bytes.
        let empty = json!({"items": []});
        assert_eq!(c.send(&Req::post(ingest).json(&empty)).await.status(), 400);
        let batch = |n: u32| json!({"items": [{"kind": "nothing", "n": n}]});
        c.send(&Req::post(ingest).json(&batch(1)).key("k-reused"))
            .await;
        c.send(&Req::post(ingest).json(&batch(2)).key("k-reused"))
            .await;
        // Malformed JSON, then the same bytes again; an unknown route.
        let broken = Req::post(ingest)
            .raw("application/json", "{not json")
            .key("k-broken");
        assert_eq!(c.send(&broken).await.status(), 400);
        assert_eq!(c.send(&broken).await.status(), 400);
        assert_eq!(c.send(&Req::get("/v1/nowhere")).await.status(), 404);
        // A route of offices, and a staff sign-in.
        c.send(&Req::post("/v1/submissions").json(&json!({})).key("k-sub"))
            .await;
        c.send(&Req::post("/v1/session").json(&json!({"staff_id": "admin", "password": "x"})))
            .await;
        // The 4th ingestion is answered 503 (script); the same bytes go again under a new key.
        let fourth = json!({"items": [{"kind": "again"}]});
        assert_eq!(
            c.send(&Req::post(ingest).json(&fourth).key("k-4a"))
                .await
                .status(),
            503
        );
        c.send(&Req::post(ingest).json(&fourth).key("k-4b")).await;
        // A My Number as a card link, and in a path.
        let card_link =
            json!({"items": [{"kind": "person", "insured": "A000000001", "card_link": digits}]});
        c.send(
            &Req::post(ingest)
                .json(&card_link)
                .key(&format!("k-{digits}")),
        )
        .await;
        c.send(&Req::get(format!(
            "/v1/persons/141003/{digits}/classes/insurance-card"
        )))
        .await;
        // The inbox: an injected 503 with Retry-After 2 resent at once; the message polled
        // twice without an acknowledgement, acknowledged twice, and one never delivered.
        let inbox = Req::get("/v1/municipality/inbox");
        assert_eq!(c.send(&inbox).await.status(), 503);
        let delivered = c.send(&inbox).await;
        let id = delivered.json()[0]["id"]
            .as_u64()
            .expect("a delivered message");
        c.send(&inbox).await;
        let ack = Req::post(format!("/v1/municipality/inbox/{id}/ack"));
        assert_eq!(c.send(&ack).await.status(), 204);
        c.send(&ack).await;
        c.send(&Req::post("/v1/municipality/inbox/999999/ack"))
            .await;
        observer
            .wait(Some(Duration::from_millis(200)), std::future::pending())
            .await
    });
    assert_eq!(
        ended,
        Ended::Duration,
        "the consent expectation is never met"
    );
    let (report, files) = observer.finish(ended).unwrap();
    assert!(!report.all_passed());

    let has = |id: &str, requirement: &str| {
        let found = finding_requirements(&report, id);
        assert!(
            found.iter().any(|r| r == requirement),
            "{id}: {found:?} lacks {requirement}\n{}",
            report.console_summary()
        );
    };
    has("OBS-TLS-01", "KIBAN-TLS-001");
    has("OBS-TLS-02", "KIBAN-TLS-002");
    has("OBS-TLS-02", "KIBAN-TLS-009");
    has("OBS-ING-01", "KIBAN-ING-003");
    has("OBS-ING-02", "KIBAN-ING-002");
    has("OBS-ERR-01", "KIBAN-ING-005");
    has("OBS-ERR-01", "KIBAN-ERR-005");
    has("OBS-ERR-02", "KIBAN-ERR-006");
    has("OBS-STF-02", "KIBAN-STF-007");
    has("OBS-ERR-03", "KIBAN-ERR-007");
    has("OBS-ERR-04", "KIBAN-ERR-008");
    has("OBS-SUB-01", "KIBAN-SUB-006");
    has("OBS-PRV-01", "KIBAN-PRV-001");
    has("OBS-PRV-01", "KIBAN-PRV-004");
    has("SCR-01", "KIBAN-SCR-001");
    has("SCR-02", "KIBAN-SCR-001");
    let sub = report.result("OBS-SUB-01").unwrap();
    let actual: Vec<&str> = sub.findings.iter().map(|f| f.actual.as_str()).collect();
    assert!(
        actual
            .iter()
            .any(|a| a.contains("delivered again without an acknowledgement")),
        "{actual:?}"
    );
    assert!(
        actual.iter().any(|a| a.contains("acknowledged again")),
        "{actual:?}"
    );
    assert!(
        actual.iter().any(|a| a.contains("never delivered")),
        "{actual:?}"
    );
    let retry = report.result("OBS-ERR-03").unwrap();
    let actual: Vec<&str> = retry.findings.iter().map(|f| f.actual.as_str()).collect();
    assert!(
        actual
            .iter()
            .any(|a| a.contains("after exchange") && a.contains("400")),
        "{actual:?}"
    );
    assert!(
        actual.iter().any(|a| a.contains("under another key")),
        "{actual:?}"
    );
    // Every finding of a check names its exchange or handshake (an expectation that never
    // happened has none to name).
    for r in report.results.iter().filter(|r| r.id.starts_with("OBS-")) {
        for f in &r.findings {
            assert!(f.exchange.is_some(), "{}: {f}", r.id);
        }
    }

    // Privacy: the digits appear in no file observe mode wrote.
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains(&digits),
            "{} holds the My Number",
            file.display()
        );
    }
    let log = std::fs::read_to_string(out.path().join(observe::EXCHANGE_LOG)).unwrap();
    assert!(
        log.contains(observe::record::REDACTED),
        "the log says where it was"
    );
}

const OFFICE_MISBEHAVING_SCRIPT: &str = "format = \"kiban-observe-script/1\"\n";

#[test]
fn a_misbehaving_office_client_reads_before_registering_and_replays_a_verification() {
    let out = tempfile::tempdir().unwrap();
    let observer = start(Role::CareManagement, out.path(), OFFICE_MISBEHAVING_SCRIPT);
    let vendor = observer.terminals()[0].credentials.clone();
    let rt = runtime();
    rt.block_on(async {
        let today = observer.clock().now().date_jst();
        let city_creds = observer.harness().clients[&Slot::Municipality]
            .credentials
            .clone();
        let mut city = Municipality::new(
            MunicipalityCode::parse(CITY).unwrap(),
            client_with(&observer, city_creds),
            observer.jlis().unwrap().clone(),
            MunicipalityConfig::standard(9),
        )
        .unwrap();
        sharing(&mut city, today);
        let population = people(9, today, 1);
        let person = &population[0];
        let me = PersonRef::of(person);
        let mut card = observer
            .jlis()
            .unwrap()
            .issue_card(
                person.card_request().unwrap(),
                date("2026-09-01").midnight_jst(),
                &mut ChaCha8Rng::seed_from_u64(9),
            )
            .unwrap();
        city.enrol(&population, today);
        city.sync().await.unwrap();

        let c = raw(
            &observer,
            tls_config(&observer, &[&rustls::version::TLS13], Some(vendor)),
        );
        let read = Req::get(me.path("classes/insurance-card"));
        // Before any sign-in.
        assert_eq!(c.send(&read).await.status(), 401);
        let session = c
            .send(
                &Req::post("/v1/session")
                    .json(&json!({"staff_id": "admin", "password": ADMIN_PASSWORD})),
            )
            .await;
        let token = session.json()["token"].as_str().unwrap().to_owned();
        // Signed in, but before verifying the card.
        assert_eq!(c.send(&read.clone().bearer(&token)).await.status(), 403);
        // A verification, then the very same request again (a used nonce).
        let nonce = c
            .send(&Req::post("/v1/identity/nonce").bearer(&token))
            .await;
        let nonce = nonce.json()["nonce"].as_str().unwrap().to_owned();
        let mut reader =
            CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(1)).unwrap();
        let assertion = reader
            .assert(
                &mut card,
                &nonce,
                Presence::Pin(person.pin().unwrap()),
                observer.clock().now(),
            )
            .unwrap();
        let verify = Req::post("/v1/identity/verify")
            .json(&serde_json::to_value(&assertion).unwrap())
            .bearer(&token);
        assert_eq!(c.send(&verify).await.status(), 200);
        assert_ne!(c.send(&verify).await.status(), 200);
        assert_eq!(c.send(&read.clone().bearer(&token)).await.status(), 200);
    });
    let (report, _) = observer.finish(Ended::Stopped).unwrap();
    assert_eq!(
        finding_requirements(&report, "OBS-STF-01"),
        ["KIBAN-STF-001"]
    );
    assert_eq!(
        finding_requirements(&report, "OBS-IDV-01"),
        ["KIBAN-IDV-008"]
    );
    assert_eq!(
        finding_requirements(&report, "OBS-IDV-02"),
        ["KIBAN-IDV-002"]
    );
    assert_eq!(
        finding_requirements(&report, "OBS-ERR-03"),
        ["KIBAN-ERR-007"]
    );
    assert_eq!(outcome(&report, "OBS-TLS-01"), "pass");
    assert_eq!(outcome(&report, "OBS-CPX-01"), "skip");
    assert!(report.console_summary().contains("stopped"));
}

#[test]
fn the_observe_junit_report_parses_with_one_testcase_per_check_and_expectation() {
    let out = tempfile::tempdir().unwrap();
    let observer = start(Role::Municipality, out.path(), MUNICIPALITY_SCRIPT);
    let (report, _) = observer.finish(Ended::Duration).unwrap();
    let xml = report.to_junit().unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut names = Vec::new();
    let mut failures = 0;
    let mut skipped = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => {
                        let name = e
                            .attributes()
                            .map(|a| a.unwrap())
                            .find(|a| a.key.as_ref() == b"name")
                            .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                            .unwrap();
                        names.push(name);
                    }
                    b"failure" => failures += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(names.len(), observe::checks::CHECKS.len() + 3, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("SCR-01 ")));
    // Nothing connected: every check is skipped, every expectation failed.
    assert_eq!(failures, 3);
    assert_eq!(skipped, observe::checks::CHECKS.len());
    assert!(xml.contains("kiban-conformance-observe"));
}
