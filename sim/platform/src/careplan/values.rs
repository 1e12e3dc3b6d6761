//! Typed values of the care-plan CSV standard: the CSVバージョン, months, service type and
//! service codes, times, the 日割 day string, the code lists of spec §4.1 as enums, and the
//! `Cell` conversion every typed row uses to turn one CSV cell into a value and back.
//!
//! Parsing here is the single definition of each format: the field validator
//! (`validate.rs`) calls the same functions, so a cell that validates always converts.

use std::fmt;

use kiban_core::id::{CareOfficeNumber, InsuredNumber, InsurerNumber};
use kiban_core::vocab::CareLevel;
use serde::Serialize;
use time::{Date, Month};

/// The CSVバージョン in column 1 of every record (spec §2.3).
///
/// The history table of spec §2.3 is `[R]` (its remarks were re-paired by order); the values
/// themselves are `[C]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum CsvVersion {
    /// `201910`: 初版, applies from service month 2020-03.
    V201910,
    /// `202003`: 第2版, applies from 2020-10.
    V202003,
    /// `202208`: 第3版 to 第3.2版 (vol.1156), applies from 2023-01.
    V202208,
    /// `202504`: 第4.0版 (令和6年7月). Superseded before it applied: 第4.1版 changed the value
    /// to `202407` for the same start month (2025-04).
    V202504,
    /// `202407`: 第4.1版 (令和6年10月), applies from 2025-04. The version this codec writes.
    V202407,
}

/// Which column layout a CSV version implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Generation {
    /// Versions before v4 (`201910`, `202003`, `202208`): the v3.2 layouts. The 第6表 and
    /// 第7表 lack the three 福祉用具 columns added in v4 (spec §3.6, §3.8; `[R]`/`[NC]`), and there is
    /// no 3表.
    V3,
    /// v4 (`202504`, `202407`): the v4.1 layouts of spec §3.
    V4,
}

impl CsvVersion {
    /// Every version, oldest first.
    pub const ALL: &'static [CsvVersion] = &[
        CsvVersion::V201910,
        CsvVersion::V202003,
        CsvVersion::V202208,
        CsvVersion::V202504,
        CsvVersion::V202407,
    ];

    /// The version this codec writes by default: v4.1.
    pub const CURRENT: CsvVersion = CsvVersion::V202407;

    /// The 6-digit value.
    pub const fn code(self) -> &'static str {
        match self {
            CsvVersion::V201910 => "201910",
            CsvVersion::V202003 => "202003",
            CsvVersion::V202208 => "202208",
            CsvVersion::V202504 => "202504",
            CsvVersion::V202407 => "202407",
        }
    }

    /// The version for a 6-digit value.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }

    /// The first service month the version applies to (spec §2.3 table).
    pub const fn applies_from(self) -> YearMonth {
        match self {
            CsvVersion::V201910 => YearMonth::new_unchecked(2020, 3),
            CsvVersion::V202003 => YearMonth::new_unchecked(2020, 10),
            CsvVersion::V202208 => YearMonth::new_unchecked(2023, 1),
            CsvVersion::V202504 | CsvVersion::V202407 => YearMonth::new_unchecked(2025, 4),
        }
    }

    /// Whether a later edition replaced this value for the same start month (`202504`).
    pub const fn is_superseded(self) -> bool {
        matches!(self, CsvVersion::V202504)
    }

    /// The version that applies to a service month (spec §2.3: a new version applies from the
    /// service month equal to its 適用開始年月). Months before 2020-03 get the first version.
    pub fn for_service_month(month: YearMonth) -> CsvVersion {
        Self::ALL
            .iter()
            .copied()
            .rfind(|v| !v.is_superseded() && v.applies_from() <= month)
            .unwrap_or(CsvVersion::V201910)
    }

    /// The layout generation.
    pub const fn generation(self) -> Generation {
        match self {
            CsvVersion::V201910 | CsvVersion::V202003 | CsvVersion::V202208 => Generation::V3,
            CsvVersion::V202504 | CsvVersion::V202407 => Generation::V4,
        }
    }
}

impl fmt::Display for CsvVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A calendar month, written `YYYYMM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    /// A month; `None` unless `1 <= year <= 9999` and `1 <= month <= 12`.
    pub const fn new(year: u16, month: u8) -> Option<Self> {
        if year >= 1 && year <= 9999 && month >= 1 && month <= 12 {
            Some(Self { year, month })
        } else {
            None
        }
    }

    const fn new_unchecked(year: u16, month: u8) -> Self {
        Self { year, month }
    }

    /// Parses `YYYYMM`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = s.get(..4)?.parse().ok()?;
        let month = s.get(4..)?.parse().ok()?;
        Self::new(year, month)
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Self {
        // `time` years are -9999..=9999; dates in this codec are parsed from 4 digits.
        let year = u16::try_from(date.year()).unwrap_or(1).max(1);
        Self::new_unchecked(year, u8::from(date.month()))
    }

    /// Whether `date` falls in this month.
    pub fn contains(self, date: Date) -> bool {
        Self::of(date) == self
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses `YYYYMMDD` as a calendar date.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = s.get(..4)?.parse().ok()?;
    let month: u8 = s.get(4..6)?.parse().ok()?;
    let day: u8 = s.get(6..)?.parse().ok()?;
    if year < 1 {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Formats a date as `YYYYMMDD`.
pub(crate) fn format_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Whether a character may stand in a service type or service code: an ASCII digit or an
/// upper-case ASCII letter (types such as `2A`, `A1`).
fn code_char(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase()
}

/// A 2-character サービス種類コード, e.g. `11` 訪問介護, `43` 居宅介護支援, `2A`, `A5`
/// (spec §4.1). Used in file names (v4.1, spec §2.1) and as the first two characters of a
/// サービスコード.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceTypeCode([u8; 2]);

impl ServiceTypeCode {
    /// 居宅介護支援 (`43`): the care-management side in the spec's examples.
    pub const CARE_MANAGEMENT: ServiceTypeCode = ServiceTypeCode(*b"43");

    /// Parses two characters, each a digit or an upper-case letter.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(|&c| code_char(c))).then(|| Self([b[0], b[1]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Where the type stands in the standard's scope list (spec §4.1, `[R]`).
    pub fn scope(&self) -> ServiceScope {
        const IN: &[&str] = &[
            "11", "12", "13", "14", "15", "16", "17", "21", "22", "23", "2A", "31", "71", "76",
            "72", "78", "73", "68", "77", "79", "27", "28", "38", // 予防
            "62", "63", "64", "66", "67", "24", "25", "26", "2B", "34", "74", "75", "69",
            "39", // 総合事業
            "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8",
        ];
        const OUT: &[&str] = &[
            "33", "36", "32", "41", "42", "51", "52", "53", "54", "59", "81", "35", "37", "44",
            "45",
        ];
        let s = self.as_str();
        if IN.contains(&s) {
            ServiceScope::InScope
        } else if OUT.contains(&s) {
            ServiceScope::OutOfScope
        } else {
            ServiceScope::NotListed
        }
    }
}

impl fmt::Display for ServiceTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceTypeCode({})", self.as_str())
    }
}

impl Serialize for ServiceTypeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a service type stands in the standard's scope (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    /// Listed as in scope (including 予防 and 総合事業 types).
    InScope,
    /// Listed as out of scope: records are not generated for it.
    OutOfScope,
    /// Not in either list (for example the care-management types 43 and 46).
    NotListed,
}

/// A 6-character サービスコード: 2-character type and 4-character item, per the national
/// 介護給付費単位数等サービスコード表 (spec §3.6 No.15, §4.1), e.g. `171007`.
///
/// The item part is checked as four digits or upper-case letters (lenient: the national
/// table is not embedded). The 第7表's subtotal and total forms are [`Table7Code`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceCode([u8; 6]);

impl ServiceCode {
    /// Parses a real service code; rejects the 第7表 subtotal/total forms.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(|&c| code_char(c)) {
            return None;
        }
        let item = &b[2..];
        if s == "999999" || item == b"AAAA" || item == b"EEEE" || item == b"ZZZZ" {
            return None;
        }
        let mut out = [0u8; 6];
        out.copy_from_slice(b);
        Some(Self(out))
    }

    /// The service type: the first two characters.
    pub fn service_type(&self) -> ServiceTypeCode {
        ServiceTypeCode([self.0[0], self.0[1]])
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceCode({})", self.as_str())
    }
}

/// The 第7表 No.9 サービスコード: a service code or one of the special rows (spec §3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table7Code {
    /// A real service code.
    Service(ServiceCode),
    /// `{type}AAAA`: 区分支給対象 type subtotal (mandatory when a type has several rows).
    Subtotal(ServiceTypeCode),
    /// `{type}EEEE`: 区分支給対象外 type subtotal (optional).
    ExcludedSubtotal(ServiceTypeCode),
    /// `{type}ZZZZ`: 30日超過分 type subtotal (optional).
    Over30Subtotal(ServiceTypeCode),
    /// `999999` (ALL9): the 全合計 row, always output.
    GrandTotal,
}

impl Table7Code {
    /// Parses a 第7表 service code.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "999999" {
            return Some(Table7Code::GrandTotal);
        }
        if let Some(code) = ServiceCode::parse(s) {
            return Some(Table7Code::Service(code));
        }
        let ty = ServiceTypeCode::parse(s.get(..2)?)?;
        match s.get(2..)? {
            "AAAA" => Some(Table7Code::Subtotal(ty)),
            "EEEE" => Some(Table7Code::ExcludedSubtotal(ty)),
            "ZZZZ" => Some(Table7Code::Over30Subtotal(ty)),
            _ => None,
        }
    }

    /// The service type, except for the grand total.
    pub fn service_type(&self) -> Option<ServiceTypeCode> {
        match self {
            Table7Code::Service(c) => Some(c.service_type()),
            Table7Code::Subtotal(t)
            | Table7Code::ExcludedSubtotal(t)
            | Table7Code::Over30Subtotal(t) => Some(*t),
            Table7Code::GrandTotal => None,
        }
    }

    /// Whether this is a subtotal or the grand total (not a service line).
    pub fn is_summary(&self) -> bool {
        !matches!(self, Table7Code::Service(_))
    }
}

impl fmt::Display for Table7Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Table7Code::Service(c) => f.write_str(c.as_str()),
            Table7Code::Subtotal(t) => write!(f, "{t}AAAA"),
            Table7Code::ExcludedSubtotal(t) => write!(f, "{t}EEEE"),
            Table7Code::Over30Subtotal(t) => write!(f, "{t}ZZZZ"),
            Table7Code::GrandTotal => f.write_str("999999"),
        }
    }
}

/// The 第7表 No.7 サービス事業所コード: an office, or ALL9 (`9999999999`) on the 全合計 row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table7Office {
    /// A care office.
    Office(CareOfficeNumber),
    /// `9999999999`, only on the 全合計 row (spec §3.8 No.7).
    AllNines,
}

/// A time of day `HHMM` (spec §4.1 時刻). Hours 00–23; `2400` is also accepted as an end of
/// day (lenient, `[NC]`: the spec only says HHMM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClockTime {
    hour: u8,
    minute: u8,
}

impl ClockTime {
    /// A time; `None` outside 00:00–23:59 and 24:00.
    pub const fn new(hour: u8, minute: u8) -> Option<Self> {
        if (hour < 24 && minute < 60) || (hour == 24 && minute == 0) {
            Some(Self { hour, minute })
        } else {
            None
        }
    }

    /// Parses `HHMM`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Self::new(s.get(..2)?.parse().ok()?, s.get(2..)?.parse().ok()?)
    }

    /// The hour.
    pub const fn hour(self) -> u8 {
        self.hour
    }

    /// The minute.
    pub const fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}{:02}", self.hour, self.minute)
    }
}

/// 第6表 No.12/13 サービス開始/終了時刻: `HHMM`, or `9999` for a service without a time
/// (spec §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceTime {
    /// A time.
    At(ClockTime),
    /// `9999`: a service without a time.
    Untimed,
}

impl ServiceTime {
    /// Parses `HHMM` or `9999`.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "9999" {
            Some(ServiceTime::Untimed)
        } else {
            ClockTime::parse(s).map(ServiceTime::At)
        }
    }
}

impl fmt::Display for ServiceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceTime::At(t) => t.fmt(f),
            ServiceTime::Untimed => f.write_str("9999"),
        }
    }
}

/// 第6表 No.11 日割対象日: 31 characters, `1` on days eligible for 日割 billing, `0`
/// otherwise (spec §3.6). Bit `d - 1` is day `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProratedDays(u32);

impl ProratedDays {
    /// From a bit set (bit 0 = day 1); bits above day 31 are dropped.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits & 0x7FFF_FFFF)
    }

    /// The bit set.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether day `day` (1–31) is flagged.
    pub const fn contains(self, day: u8) -> bool {
        day >= 1 && day <= 31 && self.0 & (1 << (day - 1)) != 0
    }

    /// Parses 31 characters of `0`/`1`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 31 {
            return None;
        }
        let mut bits = 0u32;
        for (i, b) in s.bytes().enumerate() {
            match b {
                b'1' => bits |= 1 << i,
                b'0' => {}
                _ => return None,
            }
        }
        Some(Self(bits))
    }
}

impl fmt::Display for ProratedDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for day in 1..=31 {
            f.write_str(if self.contains(day) { "1" } else { "0" })?;
        }
        Ok(())
    }
}

/// A postal code `XXX-XXXX` (spec §3.1 No.9, §3.2 No.5/10).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostalCode([u8; 8]);

impl PostalCode {
    /// Parses three digits, a hyphen-minus and four digits.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let ok = b.len() == 8
            && b[3] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 3 || c.is_ascii_digit());
        ok.then(|| {
            let mut out = [0u8; 8];
            out.copy_from_slice(b);
            Self(out)
        })
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostalCode({})", self.as_str())
    }
}

/// 第7表 No.23 単位数単価 in `99.99` form (e.g. `11.40`), held in hundredths of a yen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitPrice(u16);

impl UnitPrice {
    /// From hundredths of a yen (`1140` is 11.40); `None` above 99.99.
    pub const fn from_hundredths(h: u16) -> Option<Self> {
        if h <= 9999 { Some(Self(h)) } else { None }
    }

    /// Hundredths of a yen.
    pub const fn hundredths(self) -> u16 {
        self.0
    }

    /// Parses one or two digits, a point and exactly two digits.
    pub fn parse(s: &str) -> Option<Self> {
        let (whole, frac) = s.split_once('.')?;
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !(1..=2).contains(&whole.len()) || frac.len() != 2 || !digits(whole) || !digits(frac) {
            return None;
        }
        let w: u16 = whole.parse().ok()?;
        let f: u16 = frac.parse().ok()?;
        Some(Self(w * 100 + f))
    }
}

impl fmt::Display for UnitPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Defines a code-list enum: variants, codes, Japanese labels, `code`, `from_code`, `label_ja`.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal $label:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            /// Every value, in code-list order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code written in the CSV.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The value for a code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The Japanese label of the code list.
            pub const fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl Cell for $name {
            fn from_cell(s: &str) -> Option<Self> {
                Self::from_code(s)
            }
            fn to_cell(&self) -> String {
                self.code().to_owned()
            }
        }
    };
}

code_enum! {
    /// 計画書区分 (spec §4.1).
    PlanKind {
        /// 初回.
        First = "11" "初回",
        /// 紹介.
        Referral = "12" "紹介",
        /// 継続.
        Continued = "21" "継続",
        /// 初回＆紹介.
        FirstReferral = "51" "初回＆紹介",
        /// 初回＆継続.
        FirstContinued = "52" "初回＆継続",
        /// 紹介＆継続.
        ReferralContinued = "53" "紹介＆継続",
        /// 初回＆紹介＆継続.
        FirstReferralContinued = "54" "初回＆紹介＆継続",
    }
}

code_enum! {
    /// 認定状況区分 (spec §4.1).
    CertificationStatus {
        /// 申請中.
        Applied = "1" "申請中",
        /// 認定済.
        Certified = "2" "認定済",
    }
}

code_enum! {
    /// 性別 (spec §4.1).
    Sex {
        /// 男性.
        Male = "1" "男性",
        /// 女性.
        Female = "2" "女性",
    }
}

code_enum! {
    /// 生活援助中心型の算定理由 (spec §3.2 No.25, §4.1).
    LivingSupportReason {
        /// 一人暮らし.
        LivesAlone = "1" "一人暮らし",
        /// 家族等が障害、疾病等.
        FamilyUnable = "2" "家族等が障害、疾病等",
        /// その他.
        Other = "3" "その他",
    }
}

code_enum! {
    /// 保険対象区分 (spec §3.4 No.15, §4.1).
    InsuranceCoverage {
        /// 対象.
        Covered = "Y" "対象",
        /// 対象外.
        NotCovered = "N" "対象外",
    }
}

code_enum! {
    /// 曜日 (spec §3.5 No.7, §4.1).
    Weekday {
        /// 月.
        Monday = "1" "月",
        /// 火.
        Tuesday = "2" "火",
        /// 水.
        Wednesday = "3" "水",
        /// 木.
        Thursday = "4" "木",
        /// 金.
        Friday = "5" "金",
        /// 土.
        Saturday = "6" "土",
        /// 日.
        Sunday = "7" "日",
    }
}

/// The 要介護状態区分コード values the 居宅 files allow (spec §4.1: 06, 12, 13, 21–25; `01`
/// 非該当 appears only in the 予防 UPKIHON file).
pub(crate) fn care_level_from_code(code: &str) -> Option<CareLevel> {
    CareLevel::from_code(code).filter(|l| *l != CareLevel::NotApplicable)
}

/// One CSV cell as a typed value and back. `from_cell` accepts exactly what the column's
/// format validator accepts (it is only called on validated cells); `to_cell` writes the
/// canonical form.
pub(crate) trait Cell: Sized {
    fn from_cell(s: &str) -> Option<Self>;
    fn to_cell(&self) -> String;
}

/// An empty cell is `None`.
impl<T: Cell> Cell for Option<T> {
    fn from_cell(s: &str) -> Option<Self> {
        if s.is_empty() {
            Some(None)
        } else {
            T::from_cell(s).map(Some)
        }
    }
    fn to_cell(&self) -> String {
        self.as_ref().map(Cell::to_cell).unwrap_or_default()
    }
}

impl Cell for String {
    fn from_cell(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
    fn to_cell(&self) -> String {
        self.clone()
    }
}

impl Cell for u32 {
    fn from_cell(s: &str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
    fn to_cell(&self) -> String {
        self.to_string()
    }
}

impl Cell for i32 {
    fn from_cell(s: &str) -> Option<Self> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
    fn to_cell(&self) -> String {
        self.to_string()
    }
}

/// `1` 該当 / `0` 非該当 (３０日超区分, spec §4.1).
impl Cell for bool {
    fn from_cell(s: &str) -> Option<Self> {
        match s {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        }
    }
    fn to_cell(&self) -> String {
        if *self { "1" } else { "0" }.to_owned()
    }
}

impl Cell for Date {
    fn from_cell(s: &str) -> Option<Self> {
        parse_date(s)
    }
    fn to_cell(&self) -> String {
        format_date(*self)
    }
}

/// Implements `Cell` through `parse` and `Display`.
macro_rules! display_cell {
    ($($ty:ty),+) => {$(
        impl Cell for $ty {
            fn from_cell(s: &str) -> Option<Self> {
                <$ty>::parse(s)
            }
            fn to_cell(&self) -> String {
                self.to_string()
            }
        }
    )+};
}

display_cell!(
    YearMonth,
    ServiceTypeCode,
    ServiceCode,
    Table7Code,
    ClockTime,
    ServiceTime,
    ProratedDays,
    PostalCode,
    UnitPrice
);

impl Cell for CsvVersion {
    fn from_cell(s: &str) -> Option<Self> {
        Self::from_code(s)
    }
    fn to_cell(&self) -> String {
        self.code().to_owned()
    }
}

impl Cell for InsurerNumber {
    fn from_cell(s: &str) -> Option<Self> {
        InsurerNumber::parse(s).ok()
    }
    fn to_cell(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Cell for InsuredNumber {
    fn from_cell(s: &str) -> Option<Self> {
        InsuredNumber::parse(s).ok()
    }
    fn to_cell(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Cell for CareOfficeNumber {
    fn from_cell(s: &str) -> Option<Self> {
        CareOfficeNumber::parse(s).ok()
    }
    fn to_cell(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Cell for CareLevel {
    fn from_cell(s: &str) -> Option<Self> {
        care_level_from_code(s)
    }
    fn to_cell(&self) -> String {
        self.code().to_owned()
    }
}

impl Cell for Table7Office {
    fn from_cell(s: &str) -> Option<Self> {
        if s == "9999999999" {
            Some(Table7Office::AllNines)
        } else {
            CareOfficeNumber::parse(s).ok().map(Table7Office::Office)
        }
    }
    fn to_cell(&self) -> String {
        match self {
            Table7Office::Office(o) => o.as_str().to_owned(),
            Table7Office::AllNines => "9999999999".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_for_service_month_follows_the_history_table() {
        let m = |y, mo| YearMonth::new(y, mo).unwrap();
        assert_eq!(
            CsvVersion::for_service_month(m(2019, 1)),
            CsvVersion::V201910
        );
        assert_eq!(
            CsvVersion::for_service_month(m(2020, 9)),
            CsvVersion::V201910
        );
        assert_eq!(
            CsvVersion::for_service_month(m(2020, 10)),
            CsvVersion::V202003
        );
        assert_eq!(
            CsvVersion::for_service_month(m(2025, 3)),
            CsvVersion::V202208
        );
        assert_eq!(
            CsvVersion::for_service_month(m(2025, 4)),
            CsvVersion::V202407
        );
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(
            ProratedDays::parse("1111100000000000000000000000000")
                .unwrap()
                .bits(),
            0b11111
        );
        assert_eq!(
            ProratedDays::from_bits(0b11111).to_string(),
            "1111100000000000000000000000000"
        );
        assert_eq!(UnitPrice::parse("11.40").unwrap().to_string(), "11.40");
        assert!(UnitPrice::parse("11.4").is_none());
        assert_eq!(
            Table7Code::parse("11AAAA"),
            Some(Table7Code::Subtotal(ServiceTypeCode(*b"11")))
        );
        assert_eq!(Table7Code::parse("999999"), Some(Table7Code::GrandTotal));
        assert!(ServiceCode::parse("11AAAA").is_none());
        assert_eq!(ServiceTime::parse("9999"), Some(ServiceTime::Untimed));
        assert!(ClockTime::parse("2460").is_none());
        assert!(parse_date("20240230").is_none());
        assert!(care_level_from_code("01").is_none());
        assert_eq!(care_level_from_code("21"), Some(CareLevel::Care1));
    }
}
