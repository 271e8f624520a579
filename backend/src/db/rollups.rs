//! Rollups of saved metrics: partial states (records, sum, count of numbers, smallest, largest)
//! per UTC bucket and group, kept exact in the transaction of every write of objects. Buckets are
//! an hour wide for time zones offset by whole hours (a quarter as many cells to read), a quarter
//! hour for the others: a metric charted in both kinds of zones has a rollup of each width.
//!
//! The cells are computed by the database with the very expressions of the raw aggregation
//! (query.rs and each backend's `aggregate_each`), so a chart read from them equals the one read
//! from the objects. A write first takes out the contribution of the objects it is about to
//! replace, then adds theirs: an object that moved to another bucket or group leaves the old one.
//! A smallest or largest value can not be taken out: a cell that may have lost it is marked
//! `stale` and read again from the objects before the transaction ends.

use async_trait::async_trait;

use super::query::{AggregateRequest, RowSink};
use super::DbResult;
use crate::domain::ConnectionId;

/// Hourly buckets: whole-hour offsets, most time zones.
pub const HOUR: i64 = 3_600;
/// Quarter-hour buckets: every UTC offset in use is a multiple of it.
pub const QUARTER_HOUR: i64 = 900;

/// What a rollup is of. Paths are dot paths as the metric stores them (`billing_details.address
/// .country`); `value` is absent when only records are counted, `date` when days are cut on
/// `created`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RollupKey {
    pub connection: ConnectionId,
    pub object_name: String,
    pub group: Vec<String>,
    pub value: Option<Vec<String>>,
    pub date: Option<Vec<String>>,
    /// [`HOUR`] or [`QUARTER_HOUR`].
    pub bucket_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDefinition {
    pub id: i64,
    pub key: RollupKey,
    /// Built from the store; kept exact by every write since.
    pub ready: bool,
}

/// A built rollup to read: its definition and the width of its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltRollup {
    pub id: i64,
    pub bucket_seconds: i64,
}

/// Only names the server validated go into SQL as literals: letters, digits, `_` and `-`.
pub fn safe_path(path: &[String]) -> bool {
    !path.is_empty()
        && path.iter().all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

pub(super) fn join(path: &Option<Vec<String>>) -> String {
    path.as_ref().map(|path| path.join(".")).unwrap_or_default()
}

pub(super) fn split(text: &str) -> Option<Vec<String>> {
    (!text.is_empty()).then(|| text.split('.').map(String::from).collect())
}

/// Which of the objects a maintenance statement reads.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// These ids (a page, a batch of changes).
    Ids(&'a [&'a str]),
    /// Objects not seen since `seen_since` and created before `created_before` (a full re-read's
    /// tombstones).
    Unseen {
        seen_since: i64,
        created_before: i64,
    },
    /// Every object.
    All,
    /// Objects created at or after this instant (a step of a build).
    CreatedFrom(i64),
}

/// The rollups' SQL in one dialect. Paths are validated ([`safe_path`]) and written as literals; every
/// expression is the raw aggregation's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupSql {
    Sqlite,
    Postgres,
}

fn sqlite_path(path: &[String]) -> String {
    format!("'{}'", super::query::sqlite_path(path))
}

fn postgres_path(path: &[String]) -> String {
    format!("'{{{}}}'::text[]", path.join(","))
}

impl RollupSql {
    /// The instant days are cut on, or NULL.
    fn date(self, key: &RollupKey) -> String {
        match (self, &key.date) {
            (_, None) => "created".to_string(),
            (RollupSql::Sqlite, Some(path)) => {
                let p = sqlite_path(path);
                format!(
                    "CASE WHEN json_type(data, {p}) IN ('integer', 'real') AND \
                     abs(json_extract(data, {p})) < 1e16 THEN CAST(json_extract(data, {p}) AS \
                     INTEGER) END"
                )
            }
            (RollupSql::Postgres, Some(path)) => {
                let p = postgres_path(path);
                format!(
                    "CASE WHEN jsonb_typeof(data #> {p}) = 'number' AND abs((data #>> {p})::double \
                     precision) < 1e16 THEN floor((data #>> {p})::double precision)::bigint END"
                )
            }
        }
    }

    /// The group's text, NULL for a missing or null value.
    fn group(self, key: &RollupKey) -> String {
        match self {
            RollupSql::Sqlite => {
                let p = sqlite_path(&key.group);
                format!(
                    "CASE json_type(data, {p}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                     WHEN 'null' THEN NULL ELSE CAST(json_extract(data, {p}) AS TEXT) END"
                )
            }
            RollupSql::Postgres => {
                let p = postgres_path(&key.group);
                format!(
                    "CASE jsonb_typeof(data #> {p}) WHEN 'null' THEN NULL ELSE data #>> {p} END"
                )
            }
        }
    }

    /// The value as a number, NULL when it is not one.
    fn number(self, key: &RollupKey) -> String {
        match (self, &key.value) {
            (RollupSql::Sqlite, None) => "NULL".to_string(),
            (RollupSql::Postgres, None) => "NULL::double precision".to_string(),
            (RollupSql::Sqlite, Some(path)) => {
                let p = sqlite_path(path);
                format!(
                    "CASE WHEN json_type(data, {p}) IN ('integer', 'real') THEN \
                     CAST(json_extract(data, {p}) AS REAL) END"
                )
            }
            (RollupSql::Postgres, Some(path)) => {
                let p = postgres_path(path);
                format!(
                    "CASE WHEN jsonb_typeof(data #> {p}) = 'number' THEN (data #>> {p})::double \
                     precision END"
                )
            }
        }
    }

    /// 1 when the value is present and not a number (the `not_numeric` refusal), else 0.
    fn non_numeric(self, key: &RollupKey) -> String {
        match (self, &key.value) {
            (_, None) => "0".to_string(),
            (RollupSql::Sqlite, Some(path)) => format!(
                "CASE WHEN json_type(data, {}) NOT IN ('integer', 'real', 'null') THEN 1 ELSE 0 \
                 END",
                sqlite_path(path)
            ),
            (RollupSql::Postgres, Some(path)) => format!(
                "CASE WHEN jsonb_typeof(data #> {}) NOT IN ('number', 'null') THEN 1 ELSE 0 END",
                postgres_path(path)
            ),
        }
    }

    fn concat(self, left: &str, right: &str) -> String {
        format!("({left} || {right})")
    }

    fn boolean(self, value: bool) -> &'static str {
        match (self, value) {
            (RollupSql::Sqlite, true) => "1",
            (RollupSql::Sqlite, false) => "0",
            (RollupSql::Postgres, true) => "TRUE",
            (RollupSql::Postgres, false) => "FALSE",
        }
    }

    /// The smaller of two nullable numbers (SQLite's two-argument `min` is NULL if either is).
    fn least(self, a: &str, b: &str) -> String {
        match self {
            RollupSql::Sqlite => format!(
                "CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"
            ),
            RollupSql::Postgres => format!("LEAST({a}, {b})"),
        }
    }

    fn greatest(self, a: &str, b: &str) -> String {
        match self {
            RollupSql::Sqlite => format!(
                "CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END"
            ),
            RollupSql::Postgres => format!("GREATEST({a}, {b})"),
        }
    }

    /// The objects of `scope`: `connection_id`, `object_name` and (for ids) the ids are bound
    /// as `$1`, `$2`, `$3...`; the other scopes write their numbers.
    fn objects(self, scope: Scope<'_>, below: Option<i64>) -> String {
        let mut sql = String::from(
            "synced_objects WHERE connection_id = $1 AND object_name = $2 AND deleted_at IS NULL",
        );
        // A rollup being built holds the objects created before `below` only.
        if let Some(below) = below {
            sql.push_str(&format!(" AND created < {below}"));
        }
        match scope {
            Scope::Ids(ids) => {
                sql.push_str(" AND object_id IN (");
                let placeholders: Vec<String> =
                    (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
                sql.push_str(&placeholders.join(", "));
                sql.push(')');
            }
            Scope::Unseen {
                seen_since,
                created_before,
            } => sql.push_str(&format!(
                " AND synced_at < {seen_since} AND created < {created_before}"
            )),
            Scope::All => {}
            Scope::CreatedFrom(from) => sql.push_str(&format!(" AND created >= {from}")),
        }
        sql
    }

    /// What keeps the objects' subquery whole on SQLite: flattened into the aggregation, its
    /// sort would carry every object's JSON (the columns the aggregates read) instead of the
    /// values read from it. PostgreSQL reads the values before its sort either way, and a
    /// subquery kept whole there would run on one worker.
    fn kept_whole(self) -> &'static str {
        match self {
            RollupSql::Sqlite => " LIMIT -1 OFFSET 0",
            RollupSql::Postgres => "",
        }
    }

    /// The cells of the objects in `scope`, one row per bucket and group:
    /// `(b, g, records, total, numeric, non_numeric, smallest, largest)`.
    fn contributions(self, key: &RollupKey, scope: Scope<'_>, below: Option<i64>) -> String {
        let group = self.group(key);
        let encoded = format!(
            "CASE WHEN g IS NULL THEN '' ELSE {} END",
            self.concat("'='", "g")
        );
        format!(
            "SELECT (t - ((t % {w}) + {w}) % {w}) / {w} AS b, {encoded} AS g, COUNT(*) AS records, \
             SUM(v) AS total, COUNT(v) AS numeric, SUM(nn) AS non_numeric, MIN(v) AS smallest, \
             MAX(v) AS largest FROM (SELECT {date} AS t, {group} AS g, {number} AS v, {nn} AS nn \
             FROM {objects}{whole}) AS o WHERE t IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
            w = key.bucket_seconds,
            whole = self.kept_whole(),
            date = self.date(key),
            number = self.number(key),
            nn = self.non_numeric(key),
            objects = self.objects(scope, below),
        )
    }

    /// Adds the objects of `scope` to the definition's cells, or takes them out (`add` false).
    pub fn apply(
        self,
        definition: i64,
        key: &RollupKey,
        (scope, below): (Scope<'_>, Option<i64>),
        add: bool,
    ) -> String {
        let sign = if add { "" } else { "-" };
        let cell = |column: &str| format!("rollup_cells.{column}");
        let (smallest, largest, stale) = if add {
            (
                self.least(&cell("smallest"), "excluded.smallest"),
                self.greatest(&cell("largest"), "excluded.largest"),
                cell("stale"),
            )
        } else {
            // What is taken out may have been the extreme: read it again.
            (
                cell("smallest"),
                cell("largest"),
                format!(
                    "({} OR COALESCE(excluded.smallest <= {}, {f}) OR COALESCE(excluded.largest \
                     >= {}, {f}))",
                    cell("stale"),
                    cell("smallest"),
                    cell("largest"),
                    f = self.boolean(false)
                ),
            )
        };
        format!(
            "INSERT INTO rollup_cells (definition_id, bucket, grp, records, total, numeric, \
             non_numeric, smallest, largest, stale) SELECT {definition}, b, g, {sign}records, \
             {sign}total, {sign}numeric, {sign}non_numeric, smallest, largest, {fresh_stale} \
             FROM ({contributions}) AS c WHERE true \
             ON CONFLICT (definition_id, bucket, grp) DO UPDATE SET \
             records = rollup_cells.records + excluded.records, \
             total = CASE WHEN rollup_cells.numeric + excluded.numeric = 0 THEN NULL \
             ELSE COALESCE(rollup_cells.total, 0) + COALESCE(excluded.total, 0) END, \
             numeric = rollup_cells.numeric + excluded.numeric, \
             non_numeric = rollup_cells.non_numeric + excluded.non_numeric, \
             smallest = {smallest}, largest = {largest}, stale = {stale}",
            contributions = self.contributions(key, scope, below),
            // The removed values' extremes are what the update compares; a cell that a removal
            // would make (there is none while the cells are exact) is read again.
            fresh_stale = self.boolean(!add),
        )
    }

    /// Deletes the cells left without records.
    pub fn drop_empty(self, definition: i64) -> String {
        format!("DELETE FROM rollup_cells WHERE definition_id = {definition} AND records = 0")
    }

    /// Reads again the smallest and largest value of the cells that may have lost theirs. With
    /// `created` as the date, each cell is a range of the time index; with another date field,
    /// one pass over the object.
    pub fn refresh_stale(self, definition: i64, key: &RollupKey, below: Option<i64>) -> String {
        let stale_true = self.boolean(true);
        let f = self.boolean(false);
        let decoded =
            "CASE WHEN rollup_cells.grp = '' THEN NULL ELSE substr(rollup_cells.grp, 2) END";
        match &key.date {
            None => {
                let extreme = |function: &str| {
                    format!(
                        "(SELECT {function}({number}) FROM synced_objects WHERE connection_id = $1 \
                         AND object_name = $2 AND deleted_at IS NULL AND created >= \
                         rollup_cells.bucket * {w} AND created < (rollup_cells.bucket + 1) * {w} \
                         AND created < {below} AND ({group}) IS NOT DISTINCT FROM ({decoded}))",
                        below = below.unwrap_or(i64::MAX),
                        group = self.group(key),
                        number = self.number(key),
                        w = key.bucket_seconds,
                    )
                };
                format!(
                    "UPDATE rollup_cells SET smallest = {}, largest = {}, stale = {f} WHERE \
                     definition_id = {definition} AND stale = {stale_true}",
                    extreme("MIN"),
                    extreme("MAX"),
                )
            }
            Some(_) => format!(
                "UPDATE rollup_cells SET smallest = fresh.smallest, largest = fresh.largest, \
                 stale = {f} FROM ({contributions}) AS fresh WHERE \
                 rollup_cells.definition_id = {definition} AND rollup_cells.stale = {stale_true} \
                 AND rollup_cells.bucket = fresh.b AND rollup_cells.grp = fresh.g",
                contributions = self.contributions(key, Scope::All, below),
            ),
        }
    }

    /// The definitions a write of the object keeps exact (on PostgreSQL shared-locked, so that
    /// a build, which locks its definition for update, either sees the write or is seen by it).
    pub fn ready_definitions(self) -> String {
        format!(
            "SELECT id, group_path, value_path, date_path, bucket_seconds, ready, built_until \
             FROM rollup_definitions WHERE connection_id = $1 AND object_name = $2 AND (ready = {} \
             OR built_until IS NOT NULL){}",
            self.boolean(true),
            match self {
                RollupSql::Sqlite => "",
                RollupSql::Postgres => " ORDER BY id FOR SHARE",
            }
        )
    }

    /// Locks a definition for its build (SQLite: the write lock is the transaction's).
    pub fn lock_definition(self) -> &'static str {
        match self {
            RollupSql::Sqlite => {
                "SELECT connection_id, object_name, group_path, value_path, date_path, \
                 bucket_seconds, ready, built_until FROM rollup_definitions WHERE id = $1"
            }
            RollupSql::Postgres => {
                "SELECT connection_id, object_name, group_path, value_path, date_path, \
                 bucket_seconds, ready, built_until FROM rollup_definitions WHERE id = $1 \
                 FOR UPDATE"
            }
        }
    }

    /// The window's rows from the cells, in the raw aggregation's shape: `bucket_sql` is the
    /// bucket (or day) expression of an instant `t`.
    pub fn read(self, rollup: BuiltRollup, request: &AggregateRequest, bucket_sql: &str) -> String {
        let decoded = "CASE WHEN grp = '' THEN NULL ELSE substr(grp, 2) END";
        // PostgreSQL sums bigints into numerics.
        let whole = match self {
            RollupSql::Sqlite => "",
            RollupSql::Postgres => "::bigint",
        };
        let first = request.start.div_euclid(rollup.bucket_seconds);
        let end = request.end.div_euclid(rollup.bucket_seconds);
        format!(
            "SELECT {bucket_sql} AS day, {decoded} AS grp, SUM(records){whole} AS records, \
             SUM(total) AS total, MIN(smallest) AS smallest, MAX(largest) AS largest, \
             SUM(numeric){whole} AS numeric, SUM(non_numeric){whole} AS non_numeric, \
             0{whole} AS distinct_values FROM (SELECT bucket * {w} AS \
             t, grp, records, total, numeric, non_numeric, smallest, largest FROM rollup_cells \
             WHERE definition_id = {definition} AND bucket >= {first} AND bucket < {end}) AS \
             cells GROUP BY 2, 1 ORDER BY 2",
            definition = rollup.id,
            w = rollup.bucket_seconds,
        )
    }
}

/// Whether a window's days are unions of buckets of this width: every day start and offset
/// change falls on a bucket's edge.
pub fn window_fits(request: &AggregateRequest, bucket_seconds: i64) -> bool {
    fits(request.start, request.end, &request.offsets, bucket_seconds)
}

/// The widest buckets whose edges the window's days fall on (`None`: a zone offset by odd
/// minutes, such as the local mean time of old dates).
pub fn bucket_seconds_of(start: i64, end: i64, offsets: &[(i64, i64)]) -> Option<i64> {
    [HOUR, QUARTER_HOUR]
        .into_iter()
        .find(|width| fits(start, end, offsets, *width))
}

fn fits(start: i64, end: i64, offsets: &[(i64, i64)], width: i64) -> bool {
    let on_edge = |instant: i64| instant.rem_euclid(width) == 0;
    on_edge(start)
        && on_edge(end)
        && offsets
            .iter()
            .all(|(until, offset)| on_edge(*until) && on_edge(*offset))
}

#[async_trait]
pub trait RollupStore {
    /// The definition of `key`, made (not ready) if there was none.
    async fn rollup_definition(&self, key: &RollupKey) -> DbResult<RollupDefinition>;
    /// Builds a definition's cells from the store, unless it is ready already; writes of its
    /// object wait meanwhile, then keep it exact.
    async fn build_rollup(&self, definition: i64) -> DbResult<()>;
    /// Streams a ready definition's rows for the window, like `aggregate_each`.
    async fn rollup_each(
        &self,
        rollup: BuiltRollup,
        request: &AggregateRequest,
        sink: &mut RowSink<'_>,
    ) -> DbResult<()>;
    /// The definitions of a connection's objects.
    async fn rollup_definitions(&self, connection: ConnectionId)
        -> DbResult<Vec<RollupDefinition>>;
    async fn delete_rollup(&self, definition: i64) -> DbResult<()>;
    /// How many live objects of `object_name` the connection has, counting no further than
    /// `at_most` (a query that would scan more than that without a rollup is refused).
    async fn count_objects(
        &self,
        connection: ConnectionId,
        object_name: &str,
        at_most: i64,
    ) -> DbResult<i64>;
}

/// The definition behind a row of `rollup_definitions`.
pub(super) fn key_of(
    connection: ConnectionId,
    object_name: &str,
    group: &str,
    value: &str,
    date: &str,
    bucket_seconds: i64,
) -> RollupKey {
    RollupKey {
        connection,
        object_name: object_name.to_string(),
        group: split(group).unwrap_or_default(),
        value: split(value),
        date: split(date),
        bucket_seconds,
    }
}

/// Runs one maintenance statement over the objects of `$scope` (`$1` connection, `$2` object
/// name, then the ids).
macro_rules! rollup_execute {
    ($transaction:ident, $sql:expr, $connection:expr, $object_name:expr, $scope:expr) => {{
        let mut query = sqlx::query(sqlx::AssertSqlSafe($sql))
            .bind($connection.0)
            .bind($object_name);
        if let $crate::db::rollups::Scope::Ids(ids) = $scope {
            for id in ids {
                query = query.bind(*id);
            }
        }
        query.execute(&mut *$transaction).await?;
    }};
}

/// Before a write of objects, in its transaction: the ready definitions of the object, with the
/// objects of `$scope` taken out of their cells. Hand the result to [`rollups_put_back`] after
/// the write.
macro_rules! rollups_take_out {
    ($transaction:ident, $connection:expr, $object_name:expr, $scope:expr) => {{
        let rows: Vec<(i64, String, String, String, i64, bool, Option<i64>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(Self::ROLLUP_SQL.ready_definitions()))
                .bind($connection.0)
                .bind($object_name)
                .fetch_all(&mut *$transaction)
                .await?;
        // With what is built of each (everything once ready).
        let definitions: Vec<(i64, $crate::db::rollups::RollupKey, Option<i64>)> = rows
            .into_iter()
            .map(
                |(id, group, value, date, bucket_seconds, ready, built_until)| {
                    (
                        id,
                        $crate::db::rollups::key_of(
                            $connection,
                            $object_name,
                            &group,
                            &value,
                            &date,
                            bucket_seconds,
                        ),
                        if ready { None } else { built_until },
                    )
                },
            )
            .collect();
        for (id, key, below) in &definitions {
            $crate::db::rollups::rollup_execute!(
                $transaction,
                Self::ROLLUP_SQL.apply(*id, key, ($scope, *below), false),
                $connection,
                $object_name,
                $scope
            );
        }
        definitions
    }};
}

/// After the write: the objects of `$scope` added back as they are now, the extremes that may
/// have left read again, and the cells left empty deleted.
macro_rules! rollups_put_back {
    ($transaction:ident, $definitions:expr, $connection:expr, $object_name:expr, $scope:expr) => {{
        for (id, key, below) in &$definitions {
            $crate::db::rollups::rollup_execute!(
                $transaction,
                Self::ROLLUP_SQL.apply(*id, key, ($scope, *below), true),
                $connection,
                $object_name,
                $scope
            );
            $crate::db::rollups::rollup_execute!(
                $transaction,
                Self::ROLLUP_SQL.refresh_stale(*id, key, *below),
                $connection,
                $object_name,
                $crate::db::rollups::Scope::All
            );
            sqlx::query(sqlx::AssertSqlSafe(Self::ROLLUP_SQL.drop_empty(*id)))
                .execute(&mut *$transaction)
                .await?;
        }
    }};
}

macro_rules! impl_rollup_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::rollups::RollupStore for $repository {
            async fn rollup_definition(
                &self,
                key: &$crate::db::rollups::RollupKey,
            ) -> $crate::db::DbResult<$crate::db::rollups::RollupDefinition> {
                use $crate::db::rollups::join;
                let group = key.group.join(".");
                let value = join(&key.value);
                let date = join(&key.date);
                let find = || {
                    sqlx::query_as::<_, (i64, bool)>(
                        "SELECT id, ready FROM rollup_definitions WHERE connection_id = $1 \
                         AND object_name = $2 AND group_path = $3 AND value_path = $4 \
                         AND date_path = $5 AND bucket_seconds = $6",
                    )
                    .bind(key.connection.0)
                    .bind(&key.object_name)
                    .bind(&group)
                    .bind(&value)
                    .bind(&date)
                    .bind(key.bucket_seconds)
                };
                // Reads first: a chart's read takes no write lock when the rollup exists.
                if let Some((id, ready)) = find().fetch_optional(&self.pool).await? {
                    return Ok($crate::db::rollups::RollupDefinition {
                        id,
                        key: key.clone(),
                        ready,
                    });
                }
                sqlx::query(
                    "INSERT INTO rollup_definitions (connection_id, object_name, group_path, \
                     value_path, date_path, bucket_seconds, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (connection_id, object_name, group_path, value_path, date_path, \
                     bucket_seconds) DO NOTHING",
                )
                .bind(key.connection.0)
                .bind(&key.object_name)
                .bind(&group)
                .bind(&value)
                .bind(&date)
                .bind(key.bucket_seconds)
                .bind(chrono::Utc::now().timestamp())
                .execute(&self.pool)
                .await?;
                let (id, ready) = find().fetch_one(&self.pool).await?;
                Ok($crate::db::rollups::RollupDefinition {
                    id,
                    key: key.clone(),
                    ready,
                })
            }

            async fn build_rollup(&self, definition: i64) -> $crate::db::DbResult<()> {
                // Forward through the objects by creation, a few thousand per transaction:
                // writes wait for one step, never for the whole build.
                const STEP: i64 = 20_000;
                loop {
                    let mut transaction = self.begin_write().await?;
                    #[allow(clippy::type_complexity)]
                    let row: Option<(i64, String, String, String, String, i64, bool, Option<i64>)> =
                        sqlx::query_as(Self::ROLLUP_SQL.lock_definition())
                            .bind(definition)
                            .fetch_optional(&mut *transaction)
                            .await?;
                    let Some((connection, object_name, group, value, date, bucket_seconds, ready, built)) =
                        row
                    else {
                        return Ok(());
                    };
                    if ready {
                        return Ok(());
                    }
                    let connection = $crate::domain::ConnectionId(connection);
                    let key = $crate::db::rollups::key_of(
                        connection,
                        &object_name,
                        &group,
                        &value,
                        &date,
                        bucket_seconds,
                    );
                    if built.is_none() {
                        sqlx::query("DELETE FROM rollup_cells WHERE definition_id = $1")
                            .bind(definition)
                            .execute(&mut *transaction)
                            .await?;
                    }
                    let from = built.unwrap_or(-(1 << 62));
                    let next: Option<i64> = sqlx::query_scalar(
                        "SELECT created FROM synced_objects WHERE connection_id = $1 \
                         AND object_name = $2 AND created >= $3 ORDER BY created \
                         LIMIT 1 OFFSET $4",
                    )
                    .bind(connection.0)
                    .bind(&object_name)
                    .bind(from)
                    .bind(STEP)
                    .fetch_optional(&mut *transaction)
                    .await?;
                    // The step's objects: created in [from, next), or all the rest.
                    let step = $crate::db::rollups::Scope::CreatedFrom(from);
                    $crate::db::rollups::rollup_execute!(
                        transaction,
                        Self::ROLLUP_SQL.apply(definition, &key, (step, next), true),
                        connection,
                        &object_name,
                        step
                    );
                    match next {
                        Some(next) => {
                            sqlx::query(
                                "UPDATE rollup_definitions SET built_until = $2 WHERE id = $1",
                            )
                            .bind(definition)
                            .bind(next)
                            .execute(&mut *transaction)
                            .await?;
                        }
                        None => {
                            sqlx::query(
                                "UPDATE rollup_definitions SET ready = TRUE, built_until = NULL \
                                 WHERE id = $1",
                            )
                            .bind(definition)
                            .execute(&mut *transaction)
                            .await?;
                        }
                    }
                    transaction.commit().await?;
                    if next.is_none() {
                        return Ok(());
                    }
                    if !Self::BUILD_STEP_PAUSE.is_zero() {
                        tokio::time::sleep(Self::BUILD_STEP_PAUSE).await;
                    }
                }
            }

            async fn rollup_each(
                &self,
                rollup: $crate::db::rollups::BuiltRollup,
                request: &$crate::db::query::AggregateRequest,
                sink: &mut $crate::db::query::RowSink<'_>,
            ) -> $crate::db::DbResult<()> {
                let sql = Self::ROLLUP_SQL.read(
                    rollup,
                    request,
                    &$crate::db::query::bucket_expression(request, "t"),
                );
                self.stream_rows(sql, sink).await
            }

            async fn rollup_definitions(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<Vec<$crate::db::rollups::RollupDefinition>> {
                #[allow(clippy::type_complexity)]
                let rows: Vec<(i64, String, String, String, String, i64, bool)> = sqlx::query_as(
                    "SELECT id, object_name, group_path, value_path, date_path, bucket_seconds, \
                     ready FROM rollup_definitions WHERE connection_id = $1 ORDER BY id",
                )
                .bind(connection.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, object_name, group, value, date, bucket_seconds, ready)| {
                        $crate::db::rollups::RollupDefinition {
                            id,
                            key: $crate::db::rollups::key_of(
                                connection,
                                &object_name,
                                &group,
                                &value,
                                &date,
                                bucket_seconds,
                            ),
                            ready,
                        }
                    })
                    .collect())
            }

            async fn count_objects(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                at_most: i64,
            ) -> $crate::db::DbResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM synced_objects WHERE connection_id = $1 \
                     AND object_name = $2 AND deleted_at IS NULL LIMIT $3) AS counted",
                )
                .bind(connection.0)
                .bind(object_name)
                .bind(at_most)
                .fetch_one(&self.reader)
                .await?)
            }

            async fn delete_rollup(&self, definition: i64) -> $crate::db::DbResult<()> {
                let mut transaction = self.begin_write().await?;
                // Cells first: SQLite cascades only with foreign keys on, which every
                // connection has, but a delete in order costs nothing.
                sqlx::query("DELETE FROM rollup_cells WHERE definition_id = $1")
                    .bind(definition)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("DELETE FROM rollup_definitions WHERE id = $1")
                    .bind(definition)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use {impl_rollup_store, rollup_execute, rollups_put_back, rollups_take_out};

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start: i64, end: i64, offsets: Vec<(i64, i64)>) -> AggregateRequest {
        AggregateRequest {
            connection: ConnectionId(1),
            object_name: "Charge".into(),
            date: super::super::query::DateSource::Created,
            group: None,
            value: super::super::query::ValueSource::None,
            start,
            end,
            first_epoch_day: 0,
            offsets,
            bucket_starts: None,
        }
    }

    #[test]
    fn buckets_are_as_wide_as_the_offsets_allow() {
        // New York, across its spring day: whole hours.
        let spring = 20_520 * 86_400 + 5 * 3_600;
        let offsets = vec![(spring + 86_400, -18_000), (spring + 2 * 86_400, -14_400)];
        assert_eq!(
            bucket_seconds_of(spring - 86_400, spring + 2 * 86_400 - 3_600, &offsets),
            Some(HOUR)
        );
        // Kathmandu: +05:45.
        let kathmandu = 20_000 * 86_400 - 20_700;
        let nepal = request(
            kathmandu,
            kathmandu + 86_400,
            vec![(kathmandu + 86_400, 20_700)],
        );
        assert!(window_fits(&nepal, QUARTER_HOUR));
        assert!(!window_fits(&nepal, HOUR));
        assert_eq!(
            bucket_seconds_of(nepal.start, nepal.end, &nepal.offsets),
            Some(QUARTER_HOUR)
        );
        // Local mean time of old dates: +00:19:32.
        let odd = 1_172;
        assert!(!window_fits(
            &request(-odd, 86_400 - odd, vec![(86_400 - odd, odd)]),
            QUARTER_HOUR
        ));
        assert_eq!(
            bucket_seconds_of(-odd, 86_400 - odd, &[(86_400 - odd, odd)]),
            None
        );
        assert!(safe_path(&["billing_details".into(), "address-1".into()]));
        assert!(!safe_path(&["a'b".into()]));
        assert!(!safe_path(&[]));
    }
}
