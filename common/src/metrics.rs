use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Numbers of a series: whole values are written as integers (`3`, not `3.0`), as the seed's
/// charts expect; averages keep their fraction.
fn numbers<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut sequence = serializer.serialize_seq(Some(values.len()))?;
    for value in values {
        if value.fract() == 0.0 && value.abs() < 9.0e15 {
            sequence.serialize_element(&(*value as i64))?;
        } else {
            sequence.serialize_element(value)?;
        }
    }
    sequence.end()
}

/// `null` (a value that does not exist, such as a lifetime value while nobody churns) is kept
/// as NaN, which is written back as `null`.
fn nullable_numbers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Vec::deserialize(deserializer)?;
    Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

fn nullable_number_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
    let values: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .map(|(key, series)| {
            let series = series.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            (key, series)
        })
        .collect())
}

fn number_map<S: Serializer>(
    values: &BTreeMap<String, Vec<f64>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    struct Numbers<'a>(&'a [f64]);
    impl Serialize for Numbers<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            numbers(self.0, serializer)
        }
    }
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (key, series) in values {
        map.serialize_entry(key, &Numbers(series))?;
    }
    map.end()
}

/// A stacked daily series (the seed's format): `GET /connect/query/{slug}` and
/// `GET /api/v1/metrics/{id}/series`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "keys": ["amount", "currency", "customer", "status"],
    "labelX": ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"],
    "labelY": [0, 3, 1, 0, 2],
    "labelZ": {"eur": [0, 1, 0, 0, 1], "usd": [0, 2, 1, 0, 1]},
    "meta": {
        "records": 6,
        "from": "2026-11-20",
        "to": "2026-11-24",
        "tz": "UTC",
        "synced_at": "2026-11-24T09:30:00+00:00",
        "partial": false,
        "interval": "day",
        "groups_folded": 0
    }
})))]
pub struct Series {
    /// Field names of the object (nested ones as dot paths), for the group-by picker.
    pub keys: Vec<String>,
    /// Every day of the window, oldest first (ISO dates).
    #[serde(rename = "labelX")]
    pub label_x: Vec<String>,
    /// The day's value over all groups; `null` where the value does not exist (a subscription
    /// metric's lifetime value while nobody churns), NaN in Rust.
    #[serde(
        rename = "labelY",
        serialize_with = "numbers",
        deserialize_with = "nullable_numbers"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<f64>>))]
    pub label_y: Vec<f64>,
    /// One series per value of the group-by field; missing or null values form `(none)`.
    #[serde(
        rename = "labelZ",
        serialize_with = "number_map",
        deserialize_with = "nullable_number_map"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Vec<Option<f64>>>))]
    pub label_z: BTreeMap<String, Vec<f64>>,
    pub meta: SeriesMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesMeta {
    /// How many stored objects the window covers.
    pub records: u64,
    /// First and last day of the window (ISO dates, inclusive).
    pub from: String,
    pub to: String,
    /// The IANA time zone days were cut in.
    pub tz: String,
    /// When the object was last synced (RFC 3339), if ever.
    pub synced_at: Option<String>,
    /// True while the backfill has not reached the window's start: counts may still grow.
    pub partial: bool,
    /// For report sources (Google Analytics): the time zone the source's days are in. Report
    /// rows keep their date whatever `tz` asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_tz: Option<String>,
    /// ISO 4217 code when every value is money of one currency (in its minor units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// True when the provider flagged sampling or thresholding on any row read (GA4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<bool>,
    /// What one bar covers: `day`, `week` (Monday to Sunday) or `month`; `labelX` holds each
    /// bucket's first day.
    #[serde(default = "day")]
    pub interval: String,
    /// How many groups beyond `groups` were summed into `(other groups)` (or, for values that
    /// do not add up across groups, left out).
    #[serde(default)]
    pub groups_folded: u64,
    /// The metric's kind for saved metrics (`objects`, `mrr`, `mrr_movements`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

fn day() -> String {
    "day".to_string()
}

/// The kinds of subscription metrics (Stripe-compatible sources), beside `objects`.
pub const SUBSCRIPTION_KINDS: [&str; 12] = [
    "mrr",
    "arr",
    "mrr_movements",
    "active_subscribers",
    "active_customers",
    "new_customers",
    "churned_customers",
    "customer_churn_rate",
    "revenue_churn_rate",
    "arpu",
    "ltv",
    "trials",
];

fn objects() -> String {
    "objects".to_string()
}

/// A saved metric: a query of `/connect/query/{slug}` with a name (`kind` `objects`), or a
/// subscription metric of a Stripe-compatible source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metric {
    pub id: i64,
    pub name: String,
    /// The data source's slug.
    pub source: String,
    /// `objects` (counts and sums of stored objects) or a subscription metric: `mrr`, `arr`,
    /// `mrr_movements`, `active_subscribers`, `active_customers`, `new_customers`,
    /// `churned_customers`, `customer_churn_rate`, `revenue_churn_rate`, `arpu`, `ltv`, `trials`.
    #[serde(default = "objects")]
    pub kind: String,
    /// An enabled object (routing source) of the source, e.g. `Charge`; null for subscription
    /// metrics.
    pub object_name: Option<String>,
    /// `count`, `sum`, `average`, `min`, `max` or `count_distinct`; null for subscription
    /// metrics.
    pub operator: Option<String>,
    /// The group-by field (dot paths reach nested fields); default `object`. Subscription
    /// metrics: empty (converted to the reporting currency), `currency` or `plan`.
    pub field_name: String,
    /// What sum/average/min/max/count_distinct read, e.g. `amount`.
    pub value_field: Option<String>,
    /// The date the days are cut on; default `created`.
    pub date_field: String,
}

/// `POST /api/v1/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Charges by currency", "source": "demo", "object_name": "Charge", "operator": "count", "field_name": "currency"})))]
pub struct CreateMetricRequest {
    pub name: String,
    pub source: String,
    /// `objects` (the default) or a subscription metric (`mrr`, `mrr_movements`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// Required for `objects`; absent for subscription metrics.
    #[serde(default)]
    pub object_name: Option<String>,
    /// Required for `objects`; absent for subscription metrics.
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub field_name: Option<String>,
    #[serde(default)]
    pub value_field: Option<String>,
    #[serde(default)]
    pub date_field: Option<String>,
}

/// `PATCH /api/v1/metrics/{id}`: any of the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Charges"})))]
pub struct UpdateMetricRequest {
    pub name: Option<String>,
    pub object_name: Option<String>,
    pub operator: Option<String>,
    pub field_name: Option<String>,
    pub value_field: Option<String>,
    pub date_field: Option<String>,
}

/// A dashboard: ordered metrics and a default window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub id: i64,
    pub name: String,
    /// Metric ids, in display order.
    pub metric_ids: Vec<i64>,
    /// Days shown by default (7, 30, 90, or any 1..366).
    pub default_total_days: u32,
    /// Every user has exactly one home dashboard; it cannot be deleted.
    pub is_home: bool,
}

/// `POST /api/v1/dashboards`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Revenue", "metric_ids": [1], "default_total_days": 30})))]
pub struct CreateDashboardRequest {
    pub name: String,
    #[serde(default)]
    pub metric_ids: Vec<i64>,
    #[serde(default)]
    pub default_total_days: Option<u32>,
}

/// `PATCH /api/v1/dashboards/{id}`: rename, reorder/add/remove metrics, change the default window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Home", "default_total_days": 90})))]
pub struct UpdateDashboardRequest {
    pub name: Option<String>,
    pub metric_ids: Option<Vec<i64>>,
    pub default_total_days: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_use_the_seeds_names_and_whole_numbers() {
        let series = Series {
            keys: vec!["currency".into()],
            label_x: vec!["2026-11-24".into(), "2026-11-25".into()],
            label_y: vec![3.0, 2.5],
            label_z: BTreeMap::from([("usd".to_string(), vec![3.0, 2.5])]),
            meta: SeriesMeta {
                records: 4,
                from: "2026-11-24".into(),
                to: "2026-11-25".into(),
                tz: "UTC".into(),
                synced_at: None,
                partial: false,
                source_tz: Some("America/Los_Angeles".into()),
                currency: None,
                sampled: Some(false),
                interval: "day".into(),
                groups_folded: 0,
                kind: None,
            },
        };
        let json = serde_json::to_string(&series).unwrap();
        assert!(
            json.contains(r#""source_tz":"America/Los_Angeles""#),
            "{json}"
        );
        assert!(
            !json.contains(r#""currency":"#),
            "absent meta fields are left out: {json}"
        );
        assert!(json.contains(r#""labelY":[3,2.5]"#), "{json}");
        assert!(json.contains(r#""labelZ":{"usd":[3,2.5]}"#), "{json}");
        assert!(json.contains(r#""labelX":["2026-11-24","2026-11-25"]"#));
        let back: Series = serde_json::from_str(&json).unwrap();
        assert_eq!(back, series);
    }
}
