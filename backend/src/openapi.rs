//! The OpenAPI document, generated from the handlers' annotations and the shared types.

use allmetrics_common::{
    AccountResponse, AdminSourceResponse, ApiKeyRequest, AuthorizeUrlResponse,
    ChooseAccountRequest, ChurnAt, ConnectionResponse, CreateObjectRequest, CreateSourceRequest,
    CreateUserRequest, Credentials, ErrorBody, FxRatesSummary, HealthStatus, ObjectResponse,
    ObjectSyncStatus, ReadinessStatus, RefreshRequest, RegisterRequest, Role, Series, SeriesMeta,
    SourceResponse, SubscriptionSettings, SubscriptionSettingsChange, SyncStatus, TokenResponse,
    UpdateConnectionRequest, UpdateObjectRequest, UpdateSourceRequest, UserResponse,
    WebhookEndpointResponse, WebhookReceipt, WebhookSecretRequest,
};
use allmetrics_common::{
    ApiTokenResponse, ApiTokenScope, CreateApiTokenRequest, CreatedApiTokenResponse,
};
use allmetrics_common::{
    CreateDashboardRequest, CreateMetricRequest, Dashboard, Metric, UpdateDashboardRequest,
    UpdateMetricRequest,
};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::auth::cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "allmetrics",
        description = "All your business metrics in one place: connect Stripe, Google Analytics \
                       and Facebook Ads through OAuth2, define metrics, chart them.\n\n\
                       Every error answers `{\"error\": \"<stable code>\", \"message\": \"...\", \
                       \"request_id\": \"...\"}`; the request id is also in the `x-request-id` \
                       header. A method a path does not take answers 405 `method_not_allowed` \
                       with an `Allow` header listing the ones it does.\n\n\
                       Authentication: `Authorization: Bearer` with the access token of \
                       `POST /api/v1/auth/login` (`bearer`) or with a personal API token \
                       (`api_token`, `am_pat_...`); browsers use the session cookies that \
                       login sets (`session_cookie`; writes also send the `allmetrics_csrf` \
                       cookie's value in `x-csrf-token`).",
        license(name = "AGPL-3.0-only")
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::api_docs::openapi_json,
        routes::api_docs::openapi_yaml,
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
        routes::admin::fx_rates::get::get_fx_rates,
        routes::admin::fx_rates::replace::replace_fx_rates,
        routes::tokens::list::list_tokens,
        routes::tokens::create::create_token,
        routes::tokens::delete::delete_token,
        routes::sources::list::list_sources,
        routes::sources::objects::list_objects,
        routes::connections::list::list_connections,
        routes::connections::update::update_connection,
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
        UpdateConnectionRequest,
        SubscriptionSettings,
        SubscriptionSettingsChange,
        ChurnAt,
        FxRatesSummary,
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
    modifiers(&Conventions),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "docs", description = "This document"),
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

/// What every operation shares, derived from what it is so that no handler can forget it: the
/// security schemes and the alternatives each protected operation accepts, and the error answers
/// the framework, the extractors and the authentication give (401, 403 for admin routes and
/// cookie-authenticated writes, 400 for malformed input, 413, 415, 503 while the database does
/// not answer). A handler's own annotation says what only it knows (404s, 409s, its 400 codes).
struct Conventions;

/// Paths an API token never opens: signing in and out, and the tokens themselves (only a
/// session manages tokens).
fn accepts_api_token(path: &str) -> bool {
    (path.starts_with("/api/v1/") || path.starts_with("/connect/query/"))
        && !path.starts_with("/api/v1/auth/")
        && !path.starts_with("/api/v1/tokens")
}

/// Operations whose body is read as bytes (a signature covers them, or the body is optional):
/// no content-type check, so no 415.
const RAW_BODY_OPERATIONS: &[&str] = &[
    "refresh",
    "stripe_platform_event",
    "stripe_connection_event",
];

/// Operations whose body is a provider's signed event: a malformed one is `invalid_event`.
const SIGNED_BODY_OPERATIONS: &[&str] = &["stripe_platform_event", "stripe_connection_event"];

/// Operations whose body is CSV: their 400 (`invalid_csv`) and 415 say so themselves.
const CSV_BODY_OPERATIONS: &[&str] = &["admin_replace_fx_rates"];

/// Operations that never touch the database.
const NO_DATABASE_OPERATIONS: &[&str] = &["healthz", "readyz", "openapi_json", "openapi_yaml"];

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        add_security_schemes(components);
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                apply_conventions(path, method, operation);
            }
        }
    }
}

fn add_security_schemes(components: &mut utoipa::openapi::Components) {
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The `access_token` of `POST /api/v1/auth/login` or `/api/v1/auth/refresh` \
                     (it lives `expires_in` seconds).",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_token",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("am_pat_...")
                .description(Some(
                    "A personal API token (`am_pat_...`), for scripts and other programs.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            ACCESS_COOKIE,
            "The browser's session, set by `POST /api/v1/auth/login` (HttpOnly). Requests that \
             change something must also send the `allmetrics_csrf` cookie's value in the \
             `x-csrf-token` header (else 403 `csrf_failed`).",
        ))),
    );
    components.add_security_scheme(
        "refresh_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            REFRESH_COOKIE,
            "The browser's refresh token, set by `POST /api/v1/auth/login` (HttpOnly, sent to \
             `/api/v1/auth` only).",
        ))),
    );
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

/// Whether a handler marked the operation as protected: `security(("bearer" = []))`.
fn is_protected(operation: &Operation) -> bool {
    operation.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement)
            .ok()
            .and_then(|value| value.get("bearer").cloned())
            .is_some()
    })
}

fn apply_conventions(path: &str, method: &str, operation: &mut Operation) {
    let id = operation.operation_id.clone().unwrap_or_default();
    let protected = is_protected(operation);
    if protected {
        let mut alternatives = vec![SecurityRequirement::new("bearer", Vec::<String>::new())];
        if accepts_api_token(path) {
            alternatives.push(SecurityRequirement::new("api_token", Vec::<String>::new()));
            error_response(
                operation,
                "429",
                "`rate_limited`: this API token's requests per minute are spent (`Retry-After`)",
            );
            if method != "get" {
                error_response(
                    operation,
                    "403",
                    "`insufficient_scope`: a `read` API token cannot create, change or delete",
                );
            }
        }
        alternatives.push(SecurityRequirement::new(
            "session_cookie",
            Vec::<String>::new(),
        ));
        operation.security = Some(alternatives);
        if !operation.responses.responses.contains_key("401") {
            error_response(
                operation,
                "401",
                "`unauthorized`: no credentials; `invalid_token`: expired, revoked or not valid; \
                 `session_ended`: signed out, or its refresh token was reused",
            );
        }
        if method != "get" {
            error_response(
                operation,
                "403",
                "`csrf_failed`: authenticated by the session cookie without the `x-csrf-token` \
                 header",
            );
        }
    }
    if path.starts_with("/api/v1/admin/") {
        error_response(operation, "403", "`forbidden`: not an administrator");
    }
    let parameters = operation.parameters.iter().flatten();
    let (mut typed_path, mut query) = (false, false);
    for parameter in parameters {
        match parameter.parameter_in {
            ParameterIn::Path => {
                typed_path |= parameter.schema.as_ref().is_some_and(|schema| {
                    serde_json::to_value(schema)
                        .ok()
                        .and_then(|schema| schema.get("type").cloned())
                        .is_some_and(|kind| kind != "string")
                })
            }
            ParameterIn::Query => query = true,
            _ => {}
        }
    }
    if typed_path {
        error_response(
            operation,
            "400",
            "`invalid_path`: a path parameter of the wrong type",
        );
    }
    if query {
        error_response(
            operation,
            "400",
            "`invalid_query`: a query parameter of the wrong type, repeated, or missing",
        );
    }
    if operation.request_body.is_some() {
        let csv = CSV_BODY_OPERATIONS.contains(&id.as_str());
        if !SIGNED_BODY_OPERATIONS.contains(&id.as_str()) && !csv {
            error_response(
                operation,
                "400",
                "`invalid_json`: not well-formed JSON; `invalid_body`: JSON of the wrong shape \
                 (or not an object)",
            );
        }
        if !RAW_BODY_OPERATIONS.contains(&id.as_str()) && !csv {
            error_response(
                operation,
                "415",
                "`unsupported_media_type`: the body is not sent as `application/json`",
            );
        }
        error_response(
            operation,
            "413",
            "`payload_too_large`: the body is over the server's limit",
        );
    }
    if !NO_DATABASE_OPERATIONS.contains(&id.as_str()) {
        error_response(
            operation,
            "503",
            "`database_unavailable`: the database is not answering; try again shortly",
        );
    }
}

/// Documents an error answer (body `ErrorBody`), or adds `what` to the one documented already.
fn error_response(operation: &mut Operation, status: &str, what: &str) {
    match operation.responses.responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            if !response.description.contains(what) {
                response.description = format!("{}; {what}", response.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response = ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            operation
                .responses
                .responses
                .insert(status.to_string(), RefOr::T(response));
        }
    }
}

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn spec_yaml() -> anyhow::Result<String> {
    Ok(spec().to_yaml()?)
}
