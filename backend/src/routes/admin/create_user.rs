use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateUserRequest, ErrorBody, Role, UserResponse};
use secrecy::SecretString;

use crate::auth::{create_account, AdminUser};
use crate::error::ApiError;
use crate::state::AppState;

/// Create an account (admin only; works when registration is closed).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    operation_id = "admin_create_user",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Account created", body = UserResponse),
        (status = 400, description = "`invalid_email`, `weak_password`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody)
    )
)]
pub async fn create_user(
    admin: AdminUser,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let CreateUserRequest {
        email,
        password,
        role,
    } = body.into_inner();
    let user = create_account(
        state.repository.as_ref(),
        &email,
        SecretString::from(password),
        Some(role.unwrap_or(Role::User)),
    )
    .await?;
    tracing::info!(user_id = %user.id, by = %admin.0.id, "account created by an admin");
    Ok(HttpResponse::Created().json(user.to_response()))
}
