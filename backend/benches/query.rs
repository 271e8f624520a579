//! Query benchmark (a bench binary: prints figures).
//!
//! Stores 1,000,000 charges from the sandbox's generator (full Stripe JSON, two years), then
//! prints, in the same run, on the same table and index:
//! - the bare `SELECT day, currency, SUM(amount) ... GROUP BY` over 366 days (the baseline);
//! - a saved metric's 366-day series, uncached (new data stored first, a window not asked before),
//!   read from its rollup;
//! - a dashboard of ten such metrics, uncached, asked at once as the web app does;
//! - the same query ad hoc (from the objects), uncached;
//! - the server's peak memory during 200 `field_name=id` queries over 366 days, 4 at a time,
//!   each with another `end`, against its memory at rest.
//!
//! `cargo bench -p allmetrics --bench query [-- sqlite|postgres]` (`BENCH_ID_QUERIES=N` runs
//! fewer of the last part, `BENCH_CUSTOMERS=N` stores three charges per customer).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics::domain::StoredObject;
use allmetrics_sandbox::{Generator, ObjectKind};

use common::{median, ms};

const NOW: i64 = 1_790_000_000;
/// Three charges per customer over the two years.
const CUSTOMERS: u64 = 333_334;
const DAY: i64 = 86_400;

/// The ten metrics of the dashboard: every operator of charge amounts, by currency and by
/// status. The first is the one timed alone.
fn metrics() -> Vec<serde_json::Value> {
    let mut metrics = Vec::new();
    for group in ["currency", "status"] {
        for operator in ["sum", "count", "average", "min", "max"] {
            metrics.push(serde_json::json!({
                "name": format!("{operator} of charge amount by {group}"),
                "source": "demo",
                "object_name": "Charge",
                "operator": operator,
                "field_name": group,
                "value_field": "amount",
            }));
        }
    }
    metrics
}

async fn run(database: &str) {
    let common::Bench {
        application,
        repository,
        connection,
        database_url,
        _folder,
        ..
    } = common::start(database, "http://127.0.0.1:9", |settings| {
        // The memory part asks 4 at a time as one user, and lets every query finish.
        settings.query.computations_per_user = 4;
        settings.database.statement_timeout_ms = 120_000;
    })
    .await;

    let customers = std::env::var("BENCH_CUSTOMERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CUSTOMERS);
    let generator = Generator::new(42, customers, NOW);
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let count = generator.count(ObjectKind::Charge);
    common::store_as_backfilled(
        &repository,
        &connection,
        &generator,
        (ObjectKind::Charge, "Charge"),
        now,
    )
    .await;
    println!(
        "{database}: stored {count} charges in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    // Idle connections are dropped before the server's keep-alive (5 s) closes them: a request
    // sent on one the server has just closed is reset.
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let token = common::login(&client, &base).await;
    let last_day = chrono::DateTime::from_timestamp(NOW, 0)
        .unwrap()
        .date_naive();

    // The bare aggregation (UTC days), on a pool of its own, over 366 days.
    let window_end = (NOW.div_euclid(DAY) + 1) * DAY;
    let window_start = window_end - 366 * DAY;
    let mut bare = Vec::new();
    let mut bare_records = 0i64;
    for _ in 0..3 {
        let started = Instant::now();
        let rows: Vec<(i64, Option<String>, i64, Option<f64>)> = if database == "postgres" {
            let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
            sqlx::query_as(
                "SELECT created / 86400 AS day, data ->> 'currency' AS grp, COUNT(*), \
                 SUM((data ->> 'amount')::double precision) FROM synced_objects \
                 WHERE connection_id = $1 AND object_name = 'Charge' AND created >= $2 \
                 AND created < $3 GROUP BY day, grp",
            )
            .bind(connection.id.0)
            .bind(window_start)
            .bind(window_end)
            .fetch_all(&pool)
            .await
            .unwrap()
        } else {
            let pool = sqlx::SqlitePool::connect(&database_url).await.unwrap();
            sqlx::query_as(
                "SELECT created / 86400 AS day, json_extract(data, '$.currency') AS grp, \
                 COUNT(*), CAST(SUM(json_extract(data, '$.amount')) AS REAL) FROM synced_objects \
                 WHERE connection_id = $1 AND object_name = 'Charge' AND created >= $2 \
                 AND created < $3 GROUP BY day, grp",
            )
            .bind(connection.id.0)
            .bind(window_start)
            .bind(window_end)
            .fetch_all(&pool)
            .await
            .unwrap()
        };
        bare.push(started.elapsed());
        bare_records = rows.iter().map(|row| row.2).sum();
    }
    let bare = median(&mut bare);

    // Ten saved metrics; their rollups are built in the background.
    let started = Instant::now();
    let mut ids = Vec::new();
    for metric in metrics() {
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/metrics"))
            .bearer_auth(&token)
            .json(&metric)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(
            created["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("metric not saved: {created}")),
        );
    }
    let series_url = |id: i64, end: chrono::NaiveDate| {
        format!(
            "{base}/api/v1/metrics/{id}/series?total_days=366&end={}",
            end.format("%Y-%m-%d")
        )
    };
    let mut built = Vec::new();
    for id in &ids {
        loop {
            let response = client
                .get(series_url(*id, last_day))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let from = response
                .headers()
                .get("x-computed-from")
                .map(|value| value.to_str().unwrap().to_string());
            assert_eq!(response.status().as_u16(), 200);
            if from.as_deref() == Some("rollup") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        built.push(started.elapsed());
    }
    let rollups_built = built.iter().max().copied().unwrap_or_default();

    // New charges arrive (an incremental sync's page), then a window not asked before.
    let mut arrivals = 0u64;
    let mut new_data = || {
        arrivals += 1;
        let page: Vec<StoredObject> = (0..10)
            .map(|i| {
                let mut data = generator.object(ObjectKind::Charge, i);
                let id = format!("ch_bench_{arrivals}_{i}");
                data["id"] = serde_json::json!(id);
                data["created"] = serde_json::json!(NOW - 3600);
                StoredObject {
                    object_id: id,
                    created: NOW - 3600,
                    data,
                }
            })
            .collect();
        page
    };
    let mut day_offset = 0i64;
    let mut fresh_end = || {
        day_offset += 1;
        last_day - chrono::Duration::days(day_offset)
    };
    let mut one = Vec::new();
    let mut records = 0;
    for _ in 0..7 {
        common::store_incremental(&repository, &connection, "Charge", &new_data()).await;
        let url = series_url(ids[0], fresh_end());
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.headers()["x-computed-from"], "rollup");
        let body: serde_json::Value = response.json().await.unwrap();
        one.push(started.elapsed());
        records = body["meta"]["records"].as_u64().unwrap();
    }
    let one = median(&mut one);

    let mut dashboard = Vec::new();
    for _ in 0..5 {
        common::store_incremental(&repository, &connection, "Charge", &new_data()).await;
        let end = fresh_end();
        let started = Instant::now();
        let requests = ids.iter().map(|id| {
            let request = client.get(series_url(*id, end)).bearer_auth(&token).send();
            async move {
                let response = request.await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                assert_eq!(status, 200, "{body}");
            }
        });
        futures_util::future::join_all(requests).await;
        dashboard.push(started.elapsed());
    }
    let dashboard = median(&mut dashboard);

    let mut ad_hoc = Vec::new();
    for _ in 0..3 {
        common::store_incremental(&repository, &connection, "Charge", &new_data()).await;
        let url = format!(
            "{base}/connect/query/demo?object_name=Charge&operator=sum&value_field=amount&field_name=currency&total_days=366&end={}",
            fresh_end().format("%Y-%m-%d")
        );
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.headers()["x-computed-from"], "objects");
        response.bytes().await.unwrap();
        ad_hoc.push(started.elapsed());
    }
    let ad_hoc = median(&mut ad_hoc);

    // Memory: one group per record, 366 days, 4 at a time, each with another `end`.
    let queries: usize = std::env::var("BENCH_ID_QUERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = common::rss_mib();
    common::reset_peak_rss();
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::new();
    let ends: Vec<chrono::NaiveDate> = (0..queries).map(|_| fresh_end()).collect();
    for chunk in ends.chunks(4) {
        let requests = chunk.iter().map(|end| {
            let request = client
                .get(format!(
                    "{base}/connect/query/demo?object_name=Charge&operator=count&field_name=id&total_days=366&end={}",
                    end.format("%Y-%m-%d")
                ))
                .bearer_auth(&token)
                .send();
            async move {
                let response = request.await.unwrap();
                let status = response.status().as_u16();
                response.bytes().await.unwrap();
                status
            }
        });
        for status in futures_util::future::join_all(requests).await {
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    let id_queries = started.elapsed();
    let peak = common::peak_rss_mib();
    common::drop_postgres_database(&database_url);

    println!(
        "{database}: 366 days of charges ({records} records in the metric's window, {bare_records} \
         in the bare query's)\n  \
         bare SELECT day, currency, SUM(amount) ... GROUP BY: {:.1} ms (median of 3)\n  \
         ten rollups built (first charts from them) {:.1} s after the metrics were saved\n  \
         saved metric, uncached: {:.1} ms (median of 7) = bare / {:.1}\n  \
         dashboard of ten metrics, uncached, at once: {:.1} ms (median of 5) = {:.2} x one metric\n  \
         ad hoc (from the objects), uncached: {:.1} ms (median of 3) = {:.2} x bare\n  \
         {queries} queries grouped by id, 4 at a time: {:.0} s, answers {statuses:?}; \
         RSS at rest {idle:.0} MiB, peak {peak:.0} MiB (+{:.0} MiB)",
        ms(bare),
        rollups_built.as_secs_f64(),
        ms(one),
        bare.as_secs_f64() / one.as_secs_f64(),
        ms(dashboard),
        dashboard.as_secs_f64() / one.as_secs_f64(),
        ms(ad_hoc),
        ad_hoc.as_secs_f64() / bare.as_secs_f64(),
        id_queries.as_secs_f64(),
        peak - idle,
    );
}

fn main() {
    common::run_on_database(|database| async move { run(&database).await });
}
