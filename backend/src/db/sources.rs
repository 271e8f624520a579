//! Data sources and their objects (routing sources): queries that read the same in both dialects.

use crate::db::row::row_struct;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::DbResult;
use crate::domain::{
    DataSource, DataSourceId, DataSourcePatch, DeleteOutcome, NewDataSource, RoutingSource,
    RoutingSourcePatch,
};

#[async_trait]
pub trait SourceStore {
    /// All data sources, or only the enabled ones, by name.
    async fn list_data_sources(&self, include_disabled: bool) -> DbResult<Vec<DataSource>>;
    async fn data_source_by_slug(&self, slug: &str) -> DbResult<Option<DataSource>>;
    /// `Conflict("slug")` when the slug is taken.
    async fn create_data_source(&self, source: NewDataSource) -> DbResult<DataSource>;
    async fn update_data_source(
        &self,
        slug: &str,
        patch: DataSourcePatch,
    ) -> DbResult<Option<DataSource>>;
    /// Refuses while users are connected, unless `force` (then their connections go too).
    async fn delete_data_source(&self, slug: &str, force: bool) -> DbResult<DeleteOutcome>;
    /// How many users are connected to each data source.
    async fn connection_counts(&self) -> DbResult<Vec<(DataSourceId, i64)>>;

    /// A source's objects in catalogue order, or only the enabled ones.
    async fn list_routing_sources(
        &self,
        source: DataSourceId,
        include_disabled: bool,
    ) -> DbResult<Vec<RoutingSource>>;
    /// `Conflict("object_name")` when the source already has it.
    async fn create_routing_source(&self, object: RoutingSource) -> DbResult<RoutingSource>;
    async fn update_routing_source(
        &self,
        source: DataSourceId,
        object_name: &str,
        patch: RoutingSourcePatch,
    ) -> DbResult<Option<RoutingSource>>;
    async fn delete_routing_source(
        &self,
        source: DataSourceId,
        object_name: &str,
    ) -> DbResult<bool>;
}

row_struct! {
    pub(super) struct DataSourceRow {
        pub id: i64,
        pub slug: String,
        pub name: String,
        pub provider: String,
        pub enabled: bool,
        pub created_at: DateTime<Utc>,
    }
}

impl From<DataSourceRow> for DataSource {
    fn from(row: DataSourceRow) -> Self {
        DataSource {
            id: DataSourceId(row.id),
            slug: row.slug,
            name: row.name,
            provider: row.provider,
            enabled: row.enabled,
            created_at: row.created_at,
        }
    }
}

row_struct! {
    pub(super) struct RoutingSourceRow {
        pub data_source_id: i64,
        pub object_name: String,
        pub label: String,
        pub enabled: bool,
    }
}

impl From<RoutingSourceRow> for RoutingSource {
    fn from(row: RoutingSourceRow) -> Self {
        RoutingSource {
            data_source_id: DataSourceId(row.data_source_id),
            object_name: row.object_name,
            label: row.label,
            enabled: row.enabled,
        }
    }
}

pub(super) fn conflict_on(error: sqlx::Error, what: &'static str) -> super::DbError {
    match super::DbError::from(error) {
        super::DbError::Conflict(_) => super::DbError::Conflict(what),
        other => other,
    }
}

macro_rules! data_source_columns {
    () => {
        "id, slug, name, provider, enabled, created_at"
    };
}
pub(super) use data_source_columns;

macro_rules! impl_source_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::sources::SourceStore for $repository {
            async fn list_data_sources(
                &self,
                include_disabled: bool,
            ) -> $crate::db::DbResult<Vec<$crate::domain::DataSource>> {
                let rows: Vec<$crate::db::sources::DataSourceRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::sources::data_source_columns!(),
                    " FROM data_sources WHERE enabled OR $1 ORDER BY name, slug"
                ))
                .bind(include_disabled)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn data_source_by_slug(
                &self,
                slug: &str,
            ) -> $crate::db::DbResult<Option<$crate::domain::DataSource>> {
                let row: Option<$crate::db::sources::DataSourceRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::sources::data_source_columns!(),
                    " FROM data_sources WHERE slug = $1"
                ))
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn create_data_source(
                &self,
                source: $crate::domain::NewDataSource,
            ) -> $crate::db::DbResult<$crate::domain::DataSource> {
                let row: $crate::db::sources::DataSourceRow = sqlx::query_as(concat!(
                    "INSERT INTO data_sources (slug, name, provider, enabled, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING ",
                    $crate::db::sources::data_source_columns!()
                ))
                .bind(&source.slug)
                .bind(&source.name)
                .bind(&source.provider)
                .bind(source.enabled)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err(|error| $crate::db::sources::conflict_on(error, "slug"))?;
                Ok(row.into())
            }

            async fn update_data_source(
                &self,
                slug: &str,
                patch: $crate::domain::DataSourcePatch,
            ) -> $crate::db::DbResult<Option<$crate::domain::DataSource>> {
                let row: Option<$crate::db::sources::DataSourceRow> = sqlx::query_as(concat!(
                    "UPDATE data_sources SET name = COALESCE($2, name), \
                     enabled = COALESCE($3, enabled) WHERE slug = $1 RETURNING ",
                    $crate::db::sources::data_source_columns!()
                ))
                .bind(slug)
                .bind(patch.name)
                .bind(patch.enabled)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_data_source(
                &self,
                slug: &str,
                force: bool,
            ) -> $crate::db::DbResult<$crate::domain::DeleteOutcome> {
                let mut transaction = self.begin_write().await?;
                let connections: Option<i64> = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM connections c WHERE c.data_source_id = d.id) \
                     FROM data_sources d WHERE d.slug = $1",
                )
                .bind(slug)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some(connections) = connections else {
                    return Ok($crate::domain::DeleteOutcome::NotFound);
                };
                if connections > 0 && !force {
                    return Ok($crate::domain::DeleteOutcome::InUse { connections });
                }
                sqlx::query("DELETE FROM data_sources WHERE slug = $1")
                    .bind(slug)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok($crate::domain::DeleteOutcome::Deleted)
            }

            async fn connection_counts(
                &self,
            ) -> $crate::db::DbResult<Vec<($crate::domain::DataSourceId, i64)>> {
                let rows: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT data_source_id, COUNT(*) FROM connections GROUP BY data_source_id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, count)| ($crate::domain::DataSourceId(id), count))
                    .collect())
            }

            async fn list_routing_sources(
                &self,
                source: $crate::domain::DataSourceId,
                include_disabled: bool,
            ) -> $crate::db::DbResult<Vec<$crate::domain::RoutingSource>> {
                let rows: Vec<$crate::db::sources::RoutingSourceRow> = sqlx::query_as(
                    "SELECT data_source_id, object_name, label, enabled FROM routing_sources \
                     WHERE data_source_id = $1 AND (enabled OR $2) ORDER BY position, id",
                )
                .bind(source.0)
                .bind(include_disabled)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_routing_source(
                &self,
                object: $crate::domain::RoutingSource,
            ) -> $crate::db::DbResult<$crate::domain::RoutingSource> {
                let row: $crate::db::sources::RoutingSourceRow = sqlx::query_as(
                    "INSERT INTO routing_sources \
                     (data_source_id, object_name, label, enabled, position, created_at) \
                     VALUES ($1, $2, $3, $4, \
                             (SELECT COALESCE(MAX(position), -1) + 1 FROM routing_sources \
                              WHERE data_source_id = $1), $5) \
                     RETURNING data_source_id, object_name, label, enabled",
                )
                .bind(object.data_source_id.0)
                .bind(&object.object_name)
                .bind(&object.label)
                .bind(object.enabled)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err(|error| $crate::db::sources::conflict_on(error, "object_name"))?;
                Ok(row.into())
            }

            async fn update_routing_source(
                &self,
                source: $crate::domain::DataSourceId,
                object_name: &str,
                patch: $crate::domain::RoutingSourcePatch,
            ) -> $crate::db::DbResult<Option<$crate::domain::RoutingSource>> {
                let row: Option<$crate::db::sources::RoutingSourceRow> = sqlx::query_as(
                    "UPDATE routing_sources SET label = COALESCE($3, label), \
                     enabled = COALESCE($4, enabled) \
                     WHERE data_source_id = $1 AND object_name = $2 \
                     RETURNING data_source_id, object_name, label, enabled",
                )
                .bind(source.0)
                .bind(object_name)
                .bind(patch.label)
                .bind(patch.enabled)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_routing_source(
                &self,
                source: $crate::domain::DataSourceId,
                object_name: &str,
            ) -> $crate::db::DbResult<bool> {
                // What was synced of the object goes with it: its jobs, windows and records.
                let mut transaction = self.begin_write().await?;
                for statement in [
                    "DELETE FROM sync_windows WHERE job_id IN (SELECT j.id FROM sync_jobs j \
                     JOIN connections c ON c.id = j.connection_id \
                     WHERE c.data_source_id = $1 AND j.object_name = $2)",
                    "DELETE FROM sync_jobs WHERE object_name = $2 AND connection_id IN \
                     (SELECT id FROM connections WHERE data_source_id = $1)",
                    "DELETE FROM synced_objects WHERE object_name = $2 AND connection_id IN \
                     (SELECT id FROM connections WHERE data_source_id = $1)",
                    "DELETE FROM rollup_cells WHERE definition_id IN (SELECT r.id FROM \
                     rollup_definitions r JOIN connections c ON c.id = r.connection_id \
                     WHERE c.data_source_id = $1 AND r.object_name = $2)",
                    "DELETE FROM rollup_definitions WHERE object_name = $2 AND connection_id IN \
                     (SELECT id FROM connections WHERE data_source_id = $1)",
                ] {
                    sqlx::query(statement)
                        .bind(source.0)
                        .bind(object_name)
                        .execute(&mut *transaction)
                        .await?;
                }
                let result = sqlx::query(
                    "DELETE FROM routing_sources WHERE data_source_id = $1 AND object_name = $2",
                )
                .bind(source.0)
                .bind(object_name)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(result.rows_affected() > 0)
            }
        }
    };
}

pub(super) use impl_source_store;
