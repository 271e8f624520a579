use actix_web::{web, HttpResponse};
use allmetrics_common::{ApiTokenResponse, ErrorBody};

use crate::auth::AdminUser;
use crate::domain::UserId;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminTokensQuery {
    /// Only this user's tokens.
    pub user_id: Option<i64>,
}

/// Every user's API tokens, newest first (admin only; never the tokens themselves).
#[utoipa::path(
    get,
    path = "/api/v1/admin/tokens",
    tag = "admin",
    operation_id = "admin_list_tokens",
    security(("bearer" = [])),
    params(AdminTokensQuery),
    responses(
        (status = 200, description = "The tokens", body = [ApiTokenResponse]),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token`, `session_ended`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody)
    )
)]
pub async fn list_tokens(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<AdminTokensQuery>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state
        .repository
        .list_api_tokens(query.user_id.map(UserId))
        .await?;
    let tokens: Vec<ApiTokenResponse> = tokens.iter().map(|token| token.to_response()).collect();
    Ok(HttpResponse::Ok().json(tokens))
}
