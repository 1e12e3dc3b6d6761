//! Birthdays and ages as the card rules count them.
//!
//! A birthday is the same month and day as the birth date, except that a person born on
//! 29 February has their birthday on **28 February in common years**. This is the rule the
//! core's month arithmetic already uses (`Date::plus_months` clamps to month end) and the one
//! 民法第143条第2項 gives for periods whose corresponding day does not exist (the period ends
//! on the last day of that month). Whether J-LIS prints 2月28日 or 3月1日 as the card expiry of
//! such a holder is not confirmed; this crate uses 28 February everywhere (ages, card and
//! certificate expiry) so the choice is made once.
//!
//! Ages are counted as people count them: a person is `n` years old from their `n`-th
//! birthday on (the legal rule of 年齢計算ニ関スル法律 moves the birthday to the end of the
//! previous day, which only matters for the 18-year boundary on the day before a birthday).

use kiban_core::time::Date;

/// The birthday of someone born on `birth` in `year` (29 February → 28 February in common
/// years).
pub fn birthday_in(birth: Date, year: i32) -> Date {
    let years = year.saturating_sub(birth.year());
    birth.plus_months(years.saturating_mul(12))
}

/// Age in whole years on `on` of someone born on `birth` (0 before the first birthday;
/// negative dates before birth count as 0).
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on <= birth {
        return 0;
    }
    let years = on.year() - birth.year();
    let before_birthday = birthday_in(birth, on.year()) > on;
    u32::try_from(years - i32::from(before_birthday)).unwrap_or(0)
}

/// The `n`-th birthday strictly after `after` (a birthday falling on `after` itself does not
/// count: "the 10th birthday after issue" starts counting the day after issue). `n` ≥ 1.
pub fn nth_birthday_after(birth: Date, after: Date, n: u32) -> Date {
    let this_year = birthday_in(birth, after.year());
    let first_year = if this_year > after {
        after.year()
    } else {
        after.year() + 1
    };
    let n = i32::try_from(n.max(1)).unwrap_or(i32::MAX);
    birthday_in(birth, first_year.saturating_add(n - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn leap_day_birthdays_fall_on_28_february_in_common_years() {
        let born = d("1952-02-29");
        assert_eq!(birthday_in(born, 2027), d("2027-02-28"));
        assert_eq!(birthday_in(born, 2028), d("2028-02-29"));
        assert_eq!(age_on(born, d("2027-02-27")), 74);
        assert_eq!(age_on(born, d("2027-02-28")), 75);
        assert_eq!(age_on(born, d("2028-02-28")), 75);
        assert_eq!(age_on(born, d("2028-02-29")), 76);
    }

    #[test]
    fn ages_change_on_the_birthday() {
        let born = d("2008-04-01");
        assert_eq!(age_on(born, d("2026-03-31")), 17);
        assert_eq!(age_on(born, d("2026-04-01")), 18);
        assert_eq!(age_on(born, born), 0);
        assert_eq!(age_on(born, d("2000-01-01")), 0);
    }

    #[test]
    fn a_birthday_on_the_reference_day_is_not_counted() {
        let born = d("1950-06-15");
        assert_eq!(
            nth_birthday_after(born, d("2026-06-14"), 1),
            d("2026-06-15")
        );
        assert_eq!(
            nth_birthday_after(born, d("2026-06-15"), 1),
            d("2027-06-15")
        );
        assert_eq!(
            nth_birthday_after(born, d("2026-06-15"), 5),
            d("2031-06-15")
        );
        assert_eq!(
            nth_birthday_after(born, d("2026-12-01"), 10),
            d("2036-06-15")
        );
    }
}
