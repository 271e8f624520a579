use actix_web::{web, HttpResponse};
use allmetrics_common::Metric;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's metrics.
#[utoipa::path(
    get,
    path = "/api/v1/metrics",
    tag = "metrics",
    operation_id = "list_metrics",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's metrics", body = [Metric])
    )
)]
pub async fn list_metrics(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let metrics = state.repository.list_metrics(user.id).await?;
    let body: Vec<Metric> = metrics.iter().map(|metric| metric.to_response()).collect();
    Ok(HttpResponse::Ok().json(body))
}
