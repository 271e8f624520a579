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
        // Most charts are in time zones offset by whole hours: their rollup is the hourly one
        // (a chart in another zone makes its own).
        crate::query::rollup::prepare(
            state,
            &connection,
            (query.schema, definition),
            Some(crate::db::rollups::HOUR),
        )
        .await?;
    }
    Ok(())
}

/// A subscription metric's definition: a known kind, of an enabled source whose provider bills
/// subscriptions, grouped by nothing, `currency` or `plan`, and nothing of an objects query.
pub async fn subscription_definition(
    state: &AppState,
    name: &str,
    request: &allmetrics_common::CreateMetricRequest,
    kind: &str,
) -> Result<crate::domain::MetricDefinition, ApiError> {
    let kind: allmetrics_subscriptions::MetricKind = kind.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_kind",
            format!(
                "Unknown kind `{kind}`: use objects or one of {}.",
                allmetrics_common::SUBSCRIPTION_KINDS.join(", ")
            ),
        )
    })?;
    let (source, provider) = crate::lookup::enabled_source(state, &request.source).await?;
    if provider.provider.subscription_objects().is_none() {
        return Err(crate::query::subscriptions::not_supported(&source.name));
    }
    let given = [
        ("object_name", &request.object_name),
        ("operator", &request.operator),
        ("value_field", &request.value_field),
        ("date_field", &request.date_field),
    ];
    if let Some((field, _)) = given.iter().find(|(_, value)| value.is_some()) {
        return Err(ApiError::bad_request(
            "not_for_kind",
            format!("`{field}` is for metrics of objects; {kind} is computed from subscriptions."),
        ));
    }
    let field_name = request.field_name.clone().unwrap_or_default();
    crate::query::subscriptions::grouping_of(&field_name)?;
    Ok(crate::domain::MetricDefinition::subscription(
        name,
        &source.slug,
        kind,
        &field_name,
    ))
}
