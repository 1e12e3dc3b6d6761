//! Shared test data for the care-plan CSV tests: valid identifiers (the check digit is found
//! by trying all ten), a small cast (one care-management office, two providers, two people),
//! the valid send units the fixtures are made from, and quote-aware cell editing for making
//! invalid variants of valid files.
#![allow(dead_code)]

use kiban_core::id::{CareOfficeNumber, InsuredNumber, InsurerNumber};
use kiban_core::vocab::CareLevel;
use kiban_platform::careplan::{
    ActualDeleteRow, CertificationStatus, ClockTime, CsvVersion, Endpoint, FileKind, FileSerial,
    InsuranceCoverage, LivingSupportReason, OutgoingFile, Person, PlanDeleteRow, PlanKind, PlanSet,
    PostalCode, Route, ServiceCode, ServiceTime, ServiceTypeCode, Sex, SupplementRow,
    Table1DeleteRow, Table1Row, Table2Row, Table3Row, Table6Row, Table7Row, TypeLimit, UnitPrice,
    UsageSet, Weekday, YearMonth, actuals_as_planned, write_actuals, write_file,
};
use time::{Date, Month};

/// A care office number from its first nine characters.
pub(crate) fn office(nine: &str) -> CareOfficeNumber {
    (0..10)
        .find_map(|d| CareOfficeNumber::parse(&format!("{nine}{d}")).ok())
        .expect("some check digit fits")
}

/// An insurer number from its first five digits.
pub(crate) fn insurer(five: &str) -> InsurerNumber {
    (0..10)
        .find_map(|d| InsurerNumber::parse(&format!("{five}{d}")).ok())
        .expect("some check digit fits")
}

pub(crate) fn insured(s: &str) -> InsuredNumber {
    InsuredNumber::parse(s).unwrap()
}

pub(crate) fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
}

pub(crate) fn ym(y: u16, m: u8) -> YearMonth {
    YearMonth::new(y, m).unwrap()
}

pub(crate) fn ty(s: &str) -> ServiceTypeCode {
    ServiceTypeCode::parse(s).unwrap()
}

pub(crate) fn code(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

pub(crate) fn at(h: u8, m: u8) -> ServiceTime {
    ServiceTime::At(ClockTime::new(h, m).unwrap())
}

/// The cast of the sample data.
pub(crate) struct Cast {
    /// 居宅介護支援事業所 (type 43).
    pub(crate) cm: Endpoint,
    /// 訪問介護 provider (type 11).
    pub(crate) home_help: Endpoint,
    /// 福祉用具貸与 provider (type 17).
    pub(crate) equipment: Endpoint,
    pub(crate) a: Person,
    pub(crate) b: Person,
}

pub(crate) fn cast() -> Cast {
    let ins = insurer("13101");
    Cast {
        cm: Endpoint {
            office: office("137000001"),
            service_type: Some(ty("43")),
        },
        home_help: Endpoint {
            office: office("137100002"),
            service_type: Some(ty("11")),
        },
        equipment: Endpoint {
            office: office("137200003"),
            service_type: Some(ty("17")),
        },
        a: Person {
            insurer: ins,
            insured: insured("0000012345"),
        },
        b: Person {
            insurer: ins,
            insured: insured("H000067890"),
        },
    }
}

pub(crate) fn serial(s: &str) -> FileSerial {
    FileSerial::parse(s).unwrap()
}

/// CM → 訪問介護 provider, 2025-04-25 10:00:00.
pub(crate) fn route_to_home_help() -> Route {
    let c = cast();
    Route {
        sender: c.cm,
        receiver: c.home_help,
        serial: serial("20250425100000"),
    }
}

/// 訪問介護 provider → CM, 2025-06-03 09:30:00.
pub(crate) fn route_back() -> Route {
    let c = cast();
    Route {
        sender: c.home_help,
        receiver: c.cm,
        serial: serial("20250603093000"),
    }
}

/// The plan (1表/2表/3表/補足) for person A, exercising quoting and full-width text.
pub(crate) fn plan_set() -> PlanSet {
    let c = cast();
    let plan_date = date(2025, 4, 20);
    let mut t1 = Table1Row::new(
        c.a,
        plan_date,
        c.cm.office,
        "山田 花子",
        "ひまわり居宅介護支援",
    );
    t1.created_on = date(2025, 4, 21);
    t1.first_plan_date = date(2024, 10, 1);
    t1.postal_code = PostalCode::parse("100-0001");
    t1.address1 = String::from("東京都千代田区千代田１－１");
    t1.office_postal_code = PostalCode::parse("160-0023");
    t1.office_address1 = String::from("東京都新宿区西新宿２－８－１");
    t1.plan_kind = Some(PlanKind::Continued);
    t1.certification_status = Some(CertificationStatus::Certified);
    t1.certified_on = Some(date(2024, 9, 20));
    t1.valid_from = Some(date(2024, 10, 1));
    t1.valid_until = Some(date(2026, 9, 30));
    t1.care_level = Some(CareLevel::Care2);
    t1.assessment =
        String::from("本人：「自宅で暮らし続けたい」\r\n家族：長女は週末に訪問、平日は独居。");
    t1.board_opinion = String::from("特になし");
    t1.policy = String::from("転倒を防ぎ、\"できること\"を続けられるよう支援する。");
    t1.living_support_reason = Some(LivingSupportReason::LivesAlone);
    t1.updater_code = Some(c.cm.office.as_str().to_owned());

    let mut t2a = Table2Row::new(c.a, plan_date);
    t2a.need_no = Some(1);
    t2a.need = String::from("一人で入浴するのが不安");
    t2a.goal_no = Some(1);
    t2a.long_term_goal = String::from("安全に入浴できる");
    t2a.short_term_goal = String::from("見守りのもと週2回入浴する");
    t2a.long_term_period = String::from("R7.4～R8.3");
    t2a.short_term_period = String::from("R7.4～R7.9");
    t2a.support_no = Some(1);
    t2a.service_content = String::from("入浴介助");
    t2a.insurance = Some(InsuranceCoverage::Covered);
    t2a.service_kind = String::from("訪問介護");
    t2a.provider = Some(c.home_help.office);
    t2a.provider_name = String::from("ｹｱｻｰﾋﾞｽ 髙橋");
    t2a.frequency = String::from("週1回");
    t2a.period = String::from("R7.4～R7.9");
    let mut t2b = Table2Row::new(c.a, plan_date);
    t2b.need_no = Some(1);
    t2b.goal_no = Some(1);
    t2b.support_no = Some(2);
    t2b.service_content = String::from("手すりの設置（居室、廊下）");
    t2b.insurance = Some(InsuranceCoverage::Covered);
    t2b.service_kind = String::from("福祉用具貸与");
    t2b.provider = Some(c.equipment.office);
    t2b.provider_name = String::from("ふくし用具①");
    t2b.frequency = String::from("毎日");
    let mut t2c = Table2Row::new(c.a, plan_date);
    t2c.need_no = Some(2);
    t2c.need = String::from("通院の付き添いがほしい");
    t2c.goal_no = Some(1);
    t2c.support_no = Some(1);
    t2c.service_content = String::from("長女の付き添い");
    t2c.service_kind = String::from("家族");

    let mut t3a = Table3Row::new(c.a, plan_date);
    t3a.care_service = String::from("訪問介護（入浴）");
    t3a.weekday = Some(Weekday::Thursday);
    t3a.service_start = ClockTime::new(10, 0);
    t3a.service_end = ClockTime::new(10, 30);
    let mut t3b = Table3Row::new(c.a, plan_date);
    t3b.daily_activity = String::from("起床・朝食");
    t3b.activity_start = ClockTime::new(7, 0);
    t3b.activity_end = ClockTime::new(8, 0);
    let mut t3c = Table3Row::new(c.a, plan_date);
    t3c.non_weekly_service = String::from("福祉用具貸与（手すり）");

    let mut s = SupplementRow::for_plan(c.a, plan_date);
    s.name_kana = String::from("ｽｽﾞｷ ﾀﾛｳ");
    s.name = String::from("鈴木 太郎");
    s.sex = Some(Sex::Male);
    s.birth_date = Some(date(1940, 2, 29));
    s.postal_code = PostalCode::parse("100-0001");
    s.address1 = String::from("東京都千代田区千代田１－１");
    s.phone = Some(String::from("03-1234-5678"));
    s.certified_on = Some(date(2024, 9, 20));
    s.limit_from = Some(date(2024, 10, 1));
    s.limit_until = Some(date(2026, 9, 30));
    s.certification_status = Some(CertificationStatus::Certified);
    s.care_level = Some(CareLevel::Care2);
    s.limit_units = Some(19_705);
    s.consent_office = Some(c.cm.office);
    PlanSet {
        table1: vec![t1],
        table2: vec![t2a, t2b, t2c],
        table3: vec![t3a, t3b, t3c],
        supplement: vec![s],
    }
}

/// May 2025's 利用票 for A (訪問介護 weekly + two 手すり) and B (訪問介護 twice).
pub(crate) fn usage_set() -> UsageSet {
    let c = cast();
    let month = ym(2025, 5);
    let made = date(2025, 4, 25);
    let mut t6 = Vec::new();
    for day in [1, 8, 15, 22, 29] {
        let mut r = Table6Row::new(
            c.a,
            month,
            date(2025, 5, day),
            code("111211"),
            c.home_help.office,
            made,
        );
        r.plan_office = Some(c.cm.office);
        r.planner_name = String::from("山田 花子");
        r.units = Some(387);
        r.start = at(10, 0);
        r.end = at(10, 30);
        r.office_name = String::from("ケアサービス髙橋");
        r.updater_code = Some(c.cm.office.as_str().to_owned());
        t6.push(r);
    }
    for (detail, tais, name) in [
        (1, "00001-000010", "手すり（居室）"),
        (2, "00001-000011", "手すり（廊下）"),
    ] {
        let mut r = Table6Row::new(
            c.a,
            month,
            date(2025, 5, 1),
            code("171007"),
            c.equipment.office,
            made,
        );
        r.plan_office = Some(c.cm.office);
        r.units = Some(300);
        r.tais_code = Some(String::from(tais));
        r.equipment_name = String::from(name);
        r.detail_no = Some(detail);
        r.office_name = String::from("ふくし用具①");
        t6.push(r);
    }
    for day in [6, 20] {
        let mut r = Table6Row::new(
            c.b,
            month,
            date(2025, 5, day),
            code("111111"),
            c.home_help.office,
            made,
        );
        r.plan_office = Some(c.cm.office);
        r.units = Some(244);
        r.start = at(14, 0);
        r.end = at(14, 30);
        r.prorated_days = None;
        t6.push(r);
    }
    let service = |p, o, k: &str, units, count| {
        let mut r = Table7Row::service(p, month, made, o, code(k), units, count);
        r.unit_price = UnitPrice::from_hundredths(1140);
        r.benefit_rate = Some(90);
        r
    };
    let mut hand_a = service(c.a, c.equipment.office, "171007", 300, 1);
    hand_a.tais_code = Some(String::from("00001-000010"));
    let mut hand_b = service(c.a, c.equipment.office, "171007", 300, 1);
    hand_b.tais_code = Some(String::from("00001-000011"));
    let t7 = vec![
        service(c.a, c.home_help.office, "111211", 387, 5),
        hand_a,
        hand_b,
        Table7Row::subtotal(c.a, month, made, c.equipment.office, ty("17")),
        Table7Row::grand_total(c.a, month, made),
        service(c.b, c.home_help.office, "111111", 244, 2),
        Table7Row::grand_total(c.b, month, made),
    ];
    let mut sa = SupplementRow::for_usage(c.a, month);
    sa.name = String::from("鈴木 太郎");
    sa.care_level = Some(CareLevel::Care2);
    sa.limit_units = Some(19_705);
    sa.type_limits[0] = TypeLimit {
        service_type: Some(ty("11")),
        limit: Some(10_000),
        total_units: Some(1_935),
        excess_units: Some(0),
    };
    let mut sb = SupplementRow::for_usage(c.b, month);
    sb.name = String::from("佐藤 花");
    sb.sex = Some(Sex::Female);
    sb.care_level = Some(CareLevel::Support2);
    UsageSet {
        month,
        table6: t6,
        table7: t7,
        supplement: vec![sa, sb],
    }
}

/// A v3 (CSV version 202208, v3 file names) 利用票 unit for March 2025.
pub(crate) fn usage_set_v3() -> (Route, UsageSet) {
    let c = cast();
    let month = ym(2025, 3);
    let made = date(2025, 2, 25);
    let route = Route {
        sender: Endpoint {
            office: c.cm.office,
            service_type: None,
        },
        receiver: Endpoint {
            office: c.home_help.office,
            service_type: None,
        },
        serial: serial("20250225170000"),
    };
    let mut r = Table6Row::new(
        c.b,
        month,
        date(2025, 3, 4),
        code("111111"),
        c.home_help.office,
        made,
    );
    r.units = Some(244);
    r.start = at(9, 0);
    r.end = at(9, 30);
    assert_eq!(r.csv_version, CsvVersion::V202208);
    let set = UsageSet {
        month,
        table6: vec![r],
        table7: vec![
            Table7Row::service(c.b, month, made, c.home_help.office, code("111111"), 244, 1),
            Table7Row::grand_total(c.b, month, made),
        ],
        supplement: vec![SupplementRow::for_usage(c.b, month)],
    };
    (route, set)
}

/// Every valid fixture file, as the writer produces them.
pub(crate) fn valid_files() -> Vec<OutgoingFile> {
    let c = cast();
    let mut files = plan_set().write(&route_to_home_help()).unwrap();
    let usage = usage_set();
    let usage_route = Route {
        serial: serial("20250425100500"),
        ..route_to_home_help()
    };
    files.extend(usage.write(&usage_route).unwrap());
    let mut actual = actuals_as_planned(&usage.table6, c.home_help, date(2025, 6, 2));
    actual[1].start = at(10, 15);
    actual[1].end = at(10, 45);
    files.push(write_actuals(&route_back(), ym(2025, 5), &actual).unwrap());
    let (route, set) = usage_set_v3();
    files.extend(set.write(&route).unwrap());
    let del_route = Route {
        serial: serial("20250428120000"),
        ..route_to_home_help()
    };
    files.push(
        write_file(
            &del_route.name(FileKind::Table1Delete, None).unwrap(),
            &[Table1DeleteRow {
                csv_version: CsvVersion::CURRENT,
                insurer: c.a.insurer,
                insured: c.a.insured,
                plan_date: date(2025, 4, 20),
            }],
        )
        .unwrap(),
    );
    let del_route = Route {
        serial: serial("20250428120100"),
        ..route_to_home_help()
    };
    files.push(
        write_file(
            &del_route
                .name(FileKind::PlanDelete, Some(ym(2025, 5)))
                .unwrap(),
            &[PlanDeleteRow {
                csv_version: CsvVersion::CURRENT,
                insurer: c.b.insurer,
                insured: c.b.insured,
                month: ym(2025, 5),
            }],
        )
        .unwrap(),
    );
    let del_back = Route {
        serial: serial("20250604080000"),
        ..route_back()
    };
    files.push(
        write_file(
            &del_back
                .name(FileKind::ActualDelete, Some(ym(2025, 5)))
                .unwrap(),
            &[ActualDeleteRow {
                csv_version: CsvVersion::CURRENT,
                insurer: c.b.insurer,
                insured: c.b.insured,
                month: ym(2025, 5),
                office: c.home_help.office,
                service_type: ty("11"),
            }],
        )
        .unwrap(),
    );
    files
}

/// The valid file of a kind (the v4.1 one when there are several).
pub(crate) fn valid(kind: FileKind) -> OutgoingFile {
    valid_files()
        .into_iter()
        .find(|f| f.name.kind() == kind && f.name.sender().service_type.is_some())
        .unwrap()
}

pub(crate) fn decode(bytes: &[u8]) -> String {
    kiban_platform::careplan::decode_ms932(bytes).unwrap()
}

pub(crate) fn encode(text: &str) -> Vec<u8> {
    kiban_platform::careplan::encode_ms932(text).unwrap()
}

/// The records of a file (CRLF-separated; line breaks inside quotes stay in the record).
pub(crate) fn lines(bytes: &[u8]) -> Vec<String> {
    let text = decode(bytes);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '"' {
            quoted = !quoted;
        }
        if ch == '\r' && !quoted && chars.peek() == Some(&'\n') {
            chars.next();
            out.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub(crate) fn unlines(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    encode(&text)
}

/// Splits a record into raw cells, keeping quotes.
pub(crate) fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                out.last_mut().unwrap().push(ch);
            }
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(ch),
        }
    }
    out
}

/// Replaces cell `no` (1-based, raw text including any quotes) of record `index`.
pub(crate) fn set_cell(bytes: &[u8], index: usize, no: usize, raw: &str) -> Vec<u8> {
    let mut ls = lines(bytes);
    let mut cs = cells(&ls[index]);
    cs[no - 1] = raw.to_owned();
    ls[index] = cs.join(",");
    unlines(&ls)
}
