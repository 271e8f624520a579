//! PostgreSQL: the production database, shared by several stateless API replicas.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::shared::impl_repository;
use super::{Backend, DbError, DbResult};
use crate::configuration::DatabaseSettings;

/// Advisory lock key taken while a user is created (see `serialize_user_creation`).
const USER_CREATION_LOCK: i64 = 0x616c_6d5f_7573_6572;

pub struct PostgresRepository {
    pool: PgPool,
}

impl PostgresRepository {
    const MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

    /// Connects lazily: the server starts even while the database is down, and `/readyz` tells.
    pub fn connect(url: &str, settings: &DatabaseSettings) -> DbResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| DbError::Setup(format!("invalid PostgreSQL URL: {error}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Rows another replica is claiming right now are skipped rather than waited for, and a row
    /// it has just leased fails the re-checked lease condition: two replicas never share a job.
    const CLAIM_DUE_JOBS: &'static str = concat!(
        "UPDATE sync_jobs SET lease_owner = $1, lease_until = $3 WHERE id IN (\
         SELECT id FROM sync_jobs WHERE next_run_at <= $2 \
         AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_run_at LIMIT $4 \
         FOR UPDATE SKIP LOCKED) RETURNING ",
        crate::db::sync::sync_job_columns!()
    );

    /// Under READ COMMITTED two first sign-ups could both see an empty table and both become
    /// admin; a transaction-scoped advisory lock makes them take turns.
    async fn serialize_user_creation(transaction: &mut Transaction<'_, Postgres>) -> DbResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(USER_CREATION_LOCK)
            .execute(&mut **transaction)
            .await?;
        Ok(())
    }
}

impl_repository!(PostgresRepository, Backend::Postgres);
