use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, ObjectResponse, UpdateObjectRequest};

use crate::auth::AdminUser;
use crate::domain::RoutingSourcePatch;
use crate::error::ApiError;
use crate::routes::admin::{object_response, sources::any_source, validate_display_name};
use crate::state::AppState;

/// Relabel, enable or disable an object. A disabled object cannot be queried.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/sources/{slug}/objects/{object_name}",
    tag = "admin",
    operation_id = "admin_update_object",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Data source slug", example = "demo-ads"),
        ("object_name" = String, Path, description = "Object name", example = "campaigns")
    ),
    request_body = UpdateObjectRequest,
    responses(
        (status = 200, description = "Updated", body = ObjectResponse),
        (status = 404, description = "`unknown_source` or `unknown_object`", body = ErrorBody)
    )
)]
pub async fn update_object(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: crate::routes::extractors::Json<UpdateObjectRequest>,
) -> Result<HttpResponse, ApiError> {
    let (slug, object_name) = path.into_inner();
    let request = body.into_inner();
    let label = request
        .label
        .map(|label| validate_display_name(&label, "label"))
        .transpose()?;
    let source = any_source(&state, &slug).await?;
    let object = state
        .repository
        .update_routing_source(
            source.id,
            &object_name,
            RoutingSourcePatch {
                label,
                enabled: request.enabled,
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_object",
                format!("`{slug}` has no object `{object_name}`."),
            )
        })?;
    Ok(HttpResponse::Ok().json(object_response(object)))
}
