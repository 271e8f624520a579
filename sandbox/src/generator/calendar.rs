//! Calendar months for billing periods (Stripe bills "monthly" on the same day of each month, clamped to the
//! month's last day). Civil-date conversions after Howard Hinnant's `days_from_civil` / `civil_from_days`.

use super::timeline::DAY;

pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1)
}

/// `t` moved by `months` calendar months, keeping the time of day and clamping the day of month.
pub(crate) fn add_months(t: i64, months: i64) -> i64 {
    let days = t.div_euclid(DAY);
    let time_of_day = t.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let month_index = year * 12 + (month - 1) + months;
    let (new_year, new_month) = (month_index.div_euclid(12), month_index.rem_euclid(12) + 1);
    let new_day = day.min(days_in_month(new_year, new_month));
    days_from_civil(new_year, new_month, new_day) * DAY + time_of_day
}

/// The start of the billing period `months` after one starting at `anchor`: [`add_months`], except that a day
/// clamped to a shorter month's last day takes that day's last second. Unlike [`add_months`] this never
/// decreases as `anchor` grows (a Nov 29 23:00 anchor and a Nov 30 01:00 one both renew on Feb 28), which keeps
/// renewals a binary search away.
pub(crate) fn period_boundary(anchor: i64, months: i64) -> i64 {
    let moved = add_months(anchor, months);
    let (_, _, day) = civil_from_days(anchor.div_euclid(DAY));
    let (_, _, moved_day) = civil_from_days(moved.div_euclid(DAY));
    if moved_day < day {
        moved.div_euclid(DAY) * DAY + DAY - 1
    } else {
        moved
    }
}

/// The billing period `[start, end)` of a cycle anchored at `anchor`, `step` months long, that contains `t`
/// (the first period when `t` is before the anchor).
pub(crate) fn period_containing(anchor: i64, step: i64, t: i64) -> (i64, i64) {
    if t < anchor {
        return (anchor, period_boundary(anchor, step));
    }
    // Months are 28..31 days: start from an estimate that cannot overshoot, then walk forward.
    let mut cycles = ((t - anchor) / (31 * DAY)) / step.max(1);
    loop {
        let start = period_boundary(anchor, cycles * step);
        let end = period_boundary(anchor, (cycles + 1) * step);
        if t < end {
            return (start, end);
        }
        cycles += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        let jan_31 = days_from_civil(2024, 1, 31) * DAY + 3600;
        assert_eq!(
            add_months(jan_31, 1),
            days_from_civil(2024, 2, 29) * DAY + 3600
        );
        assert_eq!(
            add_months(jan_31, 12),
            days_from_civil(2025, 1, 31) * DAY + 3600
        );
        assert_eq!(
            add_months(jan_31, -2),
            days_from_civil(2023, 11, 30) * DAY + 3600
        );
    }

    #[test]
    fn periods_contain_the_instant() {
        let anchor = days_from_civil(2024, 3, 15) * DAY;
        for offset in [0, 1, 30 * DAY, 400 * DAY, 700 * DAY + 5] {
            let t = anchor + offset;
            for step in [1, 12] {
                let (start, end) = period_containing(anchor, step, t);
                assert!(start <= t && t < end);
            }
        }
    }
}
