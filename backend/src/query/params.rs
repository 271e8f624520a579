//! The query's parameters, validated before anything runs: every mistake has its own 400 code.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::window::Window;
use crate::error::ApiError;

/// The seed's query parameters and ours, as they arrive (all text, so that a wrong type is our
/// own 400 rather than a generic one).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParams {
    /// An enabled object of the source, e.g. `Charge`.
    pub object_name: Option<String>,
    /// `count` (default), `sum`, `average`, `min`, `max`, `count_distinct`.
    pub operator: Option<String>,
    /// Group-by field, dot paths for nested fields (default `object`).
    pub field_name: Option<String>,
    /// The field sum/average/min/max/count_distinct read, e.g. `amount`.
    pub value_field: Option<String>,
    /// The unix-seconds field days are cut on (default `created`).
    pub date_field: Option<String>,
    /// `weekly` (7 days) or `monthly` (30 days, the default).
    pub period: Option<String>,
    /// Overrides the period's length: 1..366 days.
    pub total_days: Option<String>,
    /// The window's last day (ISO date, default today in `tz`).
    pub end: Option<String>,
    /// IANA time zone (default UTC); days are cut at midnight there.
    pub tz: Option<String>,
}

/// Window parameters only: `/api/v1/metrics/{id}/series`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// `weekly` (7 days) or `monthly` (30 days, the default).
    pub period: Option<String>,
    /// Overrides the period's length: 1..366 days.
    pub total_days: Option<String>,
    /// The window's last day (ISO date, default today in `tz`).
    pub end: Option<String>,
    /// IANA time zone (default UTC).
    pub tz: Option<String>,
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

/// The window of days: `period` / `total_days`, `end`, `tz`.
pub fn parse_window(
    period: Option<&str>,
    total_days: Option<&str>,
    end: Option<&str>,
    tz: Option<&str>,
) -> Result<Window, ApiError> {
    let tz: Tz = match tz.map(str::trim).filter(|tz| !tz.is_empty()) {
        None => chrono_tz::UTC,
        Some(name) => name.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_timezone",
                format!("`{name}` is not an IANA time zone (e.g. `Europe/Paris`, `UTC`)."),
            )
        })?,
    };
    let period_days = match period.map(str::trim).filter(|p| !p.is_empty()) {
        None | Some("monthly") => 30,
        Some("weekly") => 7,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_period",
                format!("Unknown period `{other}`: use weekly or monthly (or total_days)."),
            ))
        }
    };
    let days = match total_days.map(str::trim).filter(|d| !d.is_empty()) {
        None => period_days,
        Some(text) => match text.parse::<u32>() {
            Ok(days @ 1..=366) => days,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_total_days",
                    "`total_days` must be a whole number of days from 1 to 366.",
                ))
            }
        },
    };
    let last_day = match end.map(str::trim).filter(|e| !e.is_empty()) {
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
    Ok(Window::new(tz, last_day, days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_parameter_has_its_code() {
        let code = |result: Result<Window, ApiError>| result.unwrap_err().code();
        assert_eq!(
            code(parse_window(None, None, None, Some("Mars/Olympus"))),
            "invalid_timezone"
        );
        assert_eq!(
            code(parse_window(Some("daily"), None, None, None)),
            "invalid_period"
        );
        for bad in ["0", "367", "-1", "7.5", "x"] {
            assert_eq!(
                code(parse_window(None, Some(bad), None, None)),
                "invalid_total_days"
            );
        }
        for bad in ["2026-13-01", "yesterday", "0000-01-01"] {
            assert_eq!(
                code(parse_window(None, None, Some(bad), None)),
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
        let window = parse_window(None, None, Some("2026-11-24"), None).unwrap();
        assert_eq!(window.days(), 30);
        assert_eq!(window.tz, chrono_tz::UTC);
        assert_eq!(
            parse_window(Some("weekly"), None, Some("2026-11-24"), None)
                .unwrap()
                .days(),
            7
        );
        assert_eq!(
            parse_window(Some("weekly"), Some("90"), Some("2026-11-24"), None)
                .unwrap()
                .days(),
            90
        );
        assert_eq!(
            parse_path("billing_details.address.country", "f")
                .unwrap()
                .len(),
            3
        );
    }
}
