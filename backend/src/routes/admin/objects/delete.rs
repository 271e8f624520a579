use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;

use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::routes::admin::sources::any_source;
use crate::state::AppState;

/// Stop offering an object.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sources/{slug}/objects/{object_name}",
    tag = "admin",
    operation_id = "admin_delete_object",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Data source slug", example = "demo"),
        ("object_name" = String, Path, description = "Object name", example = "TaxRate")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`unknown_source` or `unknown_object`", body = ErrorBody)
    )
)]
pub async fn delete_object(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, object_name) = path.into_inner();
    let source = any_source(&state, &slug).await?;
    if state
        .repository
        .delete_routing_source(source.id, &object_name)
        .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(
            "unknown_object",
            format!("`{slug}` has no object `{object_name}`."),
        ))
    }
}
