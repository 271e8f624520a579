use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{AuthorizeUrlResponse, ErrorBody};

use super::{error_response, wants_html};
use crate::auth::extractor::authenticate;
use crate::connect;
use crate::state::AppState;

/// Start connecting a data source (the seed's `/connect/authorize/<slug>/`): redirects to the
/// provider with a single-use `state` (and PKCE where the provider supports it). With
/// `Accept: application/json` the provider URL is returned instead. A browser that is not signed
/// in is sent to the sign-in page, and back here after it.
#[utoipa::path(
    get,
    path = "/connect/authorize/{slug}",
    tag = "connect",
    operation_id = "connect_authorize",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 302, description = "Redirect to the provider's consent page"),
        (status = 200, description = "With `Accept: application/json`", body = AuthorizeUrlResponse),
        (status = 404, description = "`unknown_source`: unknown or disabled", body = ErrorBody),
        (status = 409, description = "`source_not_configured`: the server lacks the provider's credentials", body = ErrorBody)
    )
)]
pub async fn authorize(
    request: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> HttpResponse {
    let user = match authenticate(&request).await {
        Ok(user) => user,
        // The access cookie expired (or there is none): the session resumes from the refresh
        // cookie, or the browser signs in, and comes back here.
        Err(_) if wants_html(&request) => {
            return super::resume_session(&format!("/connect/authorize/{slug}"))
        }
        Err(error) => return error_response(&request, error),
    };
    match connect::begin(&state, &user, &slug).await {
        Ok(url) if prefers_json(&request) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(AuthorizeUrlResponse { authorize_url: url }),
        Ok(url) => HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(error) => error_response(&request, error),
    }
}

fn prefers_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}
