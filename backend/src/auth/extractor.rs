//! `AuthUser` and `AdminUser`: every protected handler takes one of them, and the check runs on the
//! server before the handler does. A session's access token (a JWT, in the header or the browser's
//! cookie) is checked against its session on every request, so that logout ends it at once on
//! every replica; a personal API token is looked up by its hash.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::api_token;
use super::cookies::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER};
use crate::domain::{ApiTokenId, ApiTokenScope, Role, UserId};
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in caller, from `Authorization: Bearer <token>` or, for browsers, the access cookie.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub credential: Credential,
}

/// What the caller authenticated with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A session's access token; `session_id` is its refresh-token family.
    Session { session_id: String },
    ApiToken {
        id: ApiTokenId,
        scope: ApiTokenScope,
    },
}

impl AuthUser {
    /// 403 `session_required` for API tokens: what only a signed-in person may do (managing
    /// tokens).
    pub fn require_session(&self) -> Result<&str, ApiError> {
        match &self.credential {
            Credential::Session { session_id } => Ok(session_id),
            Credential::ApiToken { .. } => Err(ApiError::forbidden_with(
                "session_required",
                "API tokens cannot manage API tokens: sign in with a password.",
            )),
        }
    }
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

pub async fn authenticate(request: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state is missing")))?;
    let claims = if let Some(token) = bearer_token(request) {
        if api_token::is_api_token(token) {
            return authenticate_api_token(state, request, token).await;
        }
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
    if state.repository.session_revoked(&claims.sid).await? {
        return Err(ApiError::unauthorized(
            "session_ended",
            "This session has ended (signed out, or its refresh token was reused); sign in again.",
        ));
    }
    Ok(AuthUser {
        id,
        role: claims.role,
        credential: Credential::Session {
            session_id: claims.sid,
        },
    })
}

async fn authenticate_api_token(
    state: &AppState,
    request: &HttpRequest,
    token: &str,
) -> Result<AuthUser, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let owner =
        api_token::authenticate(state.repository.as_ref(), token, request.method(), now).await?;
    state.auth.api_token_requests.check(owner.token.id.0)?;
    Ok(AuthUser {
        id: owner.token.user_id,
        role: owner.role,
        credential: Credential::ApiToken {
            id: owner.token.id,
            scope: owner.token.scope,
        },
    })
}

type Authenticating<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Authenticating<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { authenticate(&request).await })
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Authenticating<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let user = authenticate(&request).await?;
            match user.role {
                Role::Admin => Ok(AdminUser(user)),
                Role::User => Err(ApiError::forbidden("This needs an administrator.")),
            }
        })
    }
}
