//! Property: random valid rows → write → parse gives the same rows and zero findings, for
//! every covered layout (第6表 予定/実績, 1表, 2表, 3表, 補足, 第7表, the 削除 files), in
//! both the v4.1 and the v3 layouts where they differ.

mod careplan_support;

use careplan_support::*;
use kiban_core::id::{CareOfficeNumber, InsuredNumber};
use kiban_core::vocab::CareLevel;
use kiban_platform::careplan::{
    ActualDeleteRow, CertificationStatus, ClockTime, CsvVersion, InsuranceCoverage,
    LivingSupportReason, Person, PlanDeleteRow, PlanKind, PostalCode, ProratedDays, ServiceTime,
    Sex, SupplementRow, Table1DeleteRow, Table1Row, Table2Row, Table3Row, Table6Row, Table7Row,
    TypeLimit, TypedRow, UnitPrice, Weekday, YearMonth, parse_bytes, write_rows,
};
use proptest::option;
use proptest::prelude::*;
use time::Date;

/// Characters for free text: kana, kanji (including IBM/NEC extensions), half-width kana,
/// and everything CSV must escape.
const FREE: &[char] = &[
    'a', 'Z', '0', ' ', ',', '"', '\r', '\n', '\t', 'あ', 'ア', 'ｱ', 'ﾞ', '漢', '髙', '﨑', '①',
    'ⅰ', '～', '－', '∥', '￥', '・', 'ー', '　', '㈱',
];

fn free_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FREE), 0..16).prop_map(String::from_iter)
}

/// A non-empty code of ASCII letters and digits, at most `max` long.
fn code_text(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[0-9A-Z]{{1,{max}}}")).unwrap()
}

fn office_any() -> impl Strategy<Value = CareOfficeNumber> {
    (
        1u8..=47,
        prop::sample::select(vec!['0', '7', '8', '9', 'A']),
        0u32..1_000_000,
    )
        .prop_map(|(p, cat, n)| office(&format!("{p:02}{cat}{n:06}")))
}

fn person(i: usize) -> impl Strategy<Value = Person> {
    (1u8..=47, 0u16..1000, any::<bool>()).prop_map(move |(p, n, h)| Person {
        insurer: insurer(&format!("{p:02}{n:03}")),
        insured: InsuredNumber::parse(&if h {
            format!("H{i:09}")
        } else {
            format!("{i:010}")
        })
        .unwrap(),
    })
}

fn any_date() -> impl Strategy<Value = Date> {
    (1900i32..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn clock() -> impl Strategy<Value = ClockTime> {
    prop_oneof![
        (0u8..24, 0u8..60).prop_map(|(h, m)| ClockTime::new(h, m).unwrap()),
        Just(ClockTime::new(24, 0).unwrap()),
    ]
}

fn service_time() -> impl Strategy<Value = ServiceTime> {
    prop_oneof![
        clock().prop_map(ServiceTime::At),
        Just(ServiceTime::Untimed)
    ]
}

fn care_level() -> impl Strategy<Value = CareLevel> {
    prop::sample::select(CareLevel::ALL[1..].to_vec())
}

fn postal() -> impl Strategy<Value = PostalCode> {
    (0u16..1000, 0u16..10000)
        .prop_map(|(a, b)| PostalCode::parse(&format!("{a:03}-{b:04}")).unwrap())
}

/// In-scope service types (spec §4.1).
const TYPES: &[&str] = &[
    "11", "12", "13", "14", "15", "16", "17", "21", "22", "23", "2A", "31", "71", "76", "72", "78",
    "73", "68", "77", "79", "27", "28", "38", "62", "63", "64", "66", "67", "24", "25", "26", "2B",
    "34", "74", "75", "69", "39", "A1", "A5", "A8",
];

fn round_trip<R: TypedRow + Clone + PartialEq + std::fmt::Debug>(
    rows: &[R],
) -> Result<(), TestCaseError> {
    let bytes = write_rows(rows).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let parsed = parse_bytes(R::KIND, "(round trip)", &bytes);
    prop_assert!(parsed.findings.is_empty(), "{:#?}", parsed.findings);
    prop_assert_eq!(parsed.rows::<R>().unwrap(), rows.to_vec());
    Ok(())
}

/// One 第6表 line of a given month and version.
fn table6_line(i: usize, month: YearMonth) -> impl Strategy<Value = Table6Row> {
    let v4 = CsvVersion::for_service_month(month).generation()
        == kiban_platform::careplan::Generation::V4;
    let last_day = 28u8;
    (
        (
            person(i),
            any_date(),
            option::of(office_any()),
            free_text(),
            option::of(-99_999i32..=999_999),
        ),
        (
            option::of(0u32..=99_999),
            1u8..=last_day,
            option::of(any::<u32>()),
            service_time(),
            service_time(),
        ),
        (
            0u32..=99,
            prop::sample::select(TYPES),
            0u16..10000,
            any::<bool>(),
            code_text(12),
            free_text(),
        ),
        (
            option::of(1u32..=99),
            office_any(),
            free_text(),
            option::of(code_text(2)),
            any::<bool>(),
            option::of(code_text(10)),
        ),
    )
        .prop_map(move |(a, b, c, d)| {
            let (person, created_on, plan_office, planner_name, units) = a;
            let (short_stay, day, prorated, start, end) = b;
            let (count, ty, item, tais_or_notified, equipment_code, equipment_name) = c;
            let (detail, office, office_name, satellite, over_30, updater) = d;
            let code = code(&format!("{ty}{item:04}"));
            let mut row = Table6Row::new(
                person,
                month,
                date(i32::from(month.year()), month.month(), day),
                code,
                office,
                created_on,
            );
            row.plan_office = plan_office;
            row.planner_name = planner_name;
            row.units = units;
            row.short_stay_days_before = short_stay;
            row.prorated_days = prorated.map(ProratedDays::from_bits);
            row.start = start;
            row.end = end;
            row.count = count;
            if v4 {
                row.equipment_name = equipment_name;
                if matches!(ty, "17" | "67") {
                    if tais_or_notified {
                        row.tais_code = Some(equipment_code);
                    } else {
                        row.notified_code = Some(equipment_code);
                    }
                }
            }
            if ty == "17" {
                row.detail_no = detail;
            }
            row.office_name = office_name;
            row.satellite = satellite;
            row.over_30_days = over_30;
            row.updater_code = updater;
            row
        })
}

fn table6_file() -> impl Strategy<Value = Vec<Table6Row>> {
    // v3 months (2023-01..2025-03) and v4 months (2025-04 on).
    (
        prop_oneof![(2023u16..=2024, 1u8..=12), (2025u16..=2027, 4u8..=12)],
        1usize..8,
    )
        .prop_map(|((y, m), n)| (ym(y, m), n))
        .prop_flat_map(|(month, n)| (0..n).map(|i| table6_line(i, month)).collect::<Vec<_>>())
}

fn table1_row(i: usize) -> impl Strategy<Value = Table1Row> {
    (
        (person(i), any_date(), any_date(), any_date(), office_any()),
        (
            option::of(postal()),
            free_text(),
            free_text(),
            "[ぁ-ん]{1,8}",
            "[ァ-ヶ]{1,12}",
            option::of(postal()),
        ),
        (
            free_text(),
            free_text(),
            option::of(prop::sample::select(PlanKind::ALL.to_vec())),
            option::of(prop::sample::select(CertificationStatus::ALL.to_vec())),
        ),
        (
            option::of(any_date()),
            option::of(any_date()),
            option::of(any_date()),
            option::of(care_level()),
        ),
        (
            free_text(),
            free_text(),
            free_text(),
            option::of(prop::sample::select(LivingSupportReason::ALL.to_vec())),
            free_text(),
            option::of(code_text(10)),
        ),
    )
        .prop_map(|(a, b, c, d, e)| {
            let mut row = Table1Row::new(a.0, a.1, a.4, &b.3, &b.4);
            row.created_on = a.2;
            row.first_plan_date = a.3;
            row.postal_code = b.0;
            row.address1 = b.1;
            row.address2 = b.2;
            row.office_postal_code = b.5;
            row.office_address1 = c.0;
            row.office_address2 = c.1;
            row.plan_kind = c.2;
            row.certification_status = c.3;
            row.certified_on = d.0;
            row.valid_from = d.1;
            row.valid_until = d.2;
            row.care_level = d.3;
            row.assessment = e.0;
            row.board_opinion = e.1;
            row.policy = e.2;
            row.living_support_reason = e.3;
            row.other_reason = e.4;
            row.updater_code = e.5;
            row
        })
}

fn table2_row() -> impl Strategy<Value = Table2Row> {
    (
        (
            person(7),
            any_date(),
            any_date(),
            option::of(1u32..=99),
            option::of(1u32..=99),
            option::of(1u32..=99),
        ),
        (
            free_text(),
            free_text(),
            free_text(),
            free_text(),
            free_text(),
            free_text(),
        ),
        (
            option::of(prop::sample::select(InsuranceCoverage::ALL.to_vec())),
            free_text(),
            option::of(office_any()),
            free_text(),
            free_text(),
            free_text(),
        ),
        option::of(code_text(10)),
    )
        .prop_map(|(a, b, c, updater)| {
            let mut row = Table2Row::new(a.0, a.2);
            row.created_on = a.1;
            row.need_no = a.3;
            row.goal_no = a.4;
            row.support_no = a.5;
            row.need = b.0;
            row.long_term_goal = b.1;
            row.short_term_goal = b.2;
            row.long_term_period = b.3;
            row.short_term_period = b.4;
            row.service_content = b.5;
            row.insurance = c.0;
            row.service_kind = c.1;
            row.provider = c.2;
            row.provider_name = c.3;
            row.frequency = c.4;
            row.period = c.5;
            row.updater_code = updater;
            row
        })
}

fn table3_row() -> impl Strategy<Value = Table3Row> {
    (
        (
            person(3),
            any_date(),
            any_date(),
            free_text(),
            option::of(prop::sample::select(Weekday::ALL.to_vec())),
        ),
        (
            option::of(clock()),
            option::of(clock()),
            free_text(),
            option::of(clock()),
            option::of(clock()),
            free_text(),
        ),
    )
        .prop_map(|(a, b)| {
            let mut row = Table3Row::new(a.0, a.2);
            row.created_on = a.1;
            row.care_service = a.3;
            row.weekday = a.4;
            row.service_start = b.0;
            row.service_end = b.1;
            row.daily_activity = b.2;
            row.activity_start = b.3;
            row.activity_end = b.4;
            row.non_weekly_service = b.5;
            row
        })
}

fn type_limit() -> impl Strategy<Value = TypeLimit> {
    (
        option::of(prop::sample::select(TYPES).prop_map(ty)),
        option::of(0u32..=9_999_999),
        option::of(0u32..=9_999_999),
        option::of(0u32..=9_999_999),
    )
        .prop_map(
            |(service_type, limit, total_units, excess_units)| TypeLimit {
                service_type,
                limit,
                total_units,
                excess_units,
            },
        )
}

fn supplement_row(i: usize) -> impl Strategy<Value = SupplementRow> {
    (
        (
            person(i),
            any::<bool>(),
            any_date(),
            (2023u16..2028, 1u8..=12),
            free_text(),
            free_text(),
        ),
        (
            option::of(prop::sample::select(Sex::ALL.to_vec())),
            option::of(any_date()),
            option::of(postal()),
            free_text(),
            free_text(),
            option::of("[0-9-]{1,15}"),
        ),
        (
            option::of(any_date()),
            option::of(any_date()),
            option::of(any_date()),
            option::of(prop::sample::select(CertificationStatus::ALL.to_vec())),
            option::of(any_date()),
            option::of(care_level()),
        ),
        (
            option::of(0u32..=9_999_999),
            prop::array::uniform9(type_limit()),
            option::of(0u32..=9_999_999),
            option::of(0u32..=99_999),
            option::of(0u32..=99_999),
        ),
        (
            option::of(care_level()),
            option::of(office_any()),
            option::of(code_text(10)),
        ),
    )
        .prop_map(|(a, b, c, d, e)| {
            let mut row = if a.1 {
                SupplementRow::for_plan(a.0, a.2)
            } else {
                SupplementRow::for_usage(a.0, ym(a.3.0, a.3.1))
            };
            row.name_kana = a.4;
            row.name = a.5;
            row.sex = b.0;
            row.birth_date = b.1;
            row.postal_code = b.2;
            row.address1 = b.3;
            row.address2 = b.4;
            row.phone = b.5;
            row.certified_on = c.0;
            row.limit_from = c.1;
            row.limit_until = c.2;
            row.certification_status = c.3;
            row.care_level_changed_on = c.4;
            row.care_level = c.5;
            row.limit_units = d.0;
            row.type_limits = d.1;
            row.total_excess_units = d.2;
            row.days_before_admission = d.3;
            row.cumulative_admission_days = d.4;
            row.previous_care_level = e.0;
            row.consent_office = e.1;
            row.updater_code = e.2;
            row
        })
}

/// One person's 第7表: service lines of distinct types (so no subtotal is due), then 全合計.
fn table7_person(i: usize, month: YearMonth) -> impl Strategy<Value = Vec<Table7Row>> {
    let v4 = CsvVersion::for_service_month(month).generation()
        == kiban_platform::careplan::Generation::V4;
    (
        person(i),
        any_date(),
        prop::sample::subsequence(TYPES.to_vec(), 0..4),
        prop::collection::vec(
            (
                (
                    office_any(),
                    0u16..10000,
                    -99_999i32..=999_999,
                    0u32..=999,
                    option::of(0u32..=99_999),
                    option::of(-99_999i32..=999_999),
                ),
                (
                    option::of(-9_999i32..=99_999),
                    option::of(-99_999i32..=999_999),
                    option::of(0u16..=9999),
                    option::of(0u32..=99),
                    option::of(0u32..=99_999),
                    any::<bool>(),
                ),
                (
                    code_text(12),
                    free_text(),
                    option::of(code_text(2)),
                    option::of(code_text(10)),
                ),
            ),
            4,
        ),
    )
        .prop_map(move |(person, made, types, details)| {
            let mut rows = Vec::new();
            for (ty, (a, b, c)) in types.iter().zip(details) {
                let mut row = Table7Row::service(
                    person,
                    month,
                    made,
                    a.0,
                    code(&format!("{ty}{:04}", a.1)),
                    a.2,
                    a.3,
                );
                row.discount_rate = a.4;
                row.discounted_units = a.5;
                row.unit_amount = b.0;
                row.managed_units = b.1;
                row.unit_price = b.2.and_then(UnitPrice::from_hundredths);
                row.benefit_rate = b.3;
                row.days_before = b.4;
                row.over_30_days = b.5;
                if v4 && matches!(*ty, "17" | "67") {
                    row.tais_code = Some(c.0);
                }
                if v4 {
                    row.equipment_name = c.1;
                }
                row.satellite = c.2;
                row.updater_code = c.3;
                rows.push(row);
            }
            rows.push(Table7Row::grand_total(person, month, made));
            rows
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn table6_rows_round_trip(rows in table6_file()) {
        round_trip(&rows)?;
    }

    #[test]
    fn table1_rows_round_trip(rows in (1usize..5).prop_flat_map(|n| (0..n).map(table1_row).collect::<Vec<_>>())) {
        round_trip(&rows)?;
    }

    #[test]
    fn table2_rows_round_trip(rows in prop::collection::vec(table2_row(), 1..8)) {
        round_trip(&rows)?;
    }

    #[test]
    fn table3_rows_round_trip(rows in prop::collection::vec(table3_row(), 1..8)) {
        round_trip(&rows)?;
    }

    #[test]
    fn supplement_rows_round_trip(rows in (1usize..5).prop_flat_map(|n| (0..n).map(supplement_row).collect::<Vec<_>>())) {
        // One CSV version per file (spec §2.3): usage rows take their month's version.
        let version = rows[0].csv_version;
        let rows: Vec<SupplementRow> = rows
            .into_iter()
            .filter(|r| r.csv_version == version)
            .collect();
        round_trip(&rows)?;
    }

    #[test]
    fn table7_rows_round_trip(
        rows in prop_oneof![(2023u16..=2024, 1u8..=12), (2025u16..=2027, 4u8..=12)]
            .prop_flat_map(|(y, m)| (1usize..4).prop_flat_map(move |n| {
                (0..n).map(|i| table7_person(i, ym(y, m))).collect::<Vec<_>>()
            }))
    ) {
        round_trip(&rows.concat())?;
    }

    #[test]
    fn delete_rows_round_trip(
        people in (1usize..4).prop_flat_map(|n| (0..n).map(person).collect::<Vec<_>>()),
        plan_date in any_date(),
        (y, m) in (2025u16..=2027, 4u8..=12),
        office in office_any(),
        service_type in prop::sample::select(TYPES),
    ) {
        let month = ym(y, m);
        let version = CsvVersion::CURRENT;
        round_trip(&people.iter().map(|p| Table1DeleteRow { csv_version: version, insurer: p.insurer, insured: p.insured, plan_date }).collect::<Vec<_>>())?;
        round_trip(&people.iter().map(|p| PlanDeleteRow { csv_version: version, insurer: p.insurer, insured: p.insured, month }).collect::<Vec<_>>())?;
        round_trip(&people.iter().map(|p| ActualDeleteRow { csv_version: version, insurer: p.insurer, insured: p.insured, month, office, service_type: ty(service_type) }).collect::<Vec<_>>())?;
    }
}
