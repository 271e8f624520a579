//! Accounts: queries that read the same in both dialects, expanded for each backend.

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
}

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

macro_rules! impl_user_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::users::UserStore for $repository {
            async fn create_user(
                &self,
                new_user: $crate::domain::NewUser,
            ) -> $crate::db::DbResult<$crate::domain::User> {
                use $crate::db::users::UserRow;
                let mut transaction = self.pool.begin().await?;
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

        }
    };
}

pub(super) use impl_user_store;
