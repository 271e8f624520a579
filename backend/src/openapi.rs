//! The OpenAPI document, generated from the handlers' annotations and the shared types.

use allmetrics_common::{ErrorBody, HealthStatus, ReadinessStatus};
use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "allmetrics",
        description = "All your business metrics in one place: connect Stripe, Google Analytics \
                       and Facebook Ads through OAuth2, define metrics, chart them.\n\n\
                       Every error answers `{\"error\": \"<stable code>\", \"message\": \"...\", \
                       \"request_id\": \"...\"}`; the request id is also in the `x-request-id` \
                       header.",
        license(name = "AGPL-3.0-only")
    ),
    paths(routes::health::healthz, routes::health::readyz),
    components(schemas(ErrorBody, HealthStatus, ReadinessStatus)),
    tags((name = "health", description = "Liveness and readiness probes"))
)]
pub struct ApiDoc;

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn spec_yaml() -> anyhow::Result<String> {
    Ok(spec().to_yaml()?)
}
