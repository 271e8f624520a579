use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, ObjectResponse};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::lookup::enabled_source;
use crate::state::AppState;

/// The objects of an enabled data source that metrics may use (the enabled routing sources).
#[utoipa::path(
    get,
    path = "/api/v1/sources/{slug}/objects",
    tag = "sources",
    operation_id = "list_objects",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 200, description = "Enabled objects, in catalogue order", body = [ObjectResponse]),
        (status = 404, description = "`unknown_source`", body = ErrorBody)
    )
)]
pub async fn list_objects(
    _user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (source, _) = enabled_source(&state, &slug).await?;
    let objects = state
        .repository
        .list_routing_sources(source.id, false)
        .await?;
    let body: Vec<ObjectResponse> = objects
        .into_iter()
        .map(super::super::admin::object_response)
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
