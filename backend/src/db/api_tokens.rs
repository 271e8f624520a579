//! Personal API tokens: queries that read the same in both dialects.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::{
    ApiToken, ApiTokenId, ApiTokenOwner, ApiTokenScope, NewApiToken, Role, UserId,
};

#[async_trait]
pub trait ApiTokenStore {
    /// Stores a token unless its owner already has `max_per_user`: `None` then, storing nothing.
    async fn create_api_token(
        &self,
        token: NewApiToken,
        max_per_user: i64,
    ) -> DbResult<Option<ApiToken>>;
    /// The user's tokens, newest first; every user's with `None`.
    async fn list_api_tokens(&self, owner: Option<UserId>) -> DbResult<Vec<ApiToken>>;
    /// The token with this hash and its owner's role.
    async fn api_token_by_hash(&self, token_hash: &str) -> DbResult<Option<ApiTokenOwner>>;
    /// Deletes the token, if `owner` (any owner with `None`) has it; whether it did.
    async fn delete_api_token(&self, owner: Option<UserId>, id: ApiTokenId) -> DbResult<bool>;
    /// Records a use at `now`, unless one was recorded within `granularity` seconds before.
    async fn touch_api_token(&self, id: ApiTokenId, now: i64, granularity: i64) -> DbResult<()>;
}

row_struct! {
    pub(super) struct ApiTokenRow {
        pub id: i64,
        pub user_id: i64,
        pub name: String,
        pub scope: String,
        pub prefix: String,
        pub created_at: i64,
        pub expires_at: Option<i64>,
        pub last_used_at: Option<i64>,
    }
}

row_struct! {
    pub(super) struct ApiTokenOwnerRow {
        pub id: i64,
        pub user_id: i64,
        pub name: String,
        pub scope: String,
        pub prefix: String,
        pub created_at: i64,
        pub expires_at: Option<i64>,
        pub last_used_at: Option<i64>,
        pub role: String,
    }
}

impl From<ApiTokenRow> for ApiToken {
    fn from(row: ApiTokenRow) -> Self {
        ApiToken {
            id: ApiTokenId(row.id),
            user_id: UserId(row.user_id),
            name: row.name,
            scope: ApiTokenScope::from_stored(&row.scope),
            prefix: row.prefix,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        }
    }
}

impl From<ApiTokenOwnerRow> for ApiTokenOwner {
    fn from(row: ApiTokenOwnerRow) -> Self {
        ApiTokenOwner {
            role: Role::from_stored(&row.role),
            token: ApiTokenRow {
                id: row.id,
                user_id: row.user_id,
                name: row.name,
                scope: row.scope,
                prefix: row.prefix,
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
            }
            .into(),
        }
    }
}

macro_rules! api_token_columns {
    () => {
        "id, user_id, name, scope, prefix, created_at, expires_at, last_used_at"
    };
}
pub(super) use api_token_columns;

macro_rules! impl_api_token_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::api_tokens::ApiTokenStore for $repository {
            async fn create_api_token(
                &self,
                token: $crate::domain::NewApiToken,
                max_per_user: i64,
            ) -> $crate::db::DbResult<Option<$crate::domain::ApiToken>> {
                use $crate::db::api_tokens::ApiTokenRow;
                // The count and the insert are one statement: concurrent creations cannot both
                // pass the limit by much (each sees the others' committed rows only).
                let row: Option<ApiTokenRow> = sqlx::query_as(concat!(
                    "INSERT INTO api_tokens \
                     (user_id, name, scope, token_hash, prefix, created_at, expires_at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7 \
                     WHERE (SELECT COUNT(*) FROM api_tokens WHERE user_id = $1) < $8 \
                     RETURNING ",
                    $crate::db::api_tokens::api_token_columns!()
                ))
                .bind(token.user_id.0)
                .bind(&token.name)
                .bind(token.scope.as_str())
                .bind(&token.token_hash)
                .bind(&token.prefix)
                .bind(token.created_at)
                .bind(token.expires_at)
                .bind(max_per_user)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_api_tokens(
                &self,
                owner: Option<$crate::domain::UserId>,
            ) -> $crate::db::DbResult<Vec<$crate::domain::ApiToken>> {
                use $crate::db::api_tokens::ApiTokenRow;
                let rows: Vec<ApiTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::api_tokens::api_token_columns!(),
                    " FROM api_tokens WHERE $1 IS NULL OR user_id = $1 \
                     ORDER BY created_at DESC, id DESC"
                ))
                .bind(owner.map(|owner| owner.0))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn api_token_by_hash(
                &self,
                token_hash: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::ApiTokenOwner>> {
                use $crate::db::api_tokens::ApiTokenOwnerRow;
                let row: Option<ApiTokenOwnerRow> = sqlx::query_as(
                    "SELECT t.id, t.user_id, t.name, t.scope, t.prefix, t.created_at, \
                            t.expires_at, t.last_used_at, u.role \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_api_token(
                &self,
                owner: Option<$crate::domain::UserId>,
                id: $crate::domain::ApiTokenId,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query(
                    "DELETE FROM api_tokens WHERE id = $1 AND ($2 IS NULL OR user_id = $2)",
                )
                .bind(id.0)
                .bind(owner.map(|owner| owner.0))
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn touch_api_token(
                &self,
                id: $crate::domain::ApiTokenId,
                now: i64,
                granularity: i64,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $1 \
                     WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
                )
                .bind(now)
                .bind(id.0)
                .bind(now - granularity)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_api_token_store;
