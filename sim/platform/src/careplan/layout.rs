//! The column layouts of spec §3 as data: for every covered file, each column's number,
//! Japanese name (exactly as the spec prints it), 項目長, 必須 flag, format rule and how sure
//! the spec is of them.
//!
//! Conventions (decisions):
//! - **項目長 is counted in MS932 bytes.** Every column with a fixed length holds half-width
//!   codes, digits or dates, where bytes and characters agree; a full-width character in such
//!   a column counts 2 and is rejected by the format rule anyway. Columns printed "―" have no
//!   length limit (`max_len: None`).
//! - **Confidence.** Names are `[C]` everywhere. Lengths, 必須 flags and formats carry the mark
//!   of the spec table (`[C]`, `[R]` rebuilt from misaligned text, `[NC]` not confirmed). A rule
//!   broken on an `[NC]` column is reported as a warning, not an error.
//! - **v3 layouts** are the v4.1 layouts without the columns marked `since_v4` (the three
//!   福祉用具 columns of the 第6表 No.16–18 and 第7表 No.10–12, spec §3.6 `[NC]`, §3.8 `[R]`). The
//!   3表 has no v3 layout. The v3 lengths that v4 widened (第7表 回数／日数 2→3) are not
//!   narrowed back (lenient).

use serde::Serialize;

use super::values::Generation;

/// The record layouts this codec covers (spec §3.1–§3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RecordKind {
    /// 利用者補足情報 `UPHOSOKU`, 63 columns (spec §3.1).
    Supplement,
    /// 居宅サービス計画1表 `UP1KYO`, 28 columns (spec §3.2).
    Table1,
    /// 居宅サービス計画1表_削除 `DLT1KYO`, 4 columns (spec §3.3).
    Table1Delete,
    /// 居宅サービス計画2表 `UP2KYO`, 22 columns (spec §3.4).
    Table2,
    /// 居宅サービス計画3表 `UP3KYO`, 13 columns (spec §3.5, v4).
    Table3,
    /// 第6表 予定 `UPPLAN` and 実績 `UPJSK`, 25 columns, same format (spec §3.6).
    Table6,
    /// 第6表予定削除 `DLTPLAN`, 4 columns (spec §3.7).
    PlanDelete,
    /// 実績削除 `DLTJSK`, 6 columns (spec §3.7).
    ActualDelete,
    /// 第7表 `UPSIKYU`, 37 columns (spec §3.8).
    Table7,
}

impl RecordKind {
    /// Every covered layout.
    pub const ALL: &'static [RecordKind] = &[
        RecordKind::Supplement,
        RecordKind::Table1,
        RecordKind::Table1Delete,
        RecordKind::Table2,
        RecordKind::Table3,
        RecordKind::Table6,
        RecordKind::PlanDelete,
        RecordKind::ActualDelete,
        RecordKind::Table7,
    ];

    /// The layout table.
    pub const fn layout(self) -> &'static Layout {
        match self {
            RecordKind::Supplement => &SUPPLEMENT,
            RecordKind::Table1 => &TABLE1,
            RecordKind::Table1Delete => &TABLE1_DELETE,
            RecordKind::Table2 => &TABLE2,
            RecordKind::Table3 => &TABLE3,
            RecordKind::Table6 => &TABLE6,
            RecordKind::PlanDelete => &PLAN_DELETE,
            RecordKind::ActualDelete => &ACTUAL_DELETE,
            RecordKind::Table7 => &TABLE7,
        }
    }
}

/// How sure the spec is of a column's length, 必須 flag and format (spec §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Confidence {
    /// `[C]`: read directly.
    Confirmed,
    /// `[R]`: rebuilt from misaligned text; probably right.
    Rebuilt,
    /// `[NC]`: not confirmed; rules on it are warnings.
    NotConfirmed,
}

/// A code list of spec §4.1: codes and their Japanese labels.
#[derive(Debug, Serialize)]
pub struct CodeList {
    /// The list's Japanese name.
    pub name: &'static str,
    /// `(code, label)` pairs in spec order.
    pub entries: &'static [(&'static str, &'static str)],
}

impl CodeList {
    /// Whether `code` is in the list.
    pub fn contains(&self, code: &str) -> bool {
        self.entries.iter().any(|(c, _)| *c == code)
    }

    /// The codes, comma-separated, for messages.
    pub fn codes(&self) -> String {
        self.entries
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// 計画書区分 (spec §4.1).
pub static PLAN_KIND: CodeList = CodeList {
    name: "計画書区分",
    entries: &[
        ("11", "初回"),
        ("12", "紹介"),
        ("21", "継続"),
        ("51", "初回＆紹介"),
        ("52", "初回＆継続"),
        ("53", "紹介＆継続"),
        ("54", "初回＆紹介＆継続"),
    ],
};

/// 認定状況区分 (spec §4.1).
pub static CERTIFICATION_STATUS: CodeList = CodeList {
    name: "認定状況区分",
    entries: &[("1", "申請中"), ("2", "認定済")],
};

/// 要介護状態区分 for the 居宅 files (spec §4.1; `01` 非該当 is a 予防-file code only).
pub static CARE_LEVEL: CodeList = CodeList {
    name: "要介護状態区分",
    entries: &[
        ("06", "事業対象者"),
        ("12", "要支援１"),
        ("13", "要支援２"),
        ("21", "要介護１"),
        ("22", "要介護２"),
        ("23", "要介護３"),
        ("24", "要介護４"),
        ("25", "要介護５"),
    ],
};

/// 生活援助中心型の算定理由 (spec §3.2 No.25, §4.1).
pub static LIVING_SUPPORT_REASON: CodeList = CodeList {
    name: "生活援助中心型の算定理由",
    entries: &[
        ("1", "一人暮らし"),
        ("2", "家族等が障害、疾病等"),
        ("3", "その他"),
    ],
};

/// 保険対象区分 (spec §3.4 No.15, §4.1).
pub static INSURANCE_COVERAGE: CodeList = CodeList {
    name: "保険対象区分",
    entries: &[("Y", "対象"), ("N", "対象外")],
};

/// 性別 (spec §4.1).
pub static SEX: CodeList = CodeList {
    name: "性別",
    entries: &[("1", "男性"), ("2", "女性")],
};

/// 曜日 (spec §3.5 No.7, §4.1).
pub static WEEKDAY: CodeList = CodeList {
    name: "曜日",
    entries: &[
        ("1", "月"),
        ("2", "火"),
        ("3", "水"),
        ("4", "木"),
        ("5", "金"),
        ("6", "土"),
        ("7", "日"),
    ],
};

/// ３０日超区分 (spec §4.1).
pub static OVER_30_DAYS: CodeList = CodeList {
    name: "３０日超区分",
    entries: &[("1", "該当"), ("0", "非該当")],
};

/// The format rule of a column.
#[derive(Debug, Clone, Copy, Serialize)]
pub enum Format {
    /// CSVバージョン: a value of the spec §2.3 history table.
    CsvVersion,
    /// 保険者番号: 6 digits with a valid check digit and prefecture.
    InsurerNumber,
    /// 被保険者番号: 10 digits, or `H` and 9 digits for 生保単独 (spec §3).
    InsuredNumber,
    /// A 介護保険事業所番号 (check digit and prefecture).
    OfficeNumber,
    /// 第7表 No.7: an office number, or `9999999999` on the 全合計 row.
    Table7Office,
    /// 更新業者コード and the `[NC]` 第7表 No.34–36: ASCII letters and digits (a vendor or
    /// office code; not checked as an office number — lenient).
    VendorCode,
    /// `YYYYMMDD`, a calendar date.
    Date,
    /// `YYYYMMDD`, or `00000000` (UPHOSOKU No.4 when the file goes with the 第6表).
    DateOrZeros,
    /// `YYYYMM`.
    Month,
    /// `YYYYMM`, or `000000` (UPHOSOKU No.63 when the file goes with the 1表).
    MonthOrZeros,
    /// `HHMM`.
    Time,
    /// `HHMM`, or `9999` for a service without a time (第6表 No.12/13).
    ServiceTime,
    /// ASCII digits only.
    Digits,
    /// An integer: optional `-` and ASCII digits (units and amounts, which can be negative
    /// for 減算 lines).
    Integer,
    /// Digits whose value is within `min..=max`.
    Range {
        /// Smallest value.
        min: u32,
        /// Largest value.
        max: u32,
    },
    /// A code of a spec §4.1 list.
    Code(&'static CodeList),
    /// A 2-character サービス種類コード.
    ServiceType,
    /// A 6-character サービスコード (not the 第7表 subtotal forms).
    ServiceCode,
    /// 第7表 No.9: a サービスコード, `{type}AAAA`/`EEEE`/`ZZZZ` or `999999`.
    Table7Code,
    /// 日割対象日: 31 characters of `0`/`1`.
    ProratedDays,
    /// `XXX-XXXX`.
    PostalCode,
    /// `99.99`.
    UnitPrice,
    /// Text that is not フリーテキスト (telephone number, TAIS code): any MS932 characters.
    Text,
    /// フリーテキスト: always written in double quotes (spec §2.2).
    FreeText,
    /// 識別子 "※使用しない": should be empty.
    Unused,
}

/// One column of a layout.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Column {
    /// The column number in the v4.1 layout.
    pub no: u16,
    /// The Japanese item name as the spec prints it.
    pub name: &'static str,
    /// 項目長 in MS932 bytes; `None` for "―".
    pub max_len: Option<u16>,
    /// 必須 (○).
    pub required: bool,
    /// The format rule.
    pub format: Format,
    /// How sure the spec is of length, flag and format.
    pub confidence: Confidence,
    /// Added in v4 (absent from the v3 layout).
    pub since_v4: bool,
}

impl Column {
    /// Whether the column is フリーテキスト (always quoted when written).
    pub fn is_free_text(&self) -> bool {
        matches!(self.format, Format::FreeText)
    }
}

/// A file layout.
#[derive(Debug, Serialize)]
pub struct Layout {
    /// Which layout.
    pub kind: RecordKind,
    /// The spec section.
    pub section: &'static str,
    /// The v4.1 columns in order.
    pub columns: &'static [Column],
}

impl Layout {
    /// The columns of a generation's layout, in file order (v3: without the v4 columns).
    pub fn columns(&self, generation: Generation) -> Vec<&'static Column> {
        let columns: &'static [Column] = self.columns;
        columns
            .iter()
            .filter(|c| generation == Generation::V4 || !c.since_v4)
            .collect()
    }

    /// Whether the layout exists in a generation (the 3表 is v4 only).
    pub fn exists_in(&self, generation: Generation) -> bool {
        generation == Generation::V4 || self.kind != RecordKind::Table3
    }

    /// The v4.1 column with number `no`.
    pub fn column(&self, no: u16) -> Option<&'static Column> {
        let columns: &'static [Column] = self.columns;
        columns.iter().find(|c| c.no == no)
    }
}

use Confidence::{Confirmed as C, NotConfirmed as NC, Rebuilt as R};

/// A column; `len` 0 means "―".
const fn col(no: u16, name: &'static str, len: u16, required: bool, format: Format) -> Column {
    Column {
        no,
        name,
        max_len: if len == 0 { None } else { Some(len) },
        required,
        format,
        confidence: R,
        since_v4: false,
    }
}

impl Column {
    const fn conf(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    const fn v4(mut self) -> Self {
        self.since_v4 = true;
        self
    }
}

const Y: bool = true;
const N: bool = false;

use Format::{
    Code, CsvVersion as Ver, Date, DateOrZeros, Digits, FreeText as Free, InsuredNumber as Insd,
    InsurerNumber as Insr, Integer as Int, Month, MonthOrZeros, OfficeNumber as Office,
    PostalCode as Postal, ServiceType as SvType, Text, Time, Unused, VendorCode as Vendor,
};

/// 利用者補足情報 `UPHOSOKU` (spec §3.1). Names and lengths `[C]`; 必須 `[R]` for No.1–4 and
/// No.63, `[NC]` elsewhere (the other columns are taken as optional).
pub(crate) static SUPPLEMENT: Layout = Layout {
    kind: RecordKind::Supplement,
    section: "§3.1",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "居宅サービス計画作成（変更）日", 8, Y, DateOrZeros),
        col(5, "利用者氏名フリガナ", 0, N, Free),
        col(6, "利用者氏名", 0, N, Free),
        col(7, "利用者性別", 1, N, Code(&SEX)),
        col(8, "利用者生年月日", 8, N, Date),
        col(9, "利用者郵便番号", 8, N, Postal),
        col(10, "利用者住所１", 0, N, Free),
        col(11, "利用者住所２", 0, N, Free),
        col(12, "利用者電話番号", 15, N, Text),
        col(13, "認定日", 8, N, Date),
        col(14, "限度額適用開始年月日", 8, N, Date),
        col(15, "限度額適用終了年月日", 8, N, Date),
        col(16, "認定状況区分", 1, N, Code(&CERTIFICATION_STATUS)),
        col(17, "要介護状態変更日", 8, N, Date),
        col(18, "要介護状態区分", 2, N, Code(&CARE_LEVEL)),
        col(19, "区分支給限度基準額", 7, N, Digits),
        col(20, "１サービス種類コード", 2, N, SvType),
        col(21, "１支給限度基準額", 7, N, Digits),
        col(22, "１合計単位数", 7, N, Digits),
        col(23, "１限度超単位数", 7, N, Digits),
        col(24, "２サービス種類コード", 2, N, SvType),
        col(25, "２支給限度基準額", 7, N, Digits),
        col(26, "２合計単位数", 7, N, Digits),
        col(27, "２限度超単位数", 7, N, Digits),
        col(28, "３サービス種類コード", 2, N, SvType),
        col(29, "３支給限度基準額", 7, N, Digits),
        col(30, "３合計単位数", 7, N, Digits),
        col(31, "３限度超単位数", 7, N, Digits),
        col(32, "４サービス種類コード", 2, N, SvType),
        col(33, "４支給限度基準額", 7, N, Digits),
        col(34, "４合計単位数", 7, N, Digits),
        col(35, "４限度超単位数", 7, N, Digits),
        col(36, "５サービス種類コード", 2, N, SvType),
        col(37, "５支給限度基準額", 7, N, Digits),
        col(38, "５合計単位数", 7, N, Digits),
        col(39, "５限度超単位数", 7, N, Digits),
        col(40, "６サービス種類コード", 2, N, SvType),
        col(41, "６支給限度基準額", 7, N, Digits),
        col(42, "６合計単位数", 7, N, Digits),
        col(43, "６限度超単位数", 7, N, Digits),
        col(44, "７サービス種類コード", 2, N, SvType),
        col(45, "７支給限度基準額", 7, N, Digits),
        col(46, "７合計単位数", 7, N, Digits),
        col(47, "７限度超単位数", 7, N, Digits),
        col(48, "８サービス種類コード", 2, N, SvType),
        col(49, "８支給限度基準額", 7, N, Digits),
        col(50, "８合計単位数", 7, N, Digits),
        col(51, "８限度超単位数", 7, N, Digits),
        col(52, "９サービス種類コード", 2, N, SvType),
        col(53, "９支給限度基準額", 7, N, Digits),
        col(54, "９合計単位数", 7, N, Digits),
        col(55, "９限度超単位数", 7, N, Digits),
        col(56, "合計限度超単位数", 7, N, Digits),
        col(57, "入所前月迄利用日数", 5, N, Digits),
        col(58, "入所累積利用日数", 5, N, Digits),
        col(59, "前回要介護状態区分", 2, N, Code(&CARE_LEVEL)),
        col(60, "同意書受付業者", 10, N, Office),
        col(61, "更新業者コード", 10, N, Vendor),
        col(62, "識別子", 1, N, Unused),
        col(63, "対象年月", 6, Y, MonthOrZeros),
    ],
};

/// 居宅サービス計画1表 `UP1KYO` (spec §3.2). Names and lengths `[C]`; 必須 `[R]`.
pub(crate) static TABLE1: Layout = Layout {
    kind: RecordKind::Table1,
    section: "§3.2",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "作成年月日", 8, Y, Date),
        col(5, "利用者郵便番号", 8, N, Postal),
        col(6, "利用者住所１", 0, N, Free),
        col(7, "利用者住所２", 0, N, Free),
        col(8, "居宅サービス計画作成者氏名", 0, Y, Free),
        col(9, "介護支援事業者名", 0, Y, Free),
        col(10, "介護支援事業者郵便番号", 8, N, Postal),
        col(11, "介護支援事業者住所１", 0, N, Free),
        col(12, "介護支援事業者住所２", 0, N, Free),
        col(13, "介護支援事業者コード", 10, Y, Office),
        col(14, "居宅サービス計画作成（変更）日", 8, Y, Date),
        col(15, "初回居宅サービス計画作成日", 8, Y, Date),
        col(16, "計画書区分", 2, N, Code(&PLAN_KIND)),
        col(17, "認定状況区分", 1, N, Code(&CERTIFICATION_STATUS)),
        col(18, "認定日", 8, N, Date),
        col(19, "認定有効期間開始日", 8, N, Date),
        col(20, "認定有効期間終了日", 8, N, Date),
        col(21, "要介護状態区分", 2, N, Code(&CARE_LEVEL)),
        col(
            22,
            "利用者及び家族の生活に対する意向を踏まえた課題分析の結果",
            0,
            N,
            Free,
        ),
        col(
            23,
            "介護認定審査会の意見及びサービスの種類の指定",
            0,
            N,
            Free,
        ),
        col(24, "総合的な援助の方針", 0, N, Free),
        col(
            25,
            "生活援助中心型の算定理由",
            1,
            N,
            Code(&LIVING_SUPPORT_REASON),
        ),
        col(26, "その他理由", 0, N, Free),
        col(27, "更新業者コード", 10, N, Vendor),
        col(28, "識別子", 1, N, Unused),
    ],
};

/// 居宅サービス計画1表_削除 `DLT1KYO` (spec §3.3, `[C]`): every column required.
pub(crate) static TABLE1_DELETE: Layout = Layout {
    kind: RecordKind::Table1Delete,
    section: "§3.3",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr).conf(C),
        col(3, "被保険者番号", 10, Y, Insd).conf(C),
        col(4, "居宅サービス計画作成（変更）日", 8, Y, Date).conf(C),
    ],
};

/// 居宅サービス計画2表 `UP2KYO` (spec §3.4). Names `[C]`; lengths and notes `[R]`.
pub(crate) static TABLE2: Layout = Layout {
    kind: RecordKind::Table2,
    section: "§3.4",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "居宅計画書作成年月日", 8, Y, Date),
        col(5, "居宅サービス計画作成（変更）日", 8, Y, Date),
        col(6, "課題ＮＯ", 2, N, Format::Range { min: 1, max: 99 }),
        col(7, "課題", 0, N, Free),
        col(8, "援助目標ＮＯ", 2, N, Format::Range { min: 1, max: 99 }),
        col(9, "長期目標", 0, N, Free),
        col(10, "短期目標", 0, N, Free),
        col(11, "長期期間", 0, N, Free),
        col(12, "短期期間", 0, N, Free),
        col(13, "援助内容ＮＯ", 2, N, Format::Range { min: 1, max: 99 }),
        col(14, "サービス内容", 0, N, Free),
        col(15, "保険対象区分", 1, N, Code(&INSURANCE_COVERAGE)),
        col(16, "サービス種別", 0, N, Free),
        col(17, "サービス事業者コード", 10, N, Office),
        col(18, "サービス事業所名", 0, N, Free),
        col(19, "頻度", 0, N, Free),
        col(20, "実施期間", 0, N, Free),
        col(21, "更新業者コード", 10, N, Vendor),
        col(22, "識別子", 1, N, Unused),
    ],
};

/// 居宅サービス計画3表 `UP3KYO` (spec §3.5, v4). Names `[C]`; lengths `[R]`; No.4 必須 `[R]`.
/// The 必要 marker column of the spec is not modelled (`[NC]`).
pub(crate) static TABLE3: Layout = Layout {
    kind: RecordKind::Table3,
    section: "§3.5",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "週間サービス計画表作成年月日", 8, Y, Date),
        col(5, "居宅サービス計画作成（変更）日", 8, Y, Date),
        col(6, "介護サービス内容", 0, N, Free),
        col(7, "曜日", 1, N, Code(&WEEKDAY)),
        col(8, "開始時間", 4, N, Time),
        col(9, "終了時間", 4, N, Time),
        col(10, "主な日常生活上の活動", 0, N, Free),
        col(11, "開始時間", 4, N, Time),
        col(12, "終了時間", 4, N, Time),
        col(13, "週単位以外のサービス", 0, N, Free),
    ],
};

/// 第6表 予定 `UPPLAN` / 実績 `UPJSK` (spec §3.6). Names `[C]`; lengths and flags `[R]`;
/// No.19 length `[NC]` (2, as implementations use).
pub(crate) static TABLE6: Layout = Layout {
    kind: RecordKind::Table6,
    section: "§3.6",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "作成年月日", 8, Y, Date),
        col(5, "対象年月", 6, Y, Month),
        col(6, "プラン担当業者コード", 10, N, Office),
        col(7, "プラン担当者名", 0, N, Free),
        col(8, "単位数", 6, N, Int),
        col(9, "前月までの短期入所利用日数", 5, N, Digits),
        col(10, "サービス利用日", 8, Y, Date),
        col(11, "日割対象日", 31, N, Format::ProratedDays),
        col(12, "サービス開始時刻", 4, Y, Format::ServiceTime),
        col(13, "サービス終了時刻", 4, Y, Format::ServiceTime),
        col(14, "サービス回数", 2, Y, Digits),
        col(15, "サービスコード", 6, Y, Format::ServiceCode),
        col(16, "TAISコード", 12, N, Text).v4(),
        col(17, "福祉用具届出コード", 12, N, Text).v4(),
        col(18, "用具名称（機種名）", 0, N, Free).v4(),
        col(19, "明細判別コード", 2, N, Digits).conf(NC),
        col(20, "サービス事業者コード", 10, Y, Office),
        col(21, "サービス事業所名", 0, N, Free),
        col(22, "サテライト枝番", 2, N, Vendor),
        col(23, "３０日超区分", 1, Y, Code(&OVER_30_DAYS)),
        col(24, "更新業者コード", 10, N, Vendor),
        col(25, "識別子", 1, N, Unused),
    ],
};

/// 第6表予定削除 `DLTPLAN` (spec §3.7, `[C]`): every column required.
pub(crate) static PLAN_DELETE: Layout = Layout {
    kind: RecordKind::PlanDelete,
    section: "§3.7",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr).conf(C),
        col(3, "被保険者番号", 10, Y, Insd).conf(C),
        col(4, "削除対象年月", 6, Y, Month).conf(C),
    ],
};

/// 実績削除 `DLTJSK` (spec §3.7): every column required; No.5–6 lengths `[R]`.
pub(crate) static ACTUAL_DELETE: Layout = Layout {
    kind: RecordKind::ActualDelete,
    section: "§3.7",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr).conf(C),
        col(3, "被保険者番号", 10, Y, Insd).conf(C),
        col(4, "削除対象年月", 6, Y, Month).conf(C),
        col(5, "サービス事業者コード", 10, Y, Office),
        col(6, "サービス種類コード", 2, Y, SvType),
    ],
};

/// 第7表 `UPSIKYU` (spec §3.8). Names `[C]`; lengths and flags `[R]`; No.17, No.23–25, No.30
/// and No.34–36 `[NC]` (No.30 taken as 5 digits per the v3.2 change log; No.34–36 checked
/// only as codes because which carries `9999999999` is not known).
pub(crate) static TABLE7: Layout = Layout {
    kind: RecordKind::Table7,
    section: "§3.8",
    columns: &[
        col(1, "CSVバージョン", 6, Y, Ver).conf(C),
        col(2, "保険者番号", 6, Y, Insr),
        col(3, "被保険者番号", 10, Y, Insd),
        col(4, "作成年月日", 8, Y, Date),
        col(5, "対象年月", 6, Y, Month),
        col(6, "サービス事業所名", 0, N, Free),
        col(7, "サービス事業所コード", 10, Y, Format::Table7Office),
        col(8, "サテライト枝番", 2, N, Vendor),
        col(9, "サービスコード", 6, Y, Format::Table7Code),
        col(10, "TAISコード", 12, N, Text).v4(),
        col(11, "福祉用具届出コード", 12, N, Text).v4(),
        col(12, "用具名称（機種名）", 0, N, Free).v4(),
        col(13, "単位数", 6, Y, Int),
        col(14, "割引後率", 5, N, Digits),
        col(15, "割引後単位数", 6, N, Int),
        col(16, "回数／日数", 3, Y, Digits),
        col(17, "サービス単位金額", 5, N, Int).conf(NC),
        col(18, "給付管理単位数", 6, N, Int),
        col(19, "種類支給限度基準超単位数", 6, N, Int),
        col(20, "種類支給限度基準内単位数", 6, N, Int),
        col(21, "区分支給限度基準超単位数", 6, N, Int),
        col(22, "区分支給限度基準内単位数", 6, N, Int),
        col(23, "単位数単価", 6, N, Format::UnitPrice).conf(NC),
        col(24, "費用総額保険／事業対象分", 6, N, Int).conf(NC),
        col(25, "給付率", 6, N, Digits).conf(NC),
        col(26, "保険／事業費請求額", 6, N, Int),
        col(27, "定額利用者負担単価金額", 6, N, Int),
        col(28, "利用者負担保険／事業対象分", 6, N, Int),
        col(29, "利用者負担（全額負担分）", 6, N, Int),
        col(30, "前月までの利用日数", 5, N, Digits).conf(NC),
        col(31, "当月の計画利用日数", 2, N, Digits),
        col(32, "累積利用日数", 5, N, Digits),
        col(33, "３０日超区分", 1, Y, Code(&OVER_30_DAYS)),
        col(34, "事業所コード", 10, N, Vendor).conf(NC),
        col(35, "入力者コード", 10, N, Vendor).conf(NC),
        col(36, "更新業者コード", 10, N, Vendor).conf(NC),
        col(37, "識別子", 1, N, Unused),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_numbered_in_order_with_the_spec_counts() {
        let counts = [
            (RecordKind::Supplement, 63, 63),
            (RecordKind::Table1, 28, 28),
            (RecordKind::Table1Delete, 4, 4),
            (RecordKind::Table2, 22, 22),
            (RecordKind::Table3, 13, 13),
            (RecordKind::Table6, 25, 22),
            (RecordKind::PlanDelete, 4, 4),
            (RecordKind::ActualDelete, 6, 6),
            (RecordKind::Table7, 37, 34),
        ];
        for (kind, v4, v3) in counts {
            let layout = kind.layout();
            assert_eq!(layout.kind, kind);
            assert_eq!(layout.columns(Generation::V4).len(), v4, "{kind:?}");
            assert_eq!(layout.columns(Generation::V3).len(), v3, "{kind:?}");
            for (i, c) in layout.columns.iter().enumerate() {
                assert_eq!(usize::from(c.no), i + 1, "{kind:?}");
                assert!(
                    c.max_len.is_some() || matches!(c.format, Format::FreeText),
                    "{kind:?} {}",
                    c.no
                );
            }
            assert!(matches!(layout.columns[0].format, Format::CsvVersion));
        }
    }
}
