use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, SyncStatus};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The sync progress of the caller's connection: per object, how many objects are stored and
/// whether the whole history has been read (the progress bar of the sources page).
#[utoipa::path(
    get,
    path = "/api/v1/connections/{slug}/sync",
    tag = "connections",
    operation_id = "get_sync_status",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 200, description = "Sync progress", body = SyncStatus),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn get_sync(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, connection) = crate::lookup::user_connection(&state, &user, &slug).await?;
    Ok(HttpResponse::Ok().json(crate::sync::status(state.repository.as_ref(), &connection).await?))
}

/// Sync now: every object of the connection (including objects an admin enabled since) is read
/// again from where it stands. Answers at once; the progress is at `GET` on the same path.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{slug}/sync",
    tag = "connections",
    operation_id = "start_sync",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 202, description = "Scheduled", body = SyncStatus),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn post_sync(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, connection) = crate::lookup::user_connection(&state, &user, &slug).await?;
    crate::sync::schedule(&state.services(), &connection).await?;
    Ok(HttpResponse::Accepted()
        .json(crate::sync::status(state.repository.as_ref(), &connection).await?))
}
