use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, Series};

use super::metric_not_found;
use crate::auth::AuthUser;
use crate::domain::MetricId;
use crate::error::ApiError;
use crate::query::params::{ShapeParams, WindowParams};
use crate::query::subscriptions::subscription_series;
use crate::query::{respond, series, Purpose, SeriesQuery};
use crate::state::AppState;

/// A metric's series for a window: the same answer as `/connect/query/{slug}` with the metric's
/// parameters.
#[utoipa::path(
    get,
    path = "/api/v1/metrics/{id}/series",
    tag = "metrics",
    operation_id = "get_metric_series",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Metric id", example = 1), WindowParams),
    responses(
        (status = 200, description = "The series", body = Series, headers(
            ("X-Cache" = String, description = "`hit`: answered from the series cache (the data under it did not change); `miss`: computed"),
            ("X-Computed-From" = String, description = "On a miss: `rollup` (a saved metric's pre-aggregated cells), `objects` (the stored objects) or `subscriptions` (the subscriptions' histories, for subscription metrics)")
        )),
        (status = 400, description = "`invalid_period`, `invalid_total_days`, `invalid_end`, `invalid_timezone`, `invalid_interval`, `invalid_groups`, `not_numeric`, or the metric's object was disabled (`unknown_object`); subscription metrics: `missing_fx_rate` (a currency without exchange rates; group by currency)", body = ErrorBody),
        (status = 429, description = "`too_many_queries`: two series of this user are being computed already (`Retry-After` says when to try again)", body = ErrorBody),
        (status = 503, description = "`query_timeout`: the computation took longer than the statement timeout", body = ErrorBody),
        (status = 404, description = "`metric_not_found`, `unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn metric_series(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    let shape = params.shape()?;
    let id = id.into_inner();
    // The metric and its data's version in one read: enough when the cache holds the series.
    let (metric, version) = state
        .repository
        .metric_series_version(user.id, MetricId(id))
        .await?
        .ok_or_else(|| metric_not_found(id))?;
    let definition = &metric.definition;
    if let Some(kind) = definition.subscription_kind() {
        let answer = subscription_series(&state, &user, definition, kind, shape).await?;
        return Ok(respond(answer));
    }
    let answer = series(
        &state,
        &user,
        &definition.source,
        SeriesQuery {
            object_name: Some(&definition.object_name),
            operator: Some(&definition.operator),
            field_name: Some(&definition.field_name),
            value_field: definition.value_field.as_deref(),
            date_field: Some(&definition.date_field),
        },
        shape,
        version,
        Purpose::SavedMetric,
    )
    .await?;
    Ok(respond(answer))
}
