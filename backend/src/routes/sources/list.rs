use actix_web::{web, HttpResponse};
use allmetrics_common::SourceResponse;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::providers::registry;
use crate::state::AppState;

/// The enabled data sources (the seed's sources dashboard), each with the caller's connection.
#[utoipa::path(
    get,
    path = "/api/v1/sources",
    tag = "sources",
    operation_id = "list_sources",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Enabled data sources", body = [SourceResponse])
    )
)]
pub async fn list_sources(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sources = state.repository.list_data_sources(false).await?;
    let connections = state.repository.list_connections(user.id).await?;
    let body: Vec<SourceResponse> = sources
        .iter()
        .filter_map(|source| {
            let provider = registry::resolve(&state.settings, &state.base_url, source)?;
            Some(SourceResponse {
                slug: source.slug.clone(),
                name: source.name.clone(),
                provider: source.provider.clone(),
                configured: provider.configured(),
                api_key_supported: provider.provider.supports_api_key(),
                subscriptions_supported: provider.provider.subscription_objects().is_some(),
                connection: connections
                    .iter()
                    .find(|connection| connection.data_source_id == source.id)
                    .map(crate::routes::connections::connection_response),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
