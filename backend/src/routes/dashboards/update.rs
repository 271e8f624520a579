use actix_web::{web, HttpResponse};
use allmetrics_common::{Dashboard, ErrorBody, UpdateDashboardRequest};

use super::{check_total_days, dashboard_not_found, owned_metric_ids};
use crate::auth::AuthUser;
use crate::domain::{DashboardId, DashboardPatch};
use crate::error::ApiError;
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Rename a dashboard, set its metrics (in display order: add, remove, reorder), or its default
/// window.
#[utoipa::path(
    patch,
    path = "/api/v1/dashboards/{id}",
    tag = "dashboards",
    operation_id = "update_dashboard",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Dashboard id", example = 1)),
    request_body = UpdateDashboardRequest,
    responses(
        (status = 200, description = "Updated", body = Dashboard),
        (status = 400, description = "`invalid_name`, `unknown_metric`, `invalid_total_days`", body = ErrorBody),
        (status = 404, description = "`dashboard_not_found`", body = ErrorBody)
    )
)]
pub async fn update_dashboard(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: crate::routes::extractors::Json<UpdateDashboardRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let request = body.into_inner();
    let patch = DashboardPatch {
        name: request
            .name
            .map(|name| validate_display_name(&name, "name"))
            .transpose()?,
        metric_ids: match request.metric_ids {
            Some(ids) => Some(owned_metric_ids(&state, &user, &ids).await?),
            None => None,
        },
        default_total_days: request
            .default_total_days
            .map(check_total_days)
            .transpose()?,
    };
    let dashboard = state
        .repository
        .update_dashboard(user.id, DashboardId(id), &patch)
        .await?
        .ok_or_else(|| dashboard_not_found(id))?;
    Ok(HttpResponse::Ok().json(dashboard.to_response()))
}
