//! The OpenAPI document, generated from the handlers' annotations and the shared types.

use allmetrics_common::{
    AccountResponse, AdminSourceResponse, ApiKeyRequest, AuthorizeUrlResponse,
    ChooseAccountRequest, ConnectionResponse, CreateObjectRequest, CreateSourceRequest,
    CreateUserRequest, Credentials, ErrorBody, HealthStatus, ObjectResponse, ObjectSyncStatus,
    ReadinessStatus, RefreshRequest, RegisterRequest, Role, Series, SeriesMeta, SourceResponse,
    SyncStatus, TokenResponse, UpdateObjectRequest, UpdateSourceRequest, UserResponse,
    WebhookEndpointResponse, WebhookReceipt, WebhookSecretRequest,
};
use allmetrics_common::{
    ApiTokenResponse, ApiTokenScope, CreateApiTokenRequest, CreatedApiTokenResponse,
};
use allmetrics_common::{
    CreateDashboardRequest, CreateMetricRequest, Dashboard, Metric, UpdateDashboardRequest,
    UpdateMetricRequest,
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
        routes::auth::resume::resume,
        routes::auth::logout::logout,
        routes::me::me,
        routes::admin::list_users::list_users,
        routes::admin::create_user::create_user,
        routes::admin::sources::list::list_sources,
        routes::admin::sources::create::create_source,
        routes::admin::sources::update::update_source,
        routes::admin::sources::delete::delete_source,
        routes::admin::objects::list::list_objects,
        routes::admin::objects::create::create_object,
        routes::admin::objects::update::update_object,
        routes::admin::objects::delete::delete_object,
        routes::admin::tokens::list::list_tokens,
        routes::admin::tokens::delete::delete_token,
        routes::tokens::list::list_tokens,
        routes::tokens::create::create_token,
        routes::tokens::delete::delete_token,
        routes::sources::list::list_sources,
        routes::sources::objects::list_objects,
        routes::connections::list::list_connections,
        routes::connections::delete::delete_connection,
        routes::connections::api_key::connect_api_key,
        routes::connections::accounts::list_accounts,
        routes::connections::account::choose_account,
        routes::connections::sync::get_sync,
        routes::connections::sync::post_sync,
        routes::connections::webhook::get_webhook,
        routes::connections::webhook::put_webhook,
        routes::webhooks::stripe::connection_event,
        routes::webhooks::stripe::platform_event,
        routes::connect::authorize::authorize,
        routes::connect::callback::callback,
        routes::connect::query::query,
        routes::metrics::list::list_metrics,
        routes::metrics::create::create_metric,
        routes::metrics::get::get_metric,
        routes::metrics::update::update_metric,
        routes::metrics::delete::delete_metric,
        routes::metrics::series::metric_series,
        routes::dashboards::list::list_dashboards,
        routes::dashboards::create::create_dashboard,
        routes::dashboards::get::get_dashboard,
        routes::dashboards::update::update_dashboard,
        routes::dashboards::delete::delete_dashboard,
    ),
    components(schemas(
        ErrorBody,
        HealthStatus,
        ReadinessStatus,
        Credentials,
        RegisterRequest,
        CreateUserRequest,
        RefreshRequest,
        Role,
        TokenResponse,
        UserResponse,
        SourceResponse,
        ConnectionResponse,
        AccountResponse,
        ChooseAccountRequest,
        ObjectResponse,
        AdminSourceResponse,
        CreateSourceRequest,
        UpdateSourceRequest,
        CreateObjectRequest,
        UpdateObjectRequest,
        AuthorizeUrlResponse,
        ApiKeyRequest,
        SyncStatus,
        ObjectSyncStatus,
        WebhookEndpointResponse,
        WebhookSecretRequest,
        WebhookReceipt,
        Series,
        SeriesMeta,
        Metric,
        CreateMetricRequest,
        UpdateMetricRequest,
        Dashboard,
        CreateDashboardRequest,
        UpdateDashboardRequest,
        ApiTokenScope,
        CreateApiTokenRequest,
        ApiTokenResponse,
        CreatedApiTokenResponse
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Accounts and sessions"),
        (name = "sources", description = "Data sources and the objects they offer"),
        (name = "connect", description = "OAuth connect flow (the seed's URLs)"),
        (name = "connections", description = "The caller's connections"),
        (name = "metrics", description = "Saved queries and their series"),
        (name = "dashboards", description = "Ordered metrics with a default window"),
        (name = "webhooks", description = "Where providers push changes (signed)"),
        (name = "tokens", description = "Personal API tokens for scripts and integrations"),
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
