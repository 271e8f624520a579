//! `GET /connect/query/{slug}`: a series for ad-hoc choices (the metric builder's preview).

use allmetrics_common::Series;

use super::client::{get, segment, ApiFailure};
use frontend_logic::interval::Interval;
use frontend_logic::url::query_string;

/// The choices of a query; empty strings are left out of the URL (`interval` always goes along,
/// `day` being the API's default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pub object_name: String,
    pub operator: String,
    pub field_name: String,
    pub value_field: String,
    pub date_field: String,
    pub total_days: u32,
    pub end: String,
    pub tz: String,
    pub interval: Interval,
}

impl QueryParams {
    pub fn to_query_string(&self) -> String {
        let days = self.total_days.to_string();
        query_string(&[
            ("object_name", &self.object_name),
            ("operator", &self.operator),
            ("field_name", &self.field_name),
            ("value_field", &self.value_field),
            ("date_field", &self.date_field),
            ("total_days", &days),
            ("end", &self.end),
            ("tz", &self.tz),
            ("interval", self.interval.as_str()),
        ])
    }
}

pub async fn query(slug: &str, params: &QueryParams) -> Result<Series, ApiFailure> {
    get(format!(
        "/connect/query/{}{}",
        segment(slug),
        params.to_query_string()
    ))
    .await
}
