//! Storage. [`Repository`] speaks in domain terms; [`sqlite::SqliteRepository`] and
//! [`postgres::PostgresRepository`] implement it, chosen at run time by the URL's scheme. Queries
//! that read the same in both dialects are written once in [`shared`]; the rest live in each
//! backend's file.

pub mod postgres;
mod shared;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::configuration::DatabaseSettings;
use crate::domain::{NewRefreshToken, NewUser, RefreshTokenRecord, User, UserCredentials, UserId};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("a record with this {0} already exists")]
    Conflict(&'static str),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("could not prepare the database: {0}")]
    Setup(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => DbError::Unavailable(error),
            sqlx::Error::Database(ref database_error) if database_error.is_unique_violation() => {
                DbError::Conflict("value")
            }
            other => DbError::Query(other),
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Repository: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Applies the migrations of this backend's folder that have not run yet.
    async fn migrate(&self) -> DbResult<()>;
    /// One round trip; used by `/readyz`.
    async fn ping(&self) -> DbResult<()>;
    /// Waits for connections in use to be returned, then closes them all.
    async fn close(&self);

    /// Creates a user; `Conflict("email")` when the (normalized) email is taken. With
    /// `role: None` the first user becomes admin, atomically with respect to concurrent sign-ups.
    async fn create_user(&self, new_user: NewUser) -> DbResult<User>;
    async fn user_credentials_by_email(&self, email: &str) -> DbResult<Option<UserCredentials>>;
    async fn user_by_id(&self, id: UserId) -> DbResult<Option<User>>;
    async fn list_users(&self) -> DbResult<Vec<User>>;

    async fn create_refresh_token(&self, token: NewRefreshToken) -> DbResult<()>;
    async fn refresh_token_by_hash(&self, token_hash: &str)
        -> DbResult<Option<RefreshTokenRecord>>;
    /// Marks the token used if it is neither used nor revoked yet; `false` when another request
    /// got there first (a concurrent refresh with the same token counts as reuse).
    async fn consume_refresh_token(&self, id: i64, now: i64) -> DbResult<bool>;
    /// Revokes every live token of a family; returns how many.
    async fn revoke_refresh_family(&self, family_id: &str, now: i64) -> DbResult<u64>;
}

pub type SharedRepository = Arc<dyn Repository>;

/// Connects to the database named by the URL (`sqlite:` or `postgres:`/`postgresql:`).
pub async fn connect(settings: &DatabaseSettings) -> DbResult<SharedRepository> {
    use secrecy::ExposeSecret;
    let url = settings.url.expose_secret();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteRepository::connect(url, settings).await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PostgresRepository::connect(
            url, settings,
        )?))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(DbError::UnsupportedUrl(format!("{scheme}:...")))
    }
}
