//! Typed rows: one struct per covered layout, with a field per column in spec order. Empty
//! optional cells are `None` (or an empty `String` for フリーテキスト); code lists are enums;
//! identifiers are the validated kiban-core types.
//!
//! Conversions work on v4.1-shaped cells (the parser widens v3 records; the writer narrows
//! them again), so a row type serves every CSV version of its layout.

use kiban_core::id::{CareOfficeNumber, InsuredNumber, InsurerNumber};
use kiban_core::vocab::CareLevel;
use time::Date;

use super::layout::RecordKind;
use super::values::{
    Cell, CertificationStatus, ClockTime, CsvVersion, InsuranceCoverage, LivingSupportReason,
    PlanKind, PostalCode, ProratedDays, ServiceCode, ServiceTime, ServiceTypeCode, Sex, Table7Code,
    Table7Office, UnitPrice, Weekday, YearMonth,
};

/// A typed row of one layout.
pub trait TypedRow: Sized {
    /// The layout.
    const KIND: RecordKind;

    /// The CSVバージョン of the row (column 1).
    fn csv_version(&self) -> CsvVersion;

    /// Builds the row from its cells in v4.1 column order; `None` when a cell does not
    /// convert (never for a record the parser marked clean).
    fn from_cells(cells: &[String]) -> Option<Self>;

    /// The row's cells in v4.1 column order, in their canonical text form.
    fn to_cells(&self) -> Vec<String>;
}

/// The person a record is about: 保険者番号 and 被保険者番号 (columns 2 and 3 of every file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Person {
    /// 保険者番号.
    pub insurer: InsurerNumber,
    /// 被保険者番号.
    pub insured: InsuredNumber,
}

/// Defines a typed row whose fields map one-to-one to columns.
macro_rules! typed_row {
    ($(#[$m:meta])* $name:ident = $kind:expr; {
        $($(#[$fm:meta])* $no:literal $field:ident : $ty:ty,)+
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)+
        }

        impl TypedRow for $name {
            const KIND: RecordKind = $kind;

            fn csv_version(&self) -> CsvVersion {
                self.csv_version
            }

            fn from_cells(cells: &[String]) -> Option<Self> {
                Some(Self {
                    $($field: <$ty as Cell>::from_cell(cells.get($no - 1)?)?,)+
                })
            }

            fn to_cells(&self) -> Vec<String> {
                vec![$(Cell::to_cell(&self.$field),)+]
            }
        }

        impl $name {
            /// The column numbers of the fields, in declaration order (checked by tests).
            #[cfg(test)]
            pub(crate) const COLUMN_NOS: &'static [usize] = &[$($no,)+];

            /// The person (columns 2 and 3).
            pub fn person(&self) -> Person {
                Person { insurer: self.insurer, insured: self.insured }
            }
        }
    };
}

typed_row! {
    /// 居宅サービス計画1表 `UP1KYO` (spec §3.2).
    Table1Row = RecordKind::Table1; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 作成年月日.
        4 created_on: Date,
        /// No.5 利用者郵便番号.
        5 postal_code: Option<PostalCode>,
        /// No.6 利用者住所１.
        6 address1: String,
        /// No.7 利用者住所２.
        7 address2: String,
        /// No.8 居宅サービス計画作成者氏名 (required).
        8 planner_name: String,
        /// No.9 介護支援事業者名 (required).
        9 office_name: String,
        /// No.10 介護支援事業者郵便番号.
        10 office_postal_code: Option<PostalCode>,
        /// No.11 介護支援事業者住所１.
        11 office_address1: String,
        /// No.12 介護支援事業者住所２.
        12 office_address2: String,
        /// No.13 介護支援事業者コード.
        13 office: CareOfficeNumber,
        /// No.14 居宅サービス計画作成（変更）日: the key of the plan set.
        14 plan_date: Date,
        /// No.15 初回居宅サービス計画作成日.
        15 first_plan_date: Date,
        /// No.16 計画書区分.
        16 plan_kind: Option<PlanKind>,
        /// No.17 認定状況区分.
        17 certification_status: Option<CertificationStatus>,
        /// No.18 認定日.
        18 certified_on: Option<Date>,
        /// No.19 認定有効期間開始日.
        19 valid_from: Option<Date>,
        /// No.20 認定有効期間終了日.
        20 valid_until: Option<Date>,
        /// No.21 要介護状態区分.
        21 care_level: Option<CareLevel>,
        /// No.22 利用者及び家族の生活に対する意向を踏まえた課題分析の結果.
        22 assessment: String,
        /// No.23 介護認定審査会の意見及びサービスの種類の指定.
        23 board_opinion: String,
        /// No.24 総合的な援助の方針.
        24 policy: String,
        /// No.25 生活援助中心型の算定理由.
        25 living_support_reason: Option<LivingSupportReason>,
        /// No.26 その他理由.
        26 other_reason: String,
        /// No.27 更新業者コード.
        27 updater_code: Option<String>,
        /// No.28 識別子 (not used).
        28 identifier: Option<String>,
    }
}

impl Table1Row {
    /// A 1表 row with the required columns; 作成年月日 and 初回作成日 are `plan_date`,
    /// everything optional is empty, the version is v4.1.
    pub fn new(
        person: Person,
        plan_date: Date,
        office: CareOfficeNumber,
        planner_name: &str,
        office_name: &str,
    ) -> Self {
        Self {
            csv_version: CsvVersion::CURRENT,
            insurer: person.insurer,
            insured: person.insured,
            created_on: plan_date,
            postal_code: None,
            address1: String::new(),
            address2: String::new(),
            planner_name: planner_name.to_owned(),
            office_name: office_name.to_owned(),
            office_postal_code: None,
            office_address1: String::new(),
            office_address2: String::new(),
            office,
            plan_date,
            first_plan_date: plan_date,
            plan_kind: None,
            certification_status: None,
            certified_on: None,
            valid_from: None,
            valid_until: None,
            care_level: None,
            assessment: String::new(),
            board_opinion: String::new(),
            policy: String::new(),
            living_support_reason: None,
            other_reason: String::new(),
            updater_code: None,
            identifier: None,
        }
    }
}

typed_row! {
    /// 居宅サービス計画1表_削除 `DLT1KYO` (spec §3.3): withdraws a plan and its 2表/3表.
    Table1DeleteRow = RecordKind::Table1Delete; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 居宅サービス計画作成（変更）日 of the plan to delete.
        4 plan_date: Date,
    }
}

typed_row! {
    /// 居宅サービス計画2表 `UP2KYO` (spec §3.4). Rows follow the print image; repeated
    /// 課題/目標 cells may be left empty after the first row of a group.
    Table2Row = RecordKind::Table2; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 居宅計画書作成年月日.
        4 created_on: Date,
        /// No.5 居宅サービス計画作成（変更）日 (key to the 1表).
        5 plan_date: Date,
        /// No.6 課題ＮＯ (1–99).
        6 need_no: Option<u32>,
        /// No.7 課題.
        7 need: String,
        /// No.8 援助目標ＮＯ (1–99).
        8 goal_no: Option<u32>,
        /// No.9 長期目標.
        9 long_term_goal: String,
        /// No.10 短期目標.
        10 short_term_goal: String,
        /// No.11 長期期間.
        11 long_term_period: String,
        /// No.12 短期期間.
        12 short_term_period: String,
        /// No.13 援助内容ＮＯ (1–99).
        13 support_no: Option<u32>,
        /// No.14 サービス内容.
        14 service_content: String,
        /// No.15 保険対象区分.
        15 insurance: Option<InsuranceCoverage>,
        /// No.16 サービス種別.
        16 service_kind: String,
        /// No.17 サービス事業者コード.
        17 provider: Option<CareOfficeNumber>,
        /// No.18 サービス事業所名.
        18 provider_name: String,
        /// No.19 頻度.
        19 frequency: String,
        /// No.20 実施期間.
        20 period: String,
        /// No.21 更新業者コード.
        21 updater_code: Option<String>,
        /// No.22 識別子 (not used).
        22 identifier: Option<String>,
    }
}

impl Table2Row {
    /// A 2表 row for a plan: keys set, 作成年月日 = `plan_date`, everything else empty.
    pub fn new(person: Person, plan_date: Date) -> Self {
        Self {
            csv_version: CsvVersion::CURRENT,
            insurer: person.insurer,
            insured: person.insured,
            created_on: plan_date,
            plan_date,
            need_no: None,
            need: String::new(),
            goal_no: None,
            long_term_goal: String::new(),
            short_term_goal: String::new(),
            long_term_period: String::new(),
            short_term_period: String::new(),
            support_no: None,
            service_content: String::new(),
            insurance: None,
            service_kind: String::new(),
            provider: None,
            provider_name: String::new(),
            frequency: String::new(),
            period: String::new(),
            updater_code: None,
            identifier: None,
        }
    }
}

typed_row! {
    /// 居宅サービス計画3表 `UP3KYO` (spec §3.5, v4). Each row carries one kind of content:
    /// a weekly service (No.6–9), a daily activity (No.10–12) or a non-weekly service (No.13).
    Table3Row = RecordKind::Table3; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 週間サービス計画表作成年月日.
        4 created_on: Date,
        /// No.5 居宅サービス計画作成（変更）日 (key to the 1表).
        5 plan_date: Date,
        /// No.6 介護サービス内容.
        6 care_service: String,
        /// No.7 曜日.
        7 weekday: Option<Weekday>,
        /// No.8 開始時間.
        8 service_start: Option<ClockTime>,
        /// No.9 終了時間.
        9 service_end: Option<ClockTime>,
        /// No.10 主な日常生活上の活動.
        10 daily_activity: String,
        /// No.11 開始時間 (activity).
        11 activity_start: Option<ClockTime>,
        /// No.12 終了時間 (activity).
        12 activity_end: Option<ClockTime>,
        /// No.13 週単位以外のサービス.
        13 non_weekly_service: String,
    }
}

impl Table3Row {
    /// A 3表 row for a plan: keys set, 作成年月日 = `plan_date`, content empty.
    pub fn new(person: Person, plan_date: Date) -> Self {
        Self {
            csv_version: CsvVersion::CURRENT,
            insurer: person.insurer,
            insured: person.insured,
            created_on: plan_date,
            plan_date,
            care_service: String::new(),
            weekday: None,
            service_start: None,
            service_end: None,
            daily_activity: String::new(),
            activity_start: None,
            activity_end: None,
            non_weekly_service: String::new(),
        }
    }
}

typed_row! {
    /// 第6表 予定 `UPPLAN` / 実績 `UPJSK` (spec §3.6): one service code on one service date.
    Table6Row = RecordKind::Table6; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 作成年月日.
        4 created_on: Date,
        /// No.5 対象年月 (service month).
        5 month: YearMonth,
        /// No.6 プラン担当業者コード.
        6 plan_office: Option<CareOfficeNumber>,
        /// No.7 プラン担当者名.
        7 planner_name: String,
        /// No.8 単位数 (after discount; may be negative for 減算).
        8 units: Option<i32>,
        /// No.9 前月までの短期入所利用日数.
        9 short_stay_days_before: Option<u32>,
        /// No.10 サービス利用日.
        10 service_date: Date,
        /// No.11 日割対象日.
        11 prorated_days: Option<ProratedDays>,
        /// No.12 サービス開始時刻.
        12 start: ServiceTime,
        /// No.13 サービス終了時刻.
        13 end: ServiceTime,
        /// No.14 サービス回数.
        14 count: u32,
        /// No.15 サービスコード.
        15 service_code: ServiceCode,
        /// No.16 TAISコード (v4).
        16 tais_code: Option<String>,
        /// No.17 福祉用具届出コード (v4).
        17 notified_code: Option<String>,
        /// No.18 用具名称（機種名） (v4).
        18 equipment_name: String,
        /// No.19 明細判別コード (17 福祉用具貸与 only).
        19 detail_no: Option<u32>,
        /// No.20 サービス事業者コード (予定: planned provider; 実績: actual provider).
        20 office: CareOfficeNumber,
        /// No.21 サービス事業所名.
        21 office_name: String,
        /// No.22 サテライト枝番.
        22 satellite: Option<String>,
        /// No.23 ３０日超区分.
        23 over_30_days: bool,
        /// No.24 更新業者コード.
        24 updater_code: Option<String>,
        /// No.25 識別子 (not used).
        25 identifier: Option<String>,
    }
}

impl Table6Row {
    /// A 第6表 line: one occurrence (count 1), without times (`9999`), not over 30 days,
    /// version chosen from the service month (spec §2.3).
    pub fn new(
        person: Person,
        month: YearMonth,
        service_date: Date,
        service_code: ServiceCode,
        office: CareOfficeNumber,
        created_on: Date,
    ) -> Self {
        Self {
            csv_version: CsvVersion::for_service_month(month),
            insurer: person.insurer,
            insured: person.insured,
            created_on,
            month,
            plan_office: None,
            planner_name: String::new(),
            units: None,
            short_stay_days_before: None,
            service_date,
            prorated_days: None,
            start: ServiceTime::Untimed,
            end: ServiceTime::Untimed,
            count: 1,
            service_code,
            tais_code: None,
            notified_code: None,
            equipment_name: String::new(),
            detail_no: None,
            office,
            office_name: String::new(),
            satellite: None,
            over_30_days: false,
            updater_code: None,
            identifier: None,
        }
    }
}

typed_row! {
    /// 第6表予定削除 `DLTPLAN` (spec §3.7): withdraws a month's 第6表 and 第7表.
    PlanDeleteRow = RecordKind::PlanDelete; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 削除対象年月.
        4 month: YearMonth,
    }
}

typed_row! {
    /// 実績削除 `DLTJSK` (spec §3.7): withdraws one provider's 実績 of one service type.
    ActualDeleteRow = RecordKind::ActualDelete; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 削除対象年月.
        4 month: YearMonth,
        /// No.5 サービス事業者コード.
        5 office: CareOfficeNumber,
        /// No.6 サービス種類コード.
        6 service_type: ServiceTypeCode,
    }
}

typed_row! {
    /// 第7表 `UPSIKYU` (spec §3.8): one service line, type subtotal or the 全合計 row.
    Table7Row = RecordKind::Table7; {
        /// No.1 CSVバージョン.
        1 csv_version: CsvVersion,
        /// No.2 保険者番号.
        2 insurer: InsurerNumber,
        /// No.3 被保険者番号.
        3 insured: InsuredNumber,
        /// No.4 作成年月日.
        4 created_on: Date,
        /// No.5 対象年月.
        5 month: YearMonth,
        /// No.6 サービス事業所名.
        6 office_name: String,
        /// No.7 サービス事業所コード (ALL9 on the 全合計 row).
        7 office: Table7Office,
        /// No.8 サテライト枝番.
        8 satellite: Option<String>,
        /// No.9 サービスコード (or a subtotal / total code).
        9 service_code: Table7Code,
        /// No.10 TAISコード (v4).
        10 tais_code: Option<String>,
        /// No.11 福祉用具届出コード (v4).
        11 notified_code: Option<String>,
        /// No.12 用具名称（機種名） (v4).
        12 equipment_name: String,
        /// No.13 単位数 (0 on subtotal and total rows).
        13 units: i32,
        /// No.14 割引後率.
        14 discount_rate: Option<u32>,
        /// No.15 割引後単位数.
        15 discounted_units: Option<i32>,
        /// No.16 回数／日数.
        16 count: u32,
        /// No.17 サービス単位金額.
        17 unit_amount: Option<i32>,
        /// No.18 給付管理単位数.
        18 managed_units: Option<i32>,
        /// No.19 種類支給限度基準超単位数.
        19 type_limit_excess: Option<i32>,
        /// No.20 種類支給限度基準内単位数.
        20 type_limit_within: Option<i32>,
        /// No.21 区分支給限度基準超単位数.
        21 category_limit_excess: Option<i32>,
        /// No.22 区分支給限度基準内単位数.
        22 category_limit_within: Option<i32>,
        /// No.23 単位数単価.
        23 unit_price: Option<UnitPrice>,
        /// No.24 費用総額保険／事業対象分.
        24 total_cost: Option<i32>,
        /// No.25 給付率.
        25 benefit_rate: Option<u32>,
        /// No.26 保険／事業費請求額.
        26 claim_amount: Option<i32>,
        /// No.27 定額利用者負担単価金額.
        27 fixed_copay_unit_amount: Option<i32>,
        /// No.28 利用者負担保険／事業対象分.
        28 copay: Option<i32>,
        /// No.29 利用者負担（全額負担分）.
        29 copay_full: Option<i32>,
        /// No.30 前月までの利用日数.
        30 days_before: Option<u32>,
        /// No.31 当月の計画利用日数.
        31 planned_days: Option<u32>,
        /// No.32 累積利用日数.
        32 cumulative_days: Option<u32>,
        /// No.33 ３０日超区分.
        33 over_30_days: bool,
        /// No.34 事業所コード.
        34 office_code: Option<String>,
        /// No.35 入力者コード.
        35 entered_by: Option<String>,
        /// No.36 更新業者コード.
        36 updater_code: Option<String>,
        /// No.37 識別子 (not used).
        37 identifier: Option<String>,
    }
}

impl Table7Row {
    /// A 第7表 row with every optional column empty.
    fn blank(
        person: Person,
        month: YearMonth,
        created_on: Date,
        office: Table7Office,
        service_code: Table7Code,
    ) -> Self {
        Self {
            csv_version: CsvVersion::for_service_month(month),
            insurer: person.insurer,
            insured: person.insured,
            created_on,
            month,
            office_name: String::new(),
            office,
            satellite: None,
            service_code,
            tais_code: None,
            notified_code: None,
            equipment_name: String::new(),
            units: 0,
            discount_rate: None,
            discounted_units: None,
            count: 0,
            unit_amount: None,
            managed_units: None,
            type_limit_excess: None,
            type_limit_within: None,
            category_limit_excess: None,
            category_limit_within: None,
            unit_price: None,
            total_cost: None,
            benefit_rate: None,
            claim_amount: None,
            fixed_copay_unit_amount: None,
            copay: None,
            copay_full: None,
            days_before: None,
            planned_days: None,
            cumulative_days: None,
            over_30_days: false,
            office_code: None,
            entered_by: None,
            updater_code: None,
            identifier: None,
        }
    }

    /// A service line: `units` per occurrence, `count` occurrences.
    pub fn service(
        person: Person,
        month: YearMonth,
        created_on: Date,
        office: CareOfficeNumber,
        code: ServiceCode,
        units: i32,
        count: u32,
    ) -> Self {
        let mut row = Self::blank(
            person,
            month,
            created_on,
            Table7Office::Office(office),
            Table7Code::Service(code),
        );
        row.units = units;
        row.count = count;
        row
    }

    /// The `{type}AAAA` 区分支給対象 subtotal of a type at an office (単位数 0, spec §3.8).
    pub fn subtotal(
        person: Person,
        month: YearMonth,
        created_on: Date,
        office: CareOfficeNumber,
        service_type: ServiceTypeCode,
    ) -> Self {
        Self::blank(
            person,
            month,
            created_on,
            Table7Office::Office(office),
            Table7Code::Subtotal(service_type),
        )
    }

    /// The 全合計 row (ALL9 office and code, 単位数 0; spec §3.8), mandatory once per person.
    pub fn grand_total(person: Person, month: YearMonth, created_on: Date) -> Self {
        Self::blank(
            person,
            month,
            created_on,
            Table7Office::AllNines,
            Table7Code::GrandTotal,
        )
    }
}

/// One 種類別限度額 slot of the 利用者補足情報 (No.20–55, four columns per slot). A slot
/// with every field `None` is unused; slots are filled from the first (spec §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeLimit {
    /// サービス種類コード.
    pub service_type: Option<ServiceTypeCode>,
    /// 支給限度基準額.
    pub limit: Option<u32>,
    /// 合計単位数.
    pub total_units: Option<u32>,
    /// 限度超単位数.
    pub excess_units: Option<u32>,
}

/// 利用者補足情報 `UPHOSOKU` (spec §3.1). It goes with the 1表 (`plan_date` set, `month`
/// `None`, written `000000`) or with the 第6表 (`plan_date` `None`, written `00000000`,
/// `month` set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplementRow {
    /// No.1 CSVバージョン.
    pub csv_version: CsvVersion,
    /// No.2 保険者番号.
    pub insurer: InsurerNumber,
    /// No.3 被保険者番号.
    pub insured: InsuredNumber,
    /// No.4 居宅サービス計画作成（変更）日; `None` is `00000000` (goes with the 第6表).
    pub plan_date: Option<Date>,
    /// No.5 利用者氏名フリガナ.
    pub name_kana: String,
    /// No.6 利用者氏名.
    pub name: String,
    /// No.7 利用者性別.
    pub sex: Option<Sex>,
    /// No.8 利用者生年月日.
    pub birth_date: Option<Date>,
    /// No.9 利用者郵便番号.
    pub postal_code: Option<PostalCode>,
    /// No.10 利用者住所１.
    pub address1: String,
    /// No.11 利用者住所２.
    pub address2: String,
    /// No.12 利用者電話番号.
    pub phone: Option<String>,
    /// No.13 認定日.
    pub certified_on: Option<Date>,
    /// No.14 限度額適用開始年月日.
    pub limit_from: Option<Date>,
    /// No.15 限度額適用終了年月日.
    pub limit_until: Option<Date>,
    /// No.16 認定状況区分.
    pub certification_status: Option<CertificationStatus>,
    /// No.17 要介護状態変更日.
    pub care_level_changed_on: Option<Date>,
    /// No.18 要介護状態区分.
    pub care_level: Option<CareLevel>,
    /// No.19 区分支給限度基準額.
    pub limit_units: Option<u32>,
    /// No.20–55 the nine 種類別限度額 slots.
    pub type_limits: [TypeLimit; 9],
    /// No.56 合計限度超単位数.
    pub total_excess_units: Option<u32>,
    /// No.57 入所前月迄利用日数.
    pub days_before_admission: Option<u32>,
    /// No.58 入所累積利用日数.
    pub cumulative_admission_days: Option<u32>,
    /// No.59 前回要介護状態区分.
    pub previous_care_level: Option<CareLevel>,
    /// No.60 同意書受付業者.
    pub consent_office: Option<CareOfficeNumber>,
    /// No.61 更新業者コード.
    pub updater_code: Option<String>,
    /// No.62 識別子 (not used).
    pub identifier: Option<String>,
    /// No.63 対象年月; `None` is `000000` (goes with the 1表).
    pub month: Option<YearMonth>,
}

impl SupplementRow {
    fn blank(person: Person, csv_version: CsvVersion) -> Self {
        Self {
            csv_version,
            insurer: person.insurer,
            insured: person.insured,
            plan_date: None,
            name_kana: String::new(),
            name: String::new(),
            sex: None,
            birth_date: None,
            postal_code: None,
            address1: String::new(),
            address2: String::new(),
            phone: None,
            certified_on: None,
            limit_from: None,
            limit_until: None,
            certification_status: None,
            care_level_changed_on: None,
            care_level: None,
            limit_units: None,
            type_limits: [TypeLimit::default(); 9],
            total_excess_units: None,
            days_before_admission: None,
            cumulative_admission_days: None,
            previous_care_level: None,
            consent_office: None,
            updater_code: None,
            identifier: None,
            month: None,
        }
    }

    /// The supplement that goes with a plan (1表 set): `plan_date` set, month `000000`.
    pub fn for_plan(person: Person, plan_date: Date) -> Self {
        let mut row = Self::blank(person, CsvVersion::CURRENT);
        row.plan_date = Some(plan_date);
        row
    }

    /// The supplement that goes with a month's 第6表: `00000000` date, month set.
    pub fn for_usage(person: Person, month: YearMonth) -> Self {
        let mut row = Self::blank(person, CsvVersion::for_service_month(month));
        row.month = Some(month);
        row
    }

    /// The person (columns 2 and 3).
    pub fn person(&self) -> Person {
        Person {
            insurer: self.insurer,
            insured: self.insured,
        }
    }
}

impl TypedRow for SupplementRow {
    const KIND: RecordKind = RecordKind::Supplement;

    fn csv_version(&self) -> CsvVersion {
        self.csv_version
    }

    fn from_cells(cells: &[String]) -> Option<Self> {
        fn get<T: Cell>(cells: &[String], no: usize) -> Option<T> {
            T::from_cell(cells.get(no - 1)?)
        }
        let plan_date = match cells.get(3)?.as_str() {
            "00000000" => None,
            s => Some(Date::from_cell(s)?),
        };
        let month = match cells.get(62)?.as_str() {
            "000000" => None,
            s => Some(YearMonth::from_cell(s)?),
        };
        let mut type_limits = [TypeLimit::default(); 9];
        for (i, slot) in type_limits.iter_mut().enumerate() {
            let base = 20 + 4 * i;
            *slot = TypeLimit {
                service_type: get(cells, base)?,
                limit: get(cells, base + 1)?,
                total_units: get(cells, base + 2)?,
                excess_units: get(cells, base + 3)?,
            };
        }
        Some(Self {
            csv_version: get(cells, 1)?,
            insurer: get(cells, 2)?,
            insured: get(cells, 3)?,
            plan_date,
            name_kana: get(cells, 5)?,
            name: get(cells, 6)?,
            sex: get(cells, 7)?,
            birth_date: get(cells, 8)?,
            postal_code: get(cells, 9)?,
            address1: get(cells, 10)?,
            address2: get(cells, 11)?,
            phone: get(cells, 12)?,
            certified_on: get(cells, 13)?,
            limit_from: get(cells, 14)?,
            limit_until: get(cells, 15)?,
            certification_status: get(cells, 16)?,
            care_level_changed_on: get(cells, 17)?,
            care_level: get(cells, 18)?,
            limit_units: get(cells, 19)?,
            type_limits,
            total_excess_units: get(cells, 56)?,
            days_before_admission: get(cells, 57)?,
            cumulative_admission_days: get(cells, 58)?,
            previous_care_level: get(cells, 59)?,
            consent_office: get(cells, 60)?,
            updater_code: get(cells, 61)?,
            identifier: get(cells, 62)?,
            month,
        })
    }

    fn to_cells(&self) -> Vec<String> {
        let mut out = vec![
            self.csv_version.to_cell(),
            self.insurer.to_cell(),
            self.insured.to_cell(),
            self.plan_date
                .map_or_else(|| String::from("00000000"), |d| d.to_cell()),
            self.name_kana.clone(),
            self.name.clone(),
            self.sex.to_cell(),
            self.birth_date.to_cell(),
            self.postal_code.to_cell(),
            self.address1.clone(),
            self.address2.clone(),
            self.phone.to_cell(),
            self.certified_on.to_cell(),
            self.limit_from.to_cell(),
            self.limit_until.to_cell(),
            self.certification_status.to_cell(),
            self.care_level_changed_on.to_cell(),
            self.care_level.to_cell(),
            self.limit_units.to_cell(),
        ];
        for slot in &self.type_limits {
            out.push(slot.service_type.to_cell());
            out.push(slot.limit.to_cell());
            out.push(slot.total_units.to_cell());
            out.push(slot.excess_units.to_cell());
        }
        out.extend([
            self.total_excess_units.to_cell(),
            self.days_before_admission.to_cell(),
            self.cumulative_admission_days.to_cell(),
            self.previous_care_level.to_cell(),
            self.consent_office.to_cell(),
            self.updater_code.to_cell(),
            self.identifier.to_cell(),
            self.month
                .map_or_else(|| String::from("000000"), |m| m.to_cell()),
        ]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_rows_list_every_column_in_order() {
        fn check(kind: RecordKind, nos: &[usize]) {
            let expected: Vec<usize> = (1..=kind.layout().columns.len()).collect();
            assert_eq!(nos, expected.as_slice(), "{kind:?}");
        }
        check(RecordKind::Table1, Table1Row::COLUMN_NOS);
        check(RecordKind::Table1Delete, Table1DeleteRow::COLUMN_NOS);
        check(RecordKind::Table2, Table2Row::COLUMN_NOS);
        check(RecordKind::Table3, Table3Row::COLUMN_NOS);
        check(RecordKind::Table6, Table6Row::COLUMN_NOS);
        check(RecordKind::PlanDelete, PlanDeleteRow::COLUMN_NOS);
        check(RecordKind::ActualDelete, ActualDeleteRow::COLUMN_NOS);
        check(RecordKind::Table7, Table7Row::COLUMN_NOS);
    }
}
