//! SQLite: the embedded default. WAL so that readers never wait for the writer, foreign keys on,
//! and a busy timeout so that concurrent writers queue instead of failing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::shared::impl_repository;
use super::{Backend, DbError, DbResult};
use crate::configuration::DatabaseSettings;

pub struct SqliteRepository {
    pool: SqlitePool,
}

impl SqliteRepository {
    const MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

    pub async fn connect(url: &str, settings: &DatabaseSettings) -> DbResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| DbError::Setup(format!("invalid SQLite URL: {error}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(parent) = options.get_filename().parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|error| {
                        DbError::Setup(format!("cannot create {}: {error}", parent.display()))
                    })?;
                }
            }
        }
        // Each connection to `:memory:` would be a separate, empty database.
        let max_connections = if in_memory {
            1
        } else {
            settings.max_connections.max(1)
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// SQLite has one writer at a time: the statement that picks the due jobs also leases them.
    const CLAIM_DUE_JOBS: &'static str = concat!(
        "UPDATE sync_jobs SET lease_owner = $1, lease_until = $3 WHERE id IN (\
         SELECT id FROM sync_jobs WHERE next_run_at <= $2 \
         AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_run_at LIMIT $4) \
         RETURNING ",
        crate::db::sync::sync_job_columns!()
    );

    /// SQLite has one writer at a time, and an INSERT takes the write lock before it reads, so
    /// the "first user is admin" check cannot race.
    async fn serialize_user_creation(_: &mut Transaction<'_, Sqlite>) -> DbResult<()> {
        Ok(())
    }
}

impl_repository!(SqliteRepository, Backend::Sqlite);
