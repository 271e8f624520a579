//! `runReport`: the request (a `RunReportRequest`), the aggregation of cells into rows, and the response.
//!
//! Rows are grouped by the requested dimensions and ALWAYS sorted by date ascending (when `date` is requested),
//! then by the other dimension values (as strings, byte order) in request order; `orderBys` is ignored, so that
//! `offset` paging is stable. Additive metrics are sums over a group's cells; users are a concave function of
//! the group's sessions (so users summed over a breakdown exceed the total, as in GA); ratios are computed per
//! row from the group's sums.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::errors::GoogleError;
use super::generator::{cells, Additive, Dimension};
use super::properties::{compact_date, parse_iso_date, Property};

/// GA's default page size, and the most rows one response carries.
pub(crate) const DEFAULT_LIMIT: u64 = 10_000;
pub(crate) const MAX_LIMIT: u64 = 250_000;
const MAX_DIMENSIONS: usize = 9;
const MAX_METRICS: usize = 10;

const SCHEMA_HINT: &str = "For a list of valid dimensions and metrics, see \
https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ";

/// The metrics a report may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Metric {
    ActiveUsers,
    TotalUsers,
    NewUsers,
    Sessions,
    EngagedSessions,
    EngagementRate,
    BounceRate,
    SessionsPerUser,
    ScreenPageViews,
    ScreenPageViewsPerSession,
    AverageSessionDuration,
    UserEngagementDuration,
    EventCount,
    Conversions,
    TotalRevenue,
    PurchaseRevenue,
}

impl Metric {
    const ALL: [Metric; 16] = [
        Metric::ActiveUsers,
        Metric::TotalUsers,
        Metric::NewUsers,
        Metric::Sessions,
        Metric::EngagedSessions,
        Metric::EngagementRate,
        Metric::BounceRate,
        Metric::SessionsPerUser,
        Metric::ScreenPageViews,
        Metric::ScreenPageViewsPerSession,
        Metric::AverageSessionDuration,
        Metric::UserEngagementDuration,
        Metric::EventCount,
        Metric::Conversions,
        Metric::TotalRevenue,
        Metric::PurchaseRevenue,
    ];

    fn name(self) -> &'static str {
        match self {
            Metric::ActiveUsers => "activeUsers",
            Metric::TotalUsers => "totalUsers",
            Metric::NewUsers => "newUsers",
            Metric::Sessions => "sessions",
            Metric::EngagedSessions => "engagedSessions",
            Metric::EngagementRate => "engagementRate",
            Metric::BounceRate => "bounceRate",
            Metric::SessionsPerUser => "sessionsPerUser",
            Metric::ScreenPageViews => "screenPageViews",
            Metric::ScreenPageViewsPerSession => "screenPageViewsPerSession",
            Metric::AverageSessionDuration => "averageSessionDuration",
            Metric::UserEngagementDuration => "userEngagementDuration",
            Metric::EventCount => "eventCount",
            Metric::Conversions => "conversions",
            Metric::TotalRevenue => "totalRevenue",
            Metric::PurchaseRevenue => "purchaseRevenue",
        }
    }

    fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|metric| metric.name() == name)
    }

    /// The `MetricType` GA reports in `metricHeaders`.
    fn kind(self) -> &'static str {
        match self {
            Metric::EngagementRate
            | Metric::BounceRate
            | Metric::SessionsPerUser
            | Metric::ScreenPageViewsPerSession => "TYPE_FLOAT",
            Metric::AverageSessionDuration | Metric::UserEngagementDuration => "TYPE_SECONDS",
            Metric::TotalRevenue | Metric::PurchaseRevenue => "TYPE_CURRENCY",
            _ => "TYPE_INTEGER",
        }
    }

    fn counts_users(self) -> bool {
        matches!(self, Metric::ActiveUsers | Metric::TotalUsers)
    }

    /// The value of this metric for a group, as GA writes it (integers as integer strings).
    fn value(self, sums: &Additive, property: &Property) -> String {
        let active = active_users(sums.sessions);
        match self {
            Metric::ActiveUsers => active.to_string(),
            Metric::TotalUsers => total_users(active).to_string(),
            Metric::NewUsers => sums.new_users.to_string(),
            Metric::Sessions => sums.sessions.to_string(),
            Metric::EngagedSessions => sums.engaged_sessions.to_string(),
            Metric::EngagementRate => float(divide(sums.engaged_sessions, sums.sessions)),
            Metric::BounceRate => float(if sums.sessions == 0 {
                0.0
            } else {
                1.0 - divide(sums.engaged_sessions, sums.sessions)
            }),
            Metric::SessionsPerUser => float(divide(sums.sessions, active)),
            Metric::ScreenPageViews => sums.screen_page_views.to_string(),
            Metric::ScreenPageViewsPerSession => {
                float(divide(sums.screen_page_views, sums.sessions))
            }
            Metric::AverageSessionDuration => float(divide(sums.session_duration, sums.sessions)),
            Metric::UserEngagementDuration => sums.user_engagement_duration.to_string(),
            Metric::EventCount => sums.event_count.to_string(),
            Metric::Conversions => sums.conversions.to_string(),
            Metric::TotalRevenue | Metric::PurchaseRevenue => {
                property.currency.format(sums.revenue)
            }
        }
    }
}

/// Active users of a group with `sessions` sessions: `round(s * 0.8 / (1 + ln(1 + s) / 12))`. It is concave
/// with f(0) = 0, and for groups of 29 sessions or more f(a) + f(b) > f(a + b) even after rounding; every
/// group has at least 30 (see `generator`), so any breakdown into several groups counts strictly more users
/// than the whole, as people who appear in several rows are counted once per row.
pub(crate) fn active_users(sessions: u64) -> u64 {
    let s = sessions as f64;
    (s * 0.8 / (1.0 + (1.0 + s).ln() / 12.0)).round() as u64
}

/// Total users: active users plus 5% who were seen without engaging.
pub(crate) fn total_users(active: u64) -> u64 {
    active + (active as f64 * 0.05).round() as u64
}

fn divide(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Shortest round-trip decimal: `1.2209302325581395`, `0` for zero.
fn float(value: f64) -> String {
    format!("{value}")
}

/// A parsed `RunReportRequest`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReportRequest {
    /// Local days, inclusive, as requested (possibly outside the property's data).
    pub start_day: i64,
    pub end_day: i64,
    pub dimensions: Vec<Dimension>,
    pub metrics: Vec<Metric>,
    pub offset: u64,
    pub limit: u64,
    pub return_property_quota: bool,
}

impl ReportRequest {
    /// GA thresholds reports that count users by demographic dimensions.
    pub(crate) fn subject_to_thresholding(&self) -> bool {
        self.metrics.iter().any(|metric| metric.counts_users())
            && self.dimensions.contains(&Dimension::Country)
    }
}

fn invalid(message: impl Into<String>) -> GoogleError {
    GoogleError::invalid_argument(message)
}

/// `YYYY-MM-DD`, `today`, `yesterday` or `NdaysAgo`, relative to the property's today.
fn parse_date(text: &str, today: i64, field: &str) -> Result<i64, GoogleError> {
    let relative = match text {
        "today" => Some(0),
        "yesterday" => Some(1),
        _ => text
            .strip_suffix("daysAgo")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok()),
    };
    relative
        .map(|days| today - days)
        .or_else(|| parse_iso_date(text))
        .ok_or_else(|| {
            invalid(format!(
                "Invalid {field} \"{text}\": use YYYY-MM-DD, today, yesterday or NdaysAgo."
            ))
        })
}

/// A non-negative int64 sent as a JSON number or a decimal string (proto3 JSON accepts both).
fn parse_count(value: &Value, field: &str) -> Result<u64, GoogleError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| invalid(format!("{field} must be a non-negative integer.")))
}

/// The `name`s of a list of `{"name": ...}` objects.
fn names<'a>(value: &'a Value, field: &str) -> Result<Vec<&'a str>, GoogleError> {
    let malformed = || {
        invalid(format!(
            "Invalid JSON payload received. {field} must be a list of objects with a name."
        ))
    };
    let list = value.as_array().ok_or_else(malformed)?;
    list.iter()
        .map(|item| {
            item.get("name")
                .and_then(Value::as_str)
                .ok_or_else(malformed)
        })
        .collect()
}

fn first_repeated<'a>(names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .enumerate()
        .find(|(position, name)| names[..*position].contains(name))
        .map(|(_, name)| *name)
}

fn dimensions(value: &Value) -> Result<Vec<Dimension>, GoogleError> {
    let names = names(value, "dimensions")?;
    if let Some(name) = first_repeated(&names) {
        return Err(invalid(format!("Duplicate dimension name: {name}.")));
    }
    if names.len() > MAX_DIMENSIONS {
        return Err(invalid(format!(
            "Requests can have at most {MAX_DIMENSIONS} dimensions."
        )));
    }
    names
        .into_iter()
        .map(|name| {
            Dimension::from_name(name).ok_or_else(|| {
                invalid(format!(
                    "Field {name} is not a valid dimension. {SCHEMA_HINT}"
                ))
            })
        })
        .collect()
}

fn metrics(value: &Value) -> Result<Vec<Metric>, GoogleError> {
    let names = names(value, "metrics")?;
    if let Some(name) = first_repeated(&names) {
        return Err(invalid(format!("Duplicate metric name: {name}.")));
    }
    if names.len() > MAX_METRICS {
        return Err(invalid(format!(
            "Requests can have at most {MAX_METRICS} metrics."
        )));
    }
    names
        .into_iter()
        .map(|name| {
            Metric::from_name(name).ok_or_else(|| {
                invalid(format!("Field {name} is not a valid metric. {SCHEMA_HINT}"))
            })
        })
        .collect()
}

/// Fields of `RunReportRequest` the sandbox does not implement: refused rather than silently ignored.
const UNSUPPORTED: [&str; 5] = [
    "dimensionFilter",
    "metricFilter",
    "metricAggregations",
    "comparisons",
    "cohortSpec",
];

/// Parses a `RunReportRequest` body for `property`.
pub(crate) fn parse(body: &[u8], property: &Property) -> Result<ReportRequest, GoogleError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| invalid(format!("Invalid JSON payload received. {error}.")))?;
    let Value::Object(fields) = value else {
        return Err(invalid(
            "Invalid JSON payload received. The body must be a JSON object.",
        ));
    };
    for (name, value) in &fields {
        match name.as_str() {
            "dateRanges" | "dimensions" | "metrics" | "offset" | "limit" | "orderBys" => {}
            "keepEmptyRows" | "returnPropertyQuota" if value.is_boolean() => {}
            "keepEmptyRows" | "returnPropertyQuota" => {
                return Err(invalid(format!(
                    "Invalid value at '{name}', expected a boolean."
                )))
            }
            "property" if value.as_str() == Some(property.resource_name().as_str()) => {}
            "property" => {
                return Err(invalid(format!(
                    "property in the body must be {} (the one in the URL).",
                    property.resource_name()
                )))
            }
            "currencyCode" if value.as_str() == Some(property.currency.code()) => {}
            "currencyCode" => {
                return Err(invalid(format!(
                    "The sandbox reports in the property's currency ({}) only.",
                    property.currency.code()
                )))
            }
            other if UNSUPPORTED.contains(&other) => {
                return Err(invalid(format!("The sandbox does not support {other}.")))
            }
            other => {
                return Err(invalid(format!(
                    "Invalid JSON payload received. Unknown name \"{other}\": Cannot find field."
                )))
            }
        }
    }
    let ranges = match fields.get("dateRanges") {
        Some(Value::Array(ranges)) if !ranges.is_empty() => ranges,
        Some(Value::Array(_)) | None => {
            return Err(invalid(
                "Date ranges must be specified for non-cohort requests.",
            ))
        }
        Some(_) => {
            return Err(invalid(
                "Invalid JSON payload received. dateRanges must be a list.",
            ))
        }
    };
    let [range] = ranges.as_slice() else {
        return Err(invalid("The sandbox supports exactly one date range."));
    };
    let bound = |field: &str| -> Result<i64, GoogleError> {
        let text = range
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("A date range must have a {field}.")))?;
        parse_date(text, property.last_day, field)
    };
    let (start_day, end_day) = (bound("startDate")?, bound("endDate")?);
    if start_day > end_day {
        return Err(invalid(
            "Invalid date range: startDate must not be after endDate.",
        ));
    }
    let metrics = match fields.get("metrics") {
        Some(value) => metrics(value)?,
        None => Vec::new(),
    };
    if metrics.is_empty() {
        return Err(invalid("A report must request at least one metric."));
    }
    let dimensions = match fields.get("dimensions") {
        Some(value) => dimensions(value)?,
        None => Vec::new(),
    };
    let offset = match fields.get("offset") {
        Some(value) => parse_count(value, "offset")?,
        None => 0,
    };
    let limit = match fields.get("limit") {
        Some(value) => parse_count(value, "limit")?,
        None => 0,
    };
    // GA: an unset (or zero) limit means 10,000; more than 250,000 are never returned at once.
    let limit = if limit == 0 {
        DEFAULT_LIMIT
    } else {
        limit.min(MAX_LIMIT)
    };
    Ok(ReportRequest {
        start_day,
        end_day,
        dimensions,
        metrics,
        offset,
        limit,
        return_property_quota: fields.get("returnPropertyQuota") == Some(&Value::Bool(true)),
    })
}

/// One row before rendering: its day (when `date` is requested), the other dimension values in request order,
/// and the sums of its cells.
pub(crate) struct Group {
    day: Option<i64>,
    values: Vec<&'static str>,
    sums: Additive,
}

/// Every row of the report, in the report's order.
pub(crate) fn run(
    seed: u64,
    size: u64,
    property: &Property,
    request: &ReportRequest,
) -> Vec<Group> {
    let by_date = request.dimensions.contains(&Dimension::Date);
    let others: Vec<Dimension> = request
        .dimensions
        .iter()
        .copied()
        .filter(|dimension| *dimension != Dimension::Date)
        .collect();
    let start = request.start_day.max(property.first_day);
    let end = request.end_day.min(property.last_day);
    let mut groups: Vec<Group> = Vec::new();
    let mut sums: HashMap<Vec<&'static str>, Additive> = HashMap::new();
    let mut flush = |sums: &mut HashMap<Vec<&'static str>, Additive>, day: Option<i64>| {
        let mut rows: Vec<Group> = sums
            .drain()
            .map(|(values, sums)| Group { day, values, sums })
            .collect();
        rows.sort_by(|a, b| a.values.cmp(&b.values));
        groups.extend(rows);
    };
    for day in start..=end {
        for cell in cells(seed, size, property, day) {
            let key: Vec<&'static str> = others.iter().map(|d| cell.value(*d)).collect();
            *sums.entry(key).or_default() += cell.metrics;
        }
        if by_date {
            flush(&mut sums, Some(day));
        }
    }
    if !by_date {
        flush(&mut sums, None);
    }
    groups
}

/// The `RunReportResponse` for the rows `page` of a report of `row_count` rows.
pub(crate) fn response(
    property: &Property,
    request: &ReportRequest,
    page: &[Group],
    row_count: usize,
    property_quota: Option<Value>,
) -> Value {
    let dimension_headers: Vec<Value> = request
        .dimensions
        .iter()
        .map(|dimension| json!({ "name": dimension.name() }))
        .collect();
    let metric_headers: Vec<Value> = request
        .metrics
        .iter()
        .map(|metric| json!({ "name": metric.name(), "type": metric.kind() }))
        .collect();
    let mut body = Map::new();
    body.insert("dimensionHeaders".into(), dimension_headers.into());
    body.insert("metricHeaders".into(), metric_headers.into());
    if !page.is_empty() {
        let rows: Vec<Value> = page
            .iter()
            .map(|group| row(property, request, group))
            .collect();
        body.insert("rows".into(), rows.into());
    }
    // proto3 JSON leaves out zero values: an empty report has no rowCount either.
    if row_count > 0 {
        body.insert("rowCount".into(), row_count.into());
    }
    let mut metadata = Map::new();
    metadata.insert("currencyCode".into(), property.currency.code().into());
    metadata.insert("timeZone".into(), property.time_zone.into());
    if request.subject_to_thresholding() {
        metadata.insert("subjectToThresholding".into(), true.into());
    }
    body.insert("metadata".into(), metadata.into());
    if let Some(quota) = property_quota {
        body.insert("propertyQuota".into(), quota);
    }
    body.insert("kind".into(), "analyticsData#runReport".into());
    Value::Object(body)
}

fn row(property: &Property, request: &ReportRequest, group: &Group) -> Value {
    let mut others = group.values.iter();
    let dimension_values: Vec<Value> = request
        .dimensions
        .iter()
        .map(|dimension| {
            let value = match dimension {
                Dimension::Date => group.day.map(compact_date).unwrap_or_default(),
                _ => others.next().map_or_else(String::new, |v| (*v).to_owned()),
            };
            json!({ "value": value })
        })
        .collect();
    let metric_values: Vec<Value> = request
        .metrics
        .iter()
        .map(|metric| json!({ "value": metric.value(&group.sums, property) }))
        .collect();
    json!({ "dimensionValues": dimension_values, "metricValues": metric_values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::properties::Properties;

    const NOW: i64 = 1_767_225_600;

    fn request(body: Value) -> Result<ReportRequest, String> {
        let properties = Properties::new(NOW);
        parse(body.to_string().as_bytes(), &properties.all()[0]).map_err(|error| error.message)
    }

    #[test]
    fn users_are_strictly_subadditive_for_groups_of_29_sessions_or_more() {
        assert_eq!(active_users(0), 0);
        assert_eq!(active_users(1), 1);
        for a in 29..700 {
            for b in (a..3000).step_by(7) {
                assert!(
                    active_users(a) + active_users(b) > active_users(a + b),
                    "{a} {b}"
                );
            }
        }
        assert!(active_users(2_000_000) + active_users(29) > active_users(2_000_029));
    }

    #[test]
    fn requests_parse_like_ga() {
        let parsed = request(json!({
            "dateRanges": [{"startDate": "30daysAgo", "endDate": "yesterday"}],
            "dimensions": [{"name": "date"}, {"name": "country"}],
            "metrics": [{"name": "activeUsers"}],
            "limit": "100", "offset": 5, "returnPropertyQuota": true, "keepEmptyRows": true,
            "orderBys": [{"dimension": {"dimensionName": "date"}}],
            "property": "properties/250001",
        }))
        .unwrap();
        // The web store's today is 2025-12-31.
        let today = parse_iso_date("2025-12-31").unwrap();
        assert_eq!((parsed.start_day, parsed.end_day), (today - 30, today - 1));
        assert_eq!(parsed.dimensions, [Dimension::Date, Dimension::Country]);
        assert_eq!((parsed.offset, parsed.limit), (5, 100));
        assert!(parsed.return_property_quota && parsed.subject_to_thresholding());
        let defaults = request(json!({
            "dateRanges": [{"startDate": "2025-01-01", "endDate": "today"}],
            "metrics": [{"name": "sessions"}], "limit": 999_999_999,
        }))
        .unwrap();
        assert_eq!((defaults.offset, defaults.limit), (0, MAX_LIMIT));
        assert!(!defaults.subject_to_thresholding());
    }

    #[test]
    fn bad_requests_are_explained() {
        let range = json!([{"startDate": "2025-01-01", "endDate": "2025-01-31"}]);
        let cases = [
            (json!({"dateRanges": range, "metrics": [{"name": "sessions"}], "dimensions": [{"name": "foo"}]}),
             "Field foo is not a valid dimension. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema "),
            (json!({"dateRanges": range, "metrics": [{"name": "bar"}]}), "Field bar is not a valid metric."),
            (json!({"metrics": [{"name": "sessions"}]}), "Date ranges must be specified"),
            (json!({"dateRanges": range}), "at least one metric"),
            (json!({"dateRanges": range, "metrics": [{"name": "sessions"}], "limit": -1}), "limit must be"),
            (json!({"dateRanges": range, "metrics": [{"name": "sessions"}], "frobnicate": 1}), "Unknown name \"frobnicate\""),
            (json!({"dateRanges": range, "metrics": [{"name": "sessions"}], "dimensionFilter": {}}), "does not support dimensionFilter"),
            (json!({"dateRanges": [{"startDate": "2025-02-01", "endDate": "2025-01-01"}], "metrics": [{"name": "sessions"}]}), "after endDate"),
            (json!({"dateRanges": [{"startDate": "last week", "endDate": "today"}], "metrics": [{"name": "sessions"}]}), "Invalid startDate"),
            (json!({"dateRanges": range, "metrics": [{"name": "sessions"}, {"name": "sessions"}]}), "Duplicate metric"),
            (json!([1, 2]), "must be a JSON object"),
        ];
        for (body, expected) in cases {
            let message = request(body.clone()).err().unwrap_or_default();
            assert!(message.contains(expected), "{body}: {message}");
        }
        let properties = Properties::new(NOW);
        assert!(parse(b"{not json", &properties.all()[0]).is_err());
    }
}
