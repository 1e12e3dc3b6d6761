//! The virtual clock of a run: days counted from the scenario's first day, their dates and
//! instants, and the calendar months the metrics are reported by.
//!
//! Every event of the model happens at JST midnight of its day, so every instant the model
//! writes into the core's view (go-live, registration, consent, service records, stays) is a
//! midnight and every threshold the core derives from them (lapse, consent expiry) is one
//! too. Between two midnights nothing a decision reads changes, which is what lets the model
//! keep decisions up to date by events instead of re-deciding every relationship every day.
//! Nothing here reads the system clock.

use kiban_core::time::{Date, Timestamp};

/// A day of the run: 0 is the scenario's first day.
pub type Day = u16;

/// A day after every day of the run ("never", within a run).
pub const NEVER: Day = Day::MAX;

/// The days and months of a scenario period.
#[derive(Debug, Clone)]
pub struct Calendar {
    start: Date,
    /// Unix seconds of the first day's JST midnight.
    start_secs: i64,
    days: u32,
    /// First day of each calendar month of the period, and one past the last.
    month_starts: Vec<Day>,
    months: Vec<Month>,
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = ();
    fn from_str(s: &str) -> Result<Month, ()> {
        let (y, m) = s.split_once('-').ok_or(())?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let month: u8 = m.parse().map_err(|_| ())?;
        if !(1..=12).contains(&month) {
            return Err(());
        }
        Ok(Month {
            year: y.parse().map_err(|_| ())?,
            month,
        })
    }
}

impl Month {
    /// The month of a date.
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).unwrap_or_else(unreachable_date)
    }

    /// The fiscal year (April–March) it belongs to, e.g. 2026 for 2027-03.
    pub fn fiscal_year(self) -> i32 {
        if self.month >= 4 {
            self.year
        } else {
            self.year - 1
        }
    }
}

/// Month values are validated on construction, so the first day always exists.
fn unreachable_date() -> Date {
    Date::new(1970, 1, 1).unwrap_or_else(|| unreachable!("1970-01-01 exists"))
}

/// Whole days between two dates (`to - from`).
pub fn days_between(from: Date, to: Date) -> i64 {
    (to.midnight_jst().unix_seconds() - from.midnight_jst().unix_seconds()).div_euclid(86_400)
}

impl Calendar {
    /// The calendar from `start` to `end`, both included. `None` when `end` is before
    /// `start` or the period is longer than 60,000 days.
    pub fn new(start: Date, end: Date) -> Option<Calendar> {
        let days = days_between(start, end) + 1;
        if !(1..=60_000).contains(&days) {
            return None;
        }
        let days = u32::try_from(days).ok()?;
        let mut month_starts = Vec::new();
        let mut months = Vec::new();
        let mut m = Month::of(start);
        loop {
            let first = m.first_day().max(start);
            let day = days_between(start, first);
            if day >= i64::from(days) {
                break;
            }
            month_starts.push(Day::try_from(day).ok()?);
            months.push(m);
            let next = m.first_day().plus_months(1);
            m = Month::of(next);
        }
        month_starts.push(Day::try_from(days).ok()?);
        Some(Calendar {
            start,
            start_secs: start.midnight_jst().unix_seconds(),
            days,
            month_starts,
            months,
        })
    }

    /// Number of days in the period.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The first date.
    pub fn start(&self) -> Date {
        self.start
    }

    /// The last date.
    pub fn end(&self) -> Date {
        self.start.plus_days(i64::from(self.days) - 1)
    }

    /// The date of a day.
    pub fn date(&self, day: Day) -> Date {
        self.start.plus_days(i64::from(day))
    }

    /// JST midnight of a day (days past the period are still real instants). JST has no
    /// daylight saving, so consecutive midnights are exactly 86,400 s apart.
    pub fn instant(&self, day: Day) -> Timestamp {
        Timestamp::from_unix_seconds(self.start_secs + i64::from(day) * 86_400)
    }

    /// The day of a date, if it lies in the period.
    pub fn day_of(&self, date: Date) -> Option<Day> {
        let d = days_between(self.start, date);
        (0..i64::from(self.days)).contains(&d).then_some(d as Day)
    }

    /// The first day at or after an instant, clamped: `Some(0)` for instants before the
    /// period, `None` for instants after it (and for [`Timestamp::MAX`]).
    pub fn day_at_or_after(&self, t: Timestamp) -> Option<Day> {
        if t == Timestamp::MAX {
            return None;
        }
        let secs = t.unix_seconds().saturating_sub(self.start_secs);
        if secs <= 0 {
            return Some(0);
        }
        let day = (secs + 86_399) / 86_400;
        (day < i64::from(self.days)).then_some(day as Day)
    }

    /// The calendar months of the period, in order.
    pub fn months(&self) -> &[Month] {
        &self.months
    }

    /// The first day of month number `idx` in the period.
    pub fn month_start(&self, idx: usize) -> Day {
        self.month_starts[idx]
    }

    /// The last day of month number `idx` (an index into [`Calendar::months`]).
    pub fn last_day_of_month(&self, idx: usize) -> Day {
        self.month_starts[idx + 1] - 1
    }

    /// The month index a day belongs to.
    pub fn month_index(&self, day: Day) -> usize {
        self.month_starts.partition_point(|&s| s <= day) - 1
    }

    /// The index of a month in the period.
    pub fn index_of_month(&self, month: Month) -> Option<usize> {
        self.months.binary_search(&month).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn months_and_days_of_a_three_year_period() {
        let cal = Calendar::new(date("2026-04-01"), date("2029-03-31")).unwrap();
        assert_eq!(cal.days(), 1096);
        assert_eq!(cal.months().len(), 36);
        assert_eq!(cal.months()[0].to_string(), "2026-04");
        assert_eq!(cal.date(cal.last_day_of_month(0)), date("2026-04-30"));
        assert_eq!(cal.month_index(cal.day_of(date("2027-02-28")).unwrap()), 10);
        for day in [0, 1, 59, 365, 1095] {
            assert_eq!(cal.instant(day), cal.date(day).midnight_jst());
        }
        assert_eq!(cal.day_of(date("2029-04-01")), None);
        assert_eq!(
            cal.day_at_or_after(date("2026-03-01").midnight_jst()),
            Some(0)
        );
        assert_eq!(
            cal.day_at_or_after(date("2026-04-02").midnight_jst().plus_seconds(1)),
            Some(2)
        );
        assert_eq!(Month::of(date("2027-03-31")).fiscal_year(), 2026);
        assert_eq!(
            "2027-03".parse::<Month>(),
            Ok(Month::of(date("2027-03-01")))
        );
        assert!("2027-13".parse::<Month>().is_err());
    }

    #[test]
    fn a_period_starting_mid_month_has_a_partial_first_month() {
        let cal = Calendar::new(date("2026-11-15"), date("2026-12-31")).unwrap();
        assert_eq!(cal.months().len(), 2);
        assert_eq!(cal.last_day_of_month(0), 15);
        assert!(Calendar::new(date("2026-11-15"), date("2026-11-14")).is_none());
    }
}
