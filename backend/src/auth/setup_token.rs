//! The first administrator of a production server. Registration there makes no admin: the
//! server prints a one-time setup token at its first start (while no admin exists), and
//! `POST /api/v1/auth/register` with that token makes its account admin. The token is kept as its
//! SHA-256 in the database (one for all replicas), expires, and is used up by the account it
//! makes. `allmetrics admin create-user --admin` is the other way.

use secrecy::{ExposeSecret, SecretString};

use super::password;
use super::session::hash_token;
use crate::configuration::{Environment, Settings};
use crate::db::{DbError, Repository};
use crate::domain::{NewUser, Role, User};
use crate::error::ApiError;

/// How long a setup token is valid; a server started later, still without an admin, prints a
/// new one.
pub const SETUP_TOKEN_TTL_SECS: i64 = 24 * 3600;

/// What start-up found.
#[derive(Debug)]
pub enum SetupToken {
    /// An administrator exists: nothing to set up.
    NotNeeded,
    /// This server made the token (shown once, here only).
    Issued {
        token: SecretString,
        expires_at: i64,
    },
    /// Another server (or an earlier start) made a token that is still valid.
    Pending { expires_at: i64 },
}

/// Makes the setup token unless an admin or a valid token exists.
pub async fn prepare(repository: &dyn Repository, now: i64) -> anyhow::Result<SetupToken> {
    if repository.admin_exists().await? {
        return Ok(SetupToken::NotNeeded);
    }
    let token = SecretString::from(format!("setup_{}", crate::secrets::random_token(32)?));
    let expires_at = now.saturating_add(SETUP_TOKEN_TTL_SECS);
    if repository
        .issue_setup_token(&hash_token(token.expose_secret()), now, expires_at)
        .await?
    {
        return Ok(SetupToken::Issued { token, expires_at });
    }
    Ok(match repository.setup_token_expiry().await? {
        Some(expires_at) => SetupToken::Pending { expires_at },
        // Used between the two reads: an admin exists now.
        None => SetupToken::NotNeeded,
    })
}

/// At start-up in production: prints the setup token while no admin exists.
pub async fn announce(settings: &Settings, repository: &dyn Repository) -> anyhow::Result<()> {
    if settings.environment != Environment::Production {
        return Ok(());
    }
    let at = |seconds: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, 0)
            .map(|at| at.to_rfc3339())
            .unwrap_or_default()
    };
    match prepare(repository, chrono::Utc::now().timestamp()).await? {
        SetupToken::NotNeeded => {}
        SetupToken::Issued { token, expires_at } => tracing::warn!(
            setup_token = token.expose_secret(),
            expires_at = at(expires_at),
            "no administrator yet: register the first one with this one-time setup token \
             (POST /api/v1/auth/register with \"setup_token\"), or run \
             `allmetrics admin create-user --admin`"
        ),
        SetupToken::Pending { expires_at } => tracing::warn!(
            expires_at = at(expires_at),
            "no administrator yet: a setup token was printed by the server that started first \
             (a new one is printed at a start after it expires), or run \
             `allmetrics admin create-user --admin`"
        ),
    }
    Ok(())
}

/// 403 `invalid_setup_token`: wrong, used or expired, or an admin exists already.
fn invalid_setup_token() -> ApiError {
    ApiError::forbidden_with(
        "invalid_setup_token",
        "This setup token is not valid: it is wrong, used, or expired, or an administrator \
         exists already.",
    )
}

/// Registers the first administrator with the setup token; nothing is stored when the token
/// is refused.
pub async fn create_first_admin(
    repository: &dyn Repository,
    email: &str,
    password: SecretString,
    setup_token: &str,
) -> Result<User, ApiError> {
    let email = super::validate_email(email)?;
    password::check_policy(password.expose_secret())?;
    if setup_token.is_empty() || setup_token.len() > 256 {
        return Err(invalid_setup_token());
    }
    let password_hash = password::hash(password).await.map_err(ApiError::internal)?;
    repository
        .create_admin_with_setup_token(
            NewUser {
                email,
                password_hash,
                role: Some(Role::Admin),
            },
            &hash_token(setup_token),
            chrono::Utc::now().timestamp(),
        )
        .await
        .map_err(|error| match error {
            DbError::Conflict(_) => {
                ApiError::conflict("email_taken", "An account with this email already exists.")
            }
            other => other.into(),
        })?
        .ok_or_else(invalid_setup_token)
}
