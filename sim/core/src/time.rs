//! Time as the rules see it: an instant in whole seconds, and Japanese calendar dates.
//!
//! The core never reads a clock; callers pass `now`. Japan has one time zone without daylight
//! saving (JST, UTC+9), so calendar dates here are JST dates and a date used as an instant
//! means its JST midnight. Month arithmetic clamps to the month's last day (1月31日 + 1 month =
//! 2月末日), as validity periods are read in the field.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds east of UTC of Japan Standard Time.
pub const JST_OFFSET_SECONDS: i64 = 9 * 3600;

const SECONDS_PER_DAY: i64 = 86_400;

/// An instant: seconds since 1970-01-01T00:00:00Z. Orders like time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The earliest representable instant; "since forever".
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable instant; "never" when used as an end.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Timestamp(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This instant moved by `secs` seconds (saturating).
    pub const fn plus_seconds(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs))
    }

    /// This instant moved by `days` whole days (saturating).
    pub const fn plus_days(self, days: i64) -> Self {
        self.plus_seconds(days.saturating_mul(SECONDS_PER_DAY))
    }

    /// The JST calendar date of this instant.
    pub fn date_jst(self) -> Date {
        Date::from_days(
            self.0
                .saturating_add(JST_OFFSET_SECONDS)
                .div_euclid(SECONDS_PER_DAY),
        )
    }

    /// The same JST wall-clock time `months` calendar months later (negative: earlier), the
    /// day clamped to the target month's end. Saturates at the representable range.
    pub fn plus_months(self, months: i32) -> Self {
        if self == Timestamp::MAX || self == Timestamp::MIN {
            return self;
        }
        let local = self.0.saturating_add(JST_OFFSET_SECONDS);
        let second_of_day = local.rem_euclid(SECONDS_PER_DAY);
        let date = self.date_jst().plus_months(months);
        date.midnight_jst().plus_seconds(second_of_day)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in JST, e.g. `2026-04-01T00:00:00+09:00`; `MIN`/`MAX` print as `-inf`/`+inf`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Timestamp::MAX {
            return f.write_str("+inf");
        }
        if *self == Timestamp::MIN {
            return f.write_str("-inf");
        }
        let local = self.0 + JST_OFFSET_SECONDS;
        let s = local.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}+09:00",
            self.date_jst(),
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A JST calendar date (proleptic Gregorian).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A text that is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError(String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a date (expected YYYY-MM-DD)", self.0)
    }
}

impl std::error::Error for DateError {}

impl Date {
    /// The date, if it exists (e.g. no 2月30日).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// JST midnight at the start of this date.
    pub fn midnight_jst(self) -> Timestamp {
        Timestamp(
            self.days()
                .saturating_mul(SECONDS_PER_DAY)
                .saturating_sub(JST_OFFSET_SECONDS),
        )
    }

    /// The date `months` calendar months later (negative: earlier), clamped to month end.
    pub fn plus_months(self, months: i32) -> Date {
        let zero_based = self.year as i64 * 12 + i64::from(self.month) - 1 + i64::from(months);
        let year = zero_based
            .div_euclid(12)
            .clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        let month = zero_based.rem_euclid(12) as u8 + 1;
        let day = self.day.min(days_in_month(year, month));
        Date { year, month, day }
    }

    /// The date `days` days later (negative: earlier).
    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days(self.days() + days)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `z` days after 1970-01-01 (Hinnant's `civil_from_days`).
    fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            month,
            day,
        }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_owned());
        let mut parts = s.splitn(3, '-');
        let mut next = |len: usize| {
            parts
                .next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let (y, m, d) = (
            next(4).ok_or_else(err)?,
            next(2).ok_or_else(err)?,
            next(2).ok_or_else(err)?,
        );
        let num = |p: &str| p.parse::<i32>().map_err(|_| err());
        let (m, d) = (
            u8::try_from(num(m)?).map_err(|_| err())?,
            u8::try_from(num(d)?).map_err(|_| err())?,
        );
        Date::new(num(y)?, m, d).ok_or_else(err)
    }
}

impl TryFrom<String> for Date {
    type Error = DateError;
    fn try_from(s: String) -> Result<Date, DateError> {
        s.parse()
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn jst_midnight_is_fifteen_hours_utc_the_day_before() {
        let t = date("2026-04-01").midnight_jst();
        assert_eq!(t.unix_seconds(), 1_774_969_200); // 2026-03-31T15:00:00Z
        assert_eq!(t.to_string(), "2026-04-01T00:00:00+09:00");
        assert_eq!(t.date_jst(), date("2026-04-01"));
        assert_eq!(t.plus_seconds(-1).date_jst(), date("2026-03-31"));
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(date("2026-01-31").plus_months(1), date("2026-02-28"));
        assert_eq!(date("2028-01-31").plus_months(1), date("2028-02-29"));
        assert_eq!(date("2026-08-01").plus_months(12), date("2027-08-01"));
        assert_eq!(date("2026-03-31").plus_months(-1), date("2026-02-28"));
        assert_eq!(date("2026-12-15").plus_months(1), date("2027-01-15"));
    }

    #[test]
    fn timestamp_months_keep_the_jst_wall_clock() {
        let t = date("2026-05-31").midnight_jst().plus_seconds(3600 * 10);
        assert_eq!(t.plus_months(1).to_string(), "2026-06-30T10:00:00+09:00");
        assert_eq!(Timestamp::MAX.plus_months(3), Timestamp::MAX);
    }

    #[test]
    fn bad_dates_are_rejected() {
        for s in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "2026-01-01x",
            "",
        ] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }

    #[test]
    fn day_arithmetic_round_trips_over_four_centuries() {
        let start = date("1900-01-01");
        let mut d = start;
        for n in 0..146_097 {
            assert_eq!(start.plus_days(n), d);
            assert_eq!(d.midnight_jst().date_jst(), d);
            d = d.plus_days(1);
        }
    }
}
