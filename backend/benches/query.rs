//! Query benchmark (a bench binary: prints figures).
//!
//! Stores 1,000,000 customers from the sandbox's generator, then measures a 30-day series grouped
//! by currency over HTTP (`/connect/query/demo`), p50 and p99, next to a bare
//! `SELECT ... GROUP BY day, currency` over the same rows run in the same process.
//!
//! `cargo bench -p allmetrics --bench query [-- sqlite|postgres]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics_sandbox::{Generator, ObjectKind};

const NOW: i64 = 1_790_000_000;
const OBJECTS: u64 = 1_000_000;

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn run(database: &str) {
    let common::Bench {
        application,
        repository,
        connection,
        database_url,
        _folder,
        ..
    } = common::start(database, "http://127.0.0.1:9", |_| {}).await;

    // 1M customers, stored the way a backfill stores them.
    let generator = Generator::new(42, OBJECTS, NOW);
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let count = generator.count(ObjectKind::Customer);
    common::store_customers_as_backfilled(&repository, &connection, &generator, now).await;
    println!(
        "{database}: stored {count} customers in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let token = common::login(&client, &base).await;
    let last_day = chrono::DateTime::from_timestamp(NOW, 0)
        .unwrap()
        .date_naive();
    let url = format!(
        "{base}/connect/query/demo?object_name=Customer&operator=count&field_name=currency&end={}&total_days=30",
        last_day.format("%Y-%m-%d")
    );
    let request = || client.get(&url).bearer_auth(&token).send();
    let cold_started = Instant::now();
    let first: serde_json::Value = request().await.unwrap().json().await.unwrap();
    let cold = cold_started.elapsed();
    let records = first["meta"]["records"].as_u64().unwrap();
    let mut http = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let response = request().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.bytes().await.unwrap();
        http.push(started.elapsed());
    }

    // The bare aggregation over the same rows and day buckets (UTC), on a pool of its own.
    let window_end = (NOW.div_euclid(86_400) + 1) * 86_400;
    let window_start = window_end - 30 * 86_400;
    let mut bare = Vec::new();
    let mut bare_records = 0i64;
    if database == "postgres" {
        let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
        for _ in 0..30 {
            let started = Instant::now();
            let rows: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
                "SELECT created / 86400 AS day, data #>> '{currency}' AS grp, COUNT(*) \
                 FROM synced_objects WHERE connection_id = $1 AND object_name = 'Customer' \
                 AND created >= $2 AND created < $3 GROUP BY day, grp",
            )
            .bind(connection.id.0)
            .bind(window_start)
            .bind(window_end)
            .fetch_all(&pool)
            .await
            .unwrap();
            bare.push(started.elapsed());
            bare_records = rows.iter().map(|row| row.2).sum();
        }
    } else {
        let pool = sqlx::SqlitePool::connect(&database_url).await.unwrap();
        for _ in 0..30 {
            let started = Instant::now();
            let rows: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
                "SELECT created / 86400 AS day, json_extract(data, '$.currency') AS grp, \
                 COUNT(*) FROM synced_objects WHERE connection_id = $1 \
                 AND object_name = 'Customer' AND created >= $2 AND created < $3 \
                 GROUP BY day, grp",
            )
            .bind(connection.id.0)
            .bind(window_start)
            .bind(window_end)
            .fetch_all(&pool)
            .await
            .unwrap();
            bare.push(started.elapsed());
            bare_records = rows.iter().map(|row| row.2).sum();
        }
    }
    common::drop_postgres_database(&database_url);
    println!(
        "{database}: 30-day series grouped by currency over {records} records (bare query: \
         {bare_records} records)\n  HTTP: first (uncached) {:.1} ms, p50 {:.2} ms, p99 {:.2} ms \
         (200 requests)\n  bare SELECT ... GROUP BY: p50 {:.1} ms, p99 {:.1} ms (30 runs)",
        ms(cold),
        ms(percentile(&mut http, 0.5)),
        ms(percentile(&mut http, 0.99)),
        ms(percentile(&mut bare, 0.5)),
        ms(percentile(&mut bare, 0.99)),
    );
}

fn main() {
    common::run_on_database(|database| async move { run(&database).await });
}
