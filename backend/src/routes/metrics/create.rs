use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateMetricRequest, ErrorBody, Metric};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::query::{validate, SeriesQuery};
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Save a query as a metric. Its parameters are checked exactly as `/connect/query/{slug}` checks
/// them.
#[utoipa::path(
    post,
    path = "/api/v1/metrics",
    tag = "metrics",
    operation_id = "create_metric",
    security(("bearer" = [])),
    request_body = CreateMetricRequest,
    responses(
        (status = 201, description = "Created", body = Metric),
        (status = 400, description = "`invalid_name`, `unknown_object`, `invalid_operator`, `invalid_field`, `value_field_required`", body = ErrorBody),
        (status = 404, description = "`unknown_source`", body = ErrorBody)
    )
)]
pub async fn create_metric(
    user: AuthUser,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<CreateMetricRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let name = validate_display_name(&request.name, "name")?;
    let query = validate(
        &state,
        &request.source,
        SeriesQuery {
            object_name: Some(&request.object_name),
            operator: Some(&request.operator),
            field_name: request.field_name.as_deref(),
            value_field: request.value_field.as_deref(),
            date_field: request.date_field.as_deref(),
        },
    )
    .await?;
    let metric = state
        .repository
        .create_metric(user.id, &query.definition(&name))
        .await?;
    super::prepare_rollup(&state, &user, &query, &metric.definition).await?;
    Ok(HttpResponse::Created().json(metric.to_response()))
}
