//! Keeping provider tokens usable: refreshed before use and ahead of expiry (under a lease in the
//! database, so replicas never refresh one token twice), decrypted for the code that calls the
//! provider, and re-encrypted when the key rotates. Connect and sync both use it.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::db::DbError;
use crate::domain::{Connection, ConnectionStatus, ConnectionTokens, UserId};
use crate::providers::oauth::{self, Grant};
use crate::services::Services;

/// Tokens with less left than this are refreshed before use.
pub const REFRESH_MARGIN_SECS: i64 = 5 * 60;
/// How long one refresh may hold the connection's refresh lease.
const REFRESH_LEASE_SECS: i64 = 60;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Where a value is stored, bound into its encryption: a ciphertext moved elsewhere fails.
pub fn token_context(user: UserId, slug: &str, field: &str) -> String {
    format!("{user}/{slug}/{field}")
}

/// When a granted token expires (unix seconds), if it does.
pub fn expires_at(grant: &Grant) -> Option<i64> {
    grant.expires_in.map(|lifetime| {
        now().saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The provider refused the refresh token: the connection now needs a reconnect.
    #[error("the provider refused the refresh token; the connection needs a reconnect")]
    NeedsReconnect,
    #[error("the token cannot be refreshed now: {0}")]
    Temporary(String),
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// Refreshes the connection's token, unless another process is doing it (then waits for its
/// result). An `invalid_grant` marks the connection `needs_reconnect`.
pub async fn refresh_connection(
    services: &Services,
    connection: &Connection,
) -> Result<Connection, RefreshError> {
    let repository = &services.repository;
    // Another process holds the lease: its result is awaited for as long as its lease can last
    // (a refresh token may be single-use, so a second refresh of the same token would be refused).
    let give_up_at = now() + REFRESH_LEASE_SECS + 1;
    while !repository
        .lease_connection_refresh(connection.id, now(), now() + REFRESH_LEASE_SECS)
        .await?
    {
        if now() > give_up_at {
            return Err(RefreshError::Temporary("another refresh is running".into()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(current) = repository.connection_by_id(connection.id).await? {
            if current.access_token_enc != connection.access_token_enc
                || current.status == ConnectionStatus::NeedsReconnect
            {
                return Ok(current);
            }
        }
    }
    // What is stored now: another process may have refreshed since `connection` was read (its
    // refresh token may even have been rotated).
    let result = match repository.connection_by_id(connection.id).await? {
        Some(current)
            if current.access_token_enc != connection.access_token_enc
                || current.status == ConnectionStatus::NeedsReconnect =>
        {
            Ok(current)
        }
        Some(current) => refresh_leased(services, &current).await,
        None => Err(RefreshError::Temporary("the connection is gone".into())),
    };
    repository.release_connection_refresh(connection.id).await?;
    result
}

async fn refresh_leased(
    services: &Services,
    connection: &Connection,
) -> Result<Connection, RefreshError> {
    let temporary = |message: String| RefreshError::Temporary(message);
    let refresh_enc = connection
        .refresh_token_enc
        .as_deref()
        .ok_or_else(|| temporary("no refresh token".into()))?;
    let context = |field: &str| token_context(connection.user_id, &connection.slug, field);
    let refresh_token = services
        .cipher
        .decrypt(refresh_enc, &context("refresh"))
        .map_err(|error| temporary(error.to_string()))?;
    let source = services
        .repository
        .data_source_by_slug(&connection.slug)
        .await?
        .ok_or_else(|| temporary("the data source is gone".into()))?;
    let provider = services
        .resolve(&source)
        .ok_or_else(|| temporary("unknown provider".into()))?;
    match oauth::refresh(&services.http, &provider, &refresh_token).await {
        Ok(grant) => {
            let encrypt = |value: &SecretString, field: &str| {
                services
                    .cipher
                    .encrypt(value.expose_secret(), &context(field))
                    .map_err(|error| temporary(error.to_string()))
            };
            let tokens = ConnectionTokens {
                access_token_enc: encrypt(&grant.access_token, "access")?,
                // Providers that do not rotate refresh tokens send none: keep the old one.
                refresh_token_enc: match &grant.refresh_token {
                    Some(token) => Some(encrypt(token, "refresh")?),
                    None => connection.refresh_token_enc.clone(),
                },
                expires_at: expires_at(&grant),
            };
            services
                .repository
                .update_connection_tokens(connection.id, tokens)
                .await?;
            tracing::info!(slug = %connection.slug, user_id = %connection.user_id, "token refreshed");
            services
                .repository
                .connection_by_id(connection.id)
                .await?
                .ok_or_else(|| temporary("the connection is gone".into()))
        }
        Err(error) if error.is_invalid_grant() => {
            services
                .repository
                .set_connection_status(connection.id, ConnectionStatus::NeedsReconnect)
                .await?;
            tracing::warn!(slug = %connection.slug, user_id = %connection.user_id, "refresh refused: needs reconnect");
            Err(RefreshError::NeedsReconnect)
        }
        Err(error) => Err(temporary(error.to_string())),
    }
}

/// The connection's access token, refreshed first when less than 5 minutes remain.
pub async fn access_token(
    services: &Services,
    connection: &Connection,
) -> Result<SecretString, RefreshError> {
    let needs_refresh = connection.refresh_token_enc.is_some()
        && connection
            .expires_at
            .is_some_and(|expires_at| expires_at - now() < REFRESH_MARGIN_SECS);
    let connection = if needs_refresh {
        refresh_connection(services, connection).await?
    } else {
        connection.clone()
    };
    if connection.status == ConnectionStatus::NeedsReconnect {
        return Err(RefreshError::NeedsReconnect);
    }
    // A token that cannot be refreshed and has expired: only a reconnect brings a new one.
    if connection.token_expired(now()) {
        services
            .repository
            .set_connection_status(connection.id, ConnectionStatus::NeedsReconnect)
            .await?;
        return Err(RefreshError::NeedsReconnect);
    }
    services
        .cipher
        .decrypt(
            &connection.access_token_enc,
            &token_context(connection.user_id, &connection.slug, "access"),
        )
        .map_err(|error| RefreshError::Temporary(error.to_string()))
}

/// Refreshes, ahead of time, every token that expires within `ahead`. Returns how many were
/// refreshed.
pub async fn refresh_expiring(services: &Services, ahead: Duration) -> Result<usize, DbError> {
    let before = now() + i64::try_from(ahead.as_secs()).unwrap_or(0);
    let mut refreshed = 0;
    for connection in services
        .repository
        .connections_expiring_before(before)
        .await?
    {
        match refresh_connection(services, &connection).await {
            Ok(_) => refreshed += 1,
            Err(RefreshError::Storage(error)) => return Err(error),
            Err(error) => {
                tracing::warn!(slug = %connection.slug, error = %error, "background refresh failed")
            }
        }
    }
    Ok(refreshed)
}

/// Re-encrypts every stored token with the newest key. Returns (re-encrypted, already current).
pub async fn rotate_keys(
    repository: &dyn crate::db::Repository,
    cipher: &crate::crypto::TokenCipher,
) -> anyhow::Result<(usize, usize)> {
    let (mut rotated, mut current) = (0, 0);
    for connection in repository.all_connections().await? {
        let context = |field: &str| token_context(connection.user_id, &connection.slug, field);
        let stale = cipher.is_stale(&connection.access_token_enc)
            || connection
                .refresh_token_enc
                .as_deref()
                .is_some_and(|stored| cipher.is_stale(stored));
        if !stale {
            current += 1;
            continue;
        }
        let tokens = ConnectionTokens {
            access_token_enc: cipher.reencrypt(&connection.access_token_enc, &context("access"))?,
            refresh_token_enc: connection
                .refresh_token_enc
                .as_deref()
                .map(|stored| cipher.reencrypt(stored, &context("refresh")))
                .transpose()?,
            expires_at: connection.expires_at,
        };
        repository
            .update_connection_tokens(connection.id, tokens)
            .await?;
        rotated += 1;
    }
    // Pending authorizations are short-lived: the ones made with an old key are dropped.
    repository.purge_expired_oauth_states(i64::MAX).await?;
    Ok((rotated, current))
}
