use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use crate::auth::AdminUser;
use crate::domain::ApiTokenId;
use crate::error::ApiError;
use crate::routes::tokens::token_not_found;
use crate::state::AppState;

/// Revoke any user's API token (admin only): it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/tokens/{id}",
    tag = "admin",
    operation_id = "admin_delete_token",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "API token id", example = 1)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `session_ended`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 404, description = "`token_not_found`", body = ErrorBody)
    )
)]
pub async fn delete_token(
    admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if !state
        .repository
        .delete_api_token(None, ApiTokenId(id))
        .await?
    {
        return Err(token_not_found(id));
    }
    tracing::info!(admin_id = %admin.0.id, token_id = id, "API token revoked by an administrator");
    Ok(HttpResponse::NoContent().finish())
}
