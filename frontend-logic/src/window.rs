//! The dashboard's time window: how many days, the last day, the time zone.

use crate::dates::{add_days, days_between};

/// Shortest and longest windows the API serves.
pub const MIN_DAYS: u32 = 1;
pub const MAX_DAYS: u32 = 366;

/// The preset lengths of the period control.
pub const PRESETS: [u32; 3] = [7, 30, 90];

/// A window of `total_days` days ending on `end` (inclusive), cut in `tz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub total_days: u32,
    /// ISO date of the last day.
    pub end: String,
    pub tz: String,
}

/// A day count from user input, kept within 1..=366 (`None` when not a number).
pub fn parse_days(text: &str) -> Option<u32> {
    let value: i64 = text.trim().parse().ok()?;
    Some(value.clamp(i64::from(MIN_DAYS), i64::from(MAX_DAYS)) as u32)
}

impl Window {
    pub fn new(total_days: u32, end: impl Into<String>, tz: impl Into<String>) -> Self {
        Window {
            total_days: total_days.clamp(MIN_DAYS, MAX_DAYS),
            end: end.into(),
            tz: tz.into(),
        }
    }

    /// The window just before this one, of the same length (for the change).
    pub fn previous(&self) -> Window {
        Window {
            total_days: self.total_days,
            end: add_days(&self.end, -i64::from(self.total_days))
                .unwrap_or_else(|| self.end.clone()),
            tz: self.tz.clone(),
        }
    }

    /// The first day (inclusive).
    pub fn start(&self) -> String {
        add_days(&self.end, 1 - i64::from(self.total_days)).unwrap_or_else(|| self.end.clone())
    }

    /// Moves the end by `days` (negative: back in time), never past `today`.
    pub fn step(&self, days: i64, today: &str) -> Window {
        let mut end = add_days(&self.end, days).unwrap_or_else(|| self.end.clone());
        if days_between(today, &end).is_some_and(|ahead| ahead > 0) {
            end = today.to_string();
        }
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
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("total_days", self.total_days.to_string()),
            ("end", self.end.clone()),
            ("tz", self.tz.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_lengths() {
        assert_eq!(Window::new(0, "2026-11-24", "UTC").total_days, 1);
        assert_eq!(Window::new(1000, "2026-11-24", "UTC").total_days, 366);
        assert_eq!(parse_days("45"), Some(45));
        assert_eq!(parse_days(" 0 "), Some(1));
        assert_eq!(parse_days("9999"), Some(366));
        assert_eq!(parse_days("-3"), Some(1));
        assert_eq!(parse_days("abc"), None);
        assert_eq!(parse_days(""), None);
    }

    #[test]
    fn previous_window_ends_where_this_one_starts() {
        let window = Window::new(30, "2026-11-24", "Europe/Paris");
        assert_eq!(window.start(), "2026-10-26");
        let previous = window.previous();
        assert_eq!(previous.end, "2026-10-25");
        assert_eq!(previous.total_days, 30);
        assert_eq!(previous.tz, "Europe/Paris");
        assert_eq!(Window::new(1, "2026-11-24", "UTC").start(), "2026-11-24");
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
    fn builds_query_pairs() {
        let window = Window::new(7, "2026-11-24", "America/New_York");
        assert_eq!(
            window.query_pairs(),
            vec![
                ("total_days", "7".to_string()),
                ("end", "2026-11-24".to_string()),
                ("tz", "America/New_York".to_string()),
            ]
        );
    }
}
