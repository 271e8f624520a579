//! Latency, rate limit and fault injection on `/v1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics_sandbox::{Faults, SandboxConfig};
use common::{config, start, Running, API_KEY};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;

const PATH: &str = "/v1/charges?limit=5";

fn with_faults(faults: Faults) -> SandboxConfig {
    SandboxConfig {
        faults,
        ..config(50)
    }
}

async fn fetch(running: &Running, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = running
        .http
        .get(running.url(path))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_then_recovers() {
    let running = start(SandboxConfig {
        rate_limit_per_sec: Some(5),
        ..config(20)
    })
    .await;
    let responses = futures_join(&running, 20).await;
    let limited: Vec<_> = responses
        .iter()
        .filter(|(status, _, _)| *status == 429)
        .collect();
    let passed = responses
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .count();
    assert!(!limited.is_empty(), "20 requests at once exceed 5/s");
    assert!((5..=7).contains(&passed), "{passed} passed");
    for (_, headers, body) in &limited {
        let seconds: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(seconds >= 1);
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");
    }
    // Unknown keys are refused before they can use anyone's bucket.
    let other = running.get_with("/v1/customers", "sk_test_other").await.0;
    assert_eq!(other, 401);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(fetch(&running, PATH).await.0, 200);
}

/// Fires `n` requests concurrently.
async fn futures_join(
    running: &Running,
    n: usize,
) -> Vec<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let http = running.http.clone();
        let url = running.url(PATH);
        tasks.push(tokio::spawn(async move {
            let response = http.get(url).bearer_auth(API_KEY).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.bytes().await.unwrap().to_vec())
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn error_rate_one_answers_500_api_error() {
    let running = start(with_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    for _ in 0..5 {
        let (status, _, body) = fetch(&running, PATH).await;
        assert_eq!(status, 500);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["type"], "api_error");
    }
}

#[tokio::test]
async fn malformed_bodies_are_not_json() {
    let running = start(with_faults(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let (status, headers, body) = fetch(&running, PATH).await;
    assert_eq!(status, 200);
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&body).is_err());
}

#[tokio::test]
async fn truncated_bodies_are_prefixes_of_the_real_ones() {
    let intact = start(config(50)).await;
    let damaged = start(with_faults(Faults {
        truncated_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let (_, _, full) = fetch(&intact, PATH).await;
    let (status, headers, cut) = fetch(&damaged, PATH).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        cut.len().to_string()
    );
    assert!(serde_json::from_slice::<Value>(&full).is_ok());
    assert!(!cut.is_empty() && cut.len() < full.len());
    assert!(full.starts_with(&cut));
    assert!(serde_json::from_slice::<Value>(&cut).is_err());
}

#[tokio::test]
async fn timeouts_hang_then_answer() {
    let running = start(with_faults(Faults {
        timeout_rate: 1.0,
        timeout: Duration::from_millis(300),
        ..Faults::default()
    }))
    .await;
    let started = Instant::now();
    let (status, _, body) = fetch(&running, PATH).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
}

#[tokio::test]
async fn latency_is_added() {
    let running = start(SandboxConfig {
        latency: Duration::from_millis(150),
        ..config(10)
    })
    .await;
    let started = Instant::now();
    assert_eq!(fetch(&running, PATH).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn bursts_of_429_start_every_nth_request() {
    let running = start(with_faults(Faults {
        rate_limit_burst_every: Some(4),
        rate_limit_burst_len: 2,
        ..Faults::default()
    }))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, headers, _) = fetch(&running, PATH).await;
        if status == 429 {
            assert!(headers.contains_key(RETRY_AFTER));
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429, 429, 200, 200, 429, 429, 200, 200, 429]
    );
}

#[tokio::test]
async fn faults_are_reproducible() {
    let faults = Faults {
        error_rate: 0.3,
        malformed_rate: 0.2,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let running = start(with_faults(faults.clone())).await;
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            let (status, _, body) = fetch(&running, PATH).await;
            outcomes.push((status, serde_json::from_slice::<Value>(&body).is_ok()));
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(|&(status, _)| status == 500));
    assert!(runs[0].iter().any(|&(status, json)| status == 200 && !json));
    assert!(runs[0].iter().any(|&(status, json)| status == 200 && json));
}

#[tokio::test]
async fn the_peak_of_concurrent_requests_is_counted() {
    let running = start(SandboxConfig {
        latency: Duration::from_millis(300),
        ..config(10)
    })
    .await;
    assert_eq!(running.sandbox.peak_concurrent_requests(), 0);
    fetch(&running, PATH).await;
    fetch(&running, PATH).await;
    assert_eq!(
        running.sandbox.peak_concurrent_requests(),
        1,
        "one after the other"
    );
    // Four requests that all wait out the same 300 ms: they overlap.
    let answers = futures_join(&running, 4).await;
    assert!(answers.iter().all(|(status, _, _)| *status == 200));
    assert_eq!(running.sandbox.peak_concurrent_requests(), 4);
}
