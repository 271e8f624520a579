use actix_web::{web, HttpResponse};
use allmetrics_common::{AdminSourceResponse, ErrorBody, UpdateSourceRequest};

use super::admin_source_response;
use crate::auth::AdminUser;
use crate::domain::DataSourcePatch;
use crate::error::ApiError;
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Rename, enable or disable a data source. A disabled source disappears for users (connect,
/// query) but keeps its connections, so enabling it again restores everything.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/sources/{slug}",
    tag = "admin",
    operation_id = "admin_update_source",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo-ads")),
    request_body = UpdateSourceRequest,
    responses(
        (status = 200, description = "Updated", body = AdminSourceResponse),
        (status = 400, description = "`invalid_name`, `invalid_body`", body = ErrorBody),
        (status = 404, description = "`unknown_source`", body = ErrorBody)
    )
)]
pub async fn update_source(
    _admin: AdminUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<UpdateSourceRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let name = request
        .name
        .map(|name| validate_display_name(&name, "name"))
        .transpose()?;
    let source = state
        .repository
        .update_data_source(
            &slug,
            DataSourcePatch {
                name,
                enabled: request.enabled,
            },
        )
        .await?
        .ok_or_else(|| crate::lookup::unknown_source(&slug))?;
    let counts = state.repository.connection_counts().await?;
    Ok(HttpResponse::Ok().json(admin_source_response(&state, &source, &counts)))
}
