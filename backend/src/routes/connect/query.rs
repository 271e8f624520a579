use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, Series};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::query::params::{QueryParams, ShapeParams};
use crate::query::{respond, series, Purpose, SeriesQuery};
use crate::state::AppState;

/// The seed's chart query: a stacked daily series of one object of the caller's connection,
/// computed from the local store (the provider is not called).
#[utoipa::path(
    get,
    path = "/connect/query/{slug}",
    tag = "connect",
    operation_id = "query_series",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo"), QueryParams),
    responses(
        (status = 200, description = "The series", body = Series, headers(
            ("X-Cache" = String, description = "`hit`: answered from the series cache (the data under it did not change); `miss`: computed"),
            ("X-Computed-From" = String, description = "On a miss: `rollup` (a saved metric's pre-aggregated cells) or `objects` (the stored objects)")
        )),
        (status = 400, description = "`object_name_required`, `unknown_object`, `invalid_operator`, `invalid_field`, `value_field_required`, `not_numeric`, `invalid_period`, `invalid_total_days`, `invalid_end`, `invalid_timezone`, `invalid_interval`, `invalid_groups`, `date_field_unindexed` (a `date_field` other than `created` on an object of more than 100,000 records: save it as a metric)", body = ErrorBody),
        (status = 429, description = "`too_many_queries`: two series of this user are being computed already (`Retry-After` says when to try again)", body = ErrorBody),
        (status = 503, description = "`query_timeout`: the computation took longer than the statement timeout", body = ErrorBody),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn query(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: web::Query<QueryParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let shape = params.shape()?;
    let query = SeriesQuery {
        object_name: params.object_name.as_deref(),
        operator: params.operator.as_deref(),
        field_name: params.field_name.as_deref(),
        value_field: params.value_field.as_deref(),
        date_field: params.date_field.as_deref(),
    };
    // One read decides whether the cache can answer.
    let version = match query.object_name.map(str::trim) {
        Some(object_name) if !object_name.is_empty() => {
            state
                .repository
                .series_version(user.id, &slug, object_name)
                .await?
        }
        _ => None,
    };
    let answer = series(&state, &user, &slug, query, shape, version, Purpose::AdHoc).await?;
    Ok(respond(answer))
}
