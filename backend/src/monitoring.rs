//! Prometheus metrics, served in Prometheus' text format on a port of their own (`GET /metrics`):
//! HTTP requests by route pattern (never the raw path, so that the label values stay few) and
//! status, the database pool, the sync engine's requests, errors and stored objects per provider,
//! the job queue, and the series cache. Each server has its own registry.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::db::Repository;
use crate::providers::reader::FetchError;

/// The label of requests that matched no route (the web app's pages, unknown paths).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The series cache's instruments (the cache counts, the registry reports).
#[derive(Clone)]
pub struct CacheInstruments {
    pub hits: IntCounter,
    pub misses: IntCounter,
    pub entries: IntGauge,
}

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    sync_requests: IntCounterVec,
    sync_request_errors: IntCounterVec,
    sync_objects: IntCounterVec,
    jobs_due: IntGauge,
    jobs_running: IntGauge,
    queue_lag: IntGauge,
    cache: CacheInstruments,
}

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(counter.clone()))?;
    Ok(counter)
}

fn counter(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntCounter> {
    let counter = IntCounter::new(name, help)?;
    registry.register(Box::new(counter.clone()))?;
    Ok(counter)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let gauge = IntGauge::new(name, help)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("allmetrics".into()), None)?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method, route pattern and status.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(http_duration.clone()))?;
        Ok(Self {
            http_requests: counter_vec(
                &registry,
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
                &["method", "route", "status"],
            )?,
            http_duration,
            pool_connections: gauge(
                &registry,
                "db_pool_connections",
                "Database connections open (idle or in use).",
            )?,
            pool_idle: gauge(
                &registry,
                "db_pool_idle_connections",
                "Database connections open and idle.",
            )?,
            pool_max: gauge(
                &registry,
                "db_pool_max_connections",
                "The most database connections the pool opens.",
            )?,
            sync_requests: counter_vec(
                &registry,
                "sync_requests_total",
                "Requests the sync engine made to providers, retries included.",
                &["provider"],
            )?,
            sync_request_errors: counter_vec(
                &registry,
                "sync_request_errors_total",
                "Provider requests of the sync engine that failed, by reason.",
                &["provider", "reason"],
            )?,
            sync_objects: counter_vec(
                &registry,
                "sync_objects_stored_total",
                "Objects the sync engine stored (new or updated).",
                &["provider"],
            )?,
            jobs_due: gauge(
                &registry,
                "sync_jobs_due",
                "Sync jobs due and waiting for a worker.",
            )?,
            jobs_running: gauge(
                &registry,
                "sync_jobs_running",
                "Sync jobs leased to a worker (on any replica).",
            )?,
            queue_lag: gauge(
                &registry,
                "sync_queue_lag_seconds",
                "How long the oldest waiting sync job has been due (0: none waits).",
            )?,
            cache: CacheInstruments {
                hits: counter(
                    &registry,
                    "series_cache_hits_total",
                    "Series answered from the cache.",
                )?,
                misses: counter(
                    &registry,
                    "series_cache_misses_total",
                    "Series computed because the cache did not hold them.",
                )?,
                entries: gauge(
                    &registry,
                    "series_cache_entries",
                    "Series held in the cache.",
                )?,
            },
            registry,
        })
    }

    pub fn cache_instruments(&self) -> CacheInstruments {
        self.cache.clone()
    }

    /// One answered HTTP request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration
            .with_label_values(&labels)
            .observe(seconds);
    }

    /// One request of the sync engine to a provider, and how it failed.
    pub fn sync_request(&self, provider: &str, error: Option<&FetchError>) {
        self.sync_requests.with_label_values(&[provider]).inc();
        let reason = match error {
            None => return,
            Some(FetchError::RateLimited { .. }) => "rate_limited",
            Some(FetchError::Unauthorized) => "unauthorized",
            Some(FetchError::Refused { .. }) => "refused",
            Some(FetchError::Transient(_)) => "transient",
            Some(FetchError::RangeTooLarge(_)) => "range_too_large",
        };
        self.sync_request_errors
            .with_label_values(&[provider, reason])
            .inc();
    }

    /// Objects of one page stored.
    pub fn objects_stored(&self, provider: &str, count: usize) {
        self.sync_objects
            .with_label_values(&[provider])
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// Reads what is measured at scrape time: the pool, and the job queue (left as it was when
    /// the database does not answer).
    pub async fn refresh(&self, repository: &dyn Repository, max_connections: u32) {
        let pool = repository.pool_status();
        self.pool_connections.set(i64::from(pool.size));
        self.pool_idle
            .set(i64::try_from(pool.idle).unwrap_or(i64::MAX));
        self.pool_max.set(i64::from(max_connections));
        let now = chrono::Utc::now().timestamp();
        match repository.sync_queue(now).await {
            Ok(queue) => {
                self.jobs_due.set(queue.due);
                self.jobs_running.set(queue.running);
                self.queue_lag
                    .set(queue.oldest_due.map_or(0, |due| (now - due).max(0)));
            }
            Err(error) => {
                tracing::warn!(error = %error, "could not read the sync queue for metrics")
            }
        }
    }

    /// Everything registered, in Prometheus' text format.
    pub fn encode(&self) -> prometheus::Result<String> {
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        String::from_utf8(text).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

/// Counts every request and times it, labelled with the route pattern it matched.
pub async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = request
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|state| state.metrics.clone());
    // Known methods only: a client could send any token.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let pattern_before = request.match_pattern();
    let result = next.call(request).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(response) => (
                response.request().match_pattern(),
                response.status().as_u16(),
            ),
            Err(error) => (
                pattern_before,
                error.as_response_error().status_code().as_u16(),
            ),
        };
        metrics.observe_request(
            method,
            route.as_deref().unwrap_or(UNMATCHED_ROUTE),
            status,
            started.elapsed().as_secs_f64(),
        );
    }
    result
}
