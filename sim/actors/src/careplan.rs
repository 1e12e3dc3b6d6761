//! Care plans as the actors exchange them (ケアプランデータ連携): a care manager's plan for
//! one person ([`CarePlan`]) written as the standard's MS932 CSV files with the platform's
//! codec (`kiban_platform::careplan`: [`PlanSet`], [`UsageSet`], [`write_actuals`],
//! [`FileName`]), and what a receiving office makes of the files it fetched
//! ([`ReceivedFile`]).
//!
//! - The plan send unit (1表, 2表, 3表, 利用者補足情報 `000000`) comes from the plan's needs,
//!   goals and weekly services ([`CarePlan::plan_files`]).
//! - The monthly 利用票 send unit (第6表 予定, 第7表, 利用者補足情報 with the month) lists
//!   every planned visit of the month: each service on each of its weekdays
//!   ([`CarePlan::usage_files`]).
//! - A provider answers with 実績 for its own lines ([`actuals_for`]), here "as planned".
//!
//! Every file is checked by the codec's own parser before it leaves (the writer refuses what
//! the parser would not accept with zero findings), so a file an actor sends is valid MS932
//! under its standard name. The ファイル連番 of a send unit is the sending instant in JST
//! ([`file_serial`]); a unit's files share it.

use kiban_core::id::CareOfficeNumber;
use kiban_core::time::{Date, JST_OFFSET_SECONDS, Timestamp};
use kiban_core::vocab::{CareLevel, CopayRatio};
use kiban_platform::careplan::{
    CertificationStatus, ClockTime, Endpoint, FileKind, FileName, FileSerial, InsuranceCoverage,
    OutgoingFile, ParsedFile, PlanKind, PlanSet, Route, ServiceCode, ServiceTime, ServiceTypeCode,
    Sex, SupplementRow, Table1Row, Table2Row, Table3Row, Table6Row, Table7Row, UnitPrice, UsageSet,
    Weekday, YearMonth, actuals_as_planned, write_actuals,
};

use crate::certification::Certification;
use crate::names::{PersonName, Sex as PersonSex};
use crate::outcome::ActorError;
use crate::people::Person;
use crate::wire::PersonRef;

/// A kiban date as the codec's date.
pub fn csv_date(date: Date) -> Result<time::Date, ActorError> {
    let month = time::Month::try_from(date.month())
        .map_err(|e| ActorError::Unexpected(format!("{date}: {e}")))?;
    time::Date::from_calendar_date(date.year(), month, date.day())
        .map_err(|e| ActorError::Unexpected(format!("{date}: {e}")))
}

/// The month of a date.
pub fn year_month(date: Date) -> Result<YearMonth, ActorError> {
    u16::try_from(date.year())
        .ok()
        .and_then(|y| YearMonth::new(y, date.month()))
        .ok_or_else(|| ActorError::Unexpected(format!("{date} has no 対象年月")))
}

/// The ファイル連番 `YYYYMMDDHHMMSS` of an instant, in JST.
pub fn file_serial(at: Timestamp) -> Result<FileSerial, ActorError> {
    let local = at.unix_seconds().saturating_add(JST_OFFSET_SECONDS);
    let s = local.rem_euclid(86_400);
    let d = at.date_jst();
    let text = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        d.year(),
        d.month(),
        d.day(),
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    FileSerial::parse(&text).ok_or_else(|| ActorError::Unexpected(format!("no 連番 for {at}")))
}

/// The route of a send unit from `sender` to `receiver` sent at `at`.
pub fn route(sender: Endpoint, receiver: Endpoint, at: Timestamp) -> Result<Route, ActorError> {
    Ok(Route {
        sender,
        receiver,
        serial: file_serial(at)?,
    })
}

/// One weekly service of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedService {
    /// The providing office and its サービス種類コード.
    pub provider: Endpoint,
    /// The provider's name (サービス事業所名).
    pub provider_name: String,
    /// サービス種別, e.g. 訪問介護.
    pub service_kind: String,
    /// サービス内容, e.g. 入浴介助.
    pub content: String,
    /// The サービスコード of each visit.
    pub code: ServiceCode,
    /// Units of each visit.
    pub units: i32,
    /// The weekdays of the visits.
    pub weekdays: Vec<Weekday>,
    /// Start of each visit.
    pub start: ClockTime,
    /// End of each visit.
    pub end: ClockTime,
}

/// A care manager's plan (居宅サービス計画) for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarePlan {
    /// Whose.
    pub person: PersonRef,
    /// The person's name and reading (利用者補足情報).
    pub name: PersonName,
    /// The person's sex.
    pub sex: PersonSex,
    /// The person's birth date.
    pub birth_date: Date,
    /// The person's copay share (第7表 給付率).
    pub copay: CopayRatio,
    /// The certification the plan is made under.
    pub certification: Certification,
    /// The care-management office (type 43).
    pub office: Endpoint,
    /// Its name.
    pub office_name: String,
    /// The care manager (計画作成者氏名).
    pub planner: String,
    /// 居宅サービス計画作成（変更）日: the plan's key.
    pub plan_date: Date,
    /// 初回居宅サービス計画作成日.
    pub first_plan_date: Date,
    /// The need (課題) the services answer.
    pub need: String,
    /// 長期目標.
    pub long_term_goal: String,
    /// 短期目標.
    pub short_term_goal: String,
    /// 総合的な援助の方針.
    pub policy: String,
    /// The weekly services.
    pub services: Vec<PlannedService>,
}

impl CarePlan {
    /// A plan for `person` under `certification` with the standard texts; add services.
    pub fn for_person(
        person: &Person,
        certification: Certification,
        office: Endpoint,
        office_name: &str,
        planner: &str,
        plan_date: Date,
    ) -> CarePlan {
        CarePlan {
            person: PersonRef::of(person),
            name: person.name.clone(),
            sex: person.sex,
            birth_date: person.birth_date,
            copay: person.copay,
            certification,
            office,
            office_name: office_name.to_owned(),
            planner: planner.to_owned(),
            plan_date,
            first_plan_date: plan_date,
            need: String::from("自宅での入浴や家事に不安がある"),
            long_term_goal: String::from("住み慣れた自宅で安全に暮らし続ける"),
            short_term_goal: String::from("週に決まった日に支援を受けて入浴と家事ができる"),
            policy: String::from(
                "本人の「自宅で暮らしたい」という思いを大切に、できることを続けられるよう支援する。",
            ),
            services: Vec::new(),
        }
    }

    fn csv_person(&self) -> kiban_platform::careplan::Person {
        self.person.careplan()
    }

    fn sex_code(&self) -> Sex {
        match self.sex {
            PersonSex::Male => Sex::Male,
            PersonSex::Female => Sex::Female,
        }
    }

    /// The plan send unit as typed rows.
    pub fn plan_set(&self) -> Result<PlanSet, ActorError> {
        let p = self.csv_person();
        let plan_date = csv_date(self.plan_date)?;
        let c = &self.certification;
        let mut t1 = Table1Row::new(
            p,
            plan_date,
            self.office.office,
            &self.planner,
            &self.office_name,
        );
        t1.first_plan_date = csv_date(self.first_plan_date)?;
        t1.plan_kind = Some(if self.first_plan_date == self.plan_date {
            PlanKind::First
        } else {
            PlanKind::Continued
        });
        t1.certification_status = Some(CertificationStatus::Certified);
        t1.certified_on = Some(csv_date(c.decided_on)?);
        t1.valid_from = Some(csv_date(c.valid_from)?);
        t1.valid_until = Some(csv_date(c.valid_until)?);
        t1.care_level = Some(c.level);
        t1.assessment = self.need.clone();
        t1.policy = self.policy.clone();
        t1.updater_code = Some(self.office.office.as_str().to_owned());

        let mut table2 = Vec::new();
        let mut table3 = Vec::new();
        for (i, s) in self.services.iter().enumerate() {
            let mut row = Table2Row::new(p, plan_date);
            row.need_no = Some(1);
            row.goal_no = Some(1);
            if i == 0 {
                row.need = self.need.clone();
                row.long_term_goal = self.long_term_goal.clone();
                row.short_term_goal = self.short_term_goal.clone();
            }
            row.support_no = Some(u32::try_from(i + 1).unwrap_or(99).min(99));
            row.service_content = s.content.clone();
            row.insurance = Some(InsuranceCoverage::Covered);
            row.service_kind = s.service_kind.clone();
            row.provider = Some(s.provider.office);
            row.provider_name = s.provider_name.clone();
            row.frequency = format!("週{}回", s.weekdays.len());
            row.updater_code = Some(self.office.office.as_str().to_owned());
            table2.push(row);
            for weekday in &s.weekdays {
                let mut row = Table3Row::new(p, plan_date);
                row.care_service = format!("{}（{}）", s.service_kind, s.content);
                row.weekday = Some(*weekday);
                row.service_start = Some(s.start);
                row.service_end = Some(s.end);
                table3.push(row);
            }
        }
        let mut s = SupplementRow::for_plan(p, plan_date);
        self.fill_supplement(&mut s)?;
        Ok(PlanSet {
            table1: vec![t1],
            table2,
            table3,
            supplement: vec![s],
        })
    }

    fn fill_supplement(&self, s: &mut SupplementRow) -> Result<(), ActorError> {
        let c = &self.certification;
        s.name_kana = self.name.reading();
        s.name = self.name.written();
        s.sex = Some(self.sex_code());
        s.birth_date = Some(csv_date(self.birth_date)?);
        s.certified_on = Some(csv_date(c.decided_on)?);
        s.limit_from = Some(csv_date(c.valid_from)?);
        s.limit_until = Some(csv_date(c.valid_until)?);
        s.certification_status = Some(CertificationStatus::Certified);
        s.care_level = Some(c.level);
        s.limit_units = c.level.monthly_limit_units();
        s.consent_office = Some(self.office.office);
        s.updater_code = Some(self.office.office.as_str().to_owned());
        Ok(())
    }

    /// The plan send unit's files, sent at `at` to `receiver`.
    pub fn plan_files(
        &self,
        receiver: Endpoint,
        at: Timestamp,
    ) -> Result<Vec<OutgoingFile>, ActorError> {
        Ok(self.plan_set()?.write(&route(self.office, receiver, at)?)?)
    }

    /// The days of `month` on which each service is planned, in date order.
    pub fn visits(&self, month: YearMonth) -> Result<Vec<(&PlannedService, Date)>, ActorError> {
        let first = Date::new(i32::from(month.year()), month.month(), 1)
            .ok_or_else(|| ActorError::Unexpected(format!("month {month:?}")))?;
        let mut out = Vec::new();
        let mut day = first;
        while day.month() == first.month() {
            let weekday = weekday_of(day)?;
            for s in &self.services {
                if s.weekdays.contains(&weekday) {
                    out.push((s, day));
                }
            }
            day = day.plus_days(1);
        }
        Ok(out)
    }

    /// The month's 利用票 as typed rows, made on `created_on`.
    pub fn usage_set(&self, month: YearMonth, created_on: Date) -> Result<UsageSet, ActorError> {
        let p = self.csv_person();
        let made = csv_date(created_on)?;
        let mut table6 = Vec::new();
        for (s, day) in self.visits(month)? {
            let mut r = Table6Row::new(p, month, csv_date(day)?, s.code, s.provider.office, made);
            r.plan_office = Some(self.office.office);
            r.planner_name = self.planner.clone();
            r.units = Some(s.units);
            r.start = ServiceTime::At(s.start);
            r.end = ServiceTime::At(s.end);
            r.office_name = s.provider_name.clone();
            r.updater_code = Some(self.office.office.as_str().to_owned());
            table6.push(r);
        }
        let benefit_rate = 100 - 10 * u32::from(self.copay.tenths());
        // 第7表 lines grouped by office and service type, in order of first appearance; a
        // type with several lines at one office gets its `AAAA` 区分支給対象 subtotal after
        // them (spec §3.8).
        let mut groups: Vec<(CareOfficeNumber, ServiceTypeCode)> = Vec::new();
        for s in &self.services {
            let key = (s.provider.office, s.code.service_type());
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
        let mut table7 = Vec::new();
        let mut total_units: u32 = 0;
        for (office, ty) in groups {
            let mut lines = 0;
            for s in self
                .services
                .iter()
                .filter(|s| s.provider.office == office && s.code.service_type() == ty)
            {
                let count = table6
                    .iter()
                    .filter(|r| r.office == office && r.service_code == s.code)
                    .count();
                if count == 0 {
                    continue;
                }
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                let mut row = Table7Row::service(p, month, made, office, s.code, s.units, count);
                row.office_name = s.provider_name.clone();
                // 地域区分 その他: 10.00 円 per unit (an assumption of the simulation).
                row.unit_price = UnitPrice::from_hundredths(1000);
                row.benefit_rate = Some(benefit_rate);
                table7.push(row);
                lines += 1;
                total_units = total_units
                    .saturating_add(u32::try_from(s.units).unwrap_or(0).saturating_mul(count));
            }
            if lines > 1 {
                table7.push(Table7Row::subtotal(p, month, made, office, ty));
            }
        }
        table7.push(Table7Row::grand_total(p, month, made));
        let mut s = SupplementRow::for_usage(p, month);
        self.fill_supplement(&mut s)?;
        let limit = self.certification.level.monthly_limit_units();
        s.total_excess_units = limit.map(|l| total_units.saturating_sub(l));
        Ok(UsageSet {
            month,
            table6,
            table7,
            supplement: vec![s],
        })
    }

    /// The month's 利用票 send unit's files, made on `created_on`, sent at `at`.
    pub fn usage_files(
        &self,
        receiver: Endpoint,
        month: YearMonth,
        created_on: Date,
        at: Timestamp,
    ) -> Result<Vec<OutgoingFile>, ActorError> {
        Ok(self
            .usage_set(month, created_on)?
            .write(&route(self.office, receiver, at)?)?)
    }

    /// The certification level (what 要介護状態区分 the files carry).
    pub fn level(&self) -> CareLevel {
        self.certification.level
    }
}

/// The weekday of a date (第3表's code list).
pub fn weekday_of(date: Date) -> Result<Weekday, ActorError> {
    let n = csv_date(date)?.weekday().number_from_monday();
    Weekday::ALL
        .get(usize::from(n) - 1)
        .copied()
        .ok_or_else(|| ActorError::Unexpected(format!("weekday {n}")))
}

/// A file an office fetched from its exchange inbox, parsed by the codec.
#[derive(Debug, Clone)]
pub struct ReceivedFile {
    /// The exchange's id.
    pub id: u64,
    /// The standard name.
    pub name: FileName,
    /// The sending office as the platform named it.
    pub sender: String,
    /// The exact bytes (MS932).
    pub bytes: Vec<u8>,
    /// The parsed content (records and findings).
    pub parsed: ParsedFile,
}

impl ReceivedFile {
    /// The kind.
    pub fn kind(&self) -> FileKind {
        self.name.kind()
    }
}

/// The 実績 a provider (`provider`) answers to a received 第6表 予定 file with, when every
/// visit happened as planned: its own lines, made on `on`, sent at `at` (`None` when the file
/// is not a 予定 or holds none of its lines).
pub fn actuals_for(
    planned: &ReceivedFile,
    provider: Endpoint,
    on: Date,
    at: Timestamp,
) -> Result<Option<OutgoingFile>, ActorError> {
    if planned.kind() != FileKind::Plan {
        return Ok(None);
    }
    let Some(month) = planned.name.month() else {
        return Ok(None);
    };
    let rows: Vec<Table6Row> = planned
        .parsed
        .rows()
        .map_err(|e| ActorError::Unexpected(e.to_string()))?;
    let actual = actuals_as_planned(&rows, provider, csv_date(on)?);
    if actual.is_empty() {
        return Ok(None);
    }
    let back = route(provider, planned.name.sender(), at)?;
    Ok(Some(write_actuals(&back, month, &actual)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn file_serials_are_the_jst_instant() {
        let at = d("2026-11-02")
            .midnight_jst()
            .plus_seconds(9 * 3600 + 30 * 60 + 5);
        assert_eq!(file_serial(at).unwrap().as_str(), "20261102093005");
        // 23:59:59 UTC on 1 November is 08:59:59 on 2 November in Japan.
        let utc = d("2026-11-02").midnight_jst().plus_seconds(-1);
        assert_eq!(file_serial(utc).unwrap().as_str(), "20261101235959");
    }

    #[test]
    fn weekdays_follow_the_calendar() {
        assert_eq!(weekday_of(d("2026-11-02")).unwrap(), Weekday::Monday);
        assert_eq!(weekday_of(d("2026-11-08")).unwrap(), Weekday::Sunday);
        assert_eq!(weekday_of(d("2028-02-29")).unwrap(), Weekday::Tuesday);
    }

    #[test]
    fn months_and_dates_convert() {
        let ym = year_month(d("2026-11-30")).unwrap();
        assert_eq!((ym.year(), ym.month()), (2026, 11));
        assert_eq!(
            csv_date(d("2028-02-29")).unwrap(),
            time::Date::from_calendar_date(2028, time::Month::February, 29).unwrap()
        );
    }
}
