//! The object store and the sync jobs. Claiming due jobs differs by dialect (PostgreSQL skips
//! rows other replicas are claiming); the rest is written once.

use async_trait::async_trait;

use super::DbResult;
use crate::domain::{ConnectionId, PageCheckpoint, RunOutcome, StoredObject, SyncJob, SyncJobId};

#[async_trait]
pub trait SyncStore {
    /// Creates the jobs that do not exist yet for these objects, due at `now`.
    async fn ensure_sync_jobs(
        &self,
        connection: ConnectionId,
        object_names: &[String],
        now: i64,
    ) -> DbResult<()>;
    async fn sync_jobs(&self, connection: ConnectionId) -> DbResult<Vec<SyncJob>>;
    /// Makes every job of the connection due now (a manual sync).
    async fn schedule_sync_now(&self, connection: ConnectionId, now: i64) -> DbResult<u64>;
    /// Leases up to `limit` due jobs to `owner` until `lease_until`: jobs due at `now` whose lease
    /// is free or expired (a dead replica's). Two callers never get the same job.
    async fn claim_due_jobs(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> DbResult<Vec<SyncJob>>;
    /// Stores a page and moves the job's checkpoint in one transaction, extending the lease.
    /// Returns `None` (storing nothing) when `owner` no longer holds the lease; otherwise how
    /// many of the objects were new.
    async fn store_page(
        &self,
        job: SyncJobId,
        owner: &str,
        objects: &[StoredObject],
        checkpoint: &PageCheckpoint,
        now: i64,
        lease_until: i64,
    ) -> DbResult<Option<u64>>;
    /// Records how a run ended and releases the lease.
    async fn finish_sync_run(
        &self,
        job: SyncJobId,
        owner: &str,
        outcome: &RunOutcome,
    ) -> DbResult<()>;
    /// How many objects of this name the connection has stored.
    async fn count_synced_objects(
        &self,
        connection: ConnectionId,
        object_name: &str,
    ) -> DbResult<i64>;
    /// The stored ids of this object, sorted (for checks and tests; small accounts).
    async fn synced_object_ids(
        &self,
        connection: ConnectionId,
        object_name: &str,
    ) -> DbResult<Vec<String>>;
    /// The most recent stored objects of this name (to list their fields).
    async fn sample_objects(
        &self,
        connection: ConnectionId,
        object_name: &str,
        limit: i64,
    ) -> DbResult<Vec<serde_json::Value>>;
    /// Forgets everything synced for the connection (another account was connected).
    async fn reset_sync(&self, connection: ConnectionId) -> DbResult<()>;
}

#[derive(sqlx::FromRow)]
pub(super) struct SyncJobRow {
    pub id: i64,
    pub connection_id: i64,
    pub object_name: String,
    pub backfill_before: Option<i64>,
    pub backfill_cursor: Option<String>,
    pub backfill_done: bool,
    pub oldest_created: Option<i64>,
    pub objects_synced: i64,
    pub incremental_from: Option<i64>,
    pub last_synced_at: Option<i64>,
    pub last_error: Option<String>,
    pub failures: i32,
    pub next_run_at: i64,
    pub data_version: i64,
}

impl From<SyncJobRow> for SyncJob {
    fn from(row: SyncJobRow) -> Self {
        SyncJob {
            id: SyncJobId(row.id),
            connection_id: ConnectionId(row.connection_id),
            object_name: row.object_name,
            backfill_before: row.backfill_before,
            backfill_cursor: row.backfill_cursor,
            backfill_done: row.backfill_done,
            oldest_created: row.oldest_created,
            objects_synced: row.objects_synced,
            incremental_from: row.incremental_from,
            last_synced_at: row.last_synced_at,
            last_error: row.last_error,
            failures: row.failures,
            next_run_at: row.next_run_at,
            data_version: row.data_version,
        }
    }
}

macro_rules! sync_job_columns {
    () => {
        "id, connection_id, object_name, backfill_before, backfill_cursor, backfill_done, \
         oldest_created, objects_synced, incremental_from, last_synced_at, last_error, failures, \
         next_run_at, data_version"
    };
}
pub(super) use sync_job_columns;

macro_rules! impl_sync_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::sync::SyncStore for $repository {
            async fn ensure_sync_jobs(
                &self,
                connection: $crate::domain::ConnectionId,
                object_names: &[String],
                now: i64,
            ) -> $crate::db::DbResult<()> {
                for object_name in object_names {
                    sqlx::query(
                        "INSERT INTO sync_jobs (connection_id, object_name, next_run_at) \
                         VALUES ($1, $2, $3) ON CONFLICT (connection_id, object_name) DO NOTHING",
                    )
                    .bind(connection.0)
                    .bind(object_name)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                }
                Ok(())
            }

            async fn sync_jobs(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<Vec<$crate::domain::SyncJob>> {
                let rows: Vec<$crate::db::sync::SyncJobRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::sync::sync_job_columns!(),
                    " FROM sync_jobs WHERE connection_id = $1 ORDER BY id"
                ))
                .bind(connection.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn schedule_sync_now(
                &self,
                connection: $crate::domain::ConnectionId,
                now: i64,
            ) -> $crate::db::DbResult<u64> {
                let result = sqlx::query(
                    "UPDATE sync_jobs SET next_run_at = $2, failures = 0 WHERE connection_id = $1",
                )
                .bind(connection.0)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected())
            }

            async fn claim_due_jobs(
                &self,
                owner: &str,
                now: i64,
                lease_until: i64,
                limit: i64,
            ) -> $crate::db::DbResult<Vec<$crate::domain::SyncJob>> {
                let rows: Vec<$crate::db::sync::SyncJobRow> =
                    sqlx::query_as(Self::CLAIM_DUE_JOBS)
                        .bind(owner)
                        .bind(now)
                        .bind(lease_until)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn store_page(
                &self,
                job: $crate::domain::SyncJobId,
                owner: &str,
                objects: &[$crate::domain::StoredObject],
                checkpoint: &$crate::domain::PageCheckpoint,
                now: i64,
                lease_until: i64,
            ) -> $crate::db::DbResult<Option<u64>> {
                let mut transaction = self.pool.begin().await?;
                let held: Option<(i64, String)> = sqlx::query_as(
                    "UPDATE sync_jobs SET lease_until = $3 \
                     WHERE id = $1 AND lease_owner = $2 RETURNING connection_id, object_name",
                )
                .bind(job.0)
                .bind(owner)
                .bind(lease_until)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some((connection_id, object_name)) = held else {
                    return Ok(None);
                };
                let mut new_objects = 0u64;
                if !objects.is_empty() {
                    // New objects first: the count of rows inserted is exactly how many are new.
                    let insert = |conflict: &'static str| {
                        let mut insert = sqlx::QueryBuilder::new(
                            "INSERT INTO synced_objects \
                             (connection_id, object_name, object_id, created, data, synced_at) ",
                        );
                        insert.push_values(objects, |mut row, object| {
                            row.push_bind(connection_id)
                                .push_bind(&object_name)
                                .push_bind(&object.object_id)
                                .push_bind(object.created)
                                .push_bind(sqlx::types::Json(&object.data))
                                .push_bind(now);
                        });
                        insert.push(conflict);
                        insert
                    };
                    new_objects = insert(
                        " ON CONFLICT (connection_id, object_name, object_id) DO NOTHING",
                    )
                    .build()
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                    // Objects read again (incremental syncs) may have changed: update them.
                    if new_objects < objects.len() as u64 {
                        insert(
                            " ON CONFLICT (connection_id, object_name, object_id) DO UPDATE SET \
                             created = excluded.created, data = excluded.data, \
                             synced_at = excluded.synced_at",
                        )
                        .build()
                        .execute(&mut *transaction)
                        .await?;
                    }
                }
                let oldest = objects.iter().map(|object| object.created).min();
                sqlx::query(
                    "UPDATE sync_jobs SET \
                     backfill_before = COALESCE($2, backfill_before), \
                     backfill_cursor = COALESCE($3, backfill_cursor), \
                     backfill_done = (backfill_done OR $4), \
                     oldest_created = CASE WHEN $5 IS NULL THEN oldest_created \
                                           WHEN oldest_created IS NULL OR $5 < oldest_created \
                                           THEN $5 ELSE oldest_created END, \
                     objects_synced = objects_synced + $6, \
                     last_synced_at = $7, data_version = data_version + 1 \
                     WHERE id = $1",
                )
                .bind(job.0)
                .bind(checkpoint.backfill_before)
                .bind(&checkpoint.backfill_cursor)
                .bind(checkpoint.backfill_done)
                .bind(oldest)
                .bind(i64::try_from(new_objects).unwrap_or(i64::MAX))
                .bind(now)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(Some(new_objects))
            }

            async fn finish_sync_run(
                &self,
                job: $crate::domain::SyncJobId,
                owner: &str,
                outcome: &$crate::domain::RunOutcome,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "UPDATE sync_jobs SET next_run_at = $3, last_error = $4, failures = $5, \
                     incremental_from = COALESCE($6, incremental_from), \
                     last_synced_at = COALESCE($7, last_synced_at), \
                     lease_owner = NULL, lease_until = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(job.0)
                .bind(owner)
                .bind(outcome.next_run_at)
                .bind(&outcome.last_error)
                .bind(outcome.failures)
                .bind(outcome.incremental_from)
                .bind(outcome.last_synced_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn count_synced_objects(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
            ) -> $crate::db::DbResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM synced_objects \
                     WHERE connection_id = $1 AND object_name = $2",
                )
                .bind(connection.0)
                .bind(object_name)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn synced_object_ids(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
            ) -> $crate::db::DbResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT object_id FROM synced_objects \
                     WHERE connection_id = $1 AND object_name = $2 ORDER BY object_id",
                )
                .bind(connection.0)
                .bind(object_name)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn sample_objects(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                limit: i64,
            ) -> $crate::db::DbResult<Vec<serde_json::Value>> {
                let rows: Vec<sqlx::types::Json<serde_json::Value>> = sqlx::query_scalar(
                    "SELECT data FROM synced_objects WHERE connection_id = $1 \
                     AND object_name = $2 ORDER BY created DESC LIMIT $3",
                )
                .bind(connection.0)
                .bind(object_name)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|row| row.0).collect())
            }

            async fn reset_sync(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<()> {
                let mut transaction = self.pool.begin().await?;
                sqlx::query("DELETE FROM synced_objects WHERE connection_id = $1")
                    .bind(connection.0)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("DELETE FROM sync_jobs WHERE connection_id = $1")
                    .bind(connection.0)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_sync_store;
