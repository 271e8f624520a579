//! Accounts: queries that read the same in both dialects, expanded for each backend.

use crate::db::row::row_struct;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::DbResult;
use crate::domain::{NewUser, Role, User, UserCredentials, UserId};

#[async_trait]
pub trait UserStore {
    /// Creates a user; `Conflict("email")` when the (normalized) email is taken. With
    /// `role: None` the first user becomes admin, atomically with respect to concurrent sign-ups.
    async fn create_user(&self, new_user: NewUser) -> DbResult<User>;
    async fn user_credentials_by_email(&self, email: &str) -> DbResult<Option<UserCredentials>>;
    async fn user_by_id(&self, id: UserId) -> DbResult<Option<User>>;
    async fn list_users(&self) -> DbResult<Vec<User>>;
    /// Whether any account is an administrator.
    async fn admin_exists(&self) -> DbResult<bool>;
    /// Stores the setup token's hash, valid until `expires_at`, unless a token that has not
    /// expired is stored (an expired one is replaced). `true` when this call stored it.
    async fn issue_setup_token(
        &self,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> DbResult<bool>;
    /// When the stored setup token expires, if one is stored.
    async fn setup_token_expiry(&self) -> DbResult<Option<i64>>;
    /// Creates an administrator and uses up the setup token, in one transaction: `None`, storing
    /// nothing, unless the token's hash is `token_hash`, it has not expired and no administrator
    /// exists. `Conflict("email")` (the token kept) when the email is taken.
    async fn create_admin_with_setup_token(
        &self,
        new_user: NewUser,
        token_hash: &str,
        now: i64,
    ) -> DbResult<Option<User>>;
}

row_struct! {
    pub(super) struct UserRow {
        pub id: i64,
        pub email: String,
        pub role: String,
        pub created_at: DateTime<Utc>,
    }
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

pub(super) struct UserCredentialsRow {
    pub user: UserRow,
    pub password_hash: String,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for UserCredentialsRow
where
    UserRow: sqlx::FromRow<'r, R>,
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user: UserRow::from_row(row)?,
            password_hash: row.try_get("password_hash")?,
        })
    }
}

/// The columns that make a [`UserRow`], as a macro so that queries stay `&'static str` (sqlx only
/// takes static SQL unless it is explicitly asserted safe).
macro_rules! user_columns {
    () => {
        "id, email, role, created_at"
    };
}
pub(super) use user_columns;

macro_rules! impl_user_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::users::UserStore for $repository {
            async fn create_user(
                &self,
                new_user: $crate::domain::NewUser,
            ) -> $crate::db::DbResult<$crate::domain::User> {
                use $crate::db::users::UserRow;
                let mut transaction = self.begin_write().await?;
                Self::serialize_user_creation(&mut transaction).await?;
                let row: UserRow = sqlx::query_as(concat!(
                    "INSERT INTO users (email, email_normalized, password_hash, role, created_at) \
                     SELECT $1, $2, $3, \
                            COALESCE($4, CASE WHEN EXISTS (SELECT 1 FROM users) \
                                              THEN 'user' ELSE 'admin' END), $5 \
                     RETURNING ",
                    $crate::db::users::user_columns!()
                ))
                .bind(new_user.email.trim())
                .bind($crate::domain::user::normalize_email(&new_user.email))
                .bind(&new_user.password_hash)
                .bind(new_user.role.map(|role| role.as_str()))
                .bind(chrono::Utc::now())
                .fetch_one(&mut *transaction)
                .await
                .map_err(|error| $crate::db::sources::conflict_on(error, "email"))?;
                transaction.commit().await?;
                Ok(row.into())
            }

            async fn user_credentials_by_email(
                &self,
                email: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::UserCredentials>> {
                use $crate::db::users::UserCredentialsRow;
                let row: Option<UserCredentialsRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::users::user_columns!(),
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
                use $crate::db::users::UserRow;
                let row: Option<UserRow> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::db::users::user_columns!(),
                        " FROM users WHERE id = $1"
                    ))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_users(&self) -> $crate::db::DbResult<Vec<$crate::domain::User>> {
                use $crate::db::users::UserRow;
                let rows: Vec<UserRow> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::db::users::user_columns!(),
                        " FROM users ORDER BY id"
                    ))
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn admin_exists(&self) -> $crate::db::DbResult<bool> {
                let exists: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(exists)
            }

            async fn issue_setup_token(
                &self,
                token_hash: &str,
                now: i64,
                expires_at: i64,
            ) -> $crate::db::DbResult<bool> {
                // Replicas starting together: the first insert wins, the others find its row
                // alive and leave it.
                let stored: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO setup_token (id, token_hash, created_at, expires_at) \
                     VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, \
                     created_at = excluded.created_at, expires_at = excluded.expires_at \
                     WHERE setup_token.expires_at <= $2 \
                     RETURNING CAST(id AS BIGINT)",
                )
                .bind(token_hash)
                .bind(now)
                .bind(expires_at)
                .fetch_optional(&self.pool)
                .await?;
                Ok(stored.is_some())
            }

            async fn setup_token_expiry(&self) -> $crate::db::DbResult<Option<i64>> {
                Ok(
                    sqlx::query_scalar("SELECT expires_at FROM setup_token WHERE id = 1")
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn create_admin_with_setup_token(
                &self,
                new_user: $crate::domain::NewUser,
                token_hash: &str,
                now: i64,
            ) -> $crate::db::DbResult<Option<$crate::domain::User>> {
                use $crate::db::users::UserRow;
                let mut transaction = self.begin_write().await?;
                Self::serialize_user_creation(&mut transaction).await?;
                let used: Option<i64> = sqlx::query_scalar(
                    "DELETE FROM setup_token WHERE id = 1 AND token_hash = $1 \
                     AND expires_at > $2 \
                     AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin') \
                     RETURNING CAST(id AS BIGINT)",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *transaction)
                .await?;
                if used.is_none() {
                    transaction.rollback().await?;
                    return Ok(None);
                }
                let row: UserRow = sqlx::query_as(concat!(
                    "INSERT INTO users (email, email_normalized, password_hash, role, created_at) \
                     VALUES ($1, $2, $3, 'admin', $4) RETURNING ",
                    $crate::db::users::user_columns!()
                ))
                .bind(new_user.email.trim())
                .bind($crate::domain::user::normalize_email(&new_user.email))
                .bind(&new_user.password_hash)
                .bind(chrono::Utc::now())
                .fetch_one(&mut *transaction)
                .await
                .map_err(|error| $crate::db::sources::conflict_on(error, "email"))?;
                transaction.commit().await?;
                Ok(Some(row.into()))
            }
        }
    };
}

pub(super) use impl_user_store;
