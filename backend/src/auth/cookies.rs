//! Browser sessions. The tokens of the JSON answer are also set as HttpOnly cookies, so that a
//! plain link such as `/connect/authorize/stripe` is authenticated. Cookie-authenticated requests
//! that change state must echo the (readable) CSRF cookie in the `x-csrf-token` header: another
//! site can make the browser send our cookies, but cannot read them.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};

pub const ACCESS_COOKIE: &str = "allmetrics_access";
pub const REFRESH_COOKIE: &str = "allmetrics_refresh";
pub const CSRF_COOKIE: &str = "allmetrics_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The refresh cookie is only sent to the endpoints that use it.
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

pub struct SessionCookies<'a> {
    pub access_token: &'a str,
    pub access_ttl_secs: u64,
    pub refresh_token: &'a str,
    pub refresh_ttl_secs: u64,
    pub csrf_token: &'a str,
    /// Set `Secure` when the public URL is https.
    pub secure: bool,
}

fn cookie<'c>(
    name: &'c str,
    value: String,
    path: &'c str,
    ttl_secs: u64,
    http_only: bool,
    secure: bool,
) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(path)
        .http_only(http_only)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(
            i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        ))
        .finish()
}

pub fn session_cookies(session: &SessionCookies<'_>) -> [Cookie<'static>; 3] {
    [
        cookie(
            ACCESS_COOKIE,
            session.access_token.to_string(),
            "/",
            session.access_ttl_secs,
            true,
            session.secure,
        ),
        cookie(
            REFRESH_COOKIE,
            session.refresh_token.to_string(),
            REFRESH_COOKIE_PATH,
            session.refresh_ttl_secs,
            true,
            session.secure,
        ),
        // Readable by the app's own script, which echoes it in the CSRF header.
        cookie(
            CSRF_COOKIE,
            session.csrf_token.to_string(),
            "/",
            session.refresh_ttl_secs,
            false,
            session.secure,
        ),
    ]
}

/// Cookies that delete the session's cookies.
pub fn cleared_cookies(secure: bool) -> [Cookie<'static>; 3] {
    [
        cookie(ACCESS_COOKIE, String::new(), "/", 0, true, secure),
        cookie(
            REFRESH_COOKIE,
            String::new(),
            REFRESH_COOKIE_PATH,
            0,
            true,
            secure,
        ),
        cookie(CSRF_COOKIE, String::new(), "/", 0, false, secure),
    ]
}
