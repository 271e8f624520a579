//! The Marketing API's insights, one page at a time: one object is the daily insights of the ad
//! account at one level or breakdown, read by `time_range` month by month back 37 months, paged
//! with `limit` and the `after` cursor of `paging` (never the `next` URL itself, which carries the
//! access token: the cursor is stored as the checkpoint). A range Facebook calls too large is cut
//! in two by the engine. Every incremental sync re-reads the last 28 days, which attribution
//! windows still revise. Money arrives as decimal strings in the account currency and is stored
//! in its minor units, exactly.

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use super::catalogue::{Insights, ACTION_TYPES};
use super::usage;
use crate::domain::StoredObject;
use crate::providers::money::to_minor_units;
use crate::providers::reader::{
    error_message, send, FetchError, Page, ReadLimits, ReadWindow, Reader, ReaderContext,
};
use crate::providers::report_days::{
    date_at, day_instant, month_windows, revised_window, window_days,
};

const PROVIDER: &str = "Facebook";
/// Facebook keeps 37 months of insights.
const HISTORY_MONTHS: u32 = 37;
/// Attribution windows revise the last 28 days.
const REVISED_DAYS: i64 = 28;
const MAX_PAGE_ROWS: u32 = 500;
/// Level ids a row names, by level, coarsest first.
const LEVEL_IDS: &[(&str, &[&str])] = &[
    ("account", &[]),
    ("campaign", &["campaign_id"]),
    ("adset", &["campaign_id", "adset_id"]),
    ("ad", &["campaign_id", "adset_id", "ad_id"]),
];

pub struct InsightsReader {
    http: reqwest::Client,
    url: String,
    token: SecretString,
    insights: &'static Insights,
    time_zone: Tz,
    currency: String,
    /// When the ad account was created (unix seconds), if Facebook said.
    created: Option<i64>,
    page_size: u32,
}

impl InsightsReader {
    pub fn new(context: ReaderContext<'_>, insights: &'static Insights) -> Option<Self> {
        let account = context.connection.account.as_ref()?;
        Some(Self {
            http: context.http.clone(),
            url: format!(
                "{}/v25.0/{}/insights",
                context.provider.api_base, account.id
            ),
            token: context.token,
            insights,
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

    fn fields(&self) -> String {
        let ids = LEVEL_IDS
            .iter()
            .find(|(level, _)| *level == self.insights.level)
            .map_or(&[][..], |(_, ids)| *ids);
        let names = ids.iter().map(|id| id.replace("_id", "_name"));
        let mut fields: Vec<String> = ["account_id", "account_currency", "date_start", "date_stop"]
            .iter()
            .map(|field| field.to_string())
            .chain(ids.iter().map(|id| id.to_string()))
            .chain(names)
            .collect();
        fields.extend(self.insights.spec.metrics.iter().map(|m| m.to_string()));
        fields.join(",")
    }
}

#[async_trait]
impl Reader for InsightsReader {
    fn limits(&self) -> ReadLimits {
        ReadLimits {
            // Facebook meters by the usage headers, not by requests per second.
            requests_per_sec: 10,
            concurrent_requests: 4,
            page_size: self.page_size,
        }
    }

    async fn backfill_windows(&self, before: i64) -> Result<Vec<ReadWindow>, FetchError> {
        let last = date_at(self.time_zone, before);
        // Facebook keeps 37 months; an account created since has nothing older.
        let kept = last
            .checked_sub_months(chrono::Months::new(HISTORY_MONTHS))
            .unwrap_or(last);
        // From the day before the creation's date (see the GA4 reader: a day early is cheap).
        let first = self
            .created
            .map_or(kept, |created| {
                kept.max(date_at(self.time_zone, created) - chrono::Duration::days(1))
            })
            .min(last);
        Ok(month_windows(first, last))
    }

    fn incremental_window(&self, previous_run: i64, now: i64) -> ReadWindow {
        revised_window(self.time_zone, previous_run, now, REVISED_DAYS)
    }

    async fn page(&self, window: &ReadWindow) -> Result<Page, FetchError> {
        let today = date_at(self.time_zone, chrono::Utc::now().timestamp());
        let Some((since, until)) = window_days(window, today, today) else {
            return Ok(Page::default());
        };
        let mut query = vec![
            ("fields", self.fields()),
            ("level", self.insights.level.to_string()),
            ("time_increment", "1".to_string()),
            (
                "time_range",
                json!({"since": since.to_string(), "until": until.to_string()}).to_string(),
            ),
            ("limit", self.page_size.to_string()),
        ];
        if !self.insights.breakdowns.is_empty() {
            query.push(("breakdowns", self.insights.breakdowns.join(",")));
        }
        if let Some(after) = &window.cursor {
            query.push(("after", after.clone()));
        }
        let request = self
            .http
            .get(&self.url)
            .query(&query)
            .bearer_auth(self.token.expose_secret());
        let answer = send(PROVIDER, request).await?;
        let usage = usage::read(&answer.headers);
        if answer.is_success() {
            let mut page = parse_insights(&answer.body, self.insights, &self.currency)?;
            page.slow_down = usage.slow_down();
            return Ok(page);
        }
        let mut failure = failure(&answer.body, answer.status, usage);
        if let (FetchError::RateLimited { retry_after }, Some(told)) =
            (&mut failure, answer.retry_after)
        {
            *retry_after = Some(told);
        }
        Err(failure)
    }
}

/// What Facebook's error answer means: its `error.code` decides, whatever the HTTP status.
fn failure(body: &[u8], status: u16, usage: usage::Usage) -> FetchError {
    let error = serde_json::from_slice::<Value>(body).unwrap_or_default();
    let code = error["error"]["code"].as_i64().unwrap_or(0);
    let message = error_message(body);
    if code == 190 || status == 401 {
        FetchError::Unauthorized
    } else if usage::is_throttling(code) || status == 429 {
        FetchError::RateLimited {
            retry_after: Some(usage.throttled_wait()),
        }
    } else if code == 1
        && message
            .to_ascii_lowercase()
            .contains("reduce the amount of data")
    {
        FetchError::RangeTooLarge(format!("{PROVIDER}: {message}"))
    } else if (400..500).contains(&status) {
        FetchError::Refused {
            provider: PROVIDER.into(),
            status,
            message,
        }
    } else {
        FetchError::Transient(format!("{PROVIDER} answered {status}"))
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => text.parse().ok(),
        other => other.as_i64(),
    }
}

/// An insights answer as records: one per row, dated at its day, with the level's ids and names,
/// the breakdown values, integer counts, money in minor units, and one field per action type.
pub fn parse_insights(
    body: &[u8],
    insights: &Insights,
    currency: &str,
) -> Result<Page, FetchError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| FetchError::malformed("not JSON"))?;
    let rows = json["data"]
        .as_array()
        .ok_or_else(|| FetchError::malformed("no data"))?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        objects.push(parse_row(row, insights, currency)?);
    }
    let next = json["paging"]["next"]
        .as_str()
        .and(json["paging"]["cursors"]["after"].as_str())
        .filter(|_| !rows.is_empty())
        .map(String::from);
    Ok(Page {
        objects,
        next,
        reached: None,
        slow_down: None,
    })
}

fn parse_row(row: &Value, insights: &Insights, currency: &str) -> Result<StoredObject, FetchError> {
    let text = |field: &str| row[field].as_str();
    let day = text("date_start")
        .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .ok_or_else(|| FetchError::malformed("a row has no date_start"))?;
    let currency = text("account_currency").unwrap_or(currency);
    let money = |value: &Value| -> Result<i64, FetchError> {
        value
            .as_str()
            .and_then(|amount| to_minor_units(amount, currency))
            .ok_or_else(|| FetchError::malformed("an amount is not a decimal"))
    };
    let mut record = Map::new();
    let mut id_parts = vec![day.to_string()];
    record.insert("object".into(), json!(insights.name));
    record.insert("date".into(), json!(day.to_string()));
    for field in [
        "account_id",
        "campaign_id",
        "campaign_name",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
    ] {
        if let Some(value) = text(field) {
            record.insert(field.into(), json!(value));
            if field.ends_with("_id") {
                id_parts.push(value.to_string());
            }
        }
    }
    for breakdown in insights.breakdowns {
        let value = text(breakdown).unwrap_or_default();
        record.insert((*breakdown).into(), json!(value));
        id_parts.push(value.to_string());
    }
    for counter in ["impressions", "clicks", "reach"] {
        if !row[counter].is_null() {
            let value = integer(&row[counter])
                .ok_or_else(|| FetchError::malformed(format!("{counter} is not a number")))?;
            record.insert(counter.into(), json!(value));
        }
    }
    if !row["spend"].is_null() {
        record.insert("spend".into(), json!(money(&row["spend"])?));
    }
    for (list, prefix) in [("actions", "actions_"), ("action_values", "action_values_")] {
        for action_type in ACTION_TYPES {
            record.insert(format!("{prefix}{action_type}"), json!(0));
        }
        for action in row[list].as_array().into_iter().flatten() {
            let Some(action_type) = action["action_type"].as_str() else {
                continue;
            };
            let value = if list == "action_values" {
                money(&action["value"])?
            } else {
                integer(&action["value"])
                    .ok_or_else(|| FetchError::malformed("an action count is not a number"))?
            };
            record.insert(format!("{prefix}{action_type}"), json!(value));
        }
    }
    let id = serde_json::to_string(&id_parts).map_err(|_| FetchError::malformed("row id"))?;
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
    use crate::providers::facebook::catalogue::insights_named;

    #[test]
    fn rows_become_records_with_exact_money_and_actions() {
        let body = br#"{"data": [{"account_id": "1003", "account_currency": "JPY",
            "campaign_id": "11", "campaign_name": "Spring", "date_start": "2026-11-03",
            "date_stop": "2026-11-03", "spend": "1234", "impressions": "1000", "clicks": "12",
            "reach": "800", "country": "JP",
            "actions": [{"action_type": "purchase", "value": "3"}],
            "action_values": [{"action_type": "purchase", "value": "4500"}]}],
            "paging": {"cursors": {"before": "b", "after": "a1"}, "next": "https://x/?after=a1&access_token=t"}}"#;
        let page = parse_insights(body, insights_named("campaigns").unwrap(), "USD").unwrap();
        let record = &page.objects[0].data;
        assert_eq!(record["spend"], 1234, "JPY has no minor unit");
        assert_eq!(record["actions_purchase"], 3);
        assert_eq!(record["action_values_purchase"], 4500);
        assert_eq!(record["actions_lead"], 0);
        assert_eq!(record["campaign_name"], "Spring");
        assert_eq!(page.objects[0].object_id, r#"["2026-11-03","1003","11"]"#);
        assert_eq!(
            page.next.as_deref(),
            Some("a1"),
            "the cursor, never the URL"
        );
        let usd = parse_insights(
            br#"{"data": [{"date_start": "2026-11-03", "spend": "14.35"}]}"#,
            insights_named("account").unwrap(),
            "USD",
        )
        .unwrap();
        assert_eq!(usd.objects[0].data["spend"], 1435);
        assert!(usd.next.is_none());
    }

    #[test]
    fn errors_are_read_from_facebooks_codes() {
        let error = |code: i64, message: &str| {
            format!(
                r#"{{"error":{{"message":"{message}","type":"OAuthException","code":{code}}}}}"#
            )
        };
        let quiet = usage::Usage::default();
        assert!(matches!(
            failure(error(190, "expired").as_bytes(), 400, quiet),
            FetchError::Unauthorized
        ));
        assert!(matches!(
            failure(error(80000, "too many").as_bytes(), 400, quiet),
            FetchError::RateLimited { .. }
        ));
        assert!(matches!(
            failure(error(17, "user limit").as_bytes(), 400, quiet),
            FetchError::RateLimited { .. }
        ));
        assert!(matches!(
            failure(
                error(
                    1,
                    "Please reduce the amount of data you're asking for, then retry your request"
                )
                .as_bytes(),
                500,
                quiet
            ),
            FetchError::RangeTooLarge(_)
        ));
        assert!(matches!(
            failure(error(100, "bad field").as_bytes(), 400, quiet),
            FetchError::Refused { .. }
        ));
        assert!(matches!(
            failure(b"oops", 503, quiet),
            FetchError::Transient(_)
        ));
    }
}
