use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateMetricRequest, ErrorBody, Metric};

use crate::auth::AuthUser;
use crate::domain::OBJECTS_KIND;
use crate::error::ApiError;
use crate::query::{validate, SeriesQuery};
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Save a query as a metric (its parameters are checked exactly as `/connect/query/{slug}`
/// checks them), or a subscription metric of a Stripe-compatible source (`kind`: `mrr`,
/// `mrr_movements`, ...; `field_name` empty, `currency` or `plan`).
#[utoipa::path(
    post,
    path = "/api/v1/metrics",
    tag = "metrics",
    operation_id = "create_metric",
    security(("bearer" = [])),
    request_body = CreateMetricRequest,
    responses(
        (status = 201, description = "Created", body = Metric),
        (status = 400, description = "`invalid_name`, `object_name_required`, `unknown_object`, `invalid_operator`, `invalid_field`, `value_field_required`; for subscription metrics `invalid_kind`, `subscriptions_not_supported` (the source bills no subscriptions), `not_for_kind` (`object_name`, `operator`, `value_field` or `date_field` given)", body = ErrorBody),
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
    let kind = request.kind.as_deref().unwrap_or(OBJECTS_KIND);
    if kind != OBJECTS_KIND {
        let definition = super::subscription_definition(&state, &name, &request, kind).await?;
        let metric = state.repository.create_metric(user.id, &definition).await?;
        return Ok(HttpResponse::Created().json(metric.to_response()));
    }
    let query = validate(
        &state,
        &request.source,
        SeriesQuery {
            object_name: request.object_name.as_deref(),
            operator: request.operator.as_deref(),
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
