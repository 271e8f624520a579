//! Sessions: a login starts a refresh-token family; each refresh consumes the presented token and
//! issues the next; presenting a consumed token again revokes the family (theft detection).

use actix_web::HttpResponse;
use allmetrics_common::TokenResponse;
use sha2::{Digest, Sha256};

use super::cookies::{cleared_cookies, session_cookies, SessionCookies};
use super::AuthState;
use crate::db::Repository;
use crate::domain::{NewRefreshToken, User};
use crate::error::ApiError;
use crate::secrets::random_token;

/// Tokens are stored as their SHA-256: a stolen table holds nothing usable.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub struct IssuedSession {
    pub tokens: TokenResponse,
    csrf_token: String,
}

fn invalid_refresh(message: &str) -> ApiError {
    ApiError::unauthorized("invalid_refresh_token", message)
}

async fn issue(
    auth: &AuthState,
    repository: &dyn Repository,
    user: &User,
    family_id: String,
) -> Result<IssuedSession, ApiError> {
    let refresh_token = random_token(32).map_err(ApiError::internal)?;
    let expires_at = chrono::Utc::now().timestamp() + auth.refresh_ttl_secs();
    repository
        .create_refresh_token(NewRefreshToken {
            user_id: user.id,
            family_id: family_id.clone(),
            token_hash: hash_token(&refresh_token),
            expires_at,
        })
        .await?;
    let access_token = auth
        .jwt
        .issue(user, &family_id)
        .map_err(ApiError::internal)?;
    Ok(IssuedSession {
        tokens: TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: auth.jwt.ttl_secs,
            refresh_token,
        },
        csrf_token: random_token(24).map_err(ApiError::internal)?,
    })
}

/// Starts a new session (a new refresh family) for a user who just proved who they are.
pub async fn start(
    auth: &AuthState,
    repository: &dyn Repository,
    user: &User,
) -> Result<IssuedSession, ApiError> {
    issue(auth, repository, user, uuid::Uuid::new_v4().to_string()).await
}

/// Exchanges a refresh token for a new pair, in the same family.
pub async fn rotate(
    auth: &AuthState,
    repository: &dyn Repository,
    presented: &str,
) -> Result<IssuedSession, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let record = repository
        .refresh_token_by_hash(&hash_token(presented))
        .await?
        .ok_or_else(|| invalid_refresh("This refresh token is not valid; sign in again."))?;
    if record.revoked_at.is_some() {
        return Err(invalid_refresh("This session has ended; sign in again."));
    }
    if record.expires_at <= now {
        return Err(invalid_refresh("This session has expired; sign in again."));
    }
    if record.used_at.is_some() || !repository.consume_refresh_token(record.id, now).await? {
        // Only a copy of an already rotated token can be presented twice.
        let revoked = repository
            .revoke_refresh_family(&record.family_id, now)
            .await?;
        tracing::warn!(
            user_id = %record.user_id,
            revoked,
            "a rotated refresh token was reused: the session is revoked"
        );
        return Err(ApiError::unauthorized(
            "refresh_token_reused",
            "This refresh token was already used, so the session was ended for safety; \
             sign in again.",
        ));
    }
    let user = repository
        .user_by_id(record.user_id)
        .await?
        .ok_or_else(|| invalid_refresh("This account no longer exists."))?;
    issue(auth, repository, &user, record.family_id).await
}

/// Ends a session: no token of the family can be refreshed any more.
pub async fn end(repository: &dyn Repository, family_id: &str) -> Result<(), ApiError> {
    repository
        .revoke_refresh_family(family_id, chrono::Utc::now().timestamp())
        .await?;
    Ok(())
}

impl IssuedSession {
    /// The JSON answer, with the same session in cookies for the browser.
    pub fn respond(self, auth: &AuthState) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.insert_header(("cache-control", "no-store"));
        for cookie in self.cookies(auth) {
            response.cookie(cookie);
        }
        response.json(self.tokens)
    }

    /// The session as the browser's cookies.
    pub fn cookies(&self, auth: &AuthState) -> [actix_web::cookie::Cookie<'static>; 3] {
        session_cookies(&SessionCookies {
            access_token: &self.tokens.access_token,
            access_ttl_secs: auth.jwt.ttl_secs,
            refresh_token: &self.tokens.refresh_token,
            refresh_ttl_secs: u64::try_from(auth.refresh_ttl_secs()).unwrap_or(0),
            csrf_token: &self.csrf_token,
            secure: auth.secure_cookies,
        })
    }
}

pub fn signed_out(auth: &AuthState) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    for cookie in cleared_cookies(auth.secure_cookies) {
        response.cookie(cookie);
    }
    response.finish()
}
