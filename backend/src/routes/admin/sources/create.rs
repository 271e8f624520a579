use actix_web::{web, HttpResponse};
use allmetrics_common::{AdminSourceResponse, CreateSourceRequest, ErrorBody};

use super::admin_source_response;
use crate::auth::AdminUser;
use crate::db::DbError;
use crate::domain::{NewDataSource, RoutingSource};
use crate::error::ApiError;
use crate::providers::registry;
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

fn validate_slug(slug: &str) -> Result<(), ApiError> {
    let valid = !slug.is_empty()
        && slug.len() <= 64
        && slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_slug",
            "A slug is 1 to 64 lowercase letters, digits, `-` or `_`, starting with a letter or \
             digit.",
        ))
    }
}

/// Add a data source. Its provider's default objects become its routing sources.
#[utoipa::path(
    post,
    path = "/api/v1/admin/sources",
    tag = "admin",
    operation_id = "admin_create_source",
    security(("bearer" = [])),
    request_body = CreateSourceRequest,
    responses(
        (status = 201, description = "Created", body = AdminSourceResponse),
        (status = 400, description = "`invalid_slug`, `invalid_name`, `unknown_provider`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 409, description = "`slug_taken`", body = ErrorBody)
    )
)]
pub async fn create_source(
    _admin: AdminUser,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<CreateSourceRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    validate_slug(&request.slug)?;
    let name = validate_display_name(&request.name, "name")?;
    let provider = registry::provider(&request.provider).ok_or_else(|| {
        ApiError::bad_request(
            "unknown_provider",
            format!(
                "Unknown provider `{}`; one of: {}.",
                request.provider,
                registry::kinds().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let source = state
        .repository
        .create_data_source(NewDataSource {
            slug: request.slug,
            name,
            provider: provider.kind().into(),
            enabled: request.enabled,
        })
        .await
        .map_err(|error| match error {
            DbError::Conflict(_) => {
                ApiError::conflict("slug_taken", "A data source with this slug exists already.")
            }
            other => other.into(),
        })?;
    for object in provider.catalogue() {
        state
            .repository
            .create_routing_source(RoutingSource {
                data_source_id: source.id,
                object_name: object.name.into(),
                label: object.label.into(),
                enabled: true,
            })
            .await?;
    }
    Ok(HttpResponse::Created().json(admin_source_response(&state, &source, &[])))
}
