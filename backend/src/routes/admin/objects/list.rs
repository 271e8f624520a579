use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, ObjectResponse};

use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::routes::admin::{object_response, sources::any_source};
use crate::state::AppState;

/// Every object (routing source) of a data source, enabled or not.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sources/{slug}/objects",
    tag = "admin",
    operation_id = "admin_list_objects",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 200, description = "All objects", body = [ObjectResponse]),
        (status = 404, description = "`unknown_source`", body = ErrorBody)
    )
)]
pub async fn list_objects(
    _admin: AdminUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let source = any_source(&state, &slug).await?;
    let objects = state
        .repository
        .list_routing_sources(source.id, true)
        .await?;
    let body: Vec<ObjectResponse> = objects.into_iter().map(object_response).collect();
    Ok(HttpResponse::Ok().json(body))
}
