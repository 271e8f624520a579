use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{ErrorBody, RefreshRequest, TokenResponse};

use crate::auth::cookies::REFRESH_COOKIE;
use crate::auth::{extractor, session};
use crate::error::ApiError;
use crate::routes::extractors::parse_json;
use crate::state::AppState;

/// Exchange a refresh token for a new access token and a new refresh token (the old one is spent).
/// Presenting a spent refresh token again ends the whole session (`refresh_token_reused`).
/// Browsers may send no body: the refresh cookie is used, with the `x-csrf-token` header.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    operation_id = "refresh",
    security((), ("refresh_cookie" = [])),
    request_body(content = Option<RefreshRequest>, description = "Optional for browsers, which use the refresh cookie"),
    responses(
        (status = 200, description = "A new session pair", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`: cookie refresh without the CSRF header", body = ErrorBody)
    )
)]
pub async fn refresh(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let presented = if body.iter().all(u8::is_ascii_whitespace) {
        let cookie = request.cookie(REFRESH_COOKIE).ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_refresh_token",
                "Send {\"refresh_token\": ...} or the refresh cookie.",
            )
        })?;
        extractor::check_csrf(&request)?;
        cookie.value().to_string()
    } else {
        parse_json::<RefreshRequest>(&body)?.refresh_token
    };
    let issued = session::rotate(&state.auth, state.repository.as_ref(), &presented).await?;
    Ok(issued.respond(&state.auth))
}
