use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, Metric, UpdateMetricRequest};

use super::owned_metric;
use crate::auth::AuthUser;
use crate::domain::MetricId;
use crate::error::ApiError;
use crate::query::{validate, SeriesQuery};
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Change a metric; the result is checked as a new one would be.
#[utoipa::path(
    patch,
    path = "/api/v1/metrics/{id}",
    tag = "metrics",
    operation_id = "update_metric",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Metric id", example = 3)),
    request_body = UpdateMetricRequest,
    responses(
        (status = 200, description = "Updated", body = Metric),
        (status = 400, description = "As for creating a metric", body = ErrorBody),
        (status = 404, description = "`metric_not_found`", body = ErrorBody)
    )
)]
pub async fn update_metric(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: crate::routes::extractors::Json<UpdateMetricRequest>,
) -> Result<HttpResponse, ApiError> {
    let current = owned_metric(&state, &user, id.into_inner()).await?;
    let request = body.into_inner();
    let old = &current.definition;
    let name = validate_display_name(request.name.as_deref().unwrap_or(&old.name), "name")?;
    if old.subscription_kind().is_some() {
        // A subscription metric changes its name and its grouping only.
        let definition = super::subscription_definition(
            &state,
            &name,
            &allmetrics_common::CreateMetricRequest {
                name: name.clone(),
                source: old.source.clone(),
                kind: Some(old.kind.clone()),
                object_name: request.object_name.clone(),
                operator: request.operator.clone(),
                field_name: Some(request.field_name.clone().unwrap_or(old.field_name.clone())),
                value_field: request.value_field.clone(),
                date_field: request.date_field.clone(),
            },
            &old.kind,
        )
        .await?;
        let metric = state
            .repository
            .update_metric(user.id, MetricId(current.id.0), &definition)
            .await?
            .ok_or_else(|| {
                ApiError::not_found("metric_not_found", "This metric no longer exists.")
            })?;
        return Ok(HttpResponse::Ok().json(metric.to_response()));
    }
    let value_field = request
        .value_field
        .as_deref()
        .or(old.value_field.as_deref());
    let query = validate(
        &state,
        &old.source,
        SeriesQuery {
            object_name: Some(request.object_name.as_deref().unwrap_or(&old.object_name)),
            operator: Some(request.operator.as_deref().unwrap_or(&old.operator)),
            field_name: Some(request.field_name.as_deref().unwrap_or(&old.field_name)),
            value_field,
            date_field: Some(request.date_field.as_deref().unwrap_or(&old.date_field)),
        },
    )
    .await?;
    let metric = state
        .repository
        .update_metric(user.id, MetricId(current.id.0), &query.definition(&name))
        .await?
        .ok_or_else(|| ApiError::not_found("metric_not_found", "This metric no longer exists."))?;
    super::prepare_rollup(&state, &user, &query, &metric.definition).await?;
    crate::query::rollup::prune(&state, &user).await?;
    Ok(HttpResponse::Ok().json(metric.to_response()))
}
