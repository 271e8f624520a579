use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use super::dashboard_not_found;
use crate::auth::AuthUser;
use crate::domain::DashboardId;
use crate::error::ApiError;
use crate::state::AppState;

/// Delete a dashboard (its metrics stay). The home dashboard cannot be deleted.
#[utoipa::path(
    delete,
    path = "/api/v1/dashboards/{id}",
    tag = "dashboards",
    operation_id = "delete_dashboard",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Dashboard id", example = 2)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`dashboard_not_found`", body = ErrorBody),
        (status = 409, description = "`home_dashboard`: the home dashboard stays", body = ErrorBody)
    )
)]
pub async fn delete_dashboard(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    // The store never deletes the home dashboard; when nothing was deleted, say why.
    if !state
        .repository
        .delete_dashboard(user.id, DashboardId(id))
        .await?
    {
        let dashboard = state
            .repository
            .dashboard(user.id, DashboardId(id))
            .await?
            .ok_or_else(|| dashboard_not_found(id))?;
        if dashboard.is_home {
            return Err(ApiError::conflict(
                "home_dashboard",
                "The home dashboard cannot be deleted; remove its metrics instead.",
            ));
        }
        return Err(dashboard_not_found(id));
    }
    Ok(HttpResponse::NoContent().finish())
}
