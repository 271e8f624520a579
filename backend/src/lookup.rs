//! Finding what a request names: the data source of a slug and the caller's connection to it,
//! or the API's 404 (`unknown_source`, `not_connected`).

use crate::auth::AuthUser;
use crate::domain::{Connection, DataSource};
use crate::error::ApiError;
use crate::providers::{registry, ResolvedProvider};
use crate::state::AppState;

pub fn unknown_source(slug: &str) -> ApiError {
    ApiError::not_found(
        "unknown_source",
        format!("There is no data source `{slug}`."),
    )
}

/// The data source of `slug`, enabled or not; 404 `unknown_source` otherwise.
pub async fn any_source(state: &AppState, slug: &str) -> Result<DataSource, ApiError> {
    state
        .repository
        .data_source_by_slug(slug)
        .await?
        .ok_or_else(|| unknown_source(slug))
}

/// The caller's connection to the source of `slug`; 404 `unknown_source` or `not_connected`.
pub async fn user_connection(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
) -> Result<(DataSource, Connection), ApiError> {
    let source = any_source(state, slug).await?;
    let connection = state
        .repository
        .connection(user.id, source.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "not_connected",
                format!("{} is not connected.", source.name),
            )
        })?;
    Ok((source, connection))
}

/// The enabled data source of `slug` with its provider resolved; 404 `unknown_source` otherwise.
pub async fn enabled_source(
    state: &AppState,
    slug: &str,
) -> Result<(DataSource, ResolvedProvider), ApiError> {
    let source = state
        .repository
        .data_source_by_slug(slug)
        .await?
        .filter(|source| source.enabled)
        .ok_or_else(|| unknown_source(slug))?;
    let resolved = registry::resolve(&state.settings, &state.base_url, &source)
        .ok_or_else(|| unknown_source(slug))?;
    Ok((source, resolved))
}
