//! Which rollup serves a saved metric, and its life: made and built in the background when a
//! metric is saved (or first charted after its source was connected), deleted when no metric
//! needs it any more. Ad-hoc queries never make one.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::auth::AuthUser;
use crate::db::rollups::{safe_path, RollupDefinition, RollupKey, HOUR, QUARTER_HOUR};
use crate::db::SharedRepository;
use crate::domain::{Connection, ConnectionId, MetricDefinition};
use crate::error::ApiError;
use crate::providers::ObjectSchema;
use crate::state::AppState;

/// The builds under way in this process (another replica's wait on the definition's lock).
#[derive(Default)]
pub struct RollupBuilds {
    running: Mutex<HashSet<i64>>,
}

impl RollupBuilds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        match self.running.lock() {
            Ok(running) => running,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Builds the definition in the background unless this process builds it already.
    pub fn spawn(self: &Arc<Self>, repository: SharedRepository, definition: i64) {
        if !self.lock().insert(definition) {
            return;
        }
        let builds = self.clone();
        tokio::spawn(async move {
            if let Err(error) = repository.build_rollup(definition).await {
                // The next chart of the metric starts it again.
                tracing::warn!(definition, error = %error, "a rollup build failed");
            }
            builds.lock().remove(&definition);
        });
    }
}

/// The rollup with buckets of this width that a saved metric's definition reads from, if it can
/// have one: objects (report rows are stored a day each already), any operator but
/// `count_distinct` (distinct values do not add up), paths the server can write into SQL.
pub fn key_of(
    connection: ConnectionId,
    definition: &MetricDefinition,
    bucket_seconds: i64,
) -> Option<RollupKey> {
    let split = |path: &str| path.split('.').map(String::from).collect::<Vec<_>>();
    let group = split(&definition.field_name);
    // A count reads the records of any rollup of its group: it keeps its value field, so that
    // "count of charges" and "sum of their amount" by currency share one.
    let value = match (
        definition.operator.as_str(),
        definition.value_field.as_deref(),
    ) {
        ("count_distinct", _) => return None,
        ("count", None) => None,
        (_, value) => Some(split(value?)),
    };
    let date = (definition.date_field != "created").then(|| split(&definition.date_field));
    let paths_safe = safe_path(&group)
        && value.as_deref().is_none_or(safe_path)
        && date.as_deref().is_none_or(safe_path);
    paths_safe.then(|| RollupKey {
        connection,
        object_name: definition.object_name.clone(),
        group,
        value,
        date,
        bucket_seconds,
    })
}

/// The definition of a saved metric's rollup with buckets of this width (none: the metric's
/// window fits no buckets), made and built (in the background) if needed.
pub async fn prepare(
    state: &AppState,
    connection: &Connection,
    (schema, definition): (ObjectSchema, &MetricDefinition),
    bucket_seconds: Option<i64>,
) -> Result<Option<RollupDefinition>, ApiError> {
    if !matches!(schema, ObjectSchema::Records) {
        return Ok(None);
    }
    let Some(key) = bucket_seconds.and_then(|width| key_of(connection.id, definition, width))
    else {
        return Ok(None);
    };
    let rollup = state.repository.rollup_definition(&key).await?;
    if !rollup.ready {
        state
            .rollup_builds
            .spawn(state.repository.clone(), rollup.id);
    }
    Ok(Some(rollup))
}

/// After a metric changed or went: the user's rollups that no metric reads any more go.
pub async fn prune(state: &AppState, user: &AuthUser) -> Result<(), ApiError> {
    let repository = &state.repository;
    let connections = repository.list_connections(user.id).await?;
    if connections.is_empty() {
        return Ok(());
    }
    let metrics = repository.list_metrics(user.id).await?;
    for connection in connections {
        let needed: HashSet<RollupKey> = metrics
            .iter()
            .filter(|metric| metric.definition.source == connection.slug)
            .flat_map(|metric| {
                [HOUR, QUARTER_HOUR]
                    .into_iter()
                    .filter_map(|width| key_of(connection.id, &metric.definition, width))
            })
            .collect();
        for rollup in repository.rollup_definitions(connection.id).await? {
            if !needed.contains(&rollup.key) {
                repository.delete_rollup(rollup.id).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(operator: &str, value: Option<&str>, date: &str) -> MetricDefinition {
        MetricDefinition {
            name: "m".into(),
            source: "demo".into(),
            kind: crate::domain::OBJECTS_KIND.into(),
            object_name: "Charge".into(),
            operator: operator.into(),
            field_name: "currency".into(),
            value_field: value.map(String::from),
            date_field: date.into(),
        }
    }

    #[test]
    fn metrics_that_share_paths_share_a_rollup() {
        let connection = ConnectionId(1);
        let sum = key_of(
            connection,
            &definition("sum", Some("amount"), "created"),
            HOUR,
        )
        .unwrap();
        let max = key_of(
            connection,
            &definition("max", Some("amount"), "created"),
            HOUR,
        )
        .unwrap();
        assert_eq!(sum, max);
        assert_eq!(sum.date, None);
        // A count with the same value field shares it; without one it has its own.
        let count = key_of(
            connection,
            &definition("count", Some("amount"), "created"),
            HOUR,
        )
        .unwrap();
        assert_eq!(count, sum);
        let bare = key_of(connection, &definition("count", None, "created"), HOUR).unwrap();
        assert_eq!(bare.value, None);
        assert!(key_of(
            connection,
            &definition("count_distinct", Some("id"), "created"),
            HOUR
        )
        .is_none());
        let dated = key_of(
            connection,
            &definition("sum", Some("amount"), "paid_at"),
            HOUR,
        )
        .unwrap();
        assert_eq!(dated.date, Some(vec!["paid_at".to_string()]));
        // Each width is a rollup of its own.
        let quarter = key_of(
            connection,
            &definition("sum", Some("amount"), "created"),
            QUARTER_HOUR,
        );
        assert_ne!(quarter, Some(sum));
    }
}
