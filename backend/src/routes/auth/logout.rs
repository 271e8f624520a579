use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use crate::auth::{session, AuthUser};
use crate::error::ApiError;
use crate::state::AppState;

/// Sign out: the session's refresh tokens are revoked and the browser's cookies deleted.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthorized` or `invalid_token`", body = ErrorBody)
    )
)]
pub async fn logout(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    session::end(state.repository.as_ref(), &user.session_id).await?;
    tracing::info!(user_id = %user.id, "signed out");
    Ok(session::signed_out(&state.auth))
}
