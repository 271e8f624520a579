//! GA4's `runReport`, one page at a time: one report object is one fixed set of dimensions with
//! `date` first, read by date range with `offset`/`limit` paging over `rowCount`. A backfill reads
//! month by month from the property's creation; an incremental pass re-reads the last 3 days,
//! which Google still revises. Every row becomes one record dated at its day (00:00 UTC of the
//! property's date), its id made of its dimension values, so reading a day again replaces it.
//! `propertyQuota` is read on every answer: the reader slows down before the hourly or daily
//! tokens run out.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use super::catalogue::Report;
use crate::domain::StoredObject;
use crate::providers::money::to_minor_units;
use crate::providers::reader::{
    error_message, send, FetchError, Page, ReadLimits, ReadWindow, Reader, ReaderContext,
};
use crate::providers::report_days::{
    date_at, day_instant, month_windows, revised_window, window_days,
};

const PROVIDER: &str = "Google Analytics";
/// Google allows up to 250,000 rows per request.
const MAX_PAGE_ROWS: u32 = 250_000;
/// Google revises the last days of a report for a while.
const REVISED_DAYS: i64 = 3;
/// Without a known creation time, a backfill goes back this far (GA4 keeps 14 months of
/// user-level data by default; aggregated reports go further).
const DEFAULT_HISTORY_DAYS: i64 = 14 * 31;
/// Standard properties take 10 requests at once.
const CONCURRENT_REQUESTS: usize = 10;
/// Slow down when fewer tokens than this many requests' worth remain.
const QUOTA_RESERVE_REQUESTS: i64 = 5;

pub struct ReportReader {
    http: reqwest::Client,
    url: String,
    token: SecretString,
    report: &'static Report,
    time_zone: Tz,
    currency: String,
    created: Option<i64>,
    page_size: u32,
}

impl ReportReader {
    pub fn new(context: ReaderContext<'_>, report: &'static Report) -> Option<Self> {
        let account = context.connection.account.as_ref()?;
        Some(Self {
            http: context.http.clone(),
            url: format!(
                "{}/v1beta/properties/{}:runReport",
                context.provider.api_base, account.id
            ),
            token: context.token,
            report,
            time_zone: account
                .time_zone
                .as_deref()
                .and_then(|name| name.parse().ok())
                .unwrap_or(Tz::UTC),
            currency: account.currency.clone().unwrap_or_else(|| "USD".into()),
            created: account.created,
            page_size: context.settings.page_size.clamp(1, MAX_PAGE_ROWS),
        })
    }

    /// The property's date at `instant`.
    fn date_at(&self, instant: i64) -> NaiveDate {
        date_at(self.time_zone, instant)
    }

    fn request_body(&self, start: NaiveDate, end: NaiveDate, offset: u64) -> Value {
        let dimensions: Vec<Value> = std::iter::once("date")
            .chain(self.report.spec.dimensions.iter().copied())
            .map(|name| json!({ "name": name }))
            .collect();
        let metrics: Vec<Value> = self
            .report
            .spec
            .metrics
            .iter()
            .map(|name| json!({ "name": name }))
            .collect();
        json!({
            "dateRanges": [{"startDate": start.to_string(), "endDate": end.to_string()}],
            "dimensions": dimensions,
            "metrics": metrics,
            "orderBys": [{"dimension": {"dimensionName": "date", "orderType": "ALPHANUMERIC"}}],
            "offset": offset.to_string(),
            "limit": self.page_size.to_string(),
            "returnPropertyQuota": true,
        })
    }
}

#[async_trait]
impl Reader for ReportReader {
    fn limits(&self) -> ReadLimits {
        ReadLimits {
            // Google meters tokens per hour and day, not requests per second.
            requests_per_sec: 10,
            concurrent_requests: CONCURRENT_REQUESTS,
            page_size: self.page_size,
        }
    }

    async fn backfill_windows(&self, before: i64) -> Result<Vec<ReadWindow>, FetchError> {
        let last = self.date_at(before);
        // From the day before the creation's date: a day early costs one empty answer, a day
        // late loses the first day (the creation time and the days may be cut in different
        // offsets around a daylight-saving change).
        let first = self
            .created
            .map(|created| self.date_at(created) - chrono::Duration::days(1))
            .unwrap_or(last - chrono::Duration::days(DEFAULT_HISTORY_DAYS))
            .min(last);
        Ok(month_windows(first, last))
    }

    fn incremental_window(&self, previous_run: i64, now: i64) -> ReadWindow {
        revised_window(self.time_zone, previous_run, now, REVISED_DAYS)
    }

    async fn page(&self, window: &ReadWindow) -> Result<Page, FetchError> {
        let today = self.date_at(Utc::now().timestamp());
        let earliest = today - chrono::Duration::days(DEFAULT_HISTORY_DAYS);
        let Some((start, end)) = window_days(window, today, earliest) else {
            return Ok(Page::default());
        };
        let offset: u64 = match &window.cursor {
            Some(cursor) => cursor
                .parse()
                .map_err(|_| FetchError::malformed("a stored offset is not a number"))?,
            None => 0,
        };
        let request = self
            .http
            .post(&self.url)
            .bearer_auth(self.token.expose_secret())
            .json(&self.request_body(start, end, offset));
        let answer = send(PROVIDER, request).await?;
        match answer.status {
            200..=299 => parse_report(&answer.body, self.report, &self.currency, offset),
            // Google says which quota ran out, not when it comes back.
            429 if answer.retry_after.is_none() => Err(FetchError::RateLimited {
                retry_after: quota_wait(&error_message(&answer.body)),
            }),
            _ => Err(answer.failure(PROVIDER)),
        }
    }
}

/// Until the next hour or day (UTC, plus a margin) for an exhausted hourly or daily quota;
/// a second for the concurrent-requests quota.
fn quota_wait(message: &str) -> Option<Duration> {
    let now = Utc::now().timestamp();
    let until = |period: i64| Duration::from_secs((period - now.rem_euclid(period) + 5) as u64);
    let message = message.to_ascii_lowercase();
    if message.contains("per day") {
        Some(until(86_400))
    } else if message.contains("per hour") {
        Some(until(3_600))
    } else {
        Some(Duration::from_secs(1))
    }
}

/// A wait when few tokens remain: until the next hour, or day, that refills them.
fn quota_slow_down(quota: &Value) -> Option<Duration> {
    let low = |name: &str| {
        let status = &quota[name];
        let remaining = status["remaining"].as_i64()?;
        let consumed = status["consumed"].as_i64().unwrap_or(1).max(1);
        Some(remaining < consumed * QUOTA_RESERVE_REQUESTS)
    };
    if low("tokensPerDay") == Some(true) {
        quota_wait("per day")
    } else if low("tokensPerHour") == Some(true) {
        quota_wait("per hour")
    } else {
        None
    }
}

/// A `runReport` answer as records: one per row, with `date` as `YYYY-MM-DD`, the dimensions by
/// name, integer metrics as integers, money in the currency's minor units, and the additive parts
/// of ratios (`bounces`, `sessionDuration`).
pub fn parse_report(
    body: &[u8],
    report: &Report,
    currency: &str,
    offset: u64,
) -> Result<Page, FetchError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| FetchError::malformed("not JSON"))?;
    let header_names = |key: &str| -> Result<Vec<(String, String)>, FetchError> {
        json[key]
            .as_array()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        (
                            header["name"].as_str().unwrap_or_default().to_string(),
                            header["type"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .ok_or_else(|| FetchError::malformed(format!("no {key}")))
    };
    let dimensions = header_names("dimensionHeaders")?;
    let metrics = header_names("metricHeaders")?;
    if dimensions.first().map(|(name, _)| name.as_str()) != Some("date") {
        return Err(FetchError::malformed("the first dimension is not the date"));
    }
    let row_count = json["rowCount"].as_u64().unwrap_or(0);
    let metadata = &json["metadata"];
    let sampled = metadata["subjectToThresholding"].as_bool() == Some(true)
        || metadata["dataLossFromOtherRow"].as_bool() == Some(true)
        || metadata["samplingMetadatas"]
            .as_array()
            .is_some_and(|samples| !samples.is_empty());
    let currency = metadata["currencyCode"].as_str().unwrap_or(currency);
    let empty = Vec::new();
    let rows = json["rows"].as_array().unwrap_or(&empty);
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        objects.push(parse_row(
            row,
            &dimensions,
            &metrics,
            report,
            currency,
            sampled,
        )?);
    }
    let read = offset + rows.len() as u64;
    Ok(Page {
        next: (!rows.is_empty() && read < row_count).then(|| read.to_string()),
        objects,
        reached: None,
        slow_down: quota_slow_down(&json["propertyQuota"]),
    })
}

fn parse_row(
    row: &Value,
    dimensions: &[(String, String)],
    metrics: &[(String, String)],
    report: &Report,
    currency: &str,
    sampled: bool,
) -> Result<StoredObject, FetchError> {
    let values = |key: &str, expected: usize| -> Result<Vec<&str>, FetchError> {
        let values: Vec<&str> = row[key]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .map(|value| value["value"].as_str().unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        if values.len() == expected {
            Ok(values)
        } else {
            Err(FetchError::malformed(format!(
                "a row's {key} do not match the headers"
            )))
        }
    };
    let dimension_values = values("dimensionValues", dimensions.len())?;
    let metric_values = values("metricValues", metrics.len())?;
    let day = NaiveDate::parse_from_str(dimension_values[0], "%Y%m%d")
        .map_err(|_| FetchError::malformed("a row's date is not YYYYMMDD"))?;
    let mut record = Map::new();
    record.insert("object".into(), json!(report.name));
    record.insert("date".into(), json!(day.to_string()));
    for ((name, _), value) in dimensions.iter().zip(&dimension_values).skip(1) {
        record.insert(name.clone(), json!(value));
    }
    for ((name, kind), text) in metrics.iter().zip(&metric_values) {
        let value = match kind.as_str() {
            "TYPE_INTEGER" => text.parse::<i64>().ok().map(Value::from),
            "TYPE_CURRENCY" => to_minor_units(text, currency).map(Value::from),
            _ => text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Value::from),
        }
        .ok_or_else(|| FetchError::malformed(format!("{name} is not a number")))?;
        record.insert(name.clone(), value);
    }
    // The additive parts of ratios: a chart divides their sums, never averages the ratios.
    let integer = |name: &str| record.get(name).and_then(Value::as_i64);
    let (sessions, engaged) = (integer("sessions"), integer("engagedSessions"));
    let average = record.get("averageSessionDuration").and_then(Value::as_f64);
    if let (Some(sessions), Some(engaged)) = (sessions, engaged) {
        record.insert("bounces".into(), json!(sessions - engaged));
    }
    if let (Some(sessions), Some(average)) = (sessions, average) {
        record.insert("sessionDuration".into(), json!(sessions as f64 * average));
    }
    record.insert("sampled".into(), json!(sampled));
    let id = serde_json::to_string(&dimension_values)
        .map_err(|_| FetchError::malformed("dimension values"))?;
    record.insert("id".into(), json!(id));
    Ok(StoredObject {
        object_id: id,
        created: day_instant(day),
        data: Value::Object(record),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::google::catalogue::report_named;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn rows_become_dated_records_with_exact_money_and_ratio_parts() {
        let body = br#"{
          "dimensionHeaders": [{"name": "date"}, {"name": "deviceCategory"}],
          "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"},
                            {"name": "engagedSessions", "type": "TYPE_INTEGER"},
                            {"name": "totalRevenue", "type": "TYPE_CURRENCY"},
                            {"name": "averageSessionDuration", "type": "TYPE_SECONDS"}],
          "rows": [{"dimensionValues": [{"value": "20261103"}, {"value": "mobile"}],
                    "metricValues": [{"value": "10"}, {"value": "6"}, {"value": "12.34"}, {"value": "30.5"}]}],
          "rowCount": 3,
          "metadata": {"currencyCode": "USD", "subjectToThresholding": true},
          "propertyQuota": {"tokensPerHour": {"consumed": 1, "remaining": 39999}}
        }"#;
        let page = parse_report(body, report_named("device").unwrap(), "EUR", 1).unwrap();
        let record = &page.objects[0];
        assert_eq!(record.created, day_instant(date("2026-11-03")));
        assert_eq!(record.object_id, r#"["20261103","mobile"]"#);
        assert_eq!(record.data["date"], "2026-11-03");
        assert_eq!(record.data["deviceCategory"], "mobile");
        assert_eq!(record.data["totalRevenue"], 1234);
        assert_eq!(record.data["bounces"], 4);
        assert_eq!(record.data["sessionDuration"], 305.0);
        assert_eq!(record.data["sampled"], true);
        assert_eq!(page.next.as_deref(), Some("2"));
        assert!(page.slow_down.is_none());
        let last = parse_report(body, report_named("device").unwrap(), "EUR", 2).unwrap();
        assert!(last.next.is_none());
    }

    #[test]
    fn an_empty_report_has_no_rows_and_a_low_quota_slows_down() {
        let body = br#"{"dimensionHeaders": [{"name": "date"}], "metricHeaders": [],
                        "rowCount": 0, "propertyQuota": {"tokensPerHour": {"consumed": 2, "remaining": 3}}}"#;
        let page = parse_report(body, report_named("daily").unwrap(), "USD", 0).unwrap();
        assert!(page.objects.is_empty() && page.next.is_none());
        assert!(page
            .slow_down
            .is_some_and(|wait| wait <= Duration::from_secs(3_605)));
        assert!(parse_report(b"{}", report_named("daily").unwrap(), "USD", 0).is_err());
    }
}
