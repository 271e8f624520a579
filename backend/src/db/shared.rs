//! The repository's core (migrations, health, shutdown), the same for both backends, and the
//! macro that implements every store for a backend.
//!
//! Both dialects accept `$1` placeholders, `RETURNING`, `ON CONFLICT`, and decode the same Rust
//! types from their own column types (TEXT/timestamptz for times, TEXT/jsonb for JSON,
//! INTEGER/boolean for flags), so most SQL is written once (in `users.rs`, `sources.rs`, ...) and
//! expanded for each backend. Where the dialects differ, the macros call the backend's inherent
//! methods.

/// The sqlx database a backend runs on, for code written once for both.
pub trait Dialect {
    type Database: sqlx::Database;
}

impl Dialect for super::sqlite::SqliteRepository {
    type Database = sqlx::Sqlite;
}

impl Dialect for super::postgres::PostgresRepository {
    type Database = sqlx::Postgres;
}

macro_rules! impl_repository {
    ($repository:ty, $backend:expr) => {
        $crate::db::users::impl_user_store!($repository);
        $crate::db::sessions::impl_session_store!($repository);
        $crate::db::api_tokens::impl_api_token_store!($repository);
        $crate::db::sources::impl_source_store!($repository);
        $crate::db::connections::impl_connection_store!($repository);
        $crate::db::fx_rates::impl_fx_rate_store!($repository);
        $crate::db::sync::impl_sync_store!($repository);
        $crate::db::changes::impl_change_store!($repository);
        $crate::db::metrics::impl_metric_store!($repository);
        $crate::db::versions::impl_version_store!($repository);
        $crate::db::rollups::impl_rollup_store!($repository);

        #[async_trait::async_trait]
        impl $crate::db::Repository for $repository {
            fn backend(&self) -> $crate::db::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::db::DbResult<()> {
                Self::migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> $crate::db::DbResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_status(&self) -> $crate::db::PoolStatus {
                $crate::db::PoolStatus {
                    size: self.pool.size(),
                    idle: self.pool.num_idle(),
                }
            }

            async fn sync_queue(&self, now: i64) -> $crate::db::DbResult<$crate::db::SyncQueue> {
                let (due, running, oldest_due): (i64, i64, Option<i64>) = sqlx::query_as(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN next_run_at <= $1 \
                         AND (lease_until IS NULL OR lease_until <= $1) THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END), 0), \
                     MIN(CASE WHEN next_run_at <= $1 \
                         AND (lease_until IS NULL OR lease_until <= $1) THEN next_run_at END) \
                     FROM sync_jobs",
                )
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::db::SyncQueue {
                    due,
                    running,
                    oldest_due,
                })
            }

            async fn close(&self) {
                self.reader.close().await;
                self.pool.close().await
            }
        }
    };
}

pub(super) use impl_repository;
