//! File names of the care-plan CSV standard (spec §2.1): v4.1 and v3 forms, the 予防
//! prefixes, the errors, and the `Display` round trip.

mod careplan_support;

use careplan_support::*;
use kiban_platform::careplan::{
    Endpoint, FileKind, FileName, FileSerial, NameBuildError, NameError, NameFormat, RecordKind,
    Sender,
};
use proptest::prelude::*;

fn names() -> (String, String) {
    let c = cast();
    (
        c.cm.office.as_str().to_owned(),
        c.home_help.office.as_str().to_owned(),
    )
}

#[test]
fn v41_names_carry_service_types_and_round_trip() {
    let (cm, hh) = names();
    let text = format!("UP1KYO_{cm}_43_{hh}_11_20191025200201.CSV");
    let name = FileName::parse(&text).unwrap();
    assert_eq!(name.kind(), FileKind::Table1);
    assert_eq!(name.format(), NameFormat::V41);
    assert_eq!(name.month(), None);
    assert_eq!(name.sender().office.as_str(), cm);
    assert_eq!(name.sender().service_type, Some(ty("43")));
    assert_eq!(name.receiver().service_type, Some(ty("11")));
    assert_eq!(name.serial().as_str(), "20191025200201");
    assert_eq!(name.to_string(), text);
    assert_eq!(name.kind().record_kind(), Some(RecordKind::Table1));
    assert_eq!(name.kind().sender(), Sender::CareManagement);

    let jsk = FileName::parse(&format!("UPJSK_201912_{hh}_17_{cm}_43_20191025200201.CSV")).unwrap();
    assert_eq!(jsk.month(), Some(ym(2019, 12)));
    assert_eq!(jsk.kind().sender(), Sender::Provider);
}

#[test]
fn the_supplement_month_is_000000_when_it_goes_with_the_plan() {
    let (cm, hh) = names();
    let plan = FileName::parse(&format!(
        "UPHOSOKU_000000_{cm}_43_{hh}_11_20191025200201.CSV"
    ))
    .unwrap();
    assert_eq!(plan.month(), None);
    assert!(plan.to_string().starts_with("UPHOSOKU_000000_"));
    let usage = FileName::parse(&format!(
        "UPHOSOKU_201909_{cm}_43_{hh}_11_20191025200201.CSV"
    ))
    .unwrap();
    assert_eq!(usage.month(), Some(ym(2019, 9)));
    let err =
        FileName::parse(&format!("UPPLAN_000000_{cm}_43_{hh}_11_20191025200201.CSV")).unwrap_err();
    assert_eq!(
        err,
        NameError::ZeroMonth {
            kind: FileKind::Plan
        }
    );
}

#[test]
fn v3_names_have_no_service_types_and_report_their_version() {
    let (cm, hh) = names();
    for text in [
        format!("UPPLAN_201912_{cm}_{hh}_20191025200201.CSV"),
        format!("UPJSK_201912_{hh}_{cm}_20191025200201.CSV"),
        format!("UP1KYO_{cm}_{hh}_20191025200201.CSV"),
        format!("UPHOSOKU_000000_{cm}_{hh}_20191025200201.CSV"),
        // Not seen in the spec; accepted in the presumed form ([NC]).
        format!("UPSIKYU_201912_{cm}_{hh}_20191025200201.CSV"),
        format!("DLTJSK_201912_{hh}_{cm}_20191025200201.CSV"),
    ] {
        let name = FileName::parse(&text).unwrap();
        assert_eq!(name.format(), NameFormat::V3, "{text}");
        assert_eq!(name.sender().service_type, None);
        assert_eq!(name.to_string(), text);
    }
    let err = FileName::parse(&format!("UP3KYO_{cm}_{hh}_20191025200201.CSV")).unwrap_err();
    assert_eq!(
        err,
        NameError::NoV3Form {
            kind: FileKind::Table3
        }
    );
}

#[test]
fn prevention_files_are_recognised_by_prefix() {
    let (cm, hh) = names();
    for (prefix, kind) in [
        ("UPKIHON", FileKind::PreventionBasic),
        ("UPKIHON_SUB1", FileKind::PreventionBasicSub1),
        ("UPKIHON_SUB2", FileKind::PreventionBasicSub2),
        ("DLTKIHON", FileKind::PreventionBasicDelete),
        ("UPYOBO", FileKind::PreventionPlan),
        ("UPYOBO_SUB", FileKind::PreventionPlanSub),
        ("DLTYOBO", FileKind::PreventionPlanDelete),
    ] {
        let text = format!("{prefix}_{cm}_46_{hh}_A2_20250425100000.CSV");
        let name = FileName::parse(&text).unwrap();
        assert_eq!(name.kind(), kind, "{text}");
        assert!(kind.is_prevention());
        assert_eq!(name.to_string(), text);
    }
    let image = format!("UPKIHON_IMAGE_{cm}_46_{hh}_A2_20250425100000_0001.jpg");
    let name = FileName::parse(&image).unwrap();
    assert_eq!(name.kind(), FileKind::PreventionBasicImage);
    assert_eq!(name.image_branch(), Some(1));
    assert_eq!(name.to_string(), image);
}

#[test]
fn errors_name_the_failing_part_and_keep_the_kind() {
    let (cm, hh) = names();
    let cases = [
        (
            format!("UPFOO_{cm}_43_{hh}_11_20191025200201.CSV"),
            "unknown file-name prefix",
        ),
        (
            format!("UPPLAN_201912_{cm}_43_{hh}_11_20191025200201.TXT"),
            "must end in .CSV",
        ),
        (
            format!("UPPLAN_201912_{cm}_43_{hh}_20191025200201.CSV"),
            "has 5 parts after the prefix; expected 6 (v4.1) or 4 (v3)",
        ),
        (
            format!("UPPLAN_201913_{cm}_43_{hh}_11_20191025200201.CSV"),
            "month must be YYYYMM",
        ),
        (
            format!("UP1KYO_123456789_43_{hh}_11_20191025200201.CSV"),
            "sender office number",
        ),
        (
            format!("UP1KYO_{cm}_430_{hh}_11_20191025200201.CSV"),
            "3-digit codes are the unsupported v4.0 form",
        ),
        (
            format!("UP1KYO_{cm}_43_{hh}_11_20191332200201.CSV"),
            "ファイル連番 must be 14 digits",
        ),
        (
            format!("UP1KYO_{cm}_43_{hh}_11_201911110102233.CSV"),
            "ファイル連番 must be 14 digits",
        ),
    ];
    for (text, expected) in cases {
        let err = FileName::parse(&text).unwrap_err();
        assert!(err.to_string().contains(expected), "{text}: {err}");
        if !text.starts_with("UPFOO") {
            assert!(err.kind().is_some(), "{text}");
        }
    }
    // Lower-case extension: accepted, remembered, written back the same way.
    let lower = format!("UP1KYO_{cm}_43_{hh}_11_20191025200201.csv");
    let name = FileName::parse(&lower).unwrap();
    assert!(name.extension_case_differs());
    assert_eq!(name.to_string(), lower);
    assert!(FileName::parse(&lower.replace(".csv", ".Csv")).is_err());
}

#[test]
fn constructors_keep_names_well_formed() {
    let c = cast();
    let s = serial("20250425100000");
    let v3 = |e: Endpoint| Endpoint {
        service_type: None,
        ..e
    };
    assert_eq!(
        FileName::new(FileKind::Table1, Some(ym(2025, 5)), c.cm, c.home_help, s),
        Err(NameBuildError::Month(FileKind::Table1, "carry no month"))
    );
    assert_eq!(
        FileName::new(FileKind::Plan, None, c.cm, c.home_help, s),
        Err(NameBuildError::Month(FileKind::Plan, "need a month"))
    );
    assert_eq!(
        FileName::new(FileKind::Plan, Some(ym(2025, 5)), c.cm, v3(c.home_help), s),
        Err(NameBuildError::ServiceTypes)
    );
    assert_eq!(
        FileName::new(FileKind::Table3, None, v3(c.cm), v3(c.home_help), s),
        Err(NameBuildError::NoV3Form(FileKind::Table3))
    );
    let name = FileName::new(FileKind::Supplement, None, c.cm, c.home_help, s).unwrap();
    assert_eq!(FileName::parse(&name.to_string()).unwrap(), name);
    let t =
        time::PrimitiveDateTime::new(date(2025, 4, 25), time::Time::from_hms(10, 0, 0).unwrap());
    assert_eq!(FileSerial::from_date_time(t), Some(s));
    assert_eq!(s.date_time(), Some(t));
}

fn office_strategy() -> impl Strategy<Value = kiban_core::id::CareOfficeNumber> {
    (
        1u8..=47,
        prop::sample::select(vec!['0', '7', '8', '9', 'A']),
        0u32..1_000_000,
    )
        .prop_map(|(p, cat, n)| office(&format!("{p:02}{cat}{n:06}")))
}

fn endpoint_strategy() -> impl Strategy<Value = Endpoint> {
    let types = prop::sample::select(vec!["11", "13", "17", "43", "46", "2A", "A5"]);
    (office_strategy(), types).prop_map(|(office, t)| Endpoint {
        office,
        service_type: Some(ty(t)),
    })
}

proptest! {
    #[test]
    fn every_built_name_round_trips_through_display(
        kind in prop::sample::select(FileKind::ALL.to_vec()),
        v41 in any::<bool>(),
        month in (2019u16..2030, 1u8..=12).prop_map(|(y, m)| ym(y, m)),
        zero in any::<bool>(),
        ends in (endpoint_strategy(), endpoint_strategy()),
        secs in 0i64..400_000_000,
        branch in 0u16..=9999,
    ) {
        let (mut sender, mut receiver) = ends;
        let v41 = v41 || !kind.has_v3_name();
        if !v41 {
            sender.service_type = None;
            receiver.service_type = None;
        }
        let start = time::PrimitiveDateTime::new(date(2019, 1, 1), time::Time::MIDNIGHT);
        let at = start + time::Duration::seconds(secs);
        let serial = FileSerial::from_date_time(at).unwrap();
        let month = if !kind.has_month() || (kind == FileKind::Supplement && zero) { None } else { Some(month) };
        let name = if kind == FileKind::PreventionBasicImage {
            FileName::image(sender, receiver, serial, branch).unwrap()
        } else {
            FileName::new(kind, month, sender, receiver, serial).unwrap()
        };
        let text = name.to_string();
        prop_assert_eq!(FileName::parse(&text).unwrap(), name, "{}", text);
    }
}
