use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{Credentials, ErrorBody, TokenResponse};
use secrecy::SecretString;

use crate::auth::{password, session};
use crate::domain::user::normalize_email;
use crate::error::ApiError;
use crate::state::AppState;

/// Sign in. Returns a 15-minute bearer token and a refresh token, and sets the same session as
/// HttpOnly cookies for browsers (plus a readable `allmetrics_csrf` cookie to echo in the
/// `x-csrf-token` header of cookie-authenticated writes).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    operation_id = "login",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`: unknown email or wrong password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "`rate_limited` (see Retry-After)", body = ErrorBody)
    )
)]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner();
    let auth = &state.auth;
    auth.limiter
        .check(&auth.client_ip(&request), &normalize_email(&email))?;

    let account = state.repository.user_credentials_by_email(&email).await?;
    // An unknown email is checked against a dummy hash: same work, same time, same answer.
    let stored_hash = account
        .as_ref()
        .map(|account| account.password_hash.clone())
        .unwrap_or_else(|| auth.dummy_hash.clone());
    let matches = password::verify(stored_hash, SecretString::from(password))
        .await
        .map_err(ApiError::internal)?;
    let user = match account {
        Some(account) if matches => account.user,
        _ => {
            tracing::info!("a sign-in was refused");
            let delay = auth
                .limiter
                .note_failure(&normalize_email(&email), chrono::Utc::now().timestamp());
            tokio::time::sleep(delay).await;
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "The email or the password is incorrect.",
            ));
        }
    };
    let issued = session::start(auth, state.repository.as_ref(), &user).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(issued.respond(auth))
}
