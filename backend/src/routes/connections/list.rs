use actix_web::{web, HttpResponse};
use allmetrics_common::ConnectionResponse;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's connections.
#[utoipa::path(
    get,
    path = "/api/v1/connections",
    tag = "connections",
    operation_id = "list_connections",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's connections", body = [ConnectionResponse])
    )
)]
pub async fn list_connections(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let connections = state.repository.list_connections(user.id).await?;
    let body: Vec<ConnectionResponse> =
        connections.iter().map(super::connection_response).collect();
    Ok(HttpResponse::Ok().json(body))
}
