use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::cookies::REFRESH_COOKIE;
use crate::auth::session;
use crate::state::AppState;

/// Where a resumed browser session may go back to: the connect flow's own pages.
fn safe_next(next: &str) -> Option<&str> {
    let allowed =
        next.starts_with("/connect/authorize/") || next.starts_with("/connect/oauth/callback/");
    (allowed && !next.contains("//") && !next.contains('\\')).then_some(next)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResumeParams {
    /// A path of the connect flow (`/connect/authorize/...` or `/connect/oauth/callback/...`).
    pub next: String,
}

/// For the browser: a connect link or an OAuth callback reached with an expired access cookie
/// is sent here, where the refresh cookie lives (its path is `/api/v1/auth`). The session is
/// rotated and the browser goes back to `next` with fresh cookies; without a usable refresh
/// cookie it goes to the sign-in page. Only connect-flow paths are accepted as `next`.
#[utoipa::path(
    get,
    path = "/api/v1/auth/resume",
    tag = "auth",
    operation_id = "resume",
    security(("refresh_cookie" = []), ()),
    params(ResumeParams),
    responses(
        (status = 302, description = "Back to `next` with new session cookies, or to `/login`")
    )
)]
pub async fn resume(
    request: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ResumeParams>,
) -> HttpResponse {
    let next = safe_next(&params.next).unwrap_or("/sources");
    let login = || {
        let back: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        HttpResponse::Found()
            .insert_header((header::LOCATION, format!("/login?next={back}")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    };
    let Some(cookie) = request.cookie(REFRESH_COOKIE) else {
        return login();
    };
    match session::rotate(&state.auth, state.repository.as_ref(), cookie.value()).await {
        Ok(issued) => {
            let mut response = HttpResponse::Found();
            response
                .insert_header((header::LOCATION, next))
                .insert_header((header::CACHE_CONTROL, "no-store"));
            for cookie in issued.cookies(&state.auth) {
                response.cookie(cookie);
            }
            response.finish()
        }
        Err(_) => login(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_connect_paths_are_resumed() {
        assert!(safe_next("/connect/authorize/stripe").is_some());
        assert!(safe_next("/connect/oauth/callback/google/?code=c&state=s").is_some());
        for other in [
            "https://evil.example/",
            "//evil.example",
            "/connect/authorize//evil",
            "/api/v1/me",
            "/connect/authorize\\x",
        ] {
            assert!(safe_next(other).is_none(), "{other}");
        }
    }
}
