use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateObjectRequest, ErrorBody, ObjectResponse};

use crate::auth::AdminUser;
use crate::db::DbError;
use crate::domain::RoutingSource;
use crate::error::ApiError;
use crate::routes::admin::{object_response, sources::any_source, validate_display_name};
use crate::state::AppState;

pub fn validate_object_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_object_name",
            "An object name is a letter followed by letters, digits or `_` (at most 64), e.g. \
             `Charge`.",
        ))
    }
}

/// Offer one more object of a data source to metrics (the seed's "Creating Routing Source").
#[utoipa::path(
    post,
    path = "/api/v1/admin/sources/{slug}/objects",
    tag = "admin",
    operation_id = "admin_create_object",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    request_body = CreateObjectRequest,
    responses(
        (status = 201, description = "Created", body = ObjectResponse),
        (status = 400, description = "`invalid_object_name`, `invalid_name`", body = ErrorBody),
        (status = 404, description = "`unknown_source`", body = ErrorBody),
        (status = 409, description = "`object_exists`", body = ErrorBody)
    )
)]
pub async fn create_object(
    _admin: AdminUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<CreateObjectRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    validate_object_name(&request.name)?;
    let label = validate_display_name(request.label.as_deref().unwrap_or(&request.name), "label")?;
    let source = any_source(&state, &slug).await?;
    let object = state
        .repository
        .create_routing_source(RoutingSource {
            data_source_id: source.id,
            object_name: request.name,
            label,
            enabled: request.enabled,
        })
        .await
        .map_err(|error| match error {
            DbError::Conflict(_) => ApiError::conflict(
                "object_exists",
                format!("`{slug}` already offers this object."),
            ),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(object_response(object)))
}
