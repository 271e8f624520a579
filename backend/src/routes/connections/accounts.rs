use actix_web::{web, HttpResponse};
use allmetrics_common::{AccountResponse, ErrorBody};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The accounts the caller's connection can read (Google Analytics: its GA4 properties; Facebook:
/// its ad accounts), for the account picker. (When the grant can read exactly one, connecting
/// chose it already.)
#[utoipa::path(
    get,
    path = "/api/v1/connections/{slug}/accounts",
    tag = "connections",
    operation_id = "list_accounts",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo-analytics")),
    responses(
        (status = 200, description = "The accounts", body = [AccountResponse]),
        (status = 400, description = "`accounts_not_supported`: the source reads the connected account itself", body = ErrorBody),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody),
        (status = 409, description = "`needs_reconnect`", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`", body = ErrorBody)
    )
)]
pub async fn list_accounts(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let accounts = crate::accounts::list(&state, &user, &slug).await?;
    Ok(HttpResponse::Ok().json(accounts))
}
