//! Refresh-token families: queries that read the same in both dialects.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::{NewRefreshToken, RefreshTokenRecord, UserId};

#[async_trait]
pub trait SessionStore {
    async fn create_refresh_token(&self, token: NewRefreshToken) -> DbResult<()>;
    async fn refresh_token_by_hash(&self, token_hash: &str)
        -> DbResult<Option<RefreshTokenRecord>>;
    /// Marks the token used if it is neither used nor revoked yet; `false` when another request
    /// got there first (a concurrent refresh with the same token counts as reuse).
    async fn consume_refresh_token(&self, id: i64, now: i64) -> DbResult<bool>;
    /// Revokes every live token of a family; returns how many.
    async fn revoke_refresh_family(&self, family_id: &str, now: i64) -> DbResult<u64>;
    /// Whether the session (the family) has ended: signed out, or its refresh token reused.
    async fn session_revoked(&self, family_id: &str) -> DbResult<bool>;
}

row_struct! {
    pub(super) struct RefreshTokenRow {
        pub id: i64,
        pub user_id: i64,
        pub family_id: String,
        pub expires_at: i64,
        pub used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
}

impl From<RefreshTokenRow> for RefreshTokenRecord {
    fn from(row: RefreshTokenRow) -> Self {
        RefreshTokenRecord {
            id: row.id,
            user_id: UserId(row.user_id),
            family_id: row.family_id,
            expires_at: row.expires_at,
            used_at: row.used_at,
            revoked_at: row.revoked_at,
        }
    }
}

macro_rules! impl_session_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::sessions::SessionStore for $repository {
            async fn create_refresh_token(
                &self,
                token: $crate::domain::NewRefreshToken,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens \
                     (user_id, family_id, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token.user_id.0)
                .bind(&token.family_id)
                .bind(&token.token_hash)
                .bind(chrono::Utc::now())
                .bind(token.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn refresh_token_by_hash(
                &self,
                token_hash: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::RefreshTokenRecord>> {
                let row: Option<$crate::db::sessions::RefreshTokenRow> = sqlx::query_as(
                    "SELECT id, user_id, family_id, expires_at, used_at, revoked_at \
                     FROM refresh_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn consume_refresh_token(&self, id: i64, now: i64) -> $crate::db::DbResult<bool> {
                let result = sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $1 \
                     WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn revoke_refresh_family(
                &self,
                family_id: &str,
                now: i64,
            ) -> $crate::db::DbResult<u64> {
                let result = sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 \
                     WHERE family_id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(family_id)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected())
            }

            async fn session_revoked(&self, family_id: &str) -> $crate::db::DbResult<bool> {
                let revoked: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM refresh_tokens \
                     WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1",
                )
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(revoked.is_some())
            }
        }
    };
}

pub(super) use impl_session_store;
