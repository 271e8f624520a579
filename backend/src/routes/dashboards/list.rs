use actix_web::{web, HttpResponse};
use allmetrics_common::Dashboard;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's dashboards, the home dashboard first (created on first use).
#[utoipa::path(
    get,
    path = "/api/v1/dashboards",
    tag = "dashboards",
    operation_id = "list_dashboards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's dashboards", body = [Dashboard])
    )
)]
pub async fn list_dashboards(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let dashboards = state.repository.list_dashboards(user.id).await?;
    let body: Vec<Dashboard> = dashboards.iter().map(|d| d.to_response()).collect();
    Ok(HttpResponse::Ok().json(body))
}
