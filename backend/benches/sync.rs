//! Sync benchmark (a bench binary: prints figures, asserts nothing about time).
//!
//! 1. Throughput: the sandbox answers at most 25 requests/s per token with 100 ms per request,
//!    like Stripe in test mode; pages hold 100 objects, so no client can exceed 25 x 100 = 2,500
//!    objects/s. Prints objects/s against that bound.
//! 2. One object: the same bound when a single object (the charges) holds the whole history, so
//!    that only its time windows, read at once, can keep the rate busy.
//! 3. Memory: syncs 1,000,000 customers (no latency, no rate limit) and prints the peak RSS, in a
//!    process of its own (the peak is the whole process's).
//!
//! `cargo bench -p allmetrics --bench sync [-- sqlite|postgres] [throughput|one-object|memory]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics::sync::{self, SyncContext};
use allmetrics_sandbox::{Sandbox, SandboxConfig};

const NOW: i64 = 1_790_000_000;

fn sandbox(size: u64, latency: Duration, rate: Option<u32>) -> (Sandbox, String) {
    let sandbox = Sandbox::new(SandboxConfig {
        size,
        api_key: Some("sk_test_bench".into()),
        latency,
        rate_limit_per_sec: rate,
        now: Some(NOW),
        ..Default::default()
    });
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    (sandbox, format!("http://127.0.0.1:{port}"))
}

/// The requests a sync sent, against the fewest that could fetch these objects.
fn requests(sandbox: &Sandbox, objects: i64) -> String {
    format!(
        "{} requests for {} pages of objects, at most {} at once",
        sandbox.requests_seen(),
        (objects + 99) / 100,
        sandbox.peak_concurrent_requests()
    )
}

async fn total_objects(bench: &common::Bench) -> i64 {
    let mut total = 0;
    for job in bench
        .repository
        .sync_jobs(bench.connection.id)
        .await
        .unwrap()
    {
        total += bench
            .repository
            .count_synced_objects(bench.connection.id, &job.object_name)
            .await
            .unwrap();
    }
    total
}

/// Syncs the connection's enabled objects to the end (then drops a PostgreSQL database): the
/// objects stored and the seconds taken.
async fn sync_all(bench: &common::Bench) -> (i64, f64) {
    let services = bench.application.state().services();
    sync::schedule(&services, &bench.connection).await.unwrap();
    let context = SyncContext::new(services);
    let started = Instant::now();
    sync::run_until_idle(&context).await;
    let elapsed = started.elapsed().as_secs_f64();
    let objects = total_objects(bench).await;
    common::drop_postgres_database(&bench.database_url);
    (objects, elapsed)
}

async fn throughput(database: &str) {
    let (sandbox, api_base) = sandbox(4_000, Duration::from_millis(100), Some(25));
    let bench = common::start(database, &api_base, |settings| {
        settings.sync.requests_per_sec = Some(25);
        settings.sync.max_concurrent_jobs = 11;
    })
    .await;
    let (objects, elapsed) = sync_all(&bench).await;
    let rate = objects as f64 / elapsed;
    println!(
        "throughput ({database}): {objects} objects in {elapsed:.1} s = {rate:.0} objects/s, \
         {:.1}% of the 2,500 objects/s bound (25 req/s x 100 objects, 100 ms per request); {}",
        rate / 2_500.0 * 100.0,
        requests(&sandbox, objects)
    );
}

/// `max_windows` 1 is a single cursor walk: the comparison.
async fn one_object(database: &str, max_windows: usize) {
    let (sandbox, api_base) = sandbox(8_000, Duration::from_millis(100), Some(25));
    let bench = common::start(database, &api_base, |settings| {
        settings.sync.requests_per_sec = Some(25);
        settings.sync.max_windows_per_connection = max_windows;
    })
    .await;
    common::only(&bench, "Charge").await;
    let (objects, elapsed) = sync_all(&bench).await;
    let rate = objects as f64 / elapsed;
    println!(
        "one object ({database}, max_windows_per_connection = {max_windows}): {objects} charges in \
         {elapsed:.1} s = {rate:.0} objects/s, {:.1}% of the 2,500 objects/s bound; {}",
        rate / 2_500.0 * 100.0,
        requests(&sandbox, objects)
    );
}

async fn memory(database: &str) {
    let (sandbox, api_base) = sandbox(1_000_000, Duration::ZERO, None);
    let bench = common::start(database, &api_base, |settings| {
        settings.sync.requests_per_sec = Some(100_000);
    })
    .await;
    // Only customers: 1,000,000 of them.
    common::only(&bench, "Customer").await;
    let before = common::peak_rss_mib();
    let (objects, elapsed) = sync_all(&bench).await;
    println!(
        "memory ({database}): synced {objects} objects in {elapsed:.0} s ({:.0} objects/s); \
         peak RSS {:.1} MiB (before the sync: {before:.1} MiB; includes the in-process sandbox); \
         {}",
        objects as f64 / elapsed,
        common::peak_rss_mib(),
        requests(&sandbox, objects)
    );
}

fn main() {
    let database = std::env::args()
        .skip(1)
        .find(|arg| arg == "sqlite" || arg == "postgres")
        .unwrap_or_else(|| "sqlite".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Named phases run here; none named runs them all, the memory phase in a fresh process of its
    // own: the peak RSS is the whole process's, and the earlier phases' would count in it.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| ["throughput", "one-object", "memory"].contains(&arg.as_str()))
        .collect();
    let all = named.is_empty();
    let run = |phase: &str| all || named.iter().any(|p| p == phase);
    runtime.block_on(async {
        if run("throughput") {
            throughput(&database).await;
        }
        if run("one-object") {
            one_object(&database, 1).await;
            one_object(&database, 8).await;
        }
        if run("memory") && !all {
            memory(&database).await;
        }
    });
    if all {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([database.as_str(), "memory"])
            .status()
            .unwrap();
        assert!(status.success(), "the memory phase failed: {status}");
    }
}
