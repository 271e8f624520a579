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
    /// Read-only connections for the reads of charts: however many requests wait to write, a
    /// cached series is answered without queueing behind them for a connection.
    reader: PgPool,
}

/// The tables syncs grow, and at most how many of their rows may change before the planner's
/// statistics of them are gathered again: a tenth of the rows, and ten thousand more.
const GROWING_TABLES: [&str; 2] = ["synced_objects", "rollup_cells"];
const CHANGED_ROWS_BEFORE_ANALYZE: i64 = 10_000;

impl PostgresRepository {
    fn migrator() -> Migrator {
        super::migrations::postgres()
    }

    /// After a sync run: gathers the planner's statistics of the tables syncs grow once a tenth
    /// of their rows changed since they were last gathered (autovacuum's own rule, for servers
    /// run without it, or before it comes round). Without statistics, after a backfill, the
    /// planner sorted every object of a connection to find its newest twenty.
    async fn refresh_planner_statistics(&self) -> DbResult<()> {
        for table in GROWING_TABLES {
            let stale: Option<bool> = sqlx::query_scalar(
                "SELECT n_mod_since_analyze > $2 + n_live_tup / 10 FROM pg_stat_user_tables \
                 WHERE relname = $1 AND schemaname = current_schema()",
            )
            .bind(table)
            .bind(CHANGED_ROWS_BEFORE_ANALYZE)
            .fetch_optional(&self.pool)
            .await?
            .flatten();
            if stale == Some(true) {
                sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Connects lazily: the server starts even while the database is down, and `/readyz` tells.
    /// The readers' statements (the charts') stop at the statement timeout.
    pub fn connect(url: &str, settings: &DatabaseSettings) -> DbResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| DbError::Setup(format!("invalid PostgreSQL URL: {error}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options.clone());
        let reader = PgPoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options.options([
                ("default_transaction_read_only", "on".to_string()),
                (
                    "statement_timeout",
                    settings.statement_timeout_ms.max(1).to_string(),
                ),
            ]));
        Ok(Self { pool, reader })
    }

    pub(super) const ROLLUP_SQL: super::rollups::RollupSql = super::rollups::RollupSql::Postgres;
    /// Writers wait for rows, not for one lock: a build's steps follow each other at once.
    pub(super) const BUILD_STEP_PAUSE: Duration = Duration::ZERO;

    /// A write transaction: PostgreSQL's writers wait for the rows they write, whatever they
    /// read first.
    #[allow(clippy::disallowed_methods)]
    pub(super) async fn begin_write(&self) -> DbResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Streams the rows of a chart's statement (the readers' statement timeout stops it).
    pub(super) async fn stream_rows(
        &self,
        sql: String,
        sink: &mut super::query::RowSink<'_>,
    ) -> DbResult<()> {
        let mut rows = sqlx::query_as::<_, super::query::AggregateRow>(sqlx::AssertSqlSafe(sql))
            .fetch(&self.reader);
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            sink(row);
        }
        Ok(())
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

#[async_trait::async_trait]
impl super::query::QueryStore for PostgresRepository {
    async fn latest_labels(
        &self,
        connection: crate::domain::ConnectionId,
        object_name: &str,
        id: &str,
        label: &str,
    ) -> DbResult<Vec<(String, String)>> {
        let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT DISTINCT ON (data ->> $3) data ->> $3, data ->> $4 FROM synced_objects \
             WHERE connection_id = $1 AND object_name = $2 ORDER BY data ->> $3, created DESC",
        )
        .bind(connection.0)
        .bind(object_name)
        .bind(id)
        .bind(label)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, label)| Some((id?, label?)))
            .collect())
    }

    async fn aggregate_each(
        &self,
        request: &super::query::AggregateRequest,
        sink: &mut super::query::RowSink<'_>,
    ) -> DbResult<()> {
        use super::query::{bucket_expression, DateSource, ValueSource};
        // The stored JSON is read once per object: a Stripe object is stored out of line, and
        // every `data #> path` would fetch and decompress it again. `jsonb_to_record` takes the
        // paths' top-level fields out in one read (and, unlike a subquery kept whole with
        // OFFSET 0, lets parallel workers share the scan); the aggregates then read those.
        let mut sql = sqlx::QueryBuilder::<Postgres>::new("SELECT ");
        sql.push(bucket_expression(request, "t"));
        sql.push(" AS day, ");
        sql.push(match &request.group {
            Some(_) => "CASE jsonb_typeof(gj) WHEN 'null' THEN NULL ELSE gj #>> '{}' END",
            None => "NULL::text",
        });
        sql.push(" AS grp, COUNT(*) AS records, ");
        match &request.value {
            ValueSource::Number(_) => {
                for (function, alias) in [("SUM", "total"), ("MIN", "smallest"), ("MAX", "largest")]
                {
                    sql.push(format!(
                        "{function}(CASE WHEN jsonb_typeof(vj) = 'number' THEN (vj #>> '{{}}')\
                         ::double precision END) AS {alias}, "
                    ));
                }
                sql.push(
                    "COUNT(*) FILTER (WHERE jsonb_typeof(vj) = 'number') AS numeric, \
                     COUNT(*) FILTER (WHERE jsonb_typeof(vj) NOT IN ('number', 'null')) AS \
                     non_numeric, 0::bigint AS distinct_values ",
                );
            }
            ValueSource::Distinct(_) => {
                sql.push(
                    "NULL::double precision AS total, NULL::double precision AS smallest, \
                     NULL::double precision AS largest, 0::bigint AS numeric, \
                     0::bigint AS non_numeric, COUNT(DISTINCT CASE jsonb_typeof(vj) \
                     WHEN 'null' THEN NULL ELSE vj #>> '{}' END) AS distinct_values ",
                );
            }
            ValueSource::None => {
                sql.push(
                    "NULL::double precision AS total, NULL::double precision AS smallest, \
                     NULL::double precision AS largest, 0::bigint AS numeric, \
                     0::bigint AS non_numeric, 0::bigint AS distinct_values ",
                );
            }
        }
        sql.push("FROM (SELECT ");
        sql.push(match &request.date {
            DateSource::Created => "created",
            // Instants past a billion years are no dates (and would overflow bigint).
            DateSource::Path(_) => {
                "CASE WHEN jsonb_typeof(dj) = 'number' AND abs((dj #>> '{}')::double precision) \
                 < 1e16 THEN floor((dj #>> '{}')::double precision)::bigint END"
            }
        });
        sql.push(" AS t, gj, vj FROM (SELECT o.created, ");
        let paths = [
            request.group.as_ref(),
            match &request.value {
                ValueSource::Number(path) | ValueSource::Distinct(path) => Some(path),
                ValueSource::None => None,
            },
            match &request.date {
                DateSource::Path(path) => Some(path),
                DateSource::Created => None,
            },
        ];
        let columns = record_columns(&paths);
        for (path, alias) in paths.iter().zip(["gj", "vj", "dj"]) {
            match (path, &columns) {
                (None, _) => {
                    sql.push("NULL::jsonb");
                }
                (Some(path), Some(_)) => {
                    sql.push(format!("x.{}", quoted(&path[0])));
                    if path.len() > 1 {
                        sql.push(" #> ");
                        sql.push_bind(path[1..].to_vec());
                    }
                }
                (Some(path), None) => {
                    sql.push("o.data #> ");
                    sql.push_bind((*path).clone());
                }
            }
            sql.push(format!(" AS {alias}, "));
        }
        sql.push("1 AS one FROM synced_objects o");
        if let Some(columns) = &columns {
            sql.push(format!(
                " CROSS JOIN LATERAL jsonb_to_record(o.data) AS x({columns})"
            ));
        }
        sql.push(" WHERE o.connection_id = ");
        sql.push_bind(request.connection.0);
        sql.push(" AND o.object_name = ");
        sql.push_bind(request.object_name.clone());
        // Objects deleted at the provider are kept as tombstones, out of every chart.
        sql.push(" AND o.deleted_at IS NULL");
        if request.date == DateSource::Created {
            sql.push(" AND o.created >= ");
            sql.push_bind(request.start);
            sql.push(" AND o.created < ");
            sql.push_bind(request.end);
        }
        // Without columns (a key too long to name one), each path is read once per object in
        // a subquery the planner keeps (OFFSET 0), at the cost of parallel workers.
        if columns.is_none() && paths.iter().any(Option::is_some) {
            sql.push(" OFFSET 0");
        }
        sql.push(") AS extracted) AS windowed WHERE t >= ");
        sql.push_bind(request.start);
        sql.push(" AND t < ");
        sql.push_bind(request.end);
        // Ordered by group: a group's rows arrive together, so the caller keeps only the
        // largest groups, however many there are.
        sql.push(" GROUP BY grp, day ORDER BY grp");
        let mut rows = sql
            .build_query_as::<super::query::AggregateRow>()
            .fetch(&self.reader);
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            sink(row);
        }
        Ok(())
    }
}

/// The column definitions of `jsonb_to_record` for the top-level fields of these paths (each
/// once), or `None` when one cannot name a column: PostgreSQL cuts identifiers at 63 bytes.
fn record_columns(paths: &[Option<&Vec<String>>]) -> Option<String> {
    let mut keys: Vec<&str> = Vec::new();
    for path in paths.iter().flatten() {
        let key = path.first()?.as_str();
        if key.is_empty() || key.len() > 63 {
            return None;
        }
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return None;
    }
    Some(
        keys.iter()
            .map(|key| format!("{} jsonb", quoted(key)))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// A double-quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_columns_name_each_top_level_field_once() {
        let amount = vec!["amount".to_string()];
        let country = vec![
            "billing_details".to_string(),
            "address".to_string(),
            "country".to_string(),
        ];
        let amount_again = vec!["amount".to_string()];
        assert_eq!(
            record_columns(&[Some(&country), Some(&amount), Some(&amount_again)]).as_deref(),
            Some("\"billing_details\" jsonb, \"amount\" jsonb")
        );
        assert_eq!(record_columns(&[None, None, None]), None);
        let long = vec!["k".repeat(64)];
        assert_eq!(record_columns(&[Some(&amount), Some(&long)]), None);
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
