//! The care-plan CSV exchange between actors over real sockets: a care manager writes a
//! person's plan and the month's 利用票 as standard MS932 files, uploads them to the
//! platform, the 訪問介護 provider fetches, parses and acknowledges them and answers with
//! 実績, which the care manager reads back. Every file is strict MS932 (the codec's strict
//! decoder), named by the standard (the name parses back to itself), byte for byte what was
//! sent, and parses back to the very rows that were written.

mod support;

use kiban_actors::careplan::{CarePlan, PlannedService, ReceivedFile, actuals_for, year_month};
use kiban_actors::certification::Certification;
use kiban_actors::migration::MigrationState;
use kiban_actors::outcome::Reason;
use kiban_actors::reader::Presence;
use kiban_actors::wire::PersonRef;
use kiban_certs::Clock;
use kiban_core::vocab::{InfoClass, Role};
use kiban_platform::careplan::{
    ClockTime, FileKind, FileName, OutgoingFile, ServiceCode, SupplementRow, Table1Row, Table2Row,
    Table3Row, Table6Row, Table7Row, TypedRow, Weekday, decode_ms932,
};
use serde_json::json;
use support::scene::{Scene, care_office, people};
use support::*;

fn rows<R: TypedRow + std::fmt::Debug>(file: &ReceivedFile) -> Vec<R> {
    assert!(
        file.parsed.findings.is_empty(),
        "{:?}",
        file.parsed.findings
    );
    file.parsed.rows().unwrap()
}

fn by_kind(files: &[ReceivedFile], kind: FileKind) -> &ReceivedFile {
    files
        .iter()
        .find(|f| f.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind:?} file"))
}

/// Each outgoing file is strict MS932 and its standard name parses back to itself.
fn check_outgoing(files: &[OutgoingFile]) {
    for f in files {
        let text = decode_ms932(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(text.ends_with("\r\n"));
        let name = f.name.to_string();
        assert_eq!(FileName::parse(&name).unwrap(), f.name);
        assert!(name.ends_with(".CSV"), "{name}");
    }
}

#[tokio::test]
async fn care_plan_files_go_round_trip_through_the_platform() {
    let mut s = Scene::start("2026-10-20").await;
    let population = people(71, 1, 1.0, 0.0);
    let person = &population[0];
    let me = PersonRef::of(person);
    let mut card = issue(&s.jlis, person, "2026-09-01", 2);
    s.share_from("2026-10-01").await;
    assert_eq!(s.city.migration().state(), MigrationState::Sharing);
    s.city.enrol(&population, s.clock.now().date_jst());
    s.city.sync().await.unwrap();
    let mut cm = s
        .office(
            Role::CareManagement,
            care_office(21),
            "ひまわり居宅介護支援",
            Some("43"),
            "cm-1",
            365,
        )
        .await;
    let mut help = s
        .office(
            Role::CareService,
            care_office(22),
            "ケアサービス髙橋",
            Some("11"),
            "help-1",
            365,
        )
        .await;
    let cm_end = cm.spec().endpoint().unwrap();
    let help_end = help.spec().endpoint().unwrap();

    let certification: Certification = s.city.certification_of(person.insured).unwrap();
    let mut plan = CarePlan::for_person(
        person,
        certification,
        cm_end,
        "ひまわり居宅介護支援",
        "山田 花子",
        s.clock.now().date_jst(),
    );
    plan.services = vec![
        PlannedService {
            provider: help_end,
            provider_name: "ケアサービス髙橋".into(),
            service_kind: "訪問介護".into(),
            content: "入浴介助".into(),
            code: ServiceCode::parse("111211").unwrap(),
            units: 387,
            weekdays: vec![Weekday::Monday, Weekday::Thursday],
            start: ClockTime::new(10, 0).unwrap(),
            end: ClockTime::new(10, 30).unwrap(),
        },
        PlannedService {
            provider: help_end,
            provider_name: "ケアサービス髙橋".into(),
            service_kind: "訪問介護".into(),
            content: "掃除・調理（生活援助）".into(),
            code: ServiceCode::parse("111111").unwrap(),
            units: 244,
            weekdays: vec![Weekday::Wednesday],
            start: ClockTime::new(14, 0).unwrap(),
            end: ClockTime::new(14, 45).unwrap(),
        },
    ];
    let november = year_month(kiban_core::time::Date::new(2026, 11, 1).unwrap()).unwrap();
    let plan_set = plan.plan_set().unwrap();
    let usage_set = plan.usage_set(november, s.clock.now().date_jst()).unwrap();
    // November 2026: 5 Mondays, 4 Thursdays, 4 Wednesdays.
    assert_eq!(usage_set.table6.len(), 13);
    let sent_at = s.clock.now().plus_seconds(10 * 3600);
    let plan_files = plan.plan_files(help_end, sent_at).unwrap();
    let usage_files = plan
        .usage_files(
            help_end,
            november,
            s.clock.now().date_jst(),
            sent_at.plus_seconds(60),
        )
        .unwrap();
    check_outgoing(&plan_files);
    check_outgoing(&usage_files);
    let names: Vec<String> = plan_files.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(
        names[0],
        format!(
            "UP1KYO_{}_43_{}_11_20261020100000.CSV",
            cm.number(),
            help.number()
        )
    );
    assert!(
        usage_files[0]
            .name
            .to_string()
            .starts_with(&format!("UPPLAN_202611_{}_43_", cm.number()))
    );

    let mut sent = plan_files.clone();
    sent.extend(usage_files.iter().cloned());
    let receipts = cm.send_files("cm-1", &sent).await.unwrap();
    assert_eq!(receipts.len(), 7);
    assert!(
        receipts.iter().all(|r| r.warnings.is_empty()),
        "{receipts:?}"
    );
    // Sending a unit again is safe: the same names and bytes answer with the same ids.
    let again = cm.send_files("cm-1", &plan_files).await.unwrap();
    assert_eq!(
        again.iter().map(|r| r.id).collect::<Vec<_>>(),
        receipts[..4].iter().map(|r| r.id).collect::<Vec<_>>()
    );

    // The provider fetches, parses and acknowledges.
    let received = help.receive_files("help-1").await.unwrap();
    assert_eq!(received.len(), 7);
    for f in &received {
        let original = sent.iter().find(|o| o.name == f.name).unwrap();
        assert_eq!(f.bytes, original.bytes, "{}", f.name);
        assert_eq!(f.sender, cm.number());
    }
    assert_eq!(
        rows::<Table1Row>(by_kind(&received, FileKind::Table1)),
        plan_set.table1
    );
    assert_eq!(
        rows::<Table2Row>(by_kind(&received, FileKind::Table2)),
        plan_set.table2
    );
    assert_eq!(
        rows::<Table3Row>(by_kind(&received, FileKind::Table3)),
        plan_set.table3
    );
    let supplements: Vec<&ReceivedFile> = received
        .iter()
        .filter(|f| f.kind() == FileKind::Supplement)
        .collect();
    assert_eq!(supplements.len(), 2);
    for f in supplements {
        let back: Vec<SupplementRow> = rows(f);
        let expected = if f.name.month().is_some() {
            &usage_set.supplement
        } else {
            &plan_set.supplement
        };
        assert_eq!(&back, expected);
        assert_eq!(back[0].name_kana, person.name.reading());
    }
    let planned = by_kind(&received, FileKind::Plan);
    assert_eq!(rows::<Table6Row>(planned), usage_set.table6);
    assert_eq!(
        rows::<Table7Row>(by_kind(&received, FileKind::Table7)),
        usage_set.table7
    );
    assert!(
        help.receive_files("help-1").await.unwrap().is_empty(),
        "acknowledged"
    );

    // The provider answers with 実績; the care manager reads them back.
    let done_on = kiban_core::time::Date::new(2026, 12, 2).unwrap();
    let actual = actuals_for(planned, help_end, done_on, sent_at.plus_days(40))
        .unwrap()
        .expect("the provider's lines");
    check_outgoing(std::slice::from_ref(&actual));
    assert_eq!(actual.name.kind(), FileKind::Actual);
    help.send_files("help-1", std::slice::from_ref(&actual))
        .await
        .unwrap();
    // A provider may not send in the care manager's name, nor send a plan at all (the
    // direction of spec §1.1).
    let in_cm_name = plan.plan_files(help_end, sent_at.plus_days(41)).unwrap();
    let err = help.send_files("help-1", &in_cm_name).await.unwrap_err();
    assert_eq!(err.reason(), Some(Reason::CareplanSenderMismatch), "{err}");
    let mut reversed = plan.clone();
    reversed.office = help_end;
    let wrong_way = reversed.plan_files(cm_end, sent_at.plus_days(41)).unwrap();
    let err = help.send_files("help-1", &wrong_way).await.unwrap_err();
    assert_eq!(err.reason(), Some(Reason::CareplanDirection), "{err}");
    let back = cm.receive_files("cm-1").await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].bytes, actual.bytes);
    let actual_rows: Vec<Table6Row> = rows(&back[0]);
    assert_eq!(actual_rows.len(), 13);
    assert!(actual_rows.iter().all(|r| r.office == help_end.office));
    assert_eq!(
        actual_rows
            .iter()
            .map(|r| r.service_date)
            .collect::<Vec<_>>(),
        usage_set
            .table6
            .iter()
            .map(|r| r.service_date)
            .collect::<Vec<_>>()
    );

    // The same offices' JSON uploads: the plan's first table and a LIFE feedback sheet.
    cm.verify(
        "cm-1",
        &mut card,
        Presence::Pin(person.pin().unwrap()),
        s.clock.now(),
    )
    .await
    .unwrap();
    help.verify("help-1", &mut card, Presence::Face, s.clock.now())
        .await
        .unwrap();
    let content = |v: serde_json::Value| v.as_object().cloned().unwrap();
    cm.upload_care_plan(
        "cm-1",
        me,
        kiban_core::vocab::CarePlanTable::Home1,
        content(json!({"policy": plan.policy, "plan_date": plan.plan_date})),
    )
    .await
    .unwrap();
    help.upload_life("help-1", me, content(json!({"adl_score": 65})))
        .await
        .unwrap();
    let err = help
        .upload_care_plan(
            "help-1",
            me,
            kiban_core::vocab::CarePlanTable::Home1,
            content(json!({})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NotCreator));
    let read = cm.read("cm-1", me, InfoClass::HomeCarePlan).await.unwrap();
    let records = &read.records().unwrap().records;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].document["content"]["plan_date"],
        plan.plan_date.to_string()
    );
    assert_eq!(plan.level(), person.care_level);
}
