use actix_web::{web, HttpResponse};
use allmetrics_common::{Dashboard, ErrorBody};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's dashboards, the home dashboard first (created on first use).
#[utoipa::path(
    get,
    path = "/api/v1/dashboards",
    tag = "dashboards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's dashboards", body = [Dashboard]),
        (status = 401, description = "`unauthorized`", body = ErrorBody)
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
