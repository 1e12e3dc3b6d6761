//! The certification workflow (要介護認定, domain-facts §4) as a deterministic, clock-driven
//! state machine: application, survey (認定調査), physician opinion (主治医意見書), primary
//! judgement (一次判定), board (介護認定審査会, 二次判定) and decision (認定), with the validity
//! periods and renewals of §4.4.
//!
//! A [`Case`] moves only when it is told the date ([`Case::advance`]) or that the opinion
//! arrived ([`Case::receive_opinion`]); nothing reads a clock, and the survey's outcome comes
//! from a generator seeded per case, so the same inputs give the same case.
//!
//! The rules, with their sources:
//! - **Steps** (§4.2): the survey and the opinion request start at the application; the
//!   primary judgement needs both; the board reviews the primary judgement; the municipality
//!   decides and notifies. The board is modelled as confirming the primary judgement
//!   (二次判定 changes are not modelled).
//! - **Primary judgement** (§4.1): the 要介護認定等基準時間 in minutes sorts the level
//!   (< 25 非該当, 25–32 要支援1, 32–50 要支援2 or 要介護1 by whether the state can be kept or
//!   improved, 50–70 要介護2, 70–90 要介護3, 90–110 要介護4, ≥ 110 要介護5). The survey draws
//!   the minutes uniformly within the band of the person's actual need.
//! - **Deadline** (§4.3): a decision within 30 days of the application, else a 延期通知;
//!   [`Case::is_overdue`] says when the deadline has passed undecided.
//! - **Effect** (§4.2, 法27条8項): a new or change certification takes effect from the
//!   application date; a renewal from the day after the previous period ends.
//! - **Validity** (§4.4, applications since 2021-04-01): new and change 6 months (3–12
//!   allowed), renewal 12 months (3–48 if the level is unchanged, 3–36 if it changed).
//! - **Renewal timing** (§4.4): from 60 days before the 有効期間満了日 up to that day; an
//!   application after it is treated as new.
//! - **Step durations** ([`WorkflowTimes::standard`]): survey 11 days and opinion 18 days
//!   (§4.5, secondary sources: 11.1 and 17.8 days); primary judgement, board and notice
//!   durations are **assumptions** that bring the total near the national 40 days.
//! - **Partial months** (§4.4 "not confirmed"): [`PeriodEnd::Exact`] (the default) ends a
//!   period the day before the same day `n` months on; [`PeriodEnd::MonthEnd`] counts the
//!   months from the first of the next month when the period starts mid-month. The choice is
//!   a parameter because the rule is not confirmed.

use std::fmt;

use kiban_core::id::InsuredNumber;
use kiban_core::time::Date;
use kiban_core::vocab::CareLevel;
use kiban_platform::model::{ApplicationType, CertificationStatus};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Days before the end of a certification from which a renewal may be applied for.
pub const RENEWAL_WINDOW_DAYS: i64 = 60;

/// Days within which an application must be decided (法27条11項).
pub const DECISION_DEADLINE_DAYS: i64 = 30;

/// Basic items of the survey (基本調査, §4.2).
pub const SURVEY_ITEMS: usize = 74;

/// 申請区分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApplicationKind {
    /// 新規申請.
    New,
    /// 更新申請.
    Renewal,
    /// 区分変更申請.
    Change,
}

impl ApplicationKind {
    /// The platform's name for it.
    pub const fn wire(self) -> ApplicationType {
        match self {
            ApplicationKind::New => ApplicationType::New,
            ApplicationKind::Renewal => ApplicationType::Renewal,
            ApplicationKind::Change => ApplicationType::Change,
        }
    }
}

/// A decided certification: the level and its period, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Certification {
    /// 要介護状態区分 (a certified level: 要支援1 to 要介護5).
    pub level: CareLevel,
    /// First day of the period.
    pub valid_from: Date,
    /// Last day of the period (有効期間満了日).
    pub valid_until: Date,
    /// The day of the decision (認定日).
    pub decided_on: Date,
}

impl Certification {
    /// Whether the certification is in force on `on`.
    pub fn in_force_on(&self, on: Date) -> bool {
        self.valid_from <= on && on <= self.valid_until
    }

    /// The first day a renewal may be applied for (60 days before the end).
    pub fn renewal_opens(&self) -> Date {
        self.valid_until.plus_days(-RENEWAL_WINDOW_DAYS)
    }

    /// Whether a renewal may be applied for on `on`.
    pub fn renewal_open_on(&self, on: Date) -> bool {
        self.renewal_opens() <= on && on <= self.valid_until
    }
}

/// How the end of a period is counted (the partial-month rule is not confirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeriodEnd {
    /// The day before the same day `n` months after the start.
    #[default]
    Exact,
    /// The last day of the `n`-th month after the start's month when the period starts
    /// mid-month (the partial first month is added); as `Exact` from a 1st.
    MonthEnd,
}

/// The period lengths a municipality sets (within the ranges of §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityRules {
    /// New applications, months (3–12).
    pub new_months: u8,
    /// Change applications, months (3–12).
    pub change_months: u8,
    /// Renewals, months (3–48; at most 36 when the level changed).
    pub renewal_months: u8,
    /// How the last day is counted.
    pub period_end: PeriodEnd,
}

impl Default for ValidityRules {
    fn default() -> Self {
        ValidityRules::standard()
    }
}

impl ValidityRules {
    /// The principles of §4.4: 6, 6 and 12 months, [`PeriodEnd::Exact`].
    pub const fn standard() -> ValidityRules {
        ValidityRules {
            new_months: 6,
            change_months: 6,
            renewal_months: 12,
            period_end: PeriodEnd::Exact,
        }
    }

    /// Checks the months against the ranges of §4.4.
    pub fn validate(&self) -> Result<(), WorkflowError> {
        let fits = |m: u8, max: u8| (3..=max).contains(&m);
        if !fits(self.new_months, 12) {
            return Err(WorkflowError::Rules("new_months must be 3-12"));
        }
        if !fits(self.change_months, 12) {
            return Err(WorkflowError::Rules("change_months must be 3-12"));
        }
        if !fits(self.renewal_months, 48) {
            return Err(WorkflowError::Rules("renewal_months must be 3-48"));
        }
        Ok(())
    }

    /// Months of the period for a decision: a renewal whose level changed is capped at 36.
    pub fn months(&self, kind: ApplicationKind, level_changed: bool) -> u8 {
        match kind {
            ApplicationKind::New => self.new_months,
            ApplicationKind::Change => self.change_months,
            ApplicationKind::Renewal if level_changed => self.renewal_months.min(36),
            ApplicationKind::Renewal => self.renewal_months,
        }
    }

    /// The last day of a period of `months` starting on `from`.
    pub fn period_until(&self, from: Date, months: u8) -> Date {
        let months = i32::from(months);
        match self.period_end {
            PeriodEnd::Exact => from.plus_months(months).plus_days(-1),
            PeriodEnd::MonthEnd if from.day() == 1 => from.plus_months(months).plus_days(-1),
            PeriodEnd::MonthEnd => {
                let first = from.plus_days(1 - i64::from(from.day()));
                first.plus_months(months + 1).plus_days(-1)
            }
        }
    }
}

/// How long each step takes, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkflowTimes {
    /// Application to survey visit.
    pub survey_days: u16,
    /// Application to the doctor's opinion (what a scenario's doctor should take; the case
    /// itself waits for the opinion to arrive).
    pub opinion_days: u16,
    /// Survey and opinion both in hand to primary judgement.
    pub primary_days: u16,
    /// Primary judgement to the board.
    pub board_days: u16,
    /// Board to decision and notice.
    pub notice_days: u16,
}

impl Default for WorkflowTimes {
    fn default() -> Self {
        WorkflowTimes::standard()
    }
}

impl WorkflowTimes {
    /// Survey 11 and opinion 18 days (§4.5); primary 3, board 14 and notice 3 days
    /// (assumptions): about 38 days in all.
    pub const fn standard() -> WorkflowTimes {
        WorkflowTimes {
            survey_days: 11,
            opinion_days: 18,
            primary_days: 3,
            board_days: 14,
            notice_days: 3,
        }
    }
}

/// Where a case stands (the platform's certification status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// 申請受付: waiting for the survey (and the opinion).
    Received,
    /// 認定調査済: surveyed, waiting for the opinion.
    Surveyed,
    /// 主治医意見書受領: survey and opinion in hand.
    OpinionReceived,
    /// 一次判定済.
    PrimaryJudged,
    /// 介護認定審査会済.
    BoardReviewed,
    /// 認定 (or 非該当).
    Decided,
    /// 取下げ.
    Withdrawn,
}

impl Stage {
    /// The platform's status.
    pub const fn wire(self) -> CertificationStatus {
        match self {
            Stage::Received => CertificationStatus::Received,
            Stage::Surveyed => CertificationStatus::Surveyed,
            Stage::OpinionReceived => CertificationStatus::OpinionReceived,
            Stage::PrimaryJudged => CertificationStatus::PrimaryJudged,
            Stage::BoardReviewed => CertificationStatus::BoardReviewed,
            Stage::Decided => CertificationStatus::Decided,
            Stage::Withdrawn => CertificationStatus::Withdrawn,
        }
    }
}

/// The survey's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Day of the visit.
    pub on: Date,
    /// 要介護認定等基準時間, in minutes.
    pub minutes: u32,
    /// Whether the state can be kept or improved (splits 要支援2 from 要介護1).
    pub improvable: bool,
    /// The 74 basic items' answer codes (1–3).
    pub basic_items: Vec<u8>,
}

/// A decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Certified at a level for a period.
    Certified(Certification),
    /// 非該当: not in need of care or support.
    NotApplicable {
        /// The day of the decision.
        decided_on: Date,
    },
}

impl Decision {
    /// The day of the decision.
    pub fn decided_on(&self) -> Date {
        match self {
            Decision::Certified(c) => c.decided_on,
            Decision::NotApplicable { decided_on } => *decided_on,
        }
    }

    /// The certification, if certified.
    pub fn certification(&self) -> Option<Certification> {
        match self {
            Decision::Certified(c) => Some(*c),
            Decision::NotApplicable { .. } => None,
        }
    }
}

/// What a case did on [`Case::advance`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The survey was carried out.
    Surveyed(Date),
    /// The primary judgement was made.
    PrimaryJudged(Date, CareLevel),
    /// The board reviewed it.
    BoardReviewed(Date, CareLevel),
    /// The municipality decided.
    Decided(Decision),
}

/// Why a workflow step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// A renewal before the window opens.
    #[error("a renewal can be applied for from {opens}")]
    RenewalNotOpen {
        /// The first day of the window.
        opens: Date,
    },
    /// A renewal or change without a certification to renew or change.
    #[error("there is no certification in force to renew or change")]
    NotCertified,
    /// A new application while a certification is in force.
    #[error("a certification is in force until {until}: apply for a renewal or a change")]
    AlreadyCertified {
        /// Its last day.
        until: Date,
    },
    /// Another application is open for the person.
    #[error("an application of {applied_on} is still open")]
    ApplicationOpen {
        /// Its date.
        applied_on: Date,
    },
    /// The opinion is dated before the application, or arrived twice.
    #[error(
        "an opinion on {on} does not fit the case (applied {applied_on}, opinion already in: {already})"
    )]
    Opinion {
        /// The opinion's day.
        on: Date,
        /// The application's day.
        applied_on: Date,
        /// Whether an opinion was already received.
        already: bool,
    },
    /// The case is decided or withdrawn.
    #[error("the case is closed")]
    Closed,
    /// A date before the case's last step.
    #[error("{on} is before the case's last step on {last}")]
    BackInTime {
        /// The requested day.
        on: Date,
        /// The last step's day.
        last: Date,
    },
    /// Invalid rules.
    #[error("invalid certification rules: {0}")]
    Rules(&'static str),
}

/// The kind of application actually made on `on` for someone whose current certification is
/// `current` when they ask for `wanted` (§4.4: a renewal after the end is a new
/// application).
pub fn application_kind(
    wanted: ApplicationKind,
    current: Option<&Certification>,
    on: Date,
) -> Result<ApplicationKind, WorkflowError> {
    let in_force = current.filter(|c| c.in_force_on(on));
    match (wanted, in_force) {
        (ApplicationKind::New, Some(c)) => Err(WorkflowError::AlreadyCertified {
            until: c.valid_until,
        }),
        (ApplicationKind::New, None) => Ok(ApplicationKind::New),
        (ApplicationKind::Renewal, Some(c)) if !c.renewal_open_on(on) => {
            Err(WorkflowError::RenewalNotOpen {
                opens: c.renewal_opens(),
            })
        }
        (ApplicationKind::Renewal, Some(_)) => Ok(ApplicationKind::Renewal),
        // Past the end (or never certified): treated as new.
        (ApplicationKind::Renewal, None) if current.is_some() => Ok(ApplicationKind::New),
        (ApplicationKind::Renewal | ApplicationKind::Change, None) => {
            Err(WorkflowError::NotCertified)
        }
        (ApplicationKind::Change, Some(_)) => Ok(ApplicationKind::Change),
    }
}

/// The primary judgement for `minutes` of 基準時間 (§4.1).
pub fn level_for_minutes(minutes: u32, improvable: bool) -> CareLevel {
    match minutes {
        0..25 => CareLevel::NotApplicable,
        25..32 => CareLevel::Support1,
        32..50 if improvable => CareLevel::Support2,
        32..50 => CareLevel::Care1,
        50..70 => CareLevel::Care2,
        70..90 => CareLevel::Care3,
        90..110 => CareLevel::Care4,
        _ => CareLevel::Care5,
    }
}

/// The band of minutes (from, to exclusive) in which a person of `need` is surveyed, and
/// whether their state counts as improvable.
fn band(need: CareLevel) -> (u32, u32, bool) {
    match need {
        CareLevel::NotApplicable | CareLevel::ProgramEligible => (10, 25, true),
        CareLevel::Support1 => (25, 32, true),
        CareLevel::Support2 => (32, 50, true),
        CareLevel::Care1 => (32, 50, false),
        CareLevel::Care2 => (50, 70, false),
        CareLevel::Care3 => (70, 90, false),
        CareLevel::Care4 => (90, 110, false),
        CareLevel::Care5 => (110, 140, false),
    }
}

/// Identifies a case within its municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(pub u64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One certification application and its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    id: CaseId,
    insured: InsuredNumber,
    kind: ApplicationKind,
    applied_on: Date,
    previous: Option<Certification>,
    need: CareLevel,
    seed: u64,
    times: WorkflowTimes,
    rules: ValidityRules,
    survey: Option<Survey>,
    opinion_on: Option<Date>,
    primary: Option<(Date, CareLevel)>,
    board: Option<(Date, CareLevel)>,
    decision: Option<Decision>,
    withdrawn_on: Option<Date>,
}

/// What opens a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Application {
    /// The case's id.
    pub id: CaseId,
    /// Whose.
    pub insured: InsuredNumber,
    /// The kind actually applied for (see [`application_kind`]).
    pub kind: ApplicationKind,
    /// The day of the application.
    pub applied_on: Date,
    /// The certification in force (for a renewal or change).
    pub previous: Option<Certification>,
    /// The person's actual need, which the survey observes.
    pub need: CareLevel,
    /// Seeds the survey's draws.
    pub seed: u64,
}

impl Case {
    /// Opens a case.
    pub fn open(
        application: Application,
        times: WorkflowTimes,
        rules: ValidityRules,
    ) -> Result<Case, WorkflowError> {
        rules.validate()?;
        if application.kind == ApplicationKind::Renewal && application.previous.is_none() {
            return Err(WorkflowError::NotCertified);
        }
        Ok(Case {
            id: application.id,
            insured: application.insured,
            kind: application.kind,
            applied_on: application.applied_on,
            previous: application.previous,
            need: application.need,
            seed: application.seed,
            times,
            rules,
            survey: None,
            opinion_on: None,
            primary: None,
            board: None,
            decision: None,
            withdrawn_on: None,
        })
    }

    /// The id.
    pub fn id(&self) -> CaseId {
        self.id
    }

    /// Whose.
    pub fn insured(&self) -> InsuredNumber {
        self.insured
    }

    /// The kind.
    pub fn kind(&self) -> ApplicationKind {
        self.kind
    }

    /// The day of the application.
    pub fn applied_on(&self) -> Date {
        self.applied_on
    }

    /// The survey, once done.
    pub fn survey(&self) -> Option<&Survey> {
        self.survey.as_ref()
    }

    /// The day the opinion arrived.
    pub fn opinion_on(&self) -> Option<Date> {
        self.opinion_on
    }

    /// The decision, once made.
    pub fn decision(&self) -> Option<Decision> {
        self.decision
    }

    /// Whether the case is decided or withdrawn.
    pub fn is_closed(&self) -> bool {
        self.decision.is_some() || self.withdrawn_on.is_some()
    }

    /// The day by which the decision is due (30 days, §4.3).
    pub fn deadline(&self) -> Date {
        self.applied_on.plus_days(DECISION_DEADLINE_DAYS)
    }

    /// Whether the deadline has passed undecided on `on` (a 延期通知 is due).
    pub fn is_overdue(&self, on: Date) -> bool {
        !self.is_closed() && on > self.deadline()
    }

    /// Where the case stands.
    pub fn stage(&self) -> Stage {
        if self.withdrawn_on.is_some() {
            Stage::Withdrawn
        } else if self.decision.is_some() {
            Stage::Decided
        } else if self.board.is_some() {
            Stage::BoardReviewed
        } else if self.primary.is_some() {
            Stage::PrimaryJudged
        } else if self.survey.is_some() && self.opinion_on.is_some() {
            Stage::OpinionReceived
        } else if self.survey.is_some() {
            Stage::Surveyed
        } else {
            Stage::Received
        }
    }

    /// The day the survey is due.
    pub fn survey_due(&self) -> Date {
        self.applied_on.plus_days(i64::from(self.times.survey_days))
    }

    /// The day the doctor is expected to send the opinion.
    pub fn opinion_expected(&self) -> Date {
        self.applied_on
            .plus_days(i64::from(self.times.opinion_days))
    }

    /// The physician opinion arrived on `on`.
    pub fn receive_opinion(&mut self, on: Date) -> Result<(), WorkflowError> {
        if self.is_closed() {
            return Err(WorkflowError::Closed);
        }
        if on < self.applied_on || self.opinion_on.is_some() {
            return Err(WorkflowError::Opinion {
                on,
                applied_on: self.applied_on,
                already: self.opinion_on.is_some(),
            });
        }
        self.opinion_on = Some(on);
        Ok(())
    }

    /// The application is withdrawn on `on`.
    pub fn withdraw(&mut self, on: Date) -> Result<(), WorkflowError> {
        if self.is_closed() {
            return Err(WorkflowError::Closed);
        }
        if on < self.applied_on {
            return Err(WorkflowError::BackInTime {
                on,
                last: self.applied_on,
            });
        }
        self.withdrawn_on = Some(on);
        Ok(())
    }

    /// Takes every step due by `today`, in order, each dated when it was due.
    pub fn advance(&mut self, today: Date) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.is_closed() {
            return steps;
        }
        if self.survey.is_none() && self.survey_due() <= today {
            let survey = self.draw_survey(self.survey_due());
            steps.push(Step::Surveyed(survey.on));
            self.survey = Some(survey);
        }
        let (Some(survey), Some(opinion_on)) = (&self.survey, self.opinion_on) else {
            return steps;
        };
        if self.primary.is_none() {
            let on = survey
                .on
                .max(opinion_on)
                .plus_days(i64::from(self.times.primary_days));
            if on > today {
                return steps;
            }
            let level = level_for_minutes(survey.minutes, survey.improvable);
            self.primary = Some((on, level));
            steps.push(Step::PrimaryJudged(on, level));
        }
        let Some((primary_on, primary_level)) = self.primary else {
            return steps;
        };
        if self.board.is_none() {
            let on = primary_on.plus_days(i64::from(self.times.board_days));
            if on > today {
                return steps;
            }
            self.board = Some((on, primary_level));
            steps.push(Step::BoardReviewed(on, primary_level));
        }
        let Some((board_on, level)) = self.board else {
            return steps;
        };
        let decided_on = board_on.plus_days(i64::from(self.times.notice_days));
        if decided_on <= today {
            let decision = self.decide(level, decided_on);
            self.decision = Some(decision);
            steps.push(Step::Decided(decision));
        }
        steps
    }

    fn draw_survey(&self, on: Date) -> Survey {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (from, to, improvable) = band(self.need);
        let minutes = rng.random_range(from..to);
        let basic_items = (0..SURVEY_ITEMS)
            .map(|_| rng.random_range(1..=3u8))
            .collect();
        Survey {
            on,
            minutes,
            improvable,
            basic_items,
        }
    }

    fn decide(&self, level: CareLevel, decided_on: Date) -> Decision {
        if !level.is_certified() {
            return Decision::NotApplicable { decided_on };
        }
        let (valid_from, changed) = match (self.kind, self.previous) {
            (ApplicationKind::Renewal, Some(p)) => (p.valid_until.plus_days(1), p.level != level),
            (_, previous) => (self.applied_on, previous.is_some_and(|p| p.level != level)),
        };
        let months = self.rules.months(self.kind, changed);
        Decision::Certified(Certification {
            level,
            valid_from,
            valid_until: self.rules.period_until(valid_from, months),
            decided_on,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn insured() -> InsuredNumber {
        InsuredNumber::parse("0000000001").unwrap()
    }

    fn cert(level: CareLevel, from: &str, until: &str) -> Certification {
        Certification {
            level,
            valid_from: d(from),
            valid_until: d(until),
            decided_on: d(from),
        }
    }

    fn case(
        kind: ApplicationKind,
        on: &str,
        previous: Option<Certification>,
        need: CareLevel,
    ) -> Case {
        Case::open(
            Application {
                id: CaseId(1),
                insured: insured(),
                kind,
                applied_on: d(on),
                previous,
                need,
                seed: 7,
            },
            WorkflowTimes::standard(),
            ValidityRules::standard(),
        )
        .unwrap()
    }

    #[test]
    fn primary_judgement_follows_the_minute_thresholds() {
        let cases = [
            (0, true, CareLevel::NotApplicable),
            (24, true, CareLevel::NotApplicable),
            (25, true, CareLevel::Support1),
            (31, false, CareLevel::Support1),
            (32, true, CareLevel::Support2),
            (32, false, CareLevel::Care1),
            (49, true, CareLevel::Support2),
            (50, true, CareLevel::Care2),
            (69, false, CareLevel::Care2),
            (70, false, CareLevel::Care3),
            (90, false, CareLevel::Care4),
            (109, false, CareLevel::Care4),
            (110, false, CareLevel::Care5),
            (500, false, CareLevel::Care5),
        ];
        for (minutes, improvable, level) in cases {
            assert_eq!(level_for_minutes(minutes, improvable), level, "{minutes}");
        }
        // Every need's band judges back to the need.
        for &need in CareLevel::ALL {
            let (from, to, improvable) = band(need);
            for m in from..to {
                let expected = if need == CareLevel::ProgramEligible {
                    CareLevel::NotApplicable
                } else {
                    need
                };
                assert_eq!(level_for_minutes(m, improvable), expected, "{need} {m}");
            }
        }
    }

    #[test]
    fn a_new_application_runs_every_step_on_its_due_day() {
        let mut c = case(ApplicationKind::New, "2026-10-01", None, CareLevel::Care2);
        assert_eq!(c.stage(), Stage::Received);
        assert_eq!(c.advance(d("2026-10-11")), []);
        assert_eq!(
            c.advance(d("2026-10-12")),
            [Step::Surveyed(d("2026-10-12"))]
        );
        assert_eq!(c.stage(), Stage::Surveyed);
        // Waiting for the opinion: nothing moves, however late.
        assert_eq!(c.advance(d("2026-12-31")), []);
        assert!(c.is_overdue(d("2026-11-01")));
        assert!(!c.is_overdue(d("2026-10-31")));
        c.receive_opinion(d("2026-10-19")).unwrap();
        assert_eq!(c.stage(), Stage::OpinionReceived);
        let steps = c.advance(d("2026-11-10"));
        let expected_cert = Certification {
            level: CareLevel::Care2,
            valid_from: d("2026-10-01"),
            valid_until: d("2027-03-31"),
            decided_on: d("2026-11-08"),
        };
        assert_eq!(
            steps,
            [
                Step::PrimaryJudged(d("2026-10-22"), CareLevel::Care2),
                Step::BoardReviewed(d("2026-11-05"), CareLevel::Care2),
                Step::Decided(Decision::Certified(expected_cert)),
            ]
        );
        assert_eq!(c.stage(), Stage::Decided);
        assert!(c.is_closed());
        assert_eq!(c.advance(d("2027-01-01")), []);
        assert_eq!(
            c.receive_opinion(d("2026-11-20")),
            Err(WorkflowError::Closed)
        );
        let survey = c.survey().unwrap();
        assert_eq!(survey.basic_items.len(), SURVEY_ITEMS);
        assert!(survey.basic_items.iter().all(|i| (1..=3).contains(i)));
        assert!((50..70).contains(&survey.minutes));
    }

    #[test]
    fn the_same_case_draws_the_same_survey() {
        let run = || {
            let mut c = case(
                ApplicationKind::New,
                "2026-10-01",
                None,
                CareLevel::Support2,
            );
            c.advance(d("2026-10-12"));
            c.survey().cloned().unwrap()
        };
        assert_eq!(run(), run());
        assert!(run().improvable);
    }

    #[test]
    fn a_renewal_starts_the_day_after_the_previous_period_for_twelve_months() {
        let previous = cert(CareLevel::Care2, "2026-04-01", "2027-03-31");
        let mut c = case(
            ApplicationKind::Renewal,
            "2027-02-01",
            Some(previous),
            CareLevel::Care2,
        );
        c.receive_opinion(d("2027-02-10")).unwrap();
        let steps = c.advance(d("2027-04-30"));
        let Some(Step::Decided(Decision::Certified(new))) = steps.last() else {
            panic!("{steps:?}");
        };
        assert_eq!(
            (new.valid_from, new.valid_until),
            (d("2027-04-01"), d("2028-03-31"))
        );
    }

    #[test]
    fn validity_months_follow_the_ranges_of_4_4() {
        let r = ValidityRules::standard();
        assert_eq!(r.months(ApplicationKind::New, false), 6);
        assert_eq!(r.months(ApplicationKind::Change, true), 6);
        assert_eq!(r.months(ApplicationKind::Renewal, false), 12);
        let long = ValidityRules {
            renewal_months: 48,
            ..r
        };
        assert_eq!(long.months(ApplicationKind::Renewal, false), 48);
        assert_eq!(
            long.months(ApplicationKind::Renewal, true),
            36,
            "a changed level caps at 36"
        );
        for bad in [
            ValidityRules { new_months: 2, ..r },
            ValidityRules {
                new_months: 13,
                ..r
            },
            ValidityRules {
                change_months: 0,
                ..r
            },
            ValidityRules {
                renewal_months: 49,
                ..r
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(WorkflowError::Rules(_))),
                "{bad:?}"
            );
        }
        assert_eq!(long.validate(), Ok(()));
    }

    #[test]
    fn period_ends_exact_or_at_month_end() {
        let exact = ValidityRules::standard();
        assert_eq!(exact.period_until(d("2026-10-01"), 6), d("2027-03-31"));
        assert_eq!(exact.period_until(d("2026-10-15"), 6), d("2027-04-14"));
        assert_eq!(
            exact.period_until(d("2027-08-31"), 6),
            d("2028-02-28"),
            "clamped"
        );
        let month_end = ValidityRules {
            period_end: PeriodEnd::MonthEnd,
            ..exact
        };
        assert_eq!(month_end.period_until(d("2026-10-01"), 6), d("2027-03-31"));
        assert_eq!(month_end.period_until(d("2026-10-15"), 6), d("2027-04-30"));
        assert_eq!(month_end.period_until(d("2027-12-20"), 12), d("2028-12-31"));
    }

    #[test]
    fn a_change_takes_effect_from_the_application_and_a_different_level() {
        let previous = cert(CareLevel::Care1, "2026-04-01", "2027-03-31");
        let mut c = case(
            ApplicationKind::Change,
            "2026-09-15",
            Some(previous),
            CareLevel::Care4,
        );
        c.receive_opinion(d("2026-09-20")).unwrap();
        let steps = c.advance(d("2026-12-31"));
        let Some(Step::Decided(Decision::Certified(new))) = steps.last() else {
            panic!("{steps:?}");
        };
        assert_eq!(new.level, CareLevel::Care4);
        assert_eq!(
            (new.valid_from, new.valid_until),
            (d("2026-09-15"), d("2027-03-14"))
        );
    }

    #[test]
    fn no_need_is_decided_not_applicable() {
        let mut c = case(
            ApplicationKind::New,
            "2026-10-01",
            None,
            CareLevel::NotApplicable,
        );
        c.receive_opinion(d("2026-10-05")).unwrap();
        let steps = c.advance(d("2026-12-01"));
        assert!(matches!(
            steps.last(),
            Some(Step::Decided(Decision::NotApplicable { .. }))
        ));
        assert_eq!(c.decision().and_then(|d| d.certification()), None);
    }

    #[test]
    fn renewal_window_and_late_renewals() {
        let current = cert(CareLevel::Care2, "2026-04-01", "2027-03-31");
        assert_eq!(current.renewal_opens(), d("2027-01-30"));
        let on = |s: &str| application_kind(ApplicationKind::Renewal, Some(&current), d(s));
        assert_eq!(
            on("2027-01-29"),
            Err(WorkflowError::RenewalNotOpen {
                opens: d("2027-01-30")
            })
        );
        assert_eq!(on("2027-01-30"), Ok(ApplicationKind::Renewal));
        assert_eq!(
            on("2027-03-31"),
            Ok(ApplicationKind::Renewal),
            "the last day still counts"
        );
        assert_eq!(
            on("2027-04-01"),
            Ok(ApplicationKind::New),
            "after the end: new"
        );
        assert_eq!(
            application_kind(ApplicationKind::New, Some(&current), d("2026-10-01")),
            Err(WorkflowError::AlreadyCertified {
                until: d("2027-03-31")
            })
        );
        assert_eq!(
            application_kind(ApplicationKind::Change, Some(&current), d("2026-10-01")),
            Ok(ApplicationKind::Change)
        );
        assert_eq!(
            application_kind(ApplicationKind::Change, None, d("2026-10-01")),
            Err(WorkflowError::NotCertified)
        );
        assert_eq!(
            application_kind(ApplicationKind::Renewal, None, d("2026-10-01")),
            Err(WorkflowError::NotCertified)
        );
    }

    #[test]
    fn opinions_and_withdrawals_are_checked() {
        let mut c = case(ApplicationKind::New, "2026-10-01", None, CareLevel::Care1);
        assert!(matches!(
            c.receive_opinion(d("2026-09-30")),
            Err(WorkflowError::Opinion { already: false, .. })
        ));
        c.receive_opinion(d("2026-10-02")).unwrap();
        assert!(matches!(
            c.receive_opinion(d("2026-10-03")),
            Err(WorkflowError::Opinion { already: true, .. })
        ));
        // The opinion before the survey leaves the stage at Received.
        assert_eq!(c.stage(), Stage::Received);
        c.withdraw(d("2026-10-05")).unwrap();
        assert_eq!(c.stage(), Stage::Withdrawn);
        assert_eq!(c.advance(d("2027-01-01")), []);
        assert_eq!(c.withdraw(d("2026-10-06")), Err(WorkflowError::Closed));
        let previous = None;
        assert_eq!(
            Case::open(
                Application {
                    id: CaseId(2),
                    insured: insured(),
                    kind: ApplicationKind::Renewal,
                    applied_on: d("2026-10-01"),
                    previous,
                    need: CareLevel::Care1,
                    seed: 1
                },
                WorkflowTimes::standard(),
                ValidityRules::standard()
            )
            .unwrap_err(),
            WorkflowError::NotCertified
        );
    }
}
