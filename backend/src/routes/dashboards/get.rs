use actix_web::{web, HttpResponse};
use allmetrics_common::{Dashboard, ErrorBody};

use super::dashboard_not_found;
use crate::auth::AuthUser;
use crate::domain::DashboardId;
use crate::error::ApiError;
use crate::state::AppState;

/// One of the caller's dashboards.
#[utoipa::path(
    get,
    path = "/api/v1/dashboards/{id}",
    tag = "dashboards",
    operation_id = "get_dashboard",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Dashboard id", example = 1)),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 404, description = "`dashboard_not_found`", body = ErrorBody)
    )
)]
pub async fn get_dashboard(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let dashboard = state
        .repository
        .dashboard(user.id, DashboardId(id))
        .await?
        .ok_or_else(|| dashboard_not_found(id))?;
    Ok(HttpResponse::Ok().json(dashboard.to_response()))
}
