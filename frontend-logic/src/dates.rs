//! Calendar arithmetic on ISO dates (`2026-11-24`) and RFC 3339 timestamps, without a date crate.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Day of the week of a day number: 0 for Monday to 6 for Sunday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// The first day of the month holding a day number.
pub fn month_start(days: i64) -> i64 {
    let (year, month, _) = civil_from_days(days);
    days_from_civil(year, month, 1)
}

/// The same day of the month `months` months later (earlier, when negative), on the month's
/// last day when it is shorter (Mar 31 - 1 month = Feb 28).
pub fn add_months(days: i64, months: i64) -> i64 {
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + i64::from(month) - 1 + months;
    let (year, month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    days_from_civil(year, month, day.min(days_in_month(year, month)))
}

/// `YYYY-MM-DD` as a day number; `None` for anything else (including 2026-02-30).
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day) = (i64::from(digits(year)?), digits(month)?, digits(day)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// A day number as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The ISO date `n` days after `date` (before, when negative).
pub fn add_days(date: &str, n: i64) -> Option<String> {
    parse_date(date).map(|days| format_date(days + n))
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    Some(parse_date(to)? - parse_date(from)?)
}

/// Seconds since the epoch of an RFC 3339 timestamp (`2026-11-24T10:00:00Z`,
/// `2026-11-24T10:00:00.123+02:00`; a space instead of `T` and a missing offset, read as UTC,
/// are accepted too).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() < 19 || !text.is_char_boundary(10) || !text.is_char_boundary(19) {
        return None;
    }
    let days = parse_date(&text[..10])?;
    let separator = text.as_bytes()[10];
    if !matches!(separator, b'T' | b't' | b' ') {
        return None;
    }
    let clock = &text[11..19];
    let mut fields = clock.split(':');
    let (hour, minute, second) = (
        digits(fields.next()?)?,
        digits(fields.next()?)?,
        digits(fields.next()?)?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = &fraction[end..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = &rest[1..];
            let (hours, minutes) = match body.split_once(':') {
                Some((h, m)) => (h, m),
                None if body.len() == 4 => body.split_at(2),
                None => return None,
            };
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            sign * (i64::from(digits(hours)?) * 3600 + i64::from(digits(minutes)?) * 60)
        }
    };
    Some(
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset,
    )
}

/// `Nov 24` for an axis tick; the text itself when it is not a date.
pub fn short_label(date: &str) -> String {
    match parse_date(date) {
        Some(days) => {
            let (_, month, day) = civil_from_days(days);
            format!("{} {day}", MONTHS[(month as usize - 1) % 12])
        }
        None => date.to_string(),
    }
}

/// `Tue, Nov 24, 2026` for a tooltip; the text itself when it is not a date.
pub fn long_label(date: &str) -> String {
    match parse_date(date) {
        Some(days) => {
            let (year, month, day) = civil_from_days(days);
            format!(
                "{}, {} {day}, {year}",
                WEEKDAYS[weekday(days) as usize],
                MONTHS[(month as usize - 1) % 12]
            )
        }
        None => date.to_string(),
    }
}

/// `Nov 2026`, for a month; the text itself when it is not a date.
pub fn month_label(date: &str) -> String {
    match parse_date(date) {
        Some(days) => {
            let (year, month, _) = civil_from_days(days);
            format!("{} {year}", MONTHS[(month as usize - 1) % 12])
        }
        None => date.to_string(),
    }
}

/// `Nov 24, 2026`; the text itself when it is not a date.
pub fn date_label(date: &str) -> String {
    match parse_date(date) {
        Some(days) => {
            let (year, month, day) = civil_from_days(days);
            format!("{} {day}, {year}", MONTHS[(month as usize - 1) % 12])
        }
        None => date.to_string(),
    }
}

/// The ISO date of an instant (seconds since the epoch) at a UTC offset (seconds east of UTC):
/// the date people there see on their calendar.
pub fn date_at(seconds: i64, offset_seconds: i64) -> String {
    format_date((seconds + offset_seconds).div_euclid(86_400))
}

/// `Nov 1 – Nov 30, 2026` for a window, `Dec 20, 2025 – Jan 18, 2026` across years.
pub fn range_label(from: &str, to: &str) -> String {
    match (parse_date(from), parse_date(to)) {
        (Some(a), Some(b)) => {
            let (ya, ma, da) = civil_from_days(a);
            let (yb, mb, db) = civil_from_days(b);
            let (ma, mb) = (
                MONTHS[(ma as usize - 1) % 12],
                MONTHS[(mb as usize - 1) % 12],
            );
            if a == b {
                date_label(to)
            } else if ya == yb {
                format!("{ma} {da} – {mb} {db}, {yb}")
            } else {
                format!("{ma} {da}, {ya} – {mb} {db}, {yb}")
            }
        }
        _ => format!("{from} – {to}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 59, 60, 11_016, 20_000, 20_513, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}");
        }
    }

    #[test]
    fn parses_and_formats_dates() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("2026-01-01T00"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("abcd-ef-gh"), None);
        assert_eq!(parse_date("+202-01-01"), None);
    }

    #[test]
    fn adds_days_across_months_years_and_leap_days() {
        assert_eq!(add_days("2026-11-24", -30).as_deref(), Some("2026-10-25"));
        assert_eq!(add_days("2026-01-03", -7).as_deref(), Some("2025-12-27"));
        assert_eq!(add_days("2024-02-28", 1).as_deref(), Some("2024-02-29"));
        assert_eq!(add_days("2024-02-29", 366).as_deref(), Some("2025-03-01"));
        assert_eq!(add_days("not a date", 1), None);
        assert_eq!(days_between("2026-10-25", "2026-11-24"), Some(30));
        assert_eq!(days_between("2026-11-24", "2026-10-25"), Some(-30));
    }

    #[test]
    fn finds_weekdays_and_months() {
        let day = |text: &str| parse_date(text).unwrap();
        assert_eq!(weekday(day("2026-11-23")), 0, "a Monday");
        assert_eq!(weekday(day("2026-11-29")), 6, "a Sunday");
        assert_eq!(weekday(day("1969-12-29")), 0, "a Monday before the epoch");
        assert_eq!(format_date(month_start(day("2026-11-24"))), "2026-11-01");
        assert_eq!(format_date(month_start(day("2024-02-29"))), "2024-02-01");
        assert_eq!(format_date(add_months(day("2026-03-31"), -1)), "2026-02-28");
        assert_eq!(format_date(add_months(day("2024-03-31"), -1)), "2024-02-29");
        assert_eq!(format_date(add_months(day("2026-01-15"), -1)), "2025-12-15");
        assert_eq!(format_date(add_months(day("2026-11-01"), 2)), "2027-01-01");
        assert_eq!(
            format_date(add_months(day("2026-11-01"), -120)),
            "2016-11-01"
        );
    }

    #[test]
    fn parses_rfc3339_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00-0130"), Some(5400));
        assert_eq!(
            parse_rfc3339("2026-11-24T10:04:05.123456Z"),
            parse_rfc3339("2026-11-24 10:04:05")
        );
        assert_eq!(
            parse_rfc3339("2026-11-24T10:04:05Z"),
            Some(days_from_civil(2026, 11, 24) * 86_400 + 36_245)
        );
        assert_eq!(parse_rfc3339("2026-11-24"), None);
        assert_eq!(parse_rfc3339("2026-11-24T25:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-11-24T10:00:00+1"), None);
        assert_eq!(parse_rfc3339("2026-11-24T10:00:00."), None);
        assert_eq!(parse_rfc3339("2026-11-24é10:00:00Z"), None);
    }

    #[test]
    fn labels_dates_for_people() {
        assert_eq!(short_label("2026-11-24"), "Nov 24");
        assert_eq!(long_label("2026-11-24"), "Tue, Nov 24, 2026");
        assert_eq!(long_label("1970-01-01"), "Thu, Jan 1, 1970");
        assert_eq!(short_label("week 3"), "week 3");
        assert_eq!(
            range_label("2026-11-01", "2026-11-30"),
            "Nov 1 – Nov 30, 2026"
        );
        assert_eq!(
            range_label("2025-12-20", "2026-01-18"),
            "Dec 20, 2025 – Jan 18, 2026"
        );
        assert_eq!(range_label("2026-11-24", "2026-11-24"), "Nov 24, 2026");
        assert_eq!(date_label("2026-11-24"), "Nov 24, 2026");
        assert_eq!(date_label("soon"), "soon");
        assert_eq!(month_label("2026-11-01"), "Nov 2026");
        assert_eq!(month_label("later"), "later");
    }

    #[test]
    fn dates_instants_at_an_offset() {
        let at = parse_rfc3339("2026-11-24T02:30:00Z").unwrap();
        assert_eq!(date_at(at, 0), "2026-11-24");
        // 21:30 the evening before in New York, 11:30 the same day in Tokyo.
        assert_eq!(date_at(at, -5 * 3600), "2026-11-23");
        assert_eq!(date_at(at, 9 * 3600), "2026-11-24");
        assert_eq!(date_at(-1, 0), "1969-12-31");
    }
}
