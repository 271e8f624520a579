pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use crate::auth::AuthUser;
use crate::domain::MetricId;
use crate::error::ApiError;
use crate::state::AppState;

pub fn dashboard_not_found(id: i64) -> ApiError {
    ApiError::not_found(
        "dashboard_not_found",
        format!("There is no dashboard {id}."),
    )
}

/// 400 `invalid_total_days` outside 1..=366.
pub fn check_total_days(days: u32) -> Result<u32, ApiError> {
    if (1..=366).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::bad_request(
            "invalid_total_days",
            "`default_total_days` must be from 1 to 366.",
        ))
    }
}

/// Metrics one dashboard holds at most (each is one bind parameter of the ownership check, and
/// one chart to draw).
pub const MAX_DASHBOARD_METRICS: usize = 100;

/// The ids must be distinct metrics of the caller: 400 `unknown_metric` otherwise, and 400
/// `too_many_metrics` past [`MAX_DASHBOARD_METRICS`].
pub async fn owned_metric_ids(
    state: &AppState,
    user: &AuthUser,
    ids: &[i64],
) -> Result<Vec<MetricId>, ApiError> {
    if ids.len() > MAX_DASHBOARD_METRICS {
        return Err(ApiError::bad_request(
            "too_many_metrics",
            format!("A dashboard holds at most {MAX_DASHBOARD_METRICS} metrics."),
        ));
    }
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let metric_ids: Vec<MetricId> = ids.iter().copied().map(MetricId).collect();
    let owned = state
        .repository
        .count_owned_metrics(user.id, &metric_ids)
        .await?;
    if distinct.len() != ids.len() || owned != i64::try_from(ids.len()).unwrap_or(-1) {
        return Err(ApiError::bad_request(
            "unknown_metric",
            "`metric_ids` must list distinct metrics of yours.",
        ));
    }
    Ok(metric_ids)
}
