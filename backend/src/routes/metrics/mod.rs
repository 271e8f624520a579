pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod series;
pub mod update;

use crate::auth::AuthUser;
use crate::domain::{Metric, MetricId};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's metric; another user's id is as unknown as a made-up one.
pub async fn owned_metric(state: &AppState, user: &AuthUser, id: i64) -> Result<Metric, ApiError> {
    state
        .repository
        .metric(user.id, MetricId(id))
        .await?
        .ok_or_else(|| metric_not_found(id))
}

pub fn metric_not_found(id: i64) -> ApiError {
    ApiError::not_found("metric_not_found", format!("There is no metric {id}."))
}

/// Starts building the saved metric's rollup when its source is connected already (otherwise
/// its first chart after connecting does).
pub async fn prepare_rollup(
    state: &AppState,
    user: &AuthUser,
    query: &crate::query::ValidQuery,
    definition: &crate::domain::MetricDefinition,
) -> Result<(), ApiError> {
    if let Some(connection) = state
        .repository
        .connection(user.id, query.source.id)
        .await?
    {
        crate::query::rollup::prepare(state, &connection, query.schema, definition).await?;
    }
    Ok(())
}
