//! Pages through 1,000,000 generated customers over the HTTP list API (pages of 100, following
//! `starting_after`) against an in-process sandbox on loopback, and reports throughput and peak RSS.
//! Memory must stay flat: objects exist only while their page is being served.
//!
//! `CARGO_TARGET_DIR=/work/target-sandbox cargo bench -p allmetrics-sandbox --bench memory`
//! (`SANDBOX_BENCH_SIZE=N` pages through N customers instead).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use allmetrics_sandbox::{ObjectKind, Sandbox, SandboxConfig};
use serde_json::Value;

const KEY: &str = "sk_test_bench";
const PAGE: usize = 100;
const RSS_LIMIT_MB: f64 = 150.0;

/// A field of /proc/self/status in MiB (VmRSS, VmHWM), or 0 where /proc is unavailable.
fn proc_status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let size: u64 = std::env::var("SANDBOX_BENCH_SIZE")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(size));
}

async fn run(size: u64) {
    let sandbox = Sandbox::new(SandboxConfig {
        size,
        api_key: Some(KEY.to_owned()),
        now: Some(1_767_225_600),
        ..SandboxConfig::default()
    });
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    println!(
        "sandbox: {size} customers, {} charges, {} objects in all (nothing stored)",
        sandbox.generator().count(ObjectKind::Charge),
        ObjectKind::ALL
            .iter()
            .map(|&kind| sandbox.generator().count(kind))
            .sum::<u64>()
    );
    let rss_start = proc_status_mb("VmRSS:");
    println!("RSS at start: {rss_start:.1} MiB");

    let started = Instant::now();
    let mut seen = 0u64;
    let mut pages = 0u64;
    let mut bytes = 0u64;
    let mut cursor: Option<String> = None;
    let mut previous_id = String::from("~"); // sorts after every id
    let mut rss_samples = Vec::new();
    loop {
        let mut url = format!("{base}/v1/customers?limit={PAGE}");
        if let Some(cursor) = &cursor {
            url.push_str("&starting_after=");
            url.push_str(cursor);
        }
        let body = http
            .get(&url)
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        bytes += body.len() as u64;
        let page: Value = serde_json::from_slice(&body).unwrap();
        let data = page["data"].as_array().unwrap();
        for object in data {
            let id = object["id"].as_str().unwrap();
            assert!(id < previous_id.as_str(), "ids must strictly decrease");
            previous_id = id.to_owned();
        }
        seen += data.len() as u64;
        pages += 1;
        if pages.is_multiple_of(1000) {
            rss_samples.push(proc_status_mb("VmRSS:"));
        }
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        cursor = data
            .last()
            .map(|object| object["id"].as_str().unwrap().to_owned());
    }
    let elapsed = started.elapsed();
    assert_eq!(seen, size, "every customer exactly once");

    // Created filters on the 3M charges are binary searches, not scans.
    let window_started = Instant::now();
    let since = 1_767_225_600 - 30 * 86_400;
    let body: Value = http
        .get(format!("{base}/v1/charges?limit=100&created[gte]={since}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let window = window_started.elapsed();
    assert_eq!(body["data"].as_array().unwrap().len(), 100);

    let peak = proc_status_mb("VmHWM:");
    let objects_per_second = seen as f64 / elapsed.as_secs_f64();
    println!(
        "paged {seen} customers in {pages} pages of {PAGE}: {:.2} s, {objects_per_second:.0} objects/s, {:.1} MiB of JSON",
        elapsed.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    let shown: Vec<String> = rss_samples.iter().map(|mb| format!("{mb:.1}")).collect();
    println!("RSS every 1000 pages (MiB): [{}]", shown.join(", "));
    println!(
        "first page of charges created in the last 30 days: {:.1} ms",
        duration_ms(window)
    );
    println!("peak RSS (VmHWM): {peak:.1} MiB (limit {RSS_LIMIT_MB} MiB)");
    assert!(
        peak < RSS_LIMIT_MB,
        "peak RSS {peak:.1} MiB is over {RSS_LIMIT_MB} MiB"
    );
}

fn duration_ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
