//! Report rows are dated, not timed: a row of 2026-11-03 in the account's time zone is stored at
//! 00:00 UTC of 2026-11-03, so charts bucket it on its own date whatever time zone they ask for.
//! Report readers walk history in calendar months.

use chrono::{Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::reader::ReadWindow;

/// The unix second of 00:00 UTC of `day`: where a report row is stored.
pub fn day_instant(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days() * 86_400
}

/// The UTC day of `instant`, saturating at the calendar's ends (windows may be unbounded).
pub fn day_of_instant(instant: i64) -> NaiveDate {
    chrono::Duration::try_days(instant.div_euclid(86_400))
        .and_then(|days| NaiveDate::default().checked_add_signed(days))
        .unwrap_or(if instant < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// The date in `time_zone` at `instant`.
pub fn date_at(time_zone: Tz, instant: i64) -> NaiveDate {
    chrono::DateTime::<Utc>::from_timestamp(instant, 0)
        .unwrap_or_default()
        .with_timezone(&time_zone)
        .date_naive()
}

/// Calendar months from `first` to `last` (inclusive), newest first, as windows of day instants.
pub fn month_windows(first: NaiveDate, last: NaiveDate) -> Vec<ReadWindow> {
    let mut windows = Vec::new();
    let mut month_start = last.with_day(1).unwrap_or(last);
    let mut until = last + chrono::Duration::days(1);
    loop {
        let from = month_start.max(first);
        windows.push(ReadWindow {
            from: Some(day_instant(from)),
            until: day_instant(until),
            cursor: None,
        });
        if from <= first {
            return windows;
        }
        until = month_start;
        month_start = month_start
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(first);
    }
}

/// The window an incremental pass of a report re-reads: the days the provider still revises
/// (`revised_days` before the previous run's day, or before today if that is earlier), to today.
pub fn revised_window(time_zone: Tz, previous_run: i64, now: i64, revised_days: i64) -> ReadWindow {
    let today = date_at(time_zone, now);
    let from = date_at(time_zone, previous_run)
        .min(today)
        .checked_sub_signed(chrono::Duration::days(revised_days))
        .unwrap_or(today);
    ReadWindow {
        from: Some(day_instant(from)),
        until: i64::MAX,
        cursor: None,
    }
}

/// The first and last day a window asks for, up to today (`None`: nothing to ask for); a window
/// unbounded below starts at `earliest`.
pub fn window_days(
    window: &ReadWindow,
    today: NaiveDate,
    earliest: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let first = window.from.map_or(earliest, day_of_instant);
    let last = day_of_instant(window.until.saturating_sub(1)).min(today);
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn incremental_windows_re_read_the_revised_days_up_to_today() {
        let tz = Tz::UTC;
        let now = day_instant(date("2026-11-10")) + 3_600;
        let window = revised_window(tz, now - 86_400, now, 3);
        assert_eq!(window.from, Some(day_instant(date("2026-11-06"))));
        let days = window_days(&window, date("2026-11-10"), date("2020-01-01"));
        assert_eq!(days, Some((date("2026-11-06"), date("2026-11-10"))));
        let future = ReadWindow {
            from: Some(day_instant(date("2026-11-11"))),
            until: i64::MAX,
            cursor: None,
        };
        assert_eq!(
            window_days(&future, date("2026-11-10"), date("2020-01-01")),
            None
        );
    }

    #[test]
    fn backfills_go_month_by_month_newest_first() {
        let windows = month_windows(date("2026-09-20"), date("2026-11-03"));
        let days: Vec<(NaiveDate, NaiveDate)> = windows
            .iter()
            .map(|window| {
                (
                    day_of_instant(window.from.unwrap()),
                    day_of_instant(window.until),
                )
            })
            .collect();
        assert_eq!(
            days,
            vec![
                (date("2026-11-01"), date("2026-11-04")),
                (date("2026-10-01"), date("2026-11-01")),
                (date("2026-09-20"), date("2026-10-01")),
            ]
        );
        assert_eq!(
            month_windows(date("2026-11-03"), date("2026-11-03")).len(),
            1
        );
    }
}
