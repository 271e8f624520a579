use actix_web::{web, HttpResponse};
use allmetrics_common::{ApiKeyRequest, ConnectionResponse, ErrorBody};
use secrecy::SecretString;

use crate::auth::AuthUser;
use crate::connect;
use crate::error::ApiError;
use crate::state::AppState;

/// Connect with an API key instead of OAuth (Stripe recommends restricted keys for new
/// platforms). The key is checked with one read call, then stored encrypted.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{slug}/key",
    tag = "connections",
    operation_id = "connect_api_key",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    request_body = ApiKeyRequest,
    responses(
        (status = 201, description = "Connected", body = ConnectionResponse),
        (status = 400, description = "`invalid_api_key`, `api_key_not_supported`", body = ErrorBody),
        (status = 404, description = "`unknown_source`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: ten key checks a minute per user (`APP_AUTH__KEY_CHECKS_PER_MINUTE`)", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: the key could not be checked", body = ErrorBody)
    )
)]
pub async fn connect_api_key(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<ApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let api_key = SecretString::from(body.into_inner().api_key);
    let connection = connect::connect_with_api_key(&state, &user, &slug, api_key).await?;
    Ok(HttpResponse::Created().json(super::connection_response(&connection)))
}
