use actix_web::{web, HttpResponse};
use allmetrics_common::ErrorBody;
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::domain::DeleteOutcome;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteSourceParams {
    /// Delete even while users are connected (their connections and data go too).
    #[serde(default)]
    pub force: bool,
}

/// Delete a data source. Refused with 409 while users are connected, unless `force=true`.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sources/{slug}",
    tag = "admin",
    operation_id = "admin_delete_source",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "stripe"), DeleteSourceParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`unknown_source`", body = ErrorBody),
        (status = 409, description = "`source_in_use`: users are connected", body = ErrorBody)
    )
)]
pub async fn delete_source(
    _admin: AdminUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: web::Query<DeleteSourceParams>,
) -> Result<HttpResponse, ApiError> {
    match state
        .repository
        .delete_data_source(&slug, params.force)
        .await?
    {
        DeleteOutcome::Deleted => Ok(HttpResponse::NoContent().finish()),
        DeleteOutcome::NotFound => Err(crate::lookup::unknown_source(&slug)),
        DeleteOutcome::InUse { connections } => Err(ApiError::conflict(
            "source_in_use",
            format!(
                "{connections} user(s) are connected to `{slug}`. Disable it instead, or delete \
                 with force=true to remove their connections and data too."
            ),
        )),
    }
}
