//! The days of a window, cut at midnight in the user's time zone. A day in New York is not 86,400
//! seconds of UTC when daylight saving changes, so the window is split into intervals of constant
//! UTC offset (at most a few per year); within one, the local day of an instant `t` is
//! `(t + offset) div 86400`. Days are charted one bar each, or summed into weeks (Monday to
//! Sunday) or calendar months: the window then covers whole weeks or months.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

/// What one bar of a series covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Interval {
    #[default]
    Day,
    Week,
    Month,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The first day of the bucket holding `day`.
    pub fn bucket_start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The last day of the bucket holding `day`.
    pub fn bucket_end(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => self.bucket_start(day) + Duration::days(6),
            Interval::Month => {
                let (year, month) = if day.month() == 12 {
                    (day.year() + 1, 1)
                } else {
                    (day.year(), day.month() + 1)
                };
                NaiveDate::from_ymd_opt(year, month, 1).map_or(day, |next| next - Duration::days(1))
            }
        }
    }
}

/// A window of whole days in a time zone, charted in buckets of one interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub tz: Tz,
    /// UTC instant (unix seconds) of the first day's start.
    pub start: i64,
    /// UTC instant of the day after the last day's start (exclusive).
    pub end: i64,
    /// `(until, offset)`: instants before `until` (and after the previous interval) are at UTC
    /// offset `offset` seconds. The last interval's `until` is `end`.
    pub offsets: Vec<(i64, i64)>,
    pub interval: Interval,
}

/// The UTC instant of the start of `day` in `tz`: midnight, or the first valid time after a
/// daylight-saving gap at midnight.
pub fn day_start(tz: Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_time(NaiveTime::MIN);
    let mut local = midnight;
    for _ in 0..48 {
        match tz.from_local_datetime(&local).earliest() {
            Some(instant) => return instant.timestamp(),
            None => local += Duration::minutes(30),
        }
    }
    tz.from_utc_datetime(&midnight).timestamp()
}

fn offset_at(tz: Tz, instant: i64) -> i64 {
    let utc = chrono::DateTime::from_timestamp(instant, 0)
        .unwrap_or_default()
        .naive_utc();
    i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

impl Window {
    /// `days` days ending on `last_day`, one bar a day.
    pub fn new(tz: Tz, last_day: NaiveDate, days: u32) -> Self {
        let first_day = last_day - Duration::days(i64::from(days.max(1)) - 1);
        Self::between(tz, first_day, last_day, Interval::Day)
    }

    /// `days` days ending on `last_day`, widened to whole buckets of `interval`.
    pub fn with_interval(tz: Tz, last_day: NaiveDate, days: u32, interval: Interval) -> Self {
        let first_day = last_day - Duration::days(i64::from(days.max(1)) - 1);
        Self::between(
            tz,
            interval.bucket_start(first_day),
            interval.bucket_end(last_day),
            interval,
        )
    }

    fn between(tz: Tz, first_day: NaiveDate, last_day: NaiveDate, interval: Interval) -> Self {
        let start = day_start(tz, first_day);
        let end = day_start(tz, last_day + Duration::days(1));
        // Offsets change at most at a handful of instants: find them by checking each day.
        let mut offsets = Vec::new();
        let mut current = offset_at(tz, start);
        let mut day = first_day;
        while day <= last_day {
            let next_start = day_start(tz, day + Duration::days(1));
            let next_offset = offset_at(tz, next_start.min(end - 1).max(start));
            if next_offset != current {
                // The change happens somewhere in this day: find the instant by bisection.
                let (mut low, mut high) = (day_start(tz, day), next_start);
                while high - low > 1 {
                    let middle = low + (high - low) / 2;
                    if offset_at(tz, middle) == current {
                        low = middle;
                    } else {
                        high = middle;
                    }
                }
                offsets.push((high, current));
                current = next_offset;
            }
            day += Duration::days(1);
        }
        offsets.push((end, current));
        Window {
            first_day,
            last_day,
            tz,
            start,
            end,
            offsets,
            interval,
        }
    }

    /// The same days, in UTC (report rows are dated by their own day, at 00:00 UTC).
    pub fn in_utc(&self) -> Self {
        Self::between(chrono_tz::UTC, self.first_day, self.last_day, self.interval)
    }

    /// How many bars the window has.
    pub fn buckets(&self) -> usize {
        self.bucket_starts().len()
    }

    /// The index of each bucket's first day among the window's days, oldest first (the first
    /// is 0).
    pub fn bucket_starts(&self) -> Vec<i64> {
        let mut starts = Vec::new();
        let mut day = self.first_day;
        while day <= self.last_day {
            starts.push((day - self.first_day).num_days());
            day = self.interval.bucket_end(day) + Duration::days(1);
        }
        starts
    }

    pub fn days(&self) -> usize {
        usize::try_from((self.last_day - self.first_day).num_days() + 1).unwrap_or(0)
    }

    /// The epoch day number of the first day (`(local seconds) div 86400`).
    pub fn first_epoch_day(&self) -> i64 {
        (self.first_day - NaiveDate::default()).num_days()
    }

    /// The index (0-based) of the local day of `instant`, as the SQL computes it.
    pub fn day_index(&self, instant: i64) -> Option<usize> {
        if instant < self.start || instant >= self.end {
            return None;
        }
        let offset = self
            .offsets
            .iter()
            .find(|(until, _)| instant < *until)
            .map_or(0, |(_, offset)| *offset);
        usize::try_from((instant + offset).div_euclid(86_400) - self.first_epoch_day()).ok()
    }

    /// The first day of every bucket (ISO dates), oldest first.
    pub fn labels(&self) -> Vec<String> {
        self.bucket_starts()
            .into_iter()
            .map(|offset| {
                (self.first_day + Duration::days(offset))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn utc_days_are_86400_seconds() {
        let window = Window::new(chrono_tz::UTC, date("2026-11-24"), 30);
        assert_eq!(window.first_day, date("2026-10-26"));
        assert_eq!(window.days(), 30);
        assert_eq!(window.end - window.start, 30 * 86_400);
        assert_eq!(window.offsets, vec![(window.end, 0)]);
        assert_eq!(window.labels().first().unwrap(), "2026-10-26");
        assert_eq!(window.labels().last().unwrap(), "2026-11-24");
    }

    #[test]
    fn a_late_evening_in_new_york_is_the_same_local_day() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let window = Window::new(tz, date("2026-06-30"), 30);
        // 2026-06-01 23:30 in New York (EDT, UTC-4) is 2026-06-02 03:30 UTC.
        let instant = chrono::NaiveDate::from_ymd_opt(2026, 6, 2)
            .unwrap()
            .and_hms_opt(3, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        assert_eq!(
            window.labels()[window.day_index(instant).unwrap()],
            "2026-06-01"
        );
        let utc = Window::new(chrono_tz::UTC, date("2026-06-30"), 30);
        assert_eq!(utc.labels()[utc.day_index(instant).unwrap()], "2026-06-02");
    }

    #[test]
    fn daylight_saving_days_have_23_and_25_hours() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 2026-03-08: clocks spring forward; 2026-11-01: they fall back.
        let spring = Window::new(tz, date("2026-03-08"), 1);
        assert_eq!(spring.end - spring.start, 23 * 3600);
        let fall = Window::new(tz, date("2026-11-01"), 1);
        assert_eq!(fall.end - fall.start, 25 * 3600);
        let year = Window::new(tz, date("2026-12-31"), 365);
        assert_eq!(year.offsets.len(), 3, "{:?}", year.offsets);
        // Every hour of the year lands on the day whose local midnight precedes it.
        let mut instant = year.start;
        while instant < year.end {
            let local = tz.timestamp_opt(instant, 0).unwrap().date_naive();
            let index = year.day_index(instant).unwrap();
            assert_eq!(
                year.labels()[index],
                local.format("%Y-%m-%d").to_string(),
                "{instant}"
            );
            instant += 1800;
        }
        assert_eq!(year.day_index(year.start - 1), None);
        assert_eq!(year.day_index(year.end), None);
    }

    #[test]
    fn weeks_and_months_widen_the_window_to_whole_buckets() {
        // 2026-11-24 is a Tuesday; 31 days before it, 2026-10-25, a Sunday.
        let weeks = Window::with_interval(chrono_tz::UTC, date("2026-11-24"), 31, Interval::Week);
        assert_eq!(weeks.first_day, date("2026-10-19"));
        assert_eq!(weeks.last_day, date("2026-11-29"));
        assert_eq!(weeks.buckets(), 6);
        assert_eq!(weeks.labels()[0], "2026-10-19");
        assert_eq!(weeks.bucket_starts()[1], 7);
        let months =
            Window::with_interval(chrono_tz::UTC, date("2026-11-24"), 3650, Interval::Month);
        assert_eq!(months.first_day, date("2016-11-01"));
        assert_eq!(months.last_day, date("2026-11-30"));
        assert_eq!(months.buckets(), 121);
        assert_eq!(months.labels()[1], "2016-12-01");
        assert_eq!(months.bucket_starts()[1], 30);
        assert_eq!(
            Interval::Month.bucket_end(date("2024-02-10")),
            date("2024-02-29")
        );
        assert_eq!(
            Interval::Month.bucket_end(date("2026-12-31")),
            date("2026-12-31")
        );
        let days = Window::new(chrono_tz::UTC, date("2026-11-24"), 30);
        assert_eq!(days.buckets(), 30);
        assert_eq!(days.bucket_starts()[29], 29);
    }
}
