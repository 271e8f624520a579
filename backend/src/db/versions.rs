//! The version of the data under a user's series, read in one indexed statement on the read-only
//! pool: a series the cache holds is answered with this single read. It is read on every request
//! from the shared database, so no replica serves a series older than what any replica stored.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::{ConnectionId, Metric, MetricId, SyncJob, SyncJobId, UserId};

/// What a series depends on besides its parameters and window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesVersion {
    pub connection: ConnectionId,
    /// The source's provider, whose schema the parameters are checked against.
    pub provider: String,
    /// The connection's chosen account as stored: report series show its time zone and currency.
    pub account: Option<String>,
    /// The object's sync job; `None` until it exists.
    pub job: Option<JobVersion>,
}

/// What a series depends on of its object's sync job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobVersion {
    /// Never reused: a job made again (another account connected) starts its versions afresh.
    pub id: SyncJobId,
    /// Bumped in the transaction of every page that stores or changes objects.
    pub data_version: i64,
    pub backfill_done: bool,
    pub covered_from: Option<i64>,
    pub last_synced_at: Option<i64>,
}

impl JobVersion {
    /// Whether everything created at or after `from` is stored.
    pub fn has_stored_from(&self, from: i64) -> bool {
        self.backfill_done || self.covered_from.is_some_and(|covered| covered <= from)
    }
}

impl From<&SyncJob> for JobVersion {
    fn from(job: &SyncJob) -> Self {
        JobVersion {
            id: job.id,
            data_version: job.data_version,
            backfill_done: job.backfill_done,
            covered_from: job.covered_from,
            last_synced_at: job.last_synced_at,
        }
    }
}

#[async_trait]
pub trait VersionStore {
    /// The version of the series of `object_name` on the user's connection to the source
    /// `slug`; `None` unless the source is enabled, offers the object (enabled) and the user is
    /// connected to it.
    async fn series_version(
        &self,
        user: UserId,
        slug: &str,
        object_name: &str,
    ) -> DbResult<Option<SeriesVersion>>;
    /// The user's metric and the version of its series (`None` as for `series_version`);
    /// `None` when the user has no such metric.
    async fn metric_series_version(
        &self,
        user: UserId,
        metric: MetricId,
    ) -> DbResult<Option<(Metric, Option<SeriesVersion>)>>;
}

row_struct! {
    /// The version's columns, all null when the source, the object or the connection is missing.
    pub(super) struct VersionRow {
        pub connection_id: Option<i64>,
        pub provider: Option<String>,
        pub account: Option<String>,
        pub job_id: Option<i64>,
        pub data_version: Option<i64>,
        pub backfill_done: Option<bool>,
        pub covered_from: Option<i64>,
        pub last_synced_at: Option<i64>,
    }
}

impl VersionRow {
    pub fn version(self) -> Option<SeriesVersion> {
        Some(SeriesVersion {
            connection: ConnectionId(self.connection_id?),
            provider: self.provider?,
            account: self.account,
            job: self.job_id.map(|id| JobVersion {
                id: SyncJobId(id),
                data_version: self.data_version.unwrap_or_default(),
                backfill_done: self.backfill_done.unwrap_or_default(),
                covered_from: self.covered_from,
                last_synced_at: self.last_synced_at,
            }),
        })
    }
}

pub(super) struct MetricVersionRow {
    pub metric: super::metrics::MetricRow,
    pub version: VersionRow,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for MetricVersionRow
where
    super::metrics::MetricRow: sqlx::FromRow<'r, R>,
    VersionRow: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            metric: super::metrics::MetricRow::from_row(row)?,
            version: VersionRow::from_row(row)?,
        })
    }
}

/// The version's columns, of `s` (the source), `c` (the connection) and `j` (the job).
macro_rules! version_columns {
    () => {
        "c.id AS connection_id, s.provider AS provider, CAST(c.account AS TEXT) AS account, \
         j.id AS job_id, j.data_version AS data_version, j.backfill_done AS backfill_done, \
         j.covered_from AS covered_from, j.last_synced_at AS last_synced_at"
    };
}
pub(super) use version_columns;

macro_rules! impl_version_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::versions::VersionStore for $repository {
            async fn series_version(
                &self,
                user: $crate::domain::UserId,
                slug: &str,
                object_name: &str,
            ) -> $crate::db::DbResult<Option<$crate::db::versions::SeriesVersion>> {
                let row: Option<$crate::db::versions::VersionRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::versions::version_columns!(),
                    " FROM data_sources s \
                     JOIN routing_sources r ON r.data_source_id = s.id \
                         AND r.object_name = $3 AND r.enabled \
                     JOIN connections c ON c.data_source_id = s.id AND c.user_id = $1 \
                     LEFT JOIN sync_jobs j ON j.connection_id = c.id AND j.object_name = $3 \
                     WHERE s.slug = $2 AND s.enabled"
                ))
                .bind(user.0)
                .bind(slug)
                .bind(object_name)
                .fetch_optional(&self.reader)
                .await?;
                Ok(row.and_then($crate::db::versions::VersionRow::version))
            }

            async fn metric_series_version(
                &self,
                user: $crate::domain::UserId,
                metric: $crate::domain::MetricId,
            ) -> $crate::db::DbResult<
                Option<(
                    $crate::domain::Metric,
                    Option<$crate::db::versions::SeriesVersion>,
                )>,
            > {
                let row: Option<$crate::db::versions::MetricVersionRow> = sqlx::query_as(concat!(
                    "SELECT m.id, m.user_id, m.name, m.source, m.kind, m.object_name, \
                     m.operator, m.field_name, m.value_field, m.date_field, ",
                    $crate::db::versions::version_columns!(),
                    " FROM metrics m \
                     LEFT JOIN data_sources s ON s.slug = m.source AND s.enabled \
                     LEFT JOIN routing_sources r ON r.data_source_id = s.id \
                         AND r.object_name = m.object_name AND r.enabled \
                     LEFT JOIN connections c ON c.data_source_id = r.data_source_id \
                         AND c.user_id = m.user_id \
                     LEFT JOIN sync_jobs j ON j.connection_id = c.id \
                         AND j.object_name = m.object_name \
                     WHERE m.id = $1 AND m.user_id = $2"
                ))
                .bind(metric.0)
                .bind(user.0)
                .fetch_optional(&self.reader)
                .await?;
                Ok(row.map(|row| (row.metric.into(), row.version.version())))
            }
        }
    };
}
pub(super) use impl_version_store;
