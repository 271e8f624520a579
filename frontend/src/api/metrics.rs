//! `/api/v1/metrics*`.

use std::future::Future;

use allmetrics_common::{CreateMetricRequest, Metric, Series, UpdateMetricRequest};

use super::client::{delete, get, patch, post, ApiFailure};
use frontend_logic::url::query_string;
use frontend_logic::window::Window;

pub fn list_metrics() -> impl Future<Output = Result<Vec<Metric>, ApiFailure>> {
    get("/api/v1/metrics")
}

pub fn create_metric(
    request: &CreateMetricRequest,
) -> impl Future<Output = Result<Metric, ApiFailure>> {
    post("/api/v1/metrics", request)
}

pub fn get_metric(id: i64) -> impl Future<Output = Result<Metric, ApiFailure>> {
    get(format!("/api/v1/metrics/{id}"))
}

pub fn update_metric(
    id: i64,
    request: &UpdateMetricRequest,
) -> impl Future<Output = Result<Metric, ApiFailure>> {
    patch(format!("/api/v1/metrics/{id}"), request)
}

pub fn delete_metric(id: i64) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!("/api/v1/metrics/{id}"))
}

/// The query string of a window.
pub fn window_query(window: &Window) -> String {
    let pairs = window.query_pairs();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    query_string(&pairs)
}

/// `GET /api/v1/metrics/{id}/series?total_days=&end=&tz=&interval=`.
pub fn metric_series(id: i64, window: &Window) -> impl Future<Output = Result<Series, ApiFailure>> {
    get(format!(
        "/api/v1/metrics/{id}/series{}",
        window_query(window)
    ))
}
