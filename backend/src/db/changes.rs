//! Changes to objects already stored: applied on the provider's clock so that the store never
//! goes back in time (an older change arriving later is left out), tombstones for deleted objects,
//! the webhook endpoints of connections and the changes their deliveries queue for the sync jobs.

use std::collections::HashMap;

use async_trait::async_trait;

use super::DbResult;
use crate::domain::{ConnectionId, ObjectChange, SyncJob};

/// A connection's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionWebhook {
    pub connection_id: ConnectionId,
    /// The unguessable id in the endpoint's URL.
    pub webhook_id: String,
    /// The signing secret(s) the provider made, encrypted; `None` until known.
    pub secret_enc: Option<String>,
    /// The provider's id of the endpoint, when allmetrics created it.
    pub provider_endpoint_id: Option<String>,
    pub created_at: i64,
}

/// The newest change applied to a stored object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedChange {
    pub at: Option<i64>,
    pub id: Option<String>,
}

/// A delivered change waiting for its object's sync job.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedChange {
    pub id: i64,
    pub payload: serde_json::Value,
}

#[async_trait]
pub trait ChangeStore {
    /// The newest change applied to each of these stored objects: when it happened and its id
    /// (`None`: stored by a listing, no change applied yet). Ids not stored are absent.
    async fn stored_change_times(
        &self,
        connection: ConnectionId,
        object_name: &str,
        object_ids: &[String],
    ) -> DbResult<HashMap<String, AppliedChange>>;
    /// Applies changes (at most one per object) in one transaction, each only if the stored
    /// object has no newer (or equally recent) change; extends the lease. Returns how many new
    /// objects it stored, or `None` (storing nothing) when `owner` no longer holds the lease.
    async fn apply_changes(
        &self,
        job: &SyncJob,
        owner: &str,
        changes: &[ObjectChange],
        now: i64,
        lease_until: i64,
    ) -> DbResult<Option<u64>>;
    /// After a full re-read: the live objects created before `created_before` that the re-read
    /// did not store again (stored before `seen_since`, server time) are gone at the provider,
    /// so they become tombstones deleted at `deleted_at`. `None` when the lease is lost.
    async fn tombstone_unseen(
        &self,
        job: &SyncJob,
        owner: &str,
        seen_since: i64,
        created_before: i64,
        deleted_at: i64,
    ) -> DbResult<Option<u64>>;

    async fn connection_webhook(
        &self,
        connection: ConnectionId,
    ) -> DbResult<Option<ConnectionWebhook>>;
    async fn webhook_by_id(&self, webhook_id: &str) -> DbResult<Option<ConnectionWebhook>>;
    /// Creates or replaces the connection's endpoint.
    async fn save_connection_webhook(&self, webhook: &ConnectionWebhook) -> DbResult<()>;
    /// Queues a delivered change for the object's sync job and makes the job due at `now`;
    /// `false` when this event was queued already (a repeated delivery) or the connection does
    /// not sync this object.
    async fn queue_change(
        &self,
        connection: ConnectionId,
        object_name: &str,
        event_id: &str,
        created: i64,
        payload: &serde_json::Value,
        now: i64,
    ) -> DbResult<bool>;
    /// The oldest queued changes of an object.
    async fn queued_changes(
        &self,
        connection: ConnectionId,
        object_name: &str,
        limit: i64,
    ) -> DbResult<Vec<QueuedChange>>;
    async fn delete_queued_changes(&self, ids: &[i64]) -> DbResult<()>;
}

macro_rules! impl_change_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::changes::ChangeStore for $repository {
            async fn stored_change_times(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                object_ids: &[String],
            ) -> $crate::db::DbResult<
                std::collections::HashMap<String, $crate::db::changes::AppliedChange>,
            > {
                let mut times = std::collections::HashMap::new();
                // Bounded batches: one bind parameter per id.
                for ids in object_ids.chunks(500) {
                    let mut query = $crate::db::sync::select_stored_by_id!(
                        "object_id, changed_at, change_id",
                        connection,
                        object_name,
                        ids
                    );
                    let rows: Vec<(String, Option<i64>, Option<String>)> =
                        query.build_query_as().fetch_all(&self.pool).await?;
                    times.extend(rows.into_iter().map(|(object_id, at, id)| {
                        (object_id, $crate::db::changes::AppliedChange { at, id })
                    }));
                }
                Ok(times)
            }

            async fn apply_changes(
                &self,
                job: &$crate::domain::SyncJob,
                owner: &str,
                changes: &[$crate::domain::ObjectChange],
                now: i64,
                lease_until: i64,
            ) -> $crate::db::DbResult<Option<u64>> {
                let ids: Vec<&str> = changes.iter().map(|change| change.object_id.as_str()).collect();
                let scope = $crate::db::rollups::Scope::Ids(&ids);
                let mut transaction = self.begin_write().await?;
                let rollups = if changes.is_empty() {
                    Vec::new()
                } else {
                    $crate::db::rollups::rollups_take_out!(
                        transaction,
                        job.connection_id,
                        &job.object_name,
                        scope
                    )
                };
                let with_state: Vec<_> = changes
                    .iter()
                    .filter_map(|change| change.object.as_ref().map(|object| (change, object)))
                    .collect();
                let mut new_objects = 0u64;
                if !with_state.is_empty() {
                    let insert = |conflict: &'static str| {
                        let mut insert = sqlx::QueryBuilder::new(
                            "INSERT INTO synced_objects (connection_id, object_name, object_id, \
                             created, data, synced_at, changed_at, change_id, deleted_at) ",
                        );
                        insert.push_values(&with_state, |mut row, (change, object)| {
                            row.push_bind(job.connection_id.0)
                                .push_bind(&job.object_name)
                                .push_bind(&change.object_id)
                                .push_bind(object.created)
                                .push_bind(sqlx::types::Json(&object.data))
                                .push_bind(now)
                                .push_bind(change.at)
                                .push_bind(&change.change_id)
                                .push_bind(change.deleted.then_some(change.at));
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
                    if new_objects < with_state.len() as u64 {
                        insert(
                            " ON CONFLICT (connection_id, object_name, object_id) DO UPDATE SET \
                             created = excluded.created, data = excluded.data, \
                             synced_at = excluded.synced_at, changed_at = excluded.changed_at, \
                             change_id = excluded.change_id, deleted_at = excluded.deleted_at, \
                             revision = synced_objects.revision + 1 \
                             WHERE synced_objects.changed_at IS NULL \
                             OR synced_objects.changed_at < excluded.changed_at",
                        )
                        .build()
                        .execute(&mut *transaction)
                        .await?;
                    }
                }
                // A deletion that carries no state keeps the object's last one.
                for change in changes.iter().filter(|change| change.object.is_none()) {
                    if !change.deleted {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE synced_objects SET deleted_at = $4, changed_at = $4, \
                         change_id = $6, synced_at = $5 WHERE connection_id = $1 \
                         AND object_name = $2 AND object_id = $3 \
                         AND (changed_at IS NULL OR changed_at < $4)",
                    )
                    .bind(job.connection_id.0)
                    .bind(&job.object_name)
                    .bind(&change.object_id)
                    .bind(change.at)
                    .bind(now)
                    .bind(&change.change_id)
                    .execute(&mut *transaction)
                    .await?;
                }
                $crate::db::rollups::rollups_put_back!(
                    transaction,
                    rollups,
                    job.connection_id,
                    &job.object_name,
                    scope
                );
                let held = $crate::db::sync::record_page!(
                    transaction,
                    job,
                    owner,
                    new_objects,
                    !changes.is_empty(),
                    now,
                    lease_until
                );
                let Some(version) = held else {
                    transaction.rollback().await?;
                    return Ok(None);
                };
                if !changes.is_empty() {
                    $crate::db::sync::note_write(&mut transaction, job.id, version, &ids).await?;
                }
                transaction.commit().await?;
                Ok(Some(new_objects))
            }

            async fn tombstone_unseen(
                &self,
                job: &$crate::domain::SyncJob,
                owner: &str,
                seen_since: i64,
                created_before: i64,
                deleted_at: i64,
            ) -> $crate::db::DbResult<Option<u64>> {
                let mut transaction = self.begin_write().await?;
                let held: Option<i64> = sqlx::query_scalar(
                    "UPDATE sync_jobs SET data_version = data_version + 1 \
                     WHERE id = $1 AND lease_owner = $2 RETURNING id",
                )
                .bind(job.id.0)
                .bind(owner)
                .fetch_optional(&mut *transaction)
                .await?;
                if held.is_none() {
                    transaction.rollback().await?;
                    return Ok(None);
                }
                let scope = $crate::db::rollups::Scope::Unseen {
                    seen_since,
                    created_before,
                };
                let rollups = $crate::db::rollups::rollups_take_out!(
                    transaction,
                    job.connection_id,
                    &job.object_name,
                    scope
                );
                let gone = sqlx::query(
                    "UPDATE synced_objects SET deleted_at = $5, changed_at = $5, change_id = NULL \
                     WHERE connection_id = $1 AND object_name = $2 AND deleted_at IS NULL \
                     AND synced_at < $3 AND created < $4 \
                     AND (changed_at IS NULL OR changed_at < $5)",
                )
                .bind(job.connection_id.0)
                .bind(&job.object_name)
                .bind(seen_since)
                .bind(created_before)
                .bind(deleted_at)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                $crate::db::rollups::rollups_put_back!(
                    transaction,
                    rollups,
                    job.connection_id,
                    &job.object_name,
                    scope
                );
                transaction.commit().await?;
                Ok(Some(gone))
            }

            async fn connection_webhook(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<Option<$crate::db::changes::ConnectionWebhook>> {
                let row: Option<(i64, String, Option<String>, Option<String>, i64)> =
                    sqlx::query_as(
                        "SELECT connection_id, webhook_id, secret_enc, provider_endpoint_id, \
                         created_at FROM connection_webhooks WHERE connection_id = $1",
                    )
                    .bind(connection.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map($crate::db::changes::webhook_of_row))
            }

            async fn webhook_by_id(
                &self,
                webhook_id: &str,
            ) -> $crate::db::DbResult<Option<$crate::db::changes::ConnectionWebhook>> {
                let row: Option<(i64, String, Option<String>, Option<String>, i64)> =
                    sqlx::query_as(
                        "SELECT connection_id, webhook_id, secret_enc, provider_endpoint_id, \
                         created_at FROM connection_webhooks WHERE webhook_id = $1",
                    )
                    .bind(webhook_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map($crate::db::changes::webhook_of_row))
            }

            async fn save_connection_webhook(
                &self,
                webhook: &$crate::db::changes::ConnectionWebhook,
            ) -> $crate::db::DbResult<()> {
                sqlx::query(
                    "INSERT INTO connection_webhooks \
                     (connection_id, webhook_id, secret_enc, provider_endpoint_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id) DO UPDATE SET \
                     webhook_id = excluded.webhook_id, secret_enc = excluded.secret_enc, \
                     provider_endpoint_id = excluded.provider_endpoint_id, \
                     created_at = excluded.created_at",
                )
                .bind(webhook.connection_id.0)
                .bind(&webhook.webhook_id)
                .bind(&webhook.secret_enc)
                .bind(&webhook.provider_endpoint_id)
                .bind(webhook.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn queue_change(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                event_id: &str,
                created: i64,
                payload: &serde_json::Value,
                now: i64,
            ) -> $crate::db::DbResult<bool> {
                let mut transaction = self.begin_write().await?;
                // Only for an object the connection syncs: nothing would ever take it out.
                let queued = sqlx::query(
                    "INSERT INTO webhook_inbox \
                     (connection_id, object_name, event_id, created, payload, received_at) \
                     SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM sync_jobs \
                     WHERE connection_id = $1 AND object_name = $2) \
                     ON CONFLICT (connection_id, event_id) DO NOTHING",
                )
                .bind(connection.0)
                .bind(object_name)
                .bind(event_id)
                .bind(created)
                .bind(sqlx::types::Json(payload))
                .bind(now)
                .execute(&mut *transaction)
                .await?
                .rows_affected()
                    > 0;
                if queued {
                    sqlx::query(
                        "UPDATE sync_jobs SET next_run_at = $3 WHERE connection_id = $1 \
                         AND object_name = $2 AND next_run_at > $3",
                    )
                    .bind(connection.0)
                    .bind(object_name)
                    .bind(now)
                    .execute(&mut *transaction)
                    .await?;
                }
                transaction.commit().await?;
                Ok(queued)
            }

            async fn queued_changes(
                &self,
                connection: $crate::domain::ConnectionId,
                object_name: &str,
                limit: i64,
            ) -> $crate::db::DbResult<Vec<$crate::db::changes::QueuedChange>> {
                let rows: Vec<(i64, sqlx::types::Json<serde_json::Value>)> = sqlx::query_as(
                    "SELECT id, payload FROM webhook_inbox WHERE connection_id = $1 \
                     AND object_name = $2 ORDER BY id LIMIT $3",
                )
                .bind(connection.0)
                .bind(object_name)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, payload)| $crate::db::changes::QueuedChange {
                        id,
                        payload: payload.0,
                    })
                    .collect())
            }

            async fn delete_queued_changes(&self, ids: &[i64]) -> $crate::db::DbResult<()> {
                for ids in ids.chunks(500) {
                    let mut query =
                        sqlx::QueryBuilder::new("DELETE FROM webhook_inbox WHERE id IN (");
                    let mut separated = query.separated(", ");
                    for id in ids {
                        separated.push_bind(*id);
                    }
                    query.push(")");
                    query.build().execute(&self.pool).await?;
                }
                Ok(())
            }
        }
    };
}
pub(super) use impl_change_store;

pub(super) fn webhook_of_row(
    (connection_id, webhook_id, secret_enc, provider_endpoint_id, created_at): (
        i64,
        String,
        Option<String>,
        Option<String>,
        i64,
    ),
) -> ConnectionWebhook {
    ConnectionWebhook {
        connection_id: ConnectionId(connection_id),
        webhook_id,
        secret_enc,
        provider_endpoint_id,
        created_at,
    }
}
