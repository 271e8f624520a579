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
    /// How long a chart's statement may run (SQLite has no statement timeout: a progress
    /// handler interrupts it).
    statement_timeout: Duration,
    pool: SqlitePool,
    /// Read-only connections for the reads of charts. In WAL mode a reader never waits for the
    /// writer; with a pool of their own, reads never wait either for connections that other
    /// requests hold while they queue for the write lock.
    reader: SqlitePool,
}

impl SqliteRepository {
    fn migrator() -> Migrator {
        super::migrations::sqlite()
    }

    /// SQLite's planner picks the indexes these queries need without statistics.
    async fn refresh_planner_statistics(&self) -> DbResult<()> {
        Ok(())
    }

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
            .connect_with(options.clone())
            .await?;
        let reader = if in_memory {
            pool.clone()
        } else {
            // The database exists and is in WAL mode by now (the pool above opened it).
            SqlitePoolOptions::new()
                .max_connections(settings.read_connections.max(1))
                .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
                .connect_with(options.pragma("query_only", "ON"))
                .await?
        };
        Ok(Self {
            statement_timeout: Duration::from_millis(settings.statement_timeout_ms.max(1)),
            pool,
            reader,
        })
    }

    /// Interrupts the statements run on `connection` once the statement timeout has passed,
    /// until the returned guard is dropped (the connection then goes back to the pool with a
    /// handler that lets everything run, even if the caller stopped halfway).
    pub(super) async fn interrupt_after(
        &self,
        connection: &mut sqlx::pool::PoolConnection<Sqlite>,
    ) -> DbResult<InterruptGuard> {
        let armed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let deadline = std::time::Instant::now() + self.statement_timeout;
        let handler_armed = armed.clone();
        connection
            .lock_handle()
            .await?
            .set_progress_handler(10_000, move || {
                !handler_armed.load(std::sync::atomic::Ordering::Relaxed)
                    || std::time::Instant::now() < deadline
            });
        Ok(InterruptGuard(armed))
    }

    pub(super) const ROLLUP_SQL: super::rollups::RollupSql = super::rollups::RollupSql::Sqlite;
    /// Between two steps of a rollup's build, the write lock is left free this long: a writer
    /// waiting for it (SQLite's busy handler looks again every 100 ms at most) takes it then,
    /// instead of failing after the busy timeout while the build takes step after step.
    pub(super) const BUILD_STEP_PAUSE: Duration = Duration::from_millis(150);

    /// A write transaction that holds the write lock from its first statement, as every write
    /// transaction here begins: one that reads first (whether a source is in use, the rollups it
    /// must keep) would otherwise fail at once with SQLITE_BUSY_SNAPSHOT, without waiting, if
    /// another writer committed between its read and its first write.
    pub(super) async fn begin_write(&self) -> DbResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Streams the rows of a chart's statement, stopped at the statement timeout.
    pub(super) async fn stream_rows(
        &self,
        sql: String,
        sink: &mut super::query::RowSink<'_>,
    ) -> DbResult<()> {
        let mut connection = self.reader.acquire().await?;
        let _deadline = self.interrupt_after(&mut connection).await?;
        let mut rows = sqlx::query_as::<_, super::query::AggregateRow>(sqlx::AssertSqlSafe(sql))
            .fetch(&mut *connection);
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            sink(row);
        }
        Ok(())
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

/// Disarms a connection's statement deadline when dropped.
pub(super) struct InterruptGuard(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

impl_repository!(SqliteRepository, Backend::Sqlite);

#[async_trait::async_trait]
impl super::query::QueryStore for SqliteRepository {
    async fn latest_labels(
        &self,
        connection: crate::domain::ConnectionId,
        object_name: &str,
        id: &str,
        label: &str,
    ) -> DbResult<Vec<(String, String)>> {
        use super::query::sqlite_path;
        // SQLite gives the other columns of the row that holds MAX(created).
        let rows: Vec<(Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT CAST(json_extract(data, $3) AS TEXT), CAST(json_extract(data, $4) AS TEXT), \
             MAX(created) FROM synced_objects WHERE connection_id = $1 AND object_name = $2 \
             GROUP BY json_extract(data, $3)",
        )
        .bind(connection.0)
        .bind(object_name)
        .bind(sqlite_path(&[id.to_string()]))
        .bind(sqlite_path(&[label.to_string()]))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, label, _)| Some((id?, label?)))
            .collect())
    }

    async fn aggregate_each(
        &self,
        request: &super::query::AggregateRequest,
        sink: &mut super::query::RowSink<'_>,
    ) -> DbResult<()> {
        use super::query::{bucket_expression, sqlite_path, DateSource, ValueSource};
        let mut sql = sqlx::QueryBuilder::<Sqlite>::new("SELECT ");
        sql.push(bucket_expression(request, "t"));
        sql.push(" AS day, ");
        if request.group.is_some() {
            // Booleans would come out of json_extract as 1/0: name them as JSON does.
            sql.push(
                "CASE group_type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                 WHEN 'null' THEN NULL ELSE CAST(group_value AS TEXT) END",
            );
        } else {
            sql.push("NULL");
        }
        sql.push(" AS grp, COUNT(*) AS records, ");
        match &request.value {
            ValueSource::Number(_) => {
                for (function, alias) in [("SUM", "total"), ("MIN", "smallest"), ("MAX", "largest")]
                {
                    sql.push(format!(
                        "{function}(CASE WHEN measure_type IN ('integer', 'real') \
                         THEN CAST(measure AS REAL) END) AS {alias}, "
                    ));
                }
                sql.push(
                    "SUM(CASE WHEN measure_type IN ('integer', 'real') THEN 1 ELSE 0 END) AS numeric, \
                     SUM(CASE WHEN measure_type NOT IN ('integer', 'real', 'null') THEN 1 ELSE 0 END) \
                     AS non_numeric, 0 AS distinct_values ",
                );
            }
            ValueSource::Distinct(_) => {
                sql.push(
                    "NULL AS total, NULL AS smallest, NULL AS largest, 0 AS numeric, 0 AS non_numeric, \
                     COUNT(DISTINCT CASE WHEN measure_type = 'null' THEN NULL ELSE measure END) \
                     AS distinct_values ",
                );
            }
            ValueSource::None => {
                sql.push("NULL AS total, NULL AS smallest, NULL AS largest, 0 AS numeric, 0 AS non_numeric, 0 AS distinct_values ");
            }
        }
        // The paths are read once per object, in a subquery that OFFSET 0 keeps whole.
        // Flattened into the aggregation, the sort before grouping would carry each object's
        // JSON (the column the aggregates read) and every reference would read its path again:
        // a sum by group over 190,000 charges took 2.2 s, 0.67 s kept whole.
        sql.push("FROM (SELECT ");
        match &request.date {
            DateSource::Created => {
                sql.push("created");
            }
            DateSource::Path(path) => {
                let path = sqlite_path(path);
                // Instants past a billion years are no dates (and would overflow).
                sql.push("CASE WHEN json_type(data, ");
                sql.push_bind(path.clone());
                sql.push(") IN ('integer', 'real') AND abs(json_extract(data, ");
                sql.push_bind(path.clone());
                sql.push(")) < 1e16 THEN CAST(json_extract(data, ");
                sql.push_bind(path);
                sql.push(") AS INTEGER) END");
            }
        }
        sql.push(" AS t");
        let value_path = match &request.value {
            ValueSource::Number(path) | ValueSource::Distinct(path) => Some(path),
            ValueSource::None => None,
        };
        for (path, type_column, value_column) in [
            (request.group.as_ref(), "group_type", "group_value"),
            (value_path, "measure_type", "measure"),
        ] {
            if let Some(path) = path {
                let path = sqlite_path(path);
                sql.push(", json_type(data, ");
                sql.push_bind(path.clone());
                sql.push(format!(") AS {type_column}, json_extract(data, "));
                sql.push_bind(path);
                sql.push(format!(") AS {value_column}"));
            }
        }
        sql.push(" FROM synced_objects WHERE connection_id = ");
        sql.push_bind(request.connection.0);
        sql.push(" AND object_name = ");
        sql.push_bind(request.object_name.clone());
        // Objects deleted at the provider are kept as tombstones, out of every chart.
        sql.push(" AND deleted_at IS NULL");
        if request.date == DateSource::Created {
            sql.push(" AND created >= ");
            sql.push_bind(request.start);
            sql.push(" AND created < ");
            sql.push_bind(request.end);
        }
        sql.push(" LIMIT -1 OFFSET 0) AS windowed WHERE t >= ");
        sql.push_bind(request.start);
        sql.push(" AND t < ");
        sql.push_bind(request.end);
        // Ordered by group: a group's rows arrive together, so the caller keeps only the
        // largest groups, however many there are.
        sql.push(" GROUP BY grp, day ORDER BY grp");
        let mut connection = self.reader.acquire().await?;
        let _deadline = self.interrupt_after(&mut connection).await?;
        let mut rows = sql
            .build_query_as::<super::query::AggregateRow>()
            .fetch(&mut *connection);
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            sink(row);
        }
        Ok(())
    }
}
