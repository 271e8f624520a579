//! Storage. [`Repository`] speaks in domain terms; [`sqlite::SqliteRepository`] and
//! [`postgres::PostgresRepository`] implement it, chosen at run time by the URL's scheme. Each area
//! (users, sessions, sources, connections) has its store trait and its SQL in a file of its own,
//! written once for both dialects; `shared.rs` expands them for each backend.

pub mod api_tokens;
pub mod changes;
pub mod connections;
pub mod fx_rates;
pub mod metrics;
pub mod migrations;
pub mod postgres;
pub mod query;
pub mod rollups;
pub(crate) mod row;
pub mod sessions;
mod shared;
pub mod sources;
pub mod sqlite;
pub mod sync;
pub mod users;
pub mod versions;

pub use api_tokens::ApiTokenStore;
pub use changes::ChangeStore;
pub use connections::ConnectionStore;
pub use fx_rates::FxRateStore;
pub use metrics::MetricStore;
pub use query::QueryStore;
pub use rollups::RollupStore;
pub use sessions::SessionStore;
pub use sources::SourceStore;
pub use sync::SyncStore;
pub use users::UserStore;
pub use versions::VersionStore;

use std::sync::Arc;

use async_trait::async_trait;

use crate::configuration::DatabaseSettings;

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
    /// A chart's statement ran past the statement timeout and was stopped.
    #[error("the query ran longer than the statement timeout")]
    Timeout,
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
            // PostgreSQL's statement_timeout (57014), SQLite's interrupt (9) by the progress
            // handler that enforces it there.
            sqlx::Error::Database(ref database_error)
                if matches!(database_error.code().as_deref(), Some("57014" | "9")) =>
            {
                DbError::Timeout
            }
            sqlx::Error::Database(ref database_error)
                if database_error
                    .code()
                    .as_deref()
                    .is_some_and(is_unavailable_code) =>
            {
                DbError::Unavailable(error)
            }
            other => DbError::Query(other),
        }
    }
}

/// SQLSTATEs of a database that is going away, starting up or out of connections: the request
/// may succeed once it is back (a 503), it is no fault of the query (a 500).
fn is_unavailable_code(code: &str) -> bool {
    // 08: connection exceptions; 57P01..57P03: shutting down, crashed, starting up; 53300: too
    // many connections. SQLite's BUSY (5, and its extended 261, 517) and LOCKED (6): another
    // writer held the database past the busy timeout.
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "5" | "6" | "261" | "517"
        )
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Everything allmetrics stores, in domain terms. Each area is a trait of its own (in its own
/// file); a backend implements them all.
#[async_trait]
pub trait Repository:
    UserStore
    + SessionStore
    + ApiTokenStore
    + SourceStore
    + ConnectionStore
    + FxRateStore
    + SyncStore
    + ChangeStore
    + QueryStore
    + RollupStore
    + MetricStore
    + VersionStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    /// Applies the migrations of this backend's folder that have not run yet.
    async fn migrate(&self) -> DbResult<()>;
    /// One round trip; used by `/readyz`.
    async fn ping(&self) -> DbResult<()>;
    /// The connection pool now (for the metrics).
    fn pool_status(&self) -> PoolStatus;
    /// The sync jobs waiting and running at `now` (for the metrics).
    async fn sync_queue(&self, now: i64) -> DbResult<SyncQueue>;
    /// Waits for connections in use to be returned, then closes them all.
    async fn close(&self);
}

pub type SharedRepository = Arc<dyn Repository>;

/// Connections of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open, idle or in use.
    pub size: u32,
    pub idle: usize,
}

/// The sync jobs' queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncQueue {
    /// Due and not leased.
    pub due: i64,
    /// Leased to a worker.
    pub running: i64,
    /// When the oldest of the waiting jobs became due (unix seconds).
    pub oldest_due: Option<i64>,
}

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

#[cfg(test)]
mod tests {
    use super::is_unavailable_code;

    #[test]
    fn a_busy_or_departing_database_is_unavailable() {
        for code in ["08006", "57P01", "53300", "5", "517", "6"] {
            assert!(is_unavailable_code(code), "{code}");
        }
        // A syntax error, a constraint, SQLite's generic error: faults of the statement.
        for code in ["42601", "23505", "1", "19"] {
            assert!(!is_unavailable_code(code), "{code}");
        }
    }
}
