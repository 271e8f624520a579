//! The part of the repository whose SQL reads the same in SQLite and PostgreSQL, written once and
//! expanded for each backend. Both dialects accept `$1` placeholders, `RETURNING`, `ON CONFLICT`,
//! and decode the same Rust types from their own column types (TEXT/timestamptz for times,
//! TEXT/jsonb for JSON). Where the dialects differ, the macro calls a backend's inherent method.

use chrono::{DateTime, Utc};

use crate::domain::{Role, User, UserId};

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            email: row.email,
            role: Role::from_stored(&row.role),
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserCredentialsRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

/// The columns that make a [`UserRow`], as a macro so that queries stay `&'static str` (sqlx only
/// takes static SQL unless it is explicitly asserted safe).
macro_rules! user_columns {
    () => {
        "id, email, role, created_at"
    };
}
pub(super) use user_columns;

#[derive(sqlx::FromRow)]
pub(super) struct RefreshTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub family_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<RefreshTokenRow> for crate::domain::RefreshTokenRecord {
    fn from(row: RefreshTokenRow) -> Self {
        crate::domain::RefreshTokenRecord {
            id: row.id,
            user_id: UserId(row.user_id),
            family_id: row.family_id,
            expires_at: row.expires_at,
            used_at: row.used_at,
            revoked_at: row.revoked_at,
        }
    }
}

macro_rules! impl_repository {
    ($repository:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::db::Repository for $repository {
            fn backend(&self) -> $crate::db::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::db::DbResult<()> {
                Self::MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> $crate::db::DbResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await
            }

            async fn create_user(
                &self,
                new_user: $crate::domain::NewUser,
            ) -> $crate::db::DbResult<$crate::domain::User> {
                use $crate::db::shared::{UserRow};
                let mut transaction = self.pool.begin().await?;
                Self::serialize_user_creation(&mut transaction).await?;
                let row: UserRow = sqlx::query_as(concat!(
                    "INSERT INTO users (email, email_normalized, password_hash, role, created_at) \
                     SELECT $1, $2, $3, \
                            COALESCE($4, CASE WHEN EXISTS (SELECT 1 FROM users) \
                                              THEN 'user' ELSE 'admin' END), $5 \
                     RETURNING ",
                    $crate::db::shared::user_columns!()
                ))
                .bind(new_user.email.trim())
                .bind($crate::domain::user::normalize_email(&new_user.email))
                .bind(&new_user.password_hash)
                .bind(new_user.role.map(|role| role.as_str()))
                .bind(chrono::Utc::now())
                .fetch_one(&mut *transaction)
                .await
                .map_err(|error| match $crate::db::DbError::from(error) {
                    $crate::db::DbError::Conflict(_) => $crate::db::DbError::Conflict("email"),
                    other => other,
                })?;
                transaction.commit().await?;
                Ok(row.into())
            }

            async fn user_credentials_by_email(
                &self,
                email: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::UserCredentials>> {
                use $crate::db::shared::{UserCredentialsRow};
                let row: Option<UserCredentialsRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::shared::user_columns!(),
                    ", password_hash FROM users WHERE email_normalized = $1"
                ))
                .bind($crate::domain::user::normalize_email(email))
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|row| $crate::domain::UserCredentials {
                    user: row.user.into(),
                    password_hash: row.password_hash,
                }))
            }

            async fn user_by_id(
                &self,
                id: $crate::domain::UserId,
            ) -> $crate::db::DbResult<Option<$crate::domain::User>> {
                use $crate::db::shared::{UserRow};
                let row: Option<UserRow> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::db::shared::user_columns!(),
                        " FROM users WHERE id = $1"
                    ))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_users(&self) -> $crate::db::DbResult<Vec<$crate::domain::User>> {
                use $crate::db::shared::{UserRow};
                let rows: Vec<UserRow> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::db::shared::user_columns!(),
                        " FROM users ORDER BY id"
                    ))
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

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
                let row: Option<$crate::db::shared::RefreshTokenRow> = sqlx::query_as(
                    "SELECT id, user_id, family_id, expires_at, used_at, revoked_at \
                     FROM refresh_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn consume_refresh_token(
                &self,
                id: i64,
                now: i64,
            ) -> $crate::db::DbResult<bool> {
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
        }
    };
}

pub(super) use impl_repository;
