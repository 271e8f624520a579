use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{ErrorBody, RegisterRequest, UserResponse};
use secrecy::SecretString;

use crate::auth::create_account;
use crate::auth::setup_token::create_first_admin;
use crate::configuration::Environment;
use crate::domain::user::normalize_email;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// Create an account. In `local` the first account becomes `admin`; in `production` only the
/// one-time `setup_token` the server printed at its first start makes an `admin` (also while
/// registration is closed). Closed when the server is configured with
/// `auth.registration_open: false` (admins then create accounts).
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    operation_id = "register",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = UserResponse),
        (status = 400, description = "`invalid_email`, `weak_password`, `invalid_json`", body = ErrorBody),
        (status = 403, description = "`registration_closed`, `invalid_setup_token` (wrong, used or expired)", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 429, description = "`rate_limited` (see Retry-After)", body = ErrorBody)
    )
)]
pub async fn register(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let RegisterRequest {
        email,
        password,
        setup_token,
    } = body.into_inner();
    state
        .auth
        .limiter
        .check(&state.auth.client_ip(&request), &normalize_email(&email))?;
    let password = SecretString::from(password);
    let user = match setup_token {
        Some(token) => {
            create_first_admin(state.repository.as_ref(), &email, password, &token).await?
        }
        None => {
            if !state.settings.auth.registration_open {
                return Err(ApiError::forbidden_with(
                    "registration_closed",
                    "Registration is closed on this server; ask an administrator for an account.",
                ));
            }
            // `None`: the first account becomes admin.
            let role = match state.settings.environment {
                Environment::Local => None,
                Environment::Production => Some(Role::User),
            };
            create_account(state.repository.as_ref(), &email, password, role).await?
        }
    };
    tracing::info!(user_id = %user.id, role = user.role.as_str(), "account registered");
    Ok(HttpResponse::Created().json(user.to_response()))
}
