//! Personal API tokens: `am_pat_` and 256 random bits, kept as their SHA-256. A request that sends
//! one is its owner's, within the token's scope and its own rate limit.

use actix_web::http::Method;

use super::session::hash_token;
use crate::db::Repository;
use crate::domain::{ApiTokenOwner, ApiTokenScope};
use crate::error::ApiError;
use crate::secrets::random_token;

/// How every token starts: recognisable in a log or a secret scanner.
pub const PREFIX: &str = "am_pat_";
/// Characters of a token shown in lists (the prefix and four more).
const SHOWN: usize = PREFIX.len() + 4;
/// A use is recorded at most this often (seconds): every request would otherwise be a write.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

pub fn is_api_token(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// A new token and what is stored of it: its hash and its first characters.
pub struct GeneratedToken {
    pub token: String,
    pub hash: String,
    pub prefix: String,
}

pub fn generate() -> anyhow::Result<GeneratedToken> {
    let token = format!("{PREFIX}{}", random_token(32)?);
    Ok(GeneratedToken {
        hash: hash_token(&token),
        prefix: token.chars().take(SHOWN).collect(),
        token,
    })
}

fn invalid() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "This API token is not valid: it was revoked, has expired or never existed.",
    )
}

/// The token's owner, if the token is live and its scope allows `method`; its use is recorded
/// (at most once a minute).
pub async fn authenticate(
    repository: &dyn Repository,
    presented: &str,
    method: &Method,
    now: i64,
) -> Result<ApiTokenOwner, ApiError> {
    let found = repository
        .api_token_by_hash(&hash_token(presented))
        .await?
        .ok_or_else(invalid)?;
    if found.token.expired(now) {
        return Err(invalid());
    }
    let reads_only = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if found.token.scope == ApiTokenScope::Read && !reads_only {
        return Err(ApiError::forbidden_with(
            "insufficient_scope",
            "This API token may only read: create a `write` token to create, change or delete.",
        ));
    }
    let recorded_recently = found
        .token
        .last_used_at
        .is_some_and(|at| now - at < LAST_USED_GRANULARITY_SECS);
    if !recorded_recently {
        repository
            .touch_api_token(found.token.id, now, LAST_USED_GRANULARITY_SECS)
            .await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_stored_as_their_hash() {
        let first = generate().unwrap();
        let second = generate().unwrap();
        assert!(is_api_token(&first.token));
        // 32 bytes in unpadded base64url: 43 characters after the prefix.
        assert_eq!(first.token.len(), PREFIX.len() + 43);
        assert_ne!(first.token, second.token);
        assert_eq!(first.hash, hash_token(&first.token));
        assert!(!first.hash.contains(&first.token[PREFIX.len()..]));
        assert_eq!(first.prefix, &first.token[..SHOWN]);
    }
}
