//! Go-live dates per municipality: the generators (survey-2025 calibrated, portal-2026,
//! explicit), explicit dates, what-if delays, and the calibration table that compares the
//! result with the survey.
//!
//! The survey (seed 003, DOMAIN §5) asked when each municipality's care-insurance system
//! would migrate to the standard system with the platform link. The generator reads "ready
//! in fiscal year Y" as "starts sharing on the first day of a month of FY Y" (an
//! **assumption**: data migration, step ③, is taken to finish within the same year). Large
//! municipalities (designated cities, special wards, core cities) and the rest are calibrated
//! separately with fixed quotas, so the shares among respondents match the survey up to
//! rounding; undecided municipalities get an explicit treatment.

use kiban_core::geo::Municipality;
use kiban_core::time::Date;
use rand::{Rng, RngExt};

use crate::calendar::Month;
use crate::scenario::{Delay, Generator, PortalParams, Rollout, SurveyParams, Target, Undecided};

/// Survey figures the survey-2025 generator is calibrated to: 1,741 municipalities, of
/// which 105 large (data README); valid answers 1,599 (all) and 91 (large) (seed 003).
const ALL_MUNICIPALITIES: f64 = 1_741.0;
const LARGE_MUNICIPALITIES: f64 = 105.0;

/// The group of a municipality in the calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Designated cities, special wards and core cities.
    Large,
    /// The rest.
    Other,
}

/// The rollout of one variant: a go-live date per world municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Go-live date per world municipality (same order as the world); `None`: never.
    pub live_from: Vec<Option<Date>>,
    /// Whether the survey generator drew the municipality as a respondent with a planned
    /// year (false for undecided ones and for other generators).
    pub respondent: Vec<bool>,
}

/// One row of the calibration table.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    /// Row label (`large`, `other`, `all`, `all incl. undecided`).
    pub group: &'static str,
    /// Municipalities counted.
    pub count: usize,
    /// Target share by the end of FY2026 (`None`: no target).
    pub target_fy2026: Option<f64>,
    /// Achieved share by the end of FY2026.
    pub achieved_fy2026: f64,
    /// Target share by the end of FY2027.
    pub target_fy2027: Option<f64>,
    /// Achieved share by the end of FY2027.
    pub achieved_fy2027: f64,
}

impl CalibrationRow {
    /// Whether every target is met within `points` percentage points.
    pub fn within(&self, points: f64) -> bool {
        let ok = |t: Option<f64>, a: f64| t.is_none_or(|t| (a - t).abs() * 100.0 <= points + 1e-9);
        ok(self.target_fy2026, self.achieved_fy2026) && ok(self.target_fy2027, self.achieved_fy2027)
    }
}

fn month_date(year: i32, month: u8) -> Date {
    Month { year, month }.first_day()
}

/// The first day of a uniformly drawn month among `count` months from `from`.
fn draw_month(rng: &mut impl Rng, from: Date, count: u16) -> Date {
    let k = rng.random_range(0..i32::from(count.max(1)));
    from.plus_months(k)
}

fn shuffle<T>(rng: &mut impl Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// A fiscal-year class drawn for a municipality: 0 = FY2026, 1 = FY2027, 2 = FY2028 or later.
fn class_date(rng: &mut impl Rng, class: u8, late_spread: u16) -> Date {
    match class {
        0 => draw_month(rng, month_date(2026, 4), 12),
        1 => draw_month(rng, month_date(2027, 4), 12),
        _ => draw_month(rng, month_date(2028, 4), late_spread),
    }
}

/// Builds the schedule of `world` (municipalities in world order) for a rollout plus the
/// variant's extra delays.
pub fn schedule(
    rng: &mut impl Rng,
    world: &[&Municipality],
    rollout: &Rollout,
    extra_delays: &[Delay],
) -> Schedule {
    let n = world.len();
    let mut live_from: Vec<Option<Date>> = vec![None; n];
    let mut respondent = vec![false; n];
    match &rollout.generator {
        Generator::Survey2025(p) => survey(rng, world, p, &mut live_from, &mut respondent),
        Generator::Portal2026(p) => portal(rng, p, &mut live_from),
        Generator::Explicit => live_from.fill(rollout.default),
    }
    for (i, m) in world.iter().enumerate() {
        if let Some(d) = rollout.dates.get(&m.code) {
            live_from[i] = Some(*d);
        }
    }
    for delay in rollout.delays.iter().chain(extra_delays) {
        for (i, m) in world.iter().enumerate() {
            let hit = match &delay.target {
                Target::Cities(codes) => codes.contains(&m.code),
                Target::Prefecture(p) => &m.prefecture == p,
                Target::Kind(k) => m.kind == *k,
                Target::Large => m.kind.is_large(),
            };
            if hit {
                live_from[i] = live_from[i].map(|d| d.plus_months(delay.months));
            }
        }
    }
    Schedule {
        live_from,
        respondent,
    }
}

/// Shares by FY2026 and by FY2027 of the group "other", derived from the survey's totals
/// and its large group: (all × n_all − large × n_large) / (n_all − n_large).
pub fn other_targets(p: &SurveyParams) -> (f64, f64) {
    let n_all = f64::from(p.all_respondents);
    let n_large = f64::from(p.large_respondents);
    let other = |all: f64, large: f64| (all * n_all - large * n_large) / (n_all - n_large);
    (
        other(p.all_by_fy2026, p.large_by_fy2026),
        other(p.all_by_fy2027, p.large_by_fy2027),
    )
}

fn survey(
    rng: &mut impl Rng,
    world: &[&Municipality],
    p: &SurveyParams,
    live_from: &mut [Option<Date>],
    respondent: &mut [bool],
) {
    let (other26, other27) = other_targets(p);
    let groups = [
        (
            Group::Large,
            f64::from(p.large_respondents) / LARGE_MUNICIPALITIES,
            p.large_by_fy2026,
            p.large_by_fy2027,
        ),
        (
            Group::Other,
            f64::from(p.all_respondents - p.large_respondents)
                / (ALL_MUNICIPALITIES - LARGE_MUNICIPALITIES),
            other26,
            other27,
        ),
    ];
    for (group, respondent_share, by26, by27) in groups {
        let mut members: Vec<usize> = (0..world.len())
            .filter(|&i| (world[i].kind.is_large()) == (group == Group::Large))
            .collect();
        shuffle(rng, &mut members);
        let n_resp = (members.len() as f64 * respondent_share).round() as usize;
        let q26 = (n_resp as f64 * by26).round() as usize;
        let q27 = ((n_resp as f64 * by27).round() as usize).max(q26);
        for (pos, &i) in members.iter().enumerate() {
            let class = if pos < n_resp {
                respondent[i] = true;
                if pos < q26 {
                    0
                } else if pos < q27 {
                    1
                } else {
                    2
                }
            } else {
                match p.undecided {
                    Undecided::Late => 2,
                    Undecided::LikeRespondents => {
                        let x: f64 = rng.random();
                        if x < by26 {
                            0
                        } else if x < by27 {
                            1
                        } else {
                            2
                        }
                    }
                }
            };
            live_from[i] = Some(class_date(rng, class, p.late_spread_months));
        }
    }
}

fn portal(rng: &mut impl Rng, p: &PortalParams, live_from: &mut [Option<Date>]) {
    let n = live_from.len();
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(rng, &mut order);
    let first = p
        .first_month
        .parse::<Month>()
        .map(Month::first_day)
        .unwrap_or_else(|()| month_date(2026, 11));
    let fy2027 = month_date(2027, 4);
    // Months from the first go-live to the end of FY2026 (at least one).
    let fy2026_months = u16::try_from(
        (i64::from(fy2027.year()) * 12 + i64::from(fy2027.month()))
            - (i64::from(first.year()) * 12 + i64::from(first.month())),
    )
    .unwrap_or(1)
    .max(1);
    let n26 = (n as f64 * p.fy2026_share).round() as usize;
    let n_sched =
        ((n as f64 * f64::from(p.scheduled) / ALL_MUNICIPALITIES).round() as usize).clamp(n26, n);
    for (pos, &i) in order.iter().enumerate() {
        live_from[i] = Some(if pos == 0 && n26 > 0 {
            first
        } else if pos < n26 {
            draw_month(rng, first, fy2026_months)
        } else if pos < n_sched {
            draw_month(rng, fy2027, p.later_spread_months)
        } else {
            p.unscheduled_date
        });
    }
}

/// The calibration table of a schedule against the survey's targets (all rows use the end
/// of FY2026 = 2027-03-31 and of FY2027 = 2028-03-31).
pub fn calibration(
    world: &[&Municipality],
    schedule: &Schedule,
    p: &SurveyParams,
) -> Vec<CalibrationRow> {
    let end26 = month_date(2027, 3).plus_months(1);
    let end27 = month_date(2028, 3).plus_months(1);
    let (other26, other27) = other_targets(p);
    let row = |group: &'static str, pick: &dyn Fn(usize) -> bool, t26, t27| {
        let idx: Vec<usize> = (0..world.len()).filter(|&i| pick(i)).collect();
        let share = |end: Date| {
            let live = idx
                .iter()
                .filter(|&&i| schedule.live_from[i].is_some_and(|d| d < end))
                .count();
            if idx.is_empty() {
                0.0
            } else {
                live as f64 / idx.len() as f64
            }
        };
        CalibrationRow {
            group,
            count: idx.len(),
            target_fy2026: t26,
            achieved_fy2026: share(end26),
            target_fy2027: t27,
            achieved_fy2027: share(end27),
        }
    };
    let large = |i: usize| world[i].kind.is_large();
    vec![
        row(
            "large",
            &|i| schedule.respondent[i] && large(i),
            Some(p.large_by_fy2026),
            Some(p.large_by_fy2027),
        ),
        row(
            "other",
            &|i| schedule.respondent[i] && !large(i),
            Some(other26),
            Some(other27),
        ),
        row(
            "all",
            &|i| schedule.respondent[i],
            Some(p.all_by_fy2026),
            Some(p.all_by_fy2027),
        ),
        row("all incl. undecided", &|_| true, None, None),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiban_core::geo::Municipalities;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    fn national(generator: Generator, delays: Vec<Delay>) -> (Vec<Municipality>, Schedule) {
        let geo = Municipalities::embedded();
        let rows: Vec<Municipality> = geo.iter().cloned().collect();
        let refs: Vec<&Municipality> = rows.iter().collect();
        let rollout = Rollout {
            generator,
            dates: BTreeMap::new(),
            default: None,
            delays,
        };
        let s = schedule(&mut ChaCha8Rng::seed_from_u64(3), &refs, &rollout, &[]);
        (rows, s)
    }

    #[test]
    fn the_survey_generator_reproduces_the_survey_within_two_points() {
        let p = SurveyParams::default();
        let (rows, s) = national(Generator::Survey2025(p.clone()), vec![]);
        let refs: Vec<&Municipality> = rows.iter().collect();
        let table = calibration(&refs, &s, &p);
        for row in &table[..3] {
            assert!(row.within(2.0), "{row:?}");
        }
        assert_eq!(table[0].count, 91);
        assert_eq!(table[2].count, 1_599);
        // Nothing goes live before the law is in force.
        let first = s.live_from.iter().flatten().min().unwrap();
        assert_eq!(first.to_string(), "2026-04-01");
    }

    #[test]
    fn a_delay_of_large_cities_moves_their_share() {
        let p = SurveyParams::default();
        let delay = Delay {
            target: Target::Large,
            months: 12,
        };
        let (rows, s) = national(Generator::Survey2025(p.clone()), vec![delay]);
        let refs: Vec<&Municipality> = rows.iter().collect();
        let table = calibration(&refs, &s, &p);
        assert_eq!(table[0].achieved_fy2026, 0.0);
        assert!(
            (table[0].achieved_fy2027 - 0.52).abs() < 0.02,
            "{:?}",
            table[0]
        );
        assert!(table[1].within(2.0));
    }

    #[test]
    fn the_portal_generator_starts_ten_percent_in_fy2026_from_november() {
        let (_, s) = national(Generator::Portal2026(PortalParams::default()), vec![]);
        let end26 = month_date(2027, 4);
        let in26 = s.live_from.iter().flatten().filter(|d| **d < end26).count();
        assert_eq!(in26, 174);
        let first = s.live_from.iter().flatten().min().unwrap();
        assert_eq!(first.to_string(), "2026-11-01");
        let target = s
            .live_from
            .iter()
            .flatten()
            .filter(|d| d.to_string() == "2028-04-01")
            .count();
        assert_eq!(target, 1_741 - 1_294);
    }
}
