//! Metrics and dashboards, always scoped to their owner: another user's id finds nothing.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::{
    Dashboard, DashboardId, DashboardPatch, Metric, MetricDefinition, MetricId, UserId,
};

#[async_trait]
pub trait MetricStore {
    async fn create_metric(&self, user: UserId, definition: &MetricDefinition) -> DbResult<Metric>;
    async fn metric(&self, user: UserId, id: MetricId) -> DbResult<Option<Metric>>;
    async fn list_metrics(&self, user: UserId) -> DbResult<Vec<Metric>>;
    async fn update_metric(
        &self,
        user: UserId,
        id: MetricId,
        definition: &MetricDefinition,
    ) -> DbResult<Option<Metric>>;
    /// Also removes it from the user's dashboards.
    async fn delete_metric(&self, user: UserId, id: MetricId) -> DbResult<bool>;
    /// How many of these ids are metrics of this user.
    async fn count_owned_metrics(&self, user: UserId, ids: &[MetricId]) -> DbResult<i64>;

    /// The user's dashboards, the home one first; the home dashboard is created if missing.
    async fn list_dashboards(&self, user: UserId) -> DbResult<Vec<Dashboard>>;
    async fn dashboard(&self, user: UserId, id: DashboardId) -> DbResult<Option<Dashboard>>;
    async fn create_dashboard(
        &self,
        user: UserId,
        name: &str,
        metric_ids: &[MetricId],
        default_total_days: u32,
    ) -> DbResult<Dashboard>;
    async fn update_dashboard(
        &self,
        user: UserId,
        id: DashboardId,
        patch: &DashboardPatch,
    ) -> DbResult<Option<Dashboard>>;
    async fn delete_dashboard(&self, user: UserId, id: DashboardId) -> DbResult<bool>;
}

row_struct! {
    pub(super) struct MetricRow {
        pub id: i64,
        pub user_id: i64,
        pub name: String,
        pub source: String,
        pub kind: String,
        pub object_name: String,
        pub operator: String,
        pub field_name: String,
        pub value_field: Option<String>,
        pub date_field: String,
    }
}

impl From<MetricRow> for Metric {
    fn from(row: MetricRow) -> Self {
        Metric {
            id: MetricId(row.id),
            user_id: UserId(row.user_id),
            definition: MetricDefinition {
                name: row.name,
                source: row.source,
                kind: row.kind,
                object_name: row.object_name,
                operator: row.operator,
                field_name: row.field_name,
                value_field: row.value_field,
                date_field: row.date_field,
            },
        }
    }
}

row_struct! {
    pub(super) struct DashboardRow {
        pub id: i64,
        pub user_id: i64,
        pub name: String,
        pub default_total_days: i32,
        pub is_home: bool,
    }
}

macro_rules! dashboard_columns {
    () => {
        "id, user_id, name, default_total_days, is_home"
    };
}
pub(super) use dashboard_columns;

impl DashboardRow {
    pub(super) fn with_metrics(self, metric_ids: Vec<i64>) -> Dashboard {
        Dashboard {
            id: DashboardId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            metric_ids: metric_ids.into_iter().map(MetricId).collect(),
            default_total_days: u32::try_from(self.default_total_days).unwrap_or(30),
            is_home: self.is_home,
        }
    }
}

macro_rules! metric_columns {
    () => {
        "id, user_id, name, source, kind, object_name, operator, field_name, value_field, \
         date_field"
    };
}
pub(super) use metric_columns;

macro_rules! impl_metric_store {
    ($repository:ty) => {
        impl $repository {
            async fn dashboard_metric_ids(
                &self,
                dashboard: i64,
            ) -> $crate::db::DbResult<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT metric_id FROM dashboard_metrics WHERE dashboard_id = $1 \
                     ORDER BY position",
                )
                .bind(dashboard)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn replace_dashboard_metrics(
                transaction: &mut sqlx::Transaction<'_, <Self as $crate::db::shared::Dialect>::Database>,
                dashboard: i64,
                metric_ids: &[$crate::domain::MetricId],
            ) -> $crate::db::DbResult<()> {
                sqlx::query("DELETE FROM dashboard_metrics WHERE dashboard_id = $1")
                    .bind(dashboard)
                    .execute(&mut **transaction)
                    .await?;
                for (position, metric) in metric_ids.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO dashboard_metrics (dashboard_id, metric_id, position) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(dashboard)
                    .bind(metric.0)
                    .bind(i32::try_from(position).unwrap_or(i32::MAX))
                    .execute(&mut **transaction)
                    .await?;
                }
                Ok(())
            }

            async fn ensure_home_dashboard(
                &self,
                user: $crate::domain::UserId,
            ) -> $crate::db::DbResult<()> {
                let result = sqlx::query(
                    "INSERT INTO dashboards (user_id, name, default_total_days, is_home, created_at) \
                     SELECT $1, 'Home', 30, TRUE, $2 WHERE NOT EXISTS \
                     (SELECT 1 FROM dashboards WHERE user_id = $1 AND is_home)",
                )
                .bind(user.0)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await;
                match result.map_err($crate::db::DbError::from) {
                    // Another request created it at the same instant: it exists, as wanted.
                    Ok(_) | Err($crate::db::DbError::Conflict(_)) => Ok(()),
                    Err(error) => Err(error),
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::db::metrics::MetricStore for $repository {
            async fn create_metric(
                &self,
                user: $crate::domain::UserId,
                definition: &$crate::domain::MetricDefinition,
            ) -> $crate::db::DbResult<$crate::domain::Metric> {
                let now = chrono::Utc::now();
                let row: $crate::db::metrics::MetricRow = sqlx::query_as(concat!(
                    "INSERT INTO metrics (user_id, name, source, object_name, operator, \
                     field_name, value_field, date_field, created_at, updated_at, kind) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING ",
                    $crate::db::metrics::metric_columns!()
                ))
                .bind(user.0)
                .bind(&definition.name)
                .bind(&definition.source)
                .bind(&definition.object_name)
                .bind(&definition.operator)
                .bind(&definition.field_name)
                .bind(&definition.value_field)
                .bind(&definition.date_field)
                .bind(now)
                .bind(&definition.kind)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.into())
            }

            async fn metric(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::MetricId,
            ) -> $crate::db::DbResult<Option<$crate::domain::Metric>> {
                let row: Option<$crate::db::metrics::MetricRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::metrics::metric_columns!(),
                    " FROM metrics WHERE id = $1 AND user_id = $2"
                ))
                .bind(id.0)
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_metrics(
                &self,
                user: $crate::domain::UserId,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Metric>> {
                let rows: Vec<$crate::db::metrics::MetricRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::metrics::metric_columns!(),
                    " FROM metrics WHERE user_id = $1 ORDER BY id"
                ))
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_metric(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::MetricId,
                definition: &$crate::domain::MetricDefinition,
            ) -> $crate::db::DbResult<Option<$crate::domain::Metric>> {
                let row: Option<$crate::db::metrics::MetricRow> = sqlx::query_as(concat!(
                    "UPDATE metrics SET name = $3, object_name = $4, operator = $5, \
                     field_name = $6, value_field = $7, date_field = $8, updated_at = $9 \
                     WHERE id = $1 AND user_id = $2 RETURNING ",
                    $crate::db::metrics::metric_columns!()
                ))
                .bind(id.0)
                .bind(user.0)
                .bind(&definition.name)
                .bind(&definition.object_name)
                .bind(&definition.operator)
                .bind(&definition.field_name)
                .bind(&definition.value_field)
                .bind(&definition.date_field)
                .bind(chrono::Utc::now())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_metric(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::MetricId,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query("DELETE FROM metrics WHERE id = $1 AND user_id = $2")
                    .bind(id.0)
                    .bind(user.0)
                    .execute(&self.pool)
                    .await?;
                Ok(result.rows_affected() > 0)
            }

            async fn count_owned_metrics(
                &self,
                user: $crate::domain::UserId,
                ids: &[$crate::domain::MetricId],
            ) -> $crate::db::DbResult<i64> {
                if ids.is_empty() {
                    return Ok(0);
                }
                let mut query =
                    sqlx::QueryBuilder::new("SELECT COUNT(*) FROM metrics WHERE user_id = ");
                query.push_bind(user.0);
                query.push(" AND id IN (");
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(id.0);
                }
                query.push(")");
                Ok(query.build_query_scalar().fetch_one(&self.pool).await?)
            }

            async fn list_dashboards(
                &self,
                user: $crate::domain::UserId,
            ) -> $crate::db::DbResult<Vec<$crate::domain::Dashboard>> {
                let select = || {
                    sqlx::query_as::<_, $crate::db::metrics::DashboardRow>(concat!(
                        "SELECT ",
                        $crate::db::metrics::dashboard_columns!(),
                        " FROM dashboards WHERE user_id = $1 ORDER BY is_home DESC, id"
                    ))
                    .bind(user.0)
                    .fetch_all(&self.pool)
                };
                let mut rows = select().await?;
                // The home dashboard sorts first; it is made (a write) only when missing.
                if !rows.first().is_some_and(|row| row.is_home) {
                    self.ensure_home_dashboard(user).await?;
                    rows = select().await?;
                }
                // Every dashboard's metrics in one query, in order.
                let links: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT dm.dashboard_id, dm.metric_id FROM dashboard_metrics dm \
                     JOIN dashboards d ON d.id = dm.dashboard_id \
                     WHERE d.user_id = $1 ORDER BY dm.dashboard_id, dm.position",
                )
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
                let mut metric_ids: std::collections::HashMap<i64, Vec<i64>> =
                    std::collections::HashMap::new();
                for (dashboard, metric) in links {
                    metric_ids.entry(dashboard).or_default().push(metric);
                }
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let ids = metric_ids.remove(&row.id).unwrap_or_default();
                        row.with_metrics(ids)
                    })
                    .collect())
            }

            async fn dashboard(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::DashboardId,
            ) -> $crate::db::DbResult<Option<$crate::domain::Dashboard>> {
                let row: Option<$crate::db::metrics::DashboardRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::metrics::dashboard_columns!(),
                    " FROM dashboards WHERE id = $1 AND user_id = $2"
                ))
                .bind(id.0)
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => {
                        let metric_ids = self.dashboard_metric_ids(row.id).await?;
                        Ok(Some(row.with_metrics(metric_ids)))
                    }
                    None => Ok(None),
                }
            }

            async fn create_dashboard(
                &self,
                user: $crate::domain::UserId,
                name: &str,
                metric_ids: &[$crate::domain::MetricId],
                default_total_days: u32,
            ) -> $crate::db::DbResult<$crate::domain::Dashboard> {
                let mut transaction = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO dashboards (user_id, name, default_total_days, is_home, created_at) \
                     VALUES ($1, $2, $3, FALSE, $4) RETURNING id",
                )
                .bind(user.0)
                .bind(name)
                .bind(i32::try_from(default_total_days).unwrap_or(30))
                .bind(chrono::Utc::now())
                .fetch_one(&mut *transaction)
                .await?;
                Self::replace_dashboard_metrics(&mut transaction, id, metric_ids).await?;
                transaction.commit().await?;
                self.dashboard(user, $crate::domain::DashboardId(id))
                    .await?
                    .ok_or($crate::db::DbError::Query(sqlx::Error::RowNotFound))
            }

            async fn update_dashboard(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::DashboardId,
                patch: &$crate::domain::DashboardPatch,
            ) -> $crate::db::DbResult<Option<$crate::domain::Dashboard>> {
                let mut transaction = self.begin_write().await?;
                let found: Option<i64> = sqlx::query_scalar(
                    "UPDATE dashboards SET name = COALESCE($3, name), \
                     default_total_days = COALESCE($4, default_total_days) \
                     WHERE id = $1 AND user_id = $2 RETURNING id",
                )
                .bind(id.0)
                .bind(user.0)
                .bind(&patch.name)
                .bind(patch.default_total_days.map(|days| i32::try_from(days).unwrap_or(30)))
                .fetch_optional(&mut *transaction)
                .await?;
                if found.is_none() {
                    return Ok(None);
                }
                if let Some(metric_ids) = &patch.metric_ids {
                    Self::replace_dashboard_metrics(&mut transaction, id.0, metric_ids).await?;
                }
                transaction.commit().await?;
                self.dashboard(user, id).await
            }

            async fn delete_dashboard(
                &self,
                user: $crate::domain::UserId,
                id: $crate::domain::DashboardId,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query(
                    "DELETE FROM dashboards WHERE id = $1 AND user_id = $2 AND NOT is_home",
                )
                .bind(id.0)
                .bind(user.0)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() > 0)
            }
        }
    };
}

pub(super) use impl_metric_store;
