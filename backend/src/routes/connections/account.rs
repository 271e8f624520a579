use actix_web::{web, HttpResponse};
use allmetrics_common::{ChooseAccountRequest, ConnectionResponse, ErrorBody};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Chooses the account the connection reads and starts its backfill. Choosing another account
/// than before first deletes everything read from the previous one; choosing the same one again
/// changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/connections/{slug}/account",
    tag = "connections",
    operation_id = "choose_account",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo-analytics")),
    request_body = ChooseAccountRequest,
    responses(
        (status = 200, description = "Chosen; the backfill is scheduled", body = ConnectionResponse),
        (status = 400, description = "`invalid_account`, `accounts_not_supported`", body = ErrorBody),
        (status = 404, description = "`unknown_source`, `not_connected` or `unknown_account`", body = ErrorBody),
        (status = 409, description = "`needs_reconnect`", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`", body = ErrorBody)
    )
)]
pub async fn choose_account(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<ChooseAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let connection = crate::accounts::choose(&state, &user, &slug, &body.id).await?;
    Ok(HttpResponse::Ok().json(super::connection_response(&connection)))
}
