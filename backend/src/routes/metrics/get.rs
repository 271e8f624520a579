use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, Metric};

use super::owned_metric;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// One of the caller's metrics.
#[utoipa::path(
    get,
    path = "/api/v1/metrics/{id}",
    tag = "metrics",
    operation_id = "get_metric",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Metric id", example = 1)),
    responses(
        (status = 200, description = "The metric", body = Metric),
        (status = 404, description = "`metric_not_found`", body = ErrorBody)
    )
)]
pub async fn get_metric(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let metric = owned_metric(&state, &user, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(metric.to_response()))
}
