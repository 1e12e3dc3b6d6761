//! The scenario format: one TOML file per scenario (documented in `scenarios/README.md`),
//! loaded with [`Scenario::from_toml`]. Unknown keys, bad values and references to things
//! that do not exist are [`ScenarioError`]s naming the line.
//!
//! The file has these tables: `[scenario]` (name, description, mode, seed, period),
//! `[world]` (municipalities, scale, named offices and people), `[rollout]` (generator,
//! explicit dates, what-if delays), `[policy]` (kiban-core's `Policy` in its TOML form),
//! `[model]` (overrides of [`ModelParams`]), `[[variant]]` (alternative policies or
//! parameters run on the same world), `[[step]]` (actions and expected outcomes) and
//! `[report]` (metrics, charts, scopes, the class each office kind reads).
//!
//! The mode decides what a file may hold, and the loader enforces it with the line: model
//! mode rejects the wire-only keys and actions (terminals, staff, cards, representatives,
//! portal reads, platform refusal codes), wire mode rejects what a real platform run cannot
//! do (metric steps, a generated population, variants, `[model]`, stays, report tables).

use std::collections::BTreeMap;
use std::ops::Range;

use kiban_core::decide::DenyReason;
use kiban_core::geo::{Municipalities, MunicipalityKind};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::Policy;
use kiban_core::time::Date;
use kiban_core::view::StayKind;
use kiban_core::vocab::{InfoClass, Role};
use serde::Deserialize;
use toml::Spanned;

use crate::calendar::{Calendar, Month};
use crate::error::ScenarioError;
use crate::metrics::Metric;
use crate::params::ModelParams;
use crate::report::labels::Lang;

/// How a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The national model in-process over the core's view.
    Model,
    /// The real platform and actors over loopback mTLS (`kiban_actors`).
    Wire,
}

/// The kind of office a relationship is with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OfficeKind {
    /// 居宅介護支援事業所.
    CareManagement = 0,
    /// 介護サービス事業所.
    Service = 1,
    /// 施設・居住系.
    Facility = 2,
}

impl OfficeKind {
    /// The three kinds.
    pub const ALL: [OfficeKind; 3] = [
        OfficeKind::CareManagement,
        OfficeKind::Service,
        OfficeKind::Facility,
    ];

    /// The core role of the office.
    pub const fn role(self) -> Role {
        match self {
            OfficeKind::CareManagement => Role::CareManagement,
            OfficeKind::Service => Role::CareService,
            OfficeKind::Facility => Role::Facility,
        }
    }
}

/// Which municipalities make up the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// All 1,741.
    All,
    /// These, sorted by code.
    Codes(Vec<MunicipalityCode>),
}

/// A terminal of a named office (wire mode): its certificate and who works on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTerminal {
    /// The terminal's name (a certificate terminal id: `pc-1`, `byod-1`, …).
    pub name: String,
    /// Validity of its client certificate from the scenario's first day, in days.
    pub days: u32,
    /// The staff member signed in on it at the start (`admin`, or a member the
    /// administrator adds).
    pub staff: String,
}

/// A named office (small scenarios).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedOffice {
    /// Its name in the scenario.
    pub name: String,
    /// Its role (an office role).
    pub role: Role,
    /// Where it is located.
    pub municipality: MunicipalityCode,
    /// Its terminals (wire mode; at least one: by default `pc-1` with `admin` signed in
    /// and a certificate valid through the scenario's end). Empty in model mode.
    pub terminals: Vec<NamedTerminal>,
}

/// Who may act for a named person (wire mode), registered by the insurer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepresentativeKind {
    /// A family member (spouse or child).
    Family,
    /// A court-appointed guardian (成年後見人).
    Guardian,
}

/// A named person (small scenarios).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPerson {
    /// Their name in the scenario.
    pub name: String,
    /// The insurer.
    pub insurer: MunicipalityCode,
    /// Whether they hold a My Number card (wire mode; always true in model mode, where
    /// cards are not modelled for named people).
    pub card: bool,
    /// A representative with their own card (wire mode).
    pub representative: Option<RepresentativeKind>,
}

/// The world of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// The municipalities.
    pub municipalities: Selection,
    /// Fraction of the certified population generated (0: none).
    pub scale: f64,
    /// Named offices.
    pub offices: Vec<NamedOffice>,
    /// Named people.
    pub people: Vec<NamedPerson>,
}

/// A rollout generator.
#[derive(Debug, Clone, PartialEq)]
pub enum Generator {
    /// Calibrated to the February 2025 survey (DOMAIN §5).
    Survey2025(SurveyParams),
    /// The portal's published schedule of early 2026 (domain-facts §6).
    Portal2026(PortalParams),
    /// Only the explicit dates (and `default` for the rest).
    Explicit,
}

/// Parameters of the survey-2025 generator; defaults are the survey's figures (seed 003,
/// DOMAIN §5).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SurveyParams {
    /// Share of all valid answers ready by the end of FY2026 (≈ 66%).
    pub all_by_fy2026: f64,
    /// … by the end of FY2027 (≈ 97%).
    pub all_by_fy2027: f64,
    /// Share of large municipalities' valid answers ready by the end of FY2026 (≈ 52%).
    pub large_by_fy2026: f64,
    /// … by the end of FY2027 (≈ 84%).
    pub large_by_fy2027: f64,
    /// Valid answers: 1,599 of 1,741 municipalities (134 undecided, 8 did not answer).
    pub all_respondents: u32,
    /// Valid answers among the 105 large municipalities: 91.
    pub large_respondents: u32,
    /// What undecided municipalities do: `like-respondents` (draw from their group's
    /// answers) or `late` (FY2028 or later). **Assumption**.
    pub undecided: Undecided,
    /// Months over which "FY2028 or later" go-lives spread from 2028-04. **Assumption**.
    pub late_spread_months: u16,
}

impl Default for SurveyParams {
    fn default() -> SurveyParams {
        SurveyParams {
            all_by_fy2026: 0.66,
            all_by_fy2027: 0.97,
            large_by_fy2026: 0.52,
            large_by_fy2027: 0.84,
            all_respondents: 1_599,
            large_respondents: 91,
            undecided: Undecided::LikeRespondents,
            late_spread_months: 24,
        }
    }
}

/// What the survey's undecided municipalities do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Undecided {
    /// Draw a year from their group's answers.
    LikeRespondents,
    /// Go live in FY2028 or later.
    Late,
}

/// Parameters of the portal-2026 generator (domain-facts §6: on 2026-02-04 the portal listed
/// start dates for 1,294 municipalities; about 10% start within FY2026, the first in 2026-11).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PortalParams {
    /// Share of all municipalities that start within FY2026.
    pub fy2026_share: f64,
    /// The first go-live month.
    pub first_month: String,
    /// Municipalities with a published schedule (of 1,741).
    pub scheduled: u32,
    /// Scheduled municipalities not starting in FY2026 spread over this many months from
    /// 2027-04. **Assumption**.
    pub later_spread_months: u16,
    /// Go-live of municipalities without a published schedule: the national target
    /// 2028-04-01 (domain-facts §6). **Assumption**.
    pub unscheduled_date: Date,
}

impl Default for PortalParams {
    fn default() -> PortalParams {
        PortalParams {
            fy2026_share: 0.10,
            first_month: "2026-11".to_owned(),
            scheduled: 1_294,
            later_spread_months: 12,
            unscheduled_date: Date::new(2028, 4, 1).unwrap_or_else(|| unreachable!()),
        }
    }
}

/// Which municipalities a what-if delay applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Named municipalities.
    Cities(Vec<MunicipalityCode>),
    /// Every municipality of a prefecture.
    Prefecture(String),
    /// Every municipality of a kind.
    Kind(MunicipalityKind),
    /// Designated cities, special wards and core cities.
    Large,
}

/// A what-if: delay the go-live of some municipalities by some months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delay {
    /// Which.
    pub target: Target,
    /// By how many months (negative: earlier).
    pub months: i32,
}

/// The rollout of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// How go-live dates are generated.
    pub generator: Generator,
    /// Fixed dates that override the generator.
    pub dates: BTreeMap<MunicipalityCode, Date>,
    /// For the explicit generator: the date of municipalities not listed (`None`: never).
    pub default: Option<Date>,
    /// What-if delays, applied last, in order.
    pub delays: Vec<Delay>,
}

/// An alternative run on the same world.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name (`baseline` is the scenario itself).
    pub name: String,
    /// What it changes, in words.
    pub description: String,
    /// The policy it runs under.
    pub policy: Policy,
    /// Its model parameters.
    pub params: ModelParams,
    /// Extra delays on top of the scenario's.
    pub delays: Vec<Delay>,
}

/// Where a metric is summed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Every municipality.
    Nation,
    /// Designated cities, special wards and core cities.
    Large,
    /// The others.
    Other,
    /// A kind.
    Kind(MunicipalityKind),
    /// A prefecture.
    Prefecture(String),
    /// One municipality.
    Municipality(MunicipalityCode),
}

impl Scope {
    /// Parses `nation`, `large`, `other`, `kind:<kind>`, `prefecture:<name>`,
    /// `municipality:<code>` or a bare code.
    pub fn parse(s: &str) -> Result<Scope, String> {
        let bad_code = |e| format!("scope {s:?}: {e}");
        match s {
            "nation" => return Ok(Scope::Nation),
            "large" => return Ok(Scope::Large),
            "other" => return Ok(Scope::Other),
            _ => {}
        }
        if let Some(k) = s.strip_prefix("kind:") {
            return k
                .parse()
                .map(Scope::Kind)
                .map_err(|e: kiban_core::geo::GeoErrorKind| e.to_string());
        }
        if let Some(p) = s.strip_prefix("prefecture:") {
            return Ok(Scope::Prefecture(p.to_owned()));
        }
        let code = s.strip_prefix("municipality:").unwrap_or(s);
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            return MunicipalityCode::parse(code)
                .map(Scope::Municipality)
                .map_err(|e| bad_code(e.to_string()));
        }
        Err(format!(
            "unknown scope {s:?}; expected nation, large, other, kind:<kind>, prefecture:<name> or municipality:<code>"
        ))
    }

    /// Whether a municipality belongs to the scope.
    pub fn contains(&self, m: &kiban_core::geo::Municipality) -> bool {
        match self {
            Scope::Nation => true,
            Scope::Large => m.kind.is_large(),
            Scope::Other => !m.kind.is_large(),
            Scope::Kind(k) => m.kind == *k,
            Scope::Prefecture(p) => &m.prefecture == p,
            Scope::Municipality(c) => m.code == *c,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Nation => f.write_str("nation"),
            Scope::Large => f.write_str("large"),
            Scope::Other => f.write_str("other"),
            Scope::Kind(k) => write!(f, "kind:{k}"),
            Scope::Prefecture(p) => write!(f, "prefecture:{p}"),
            Scope::Municipality(c) => write!(f, "municipality:{c}"),
        }
    }
}

/// What a metric expectation requires.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Equal within a tolerance.
    Equals(f64, f64),
    /// Inside a closed range.
    Within(f64, f64),
    /// At least.
    AtLeast(f64),
    /// At most.
    AtMost(f64),
    /// Strictly greater than the same metric in another variant.
    GreaterThanVariant(String),
    /// Strictly less than the same metric in another variant.
    LessThanVariant(String),
}

/// An expected decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Permit.
    Permit,
    /// Deny with this reason of kiban-core.
    Deny(DenyReason),
    /// Refused by the platform with one of its own problem codes before any decision
    /// (`staff-disabled`, `invalid-session`, …; wire mode only).
    Refusal(String),
}

impl Expected {
    /// `permit`, the reason code or the platform's code.
    pub fn code(&self) -> &str {
        match self {
            Expected::Permit => "permit",
            Expected::Deny(r) => r.code(),
            Expected::Refusal(code) => code,
        }
    }
}

/// Who reads in a decide step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A named office (in wire mode from the step's terminal, by default its first).
    Office {
        /// Office index in `world.offices`.
        office: usize,
    },
    /// A card holder through the マイナポータル relay (wire mode): the person `holder`
    /// themselves, or (`agent`) their representative with the representative's own card.
    Portal {
        /// Person index of the card holder (or of the person they represent).
        holder: usize,
        /// Whether the representative of `holder` signs in.
        agent: bool,
    },
}

/// Something a step does to the named world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The office verifies the person's identity with the card and registers.
    Register {
        /// Office index in `world.offices`.
        office: usize,
        /// Person index in `world.people`.
        person: usize,
    },
    /// The municipality registers the office for a person without a card.
    RegisterWithoutCard {
        /// Office index.
        office: usize,
        /// Person index.
        person: usize,
    },
    /// The office's registration ends.
    EndRegistration {
        /// Office index.
        office: usize,
        /// Person index.
        person: usize,
    },
    /// The office reports a service record (実績) and a claim for the person.
    ServiceRecord {
        /// Office index.
        office: usize,
        /// Person index.
        person: usize,
    },
    /// The person gives comprehensive consent.
    Consent {
        /// Person index.
        person: usize,
    },
    /// The person gives consent to one office (per-office model).
    OfficeConsent {
        /// Office index.
        office: usize,
        /// Person index.
        person: usize,
    },
    /// The person withdraws consent.
    WithdrawConsent {
        /// Person index.
        person: usize,
    },
    /// A stay begins.
    StayStart {
        /// Person index.
        person: usize,
        /// Hospital or short stay.
        kind: StayKind,
    },
    /// The current stay ends.
    StayEnd {
        /// Person index.
        person: usize,
    },
    /// A staff member leaves: the administrator disables the account (wire mode).
    StaffLeaves {
        /// Office index.
        office: usize,
        /// The staff id.
        staff: String,
    },
    /// The office retires a terminal: its certificate is revoked; the device keeps it and
    /// the session left on it (wire mode).
    RetireTerminal {
        /// Office index.
        office: usize,
        /// Terminal index in the office's terminals.
        terminal: usize,
    },
    /// The office renews a terminal's certificate for its configured days (wire mode).
    RenewTerminal {
        /// Office index.
        office: usize,
        /// Terminal index.
        terminal: usize,
    },
    /// The insurer registers the person's representative, presented at the counter with
    /// their own card (wire mode).
    RegisterRepresentative {
        /// Person index.
        person: usize,
    },
    /// The insurer ends the person's representation (wire mode).
    EndRepresentative {
        /// Person index.
        person: usize,
    },
}

impl Action {
    /// Whether only wire mode can do it.
    pub fn is_wire_only(&self) -> bool {
        matches!(
            self,
            Action::StaffLeaves { .. }
                | Action::RetireTerminal { .. }
                | Action::RenewTerminal { .. }
                | Action::RegisterRepresentative { .. }
                | Action::EndRepresentative { .. }
        )
    }
}

/// What a step is.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Expect a metric at a month's end.
    Metric {
        /// The month.
        month: Month,
        /// The metric.
        metric: Metric,
        /// Where.
        scope: Scope,
        /// What is required.
        check: Check,
    },
    /// Expect a decision at a date (named world).
    Decide {
        /// The date (decided at its JST midnight, after the date's earlier steps).
        date: Date,
        /// Who reads.
        reader: Reader,
        /// Person index (the subject).
        person: usize,
        /// The class read.
        class: InfoClass,
        /// The expected answer.
        expect: Expected,
    },
    /// Change the named world at a date.
    Action {
        /// The date.
        date: Date,
        /// What happens.
        action: Action,
    },
}

/// One timeline step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based position in the file.
    pub number: usize,
    /// The line of its `[[step]]` table.
    pub line: usize,
    /// The variant it is checked in.
    pub variant: String,
    /// A note shown in the report.
    pub note: String,
    /// The office terminal the step acts or reads from (wire mode; `None`: the office's
    /// first terminal).
    pub terminal: Option<usize>,
    /// What it is.
    pub kind: StepKind,
}

/// A chart of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Chart {
    /// Share of municipalities live (nation, large, other).
    Rollout,
    /// Relationships sharing electronically and on paper by reason.
    Sharing,
    /// Card reads per month.
    CardReads,
    /// Wrongful denials and exposure per variant.
    Policies,
    /// Certification lead time, paper vs electronic.
    LeadTime,
}

impl Chart {
    /// Every chart.
    pub const ALL: [Chart; 5] = [
        Chart::Rollout,
        Chart::Sharing,
        Chart::CardReads,
        Chart::Policies,
        Chart::LeadTime,
    ];

    /// Its id (and file stem).
    pub const fn id(self) -> &'static str {
        match self {
            Chart::Rollout => "rollout",
            Chart::Sharing => "sharing",
            Chart::CardReads => "card-reads",
            Chart::Policies => "policies",
            Chart::LeadTime => "lead-time",
        }
    }
}

/// What the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Metrics in the monthly tables, CSV and JSON.
    pub metrics: Vec<Metric>,
    /// Charts drawn.
    pub charts: Vec<Chart>,
    /// Scopes reported (expectation scopes are added).
    pub scopes: Vec<Scope>,
    /// The class each office kind reads when the model asks whether a relationship can share.
    pub classes: [InfoClass; 3],
    /// Default report language.
    pub lang: Lang,
}

/// A loaded, validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The name the text was loaded under.
    pub source_name: String,
    /// The text, verbatim (copied into the report folder).
    pub text: String,
    /// SHA-256 of the text, hex.
    pub hash: String,
    /// Mode.
    pub mode: Mode,
    /// Seed.
    pub seed: u64,
    /// First day.
    pub start: Date,
    /// Last day (included).
    pub end: Date,
    /// The world.
    pub world: World,
    /// The rollout.
    pub rollout: Rollout,
    /// The variants; the first is `baseline` (the scenario's own policy and parameters).
    pub variants: Vec<Variant>,
    /// The timeline.
    pub steps: Vec<Step>,
    /// The report.
    pub report: ReportSpec,
}

// ---------------------------------------------------------------------------------------
// The TOML shape.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    scenario: Spanned<RawMeta>,
    #[serde(default)]
    world: Option<Spanned<RawWorld>>,
    #[serde(default)]
    rollout: Option<Spanned<RawRollout>>,
    #[serde(default)]
    policy: Option<Policy>,
    #[serde(default)]
    model: Option<ModelParams>,
    #[serde(default, rename = "variant")]
    variants: Vec<Spanned<RawVariant>>,
    #[serde(default, rename = "step")]
    steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    report: Option<Spanned<RawReport>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMeta {
    name: String,
    #[serde(default)]
    description: String,
    mode: Mode,
    seed: u64,
    start: Date,
    end: Date,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWorld {
    municipalities: Spanned<toml::Value>,
    #[serde(default)]
    scale: f64,
    #[serde(default, rename = "office")]
    offices: Vec<Spanned<RawOffice>>,
    #[serde(default, rename = "person")]
    people: Vec<Spanned<RawPerson>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOffice {
    name: String,
    role: Role,
    municipality: String,
    #[serde(default)]
    terminals: Option<Vec<RawTerminal>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTerminal {
    name: String,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    staff: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPerson {
    name: String,
    insurer: String,
    #[serde(default)]
    card: Option<bool>,
    #[serde(default)]
    representative: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRollout {
    generator: String,
    #[serde(default)]
    survey: Option<SurveyParams>,
    #[serde(default)]
    portal: Option<PortalParams>,
    #[serde(default)]
    dates: BTreeMap<String, Date>,
    #[serde(default)]
    default: Option<Date>,
    #[serde(default, rename = "delay")]
    delays: Vec<Spanned<RawDelay>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDelay {
    #[serde(default)]
    cities: Vec<String>,
    #[serde(default)]
    prefecture: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    months: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawVariant {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    policy: Option<Policy>,
    #[serde(default)]
    model: Option<toml::Table>,
    #[serde(default, rename = "delay")]
    delays: Vec<Spanned<RawDelay>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    at: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    metric: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    equals: Option<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    within: Option<[f64; 2]>,
    #[serde(default)]
    at_least: Option<f64>,
    #[serde(default)]
    at_most: Option<f64>,
    #[serde(default)]
    greater_than_variant: Option<String>,
    #[serde(default)]
    less_than_variant: Option<String>,
    #[serde(default)]
    decide: Option<RawDecide>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    office: Option<String>,
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    stay: Option<String>,
    #[serde(default)]
    terminal: Option<String>,
    #[serde(default)]
    staff: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDecide {
    #[serde(default)]
    office: Option<String>,
    #[serde(default)]
    portal: Option<String>,
    #[serde(default)]
    holder: Option<String>,
    person: String,
    class: InfoClass,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReport {
    #[serde(default)]
    metrics: Option<Vec<String>>,
    #[serde(default)]
    charts: Option<Vec<String>>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    classes: Option<RawClasses>,
    #[serde(default)]
    lang: Option<Lang>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClasses {
    care_management: InfoClass,
    care_service: InfoClass,
    facility: InfoClass,
}

/// The metrics reported when `[report] metrics` is absent.
pub const DEFAULT_METRICS: &[Metric] = &[
    Metric::MunicipalitiesLive,
    Metric::MunicipalitiesLiveShare,
    Metric::CertifiedPersons,
    Metric::PersonsInsurerLiveShare,
    Metric::Relationships,
    Metric::ElectronicShare,
    Metric::PaperInsurerNotLive,
    Metric::PaperOfficeMunicipalityNotLive,
    Metric::PaperNotRegistered,
    Metric::PaperNoCard,
    Metric::PaperNoConsent,
    Metric::WrongfulDenials,
    Metric::Exposure,
    Metric::CardReads,
    Metric::LeadDaysPaperMean,
    Metric::LeadDaysElectronicMean,
];

// ---------------------------------------------------------------------------------------
// Loading.

struct Ctx<'a> {
    text: &'a str,
    source: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            source_name: self.source.to_owned(),
            line: span.map_or(0, |s| self.line_of(s)),
            message: message.into(),
        }
    }
}

impl Scenario {
    /// Loads a scenario from its text. `source_name` (usually the path) appears in errors and
    /// in the report's inputs.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Scenario, ScenarioError> {
        let ctx = Ctx {
            text,
            source: source_name,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| ctx.err(e.span(), e.message()))?;
        let geo = Municipalities::embedded();
        let meta_span = raw.scenario.span();
        let meta = raw.scenario.into_inner();
        if meta.name.trim().is_empty() {
            return Err(ctx.err(Some(meta_span), "scenario.name must not be empty"));
        }
        let Some(calendar) = Calendar::new(meta.start, meta.end) else {
            return Err(ctx.err(
                Some(meta_span),
                "scenario.end must be on or after scenario.start, and the period at most 60,000 days",
            ));
        };
        if meta.start.day() != 1 || meta.end.plus_days(1).day() != 1 {
            return Err(ctx.err(
                Some(meta_span),
                "the period must start on the first day of a month and end on the last day of a month",
            ));
        }
        let mode = meta.mode;
        let world = match raw.world {
            Some(w) => load_world(&ctx, &geo, w, mode, &calendar)?,
            None => return Err(ctx.err(None, "missing table [world]")),
        };
        let rollout = match raw.rollout {
            Some(r) => load_rollout(&ctx, &geo, r)?,
            None => return Err(ctx.err(None, "missing table [rollout]")),
        };
        if mode == Mode::Wire {
            if raw.model.is_some() {
                return Err(ctx.err(
                    find_line(text, "[model]"),
                    "[model] sets the national model's parameters; a wire scenario has no model (use mode = \"model\")",
                ));
            }
            if let Some(v) = raw.variants.first() {
                return Err(ctx.err(
                    Some(v.span()),
                    "variants are model-only: a wire run is one platform under the scenario's [policy]",
                ));
            }
            if let Some(r) = &raw.report {
                let inner = r.get_ref();
                if inner.metrics.is_some()
                    || inner.charts.is_some()
                    || inner.scopes.is_some()
                    || inner.classes.is_some()
                {
                    return Err(ctx.err(
                        Some(r.span()),
                        "a wire report has no metrics, charts, scopes or classes; only [report] lang applies",
                    ));
                }
            }
        }
        let policy = raw.policy.unwrap_or(Policy::proposal_2025());
        let params = raw.model.unwrap_or_default();
        params
            .validate()
            .map_err(|m| ctx.err(find_line(text, "[model]"), format!("model: {m}")))?;
        let mut variants = vec![Variant {
            name: "baseline".to_owned(),
            description: String::new(),
            policy,
            params: params.clone(),
            delays: Vec::new(),
        }];
        for v in raw.variants {
            let span = v.span();
            let v = v.into_inner();
            if variants.iter().any(|x| x.name == v.name) || v.name.trim().is_empty() {
                return Err(ctx.err(
                    Some(span),
                    format!("variant name {:?} is empty or used twice (baseline is the scenario itself)", v.name),
                ));
            }
            let params = match v.model {
                None => params.clone(),
                Some(overrides) => {
                    let mut table = toml::Table::try_from(&params)
                        .map_err(|e| ctx.err(Some(span.clone()), e.to_string()))?;
                    for (k, val) in overrides {
                        table.insert(k, val);
                    }
                    let merged: ModelParams = table.try_into().map_err(|e: toml::de::Error| {
                        ctx.err(
                            Some(span.clone()),
                            format!("variant {:?} model: {}", v.name, e.message()),
                        )
                    })?;
                    merged.validate().map_err(|m| {
                        ctx.err(
                            Some(span.clone()),
                            format!("variant {:?} model: {m}", v.name),
                        )
                    })?;
                    merged
                }
            };
            let delays = v
                .delays
                .into_iter()
                .map(|d| load_delay(&ctx, &geo, d))
                .collect::<Result<_, _>>()?;
            variants.push(Variant {
                name: v.name,
                description: v.description,
                policy: v.policy.unwrap_or(policy),
                params,
                delays,
            });
        }
        let report = load_report(&ctx, raw.report)?;
        let mut steps = Vec::new();
        for (i, s) in raw.steps.into_iter().enumerate() {
            steps.push(load_step(
                &ctx,
                &calendar,
                &world,
                &variants,
                mode,
                i + 1,
                s,
            )?);
        }
        if meta.mode == Mode::Model && world.scale == 0.0 && world.people.is_empty() {
            return Err(ctx.err(
                None,
                "the world is empty: set world.scale above 0 or name people in [[world.person]]",
            ));
        }
        if meta.mode == Mode::Wire && world.offices.is_empty() && world.people.is_empty() {
            return Err(ctx.err(
                None,
                "the wire world is empty: name offices in [[world.office]] and people in [[world.person]]",
            ));
        }
        Ok(Scenario {
            name: meta.name,
            description: meta.description,
            source_name: source_name.to_owned(),
            text: text.to_owned(),
            hash: sha256_hex(text.as_bytes()),
            mode: meta.mode,
            seed: meta.seed,
            start: meta.start,
            end: meta.end,
            world,
            rollout,
            variants,
            steps,
            report,
        })
    }

    /// The scenario's calendar.
    pub fn calendar(&self) -> Calendar {
        // Validated in `from_toml`.
        Calendar::new(self.start, self.end).unwrap_or_else(|| unreachable!("validated period"))
    }
}

/// Whether `id` is a staff id the platform accepts (1-32 of A-Z a-z 0-9 - _ ., not 12
/// digits).
fn is_staff_id(id: &str) -> bool {
    let twelve_digits = id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
    !twelve_digits
        && (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// SHA-256 of some bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn find_line(text: &str, needle: &str) -> Option<Range<usize>> {
    text.find(needle).map(|i| i..i + needle.len())
}

fn code_in_table(
    ctx: &Ctx<'_>,
    geo: &Municipalities,
    span: Range<usize>,
    s: &str,
) -> Result<MunicipalityCode, ScenarioError> {
    let code = MunicipalityCode::parse(s)
        .map_err(|e| ctx.err(Some(span.clone()), format!("municipality code {s:?}: {e}")))?;
    if geo.get(code).is_none() {
        return Err(ctx.err(
            Some(span),
            format!("municipality code {s} is valid but not in the municipality table"),
        ));
    }
    Ok(code)
}

fn load_world(
    ctx: &Ctx<'_>,
    geo: &Municipalities,
    raw: Spanned<RawWorld>,
    mode: Mode,
    calendar: &Calendar,
) -> Result<World, ScenarioError> {
    let span = raw.span();
    let raw = raw.into_inner();
    // A default terminal's certificate is valid through the scenario's last day.
    let period_days = calendar.days();
    let mspan = raw.municipalities.span();
    let municipalities = match raw.municipalities.into_inner() {
        toml::Value::String(s) if s == "all" => Selection::All,
        toml::Value::Array(items) => {
            let mut codes = Vec::new();
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(ctx.err(Some(mspan), "world.municipalities lists codes as strings"));
                };
                codes.push(code_in_table(ctx, geo, mspan.clone(), s)?);
            }
            codes.sort();
            codes.dedup();
            if codes.is_empty() {
                return Err(ctx.err(Some(mspan), "world.municipalities is empty"));
            }
            Selection::Codes(codes)
        }
        _ => {
            return Err(ctx.err(
                Some(mspan),
                "world.municipalities must be \"all\" or a list of municipality codes",
            ));
        }
    };
    if !(raw.scale.is_finite() && (0.0..=1.0).contains(&raw.scale)) {
        return Err(ctx.err(Some(span), "world.scale must be between 0 and 1"));
    }
    if mode == Mode::Wire {
        if raw.scale != 0.0 {
            return Err(ctx.err(
                Some(span),
                "a wire world has no generated population: world.scale must be 0 (the national model is mode = \"model\")",
            ));
        }
        if municipalities == Selection::All {
            return Err(ctx.err(
                Some(mspan.clone()),
                "a wire world lists its municipalities: world.municipalities = [\"<code>\", …]",
            ));
        }
    }
    let in_world = |c: MunicipalityCode| match &municipalities {
        Selection::All => true,
        Selection::Codes(list) => list.binary_search(&c).is_ok(),
    };
    let mut names = std::collections::BTreeSet::new();
    let mut offices = Vec::new();
    for o in raw.offices {
        let ospan = o.span();
        let o = o.into_inner();
        if !o.role.is_office() {
            return Err(ctx.err(
                Some(ospan),
                format!("office {:?}: {} is not an office role", o.name, o.role),
            ));
        }
        let municipality = code_in_table(ctx, geo, ospan.clone(), &o.municipality)?;
        if !in_world(municipality) {
            return Err(ctx.err(
                Some(ospan),
                format!(
                    "office {:?}: municipality {municipality} is not in world.municipalities",
                    o.name
                ),
            ));
        }
        if !names.insert(o.name.clone()) {
            return Err(ctx.err(Some(ospan), format!("the name {:?} is used twice", o.name)));
        }
        let terminals = match (mode, o.terminals) {
            (Mode::Model, Some(_)) => {
                return Err(ctx.err(
                    Some(ospan),
                    format!(
                        "office {:?}: terminals are wire-only (mode = \"wire\")",
                        o.name
                    ),
                ));
            }
            (Mode::Model, None) => Vec::new(),
            (Mode::Wire, None) => vec![NamedTerminal {
                name: "pc-1".to_owned(),
                days: period_days,
                staff: "admin".to_owned(),
            }],
            (Mode::Wire, Some(list)) => {
                let mut out: Vec<NamedTerminal> = Vec::new();
                for t in list {
                    let bad = |m: String| {
                        ctx.err(Some(ospan.clone()), format!("office {:?}: {m}", o.name))
                    };
                    kiban_certs::TerminalId::parse(&t.name)
                        .map_err(|e| bad(format!("terminal {:?}: {e}", t.name)))?;
                    if out.iter().any(|x| x.name == t.name) {
                        return Err(bad(format!("terminal {:?} is named twice", t.name)));
                    }
                    let staff = t.staff.unwrap_or_else(|| "admin".to_owned());
                    if !is_staff_id(&staff) {
                        return Err(bad(format!(
                            "staff {staff:?} is not a staff id (1-32 of A-Z a-z 0-9 - _ .)"
                        )));
                    }
                    let days = t.days.unwrap_or(period_days);
                    if days == 0 || days > 3_650 {
                        return Err(bad(format!("terminal {:?}: days must be 1-3650", t.name)));
                    }
                    out.push(NamedTerminal {
                        name: t.name,
                        days,
                        staff,
                    });
                }
                if out.is_empty() {
                    return Err(ctx.err(
                        Some(ospan),
                        format!(
                            "office {:?}: terminals = [] leaves it without a terminal",
                            o.name
                        ),
                    ));
                }
                out
            }
        };
        offices.push(NamedOffice {
            name: o.name,
            role: o.role,
            municipality,
            terminals,
        });
    }
    let mut people = Vec::new();
    for p in raw.people {
        let pspan = p.span();
        let p = p.into_inner();
        let insurer = code_in_table(ctx, geo, pspan.clone(), &p.insurer)?;
        if !in_world(insurer) {
            return Err(ctx.err(
                Some(pspan),
                format!(
                    "person {:?}: insurer {insurer} is not in world.municipalities",
                    p.name
                ),
            ));
        }
        if !names.insert(p.name.clone()) {
            return Err(ctx.err(Some(pspan), format!("the name {:?} is used twice", p.name)));
        }
        if mode == Mode::Model && (p.card.is_some() || p.representative.is_some()) {
            return Err(ctx.err(
                Some(pspan),
                format!(
                    "person {:?}: card and representative are wire-only (mode = \"wire\")",
                    p.name
                ),
            ));
        }
        let representative = match p.representative.as_deref() {
            None => None,
            Some("family") => Some(RepresentativeKind::Family),
            Some("guardian") => Some(RepresentativeKind::Guardian),
            Some(other) => {
                return Err(ctx.err(
                    Some(pspan),
                    format!(
                        "person {:?}: representative = {other:?}; expected \"family\" or \"guardian\"",
                        p.name
                    ),
                ));
            }
        };
        people.push(NamedPerson {
            name: p.name,
            insurer,
            card: p.card.unwrap_or(true),
            representative,
        });
    }
    Ok(World {
        municipalities,
        scale: raw.scale,
        offices,
        people,
    })
}

fn load_delay(
    ctx: &Ctx<'_>,
    geo: &Municipalities,
    raw: Spanned<RawDelay>,
) -> Result<Delay, ScenarioError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let given = usize::from(!raw.cities.is_empty())
        + usize::from(raw.prefecture.is_some())
        + usize::from(raw.kind.is_some());
    if given != 1 {
        return Err(ctx.err(
            Some(span),
            "a delay names exactly one of cities, prefecture or kind",
        ));
    }
    if raw.months.abs() > 240 {
        return Err(ctx.err(Some(span), "a delay is at most 240 months"));
    }
    let target = if let Some(p) = raw.prefecture {
        if !geo.iter().any(|m| m.prefecture == p) {
            return Err(ctx.err(Some(span), format!("unknown prefecture {p:?}")));
        }
        Target::Prefecture(p)
    } else if let Some(k) = raw.kind {
        if k == "large" {
            Target::Large
        } else {
            Target::Kind(k.parse().map_err(|e: kiban_core::geo::GeoErrorKind| {
                ctx.err(Some(span.clone()), format!("{e} (or \"large\")"))
            })?)
        }
    } else {
        let mut codes = Vec::new();
        for c in &raw.cities {
            codes.push(code_in_table(ctx, geo, span.clone(), c)?);
        }
        Target::Cities(codes)
    };
    Ok(Delay {
        target,
        months: raw.months,
    })
}

fn load_rollout(
    ctx: &Ctx<'_>,
    geo: &Municipalities,
    raw: Spanned<RawRollout>,
) -> Result<Rollout, ScenarioError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let generator = match raw.generator.as_str() {
        "survey-2025" => {
            let p = raw.survey.clone().unwrap_or_default();
            let ok = [
                p.all_by_fy2026,
                p.all_by_fy2027,
                p.large_by_fy2026,
                p.large_by_fy2027,
            ]
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
                && p.all_by_fy2026 <= p.all_by_fy2027
                && p.large_by_fy2026 <= p.large_by_fy2027
                && p.large_respondents > 0
                && p.all_respondents > p.large_respondents
                && p.all_respondents <= 1_741
                && p.large_respondents <= 105;
            if !ok {
                return Err(ctx.err(Some(span), "rollout.survey: shares must be 0–1 and cumulative; respondents 0 < large ≤ 105 < all ≤ 1,741"));
            }
            Generator::Survey2025(p)
        }
        "portal-2026" => {
            let p = raw.portal.clone().unwrap_or_default();
            if p.first_month.parse::<Month>().is_err()
                || !(0.0..=1.0).contains(&p.fy2026_share)
                || p.scheduled > 1_741
            {
                return Err(ctx.err(
                    Some(span),
                    "rollout.portal: first-month is YYYY-MM, fy2026-share 0–1, scheduled ≤ 1,741",
                ));
            }
            Generator::Portal2026(p)
        }
        "explicit" => Generator::Explicit,
        other => {
            return Err(ctx.err(
                Some(span),
                format!("unknown rollout.generator {other:?}; expected survey-2025, portal-2026 or explicit"),
            ));
        }
    };
    if raw.survey.is_some() && !matches!(generator, Generator::Survey2025(_))
        || raw.portal.is_some() && !matches!(generator, Generator::Portal2026(_))
    {
        // Parameters for another generator are a mistake worth reporting.
        return Err(ctx.err(
            Some(span),
            "rollout.survey / rollout.portal belong to the survey-2025 / portal-2026 generators",
        ));
    }
    if raw.default.is_some() && generator != Generator::Explicit {
        return Err(ctx.err(
            Some(span),
            "rollout.default belongs to the explicit generator",
        ));
    }
    let mut dates = BTreeMap::new();
    for (code, date) in raw.dates {
        dates.insert(code_in_table(ctx, geo, span.clone(), &code)?, date);
    }
    let delays = raw
        .delays
        .into_iter()
        .map(|d| load_delay(ctx, geo, d))
        .collect::<Result<_, _>>()?;
    Ok(Rollout {
        generator,
        dates,
        default: raw.default,
        delays,
    })
}

fn load_report(
    ctx: &Ctx<'_>,
    raw: Option<Spanned<RawReport>>,
) -> Result<ReportSpec, ScenarioError> {
    let (span, raw) = match raw {
        Some(r) => (Some(r.span()), r.into_inner()),
        None => (
            None,
            RawReport {
                metrics: None,
                charts: None,
                scopes: None,
                classes: None,
                lang: None,
            },
        ),
    };
    let metrics = match raw.metrics {
        None => DEFAULT_METRICS.to_vec(),
        Some(list) => list
            .iter()
            .map(|id| {
                Metric::from_id(id)
                    .ok_or_else(|| ctx.err(span.clone(), format!("unknown metric {id:?}")))
            })
            .collect::<Result<_, _>>()?,
    };
    let charts = match raw.charts {
        None => Chart::ALL.to_vec(),
        Some(list) => list
            .iter()
            .map(|id| {
                Chart::ALL
                    .into_iter()
                    .find(|c| c.id() == id)
                    .ok_or_else(|| ctx.err(span.clone(), format!("unknown chart {id:?}; expected rollout, sharing, card-reads, policies or lead-time")))
            })
            .collect::<Result<_, _>>()?,
    };
    let scopes = match raw.scopes {
        None => vec![Scope::Nation, Scope::Large, Scope::Other],
        Some(list) => list
            .iter()
            .map(|s| Scope::parse(s).map_err(|m| ctx.err(span.clone(), m)))
            .collect::<Result<_, _>>()?,
    };
    let classes = match raw.classes {
        None => [
            InfoClass::CertificationSurvey,
            InfoClass::LifeFeedback,
            InfoClass::LifeFeedback,
        ],
        Some(c) => [c.care_management, c.care_service, c.facility],
    };
    Ok(ReportSpec {
        metrics,
        charts,
        scopes,
        classes,
        lang: raw.lang.unwrap_or(Lang::En),
    })
}

fn load_step(
    ctx: &Ctx<'_>,
    calendar: &Calendar,
    world: &World,
    variants: &[Variant],
    mode: Mode,
    number: usize,
    raw: Spanned<RawStep>,
) -> Result<Step, ScenarioError> {
    let span = raw.span();
    let line = ctx.line_of(span.clone());
    let raw = raw.into_inner();
    let err = |m: String| ctx.err(Some(span.clone()), format!("step {number}: {m}"));
    let wire = mode == Mode::Wire;
    let variant = raw.variant.clone().unwrap_or_else(|| "baseline".to_owned());
    let variant_exists = |name: &str| variants.iter().any(|v| v.name == name);
    if !variant_exists(&variant) {
        return Err(err(format!("unknown variant {variant:?}")));
    }
    let office = |name: &Option<String>| -> Result<usize, ScenarioError> {
        let name = name
            .as_deref()
            .ok_or_else(|| err("needs office = \"<name>\"".into()))?;
        world
            .offices
            .iter()
            .position(|o| o.name == name)
            .ok_or_else(|| {
                err(format!(
                    "unknown office {name:?} (name it in [[world.office]])"
                ))
            })
    };
    let person = |name: &Option<String>| -> Result<usize, ScenarioError> {
        let name = name
            .as_deref()
            .ok_or_else(|| err("needs person = \"<name>\"".into()))?;
        world
            .people
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| {
                err(format!(
                    "unknown person {name:?} (name them in [[world.person]])"
                ))
            })
    };
    let terminal_of = |o: usize, name: &str| -> Result<usize, ScenarioError> {
        world.offices[o]
            .terminals
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| {
                err(format!(
                    "office {:?} has no terminal {name:?} (list it in its terminals)",
                    world.offices[o].name
                ))
            })
    };
    let date = || -> Result<Date, ScenarioError> {
        let d: Date = raw
            .at
            .parse()
            .map_err(|_| err(format!("at = {:?} must be a date YYYY-MM-DD here", raw.at)))?;
        calendar
            .day_of(d)
            .ok_or_else(|| err(format!("{d} is outside the scenario period")))?;
        Ok(d)
    };
    let kinds = usize::from(raw.metric.is_some())
        + usize::from(raw.decide.is_some())
        + usize::from(raw.action.is_some());
    if kinds != 1 {
        return Err(err(
            "a step has exactly one of metric, decide or action".into()
        ));
    }
    if !wire && (raw.terminal.is_some() || raw.staff.is_some()) {
        return Err(err(
            "terminal and staff are wire-only keys (mode = \"wire\")".into(),
        ));
    }
    let metric_keys = raw.scope.is_some()
        || raw.equals.is_some()
        || raw.tolerance.is_some()
        || raw.within.is_some()
        || raw.at_least.is_some()
        || raw.at_most.is_some()
        || raw.greater_than_variant.is_some()
        || raw.less_than_variant.is_some();
    // The office a step acts or reads from, for its `terminal` key.
    let mut acting_office: Option<usize> = None;
    let kind = if let Some(id) = &raw.metric {
        if wire {
            return Err(err(
                "metric steps need the national model (mode = \"model\"); a wire run checks decisions and actions".into(),
            ));
        }
        let metric = Metric::from_id(id).ok_or_else(|| err(format!("unknown metric {id:?}")))?;
        let month: Month = raw.at.parse().map_err(|()| {
            err(format!(
                "at = {:?} must be a month YYYY-MM for a metric",
                raw.at
            ))
        })?;
        if calendar.index_of_month(month).is_none() {
            return Err(err(format!("{month} is outside the scenario period")));
        }
        let scope = match &raw.scope {
            None => Scope::Nation,
            Some(s) => Scope::parse(s).map_err(err)?,
        };
        let mut checks = Vec::new();
        if let Some(v) = raw.equals {
            checks.push(Check::Equals(v, raw.tolerance.unwrap_or(0.0).abs()));
        } else if raw.tolerance.is_some() {
            return Err(err("tolerance goes with equals".into()));
        }
        if let Some([lo, hi]) = raw.within {
            if lo > hi {
                return Err(err("within = [low, high] needs low ≤ high".into()));
            }
            checks.push(Check::Within(lo, hi));
        }
        if let Some(v) = raw.at_least {
            checks.push(Check::AtLeast(v));
        }
        if let Some(v) = raw.at_most {
            checks.push(Check::AtMost(v));
        }
        for (other, make) in [
            (
                &raw.greater_than_variant,
                Check::GreaterThanVariant as fn(String) -> Check,
            ),
            (&raw.less_than_variant, Check::LessThanVariant),
        ] {
            if let Some(o) = other {
                if !variant_exists(o) || *o == variant {
                    return Err(err(format!(
                        "compare with another existing variant, not {o:?}"
                    )));
                }
                checks.push(make(o.clone()));
            }
        }
        if checks.len() != 1 {
            return Err(err("a metric step has exactly one of equals, within, at-least, at-most, greater-than-variant, less-than-variant".into()));
        }
        if raw.expect.is_some()
            || raw.office.is_some()
            || raw.person.is_some()
            || raw.stay.is_some()
        {
            return Err(err(
                "expect, office, person and stay do not go with metric".into()
            ));
        }
        StepKind::Metric {
            month,
            metric,
            scope,
            check: checks.remove(0),
        }
    } else if let Some(d) = &raw.decide {
        if metric_keys
            || raw.office.is_some()
            || raw.person.is_some()
            || raw.stay.is_some()
            || raw.staff.is_some()
        {
            return Err(err(
                "a decide step has decide = {office | portal, person, class} and expect only (and terminal in wire mode)".into(),
            ));
        }
        let expect = match raw.expect.as_deref() {
            Some("permit") => Expected::Permit,
            Some(code) => match DenyReason::from_code(code) {
                Some(reason) => Expected::Deny(reason),
                None if wire && is_platform_code(code) => Expected::Refusal(code.to_owned()),
                None if wire => {
                    return Err(err(format!(
                        "expect = {code:?} is neither permit, a reason code of kiban-core nor a refusal code of the platform"
                    )));
                }
                None => {
                    return Err(err(format!(
                        "expect = {code:?} is neither permit nor a reason code"
                    )));
                }
            },
            None => return Err(err("needs expect = \"permit\" or a reason code".into())),
        };
        // The reader is resolved before the subject, so an unknown office is named first.
        let office_reader = match &d.office {
            Some(name) => Some(office(&Some(name.clone()))?),
            None => None,
        };
        let subject = person(&Some(d.person.clone()))?;
        let reader = match (office_reader, &d.portal) {
            (Some(o), None) => {
                if d.holder.is_some() {
                    return Err(err("holder goes with portal, not office".into()));
                }
                acting_office = Some(o);
                Reader::Office { office: o }
            }
            (None, Some(who)) => {
                if !wire {
                    return Err(err(
                        "portal reads are wire-only (mode = \"wire\"); model-mode decisions are by offices".into(),
                    ));
                }
                let holder = match &d.holder {
                    Some(h) => person(&Some(h.clone()))?,
                    None => subject,
                };
                let agent = match who.as_str() {
                    "person" => false,
                    "representative" => true,
                    other => {
                        return Err(err(format!(
                            "portal = {other:?}; expected \"person\" (the holder's own card) or \"representative\" (the holder's representative's card)"
                        )));
                    }
                };
                let p = &world.people[holder];
                if agent && p.representative.is_none() {
                    return Err(err(format!(
                        "person {:?} has no representative (set representative = \"family\" or \"guardian\")",
                        p.name
                    )));
                }
                if !agent && !p.card {
                    return Err(err(format!(
                        "person {:?} has no card to sign in to the portal with",
                        p.name
                    )));
                }
                Reader::Portal { holder, agent }
            }
            _ => {
                return Err(err("decide names exactly one of office or portal".into()));
            }
        };
        StepKind::Decide {
            date: date()?,
            reader,
            person: subject,
            class: d.class,
            expect,
        }
    } else {
        let name = raw.action.as_deref().unwrap_or_default();
        if metric_keys || raw.expect.is_some() {
            return Err(err(
                "an action step has action, office, person and stay only (and terminal, staff in wire mode)".into(),
            ));
        }
        let terminal_named = |o: usize| -> Result<usize, ScenarioError> {
            let t = raw
                .terminal
                .as_deref()
                .ok_or_else(|| err("needs terminal = \"<name>\"".into()))?;
            terminal_of(o, t)
        };
        let action = match name {
            "register" => Action::Register {
                office: office(&raw.office)?,
                person: person(&raw.person)?,
            },
            "register-without-card" => Action::RegisterWithoutCard {
                office: office(&raw.office)?,
                person: person(&raw.person)?,
            },
            "end-registration" => Action::EndRegistration {
                office: office(&raw.office)?,
                person: person(&raw.person)?,
            },
            "service-record" => Action::ServiceRecord {
                office: office(&raw.office)?,
                person: person(&raw.person)?,
            },
            "consent" => Action::Consent {
                person: person(&raw.person)?,
            },
            "office-consent" => Action::OfficeConsent {
                office: office(&raw.office)?,
                person: person(&raw.person)?,
            },
            "withdraw-consent" => Action::WithdrawConsent {
                person: person(&raw.person)?,
            },
            "stay-start" => Action::StayStart {
                person: person(&raw.person)?,
                kind: match raw.stay.as_deref() {
                    Some("hospital") => StayKind::Hospital,
                    Some("short-stay") => StayKind::ShortStay,
                    _ => {
                        return Err(err(
                            "stay-start needs stay = \"hospital\" or \"short-stay\"".into(),
                        ));
                    }
                },
            },
            "stay-end" => Action::StayEnd {
                person: person(&raw.person)?,
            },
            "staff-leaves" => {
                let o = office(&raw.office)?;
                let staff = raw
                    .staff
                    .clone()
                    .ok_or_else(|| err("needs staff = \"<staff id>\"".into()))?;
                Action::StaffLeaves { office: o, staff }
            }
            "retire-terminal" => {
                let o = office(&raw.office)?;
                Action::RetireTerminal {
                    office: o,
                    terminal: terminal_named(o)?,
                }
            }
            "renew-terminal" => {
                let o = office(&raw.office)?;
                Action::RenewTerminal {
                    office: o,
                    terminal: terminal_named(o)?,
                }
            }
            "register-representative" => Action::RegisterRepresentative {
                person: person(&raw.person)?,
            },
            "end-representative" => Action::EndRepresentative {
                person: person(&raw.person)?,
            },
            other => {
                return Err(err(format!(
                    "unknown action {other:?}; expected register, register-without-card, end-registration, service-record, consent, office-consent, withdraw-consent, stay-start or stay-end (wire mode also: staff-leaves, retire-terminal, renew-terminal, register-representative, end-representative)"
                )));
            }
        };
        let uses_office = matches!(
            action,
            Action::Register { .. }
                | Action::RegisterWithoutCard { .. }
                | Action::EndRegistration { .. }
                | Action::ServiceRecord { .. }
                | Action::OfficeConsent { .. }
                | Action::StaffLeaves { .. }
                | Action::RetireTerminal { .. }
                | Action::RenewTerminal { .. }
        );
        let uses_person = !matches!(
            action,
            Action::StaffLeaves { .. }
                | Action::RetireTerminal { .. }
                | Action::RenewTerminal { .. }
        );
        if !uses_office && raw.office.is_some()
            || !uses_person && raw.person.is_some()
            || raw.stay.is_some() && !matches!(action, Action::StayStart { .. })
            || raw.staff.is_some() && !matches!(action, Action::StaffLeaves { .. })
        {
            return Err(err(format!(
                "action {name:?} takes no office/person/stay/staff key here"
            )));
        }
        if !wire && action.is_wire_only() {
            return Err(err(format!(
                "action {name:?} is wire-only (mode = \"wire\")"
            )));
        }
        if wire {
            wire_action_checks(world, &action).map_err(err)?;
        }
        // The terminal key of register, end-registration, service-record and
        // office-consent names the terminal they act from.
        if matches!(
            action,
            Action::Register { .. }
                | Action::EndRegistration { .. }
                | Action::ServiceRecord { .. }
                | Action::OfficeConsent { .. }
                | Action::StaffLeaves { .. }
        ) {
            if let Action::Register { office, .. }
            | Action::EndRegistration { office, .. }
            | Action::ServiceRecord { office, .. }
            | Action::OfficeConsent { office, .. }
            | Action::StaffLeaves { office, .. } = action
            {
                acting_office = Some(office);
            }
        } else if raw.terminal.is_some()
            && !matches!(
                action,
                Action::RetireTerminal { .. } | Action::RenewTerminal { .. }
            )
        {
            return Err(err(format!("action {name:?} takes no terminal key")));
        }
        StepKind::Action {
            date: date()?,
            action,
        }
    };
    let terminal = match (acting_office, &raw.terminal, &kind) {
        (
            _,
            _,
            StepKind::Action {
                action: Action::RetireTerminal { .. } | Action::RenewTerminal { .. },
                ..
            },
        ) => None,
        (Some(o), Some(t), _) => Some(terminal_of(o, t)?),
        (None, Some(_), _) => {
            return Err(err("terminal goes with an office's read or action".into()));
        }
        (_, None, _) => None,
    };
    Ok(Step {
        number,
        line,
        variant,
        note: raw.note,
        terminal,
        kind,
    })
}

/// What a wire run cannot do with these people and offices, said at load.
fn wire_action_checks(world: &World, action: &Action) -> Result<(), String> {
    let p = |i: usize| &world.people[i];
    match action {
        Action::StayStart { .. } | Action::StayEnd { .. } => Err(
            "the platform has no route for hospital and short stays: stay-start and stay-end are model-only".to_owned(),
        ),
        Action::Register { person, .. } if !p(*person).card => Err(format!(
            "person {:?} has no card (card = false): offices cannot verify them; use register-without-card",
            p(*person).name
        )),
        Action::RegisterWithoutCard { person, .. } if p(*person).card => Err(format!(
            "person {:?} holds a card: the municipality's fallback is for people without one (set card = false, or use register)",
            p(*person).name
        )),
        Action::RegisterRepresentative { person } | Action::EndRepresentative { person }
            if p(*person).representative.is_none() =>
        {
            Err(format!(
                "person {:?} has no representative (set representative = \"family\" or \"guardian\")",
                p(*person).name
            ))
        }
        Action::StaffLeaves { office, staff } => {
            let o = &world.offices[*office];
            if staff == "admin" {
                return Err("the administrator cannot leave (disable another staff member)".to_owned());
            }
            if !o.terminals.iter().any(|t| &t.staff == staff) {
                return Err(format!(
                    "office {:?} has no staff member {staff:?} (name them as a terminal's staff)",
                    o.name
                ));
            }
            if !o.terminals.iter().any(|t| t.staff == "admin") {
                return Err(format!(
                    "office {:?} has no terminal the administrator works on (staff = \"admin\") to disable accounts from",
                    o.name
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether `code` is a refusal code of the platform (not a core reason), as the actors know
/// them.
fn is_platform_code(code: &str) -> bool {
    !matches!(
        kiban_actors::outcome::Reason::from_code(code),
        kiban_actors::outcome::Reason::Other(_) | kiban_actors::outcome::Reason::Denied(_)
    ) || WIRE_ONLY_OUTCOMES.contains(&code)
}

/// Outcomes a wire run reports that are not problem codes: a refusal at the TLS handshake
/// that names no certificate state.
pub const WIRE_ONLY_OUTCOMES: &[&str] = &["tls-refused"];
