//! The `allmetrics-sandbox` binary starts on a free port, prints where, and serves (Stripe, GA4, Facebook Ads).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Stops the server even when an assertion fails first.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_allmetrics-sandbox"))
        .args([
            "--port",
            "0",
            "--size",
            "25",
            "--seed",
            "7",
            "--api-key",
            "sk_test_cli",
            "--analytics-tokens-per-hour",
            "1",
            "--ads-calls-per-hour",
            "1",
            "--ads-max-range-days",
            "5",
        ])
        .args([
            "--redirect-uri",
            "http://a/cb",
            "--redirect-uri",
            "http://b/cb",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Stopped(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{line}");

    let http = reqwest::Client::new();
    let response = http
        .get(format!("{address}/v1/customers?limit=100"))
        .bearer_auth("sk_test_cli")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    let page = http
        .get(format!("{address}/oauth/authorize?response_type=code&client_id=sandbox_client&redirect_uri=http://b/cb"))
        .send()
        .await
        .unwrap()
        .status();

    let mut reports = Vec::new();
    for _ in 0..2 {
        let report = http
            .post(format!("{address}/v1beta/properties/250001:runReport"))
            .bearer_auth("sk_test_cli")
            .json(&serde_json::json!({
                "dateRanges": [{"startDate": "7daysAgo", "endDate": "today"}],
                "metrics": [{"name": "sessions"}],
            }))
            .send()
            .await
            .unwrap();
        reports.push(report.status().as_u16());
    }

    let mut insights = Vec::new();
    for (account, until) in [("1001", "05"), ("1001", "05"), ("1002", "06")] {
        let response = http
            .get(format!("{address}/v25.0/act_{account}/insights"))
            .query(&[
                ("level", "ad"),
                ("breakdowns", "country"),
                (
                    "time_range",
                    &format!(r#"{{"since":"2025-12-01","until":"2025-12-{until}"}}"#),
                ),
            ])
            .bearer_auth("sk_test_cli")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        insights.push((status, body["error"]["code"].as_u64()));
    }

    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 25);
    assert_eq!(page, 200, "the second --redirect-uri is registered too");
    assert_eq!(reports, [200, 429], "one analytics token per hour");
    assert_eq!(
        insights,
        [(200, None), (400, Some(80_000)), (400, Some(1))],
        "one call per ad account per hour; five days at level ad with a breakdown"
    );
}

#[test]
fn binary_rejects_shares_outside_zero_to_one() {
    let output = Command::new(env!("CARGO_BIN_EXE_allmetrics-sandbox"))
        .args(["--port", "0", "--error-rate", "1.5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("between 0 and 1"));
}
