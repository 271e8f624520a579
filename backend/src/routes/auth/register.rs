use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{Credentials, ErrorBody, UserResponse};
use secrecy::SecretString;

use crate::auth::create_account;
use crate::domain::user::normalize_email;
use crate::error::ApiError;
use crate::state::AppState;

/// Create an account. The first account becomes `admin`. Closed when the server is configured with
/// `auth.registration_open: false` (admins then create accounts).
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = UserResponse),
        (status = 400, description = "`invalid_email`, `weak_password`, `invalid_json`", body = ErrorBody),
        (status = 403, description = "`registration_closed`", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 429, description = "`rate_limited` (see Retry-After)", body = ErrorBody)
    )
)]
pub async fn register(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner();
    state
        .auth
        .limiter
        .check(&state.auth.client_ip(&request), &normalize_email(&email))?;
    if !state.settings.auth.registration_open {
        return Err(ApiError::forbidden_with(
            "registration_closed",
            "Registration is closed on this server; ask an administrator for an account.",
        ));
    }
    let user = create_account(
        state.repository.as_ref(),
        &email,
        SecretString::from(password),
        None,
    )
    .await?;
    tracing::info!(user_id = %user.id, role = user.role.as_str(), "account registered");
    Ok(HttpResponse::Created().json(user.to_response()))
}
