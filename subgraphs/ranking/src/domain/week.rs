//! ISO-8601 weeks on the platform's calendar: which week an instant falls in, where a week
//! starts and ends, and stepping between weeks across year boundaries.
//!
//! An ISO week runs Monday 00:00 to the next Monday 00:00 on the wall clock of the configured
//! time zone; its year is the ISO week-based year, which differs from the calendar year around
//! New Year (2027-01-03 is in 2026-W53, 2024-12-30 is in 2025-W01).

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::fmt;

/// One ISO week (`2026-W53`). Only weeks that exist can be built: week 53 only in long years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    // Field order makes the derived ordering chronological.
    year: i32,
    week: u32,
}

/// A `(year, week)` pair that names no ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{year} has no ISO week {week}")]
pub struct NoSuchWeek {
    /// The year asked for.
    pub year: i32,
    /// The week asked for.
    pub week: u32,
}

impl IsoWeek {
    /// The week `week` of ISO year `year`, if it exists (1–52, or 1–53 in long years).
    pub fn new(year: i32, week: u32) -> Result<IsoWeek, NoSuchWeek> {
        match NaiveDate::from_isoywd_opt(year, week, Weekday::Mon) {
            Some(_) => Ok(IsoWeek { year, week }),
            None => Err(NoSuchWeek { year, week }),
        }
    }

    /// The week `instant` falls in, on the wall clock of `zone`.
    pub fn containing(instant: DateTime<Utc>, zone: Tz) -> IsoWeek {
        IsoWeek::of_date(instant.with_timezone(&zone).date_naive())
    }

    /// The week a calendar date falls in.
    pub fn of_date(date: NaiveDate) -> IsoWeek {
        let iso = date.iso_week();
        IsoWeek { year: iso.year(), week: iso.week() }
    }

    /// The ISO week-based year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The week number, 1–53.
    pub fn week(self) -> u32 {
        self.week
    }

    /// Its Monday.
    pub fn monday(self) -> NaiveDate {
        // Checked in `new`/`of_date`: every IsoWeek has a Monday.
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).unwrap_or(NaiveDate::MIN)
    }

    /// The following week (2026-W53 → 2027-W01).
    pub fn next(self) -> IsoWeek {
        IsoWeek::of_date(self.monday() + Days::new(7))
    }

    /// The preceding week (2027-W01 → 2026-W53).
    pub fn previous(self) -> IsoWeek {
        IsoWeek::of_date(self.monday() - Days::new(7))
    }

    /// Monday 00:00 of this week on `zone`'s wall clock, as an instant.
    pub fn starts_at(self, zone: Tz) -> DateTime<Utc> {
        start_of_day(self.monday(), zone)
    }

    /// The end of Sunday (24:00, i.e. the next Monday 00:00) on `zone`'s wall clock: the first
    /// instant that no longer belongs to this week.
    pub fn ends_at(self, zone: Tz) -> DateTime<Utc> {
        self.next().starts_at(zone)
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

/// The first instant of `date` on `zone`'s wall clock. Midnight can be ambiguous (clocks set
/// back over it: the earlier one starts the day) or skipped (clocks set forward at midnight, as
/// some zones do: the day starts at the first wall-clock minute that exists).
fn start_of_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    for minutes in 0..=24 * 60 {
        let wall = midnight + chrono::Duration::minutes(minutes);
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => return instant.with_timezone(&Utc),
            LocalResult::None => continue,
        }
    }
    // No zone skips a whole day's minutes; read the date as UTC rather than fail.
    midnight.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339 instant")
    }

    fn week(year: i32, week: u32) -> IsoWeek {
        IsoWeek::new(year, week).expect("week exists")
    }

    #[test]
    fn week_53_exists_only_in_long_iso_years() {
        assert!(IsoWeek::new(2026, 53).is_ok(), "2026 starts on a Thursday: 53 weeks");
        assert_eq!(IsoWeek::new(2025, 53), Err(NoSuchWeek { year: 2025, week: 53 }));
        assert!(IsoWeek::new(2026, 0).is_err());
        assert!(IsoWeek::new(2026, 54).is_err());
    }

    #[test]
    fn stepping_crosses_year_boundaries_both_ways() {
        assert_eq!(week(2026, 53).next(), week(2027, 1));
        assert_eq!(week(2027, 1).previous(), week(2026, 53));
        assert_eq!(week(2025, 52).next(), week(2026, 1));
        assert_eq!(week(2026, 1).previous(), week(2025, 52));
        assert_eq!(week(2026, 48).next(), week(2026, 49));
    }

    #[test]
    fn the_iso_year_differs_from_the_calendar_year_around_new_year() {
        assert_eq!(IsoWeek::containing(utc("2027-01-03T12:00:00Z"), Tz::UTC), week(2026, 53));
        assert_eq!(IsoWeek::containing(utc("2027-01-04T00:00:00Z"), Tz::UTC), week(2027, 1));
        assert_eq!(IsoWeek::containing(utc("2024-12-30T00:00:00Z"), Tz::UTC), week(2025, 1));
        assert_eq!(week(2026, 53).monday(), NaiveDate::from_ymd_opt(2026, 12, 28).expect("date"));
        assert_eq!(week(2026, 53).to_string(), "2026-W53");
        assert_eq!(week(2027, 1).to_string(), "2027-W01");
    }

    #[test]
    fn sunday_2359_and_monday_0000_fall_on_either_side_in_a_non_utc_zone() {
        // Shanghai is UTC+8: its Monday starts while UTC is still on Sunday afternoon.
        let zone = Asia::Shanghai;
        let sunday_2359 = utc("2027-01-03T15:59:00Z");
        let monday_0000 = utc("2027-01-03T16:00:00Z");
        assert_eq!(IsoWeek::containing(sunday_2359, zone), week(2026, 53));
        assert_eq!(IsoWeek::containing(monday_0000, zone), week(2027, 1));
        assert_eq!(IsoWeek::containing(monday_0000, Tz::UTC), week(2026, 53), "in UTC it is still Sunday");
        assert_eq!(week(2026, 53).ends_at(zone), monday_0000);
        assert_eq!(week(2027, 1).starts_at(zone), monday_0000);
        // and west of UTC, where the local Monday starts after the UTC one
        let zone = America::New_York;
        assert_eq!(IsoWeek::containing(utc("2027-01-04T04:59:00Z"), zone), week(2026, 53));
        assert_eq!(IsoWeek::containing(utc("2027-01-04T05:00:00Z"), zone), week(2027, 1));
        assert_eq!(week(2027, 1).starts_at(zone), utc("2027-01-04T05:00:00Z"));
    }

    #[test]
    fn a_week_that_changes_daylight_saving_time_is_an_hour_shorter_or_longer() {
        // Berlin moves clocks forward on 2026-03-29 (a Sunday) and back on 2026-10-25.
        let zone = Europe::Berlin;
        let spring = week(2026, 13);
        assert_eq!(spring.starts_at(zone), utc("2026-03-22T23:00:00Z"));
        assert_eq!(spring.ends_at(zone), utc("2026-03-29T22:00:00Z"));
        assert_eq!((spring.ends_at(zone) - spring.starts_at(zone)).num_hours(), 7 * 24 - 1);
        let autumn = week(2026, 43);
        assert_eq!((autumn.ends_at(zone) - autumn.starts_at(zone)).num_hours(), 7 * 24 + 1);
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_minute_that_exists() {
        // São Paulo sprang forward at midnight on 2018-11-04 (a Sunday): 00:00 → 01:00.
        let sunday = NaiveDate::from_ymd_opt(2018, 11, 4).expect("date");
        assert_eq!(start_of_day(sunday, America::Sao_Paulo), utc("2018-11-04T03:00:00Z"));
    }

    #[test]
    fn every_instant_of_a_week_maps_back_to_it() {
        let zone = Asia::Shanghai;
        let mut current = week(2025, 50);
        for _ in 0..10 {
            let start = current.starts_at(zone);
            let end = current.ends_at(zone);
            assert_eq!(IsoWeek::containing(start, zone), current);
            assert_eq!(IsoWeek::containing(end - chrono::Duration::milliseconds(1), zone), current);
            assert_eq!(IsoWeek::containing(end, zone), current.next());
            current = current.next();
        }
        assert_eq!(current, week(2026, 8), "10 weeks after 2025-W50, across New Year");
    }
}
