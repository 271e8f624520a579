//! `AuthUser` and `AdminUser`: every protected handler takes one of them, and the check runs on the
//! server before the handler does.

use std::future::{ready, Ready};

use actix_web::http::Method;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::cookies::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER};
use crate::domain::{Role, UserId};
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in caller, from `Authorization: Bearer <token>` or, for browsers, the access cookie.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    /// The refresh-token family this access token belongs to.
    pub session_id: String,
}

/// A signed-in admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// State-changing requests authenticated by cookie alone must echo the CSRF cookie in a header.
pub fn check_csrf(request: &HttpRequest) -> Result<(), ApiError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let cookie = request.cookie(CSRF_COOKIE);
    let header = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok());
    match (cookie, header) {
        (Some(cookie), Some(header)) if !header.is_empty() && cookie.value() == header => Ok(()),
        _ => Err(ApiError::forbidden_with(
            "csrf_failed",
            "This request was authenticated by cookie and needs the x-csrf-token header.",
        )),
    }
}

pub fn authenticate(request: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state is missing")))?;
    let claims = if let Some(token) = bearer_token(request) {
        state.auth.jwt.verify(token)?
    } else if let Some(cookie) = request.cookie(ACCESS_COOKIE) {
        let claims = state.auth.jwt.verify(cookie.value())?;
        check_csrf(request)?;
        claims
    } else {
        return Err(ApiError::unauthorized(
            "unauthorized",
            "Sign in first: send `Authorization: Bearer <access_token>`.",
        ));
    };
    let id = claims
        .user_id()
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "The access token is not valid."))?;
    Ok(AuthUser {
        id,
        role: claims.role,
        session_id: claims.sid,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(request).and_then(|user| match user.role {
            Role::Admin => Ok(AdminUser(user)),
            Role::User => Err(ApiError::forbidden("This needs an administrator.")),
        }))
    }
}
