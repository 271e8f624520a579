use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::ErrorBody;

use super::error_response;
use crate::auth::extractor::authenticate;
use crate::connect::{self, CallbackOutcome, CallbackParams};
use crate::state::AppState;

/// The OAuth redirect URI (`{base_url}/connect/oauth/callback/{slug}/`). Checks and burns the
/// `state`, exchanges the code, stores the encrypted tokens, and sends the browser to
/// `/sources?connected={slug}`, or to `/sources?error={code}` when the user declined. Nothing is
/// stored on any failure.
#[utoipa::path(
    get,
    path = "/connect/oauth/callback/{slug}",
    tag = "connect",
    operation_id = "connect_callback",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo"), CallbackParams),
    responses(
        (status = 302, description = "To `/sources?connected={slug}` or `/sources?error={code}`; a browser (`Accept: text/html`) without a valid session goes to `/api/v1/auth/resume` first"),
        (status = 400, description = "`invalid_state`: missing, unknown, expired, reused, or for another user or source; `missing_code`: the provider sent no code", body = ErrorBody),
        (status = 404, description = "`unknown_source`: unknown or disabled", body = ErrorBody),
        (status = 502, description = "`token_exchange_failed`: the provider's token endpoint failed", body = ErrorBody)
    )
)]
pub async fn callback(
    request: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: web::Query<CallbackParams>,
) -> HttpResponse {
    let user = match authenticate(&request).await {
        Ok(user) => user,
        // A user who took a while at the provider: the session resumes from the refresh cookie
        // and the callback runs then (its state is not spent yet).
        Err(_) if super::wants_html(&request) => {
            return super::resume_session(&request.uri().to_string())
        }
        Err(error) => return error_response(&request, error),
    };
    let redirect = |location: String| {
        HttpResponse::Found()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    };
    let encoded_slug: String = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect();
    match connect::complete(&state, &user, &slug, params.into_inner()).await {
        Ok(CallbackOutcome::Connected) => redirect(format!("/sources?connected={encoded_slug}")),
        Ok(CallbackOutcome::Declined { code }) => {
            redirect(format!("/sources?error={code}&source={encoded_slug}"))
        }
        Err(error) => error_response(&request, error),
    }
}
