use actix_web::{web, HttpResponse};

use crate::auth::extractor::Credential;
use crate::auth::{session, AuthUser};
use crate::error::ApiError;
use crate::state::AppState;

/// Sign out: the session ends at once (its access and refresh tokens stop working, on every
/// replica) and the browser's cookies are deleted. An API token is not a session: it stays valid
/// until it is revoked or expires.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    operation_id = "logout",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out")
    )
)]
pub async fn logout(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Credential::Session { session_id } = &user.credential {
        session::end(state.repository.as_ref(), session_id).await?;
    }
    tracing::info!(user_id = %user.id, "signed out");
    Ok(session::signed_out(&state.auth))
}
