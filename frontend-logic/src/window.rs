//! The dashboard's time window: how many days, the last day, the time zone, and what one bar
//! covers (a day, a week or a month).

use crate::dates::{add_days, add_months, days_between, format_date, parse_date};
use crate::interval::{
    bucket_count, bucket_end, bucket_start, buckets_before, covered, default_interval,
    is_available, Interval,
};

/// Shortest and longest windows the API serves.
pub const MIN_DAYS: u32 = 1;
pub const MAX_DAYS: u32 = 3660;

/// The preset lengths of the period control: a week, a month, a quarter, then 1, 2, 5 and 10
/// years (of 365 days: the API counts days, not calendar years).
pub const PRESETS: [u32; 7] = [7, 30, 90, 365, 730, 1825, 3650];

const YEAR_DAYS: u32 = 365;

/// A window of `total_days` days ending on `end` (inclusive), cut in `tz`, one bar per
/// `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub total_days: u32,
    /// ISO date of the last day.
    pub end: String,
    pub tz: String,
    pub interval: Interval,
}

/// How far the period control's steps move a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stride {
    /// The window's own length: the next step shows the window just before (or after).
    Length,
    /// About one bar: 7 days for daily and weekly bars, a calendar month for monthly ones.
    Bar,
}

/// A day count from user input, kept within 1..=3660 (`None` when not a number).
pub fn parse_days(text: &str) -> Option<u32> {
    let value: i64 = text.trim().parse().ok()?;
    Some(value.clamp(i64::from(MIN_DAYS), i64::from(MAX_DAYS)) as u32)
}

/// A window length for people: `7 days`, `1 year`, `10 years` (whole multiples of 365 days read
/// as years).
pub fn length_label(days: u32) -> String {
    match days {
        1 => "1 day".into(),
        YEAR_DAYS => "1 year".into(),
        _ if days > YEAR_DAYS && days.is_multiple_of(YEAR_DAYS) => {
            format!("{} years", days / YEAR_DAYS)
        }
        _ => format!("{days} days"),
    }
}

/// A window length on a small button: `7d`, `90d`, `1y`, `10y`.
pub fn length_short_label(days: u32) -> String {
    if days >= YEAR_DAYS && days.is_multiple_of(YEAR_DAYS) {
        format!("{}y", days / YEAR_DAYS)
    } else {
        format!("{days}d")
    }
}

impl Window {
    /// A window of `total_days` (kept within 1..=3660) with the interval that length starts with.
    pub fn new(total_days: u32, end: impl Into<String>, tz: impl Into<String>) -> Self {
        let total_days = total_days.clamp(MIN_DAYS, MAX_DAYS);
        Window {
            total_days,
            end: end.into(),
            tz: tz.into(),
            interval: default_interval(total_days),
        }
    }

    /// The same window with another length, and the interval that length starts with (a
    /// new length is a new question: days for a month, months for ten years).
    pub fn with_days(&self, total_days: u32) -> Window {
        let total_days = total_days.clamp(MIN_DAYS, MAX_DAYS);
        Window {
            total_days,
            interval: default_interval(total_days),
            ..self.clone()
        }
    }

    /// The same window with another interval; unchanged when the API would refuse that interval
    /// for this length (daily bars over 366 days, more than 400 bars).
    pub fn with_interval(&self, interval: Interval) -> Window {
        if is_available(self.total_days, interval) {
            Window {
                interval,
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// The first day asked for (inclusive).
    pub fn start(&self) -> String {
        add_days(&self.end, 1 - i64::from(self.total_days)).unwrap_or_else(|| self.end.clone())
    }

    /// First and last day of what the series covers: the API widens the window to whole weeks
    /// or months (the same as `start()..=end` for daily bars).
    pub fn covered(&self) -> (String, String) {
        covered(&self.start(), &self.end, self.interval)
            .unwrap_or_else(|| (self.start(), self.end.clone()))
    }

    /// How many bars the series has.
    pub fn bars(&self) -> u32 {
        bucket_count(&self.start(), &self.end, self.interval).unwrap_or(self.total_days)
    }

    /// The window just before this one, for the change: as many bars, ending the day before
    /// this one's first bar, so that the two never share a week or a month.
    pub fn previous(&self) -> Window {
        let Some(start) = parse_date(&self.start()) else {
            return self.clone();
        };
        let first = bucket_start(start, self.interval);
        let previous_end = first - 1;
        let previous_first = buckets_before(first, self.bars(), self.interval);
        let whole = previous_end - previous_first + 1;
        // Asking for whole buckets leaves the API nothing to widen. When that is longer than the
        // API serves, start on the first bucket's last day: widened, it is the same buckets (a
        // custom length near 3,660 days by months may still lose its oldest month to the limit).
        let total_days = if whole <= i64::from(MAX_DAYS) {
            whole
        } else {
            (previous_end - bucket_end(previous_first, self.interval) + 1).min(i64::from(MAX_DAYS))
        };
        Window {
            total_days: u32::try_from(total_days).unwrap_or(self.total_days),
            end: format_date(previous_end),
            tz: self.tz.clone(),
            interval: self.interval,
        }
    }

    /// Moves the end by `days` (negative: back in time), never past `today`.
    pub fn step(&self, days: i64, today: &str) -> Window {
        let end = add_days(&self.end, days).unwrap_or_else(|| self.end.clone());
        self.ending(end, today)
    }

    /// Moves the window back (`forward` false) or forward by a stride, never past `today`.
    pub fn moved(&self, stride: Stride, forward: bool, today: &str) -> Window {
        let sign = if forward { 1 } else { -1 };
        match (stride, self.interval) {
            (Stride::Length, _) => self.step(sign * i64::from(self.total_days), today),
            (Stride::Bar, Interval::Month) => match parse_date(&self.end) {
                Some(end) => self.ending(format_date(add_months(end, sign)), today),
                None => self.clone(),
            },
            (Stride::Bar, Interval::Day | Interval::Week) => self.step(sign * 7, today),
        }
    }

    /// How a stride reads on its button (`30d`, `1y`, `1mo`) and to a screen reader (`30 days`,
    /// `1 year`, `1 month`).
    pub fn stride_labels(&self, stride: Stride) -> (String, String) {
        match (stride, self.interval) {
            (Stride::Length, _) => (
                length_short_label(self.total_days),
                length_label(self.total_days),
            ),
            (Stride::Bar, Interval::Month) => ("1mo".into(), "1 month".into()),
            (Stride::Bar, Interval::Day | Interval::Week) => ("7d".into(), "7 days".into()),
        }
    }

    /// This window ending on `end`, or on `today` when `end` is later.
    fn ending(&self, end: String, today: &str) -> Window {
        let end = if days_between(today, &end).is_some_and(|ahead| ahead > 0) {
            today.to_string()
        } else {
            end
        };
        Window {
            end,
            ..self.clone()
        }
    }

    /// Whether the window already ends today (or later): stepping forward does nothing.
    pub fn is_current(&self, today: &str) -> bool {
        days_between(today, &self.end).is_none_or(|ahead| ahead >= 0)
    }

    /// The query parameters of `/api/v1/metrics/{id}/series` and `/connect/query/{slug}`.
    /// `interval` goes along even when it is `day`, the API's default: harmless, and explicit.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("total_days", self.total_days.to_string()),
            ("end", self.end.clone()),
            ("tz", self.tz.clone()),
            ("interval", self.interval.as_str().to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_lengths() {
        assert_eq!(Window::new(0, "2026-11-24", "UTC").total_days, 1);
        assert_eq!(Window::new(5000, "2026-11-24", "UTC").total_days, 3660);
        assert_eq!(parse_days("45"), Some(45));
        assert_eq!(parse_days("400"), Some(400));
        assert_eq!(parse_days(" 0 "), Some(1));
        assert_eq!(parse_days("9999"), Some(3660));
        assert_eq!(parse_days("-3"), Some(1));
        assert_eq!(parse_days("abc"), None);
        assert_eq!(parse_days(""), None);
    }

    #[test]
    fn a_new_length_picks_its_interval() {
        let window = Window::new(30, "2026-11-24", "UTC");
        assert_eq!(window.interval, Interval::Day);
        assert_eq!(window.with_days(365).interval, Interval::Week);
        assert_eq!(window.with_days(3650).interval, Interval::Month);
        assert_eq!(window.with_days(9000).total_days, 3660);
        // The user's choice holds while it is valid...
        let weekly = window.with_interval(Interval::Week);
        assert_eq!(weekly.interval, Interval::Week);
        assert_eq!(weekly.total_days, 30);
        // ...but not daily bars over ten years, nor weeks past 400 of them.
        let long = window.with_days(3650);
        assert_eq!(long.with_interval(Interval::Day), long);
        assert_eq!(long.with_interval(Interval::Week), long);
        // A new length starts over from that length's interval.
        assert_eq!(weekly.with_days(7).interval, Interval::Day);
    }

    #[test]
    fn covers_whole_buckets() {
        // 2026-11-24 is a Tuesday.
        let year = Window::new(365, "2026-11-24", "UTC");
        assert_eq!(year.start(), "2025-11-25");
        assert_eq!(year.covered(), ("2025-11-24".into(), "2026-11-29".into()));
        assert_eq!(year.bars(), 53);
        let monthly = year.with_interval(Interval::Month);
        assert_eq!(
            monthly.covered(),
            ("2025-11-01".into(), "2026-11-30".into())
        );
        assert_eq!(monthly.bars(), 13);
        let month = Window::new(30, "2026-11-24", "UTC");
        assert_eq!(month.covered(), ("2026-10-26".into(), "2026-11-24".into()));
        assert_eq!(month.bars(), 30);
    }

    #[test]
    fn previous_window_ends_where_this_one_starts() {
        let window = Window::new(30, "2026-11-24", "Europe/Paris");
        assert_eq!(window.start(), "2026-10-26");
        let previous = window.previous();
        assert_eq!(previous.end, "2026-10-25");
        assert_eq!(previous.total_days, 30);
        assert_eq!(previous.tz, "Europe/Paris");
        assert_eq!(previous.interval, Interval::Day);
        assert_eq!(Window::new(1, "2026-11-24", "UTC").start(), "2026-11-24");
    }

    #[test]
    fn previous_window_of_weeks_and_months_shares_no_bucket() {
        let year = Window::new(365, "2026-11-24", "UTC");
        let previous = year.previous();
        assert_eq!(previous.end, "2025-11-23");
        assert_eq!(previous.total_days, 53 * 7);
        assert_eq!(previous.interval, Interval::Week);
        assert_eq!(
            previous.covered(),
            ("2024-11-18".into(), "2025-11-23".into())
        );
        assert_eq!(previous.bars(), 53);

        let five_years = Window::new(1825, "2026-11-24", "UTC");
        assert_eq!(
            five_years.covered(),
            ("2021-11-01".into(), "2026-11-30".into())
        );
        let previous = five_years.previous();
        assert_eq!(
            previous.covered(),
            ("2016-10-01".into(), "2021-10-31".into())
        );
        assert_eq!(previous.bars(), 61);
    }

    #[test]
    fn previous_window_holds_as_many_bars_within_the_longest_window() {
        let first = parse_date("2024-01-01").unwrap();
        for days in PRESETS.into_iter().chain([93, 366, 400, 2794]) {
            for end in (first..first + 3 * 365).step_by(5) {
                let window = Window::new(days, format_date(end), "UTC");
                for interval in Interval::ALL {
                    let window = window.with_interval(interval);
                    let previous = window.previous();
                    let what = format!("{days} days to {} by {interval:?}", window.end);
                    assert!(previous.total_days <= MAX_DAYS, "{what}");
                    assert_eq!(previous.interval, window.interval, "{what}");
                    assert_eq!(previous.bars(), window.bars(), "{what}");
                    assert_eq!(
                        add_days(&previous.covered().1, 1),
                        Some(window.covered().0),
                        "{what}"
                    );
                }
            }
        }
        // At the very longest custom window by months, the limit may cost the oldest month.
        let longest = Window::new(3660, "2026-11-24", "UTC");
        let previous = longest.previous();
        assert!(previous.total_days <= MAX_DAYS);
        assert!(previous.bars() + 1 >= longest.bars());
        assert_eq!(
            add_days(&previous.covered().1, 1),
            Some(longest.covered().0)
        );
    }

    #[test]
    fn steps_back_and_forward_but_not_into_the_future() {
        let today = "2026-11-24";
        let window = Window::new(30, today, "UTC");
        assert!(window.is_current(today));
        let back = window.step(-30, today);
        assert_eq!(back.end, "2026-10-25");
        assert!(!back.is_current(today));
        assert_eq!(back.step(-7, today).end, "2026-10-18");
        assert_eq!(back.step(30, today).end, today);
        assert_eq!(back.step(7, today).step(30, today).end, today);
        assert_eq!(window.step(7, today).end, today);
    }

    #[test]
    fn steps_by_the_window_length_or_about_one_bar() {
        let today = "2026-11-24";
        let month = Window::new(30, today, "UTC");
        assert_eq!(month.moved(Stride::Length, false, today).end, "2026-10-25");
        assert_eq!(month.moved(Stride::Bar, false, today).end, "2026-11-17");
        let year = month.with_days(365);
        let back = year.moved(Stride::Length, false, today);
        assert_eq!(back.end, "2025-11-24");
        assert_eq!(back.total_days, 365);
        assert_eq!(back.interval, Interval::Week);
        assert_eq!(back.moved(Stride::Length, true, today).end, today);
        assert_eq!(back.moved(Stride::Bar, true, today).end, "2025-12-01");
        let ten_years = month.with_days(3650);
        assert_eq!(
            ten_years.moved(Stride::Length, false, today).end,
            "2016-11-26"
        );
        let monthly = Window::new(1825, "2026-03-31", "UTC");
        assert_eq!(monthly.moved(Stride::Bar, false, today).end, "2026-02-28");
        assert_eq!(monthly.moved(Stride::Bar, true, today).end, "2026-04-30");
        // Never past today, whatever the stride.
        assert_eq!(monthly.moved(Stride::Length, true, today).end, today);
        let recent = Window::new(1825, "2026-11-10", "UTC");
        assert_eq!(recent.moved(Stride::Bar, true, today).end, today);
    }

    #[test]
    fn labels_lengths_and_strides() {
        assert_eq!(length_label(1), "1 day");
        assert_eq!(length_label(7), "7 days");
        assert_eq!(length_label(365), "1 year");
        assert_eq!(length_label(730), "2 years");
        assert_eq!(length_label(3650), "10 years");
        assert_eq!(length_label(400), "400 days");
        assert_eq!(length_short_label(30), "30d");
        assert_eq!(length_short_label(1825), "5y");
        assert_eq!(length_short_label(366), "366d");
        let window = Window::new(365, "2026-11-24", "UTC");
        assert_eq!(
            window.stride_labels(Stride::Length),
            ("1y".into(), "1 year".into())
        );
        assert_eq!(
            window.stride_labels(Stride::Bar),
            ("7d".into(), "7 days".into())
        );
        assert_eq!(
            window.with_days(3650).stride_labels(Stride::Bar),
            ("1mo".into(), "1 month".into())
        );
    }

    #[test]
    fn builds_query_pairs() {
        let window = Window::new(7, "2026-11-24", "America/New_York");
        assert_eq!(
            window.query_pairs(),
            vec![
                ("total_days", "7".to_string()),
                ("end", "2026-11-24".to_string()),
                ("tz", "America/New_York".to_string()),
                ("interval", "day".to_string()),
            ]
        );
        assert_eq!(
            window.with_days(3650).query_pairs()[3],
            ("interval", "month".to_string())
        );
    }
}
