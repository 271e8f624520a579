//! Webhook flood benchmark (a bench binary: prints figures).
//!
//! A connection holds 5,000 customers; a series of them is read once, so that it is cached. A
//! probe then reads `/healthz` and that series every 20 ms, first alone (the baseline), then while
//! 10,000 signed Stripe deliveries (500 customers, 20 changes each, shuffled, every tenth sent
//! twice) arrive 32 at a time. It prints p50 and p99 of both probes in both phases, and how many
//! of the series reads were answered from the cache.
//!
//! `cargo bench -p allmetrics --bench flood [-- sqlite|postgres]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics::providers::stripe::webhook;
use allmetrics_sandbox::Generator;
use futures_util::stream::{self, StreamExt};

use common::ms;

const STORED: u64 = 5_000;
const CUSTOMERS: i64 = 500;
const CHANGES: i64 = 20;
const AT_ONCE: usize = 32;
const PROBE_EVERY: Duration = Duration::from_millis(20);
const BASELINE_PROBES: usize = 200;
const SECRET: &str = "whsec_flood_bench_0123456789";
const DAY: i64 = 86_400;

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

/// What the probe saw.
#[derive(Default)]
struct Probed {
    health: Vec<Duration>,
    series: Vec<Duration>,
    /// Series reads answered from the cache (`X-Cache: hit`).
    hits: usize,
}

impl Probed {
    fn line(&mut self, phase: &str) -> String {
        let reads = self.series.len();
        format!(
            "  {phase:<8} /healthz p50 {:>6.2} ms  p99 {:>6.2} ms | cached series p50 {:>6.2} ms  \
             p99 {:>6.2} ms  ({reads} reads, {} from the cache)",
            ms(percentile(&mut self.health, 0.5)),
            ms(percentile(&mut self.health, 0.99)),
            ms(percentile(&mut self.series, 0.5)),
            ms(percentile(&mut self.series, 0.99)),
            self.hits,
        )
    }
}

/// Reads `/healthz` then the series, every `PROBE_EVERY`, until `until` says stop or `limit`
/// rounds are done.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    series_url: &str,
    token: &str,
    limit: usize,
    until: &std::sync::atomic::AtomicBool,
) -> Probed {
    let mut probed = Probed::default();
    while probed.series.len() < limit && !until.load(std::sync::atomic::Ordering::Relaxed) {
        let started = Instant::now();
        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
        health.bytes().await.unwrap();
        probed.health.push(started.elapsed());
        let started = Instant::now();
        let series = client
            .get(series_url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(series.status().as_u16(), 200);
        let hit = series
            .headers()
            .get("x-cache")
            .is_some_and(|value| value == "hit");
        series.bytes().await.unwrap();
        probed.series.push(started.elapsed());
        probed.hits += usize::from(hit);
        tokio::time::sleep(PROBE_EVERY).await;
    }
    probed
}

/// A delivery's body: change `j` of customer `i`.
fn event(i: i64, j: i64, base: i64, now: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": format!("evt_{i}_{j}"), "object": "event", "created": base + j,
        "type": "customer.updated", "api_version": "2023-08-16",
        "data": {"object": {"id": format!("cus_{i}"), "object": "customer",
                            "created": now - 40 * DAY + i, "email": format!("change-{j}"),
                            "currency": "usd"}}
    }))
    .unwrap()
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

    // The stored customers, as a finished backfill leaves them.
    let now = chrono::Utc::now().timestamp();
    let generator = Generator::new(42, STORED, now);
    common::store_customers_as_backfilled(&repository, &connection, &generator, now).await;

    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let token = common::login(&client, &base).await;
    let endpoint: serde_json::Value = client
        .put(format!("{base}/api/v1/connections/demo/webhook"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"secret": SECRET}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = endpoint["url"].as_str().unwrap().to_string();
    let endpoint = format!("{base}{}", endpoint.trim_start_matches(&base));

    let series_url =
        format!("{base}/connect/query/demo?object_name=Customer&operator=count&total_days=60");
    let first = client
        .get(&series_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let first: serde_json::Value = first.json().await.unwrap();
    let records = first["meta"]["records"].as_u64().unwrap();

    let never = std::sync::atomic::AtomicBool::new(false);
    let mut baseline = probe(&client, &base, &series_url, &token, BASELINE_PROBES, &never).await;

    // Change j of customer i happened j seconds after `base_time`, shuffled as in the test.
    let base_time = now - 3_600;
    let mut deliveries: Vec<(i64, i64)> = (0..CUSTOMERS)
        .flat_map(|i| (0..CHANGES).map(move |j| (i, j)))
        .collect();
    deliveries.sort_by_key(|&(i, j)| ((i * 7_919 + j * 104_729) % 10_007, i, j));
    let signed_at = chrono::Utc::now().timestamp();
    let requests: Vec<(Vec<u8>, String)> = deliveries
        .iter()
        .enumerate()
        .flat_map(|(n, &(i, j))| {
            let body = event(i, j, base_time, now);
            let signature = webhook::header(&[SECRET], signed_at, &body);
            let times = if n % 10 == 0 { 2 } else { 1 };
            std::iter::repeat_n((body, signature), times)
        })
        .collect();
    let sent = requests.len();
    let done = std::sync::atomic::AtomicBool::new(false);
    let flood = async {
        let started = Instant::now();
        stream::iter(requests)
            .map(|(body, signature)| {
                let client = &client;
                let endpoint = &endpoint;
                async move {
                    let answer = client
                        .post(endpoint)
                        .header("Content-Type", "application/json")
                        .header("Stripe-Signature", signature)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status().as_u16(), 200);
                    answer.bytes().await.unwrap();
                }
            })
            .buffer_unordered(AT_ONCE)
            .collect::<Vec<()>>()
            .await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        started.elapsed()
    };
    let (mut flooded, took) = tokio::join!(
        probe(&client, &base, &series_url, &token, usize::MAX, &done),
        flood
    );
    let queued = repository
        .queued_changes(connection.id, "Customer", 100_000)
        .await
        .unwrap()
        .len();
    common::drop_postgres_database(&database_url);
    println!(
        "{database}: a cached 60-day series of {records} customers, probed every {} ms\n{}\n{}\n  \
         flood: {sent} deliveries ({} distinct) {AT_ONCE} at a time in {:.1} s ({:.0}/s), \
         {queued} queued",
        PROBE_EVERY.as_millis(),
        baseline.line("alone"),
        flooded.line("flood"),
        deliveries.len(),
        took.as_secs_f64(),
        sent as f64 / took.as_secs_f64(),
    );
}

fn main() {
    common::run_on_database(|database| async move { run(&database).await });
}
