pub mod create;
pub mod delete;
pub mod list;
pub mod update;

use allmetrics_common::AdminSourceResponse;

use crate::domain::{DataSource, DataSourceId};
use crate::providers::registry;
use crate::state::AppState;

pub fn admin_source_response(
    state: &AppState,
    source: &DataSource,
    counts: &[(DataSourceId, i64)],
) -> AdminSourceResponse {
    AdminSourceResponse {
        slug: source.slug.clone(),
        name: source.name.clone(),
        provider: source.provider.clone(),
        enabled: source.enabled,
        configured: registry::resolve(&state.settings, &state.base_url, source)
            .is_some_and(|provider| provider.configured()),
        connections: counts
            .iter()
            .find(|(id, _)| *id == source.id)
            .map_or(0, |(_, count)| *count),
        created_at: source.created_at.to_rfc3339(),
    }
}

pub use crate::lookup::any_source;
