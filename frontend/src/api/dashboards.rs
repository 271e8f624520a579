//! `/api/v1/dashboards*`.

use std::future::Future;

use allmetrics_common::{CreateDashboardRequest, Dashboard, UpdateDashboardRequest};

use super::client::{delete, get, patch, post, ApiFailure};

pub fn list_dashboards() -> impl Future<Output = Result<Vec<Dashboard>, ApiFailure>> {
    get("/api/v1/dashboards")
}

pub fn create_dashboard(
    request: &CreateDashboardRequest,
) -> impl Future<Output = Result<Dashboard, ApiFailure>> {
    post("/api/v1/dashboards", request)
}

pub fn get_dashboard(id: i64) -> impl Future<Output = Result<Dashboard, ApiFailure>> {
    get(format!("/api/v1/dashboards/{id}"))
}

pub fn update_dashboard(
    id: i64,
    request: &UpdateDashboardRequest,
) -> impl Future<Output = Result<Dashboard, ApiFailure>> {
    patch(format!("/api/v1/dashboards/{id}"), request)
}

pub fn delete_dashboard(id: i64) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!("/api/v1/dashboards/{id}"))
}

/// The user's home dashboard (every user has one).
pub async fn home_dashboard() -> Result<Dashboard, ApiFailure> {
    list_dashboards()
        .await?
        .into_iter()
        .find(|dashboard| dashboard.is_home)
        .ok_or_else(|| ApiFailure::new("no_home_dashboard", "Your home dashboard was not found."))
}

/// Appends a metric to a dashboard (read, then PATCH its `metric_ids`).
pub async fn add_metric(dashboard_id: i64, metric_id: i64) -> Result<Dashboard, ApiFailure> {
    let dashboard = get_dashboard(dashboard_id).await?;
    let mut metric_ids = dashboard.metric_ids;
    if !metric_ids.contains(&metric_id) {
        metric_ids.push(metric_id);
    }
    update_dashboard(
        dashboard_id,
        &UpdateDashboardRequest {
            metric_ids: Some(metric_ids),
            ..Default::default()
        },
    )
    .await
}
