use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use crate::auth::AuthUser;
use crate::connect;
use crate::error::ApiError;
use crate::state::AppState;

/// Disconnect: deauthorizes at the provider where it can (Stripe deauthorize, token revocation),
/// then deletes the tokens and everything synced for the connection.
#[utoipa::path(
    delete,
    path = "/api/v1/connections/{slug}",
    tag = "connections",
    operation_id = "delete_connection",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn delete_connection(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    connect::disconnect(&state, &user, &slug).await?;
    Ok(HttpResponse::NoContent().finish())
}
