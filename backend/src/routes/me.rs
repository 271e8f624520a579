use actix_web::{web, HttpResponse};
use allmetrics_common::UserResponse;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    operation_id = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse)
    )
)]
pub async fn me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let user =
        state.repository.user_by_id(user.id).await?.ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "This account no longer exists.")
        })?;
    Ok(HttpResponse::Ok().json(user.to_response()))
}
