//! What one bar of a chart covers: a day, a week (Monday to Sunday) or a month. The API widens a
//! window to whole buckets and refuses more than [`MAX_BUCKETS`] of them, and daily bars beyond
//! [`MAX_DAILY_DAYS`] days; the period control offers only the intervals it will accept.

use crate::dates::{
    add_months, civil_from_days, date_label, format_date, long_label, month_label, month_start,
    parse_date, short_label, weekday,
};

/// Most buckets the API puts in one window.
pub const MAX_BUCKETS: u32 = 400;
/// Longest window the API serves day by day.
pub const MAX_DAILY_DAYS: u32 = 366;
/// Longest windows that get daily, then weekly bars by default: about three months of days and
/// two years of weeks keep a chart between roughly 13 and 105 bars; longer windows get months.
pub const DAILY_UP_TO: u32 = 92;
pub const WEEKLY_UP_TO: u32 = 730;

/// The `interval` query parameter and `meta.interval`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Interval {
    #[default]
    Day,
    Week,
    Month,
}

impl Interval {
    /// Shortest first, as the control lists them.
    pub const ALL: [Interval; 3] = [Interval::Day, Interval::Week, Interval::Month];

    /// Its value in the API's query strings and series.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// `day`, `week` or `month` (any case); `None` for anything else.
    pub fn parse(text: &str) -> Option<Interval> {
        Interval::ALL
            .into_iter()
            .find(|interval| interval.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// A series' `meta.interval`; servers from before intervals send none, which means days.
    pub fn of_series(meta_interval: &str) -> Interval {
        Interval::parse(meta_interval).unwrap_or_default()
    }

    /// The button's text.
    pub fn title(self) -> &'static str {
        match self {
            Interval::Day => "Day",
            Interval::Week => "Week",
            Interval::Month => "Month",
        }
    }

    /// The bucket in a sentence: `day`, `week`, `month`.
    pub fn noun(self) -> &'static str {
        self.as_str()
    }

    /// The header of the column of bucket dates in a table.
    pub fn column_title(self) -> &'static str {
        match self {
            Interval::Day => "Date",
            Interval::Week => "Week starting",
            Interval::Month => "Month",
        }
    }
}

/// The first day of the bucket holding a day number.
pub fn bucket_start(days: i64, interval: Interval) -> i64 {
    match interval {
        Interval::Day => days,
        Interval::Week => days - weekday(days),
        Interval::Month => month_start(days),
    }
}

/// The last day of the bucket holding a day number.
pub fn bucket_end(days: i64, interval: Interval) -> i64 {
    next_bucket(bucket_start(days, interval), interval) - 1
}

/// The first day of the bucket after the one starting on `start`.
fn next_bucket(start: i64, interval: Interval) -> i64 {
    match interval {
        Interval::Day => start + 1,
        Interval::Week => start + 7,
        Interval::Month => add_months(start, 1),
    }
}

/// The first day of the bucket `count` buckets before the one starting on `start`.
pub fn buckets_before(start: i64, count: u32, interval: Interval) -> i64 {
    match interval {
        Interval::Day => start - i64::from(count),
        Interval::Week => start - 7 * i64::from(count),
        Interval::Month => add_months(start, -i64::from(count)),
    }
}

/// What a window from `start` to `end` (ISO dates, inclusive) covers once widened to whole
/// buckets, as the API does: the first day of the first bucket and the last day of the last.
pub fn covered(start: &str, end: &str, interval: Interval) -> Option<(String, String)> {
    let (start, end) = (parse_date(start)?, parse_date(end)?);
    let first = bucket_start(start.min(end), interval);
    let last = bucket_end(start.max(end), interval);
    Some((format_date(first), format_date(last)))
}

/// How many bars a window from `start` to `end` (ISO dates, inclusive) has.
pub fn bucket_count(start: &str, end: &str, interval: Interval) -> Option<u32> {
    let (start, end) = (parse_date(start)?, parse_date(end)?);
    let (first, last) = (start.min(end), start.max(end));
    let count = match interval {
        Interval::Day => last - first + 1,
        Interval::Week => (bucket_start(last, interval) - bucket_start(first, interval)) / 7 + 1,
        Interval::Month => month_index(last) - month_index(first) + 1,
    };
    u32::try_from(count).ok()
}

/// Months since year 0 of a day number's month.
fn month_index(days: i64) -> i64 {
    let (year, month, _) = civil_from_days(days);
    year * 12 + i64::from(month)
}

/// The most bars a window of `days` days can have, wherever it falls: a week-long window that
/// starts on a Sunday touches two weeks, a 2-day window starting on the 31st two months.
pub fn max_buckets(days: u32, interval: Interval) -> u32 {
    let days = days.max(1);
    match interval {
        Interval::Day => days,
        // Starting on a Sunday: six days of that week's bars are before the window.
        Interval::Week => (days + 6).div_ceil(7),
        // Starting on a month's last day; every other month it reaches has at least 28 days.
        Interval::Month => 1 + (days - 1).div_ceil(28),
    }
}

/// Why the API would refuse `interval` for a window of `days` days; `None` when it serves it.
pub fn unavailable_reason(days: u32, interval: Interval) -> Option<String> {
    if interval == Interval::Day && days > MAX_DAILY_DAYS {
        return Some(format!("Daily bars go up to {MAX_DAILY_DAYS} days"));
    }
    (max_buckets(days, interval) > MAX_BUCKETS).then(|| {
        format!(
            "More than {MAX_BUCKETS} {}s: choose a longer interval",
            interval.noun()
        )
    })
}

/// Whether the API serves `interval` for a window of `days` days, wherever the window falls.
pub fn is_available(days: u32, interval: Interval) -> bool {
    unavailable_reason(days, interval).is_none()
}

/// The intervals a window of `days` days may use, shortest first.
pub fn available_intervals(days: u32) -> Vec<Interval> {
    Interval::ALL
        .into_iter()
        .filter(|interval| is_available(days, *interval))
        .collect()
}

/// The interval a window of `days` days starts with: days up to about three months, weeks up to
/// two years, months beyond.
pub fn default_interval(days: u32) -> Interval {
    if days <= DAILY_UP_TO {
        Interval::Day
    } else if days <= WEEKLY_UP_TO {
        Interval::Week
    } else {
        Interval::Month
    }
}

/// Weekly charts of more bars than this tick by month and year: their ticks are months apart and
/// the window spans years, which `Nov 23` would not say.
pub const WEEKS_WITH_DAY_TICKS: usize = 26;

/// An x-axis tick for the bucket starting on `date`, in a chart of `bars` bars: `Nov 24` for days
/// and up to half a year of weeks, `Nov 2026` for months and for longer runs of weeks (the
/// month the week starts in; the tooltip says which week).
pub fn axis_label(date: &str, interval: Interval, bars: usize) -> String {
    match interval {
        Interval::Week if bars > WEEKS_WITH_DAY_TICKS => month_label(date),
        Interval::Day | Interval::Week => short_label(date),
        Interval::Month => month_label(date),
    }
}

/// The bucket starting on `date` for a tooltip: `Tue, Nov 24, 2026`, `Week of Nov 23, 2026`,
/// `Nov 2026`; the text itself when it is not a date.
pub fn bucket_label(date: &str, interval: Interval) -> String {
    match (interval, parse_date(date)) {
        (_, None) => date.to_string(),
        (Interval::Day, Some(_)) => long_label(date),
        (Interval::Week, Some(_)) => format!("Week of {}", date_label(date)),
        (Interval::Month, Some(_)) => month_label(date),
    }
}

/// `1 day`, `30 days`, `52 weeks`, `12 months`.
pub fn count_phrase(count: usize, interval: Interval) -> String {
    let noun = interval.noun();
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_intervals() {
        for interval in Interval::ALL {
            assert_eq!(Interval::parse(interval.as_str()), Some(interval));
        }
        assert_eq!(Interval::parse(" Week "), Some(Interval::Week));
        assert_eq!(Interval::parse("year"), None);
        assert_eq!(Interval::of_series(""), Interval::Day);
        assert_eq!(Interval::of_series("month"), Interval::Month);
        assert_eq!(Interval::default(), Interval::Day);
    }

    #[test]
    fn widens_windows_to_whole_buckets() {
        // 2026-11-24 is a Tuesday.
        assert_eq!(
            covered("2026-11-18", "2026-11-24", Interval::Week),
            Some(("2026-11-16".into(), "2026-11-29".into()))
        );
        assert_eq!(
            covered("2025-11-25", "2026-11-24", Interval::Month),
            Some(("2025-11-01".into(), "2026-11-30".into()))
        );
        assert_eq!(
            covered("2026-10-26", "2026-11-24", Interval::Day),
            Some(("2026-10-26".into(), "2026-11-24".into()))
        );
        assert_eq!(
            covered("2024-02-10", "2024-02-20", Interval::Month),
            Some(("2024-02-01".into(), "2024-02-29".into()))
        );
        // Already whole buckets: nothing to widen.
        assert_eq!(
            covered("2026-11-16", "2026-11-29", Interval::Week),
            Some(("2026-11-16".into(), "2026-11-29".into()))
        );
        assert_eq!(covered("soon", "2026-11-24", Interval::Week), None);
    }

    #[test]
    fn counts_buckets() {
        assert_eq!(
            bucket_count("2026-10-26", "2026-11-24", Interval::Day),
            Some(30)
        );
        // Wednesday to Tuesday: two weeks.
        assert_eq!(
            bucket_count("2026-11-18", "2026-11-24", Interval::Week),
            Some(2)
        );
        assert_eq!(
            bucket_count("2026-11-23", "2026-11-29", Interval::Week),
            Some(1)
        );
        // A year ending on a Tuesday: 53 weeks, 13 months.
        assert_eq!(
            bucket_count("2025-11-25", "2026-11-24", Interval::Week),
            Some(53)
        );
        assert_eq!(
            bucket_count("2025-11-25", "2026-11-24", Interval::Month),
            Some(13)
        );
        assert_eq!(
            bucket_count("2025-11-01", "2026-10-31", Interval::Month),
            Some(12)
        );
        assert_eq!(
            bucket_count("2016-11-27", "2026-11-24", Interval::Month),
            Some(121)
        );
        assert_eq!(bucket_count("x", "2026-11-24", Interval::Day), None);
    }

    #[test]
    fn bounds_the_buckets_of_any_window_of_a_length() {
        assert_eq!(max_buckets(30, Interval::Day), 30);
        assert_eq!(max_buckets(1, Interval::Week), 1);
        assert_eq!(max_buckets(2, Interval::Week), 2);
        assert_eq!(max_buckets(7, Interval::Week), 2);
        assert_eq!(max_buckets(8, Interval::Week), 2);
        assert_eq!(max_buckets(9, Interval::Week), 3);
        assert_eq!(max_buckets(1, Interval::Month), 1);
        assert_eq!(max_buckets(2, Interval::Month), 2);
        // The bound holds for every window of these lengths ending in 2024..2027.
        let first = parse_date("2024-01-01").unwrap();
        for days in [1, 2, 7, 8, 9, 29, 30, 31, 60, 365, 730, 1825, 2794] {
            for end in first..first + 4 * 365 {
                let start = format_date(end - i64::from(days) + 1);
                let end = format_date(end);
                for interval in [Interval::Week, Interval::Month] {
                    let count = bucket_count(&start, &end, interval).unwrap();
                    assert!(
                        count <= max_buckets(days, interval),
                        "{days} days to {end} by {interval:?}: {count}"
                    );
                }
            }
        }
    }

    #[test]
    fn offers_the_intervals_the_api_serves() {
        assert_eq!(available_intervals(7), Interval::ALL.to_vec());
        assert_eq!(available_intervals(366), Interval::ALL.to_vec());
        assert_eq!(
            available_intervals(367),
            vec![Interval::Week, Interval::Month]
        );
        // 2,794 days touch at most 400 weeks; 2,795 may touch 401.
        assert!(is_available(2794, Interval::Week));
        assert_eq!(available_intervals(2795), vec![Interval::Month]);
        assert_eq!(available_intervals(3660), vec![Interval::Month]);
        assert_eq!(
            unavailable_reason(730, Interval::Day).as_deref(),
            Some("Daily bars go up to 366 days")
        );
        assert_eq!(
            unavailable_reason(3650, Interval::Week).as_deref(),
            Some("More than 400 weeks: choose a longer interval")
        );
        assert_eq!(unavailable_reason(3650, Interval::Month), None);
    }

    #[test]
    fn picks_a_default_interval_the_api_serves() {
        assert_eq!(default_interval(7), Interval::Day);
        assert_eq!(default_interval(90), Interval::Day);
        assert_eq!(default_interval(92), Interval::Day);
        assert_eq!(default_interval(93), Interval::Week);
        assert_eq!(default_interval(365), Interval::Week);
        assert_eq!(default_interval(730), Interval::Week);
        assert_eq!(default_interval(731), Interval::Month);
        assert_eq!(default_interval(3650), Interval::Month);
        for days in 1..=3660 {
            assert!(is_available(days, default_interval(days)), "{days}");
        }
    }

    #[test]
    fn labels_buckets() {
        assert_eq!(axis_label("2026-11-24", Interval::Day, 366), "Nov 24");
        assert_eq!(axis_label("2026-11-23", Interval::Week, 13), "Nov 23");
        assert_eq!(axis_label("2026-11-23", Interval::Week, 26), "Nov 23");
        assert_eq!(axis_label("2026-11-23", Interval::Week, 53), "Nov 2026");
        assert_eq!(axis_label("2026-11-01", Interval::Month, 2), "Nov 2026");
        assert_eq!(
            bucket_label("2026-11-24", Interval::Day),
            "Tue, Nov 24, 2026"
        );
        assert_eq!(
            bucket_label("2026-11-02", Interval::Week),
            "Week of Nov 2, 2026"
        );
        assert_eq!(bucket_label("2026-11-01", Interval::Month), "Nov 2026");
        assert_eq!(bucket_label("later", Interval::Week), "later");
        assert_eq!(count_phrase(1, Interval::Day), "1 day");
        assert_eq!(count_phrase(30, Interval::Day), "30 days");
        assert_eq!(count_phrase(53, Interval::Week), "53 weeks");
        assert_eq!(count_phrase(12, Interval::Month), "12 months");
        assert_eq!(Interval::Week.column_title(), "Week starting");
    }

    #[test]
    fn goes_back_whole_buckets() {
        let day = |text: &str| parse_date(text).unwrap();
        assert_eq!(
            format_date(buckets_before(day("2026-11-16"), 53, Interval::Week)),
            "2025-11-10"
        );
        assert_eq!(
            format_date(buckets_before(day("2025-11-01"), 13, Interval::Month)),
            "2024-10-01"
        );
        assert_eq!(
            format_date(buckets_before(day("2026-10-26"), 30, Interval::Day)),
            "2026-09-26"
        );
    }
}
