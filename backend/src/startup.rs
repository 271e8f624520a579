//! Builds the server. This is the only module that knows which path leads to which handler and
//! what shared state the handlers get.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::Method;
use actix_web::{middleware, web, App, HttpServer, ResponseError};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::AuthState;
use crate::configuration::Settings;
use crate::db::{self, SharedRepository};
use crate::error::ApiError;
use crate::openapi;
use crate::request_context::{normalize_path, request_context};
use crate::routes::{
    admin, api_docs, auth, connect, connections, dashboards, extractors, health, me, metrics,
    prometheus, sources, spa, tokens, webhooks,
};
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    /// The Prometheus metrics, on their own port (none when turned off).
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects to the database, migrates it, and binds the listener (port 0 = any free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let repository = db::connect(&settings.database)
            .await
            .context("connecting to the database")?;
        let demo_slugs = prepare_database(&settings, repository.as_ref()).await?;
        crate::auth::setup_token::announce(&settings, repository.as_ref())
            .await
            .context("preparing the first administrator's setup token")?;
        Self::build_with_repository(settings, repository, &demo_slugs)
    }

    /// Binds the server on a prepared database. `demo_slugs` are the data sources served by the
    /// built-in sandbox, whose callback URLs it must accept.
    pub fn build_with_repository(
        settings: Settings,
        repository: SharedRepository,
        demo_slugs: &[String],
    ) -> anyhow::Result<Self> {
        let address = (
            settings.application.host.as_str(),
            settings.application.port,
        );
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "binding {}:{}",
                settings.application.host, settings.application.port
            )
        })?;
        let bound = listener.local_addr()?;
        let base_url = settings.base_url(bound.port());
        let metrics_listener = if settings.application.metrics_enabled {
            let address = (
                settings.application.metrics_host.as_str(),
                settings.application.metrics_port,
            );
            Some(TcpListener::bind(address).with_context(|| {
                format!(
                    "binding the metrics port {}:{} (APP_APPLICATION__METRICS_PORT; \
                     APP_APPLICATION__METRICS_ENABLED=false turns it off)",
                    settings.application.metrics_host, settings.application.metrics_port
                )
            })?)
        } else {
            None
        };
        let metrics = Arc::new(crate::monitoring::Metrics::new()?);
        let state = AppState {
            repository: repository.clone(),
            auth: AuthState::new(&settings, &base_url)?,
            cipher: Arc::new(crate::crypto::token_cipher(&settings)?),
            http: crate::providers::http::client(&settings.http)?,
            sandbox: sandbox(&settings, &base_url, demo_slugs),
            series_cache: crate::query::cache::SeriesCache::instrumented(
                settings.query.cache_mib.saturating_mul(1 << 20),
                metrics.cache_instruments(),
            ),
            computations: crate::query::limit::ComputationLimiter::new(
                settings.query.computations_per_user,
            ),
            object_keys: quick_cache::sync::Cache::new(1_000),
            rollup_reads: crate::query::reads::RollupReads::new(
                settings.query.cache_mib.saturating_mul(1 << 19),
            ),
            subscription_histories: crate::query::histories::SubscriptionHistories::new(
                settings.query.cache_mib.saturating_mul(1 << 19),
            ),
            subscription_sweeps: crate::query::sweeps::SubscriptionSweeps::new(
                settings.query.cache_mib.saturating_mul(1 << 18),
            ),
            rollup_builds: Arc::default(),
            base_url: base_url.into(),
            settings: Arc::new(settings),
            metrics,
        };
        tracing::info!(address = %bound, base_url = %state.base_url, "allmetrics is listening");
        let state = web::Data::new(state);
        let server = run(listener, state.clone())?;
        let metrics = match metrics_listener {
            Some(listener) => {
                let address = listener.local_addr()?;
                tracing::info!(address = %address, "metrics are served at /metrics");
                Some((address.port(), serve_metrics(listener, state.clone())?))
            }
            None => None,
        };
        Ok(Self {
            port: bound.port(),
            server,
            metrics,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics (`GET /metrics`), unless they are turned off.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The state the handlers share (tests drive background work through it).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Stops the server from outside (tests); SIGINT and SIGTERM do the same in production.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until a shutdown signal, lets in-flight requests finish, then closes the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let refresher = tokio::spawn(refresh_tokens_in_background(self.state.services()));
        let syncer = self.state.settings.sync.enabled.then(|| {
            tokio::spawn(crate::sync::run_forever(crate::sync::SyncContext::new(
                self.state.services(),
            )))
        });
        let result = self.server.await;
        if let Some((handle, metrics)) = metrics {
            handle.stop(false).await;
            let _ = metrics.await;
        }
        refresher.abort();
        if let Some(syncer) = syncer {
            syncer.abort();
        }
        self.state.repository.close().await;
        tracing::info!("allmetrics stopped");
        result
    }
}

/// Refreshes provider tokens ahead of their expiry, so that syncs and charts never wait for it.
async fn refresh_tokens_in_background(services: crate::services::Services) {
    let interval = services.settings.sync.token_refresh_interval_secs;
    if interval == 0 {
        return;
    }
    let ahead = Duration::from_secs(services.settings.sync.token_refresh_ahead_secs);
    let mut ticks = tokio::time::interval(Duration::from_secs(interval));
    loop {
        ticks.tick().await;
        if let Err(error) = crate::tokens::refresh_expiring(&services, ahead).await {
            tracing::warn!(error = %error, "background token refresh could not run");
        }
    }
}

/// Migrates the database and adds the data sources declared in configuration. Returns the slugs
/// of the data sources the built-in sandbox serves.
pub async fn prepare_database(
    settings: &Settings,
    repository: &dyn crate::db::Repository,
) -> anyhow::Result<Vec<String>> {
    repository
        .migrate()
        .await
        .context("running database migrations")?;
    ensure_configured_sources(settings, repository).await?;
    Ok(repository
        .list_data_sources(true)
        .await?
        .into_iter()
        .filter(|source| {
            crate::providers::registry::provider(&source.provider)
                .is_some_and(|provider| provider.is_sandbox())
        })
        .map(|source| source.slug)
        .collect())
}

/// The built-in demo provider, configured to accept this server's callback URLs.
fn sandbox(
    settings: &Settings,
    base_url: &str,
    demo_slugs: &[String],
) -> Option<allmetrics_sandbox::Sandbox> {
    use secrecy::ExposeSecret;
    let sandbox = &settings.sandbox;
    if !sandbox.enabled_in(settings.environment) {
        return None;
    }
    let defaults = allmetrics_sandbox::SandboxConfig::default();
    Some(allmetrics_sandbox::Sandbox::new(
        allmetrics_sandbox::SandboxConfig {
            seed: sandbox.seed,
            size: sandbox.size,
            client_id: sandbox.client_id.clone(),
            client_secret: sandbox.client_secret.expose_secret().to_string(),
            api_key: sandbox.api_key.clone(),
            redirect_uris: demo_slugs
                .iter()
                .map(|slug| crate::providers::registry::redirect_uri(settings, base_url, slug))
                .collect(),
            latency: Duration::from_millis(sandbox.latency_ms),
            rate_limit_per_sec: sandbox.rate_limit_per_sec,
            access_token_ttl: sandbox.access_token_ttl_secs.map(Duration::from_secs),
            analytics_tokens_per_hour: sandbox.analytics_tokens_per_hour,
            ads_calls_per_hour: sandbox.ads_calls_per_hour,
            ads_max_range_days: sandbox
                .ads_max_range_days
                .unwrap_or(defaults.ads_max_range_days),
            ..defaults
        },
    ))
}

/// A generic OAuth2 provider declared in configuration gets its data source on start-up.
async fn ensure_configured_sources(
    settings: &Settings,
    repository: &dyn crate::db::Repository,
) -> anyhow::Result<()> {
    for (slug, provider) in &settings.providers {
        let Some(kind) = provider.kind.as_deref() else {
            continue;
        };
        if crate::providers::registry::provider(kind).is_none() {
            anyhow::bail!("providers.{slug}.kind: unknown provider kind `{kind}`");
        }
        if repository.data_source_by_slug(slug).await?.is_none() {
            repository
                .create_data_source(crate::domain::NewDataSource {
                    slug: slug.clone(),
                    name: provider.name.clone().unwrap_or_else(|| slug.clone()),
                    provider: kind.to_string(),
                    enabled: true,
                })
                .await?;
            tracing::info!(slug, kind, "added the configured data source");
        }
    }
    Ok(())
}

/// A method of a path and the route that handles it.
type MethodRoute = (Method, actix_web::Route);

fn on<F, Args>(method: Method, handler: F) -> MethodRoute
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    (method.clone(), web::method(method).to(handler))
}

/// Every path the server answers, with the handler of each method it accepts: the one table the
/// server is built from, and that [`routes`] lists. Besides these there are only the docs UI
/// (`/docs/...`), the built-in sandbox (`/sandbox/...`) and the web app (any other GET).
fn endpoints() -> Vec<(&'static str, Vec<MethodRoute>)> {
    use Method as M;
    vec![
        ("/healthz", vec![on(M::GET, health::healthz)]),
        ("/readyz", vec![on(M::GET, health::readyz)]),
        (
            "/api/openapi.json",
            vec![on(M::GET, api_docs::openapi_json)],
        ),
        (
            "/api/openapi.yaml",
            vec![on(M::GET, api_docs::openapi_yaml)],
        ),
        ("/docs", vec![on(M::GET, api_docs::docs_redirect)]),
        (
            "/api/v1/auth/register",
            vec![on(M::POST, auth::register::register)],
        ),
        ("/api/v1/auth/login", vec![on(M::POST, auth::login::login)]),
        (
            "/api/v1/auth/refresh",
            vec![on(M::POST, auth::refresh::refresh)],
        ),
        (
            "/api/v1/auth/resume",
            vec![on(M::GET, auth::resume::resume)],
        ),
        (
            "/api/v1/auth/logout",
            vec![on(M::POST, auth::logout::logout)],
        ),
        ("/api/v1/me", vec![on(M::GET, me::me)]),
        (
            "/api/v1/admin/users",
            vec![
                on(M::GET, admin::list_users::list_users),
                on(M::POST, admin::create_user::create_user),
            ],
        ),
        (
            "/api/v1/admin/sources",
            vec![
                on(M::GET, admin::sources::list::list_sources),
                on(M::POST, admin::sources::create::create_source),
            ],
        ),
        (
            "/api/v1/admin/sources/{slug}",
            vec![
                on(M::PATCH, admin::sources::update::update_source),
                on(M::DELETE, admin::sources::delete::delete_source),
            ],
        ),
        (
            "/api/v1/admin/sources/{slug}/objects",
            vec![
                on(M::GET, admin::objects::list::list_objects),
                on(M::POST, admin::objects::create::create_object),
            ],
        ),
        (
            "/api/v1/admin/sources/{slug}/objects/{object_name}",
            vec![
                on(M::PATCH, admin::objects::update::update_object),
                on(M::DELETE, admin::objects::delete::delete_object),
            ],
        ),
        (
            "/api/v1/admin/tokens",
            vec![on(M::GET, admin::tokens::list::list_tokens)],
        ),
        (
            "/api/v1/admin/fx-rates",
            vec![
                on(M::GET, admin::fx_rates::get::get_fx_rates),
                on(M::PUT, admin::fx_rates::replace::replace_fx_rates),
            ],
        ),
        (
            "/api/v1/admin/tokens/{id}",
            vec![on(M::DELETE, admin::tokens::delete::delete_token)],
        ),
        (
            "/api/v1/tokens",
            vec![
                on(M::GET, tokens::list::list_tokens),
                on(M::POST, tokens::create::create_token),
            ],
        ),
        (
            "/api/v1/tokens/{id}",
            vec![on(M::DELETE, tokens::delete::delete_token)],
        ),
        (
            "/api/v1/metrics",
            vec![
                on(M::GET, metrics::list::list_metrics),
                on(M::POST, metrics::create::create_metric),
            ],
        ),
        (
            "/api/v1/metrics/{id}",
            vec![
                on(M::GET, metrics::get::get_metric),
                on(M::PATCH, metrics::update::update_metric),
                on(M::DELETE, metrics::delete::delete_metric),
            ],
        ),
        (
            "/api/v1/metrics/{id}/series",
            vec![on(M::GET, metrics::series::metric_series)],
        ),
        (
            "/api/v1/dashboards",
            vec![
                on(M::GET, dashboards::list::list_dashboards),
                on(M::POST, dashboards::create::create_dashboard),
            ],
        ),
        (
            "/api/v1/dashboards/{id}",
            vec![
                on(M::GET, dashboards::get::get_dashboard),
                on(M::PATCH, dashboards::update::update_dashboard),
                on(M::DELETE, dashboards::delete::delete_dashboard),
            ],
        ),
        (
            "/api/v1/sources",
            vec![on(M::GET, sources::list::list_sources)],
        ),
        (
            "/api/v1/sources/{slug}/objects",
            vec![on(M::GET, sources::objects::list_objects)],
        ),
        (
            "/api/v1/connections",
            vec![on(M::GET, connections::list::list_connections)],
        ),
        (
            "/api/v1/connections/{slug}",
            vec![
                on(M::PATCH, connections::update::update_connection),
                on(M::DELETE, connections::delete::delete_connection),
            ],
        ),
        (
            "/api/v1/connections/{slug}/sync",
            vec![
                on(M::GET, connections::sync::get_sync),
                on(M::POST, connections::sync::post_sync),
            ],
        ),
        (
            "/api/v1/connections/{slug}/accounts",
            vec![on(M::GET, connections::accounts::list_accounts)],
        ),
        (
            "/api/v1/connections/{slug}/account",
            vec![on(M::PUT, connections::account::choose_account)],
        ),
        (
            "/api/v1/connections/{slug}/key",
            vec![on(M::POST, connections::api_key::connect_api_key)],
        ),
        (
            "/api/v1/connections/{slug}/webhook",
            vec![
                on(M::GET, connections::webhook::get_webhook),
                on(M::PUT, connections::webhook::put_webhook),
            ],
        ),
        (
            "/webhooks/stripe",
            vec![on(M::POST, webhooks::stripe::platform_event)],
        ),
        (
            "/webhooks/stripe/{webhook_id}",
            vec![on(M::POST, webhooks::stripe::connection_event)],
        ),
        (
            "/connect/authorize/{slug}",
            vec![on(M::GET, connect::authorize::authorize)],
        ),
        (
            "/connect/query/{slug}",
            vec![on(M::GET, connect::query::query)],
        ),
        (
            "/connect/oauth/callback/{slug}",
            vec![on(M::GET, connect::callback::callback)],
        ),
    ]
}

/// The `(method, path)` pairs the server routes, read from the table it is built from (so the
/// list cannot differ from the routing): the docs UI's files, the sandbox and the web app aside.
pub fn routes() -> Vec<(Method, &'static str)> {
    endpoints()
        .into_iter()
        .flat_map(|(path, methods)| methods.into_iter().map(move |(method, _)| (method, path)))
        .collect()
}

/// A path and its methods; any other method gets 405 with an `Allow` header that lists the
/// accepted ones (without this they would fall through to the app's default service, the SPA,
/// and look like a 404).
fn resource(path: &str, methods: Vec<MethodRoute>) -> actix_web::Resource {
    let allow = methods
        .iter()
        .map(|(method, _)| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut resource = web::resource(path);
    for (_, route) in methods {
        resource = resource.route(route);
    }
    resource.default_service(web::to(move |request: actix_web::HttpRequest| {
        let allow = allow.clone();
        async move { method_not_allowed(&request, &allow) }
    }))
}

fn method_not_allowed(request: &actix_web::HttpRequest, allow: &str) -> actix_web::HttpResponse {
    let mut response = ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not accept {}; it accepts {allow}.",
            request.path(),
            request.method()
        ),
    )
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// Headers every answer carries: no framing by other sites (clickjacking), no MIME sniffing, no
/// referrer sent elsewhere; in production, browsers are told to use HTTPS only.
fn security_headers(hsts: bool) -> middleware::DefaultHeaders {
    let headers = middleware::DefaultHeaders::new()
        .add(("Content-Security-Policy", "frame-ancestors 'none'"))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"));
    if hsts {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// The metrics port: `GET /metrics` only, one worker, stopped with the API's server.
fn serve_metrics(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).service(resource(
            "/metrics",
            vec![on(Method::GET, prometheus::scrape)],
        ))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}

fn run(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let spec = openapi::spec();
    let documents = web::Data::new(api_docs::OpenApiDocuments {
        json: spec.to_json()?,
        yaml: spec.to_yaml()?,
    });
    let json_limit = state.settings.application.json_limit_bytes;
    let shutdown_timeout = state.settings.application.shutdown_timeout_secs;

    let hsts = state.settings.environment == crate::configuration::Environment::Production;
    let server = HttpServer::new(move || {
        App::new()
            // gzip for clients that ask for it (browsers: the web app's wasm, the series).
            .wrap(middleware::Compress::default())
            .wrap(security_headers(hsts))
            // The last `wrap` runs first: the path is normalized, the logger opens the request's
            // span and id, then `request_context` uses that id for headers and error bodies.
            .wrap(middleware::from_fn(request_context))
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
            .wrap(middleware::from_fn(normalize_path))
            // Outermost: every answer is counted and timed, whatever answered it.
            .wrap(middleware::from_fn(crate::monitoring::record_request))
            .app_data(state.clone())
            .app_data(documents.clone())
            .app_data(extractors::json_config(json_limit))
            .app_data(extractors::query_config())
            .app_data(extractors::path_config())
            .configure(|config| {
                for (path, methods) in endpoints() {
                    config.service(resource(path, methods));
                }
            })
            .configure(|config| {
                if let Some(sandbox) = &state.sandbox {
                    config.service(
                        web::scope("/sandbox").configure(|scope| sandbox.configure(scope)),
                    );
                }
            })
            // The UI reads the document the table above serves.
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api/openapi.json"])))
            .default_service(web::to(spa::fallback))
    })
    .shutdown_timeout(shutdown_timeout)
    .client_request_timeout(Duration::from_secs(30))
    .listen(listener)?
    .run();
    Ok(server)
}
