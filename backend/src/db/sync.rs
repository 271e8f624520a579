//! The object store and the sync jobs. Claiming due jobs differs by dialect (PostgreSQL skips
//! rows other replicas are claiming); the rest is written once.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::{
    BackfillWindow, BackfillWindowId, ConnectionId, PageCheckpoint, RevisedObject, RunOutcome,
    StoredObject, StoredPage, SyncJob, SyncJobId,
};

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
    /// Extends the lease of a job that `owner` holds to `lease_until`; `false` when `owner` does
    /// not hold it any more.
    async fn renew_lease(&self, job: SyncJobId, owner: &str, lease_until: i64) -> DbResult<bool>;
    /// Fixes the backfill's upper bound at `before` if it has none yet, and returns the windows
    /// left to walk (newest first), creating `first_windows` (`[created_gte, created_lt)`) when
    /// the backfill starts (none: nothing to read, the backfill is done). Empty when the backfill
    /// is done; `None` when `owner` no longer holds the lease.
    async fn start_backfill(
        &self,
        job: SyncJobId,
        owner: &str,
        before: i64,
        first_windows: &[(Option<i64>, i64)],
    ) -> DbResult<Option<Vec<BackfillWindow>>>;
    /// The windows of the job's backfill that are left, newest first.
    async fn backfill_windows(&self, job: SyncJobId) -> DbResult<Vec<BackfillWindow>>;
    /// Stores a page and moves its checkpoint in one transaction, extending the lease. Returns
    /// `None` (storing nothing) when `owner` no longer holds the lease.
    async fn store_page(
        &self,
        job: &SyncJob,
        owner: &str,
        objects: &[StoredObject],
        checkpoint: &PageCheckpoint,
        now: i64,
        lease_until: i64,
    ) -> DbResult<Option<StoredPage>>;
    /// Records how a run ended and releases the lease.
    async fn finish_sync_run(
        &self,
        job: SyncJobId,
        owner: &str,
        outcome: &RunOutcome,
    ) -> DbResult<()>;
    /// How many objects of this name the connection has stored (tombstones left out).
    async fn count_synced_objects(
        &self,
        connection: ConnectionId,
        object_name: &str,
    ) -> DbResult<i64>;
    /// The stored ids of this object, sorted, tombstones left out (for checks and tests; small
    /// accounts).
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
    /// Every stored object of this name with its revision, tombstones included (a deleted
    /// subscription still had its past), in no particular order.
    async fn stored_objects(
        &self,
        connection: ConnectionId,
        object_name: &str,
    ) -> DbResult<Vec<RevisedObject>>;
    /// The id and revision of every stored object of this name, tombstones included: what
    /// changed since a reader last read them, without reading their data.
    async fn object_revisions(
        &self,
        connection: ConnectionId,
        object_name: &str,
    ) -> DbResult<Vec<(String, i64)>>;
    /// The ids of the objects the job's writes after data version `version` wrote (each once, in
    /// id order), or `None` when some of those writes are no longer kept (more than
    /// [`KEPT_WRITES`] versions ago): the caller then compares every id and revision. Objects
    /// leave the store only with their job, so nothing else changed.
    async fn objects_written_since(
        &self,
        job: SyncJobId,
        version: i64,
    ) -> DbResult<Option<Vec<String>>>;
    /// The stored objects of this name among `object_ids` (tombstones included), in no
    /// particular order; ids not stored are left out.
    async fn stored_objects_by_id(
        &self,
        connection: ConnectionId,
        object_name: &str,
        object_ids: &[String],
    ) -> DbResult<Vec<RevisedObject>>;
    /// Forgets everything synced for the connection (another account was connected).
    async fn reset_sync(&self, connection: ConnectionId) -> DbResult<()>;
}

row_struct! {
    pub(super) struct SyncJobRow {
        pub id: i64,
        pub connection_id: i64,
        pub object_name: String,
        pub backfill_before: Option<i64>,
        pub backfill_done: bool,
        pub covered_from: Option<i64>,
        pub objects_synced: i64,
        pub incremental_from: Option<i64>,
        pub last_synced_at: Option<i64>,
        pub last_error: Option<String>,
        pub failures: i32,
        pub next_run_at: i64,
        pub data_version: i64,
        pub feed_created: Option<i64>,
        pub feed_event_id: Option<String>,
        pub feed_checked_at: Option<i64>,
        pub full_read_at: Option<i64>,
        pub read_mode: Option<String>,
        pub run_requests: i64,
        pub read_note: Option<String>,
    }
}

impl From<SyncJobRow> for SyncJob {
    fn from(row: SyncJobRow) -> Self {
        SyncJob {
            id: SyncJobId(row.id),
            connection_id: ConnectionId(row.connection_id),
            object_name: row.object_name,
            backfill_before: row.backfill_before,
            backfill_done: row.backfill_done,
            covered_from: row.covered_from,
            objects_synced: row.objects_synced,
            incremental_from: row.incremental_from,
            last_synced_at: row.last_synced_at,
            last_error: row.last_error,
            failures: row.failures,
            next_run_at: row.next_run_at,
            data_version: row.data_version,
            feed: crate::domain::FeedPosition {
                created: row.feed_created,
                event_id: row.feed_event_id,
                checked_at: row.feed_checked_at,
            },
            full_read_at: row.full_read_at,
            last_read: row
                .read_mode
                .as_deref()
                .and_then(crate::domain::ReadMode::from_stored)
                .map(|mode| crate::domain::RunRead {
                    mode,
                    requests: row.run_requests,
                    note: row.read_note,
                }),
        }
    }
}

macro_rules! sync_job_columns {
    () => {
        "id, connection_id, object_name, backfill_before, backfill_done, covered_from, \
         objects_synced, incremental_from, last_synced_at, last_error, failures, next_run_at, \
         data_version, feed_created, feed_event_id, feed_checked_at, full_read_at, read_mode, \
         run_requests, read_note"
    };
}
pub(super) use sync_job_columns;

row_struct! {
    pub(super) struct BackfillWindowRow {
        pub id: i64,
        pub created_gte: Option<i64>,
        pub created_lt: i64,
        pub cursor: Option<String>,
        pub cursor_created: Option<i64>,
    }
}

impl From<BackfillWindowRow> for BackfillWindow {
    fn from(row: BackfillWindowRow) -> Self {
        BackfillWindow {
            id: BackfillWindowId(row.id),
            created_gte: row.created_gte,
            created_lt: row.created_lt,
            cursor: row.cursor,
            cursor_created: row.cursor_created,
        }
    }
}

macro_rules! backfill_windows_of_job {
    () => {
        "SELECT id, created_gte, created_lt, cursor, cursor_created FROM sync_windows \
         WHERE job_id = $1 ORDER BY created_lt DESC"
    };
}
pub(super) use backfill_windows_of_job;

/// `SELECT {columns}` of the stored objects of a connection and object name among `ids` (one
/// bind parameter each: callers bound the batch).
macro_rules! select_stored_by_id {
    ($columns:literal, $connection:expr, $object_name:expr, $ids:expr) => {{
        let mut query = sqlx::QueryBuilder::new(concat!(
            "SELECT ",
            $columns,
            " FROM synced_objects WHERE connection_id = "
        ));
        query.push_bind($connection.0);
        query.push(" AND object_name = ");
        query.push_bind($object_name);
        query.push(" AND object_id IN (");
        let mut separated = query.separated(", ");
        for id in $ids {
            separated.push_bind(id);
        }
        query.push(")");
        query
    }};
}
pub(super) use select_stored_by_id;

/// Records a page stored in `transaction` on its job, under the lease: counts its new objects,
/// extends the lease and, when the page wrote objects (`$changed`), bumps the data version (what
/// cached series depend on: an empty page leaves them cached). The job's data version after it,
/// or `None` when `owner` no longer holds the lease (the caller rolls back).
macro_rules! record_page {
    ($transaction:ident, $job:ident, $owner:ident, $new_objects:ident, $changed:expr, $now:ident, $lease_until:ident) => {{
        let held: Option<i64> = sqlx::query_scalar(
            "UPDATE sync_jobs SET lease_until = $3, objects_synced = objects_synced + $4, \
             last_synced_at = $5, data_version = data_version + $6 \
             WHERE id = $1 AND lease_owner = $2 RETURNING data_version",
        )
        .bind($job.id.0)
        .bind($owner)
        .bind($lease_until)
        .bind(i64::try_from($new_objects).unwrap_or(i64::MAX))
        .bind($now)
        .bind(i64::from($changed))
        .fetch_optional(&mut *$transaction)
        .await?;
        held
    }};
}
pub(super) use record_page;

/// How many of a job's last writes [`note_write`] keeps: a reader that last read the objects
/// more versions ago than this reads every id and revision instead.
pub const KEPT_WRITES: i64 = 1_000;

/// Notes, in the caller's transaction, that the write that gave `job` data version `version`
/// wrote these objects, and forgets the job's writes older than the last [`KEPT_WRITES`]
/// versions. The job's row is locked by then (its version was just bumped), so the writes of a
/// job are noted in the order of their versions.
pub(super) async fn note_write<DB>(
    transaction: &mut sqlx::Transaction<'_, DB>,
    job: SyncJobId,
    version: i64,
    object_ids: &[&str],
) -> DbResult<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let ids = serde_json::to_string(object_ids)
        .map_err(|error| super::DbError::Setup(format!("object ids as JSON: {error}")))?;
    sqlx::query("INSERT INTO object_writes (job_id, data_version, object_ids) VALUES ($1, $2, $3)")
        .bind(job.0)
        .bind(version)
        .bind(ids)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("DELETE FROM object_writes WHERE job_id = $1 AND data_version <= $2")
        .bind(job.0)
        .bind(version - KEPT_WRITES)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// The objects of a page, each id once (its first copy: lists are newest first).
pub(super) fn first_of_each_id(objects: &[StoredObject]) -> Vec<&StoredObject> {
    let mut seen = std::collections::HashSet::new();
    objects
        .iter()
        .filter(|object| seen.insert(object.object_id.as_str()))
        .collect()
}

/// Deletes everything synced for a connection (its objects, jobs and windows), in the caller's
/// transaction.
pub(super) async fn delete_synced<DB>(
    transaction: &mut sqlx::Transaction<'_, DB>,
    connection: ConnectionId,
) -> DbResult<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    for statement in [
        "DELETE FROM sync_windows WHERE job_id IN \
         (SELECT id FROM sync_jobs WHERE connection_id = $1)",
        "DELETE FROM synced_objects WHERE connection_id = $1",
        "DELETE FROM sync_jobs WHERE connection_id = $1",
        // Rollups of what is gone are built again when a chart asks.
        "DELETE FROM rollup_cells WHERE definition_id IN \
         (SELECT id FROM rollup_definitions WHERE connection_id = $1)",
        "DELETE FROM rollup_definitions WHERE connection_id = $1",
    ] {
        sqlx::query(statement)
            .bind(connection.0)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

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

            async fn renew_lease(
                &self,
                job: $crate::domain::SyncJobId,
                owner: &str,
                lease_until: i64,
            ) -> $crate::db::DbResult<bool> {
                let held: Option<i64> = sqlx::query_scalar(
                    "UPDATE sync_jobs SET lease_until = $3 \
                     WHERE id = $1 AND lease_owner = $2 RETURNING id",
                )
                .bind(job.0)
                .bind(owner)
                .bind(lease_until)
                .fetch_optional(&self.pool)
                .await?;
                Ok(held.is_some())
            }

            async fn start_backfill(
                &self,
                job: $crate::domain::SyncJobId,
                owner: &str,
                before: i64,
                first_windows: &[(Option<i64>, i64)],
            ) -> $crate::db::DbResult<Option<Vec<$crate::domain::BackfillWindow>>> {
                let mut transaction = self.begin_write().await?;
                let held: Option<(Option<i64>, bool)> = sqlx::query_as(
                    "UPDATE sync_jobs SET backfill_before = COALESCE(backfill_before, $3) \
                     WHERE id = $1 AND lease_owner = $2 RETURNING backfill_before, backfill_done",
                )
                .bind(job.0)
                .bind(owner)
                .bind(before)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some((_, done)) = held else {
                    return Ok(None);
                };
                if done {
                    return Ok(Some(Vec::new()));
                }
                let mut windows: Vec<$crate::db::sync::BackfillWindowRow> =
                    sqlx::query_as($crate::db::sync::backfill_windows_of_job!())
                        .bind(job.0)
                        .fetch_all(&mut *transaction)
                        .await?;
                if windows.is_empty() {
                    // The backfill starts with the windows the reader chose.
                    for (created_gte, created_lt) in first_windows {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO sync_windows (job_id, created_gte, created_lt) \
                             VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(job.0)
                        .bind(created_gte)
                        .bind(created_lt)
                        .fetch_one(&mut *transaction)
                        .await?;
                        windows.push($crate::db::sync::BackfillWindowRow {
                            id,
                            created_gte: *created_gte,
                            created_lt: *created_lt,
                            cursor: None,
                            cursor_created: None,
                        });
                    }
                    if windows.is_empty() {
                        sqlx::query("UPDATE sync_jobs SET backfill_done = $2 WHERE id = $1")
                            .bind(job.0)
                            .bind(true)
                            .execute(&mut *transaction)
                            .await?;
                    }
                }
                transaction.commit().await?;
                Ok(Some(windows.into_iter().map(Into::into).collect()))
            }

            async fn backfill_windows(
                &self,
                job: $crate::domain::SyncJobId,
            ) -> $crate::db::DbResult<Vec<$crate::domain::BackfillWindow>> {
                let rows: Vec<$crate::db::sync::BackfillWindowRow> =
                    sqlx::query_as($crate::db::sync::backfill_windows_of_job!())
                        .bind(job.0)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn store_page(
                &self,
                job: &$crate::domain::SyncJob,
                owner: &str,
                objects: &[$crate::domain::StoredObject],
                checkpoint: &$crate::domain::PageCheckpoint,
                now: i64,
                lease_until: i64,
            ) -> $crate::db::DbResult<Option<$crate::domain::StoredPage>> {
                // The job's row is locked last, only for the final updates: the pages of several
                // windows of one job are inserted in parallel (on PostgreSQL).
                // A page that lists one id twice (a provider's paging glitch) stores it once:
                // one INSERT cannot touch the same row twice.
                let deduplicated = $crate::db::sync::first_of_each_id(objects);
                let objects = deduplicated.as_slice();
                let ids: Vec<&str> = objects.iter().map(|object| object.object_id.as_str()).collect();
                let scope = $crate::db::rollups::Scope::Ids(&ids);
                let mut transaction = self.begin_write().await?;
                let mut new_objects = 0u64;
                let rollups = if objects.is_empty() {
                    Vec::new()
                } else {
                    $crate::db::rollups::rollups_take_out!(
                        transaction,
                        job.connection_id,
                        &job.object_name,
                        scope
                    )
                };
                if !objects.is_empty() {
                    // New objects first: the count of rows inserted is exactly how many are new.
                    let insert = |conflict: &'static str| {
                        let mut insert = sqlx::QueryBuilder::new(
                            "INSERT INTO synced_objects \
                             (connection_id, object_name, object_id, created, data, synced_at) ",
                        );
                        insert.push_values(objects, |mut row, object| {
                            row.push_bind(job.connection_id.0)
                                .push_bind(&job.object_name)
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
                             synced_at = excluded.synced_at, \
                             revision = synced_objects.revision + 1",
                        )
                        .build()
                        .execute(&mut *transaction)
                        .await?;
                    }
                }
                $crate::db::rollups::rollups_put_back!(
                    transaction,
                    rollups,
                    job.connection_id,
                    &job.object_name,
                    scope
                );
                let mut split_off = None;
                if let $crate::domain::PageCheckpoint::Window {
                    window,
                    done,
                    split_off: part,
                } = checkpoint
                {
                    if *done {
                        sqlx::query("DELETE FROM sync_windows WHERE id = $1 AND job_id = $2")
                            .bind(window.id.0)
                            .bind(job.id.0)
                            .execute(&mut *transaction)
                            .await?;
                    } else {
                        sqlx::query(
                            "UPDATE sync_windows SET created_gte = $3, cursor = $4, \
                             cursor_created = $5 WHERE id = $1 AND job_id = $2",
                        )
                        .bind(window.id.0)
                        .bind(job.id.0)
                        .bind(window.created_gte)
                        .bind(&window.cursor)
                        .bind(window.cursor_created)
                        .execute(&mut *transaction)
                        .await?;
                    }
                    if let Some((created_gte, created_lt)) = part {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO sync_windows (job_id, created_gte, created_lt) \
                             VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(job.id.0)
                        .bind(created_gte)
                        .bind(created_lt)
                        .fetch_one(&mut *transaction)
                        .await?;
                        split_off = Some($crate::domain::BackfillWindowId(id));
                    }
                }
                let held = $crate::db::sync::record_page!(
                    transaction,
                    job,
                    owner,
                    new_objects,
                    !objects.is_empty(),
                    now,
                    lease_until
                );
                let Some(version) = held else {
                    transaction.rollback().await?;
                    return Ok(None);
                };
                if !objects.is_empty() {
                    $crate::db::sync::note_write(&mut transaction, job.id, version, &ids).await?;
                }
                if matches!(checkpoint, $crate::domain::PageCheckpoint::Window { .. }) {
                    // A statement of its own, after the job's row is locked: it sees the windows
                    // as every other walker of this job committed them.
                    sqlx::query(
                        "UPDATE sync_jobs SET \
                         backfill_done = NOT EXISTS (SELECT 1 FROM sync_windows WHERE job_id = $1), \
                         covered_from = (SELECT MAX(COALESCE(cursor_created + 1, created_lt)) \
                                         FROM sync_windows WHERE job_id = $1) \
                         WHERE id = $1",
                    )
                    .bind(job.id.0)
                    .execute(&mut *transaction)
                    .await?;
                }
                transaction.commit().await?;
                Ok(Some($crate::domain::StoredPage {
                    new_objects,
                    split_off,
                }))
            }

            async fn finish_sync_run(
                &self,
                job: $crate::domain::SyncJobId,
                owner: &str,
                outcome: &$crate::domain::RunOutcome,
            ) -> $crate::db::DbResult<()> {
                let progress = outcome.progress.as_ref();
                sqlx::query(
                    "UPDATE sync_jobs SET next_run_at = $3, last_error = $4, failures = $5, \
                     incremental_from = COALESCE($6, incremental_from), \
                     last_synced_at = COALESCE($7, last_synced_at), \
                     lease_owner = NULL, lease_until = NULL, \
                     read_mode = COALESCE($8, read_mode), \
                     run_requests = COALESCE($9, run_requests), \
                     read_note = CASE WHEN $8 IS NULL THEN read_note ELSE $10 END, \
                     feed_created = CASE WHEN $8 IS NULL THEN feed_created ELSE $11 END, \
                     feed_event_id = CASE WHEN $8 IS NULL THEN feed_event_id ELSE $12 END, \
                     feed_checked_at = CASE WHEN $8 IS NULL THEN feed_checked_at ELSE $13 END, \
                     full_read_at = CASE WHEN $8 IS NULL THEN full_read_at ELSE $14 END \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(job.0)
                .bind(owner)
                .bind(outcome.next_run_at)
                .bind(&outcome.last_error)
                .bind(outcome.failures)
                .bind(outcome.incremental_from)
                .bind(outcome.last_synced_at)
                .bind(progress.map(|progress| progress.read.mode.as_str()))
                .bind(progress.map(|progress| progress.read.requests))
                .bind(progress.and_then(|progress| progress.read.note.clone()))
                .bind(progress.and_then(|progress| progress.feed.created))
                .bind(progress.and_then(|progress| progress.feed.event_id.clone()))
                .bind(progress.and_then(|progress| progress.feed.checked_at))
                .bind(progress.and_then(|progress| progress.full_read_at))
                .execute(&self.pool)
                .await?;
                // The run is recorded whatever becomes of the statistics.
                if let Err(error) = self.refresh_planner_statistics().await {
                    tracing::warn!(error = %error, "could not gather the planner's statistics");
                }
                Ok(())
            }

            async fn count_synced_objects(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
            ) -> $crate::db::DbResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM synced_objects \
                     WHERE connection_id = $1 AND object_name = $2 AND deleted_at IS NULL",
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
                     WHERE connection_id = $1 AND object_name = $2 AND deleted_at IS NULL \
                     ORDER BY object_id",
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
                     AND object_name = $2 AND deleted_at IS NULL ORDER BY created DESC LIMIT $3",
                )
                .bind(connection.0)
                .bind(object_name)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?;
                Ok(rows.into_iter().map(|row| row.0).collect())
            }

            async fn stored_objects(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
            ) -> $crate::db::DbResult<Vec<$crate::domain::RevisedObject>> {
                let rows: Vec<(
                    String,
                    i64,
                    sqlx::types::Json<Box<serde_json::value::RawValue>>,
                )> =
                    sqlx::query_as(
                        "SELECT object_id, revision, data FROM synced_objects \
                         WHERE connection_id = $1 AND object_name = $2",
                    )
                    .bind(connection.0)
                    .bind(object_name)
                    .fetch_all(&self.reader)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(object_id, revision, data)| $crate::domain::RevisedObject {
                        object_id,
                        revision,
                        data: data.0,
                    })
                    .collect())
            }

            async fn objects_written_since(
                &self,
                job: $crate::domain::SyncJobId,
                version: i64,
            ) -> $crate::db::DbResult<Option<Vec<String>>> {
                // The job's version first: the writes up to it are committed, and the oldest of
                // those after `version` is kept if the job has not moved too far since.
                let now: Option<i64> =
                    sqlx::query_scalar("SELECT data_version FROM sync_jobs WHERE id = $1")
                        .bind(job.0)
                        .fetch_optional(&self.reader)
                        .await?;
                let Some(now) = now else {
                    return Ok(None);
                };
                if now < version || now - version >= $crate::db::sync::KEPT_WRITES {
                    return Ok(None);
                }
                let written: Vec<String> = sqlx::query_scalar(
                    "SELECT object_ids FROM object_writes WHERE job_id = $1 AND data_version > $2",
                )
                .bind(job.0)
                .bind(version)
                .fetch_all(&self.reader)
                .await?;
                let mut ids = std::collections::BTreeSet::new();
                for list in written {
                    let list: Vec<String> = serde_json::from_str(&list).map_err(|error| {
                        $crate::db::DbError::Setup(format!("object_writes holds no ids: {error}"))
                    })?;
                    ids.extend(list);
                }
                Ok(Some(ids.into_iter().collect()))
            }

            async fn object_revisions(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
            ) -> $crate::db::DbResult<Vec<(String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT object_id, revision FROM synced_objects \
                     WHERE connection_id = $1 AND object_name = $2",
                )
                .bind(connection.0)
                .bind(object_name)
                .fetch_all(&self.reader)
                .await?)
            }

            async fn stored_objects_by_id(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                object_ids: &[String],
            ) -> $crate::db::DbResult<Vec<$crate::domain::RevisedObject>> {
                let mut objects = Vec::with_capacity(object_ids.len());
                // Bounded batches: one bind parameter per id.
                for ids in object_ids.chunks(500) {
                    let mut query = $crate::db::sync::select_stored_by_id!(
                        "object_id, revision, data",
                        connection,
                        object_name,
                        ids
                    );
                    let rows: Vec<(
                    String,
                    i64,
                    sqlx::types::Json<Box<serde_json::value::RawValue>>,
                )> =
                        query.build_query_as().fetch_all(&self.reader).await?;
                    objects.extend(rows.into_iter().map(|(object_id, revision, data)| {
                        $crate::domain::RevisedObject {
                            object_id,
                            revision,
                            data: data.0,
                        }
                    }));
                }
                Ok(objects)
            }

            async fn reset_sync(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<()> {
                let mut transaction = self.begin_write().await?;
                $crate::db::sync::delete_synced(&mut transaction, connection).await?;
                transaction.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_sync_store;
