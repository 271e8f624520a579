//! The query's parameters, validated before anything runs: every mistake has its own 400 code.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::window::{Interval, Window};
use crate::error::ApiError;

/// The seed's query parameters and ours, as they arrive (all text, so that a wrong type is our
/// own 400 rather than a generic one).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParams {
    /// An enabled object of the source, e.g. `Charge`.
    #[param(example = "Charge")]
    pub object_name: Option<String>,
    /// `count` (default), `sum`, `average`, `min`, `max`, `count_distinct`.
    #[param(
        pattern = "^(count|sum|average|min|max|count_distinct)?$",
        example = "sum"
    )]
    pub operator: Option<String>,
    /// Group-by field, dot paths for nested fields (default `object`).
    #[param(example = "currency")]
    pub field_name: Option<String>,
    /// The field sum/average/min/max/count_distinct read, e.g. `amount`.
    #[param(example = "amount")]
    pub value_field: Option<String>,
    /// The unix-seconds field days are cut on (default `created`).
    pub date_field: Option<String>,
    /// `weekly` (7 days) or `monthly` (30 days, the default).
    #[param(pattern = "^(weekly|monthly)?$", example = "monthly")]
    pub period: Option<String>,
    /// Overrides the period's length: 1..366 days by day, up to 3660 by week or month (at
    /// most 400 bars).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3660, example = 30)]
    pub total_days: Option<String>,
    /// The window's last day (ISO date, default today in `tz`).
    #[param(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", example = "2026-11-30")]
    pub end: Option<String>,
    /// IANA time zone (default UTC); days are cut at midnight there.
    #[param(example = "Europe/Paris")]
    pub tz: Option<String>,
    /// `day` (default), `week` (Monday to Sunday) or `month`: what one bar covers. The window
    /// is widened to whole weeks or months.
    #[param(pattern = "^(day|week|month)?$", example = "day")]
    pub interval: Option<String>,
    /// How many groups `labelZ` keeps (1..100, default 20): the largest by absolute total;
    /// the others are summed into `(other groups)`.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    pub groups: Option<String>,
}

/// Window parameters only: `/api/v1/metrics/{id}/series`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// `weekly` (7 days) or `monthly` (30 days, the default).
    #[param(pattern = "^(weekly|monthly)?$", example = "monthly")]
    pub period: Option<String>,
    /// Overrides the period's length: 1..366 days by day, up to 3660 by week or month (at
    /// most 400 bars).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3660, example = 30)]
    pub total_days: Option<String>,
    /// The window's last day (ISO date, default today in `tz`).
    #[param(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", example = "2026-11-30")]
    pub end: Option<String>,
    /// IANA time zone (default UTC).
    #[param(example = "Europe/Paris")]
    pub tz: Option<String>,
    /// `day` (default), `week` (Monday to Sunday) or `month`: what one bar covers.
    #[param(pattern = "^(day|week|month)?$", example = "day")]
    pub interval: Option<String>,
    /// How many groups `labelZ` keeps (1..100, default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    pub groups: Option<String>,
}

/// What every series request says of its window and its groups.
pub trait ShapeParams {
    fn period(&self) -> Option<&str>;
    fn total_days(&self) -> Option<&str>;
    fn end(&self) -> Option<&str>;
    fn tz(&self) -> Option<&str>;
    fn interval(&self) -> Option<&str>;
    fn groups(&self) -> Option<&str>;

    /// The window and the number of groups kept, each mistake with its own 400.
    fn shape(&self) -> Result<(Window, usize), ApiError> {
        let window = parse_window(
            self.period(),
            self.total_days(),
            self.end(),
            self.tz(),
            self.interval(),
        )?;
        Ok((window, parse_groups(self.groups())?))
    }
}

macro_rules! shape_params {
    ($($params:ty),*) => {$(
        impl ShapeParams for $params {
            fn period(&self) -> Option<&str> { self.period.as_deref() }
            fn total_days(&self) -> Option<&str> { self.total_days.as_deref() }
            fn end(&self) -> Option<&str> { self.end.as_deref() }
            fn tz(&self) -> Option<&str> { self.tz.as_deref() }
            fn interval(&self) -> Option<&str> { self.interval.as_deref() }
            fn groups(&self) -> Option<&str> { self.groups.as_deref() }
        }
    )*};
}
shape_params!(QueryParams, WindowParams);

/// Groups kept in `labelZ` unless the request says otherwise.
pub const DEFAULT_GROUPS: usize = 20;
/// The most groups a request may ask for.
pub const MAX_GROUPS: usize = 100;
/// The most days a window may cover (ten years), and the most bars it may have.
pub const MAX_DAYS: u32 = 3660;
pub const MAX_BUCKETS: usize = 400;
/// The most days charted one bar a day.
pub const MAX_DAILY_DAYS: u32 = 366;

/// `groups`: 1..100, default 20.
pub fn parse_groups(groups: Option<&str>) -> Result<usize, ApiError> {
    match groups.filter(|g| !g.is_empty()) {
        None => Ok(DEFAULT_GROUPS),
        Some(text) => match text.parse::<usize>() {
            Ok(groups @ 1..=MAX_GROUPS) => Ok(groups),
            _ => Err(ApiError::bad_request(
                "invalid_groups",
                format!("`groups` must be a whole number from 1 to {MAX_GROUPS}."),
            )),
        },
    }
}

fn parse_interval(interval: Option<&str>) -> Result<Interval, ApiError> {
    match interval.filter(|i| !i.is_empty()) {
        None | Some("day") => Ok(Interval::Day),
        Some("week") => Ok(Interval::Week),
        Some("month") => Ok(Interval::Month),
        Some(other) => Err(ApiError::bad_request(
            "invalid_interval",
            format!("Unknown interval `{other}`: use day, week or month."),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Count,
    Sum,
    Average,
    Min,
    Max,
    CountDistinct,
}

impl Operator {
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        Ok(match value.trim().to_ascii_lowercase().as_str() {
            "count" => Operator::Count,
            "sum" => Operator::Sum,
            "average" | "avg" | "mean" => Operator::Average,
            "min" => Operator::Min,
            "max" => Operator::Max,
            "count_distinct" => Operator::CountDistinct,
            other => {
                return Err(ApiError::bad_request(
                    "invalid_operator",
                    format!(
                        "Unknown operator `{other}`: use count, sum, average, min, max or \
                         count_distinct."
                    ),
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Count => "count",
            Operator::Sum => "sum",
            Operator::Average => "average",
            Operator::Min => "min",
            Operator::Max => "max",
            Operator::CountDistinct => "count_distinct",
        }
    }

    pub fn needs_value(self) -> bool {
        self != Operator::Count
    }
}

/// A dot path into an object: `billing_details.address.country`, `items.data.0.price.id`.
pub fn parse_path(value: &str, parameter: &str) -> Result<Vec<String>, ApiError> {
    let segments: Vec<String> = value.trim().split('.').map(String::from).collect();
    let valid = value.len() <= 200
        && segments.len() <= 10
        && segments.iter().all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if valid {
        Ok(segments)
    } else {
        Err(ApiError::bad_request(
            "invalid_field",
            format!(
                "`{parameter}` must be a field name or a dot path of names (letters, digits, _), \
                 e.g. `billing_details.address.country`."
            ),
        ))
    }
}

/// The window of days: `period` / `total_days`, `end`, `tz`, `interval`.
pub fn parse_window(
    period: Option<&str>,
    total_days: Option<&str>,
    end: Option<&str>,
    tz: Option<&str>,
    interval: Option<&str>,
) -> Result<Window, ApiError> {
    let interval = parse_interval(interval)?;
    let tz: Tz = match tz.filter(|tz| !tz.is_empty()) {
        None => chrono_tz::UTC,
        Some(name) => name.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_timezone",
                format!("`{name}` is not an IANA time zone (e.g. `Europe/Paris`, `UTC`)."),
            )
        })?,
    };
    let period_days = match period.filter(|p| !p.is_empty()) {
        None | Some("monthly") => 30,
        Some("weekly") => 7,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_period",
                format!("Unknown period `{other}`: use weekly or monthly (or total_days)."),
            ))
        }
    };
    let days = match total_days.filter(|d| !d.is_empty()) {
        None => period_days,
        Some(text) => {
            let most = match interval {
                Interval::Day => MAX_DAILY_DAYS,
                Interval::Week | Interval::Month => MAX_DAYS,
            };
            match text.parse::<u32>() {
                Ok(days) if (1..=most).contains(&days) => days,
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_total_days",
                        format!(
                            "`total_days` must be a whole number of days from 1 to {most} by \
                             {} (up to {MAX_DAYS} by week or month).",
                            interval.as_str()
                        ),
                    ))
                }
            }
        }
    };
    let last_day = match end.filter(|e| !e.is_empty()) {
        None => chrono::Utc::now().with_timezone(&tz).date_naive(),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|day| (1970..=9999).contains(&chrono::Datelike::year(day)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_end",
                    "`end` must be an ISO date (YYYY-MM-DD), e.g. `2026-11-24`.",
                )
            })?,
    };
    let window = Window::with_interval(tz, last_day, days, interval);
    if window.buckets() > MAX_BUCKETS {
        return Err(ApiError::bad_request(
            "invalid_total_days",
            format!(
                "{days} days make {} bars by {}: a window has at most {MAX_BUCKETS}; use a longer \
                 interval.",
                window.buckets(),
                interval.as_str()
            ),
        ));
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_parameter_has_its_code() {
        let code = |result: Result<Window, ApiError>| result.unwrap_err().code();
        assert_eq!(
            code(parse_window(None, None, None, Some("Mars/Olympus"), None)),
            "invalid_timezone"
        );
        assert_eq!(
            code(parse_window(Some("daily"), None, None, None, None)),
            "invalid_period"
        );
        for bad in ["0", "367", "-1", "7.5", "x"] {
            assert_eq!(
                code(parse_window(None, Some(bad), None, None, None)),
                "invalid_total_days"
            );
        }
        for (days, interval) in [("367", "day"), ("2801", "week"), ("3661", "month")] {
            assert_eq!(
                code(parse_window(None, Some(days), None, None, Some(interval))),
                "invalid_total_days",
                "{days} by {interval}"
            );
        }
        assert_eq!(
            code(parse_window(None, None, None, None, Some("year"))),
            "invalid_interval"
        );
        for bad in ["0", "101", "x", "-3"] {
            assert_eq!(
                parse_groups(Some(bad)).unwrap_err().code(),
                "invalid_groups"
            );
        }
        for bad in ["2026-13-01", "yesterday", "0000-01-01"] {
            assert_eq!(
                code(parse_window(None, None, Some(bad), None, None)),
                "invalid_end"
            );
        }
        assert_eq!(
            Operator::parse("median").unwrap_err().code(),
            "invalid_operator"
        );
        for bad in ["", "a..b", "a b", "x;drop", &"a.".repeat(11)] {
            assert_eq!(
                parse_path(bad, "field_name").unwrap_err().code(),
                "invalid_field",
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_are_the_seeds() {
        let window = parse_window(None, None, Some("2026-11-24"), None, None).unwrap();
        assert_eq!(window.days(), 30);
        assert_eq!(window.tz, chrono_tz::UTC);
        assert_eq!(
            parse_window(Some("weekly"), None, Some("2026-11-24"), None, None)
                .unwrap()
                .days(),
            7
        );
        assert_eq!(
            parse_window(Some("weekly"), Some("90"), Some("2026-11-24"), None, None)
                .unwrap()
                .days(),
            90
        );
        let months =
            parse_window(None, Some("3660"), Some("2026-11-24"), None, Some("month")).unwrap();
        assert_eq!(months.buckets(), 121);
        let weeks =
            parse_window(None, Some("2793"), Some("2026-11-24"), None, Some("week")).unwrap();
        assert!(weeks.buckets() <= MAX_BUCKETS);
        assert_eq!(parse_groups(None).unwrap(), DEFAULT_GROUPS);
        assert_eq!(
            parse_path("billing_details.address.country", "f")
                .unwrap()
                .len(),
            3
        );
    }
}
