use actix_web::{web, HttpResponse};
use allmetrics_common::{AdminSourceResponse, ErrorBody};

use super::admin_source_response;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Every data source, enabled or not, with its configuration state and connection count.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sources",
    tag = "admin",
    operation_id = "admin_list_sources",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All data sources", body = [AdminSourceResponse]),
        (status = 403, description = "`forbidden`", body = ErrorBody)
    )
)]
pub async fn list_sources(
    _admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sources = state.repository.list_data_sources(true).await?;
    let counts = state.repository.connection_counts().await?;
    let body: Vec<AdminSourceResponse> = sources
        .iter()
        .map(|source| admin_source_response(&state, source, &counts))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
