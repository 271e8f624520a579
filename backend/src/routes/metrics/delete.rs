use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use super::metric_not_found;
use crate::auth::AuthUser;
use crate::domain::MetricId;
use crate::error::ApiError;
use crate::state::AppState;

/// Delete a metric (it leaves every dashboard too).
#[utoipa::path(
    delete,
    path = "/api/v1/metrics/{id}",
    tag = "metrics",
    operation_id = "delete_metric",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Metric id", example = 2)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`metric_not_found`", body = ErrorBody)
    )
)]
pub async fn delete_metric(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if state
        .repository
        .delete_metric(user.id, MetricId(id))
        .await?
    {
        crate::query::rollup::prune(&state, &user).await?;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(metric_not_found(id))
    }
}
