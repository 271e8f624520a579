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
        }
    };
}

pub(super) use impl_repository;
