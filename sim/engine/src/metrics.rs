//! The monthly metrics: raw counters kept per municipality, and the metrics reported from
//! them, each with its definition (repeated in `scenarios/README.md`).
//!
//! Stocks are read at the end of each month (the state during its last day, after every
//! event of that day); flows count what happened during the month. Person- and
//! relationship-based counters are booked to the person's insurer, so a scope (the nation,
//! the large municipalities, a prefecture, one municipality) is a sum over municipalities.
//! Counts are of the simulated population: at a `scale` below 1 divide by the scale for a
//! national equivalent.

use crate::report::labels::Lang;

/// The raw counters, per municipality and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(usize)]
pub enum Counter {
    /// 1 for every municipality (the denominator of shares of municipalities).
    Municipalities,
    /// 1 if the municipality shares at the end of the month.
    Live,
    /// 1 for a municipality that answered the 2025 survey (survey-2025 rollout only).
    Respondents,
    /// 1 for a survey respondent that shares at the end of the month.
    RespondentsLive,
    /// Certified persons alive.
    Certified,
    /// Certified persons alive whose insurer shares.
    PersonsInsurerLive,
    /// Active care relationships.
    Relationships,
    /// Active relationships the office can read electronically.
    Electronic,
    /// Active relationships denied `insurer-not-live`.
    PaperInsurerNotLive,
    /// … denied `office-municipality-not-live`.
    PaperOfficeMunicipalityNotLive,
    /// … denied `not-registered` for a person holding a card.
    PaperNotRegistered,
    /// … denied `not-registered` for a person without a card.
    PaperNoCard,
    /// … denied `consent-missing` or `consent-withdrawn`.
    PaperNoConsent,
    /// … denied `registration-lapsed`.
    PaperRegistrationLapsed,
    /// … denied `consent-expired`.
    PaperConsentExpired,
    /// … denied for any other reason (`registration-ended` while service continues, …).
    PaperOther,
    /// Active relationships with an office in another municipality than the insurer.
    CrossRelationships,
    /// Of those, denied `office-municipality-not-live`.
    CrossOfficeNotLive,
    /// Relationships whose service has ended but whose office can still read.
    Exposure,
    /// Identity verifications with a My Number card (one per registration).
    CardReads,
    /// Card reads on the day a person's first services start (the first care conference).
    CardReadsFirstConference,
    /// First care conferences (a person's first services start, at least one office).
    FirstConferences,
    /// Registrations by an office that had been registered for the person before.
    ReRegistrations,
    /// Registrations made by the municipality for a person without a card.
    MunicipalityVerified,
    /// Transitions of an active relationship to `registration-lapsed`.
    LapsesWhileActive,
    /// Certification decisions.
    CertDecisions,
    /// … of which with an electronic physician opinion.
    CertDecisionsElectronic,
    /// Sum of lead days (application → decision) of paper decisions.
    LeadDaysPaper,
    /// Sum of lead days of electronic decisions.
    LeadDaysElectronic,
    /// Deaths.
    Deaths,
    /// New certification applications.
    NewApplications,
    /// Care relationships started.
    ServiceStarts,
    /// Care relationships ended (deaths included).
    ServiceEnds,
    /// Hospital admissions.
    HospitalStays,
    /// Short stays.
    ShortStays,
    /// Calls of `kiban_core::decide::decide`.
    Decisions,
}

/// Number of counters.
pub const N_COUNTERS: usize = Counter::Decisions as usize + 1;

/// One municipality's counters for one month.
pub type Counters = [i64; N_COUNTERS];

/// Whether a counter is a month-end stock (kept across months) or a flow (reset monthly).
pub const fn is_flow(c: Counter) -> bool {
    (c as usize) >= Counter::CardReads as usize
}

/// How a metric is computed from summed counters.
#[derive(Debug, Clone, Copy)]
enum Formula {
    Count(&'static [Counter]),
    Ratio(&'static [Counter], Counter),
}

macro_rules! metrics {
    ($($variant:ident = $id:literal, $formula:expr, $en:literal, $ja:literal, $def:literal;)+) => {
        /// A reported metric.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric { $(
            #[doc = $def]
            $variant,
        )+ }

        impl Metric {
            /// Every metric, in report order.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)+];

            /// The stable kebab-case id used in scenarios, CSV and JSON.
            pub const fn id(self) -> &'static str {
                match self { $(Metric::$variant => $id,)+ }
            }

            /// The definition.
            pub const fn definition(self) -> &'static str {
                match self { $(Metric::$variant => $def,)+ }
            }

            /// The label in a language.
            pub const fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Metric::$variant, Lang::En) => $en, (Metric::$variant, Lang::Ja) => $ja,)+
                }
            }

            fn formula(self) -> Formula {
                match self { $(Metric::$variant => $formula,)+ }
            }
        }
    };
}

use Counter as C;
use Formula::{Count, Ratio};

metrics! {
    MunicipalitiesLive = "municipalities-live", Count(&[C::Live]),
        "municipalities live", "稼働市町村数",
        "Municipalities whose go-live date is on or before the month's last day.";
    MunicipalitiesLiveShare = "municipalities-live-share", Ratio(&[C::Live], C::Municipalities),
        "share of municipalities live", "稼働市町村の割合",
        "municipalities-live over all municipalities in the scope.";
    RespondentsLiveShare = "survey-respondents-live-share", Ratio(&[C::RespondentsLive], C::Respondents),
        "survey respondents live (share)", "調査回答団体の稼働割合",
        "Among municipalities the survey-2025 generator drew as respondents with a planned year, the share live (the survey's denominator excludes undecided ones).";
    CertifiedPersons = "certified-persons", Count(&[C::Certified]),
        "certified persons", "認定者数",
        "Certified persons alive at the month's end (simulated population).";
    PersonsInsurerLive = "persons-insurer-live", Count(&[C::PersonsInsurerLive]),
        "persons whose insurer is live", "保険者が稼働済みの認定者数",
        "Certified persons whose insurer (municipality) is live.";
    PersonsInsurerLiveShare = "persons-insurer-live-share", Ratio(&[C::PersonsInsurerLive], C::Certified),
        "share of persons whose insurer is live", "保険者が稼働済みの認定者の割合",
        "persons-insurer-live over certified-persons.";
    Relationships = "relationships", Count(&[C::Relationships]),
        "care relationships", "ケア関係数",
        "Active care relationships (person × care-management office, service office or facility whose service continues, including during a stay).";
    Electronic = "relationships-electronic", Count(&[C::Electronic]),
        "relationships sharing electronically", "電子的に共有できる関係",
        "Active relationships for which decide(office reads the kind's class of the person) is permit.";
    ElectronicShare = "relationships-electronic-share", Ratio(&[C::Electronic], C::Relationships),
        "share sharing electronically", "電子共有の割合",
        "relationships-electronic over relationships.";
    Paper = "relationships-paper", Count(&[C::PaperInsurerNotLive, C::PaperOfficeMunicipalityNotLive, C::PaperNotRegistered, C::PaperNoCard, C::PaperNoConsent, C::PaperRegistrationLapsed, C::PaperConsentExpired, C::PaperOther]),
        "relationships on paper", "紙運用の関係",
        "Active relationships whose decision is a denial: they must stay on paper.";
    PaperInsurerNotLive = "paper-insurer-not-live", Count(&[C::PaperInsurerNotLive]),
        "paper: insurer not live", "紙: 保険者未稼働",
        "Active relationships denied insurer-not-live.";
    PaperOfficeMunicipalityNotLive = "paper-office-municipality-not-live", Count(&[C::PaperOfficeMunicipalityNotLive]),
        "paper: office's municipality not live", "紙: 事業所所在市町村未稼働",
        "Active relationships denied office-municipality-not-live (the cross-municipality gap).";
    PaperNotRegistered = "paper-not-registered", Count(&[C::PaperNotRegistered]),
        "paper: not registered yet", "紙: 未登録",
        "Active relationships denied not-registered for a person who holds a card (the office has not verified identity yet).";
    PaperNoCard = "paper-no-card", Count(&[C::PaperNoCard]),
        "paper: no card", "紙: カードなし",
        "Active relationships denied not-registered for a person without a My Number card.";
    PaperNoConsent = "paper-no-consent", Count(&[C::PaperNoConsent]),
        "paper: no consent", "紙: 同意なし",
        "Active relationships denied consent-missing or consent-withdrawn.";
    PaperRegistrationLapsed = "paper-registration-lapsed", Count(&[C::PaperRegistrationLapsed]),
        "paper: registration lapsed", "紙: 登録失効",
        "Active relationships denied registration-lapsed.";
    PaperConsentExpired = "paper-consent-expired", Count(&[C::PaperConsentExpired]),
        "paper: consent expired", "紙: 同意期限切れ",
        "Active relationships denied consent-expired.";
    PaperOther = "paper-other", Count(&[C::PaperOther]),
        "paper: other reason", "紙: その他",
        "Active relationships denied for any other reason (e.g. registration-ended while service continues).";
    CrossRelationships = "cross-municipality-relationships", Count(&[C::CrossRelationships]),
        "cross-municipality relationships", "市町村をまたぐ関係",
        "Active relationships with an office located outside the person's insurer.";
    CrossOfficeNotLive = "cross-municipality-office-not-live", Count(&[C::CrossOfficeNotLive]),
        "cross-municipality: office's municipality not live", "市町村またぎ: 事業所側未稼働",
        "Cross-municipality relationships denied office-municipality-not-live.";
    WrongfulDenials = "wrongful-denials", Count(&[C::PaperRegistrationLapsed, C::PaperConsentExpired]),
        "wrongful denials (service continues)", "不当な拒否(サービス継続中)",
        "Active relationships denied registration-lapsed or consent-expired: the service continues but the rule has cut access.";
    Exposure = "exposure", Count(&[C::Exposure]),
        "access retained after service ended", "サービス終了後も残るアクセス",
        "Relationships whose service has ended and whose office can still read (decision permit).";
    CardReads = "card-reads", Count(&[C::CardReads]),
        "card reads", "カード読取回数",
        "Identity verifications with a My Number card in the month (one per office registration).";
    CardReadsFirstConference = "card-reads-first-conference", Count(&[C::CardReadsFirstConference]),
        "card reads at first care conferences", "初回担当者会議でのカード読取",
        "Card reads on the day a person's first services start (every office reads the card itself).";
    FirstConferences = "first-conferences", Count(&[C::FirstConferences]),
        "first care conferences", "初回担当者会議数",
        "Persons whose first services started in the month.";
    CardReadsPerFirstConference = "card-reads-per-first-conference", Ratio(&[C::CardReadsFirstConference], C::FirstConferences),
        "card reads per first conference", "初回会議あたりのカード読取",
        "card-reads-first-conference over first-conferences.";
    ReRegistrations = "re-registrations", Count(&[C::ReRegistrations]),
        "re-registrations", "再登録",
        "Registrations by an office that had been registered for the person before (after a lapse).";
    MunicipalityVerified = "municipality-verified-registrations", Count(&[C::MunicipalityVerified]),
        "registrations verified by the municipality", "市町村による本人確認での登録",
        "Registrations the municipality made for a person without a card (the no-card fallback).";
    LapsesWhileActive = "lapses-while-active", Count(&[C::LapsesWhileActive]),
        "registrations lapsed while service continues", "サービス継続中の登録失効",
        "Active relationships whose decision became registration-lapsed in the month.";
    CertDecisions = "certification-decisions", Count(&[C::CertDecisions]),
        "certification decisions", "認定件数",
        "Certification decisions (new and renewal) in the month.";
    CertElectronicShare = "certification-electronic-share", Ratio(&[C::CertDecisionsElectronic], C::CertDecisions),
        "share with electronic opinion", "電子意見書の割合",
        "Decisions whose physician opinion was sent electronically, over all decisions.";
    LeadDaysMean = "lead-days-mean", Ratio(&[C::LeadDaysPaper, C::LeadDaysElectronic], C::CertDecisions),
        "mean lead time (days)", "平均処理日数",
        "Mean days from application to decision of the month's decisions.";
    LeadDaysPaperMean = "lead-days-paper-mean", Ratio(&[C::LeadDaysPaper], C::CertDecisions),
        "mean lead time, paper opinion (days)", "平均処理日数(紙の意見書)",
        "Mean days from application to decision with a paper opinion.";
    LeadDaysElectronicMean = "lead-days-electronic-mean", Ratio(&[C::LeadDaysElectronic], C::CertDecisionsElectronic),
        "mean lead time, electronic opinion (days)", "平均処理日数(電子の意見書)",
        "Mean days from application to decision with an electronic opinion.";
    Deaths = "deaths", Count(&[C::Deaths]),
        "deaths", "死亡",
        "Deaths of certified persons in the month.";
    NewApplications = "new-applications", Count(&[C::NewApplications]),
        "new applications", "新規申請",
        "New certification applications in the month.";
    ServiceStarts = "service-starts", Count(&[C::ServiceStarts]),
        "relationships started", "サービス開始",
        "Care relationships started in the month.";
    ServiceEnds = "service-ends", Count(&[C::ServiceEnds]),
        "relationships ended", "サービス終了",
        "Care relationships ended in the month (deaths included).";
    HospitalStays = "hospital-stays", Count(&[C::HospitalStays]),
        "hospital admissions", "入院",
        "Hospital admissions in the month.";
    ShortStays = "short-stays", Count(&[C::ShortStays]),
        "short stays", "短期入所",
        "Short stays begun in the month.";
    Decisions = "decisions", Count(&[C::Decisions]),
        "access decisions evaluated", "アクセス判定回数",
        "Calls of kiban_core::decide::decide the model made in the month.";
}

impl Metric {
    /// The metric with an id.
    pub fn from_id(id: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.id() == id)
    }

    /// Whether the value is a ratio (formatted with decimals) rather than a count.
    pub fn is_ratio(self) -> bool {
        matches!(self.formula(), Formula::Ratio(..))
    }

    /// The value from counters summed over a scope; `None` for a ratio with a zero
    /// denominator.
    pub fn value(self, c: &Counters) -> Option<f64> {
        let sum = |list: &[Counter]| list.iter().map(|&k| c[k as usize]).sum::<i64>();
        match self.formula() {
            Formula::Count(list) => Some(sum(list) as f64),
            Formula::Ratio(num, den) => {
                // Paper decisions are not stored: they are all decisions minus electronic ones.
                let den = if self == Metric::LeadDaysPaperMean {
                    c[Counter::CertDecisions as usize]
                        - c[Counter::CertDecisionsElectronic as usize]
                } else {
                    c[den as usize]
                };
                (den != 0).then(|| sum(num) as f64 / den as f64)
            }
        }
    }
}

/// A value formatted the same way everywhere (reports, CSV, verdicts): counts as integers,
/// ratios with 4 decimals; a missing ratio as `-`.
pub fn format_value(metric: Metric, value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if metric.is_ratio() => format!("{v:.4}"),
        Some(v) => format!("{v:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut ids: Vec<_> = Metric::ALL.iter().map(|m| m.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Metric::ALL.len());
        for m in Metric::ALL {
            assert_eq!(Metric::from_id(m.id()), Some(*m));
            assert!(!m.definition().is_empty());
        }
    }

    #[test]
    fn ratios_handle_empty_denominators_and_paper_lead_time() {
        let mut c: Counters = [0; N_COUNTERS];
        assert_eq!(Metric::MunicipalitiesLiveShare.value(&c), None);
        c[Counter::Municipalities as usize] = 4;
        c[Counter::Live as usize] = 1;
        assert_eq!(Metric::MunicipalitiesLiveShare.value(&c), Some(0.25));
        c[Counter::CertDecisions as usize] = 3;
        c[Counter::CertDecisionsElectronic as usize] = 1;
        c[Counter::LeadDaysPaper as usize] = 80;
        c[Counter::LeadDaysElectronic as usize] = 30;
        assert_eq!(Metric::LeadDaysPaperMean.value(&c), Some(40.0));
        assert_eq!(Metric::LeadDaysElectronicMean.value(&c), Some(30.0));
        assert_eq!(
            format_value(Metric::LeadDaysMean, Metric::LeadDaysMean.value(&c)),
            "36.6667"
        );
        assert!(is_flow(Counter::Decisions) && !is_flow(Counter::Exposure));
    }
}
