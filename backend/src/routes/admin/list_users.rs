use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, UserResponse};

use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Every account, oldest first (admin only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    operation_id = "admin_list_users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All users", body = [UserResponse]),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody)
    )
)]
pub async fn list_users(
    _admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.repository.list_users().await?;
    let users: Vec<UserResponse> = users.iter().map(|user| user.to_response()).collect();
    Ok(HttpResponse::Ok().json(users))
}
