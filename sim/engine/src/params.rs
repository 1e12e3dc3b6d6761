//! The national model's parameters: every rate and share the model draws from, with its
//! source or, where no source was found, the word **assumption**. A scenario's `[model]`
//! table overrides any of them by its kebab-case name; unknown names are errors.
//!
//! Sources are cited by section: `domain-facts` is `shared/research/domain-facts.md`,
//! `DOMAIN` is `shared/DOMAIN.md`, `data README` is `sim/core/data/README.md`.

use serde::{Deserialize, Serialize};

/// How an office registers for a person without a My Number card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoCardRegistration {
    /// No fallback: without a card the office cannot register and the relationship stays on
    /// paper.
    None,
    /// The municipality verifies the person itself and registers the office (the platform's
    /// fallback for people without a card; ARCHITECTURE "Registration without a card"),
    /// after `municipality-verification-days` on average.
    MunicipalityVerified,
}

/// Every parameter of the national model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ModelParams {
    /// Certified persons (要介護・要支援) per inhabitant: 7.08 M at the end of FY2023 over the
    /// 2020 census population 126,226,568 (domain-facts §7; data README) = 0.0561.
    pub certified_ratio: f64,
    /// Shares of 要支援1, 要支援2, 要介護1–5 among certified persons. **Assumption** (the
    /// national split by level is not in the research notes); used for facility use and
    /// reported as a distribution.
    pub level_shares: [f64; 7],
    /// Shares of 1割, 2割, 3割 copay (domain-facts §4.7 gives the rules, not the split).
    /// **Assumption**.
    pub copay_shares: [f64; 3],
    /// Share of certified persons who use services. **Assumption**.
    pub service_use_share: f64,
    /// Share of service users at 要介護1–2 who live in a facility or residential service.
    /// **Assumption**.
    pub facility_share_care_1_2: f64,
    /// Share of service users at 要介護3–5 who live in a facility or residential service.
    /// **Assumption**.
    pub facility_share_care_3_5: f64,
    /// Share of home-care users with a second service office besides the first (every home
    /// user has a care-management office and one service office). **Assumption**.
    pub second_service_office_share: f64,
    /// Share of care relationships with an office in another municipality of the same
    /// prefecture (the cross-municipality case, DOMAIN §5), when the person's own
    /// municipality has an office of the kind. **Assumption**.
    pub cross_municipality_share: f64,
    /// Certified persons per care-management office: about 38,000 居宅介護支援事業所 (40,118 in
    /// 2019, a frame of 33,749 in FY2023; domain-facts §7) for 7.08 M certified persons.
    pub persons_per_care_management_office: f64,
    /// Certified persons per service office: 訪問介護 36,420, 通所介護 24,569, 訪問看護 14,829
    /// (2022; domain-facts §7) plus other services, about 118,000. The total of the other
    /// services is an **assumption**.
    pub persons_per_service_office: f64,
    /// Certified persons per facility or residential service: 特養 8,548 + 老健 4,250 + 介護医療院
    /// 791 (2023) + グループホーム 14,139 (2022) + 特定施設 about 4,952 (domain-facts §7) = about
    /// 32,700.
    pub persons_per_facility: f64,
    /// Share of certified persons holding a My Number card they can use for identity
    /// verification. **Assumption** (no figure for care recipients in the research notes).
    pub card_holding_rate: f64,
    /// The registration route for people without a card.
    pub no_card_registration: NoCardRegistration,
    /// Mean days the municipality takes to verify a person without a card and register the
    /// office. **Assumption**.
    pub municipality_verification_days: f64,
    /// Mean months after the period start until an office has its terminals, card readers and
    /// client certificate (few offices had all in 2024, DOMAIN §5). **Assumption**.
    pub office_readiness_mean_months: f64,
    /// Days between an office's contacts with a person (monthly monitoring visit or service);
    /// registration and consent on the municipality's behalf happen at a contact.
    /// **Assumption**.
    pub contact_interval_days: u16,
    /// Share of applicants who give comprehensive consent when the municipality asks at a new
    /// or renewal application (DOMAIN §4 (1)(2)); the rest refuse or cannot consent.
    /// **Assumption**.
    pub consent_at_application_share: f64,
    /// Whether care-management offices and facilities obtain consent on the municipality's
    /// behalf for existing users (DOMAIN §4 (3)(4)).
    pub consent_by_offices: bool,
    /// Share of persons who consent when an office asks (on the municipality's behalf, or for
    /// itself under the per-office model). **Assumption**.
    pub consent_by_office_share: f64,
    /// Deaths per certified person-year. **Assumption**.
    pub annual_death_rate: f64,
    /// Net growth of the certified population per year: 696.1万 (2023-04) to 708万 (2024-03),
    /// domain-facts §7, about 1.7%. New applications per year are `annual_death_rate +
    /// annual_growth` times the starting population.
    pub annual_growth: f64,
    /// Hospital admissions per person-year. **Assumption**.
    pub hospital_stays_per_year: f64,
    /// Mean length of a hospital stay in days. **Assumption**.
    pub hospital_stay_mean_days: f64,
    /// Short stays (短期入所) per home-care user-year. **Assumption**.
    pub short_stays_per_year: f64,
    /// Mean length of a short stay in days. **Assumption**.
    pub short_stay_mean_days: f64,
    /// Changes of a service office per home-care user-year (the old relationship ends, a new
    /// one starts). **Assumption**.
    pub service_changes_per_year: f64,
    /// Moves from home care into a facility per home-care user-year. **Assumption**.
    pub facility_admissions_per_year: f64,
    /// Starts of service use per certified non-user-year. **Assumption**.
    pub service_starts_per_year: f64,
    /// Share of offices that end their registration when their service ends (the rule is
    /// open, DOMAIN §4). **Assumption**.
    pub registration_end_on_service_end_share: f64,
    /// Whether the municipality ends every registration of a person who dies (資格喪失).
    /// **Assumption**.
    pub end_registrations_at_death: bool,
    /// Months left on the certification of persons certified at the period start: uniform
    /// over 1..=this. **Assumption**.
    pub initial_remaining_months_max: u16,
    /// Validity of a renewed certification in months and the share of each (domain-facts §4.4:
    /// 12 months in principle, 3–48 allowed). The shares are an **assumption**.
    pub renewal_months: Vec<(u16, f64)>,
    /// Validity of a new certification in months (domain-facts §4.4: 6 in principle).
    pub new_certification_months: u16,
    /// A renewal is filed this many days before expiry at the earliest (domain-facts §4.4:
    /// from 60 days before).
    pub renewal_window_days: u16,
    /// … and at the latest (the care manager files at least a month before; domain-facts §4.4).
    pub renewal_latest_days: u16,
    /// Mean days from application to decision with a paper physician opinion: 40.8 (DOMAIN §8,
    /// FY2023, per the seed's source; domain-facts §4.5 confirms 40.2 for 2022H2).
    pub lead_days_paper_mean: f64,
    /// Mean days spent obtaining the physician opinion: 17.8 (domain-facts §4.5, secondary).
    pub opinion_days_mean: f64,
    /// Days an electronic opinion saves over paper (posting, re-keying). **Assumption**.
    pub electronic_opinion_days_saved: f64,
    /// Share of opinions sent electronically once the insurer is live (medical institutions
    /// adopting the web service or EHR route, domain-facts §6). **Assumption**.
    pub electronic_opinion_share: f64,
}

impl Default for ModelParams {
    fn default() -> ModelParams {
        ModelParams {
            certified_ratio: 7_080_000.0 / 126_226_568.0,
            level_shares: [0.14, 0.14, 0.21, 0.17, 0.13, 0.12, 0.09],
            copay_shares: [0.91, 0.05, 0.04],
            service_use_share: 0.80,
            facility_share_care_1_2: 0.10,
            facility_share_care_3_5: 0.45,
            second_service_office_share: 0.40,
            cross_municipality_share: 0.15,
            persons_per_care_management_office: 7_080_000.0 / 38_000.0,
            persons_per_service_office: 7_080_000.0 / 118_000.0,
            persons_per_facility: 7_080_000.0 / 32_700.0,
            card_holding_rate: 0.70,
            no_card_registration: NoCardRegistration::None,
            municipality_verification_days: 30.0,
            office_readiness_mean_months: 6.0,
            contact_interval_days: 30,
            consent_at_application_share: 0.90,
            consent_by_offices: true,
            consent_by_office_share: 0.90,
            annual_death_rate: 0.14,
            annual_growth: 0.017,
            hospital_stays_per_year: 0.30,
            hospital_stay_mean_days: 25.0,
            short_stays_per_year: 0.50,
            short_stay_mean_days: 7.0,
            service_changes_per_year: 0.10,
            facility_admissions_per_year: 0.05,
            service_starts_per_year: 0.20,
            registration_end_on_service_end_share: 0.0,
            end_registrations_at_death: true,
            initial_remaining_months_max: 24,
            renewal_months: vec![(12, 0.40), (24, 0.25), (36, 0.25), (48, 0.10)],
            new_certification_months: 6,
            renewal_window_days: 60,
            renewal_latest_days: 30,
            lead_days_paper_mean: 40.8,
            opinion_days_mean: 17.8,
            electronic_opinion_days_saved: 7.0,
            electronic_opinion_share: 0.50,
        }
    }
}

impl ModelParams {
    /// Checks ranges; returns the offending parameter's name and why.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [
            ("certified-ratio", self.certified_ratio),
            ("service-use-share", self.service_use_share),
            ("facility-share-care-1-2", self.facility_share_care_1_2),
            ("facility-share-care-3-5", self.facility_share_care_3_5),
            (
                "second-service-office-share",
                self.second_service_office_share,
            ),
            ("cross-municipality-share", self.cross_municipality_share),
            ("card-holding-rate", self.card_holding_rate),
            (
                "consent-at-application-share",
                self.consent_at_application_share,
            ),
            ("consent-by-office-share", self.consent_by_office_share),
            (
                "registration-end-on-service-end-share",
                self.registration_end_on_service_end_share,
            ),
            ("electronic-opinion-share", self.electronic_opinion_share),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, found {v}"));
            }
        }
        let non_negative = [
            (
                "municipality-verification-days",
                self.municipality_verification_days,
            ),
            (
                "office-readiness-mean-months",
                self.office_readiness_mean_months,
            ),
            ("annual-death-rate", self.annual_death_rate),
            ("hospital-stays-per-year", self.hospital_stays_per_year),
            ("hospital-stay-mean-days", self.hospital_stay_mean_days),
            ("short-stays-per-year", self.short_stays_per_year),
            ("short-stay-mean-days", self.short_stay_mean_days),
            ("service-changes-per-year", self.service_changes_per_year),
            (
                "facility-admissions-per-year",
                self.facility_admissions_per_year,
            ),
            ("service-starts-per-year", self.service_starts_per_year),
            ("lead-days-paper-mean", self.lead_days_paper_mean),
            ("opinion-days-mean", self.opinion_days_mean),
            (
                "electronic-opinion-days-saved",
                self.electronic_opinion_days_saved,
            ),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && (0.0..=100_000.0).contains(&v)) {
                return Err(format!("{name} must be a non-negative number, found {v}"));
            }
        }
        if !(self.annual_death_rate <= 5.0 && self.annual_growth.abs() <= 5.0) {
            return Err("annual rates must be at most 5 per year".into());
        }
        let positive = [
            (
                "persons-per-care-management-office",
                self.persons_per_care_management_office,
            ),
            (
                "persons-per-service-office",
                self.persons_per_service_office,
            ),
            ("persons-per-facility", self.persons_per_facility),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v >= 1.0) {
                return Err(format!("{name} must be at least 1, found {v}"));
            }
        }
        for (name, list) in [
            ("level-shares", &self.level_shares[..]),
            ("copay-shares", &self.copay_shares[..]),
        ] {
            check_distribution(name, list.iter().copied())?;
        }
        check_distribution("renewal-months", self.renewal_months.iter().map(|p| p.1))?;
        if self
            .renewal_months
            .iter()
            .any(|&(m, _)| !(1..=48).contains(&m))
            || !(1..=48).contains(&self.new_certification_months)
        {
            return Err("certification validity must be 1–48 months".into());
        }
        if self.renewal_latest_days > self.renewal_window_days {
            return Err("renewal-latest-days must not exceed renewal-window-days".into());
        }
        if !(1..=365).contains(&self.contact_interval_days)
            || !(1..=120).contains(&self.initial_remaining_months_max)
        {
            return Err(
                "contact-interval-days must be 1–365 and initial-remaining-months-max 1–120".into(),
            );
        }
        if self.opinion_days_mean > self.lead_days_paper_mean {
            return Err("opinion-days-mean must not exceed lead-days-paper-mean".into());
        }
        Ok(())
    }
}

fn check_distribution(name: &str, shares: impl Iterator<Item = f64>) -> Result<(), String> {
    let mut sum = 0.0;
    let mut n = 0;
    for s in shares {
        if !(0.0..=1.0).contains(&s) {
            return Err(format!("{name}: every share must be between 0 and 1"));
        }
        sum += s;
        n += 1;
    }
    if n == 0 || (sum - 1.0).abs() > 1e-6 {
        return Err(format!("{name}: shares must add up to 1, found {sum}"));
    }
    Ok(())
}

/// The parameters whose default is an **assumption** (no source in the research notes);
/// the report marks them.
pub const ASSUMED: &[&str] = &[
    "level-shares",
    "copay-shares",
    "service-use-share",
    "facility-share-care-1-2",
    "facility-share-care-3-5",
    "second-service-office-share",
    "cross-municipality-share",
    "persons-per-service-office",
    "card-holding-rate",
    "municipality-verification-days",
    "office-readiness-mean-months",
    "contact-interval-days",
    "consent-at-application-share",
    "consent-by-office-share",
    "annual-death-rate",
    "hospital-stays-per-year",
    "hospital-stay-mean-days",
    "short-stays-per-year",
    "short-stay-mean-days",
    "service-changes-per-year",
    "facility-admissions-per-year",
    "service-starts-per-year",
    "registration-end-on-service-end-share",
    "end-registrations-at-death",
    "initial-remaining-months-max",
    "renewal-months",
    "electronic-opinion-days-saved",
    "electronic-opinion-share",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_cite_the_national_ratio() {
        let p = ModelParams::default();
        assert_eq!(p.validate(), Ok(()));
        assert!((p.certified_ratio - 0.0561).abs() < 0.0001);
    }

    #[test]
    fn overrides_by_name_and_unknown_names_fail() {
        let p: ModelParams = toml::from_str("card-holding-rate = 0.5").unwrap();
        assert_eq!(p.card_holding_rate, 0.5);
        assert!(toml::from_str::<ModelParams>("card-rate = 0.5").is_err());
        let bad = ModelParams {
            card_holding_rate: 1.5,
            ..ModelParams::default()
        };
        assert!(bad.validate().unwrap_err().contains("card-holding-rate"));
    }
}
