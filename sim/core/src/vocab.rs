//! The domain vocabulary: care levels, copay ratios, information classes and roles.
//!
//! Each term has one stable kebab-case name (used in TOML, JSON, reason codes and reports)
//! and, where a national code list exists, its code.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Defines a closed vocabulary enum with stable kebab-case names, `ALL`, `as_str`,
/// `Display` and `FromStr`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable kebab-case name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The position in [`Self::ALL`], for table indexing.
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownTerm;
            fn from_str(s: &str) -> Result<Self, UnknownTerm> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownTerm { vocabulary: stringify!($name), allowed: &[$($text,)+] }),
                }
            }
        }
    };
}

/// A name that is not in a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTerm {
    /// The vocabulary asked.
    pub vocabulary: &'static str,
    /// Its names.
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {}; expected one of: {}",
            self.vocabulary,
            self.allowed.join(", ")
        )
    }
}

impl std::error::Error for UnknownTerm {}

vocabulary! {
    /// 要介護状態区分: the result of a certification.
    CareLevel {
        /// 非該当 (自立).
        NotApplicable = "not-applicable",
        /// 事業対象者 (基本チェックリスト route to the 総合事業; not a certification level).
        ProgramEligible = "program-eligible",
        /// 要支援1.
        Support1 = "support-1",
        /// 要支援2.
        Support2 = "support-2",
        /// 要介護1.
        Care1 = "care-1",
        /// 要介護2.
        Care2 = "care-2",
        /// 要介護3.
        Care3 = "care-3",
        /// 要介護4.
        Care4 = "care-4",
        /// 要介護5.
        Care5 = "care-5",
    }
}

impl CareLevel {
    /// The 要介護状態区分コード of the care-plan CSV standard (01, 06, 12, 13, 21–25).
    pub const fn code(self) -> &'static str {
        match self {
            CareLevel::NotApplicable => "01",
            CareLevel::ProgramEligible => "06",
            CareLevel::Support1 => "12",
            CareLevel::Support2 => "13",
            CareLevel::Care1 => "21",
            CareLevel::Care2 => "22",
            CareLevel::Care3 => "23",
            CareLevel::Care4 => "24",
            CareLevel::Care5 => "25",
        }
    }

    /// The level for a 要介護状態区分コード.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|l| l.code() == code)
    }

    /// The Japanese label.
    pub const fn label_ja(self) -> &'static str {
        match self {
            CareLevel::NotApplicable => "非該当",
            CareLevel::ProgramEligible => "事業対象者",
            CareLevel::Support1 => "要支援1",
            CareLevel::Support2 => "要支援2",
            CareLevel::Care1 => "要介護1",
            CareLevel::Care2 => "要介護2",
            CareLevel::Care3 => "要介護3",
            CareLevel::Care4 => "要介護4",
            CareLevel::Care5 => "要介護5",
        }
    }

    /// 区分支給限度基準額 in units per month (since 2019-10; domain-facts §4.6), for the
    /// levels that have one.
    pub const fn monthly_limit_units(self) -> Option<u32> {
        match self {
            CareLevel::Support1 => Some(5_032),
            CareLevel::Support2 => Some(10_531),
            CareLevel::Care1 => Some(16_765),
            CareLevel::Care2 => Some(19_705),
            CareLevel::Care3 => Some(27_048),
            CareLevel::Care4 => Some(30_938),
            CareLevel::Care5 => Some(36_217),
            CareLevel::NotApplicable | CareLevel::ProgramEligible => None,
        }
    }

    /// Whether the level entitles the person to care-insurance services (要支援1 or above).
    pub const fn is_certified(self) -> bool {
        !matches!(self, CareLevel::NotApplicable | CareLevel::ProgramEligible)
    }
}

vocabulary! {
    /// 利用者負担割合 as printed on the 負担割合証.
    CopayRatio {
        /// 1割.
        Ten = "10-percent",
        /// 2割.
        Twenty = "20-percent",
        /// 3割.
        Thirty = "30-percent",
    }
}

impl CopayRatio {
    /// The share in tenths (1, 2 or 3 割).
    pub const fn tenths(self) -> u8 {
        match self {
            CopayRatio::Ten => 1,
            CopayRatio::Twenty => 2,
            CopayRatio::Thirty => 3,
        }
    }
}

vocabulary! {
    /// The classes of information the platform holds (DOMAIN §2). Billing information is not
    /// stored in the platform and has no class.
    InfoClass {
        /// 介護保険被保険者証 incl. care level, 負担割合証 and 負担限度額認定証.
        InsuranceCard = "insurance-card",
        /// 認定調査票.
        CertificationSurvey = "certification-survey",
        /// 主治医意見書.
        PhysicianOpinion = "physician-opinion",
        /// 要介護認定申請書 and the progress of the certification.
        CertificationApplication = "certification-application",
        /// 住宅改修費 usage history.
        HomeModification = "home-modification",
        /// 福祉用具購入費 usage history.
        WelfareEquipment = "welfare-equipment",
        /// Home care plan (居宅サービス計画) tables 1, 2, 3, 6 and 7.
        HomeCarePlan = "home-care-plan",
        /// Facility care plan (施設サービス計画) tables 1, 2 and 3.
        FacilityCarePlan = "facility-care-plan",
        /// LIFE 利用者フィードバック票.
        LifeFeedback = "life-feedback",
    }
}

impl InfoClass {
    /// Number of classes.
    pub const COUNT: usize = Self::ALL.len();
}

vocabulary! {
    /// Who is asking. Offices take their role from their kind; persons and representatives
    /// act through the マイナポータル mock.
    Role {
        /// 市町村 (保険者).
        Municipality = "municipality",
        /// 居宅介護支援事業所 (care manager).
        CareManagement = "care-management",
        /// 介護サービス事業所.
        CareService = "care-service",
        /// 介護保険施設 and residential services (施設・居住系).
        Facility = "facility",
        /// 医療機関 acting as a deemed care office (みなし介護事業所).
        MedicalInstitution = "medical-institution",
        /// The person (利用者本人).
        Person = "person",
        /// A family member or guardian acting for the person, within the person's rights.
        Representative = "representative",
        /// 国保中央会 / 国保連 operating the platform.
        Operator = "operator",
    }
}

impl Role {
    /// Number of roles.
    pub const COUNT: usize = Self::ALL.len();

    /// Whether the role reaches the platform as an office through the web service and so
    /// needs identity verification and registration to read.
    pub const fn is_office(self) -> bool {
        matches!(
            self,
            Role::CareManagement | Role::CareService | Role::Facility | Role::MedicalInstitution
        )
    }
}

vocabulary! {
    /// The care-plan tables of the standard (spec/careplan-csv.md).
    CarePlanTable {
        /// 居宅 第1表 居宅サービス計画書(1).
        Home1 = "home-1",
        /// 居宅 第2表 居宅サービス計画書(2).
        Home2 = "home-2",
        /// 居宅 第3表 週間サービス計画表.
        Home3 = "home-3",
        /// 居宅 第6表 サービス利用票.
        Home6 = "home-6",
        /// 居宅 第7表 サービス利用票別表.
        Home7 = "home-7",
        /// 施設 第1表 施設サービス計画書(1).
        Facility1 = "facility-1",
        /// 施設 第2表 施設サービス計画書(2).
        Facility2 = "facility-2",
        /// 施設 第3表 週間サービス計画表.
        Facility3 = "facility-3",
    }
}

impl CarePlanTable {
    /// The information class the table belongs to.
    pub const fn class(self) -> InfoClass {
        match self {
            CarePlanTable::Home1
            | CarePlanTable::Home2
            | CarePlanTable::Home3
            | CarePlanTable::Home6
            | CarePlanTable::Home7 => InfoClass::HomeCarePlan,
            CarePlanTable::Facility1 | CarePlanTable::Facility2 | CarePlanTable::Facility3 => {
                InfoClass::FacilityCarePlan
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_allowed_ones() {
        for class in InfoClass::ALL {
            assert_eq!(class.as_str().parse::<InfoClass>().unwrap(), *class);
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        let err = "doctor".parse::<Role>().unwrap_err().to_string();
        assert!(err.starts_with("unknown Role; expected one of: municipality, care-management"));
    }

    #[test]
    fn care_level_codes_follow_the_csv_standard() {
        assert_eq!(CareLevel::Care5.code(), "25");
        assert_eq!(CareLevel::from_code("12"), Some(CareLevel::Support1));
        assert_eq!(CareLevel::from_code("99"), None);
        assert!(!CareLevel::NotApplicable.is_certified());
    }

    #[test]
    fn index_matches_position_in_all() {
        for (idx, class) in InfoClass::ALL.iter().enumerate() {
            assert_eq!(class.index(), idx);
        }
        assert_eq!(Role::COUNT, 8);
        assert_eq!(InfoClass::COUNT, 9);
    }
}
