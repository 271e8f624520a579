//! The OpenAPI document, generated from the handlers' annotations and the shared types.

use allmetrics_common::{
    CreateUserRequest, Credentials, ErrorBody, HealthStatus, ReadinessStatus, RefreshRequest, Role,
    TokenResponse, UserResponse,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::auth::register::register,
        routes::auth::login::login,
        routes::auth::refresh::refresh,
        routes::auth::logout::logout,
        routes::me::me,
        routes::admin::list_users::list_users,
        routes::admin::create_user::create_user,
    ),
    components(schemas(
        ErrorBody,
        HealthStatus,
        ReadinessStatus,
        Credentials,
        CreateUserRequest,
        RefreshRequest,
        Role,
        TokenResponse,
        UserResponse
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Accounts and sessions"),
        (name = "admin", description = "Administration (admins only)")
    )
)]
pub struct ApiDoc;

/// `Authorization: Bearer <access_token>` from `POST /api/v1/auth/login`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn spec_yaml() -> anyhow::Result<String> {
    Ok(spec().to_yaml()?)
}
