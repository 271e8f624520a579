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
