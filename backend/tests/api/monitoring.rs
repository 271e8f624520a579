//! Prometheus metrics on their own port: families, and label values that are route patterns.

use allmetrics::sync;
use allmetrics_sandbox::{Faults, Sandbox, SandboxConfig};

use crate::fake_provider::VALID_API_KEY;
use crate::helpers::{spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(the_metrics_port_serves_every_family_labelled_by_route_pattern);

async fn scrape(app: &TestApp) -> String {
    let address = app.metrics_address.as_ref().expect("metrics are on");
    let response = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// The value of the sample named exactly `sample` (labels included).
fn value(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// The values of `label` on the samples of `family`.
fn label_values(text: &str, family: &str, label: &str) -> Vec<String> {
    let prefix = format!("{family}{{");
    let key = format!("{label}=\"");
    text.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|labels| {
            let start = labels.find(&key)? + key.len();
            let end = labels[start..].find('"')?;
            Some(labels[start..start + end].to_string())
        })
        .collect()
}

async fn the_metrics_port_serves_every_family_labelled_by_route_pattern(kind: DbKind) {
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 7,
        size: 10,
        api_key: Some(VALID_API_KEY.into()),
        now: Some(1_790_000_000),
        // Some 500s, retried.
        faults: Faults {
            error_rate: 0.3,
            ..Faults::default()
        },
        ..Default::default()
    });
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert(
            "demo".into(),
            allmetrics::configuration::ProviderSettings {
                api_base: Some(format!("http://127.0.0.1:{port}")),
                ..Default::default()
            },
        );
    })
    .await;
    assert_ne!(app.metrics_address.as_deref(), Some(app.address.as_str()));

    // Some traffic: a sync, a chart read twice, requests with ids in their paths, a miss.
    let (token, connection) = app
        .sign_up_connected("ann@example.com", VALID_API_KEY)
        .await;
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    app.run_syncs().await;
    let params = [
        ("object_name", "Customer"),
        ("operator", "count"),
        ("field_name", "currency"),
        ("end", "2026-09-20"),
    ];
    crate::query::series(&app, &token, &params).await;
    crate::query::series(&app, &token, &params).await;
    for id in ["918273", "918274"] {
        let response = app
            .get_authed(&format!("/api/v1/metrics/{id}"), &token)
            .await;
        assert_eq!(response.status().as_u16(), 404);
    }
    app.get("/no/such/page/4242").await;

    let text = scrape(&app).await;
    for (family, kind) in [
        ("allmetrics_http_requests_total", "counter"),
        ("allmetrics_http_request_duration_seconds", "histogram"),
        ("allmetrics_db_pool_connections", "gauge"),
        ("allmetrics_db_pool_idle_connections", "gauge"),
        ("allmetrics_db_pool_max_connections", "gauge"),
        ("allmetrics_sync_requests_total", "counter"),
        ("allmetrics_sync_request_errors_total", "counter"),
        ("allmetrics_sync_objects_stored_total", "counter"),
        ("allmetrics_sync_jobs_due", "gauge"),
        ("allmetrics_sync_jobs_running", "gauge"),
        ("allmetrics_sync_queue_lag_seconds", "gauge"),
        ("allmetrics_series_cache_hits_total", "counter"),
        ("allmetrics_series_cache_misses_total", "counter"),
        ("allmetrics_series_cache_entries", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "{family} is missing:\n{text}"
        );
    }

    // Routes are patterns: no id, no unknown path, a bounded set.
    let routes = label_values(&text, "allmetrics_http_requests_total", "route");
    assert!(
        routes.iter().any(|route| route == "/api/v1/metrics/{id}"),
        "{routes:?}"
    );
    assert!(
        routes.iter().any(|route| route == "/connect/query/{slug}"),
        "{routes:?}"
    );
    assert!(
        routes.iter().any(|route| route == "unmatched"),
        "{routes:?}"
    );
    assert!(
        routes
            .iter()
            .all(|route| !route.contains("918273") && !route.contains("4242")),
        "{routes:?}"
    );
    assert_eq!(
        value(
            &text,
            "allmetrics_http_requests_total{method=\"GET\",route=\"/api/v1/metrics/{id}\",status=\"404\"}"
        ),
        Some(2.0)
    );
    assert!(label_values(
        &text,
        "allmetrics_http_request_duration_seconds_bucket",
        "route"
    )
    .iter()
    .any(|route| route == "/api/v1/metrics/{id}"));

    // The sync's requests and objects, per provider.
    let stored: f64 = text
        .lines()
        .filter(|line| line.starts_with("allmetrics_sync_objects_stored_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(stored >= 10.0, "{text}");
    assert!(!label_values(&text, "allmetrics_sync_requests_total", "provider").is_empty());
    assert!(
        label_values(&text, "allmetrics_sync_request_errors_total", "reason")
            .contains(&"transient".to_string()),
        "{text}"
    );
    assert_eq!(value(&text, "allmetrics_sync_jobs_running"), Some(0.0));
    assert_eq!(value(&text, "allmetrics_sync_queue_lag_seconds"), Some(0.0));

    // The second read of the chart came from the cache.
    assert_eq!(
        value(&text, "allmetrics_series_cache_hits_total"),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "allmetrics_series_cache_misses_total"),
        Some(1.0)
    );
    assert_eq!(value(&text, "allmetrics_series_cache_entries"), Some(1.0));
    assert!(value(&text, "allmetrics_db_pool_connections").unwrap() >= 1.0);

    // The dashboard charts only what is served.
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/grafana/allmetrics.json"
    ))
    .unwrap();
    serde_json::from_str::<serde_json::Value>(&dashboard).unwrap();
    for name in dashboard.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if let Some(name) = name.strip_prefix("allmetrics_") {
            let family = name.trim_end_matches("_bucket");
            assert!(
                text.contains(&format!("# TYPE allmetrics_{family} ")),
                "the dashboard charts allmetrics_{name}, which is not served"
            );
        }
    }

    // The API's port does not serve them.
    let api = app.get("/metrics").await.text().await.unwrap();
    assert!(!api.contains("allmetrics_http_requests_total"));
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(DbKind::Sqlite, |settings| {
        settings.application.metrics_enabled = false;
    })
    .await;
    assert_eq!(app.metrics_address, None);
    assert_eq!(app.get_healthz().await.status().as_u16(), 200);
}
