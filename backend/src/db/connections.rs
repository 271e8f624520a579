//! Users' connections to data sources, and pending OAuth authorizations.

use crate::db::row::row_struct;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::DbResult;
use crate::domain::{
    AuthKind, Connection, ConnectionId, ConnectionStatus, ConnectionTokens, DataSourceId,
    NewConnection, OAuthState, ProviderAccount, UserId,
};

#[async_trait]
pub trait ConnectionStore {
    /// Creates the user's connection to the source, or replaces it in place (a reconnect).
    async fn upsert_connection(&self, connection: NewConnection) -> DbResult<Connection>;
    async fn connection(&self, user: UserId, source: DataSourceId) -> DbResult<Option<Connection>>;
    async fn connection_by_id(&self, id: ConnectionId) -> DbResult<Option<Connection>>;
    /// The user's connections, by source slug.
    async fn list_connections(&self, user: UserId) -> DbResult<Vec<Connection>>;
    /// Every connection (key rotation, background refresh), by id.
    async fn all_connections(&self) -> DbResult<Vec<Connection>>;
    /// The connections (of every user) to this provider account.
    async fn connections_of_account(&self, account_id: &str) -> DbResult<Vec<Connection>>;
    /// Connections whose token expires before `before` (unix seconds) and can be refreshed.
    async fn connections_expiring_before(&self, before: i64) -> DbResult<Vec<Connection>>;
    async fn update_connection_tokens(
        &self,
        id: ConnectionId,
        tokens: ConnectionTokens,
    ) -> DbResult<()>;
    async fn set_connection_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
    ) -> DbResult<()>;
    /// Takes the right to refresh this connection's token until `until` (unix seconds); `false`
    /// while another process holds it.
    async fn lease_connection_refresh(
        &self,
        id: ConnectionId,
        now: i64,
        until: i64,
    ) -> DbResult<bool>;
    async fn release_connection_refresh(&self, id: ConnectionId) -> DbResult<()>;
    /// Chooses the account the connection reads. When it differs from the previous choice, in
    /// the same transaction, everything synced from the previous one is deleted first.
    async fn choose_account(&self, id: ConnectionId, account: &ProviderAccount) -> DbResult<()>;
    /// Deletes the connection and, through the foreign keys, everything synced for it.
    async fn delete_connection(&self, id: ConnectionId) -> DbResult<bool>;
    /// Changes its settings in one statement: `reporting_currency` when given (lower case;
    /// `Some(None)`: back to the account's default), `subscription_settings` when given.
    async fn update_connection_settings(
        &self,
        id: ConnectionId,
        reporting_currency: Option<Option<&str>>,
        subscription_settings: Option<&allmetrics_common::SubscriptionSettings>,
    ) -> DbResult<()>;

    async fn create_oauth_state(&self, state: OAuthState) -> DbResult<()>;
    /// Deletes and returns the state in one statement: it can be presented only once, even by two
    /// concurrent callbacks.
    async fn take_oauth_state(&self, state_hash: &str) -> DbResult<Option<OAuthState>>;
    async fn purge_expired_oauth_states(&self, now: i64) -> DbResult<u64>;
}

row_struct! {
    pub(super) struct ConnectionRow {
        pub id: i64,
        pub user_id: i64,
        pub data_source_id: i64,
        pub slug: String,
        pub provider: String,
        pub auth_kind: String,
        pub account_id: Option<String>,
        pub access_token_enc: String,
        pub refresh_token_enc: Option<String>,
        pub expires_at: Option<i64>,
        pub scopes: String,
        pub token_response: Json<serde_json::Value>,
        pub status: String,
        pub account: Option<Json<ProviderAccount>>,
        pub reporting_currency: Option<String>,
        pub account_currency: Option<String>,
        pub subscription_settings: Option<Json<allmetrics_common::SubscriptionSettings>>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

impl From<ConnectionRow> for Connection {
    fn from(row: ConnectionRow) -> Self {
        Connection {
            id: ConnectionId(row.id),
            user_id: UserId(row.user_id),
            data_source_id: DataSourceId(row.data_source_id),
            slug: row.slug,
            provider: row.provider,
            auth_kind: AuthKind::from_stored(&row.auth_kind),
            account_id: row.account_id,
            access_token_enc: row.access_token_enc,
            refresh_token_enc: row.refresh_token_enc,
            expires_at: row.expires_at,
            scopes: row.scopes,
            token_response: row.token_response.0,
            status: ConnectionStatus::from_stored(&row.status),
            account: row.account.map(|account| account.0),
            reporting_currency: row.reporting_currency,
            account_currency: row.account_currency,
            subscription_settings: row
                .subscription_settings
                .map(|settings| settings.0)
                .unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

row_struct! {
    pub(super) struct OAuthStateRow {
        pub state_hash: String,
        pub user_id: i64,
        pub slug: String,
        pub pkce_verifier_enc: Option<String>,
        pub redirect_uri: String,
        pub expires_at: i64,
    }
}

impl From<OAuthStateRow> for OAuthState {
    fn from(row: OAuthStateRow) -> Self {
        OAuthState {
            state_hash: row.state_hash,
            user_id: UserId(row.user_id),
            slug: row.slug,
            pkce_verifier_enc: row.pkce_verifier_enc,
            redirect_uri: row.redirect_uri,
            expires_at: row.expires_at,
        }
    }
}

/// A connection with its source's slug.
macro_rules! select_connections {
    ($condition:literal) => {
        concat!(
            "SELECT c.id, c.user_id, c.data_source_id, d.slug, d.provider, c.auth_kind, c.account_id, \
             c.access_token_enc, c.refresh_token_enc, c.expires_at, c.scopes, c.token_response, \
             c.status, c.account, c.reporting_currency, c.account_currency, \
             c.subscription_settings, c.created_at, c.updated_at \
             FROM connections c JOIN data_sources d ON d.id = c.data_source_id ",
            $condition
        )
    };
}
pub(super) use select_connections;

macro_rules! impl_connection_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::connections::ConnectionStore for $repository {
            async fn upsert_connection(
                &self,
                connection: $crate::domain::NewConnection,
            ) -> $crate::db::DbResult<$crate::domain::Connection> {
                let now = chrono::Utc::now();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO connections (user_id, data_source_id, auth_kind, account_id, \
                     access_token_enc, refresh_token_enc, expires_at, scopes, token_response, \
                     status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10) \
                     ON CONFLICT (user_id, data_source_id) DO UPDATE SET \
                     auth_kind = excluded.auth_kind, account_id = excluded.account_id, \
                     access_token_enc = excluded.access_token_enc, \
                     refresh_token_enc = excluded.refresh_token_enc, \
                     expires_at = excluded.expires_at, scopes = excluded.scopes, \
                     token_response = excluded.token_response, status = 'active', \
                     updated_at = excluded.updated_at \
                     RETURNING id",
                )
                .bind(connection.user_id.0)
                .bind(connection.data_source_id.0)
                .bind(connection.auth_kind.as_str())
                .bind(&connection.account_id)
                .bind(&connection.access_token_enc)
                .bind(&connection.refresh_token_enc)
                .bind(connection.expires_at)
                .bind(&connection.scopes)
                .bind(sqlx::types::Json(&connection.token_response))
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                self.connection_by_id($crate::domain::ConnectionId(id))
                    .await?
                    .ok_or($crate::db::DbError::Query(sqlx::Error::RowNotFound))
            }

            async fn connection(
                &self,
                user: $crate::domain::UserId,
                source: $crate::domain::DataSourceId,
            ) -> $crate::db::DbResult<Option<$crate::domain::Connection>> {
                let row: Option<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!(
                        "WHERE c.user_id = $1 AND c.data_source_id = $2"
                    ),
                )
                .bind(user.0)
                .bind(source.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn connection_by_id(
                &self,
                id: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<Option<$crate::domain::Connection>> {
                let row: Option<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!("WHERE c.id = $1"),
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_connections(
                &self,
                user: $crate::domain::UserId,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Connection>> {
                let rows: Vec<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!(
                        "WHERE c.user_id = $1 ORDER BY d.slug"
                    ),
                )
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn all_connections(
                &self,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Connection>> {
                let rows: Vec<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!("ORDER BY c.id"),
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn connections_of_account(
                &self,
                account_id: &str,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Connection>> {
                let rows: Vec<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!(
                        "WHERE c.account_id = $1 ORDER BY c.id"
                    ),
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn connections_expiring_before(
                &self,
                before: i64,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Connection>> {
                let rows: Vec<$crate::db::connections::ConnectionRow> = sqlx::query_as(
                    $crate::db::connections::select_connections!(
                        "WHERE c.expires_at IS NOT NULL AND c.expires_at < $1 \
                         AND c.refresh_token_enc IS NOT NULL AND c.status = 'active' \
                         ORDER BY c.expires_at"
                    ),
                )
                .bind(before)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_connection_tokens(
                &self,
                id: $crate::domain::ConnectionId,
                tokens: $crate::domain::ConnectionTokens,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3, \
                     expires_at = $4, updated_at = $5 WHERE id = $1",
                )
                .bind(id.0)
                .bind(&tokens.access_token_enc)
                .bind(&tokens.refresh_token_enc)
                .bind(tokens.expires_at)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn set_connection_status(
                &self,
                id: $crate::domain::ConnectionId,
                status: $crate::domain::ConnectionStatus,
            ) -> $crate::db::DbResult<()> {
                sqlx::query("UPDATE connections SET status = $2, updated_at = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(status.as_str())
                    .bind(chrono::Utc::now())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn lease_connection_refresh(
                &self,
                id: $crate::domain::ConnectionId,
                now: i64,
                until: i64,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query(
                    "UPDATE connections SET refresh_lease_until = $3 WHERE id = $1 \
                     AND (refresh_lease_until IS NULL OR refresh_lease_until <= $2)",
                )
                .bind(id.0)
                .bind(now)
                .bind(until)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn release_connection_refresh(
                &self,
                id: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<()> {
                sqlx::query("UPDATE connections SET refresh_lease_until = NULL WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn choose_account(
                &self,
                id: $crate::domain::ConnectionId,
                account: &$crate::domain::ProviderAccount,
            ) -> $crate::db::DbResult<()> {
                let mut transaction = self.begin_write().await?;
                let previous: Option<Option<sqlx::types::Json<$crate::domain::ProviderAccount>>> =
                    sqlx::query_scalar("SELECT account FROM connections WHERE id = $1")
                        .bind(id.0)
                        .fetch_optional(&mut *transaction)
                        .await?;
                let same = previous
                    .flatten()
                    .is_some_and(|previous| previous.0.id == account.id);
                if !same {
                    $crate::db::sync::delete_synced(&mut transaction, id).await?;
                }
                sqlx::query("UPDATE connections SET account = $2, updated_at = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(sqlx::types::Json(account))
                    .bind(chrono::Utc::now())
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn delete_connection(
                &self,
                id: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query("DELETE FROM connections WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                Ok(result.rows_affected() > 0)
            }

            async fn update_connection_settings(
                &self,
                id: $crate::domain::ConnectionId,
                reporting_currency: Option<Option<&str>>,
                subscription_settings: Option<&allmetrics_common::SubscriptionSettings>,
            ) -> $crate::db::DbResult<()> {
                // The defaults are stored as NULL, so that a later change of a default applies.
                let settings = subscription_settings.and_then(|settings| {
                    (*settings != allmetrics_common::SubscriptionSettings::default())
                        .then_some(sqlx::types::Json(settings))
                });
                sqlx::query(
                    "UPDATE connections SET \
                     reporting_currency = CASE WHEN $2 THEN $3 ELSE reporting_currency END, \
                     subscription_settings = CASE WHEN $4 THEN $5 \
                     ELSE subscription_settings END, updated_at = $6 WHERE id = $1",
                )
                .bind(id.0)
                .bind(reporting_currency.is_some())
                .bind(reporting_currency.flatten())
                .bind(subscription_settings.is_some())
                .bind(settings)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn create_oauth_state(
                &self,
                state: $crate::domain::OAuthState,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "INSERT INTO oauth_states \
                     (state_hash, user_id, slug, pkce_verifier_enc, redirect_uri, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&state.state_hash)
                .bind(state.user_id.0)
                .bind(&state.slug)
                .bind(&state.pkce_verifier_enc)
                .bind(&state.redirect_uri)
                .bind(state.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_oauth_state(
                &self,
                state_hash: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::OAuthState>> {
                let row: Option<$crate::db::connections::OAuthStateRow> = sqlx::query_as(
                    "DELETE FROM oauth_states WHERE state_hash = $1 \
                     RETURNING state_hash, user_id, slug, pkce_verifier_enc, redirect_uri, \
                     expires_at",
                )
                .bind(state_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn purge_expired_oauth_states(&self, now: i64) -> $crate::db::DbResult<u64> {
                let result = sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(result.rows_affected())
            }
        }
    };
}

pub(super) use impl_connection_store;
