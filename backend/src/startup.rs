//! Builds the server. This is the only module that knows which path leads to which handler and
//! what shared state the handlers get.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

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

/// A resource whose unsupported methods get 405 (without this they would fall through to the
/// app's default service, the SPA, and look like a 404).
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(
    request: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {}.", request.path(), request.method()),
    ))
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
        App::new()
            .app_data(state.clone())
            .service(resource("/metrics").get(prometheus::scrape))
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
    let spec_yaml = web::Data::new(api_docs::OpenApiYaml(spec.to_yaml()?));
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
            .app_data(spec_yaml.clone())
            .app_data(extractors::json_config(json_limit))
            .app_data(extractors::query_config())
            .app_data(extractors::path_config())
            .service(resource("/healthz").get(health::healthz))
            .service(resource("/readyz").get(health::readyz))
            .service(resource("/api/openapi.yaml").get(api_docs::openapi_yaml))
            .service(resource("/docs").get(api_docs::docs_redirect))
            .service(resource("/api/v1/auth/register").post(auth::register::register))
            .service(resource("/api/v1/auth/login").post(auth::login::login))
            .service(resource("/api/v1/auth/refresh").post(auth::refresh::refresh))
            .service(resource("/api/v1/auth/resume").get(auth::resume::resume))
            .service(resource("/api/v1/auth/logout").post(auth::logout::logout))
            .service(resource("/api/v1/me").get(me::me))
            .service(
                resource("/api/v1/admin/users")
                    .get(admin::list_users::list_users)
                    .post(admin::create_user::create_user),
            )
            .service(
                resource("/api/v1/admin/sources")
                    .get(admin::sources::list::list_sources)
                    .post(admin::sources::create::create_source),
            )
            .service(
                resource("/api/v1/admin/sources/{slug}")
                    .patch(admin::sources::update::update_source)
                    .delete(admin::sources::delete::delete_source),
            )
            .service(
                resource("/api/v1/admin/sources/{slug}/objects")
                    .get(admin::objects::list::list_objects)
                    .post(admin::objects::create::create_object),
            )
            .service(
                resource("/api/v1/admin/sources/{slug}/objects/{object_name}")
                    .patch(admin::objects::update::update_object)
                    .delete(admin::objects::delete::delete_object),
            )
            .service(resource("/api/v1/admin/tokens").get(admin::tokens::list::list_tokens))
            .service(
                resource("/api/v1/admin/tokens/{id}").delete(admin::tokens::delete::delete_token),
            )
            .service(
                resource("/api/v1/tokens")
                    .get(tokens::list::list_tokens)
                    .post(tokens::create::create_token),
            )
            .service(resource("/api/v1/tokens/{id}").delete(tokens::delete::delete_token))
            .service(
                resource("/api/v1/metrics")
                    .get(metrics::list::list_metrics)
                    .post(metrics::create::create_metric),
            )
            .service(
                resource("/api/v1/metrics/{id}")
                    .get(metrics::get::get_metric)
                    .patch(metrics::update::update_metric)
                    .delete(metrics::delete::delete_metric),
            )
            .service(resource("/api/v1/metrics/{id}/series").get(metrics::series::metric_series))
            .service(
                resource("/api/v1/dashboards")
                    .get(dashboards::list::list_dashboards)
                    .post(dashboards::create::create_dashboard),
            )
            .service(
                resource("/api/v1/dashboards/{id}")
                    .get(dashboards::get::get_dashboard)
                    .patch(dashboards::update::update_dashboard)
                    .delete(dashboards::delete::delete_dashboard),
            )
            .service(resource("/api/v1/sources").get(sources::list::list_sources))
            .service(resource("/api/v1/sources/{slug}/objects").get(sources::objects::list_objects))
            .service(resource("/api/v1/connections").get(connections::list::list_connections))
            .service(
                resource("/api/v1/connections/{slug}")
                    .delete(connections::delete::delete_connection),
            )
            .service(
                resource("/api/v1/connections/{slug}/sync")
                    .get(connections::sync::get_sync)
                    .post(connections::sync::post_sync),
            )
            .service(
                resource("/api/v1/connections/{slug}/accounts")
                    .get(connections::accounts::list_accounts),
            )
            .service(
                resource("/api/v1/connections/{slug}/account")
                    .put(connections::account::choose_account),
            )
            .service(
                resource("/api/v1/connections/{slug}/key")
                    .post(connections::api_key::connect_api_key),
            )
            .service(
                resource("/api/v1/connections/{slug}/webhook")
                    .get(connections::webhook::get_webhook)
                    .put(connections::webhook::put_webhook),
            )
            .service(resource("/webhooks/stripe").post(webhooks::stripe::platform_event))
            .service(
                resource("/webhooks/stripe/{webhook_id}").post(webhooks::stripe::connection_event),
            )
            .service(resource("/connect/authorize/{slug}").get(connect::authorize::authorize))
            .service(resource("/connect/query/{slug}").get(connect::query::query))
            .service(resource("/connect/oauth/callback/{slug}").get(connect::callback::callback))
            .configure(|config| {
                if let Some(sandbox) = &state.sandbox {
                    config.service(
                        web::scope("/sandbox").configure(|scope| sandbox.configure(scope)),
                    );
                }
            })
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", spec.clone()))
            .default_service(web::to(spa::fallback))
    })
    .shutdown_timeout(shutdown_timeout)
    .client_request_timeout(Duration::from_secs(30))
    .listen(listener)?
    .run();
    Ok(server)
}
