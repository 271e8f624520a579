use actix_web::{web, HttpResponse};
use allmetrics_common::{ApiTokenResponse, ErrorBody};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's API tokens, newest first (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    operation_id = "list_tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's tokens", body = [ApiTokenResponse]),
        (status = 401, description = "`unauthorized`, `invalid_token`, `session_ended`", body = ErrorBody),
        (status = 403, description = "`session_required`: an API token cannot list tokens", body = ErrorBody)
    )
)]
pub async fn list_tokens(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require_session()?;
    let tokens = state.repository.list_api_tokens(Some(user.id)).await?;
    let tokens: Vec<ApiTokenResponse> = tokens.iter().map(|token| token.to_response()).collect();
    Ok(HttpResponse::Ok().json(tokens))
}
