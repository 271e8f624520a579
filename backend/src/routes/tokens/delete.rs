use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use super::token_not_found;
use crate::auth::AuthUser;
use crate::domain::ApiTokenId;
use crate::error::ApiError;
use crate::state::AppState;

/// Revoke one of the caller's API tokens: it stops working at once, on every replica.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    operation_id = "delete_token",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "API token id", example = 1)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `session_ended`", body = ErrorBody),
        (status = 403, description = "`session_required`: an API token cannot revoke tokens", body = ErrorBody),
        (status = 404, description = "`token_not_found`", body = ErrorBody)
    )
)]
pub async fn delete_token(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require_session()?;
    let id = id.into_inner();
    if !state
        .repository
        .delete_api_token(Some(user.id), ApiTokenId(id))
        .await?
    {
        return Err(token_not_found(id));
    }
    tracing::info!(user_id = %user.id, token_id = id, "API token revoked");
    Ok(HttpResponse::NoContent().finish())
}
