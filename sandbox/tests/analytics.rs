//! The Google Analytics 4 API under `/v1beta`: Admin API shapes, `runReport` aggregation and paging, errors,
//! scopes, quotas and knobs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use allmetrics_sandbox::{Faults, Sandbox, SandboxConfig};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{config, start, Running, API_KEY, NOW, REDIRECT_URI};
use reqwest::header::{LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::Url;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const STORE: &str = "250001";
const APP: &str = "250002";
const TOKYO: &str = "250003";
const ANALYTICS_SCOPE: &str = "https://www.googleapis.com/auth/analytics.readonly";
const DAY: i64 = 86_400;

fn run_report_path(property: &str) -> String {
    format!("/v1beta/properties/{property}:runReport")
}

/// `POST path` with `key` and a JSON body: the status, the headers and the parsed body.
async fn post_with(
    running: &Running,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = running
        .http
        .post(running.url(path))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

async fn report(running: &Running, property: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = post_with(running, &run_report_path(property), API_KEY, &body).await;
    (status, body)
}

/// A report that must succeed.
async fn ok_report(running: &Running, property: &str, body: Value) -> Value {
    let (status, body) = report(running, property, body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "analyticsData#runReport");
    body
}

fn request(start: &str, end: &str, dimensions: &[&str], metrics: &[&str]) -> Value {
    json!({
        "dateRanges": [{"startDate": start, "endDate": end}],
        "dimensions": dimensions.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "metrics": metrics.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
    })
}

/// Each row as (dimension values, metric values).
fn rows(body: &Value) -> Vec<(Vec<String>, Vec<String>)> {
    let strings = |values: &Value| -> Vec<String> {
        values
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value["value"].as_str().unwrap().to_owned())
            .collect()
    };
    body.get("rows")
        .map(|rows| {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    (
                        strings(&row["dimensionValues"]),
                        strings(&row["metricValues"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn int(text: &str) -> u64 {
    text.parse().unwrap()
}

/// A decimal amount with exactly `decimals` decimals, in minor units.
fn minor_units(text: &str, decimals: usize) -> u64 {
    match text.split_once('.') {
        Some((whole, fraction)) => {
            assert_eq!(fraction.len(), decimals, "{text}");
            int(whole) * 10u64.pow(decimals as u32) + int(fraction)
        }
        None => {
            assert_eq!(decimals, 0, "{text}");
            int(text)
        }
    }
}

fn assert_google_error(body: &Value, code: u16, status: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn account_summaries_and_properties_have_google_shapes() {
    let running = start(config(50)).await;
    let (status, summaries) = running.get("/v1beta/accountSummaries").await;
    assert_eq!(status, 200, "{summaries}");
    assert!(summaries.get("nextPageToken").is_none());
    let accounts = summaries["accountSummaries"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0],
        json!({
            "name": "accountSummaries/1000",
            "account": "accounts/1000",
            "displayName": "Demo Company",
            "propertySummaries": [
                {"property": "properties/250001", "displayName": "Demo Web Store",
                 "propertyType": "PROPERTY_TYPE_ORDINARY", "parent": "accounts/1000"},
                {"property": "properties/250002", "displayName": "Demo Mobile App",
                 "propertyType": "PROPERTY_TYPE_ORDINARY", "parent": "accounts/1000"},
            ],
        })
    );
    assert_eq!(accounts[1]["displayName"], "Demo Japan");
    assert_eq!(
        accounts[1]["propertySummaries"][0]["property"],
        "properties/250003"
    );

    let (_, first) = running.get("/v1beta/accountSummaries?pageSize=1").await;
    assert_eq!(first["accountSummaries"].as_array().unwrap().len(), 1);
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) = running
        .get(&format!(
            "/v1beta/accountSummaries?pageSize=1&pageToken={token}"
        ))
        .await;
    assert_eq!(second["accountSummaries"][0], accounts[1]);
    assert!(second.get("nextPageToken").is_none());

    let (status, store) = running.get("/v1beta/properties/250001").await;
    assert_eq!(status, 200);
    assert_eq!(
        store,
        json!({
            "name": "properties/250001",
            "propertyType": "PROPERTY_TYPE_ORDINARY",
            "createTime": "2024-11-27T00:00:00Z",
            "updateTime": "2024-11-28T00:00:00Z",
            "parent": "accounts/1000",
            "displayName": "Demo Web Store",
            "industryCategory": "SHOPPING",
            "timeZone": "America/Los_Angeles",
            "currencyCode": "USD",
            "serviceLevel": "GOOGLE_ANALYTICS_STANDARD",
            "account": "accounts/1000",
        })
    );
    let (_, tokyo) = running.get("/v1beta/properties/250003").await;
    assert_eq!(
        (&tokyo["timeZone"], &tokyo["currencyCode"]),
        (&json!("Asia/Tokyo"), &json!("JPY"))
    );
    let (status, missing) = running.get("/v1beta/properties/999").await;
    assert_eq!(status, 404);
    assert_google_error(&missing, 404, "NOT_FOUND");

    let properties = running.sandbox.analytics_properties();
    let summary: Vec<_> = properties
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.account_id.as_str(),
                p.currency.as_str(),
                p.utc_offset_seconds,
                p.first_date.as_str(),
                p.last_date.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (STORE, "1000", "USD", -8 * 3600, "2024-11-26", "2025-12-31"),
            (APP, "1000", "EUR", 3600, "2025-09-03", "2026-01-01"),
            (TOKYO, "1001", "JPY", 9 * 3600, "2025-11-02", "2026-01-01"),
        ]
    );
    assert_eq!(properties[0].create_time, NOW - 400 * DAY);
    assert_eq!(properties[2].display_name, "Demo Tokyo Shop");
    assert_eq!(properties[2].time_zone, "Asia/Tokyo");
}

#[tokio::test]
async fn offset_pages_concatenate_to_the_whole_report() {
    let running = start(config(50)).await;
    let whole_request = request(
        "2025-12-01",
        "2025-12-30",
        &["date", "deviceCategory"],
        &["sessions", "activeUsers", "bounceRate"],
    );
    let whole = ok_report(&running, STORE, whole_request.clone()).await;
    let all_rows = rows(&whole);
    let row_count = whole["rowCount"].as_u64().unwrap() as usize;
    assert_eq!(row_count, all_rows.len());
    assert!(row_count > 60, "30 days of 2 or 3 devices: {row_count}");
    assert_eq!(
        whole["dimensionHeaders"],
        json!([{"name": "date"}, {"name": "deviceCategory"}])
    );
    assert_eq!(
        whole["metricHeaders"],
        json!([{"name": "sessions", "type": "TYPE_INTEGER"},
               {"name": "activeUsers", "type": "TYPE_INTEGER"},
               {"name": "bounceRate", "type": "TYPE_FLOAT"}])
    );
    // Date ascending, then device.
    let keys: Vec<&Vec<String>> = all_rows.iter().map(|(dims, _)| dims).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(all_rows[0].0[0], "20251201");
    assert_eq!(all_rows.last().unwrap().0[0], "20251230");

    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let mut page_request = whole_request.clone();
        page_request["offset"] = json!(offset.to_string());
        page_request["limit"] = json!(7);
        let page = ok_report(&running, STORE, page_request).await;
        assert_eq!(page["rowCount"].as_u64().unwrap() as usize, row_count);
        let page_rows = rows(&page);
        if page_rows.is_empty() {
            assert!(page.get("rows").is_none(), "an empty page has no rows key");
            break;
        }
        assert!(page_rows.len() <= 7);
        paged.extend(page_rows);
        offset += 7;
    }
    assert_eq!(paged, all_rows);
}

#[tokio::test]
async fn additive_metrics_add_up_over_a_breakdown_but_users_do_not() {
    let running = start(config(50)).await;
    let metrics = ["sessions", "screenPageViews", "totalRevenue", "activeUsers"];
    let daily = ok_report(
        &running,
        STORE,
        request("2025-12-01", "2025-12-30", &["date"], &metrics),
    )
    .await;
    let by_device = ok_report(
        &running,
        STORE,
        request(
            "2025-12-01",
            "2025-12-30",
            &["date", "deviceCategory"],
            &metrics,
        ),
    )
    .await;
    let mut sums: BTreeMap<String, ([u64; 4], usize)> = BTreeMap::new();
    for (dims, values) in rows(&by_device) {
        let entry = sums.entry(dims[0].clone()).or_default();
        entry.0[0] += int(&values[0]);
        entry.0[1] += int(&values[1]);
        entry.0[2] += minor_units(&values[2], 2);
        entry.0[3] += int(&values[3]);
        entry.1 += 1;
    }
    let daily_rows = rows(&daily);
    assert_eq!(daily_rows.len(), 30);
    assert_eq!(sums.len(), 30);
    let mut several_devices = 0;
    for (dims, values) in &daily_rows {
        let (summed, devices) = sums[&dims[0]];
        assert_eq!(summed[0], int(&values[0]), "sessions on {}", dims[0]);
        assert_eq!(summed[1], int(&values[1]), "screenPageViews on {}", dims[0]);
        assert_eq!(
            summed[2],
            minor_units(&values[2], 2),
            "revenue on {}",
            dims[0]
        );
        let active = int(&values[3]);
        if devices >= 2 {
            several_devices += 1;
            assert!(summed[3] > active, "users counted twice on {}", dims[0]);
        } else {
            assert_eq!(summed[3], active);
        }
    }
    assert!(several_devices >= 25, "{several_devices}");

    // Without the date dimension, the range is one group.
    let total = ok_report(
        &running,
        STORE,
        request("2025-12-01", "2025-12-30", &[], &["sessions"]),
    )
    .await;
    let total_rows = rows(&total);
    assert_eq!(total_rows.len(), 1);
    assert_eq!(
        int(&total_rows[0].1[0]),
        sums.values().map(|(summed, _)| summed[0]).sum::<u64>()
    );
}

#[tokio::test]
async fn dates_outside_the_data_have_no_rows() {
    let running = start(config(50)).await;
    // The mobile app was created on 2025-09-03; "today" in Paris is 2026-01-01.
    let before = ok_report(
        &running,
        APP,
        request("2025-01-01", "2025-09-02", &["date"], &["sessions"]),
    )
    .await;
    assert!(before.get("rows").is_none(), "{before}");
    assert!(before.get("rowCount").is_none());
    assert_eq!(before["metadata"]["currencyCode"], "EUR");
    assert_eq!(before["metadata"]["timeZone"], "Europe/Paris");
    let after = ok_report(
        &running,
        APP,
        request("2026-01-02", "2026-02-01", &["date"], &["sessions"]),
    )
    .await;
    assert!(after.get("rows").is_none());
    let edges = ok_report(
        &running,
        APP,
        request("2025-09-01", "2026-03-01", &["date"], &["sessions"]),
    )
    .await;
    let edge_rows = rows(&edges);
    assert_eq!(edge_rows.first().unwrap().0[0], "20250903");
    assert_eq!(edge_rows.last().unwrap().0[0], "20260101");
    assert_eq!(edge_rows.len(), 121);
    let today = ok_report(
        &running,
        APP,
        request("today", "today", &["date"], &["sessions"]),
    )
    .await;
    assert_eq!(rows(&today)[0].0[0], "20260101");
    let yesterday = ok_report(
        &running,
        STORE,
        request("yesterday", "yesterday", &["date"], &["sessions"]),
    )
    .await;
    assert_eq!(
        rows(&yesterday)[0].0[0],
        "20251230",
        "Los Angeles is still on 2025-12-31"
    );
}

#[tokio::test]
async fn invalid_requests_are_refused_in_google_shape() {
    let running = start(config(50)).await;
    let (status, body) = report(
        &running,
        STORE,
        request("7daysAgo", "today", &["date", "foo"], &["sessions"]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {
            "code": 400,
            "message": "Field foo is not a valid dimension. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ",
            "status": "INVALID_ARGUMENT",
        }})
    );
    let (status, body) = report(
        &running,
        STORE,
        request("7daysAgo", "today", &["date"], &["revenue"]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Field revenue is not a valid metric."));
    for bad in [
        json!({"metrics": [{"name": "sessions"}]}),
        json!({"dateRanges": [{"startDate": "today", "endDate": "today"}]}),
        json!("not an object"),
    ] {
        let (status, body) = report(&running, STORE, bad).await;
        assert_eq!(status, 400);
        assert_google_error(&body, 400, "INVALID_ARGUMENT");
    }
    let response = running
        .http
        .post(running.url(&run_report_path(STORE)))
        .bearer_auth(API_KEY)
        .body("{\"dateRanges\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_google_error(&response.json().await.unwrap(), 400, "INVALID_ARGUMENT");

    let (status, body) = report(
        &running,
        "999999",
        request("today", "today", &[], &["sessions"]),
    )
    .await;
    assert_eq!(status, 403);
    assert_google_error(&body, 403, "PERMISSION_DENIED");

    let (status, body) = running.get(&run_report_path(STORE)).await;
    assert_eq!(status, 404, "runReport is POST only");
    assert_google_error(&body, 404, "NOT_FOUND");
    let (status, _) = running.get("/v1beta/nothing/here").await;
    assert_eq!(status, 404);

    let (status, headers, body) = post_with(
        &running,
        &run_report_path(STORE),
        "ya29.not-a-token",
        &request("today", "today", &[], &["sessions"]),
    )
    .await;
    assert_eq!(status, 401);
    assert_google_error(&body, 401, "UNAUTHENTICATED");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Request had invalid authentication credentials."));
    assert!(headers.contains_key(WWW_AUTHENTICATE));
    let (status, body) = running.get_with("/v1beta/accountSummaries", "").await;
    assert_eq!(status, 401);
    assert_google_error(&body, 401, "UNAUTHENTICATED");
    assert_eq!(running.sandbox.analytics_requests(), 0);
}

/// Runs the authorization code flow with PKCE and Google's extra parameters; returns the access token.
async fn access_token(running: &Running, scope: &str) -> String {
    let verifier = "a-google-style-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let page = running
        .http
        .get(running.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "sandbox_client"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", scope),
            ("state", "st"),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let mut form: Vec<(String, String)> = html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|chunk| {
            let (name, rest) = chunk.split_once('"').unwrap();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_owned(), value.replace("&amp;", "&"))
        })
        .collect();
    form.push(("decision".into(), "approve".into()));
    let redirect = running
        .http
        .post(running.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    let location = Url::parse(redirect.headers()[LOCATION].to_str().unwrap()).unwrap();
    let query: BTreeMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["scope"], scope);
    let token: Value = running
        .http
        .post(running.url("/oauth/token"))
        .basic_auth("sandbox_client", Some("sandbox_secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", query["code"].as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["scope"], scope);
    assert!(token["refresh_token"].is_string());
    token["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn access_tokens_need_the_analytics_scope() {
    let running = start(config(50)).await;
    let body = request("today", "today", &["date"], &["sessions"]);

    let stripe_only = access_token(&running, "read_only").await;
    let (status, _, refused) =
        post_with(&running, &run_report_path(STORE), &stripe_only, &body).await;
    assert_eq!(status, 403);
    assert_eq!(
        refused,
        json!({"error": {"code": 403, "message": "Request had insufficient authentication scopes.", "status": "PERMISSION_DENIED"}})
    );
    let (status, _) = running
        .get_with("/v1beta/accountSummaries", &stripe_only)
        .await;
    assert_eq!(status, 403);
    assert_eq!(running.get_with("/v1/customers", &stripe_only).await.0, 200);

    let analytics = access_token(&running, ANALYTICS_SCOPE).await;
    let (status, _, answered) =
        post_with(&running, &run_report_path(STORE), &analytics, &body).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(rows(&answered).len(), 1);
    assert_eq!(
        running
            .get_with("/v1beta/properties/250002", &analytics)
            .await
            .0,
        200
    );

    let both = access_token(&running, &format!("read_only {ANALYTICS_SCOPE}")).await;
    assert_eq!(
        running.get_with("/v1beta/accountSummaries", &both).await.0,
        200
    );
    assert_eq!(running.get_with("/v1/customers", &both).await.0, 200);
    assert_eq!(running.sandbox.analytics_requests(), 1);
}

#[tokio::test]
async fn quota_tokens_run_out_per_hour_and_day_then_come_back() {
    let running = start(SandboxConfig {
        analytics_tokens_per_hour: Some(3),
        ..config(50)
    })
    .await;
    let mut body = request("7daysAgo", "today", &["date"], &["sessions"]);
    body["returnPropertyQuota"] = json!(true);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let answered = ok_report(&running, STORE, body.clone()).await;
        let quota = &answered["propertyQuota"];
        assert_eq!(quota["tokensPerHour"]["consumed"], 1);
        assert_eq!(
            quota["concurrentRequests"],
            json!({"consumed": 0, "remaining": 10})
        );
        for key in [
            "tokensPerDay",
            "serverErrorsPerProjectPerHour",
            "potentiallyThresholdedRequestsPerHour",
            "tokensPerProjectPerHour",
        ] {
            assert!(quota[key]["remaining"].is_u64(), "{key}: {quota}");
        }
        remaining.push(quota["tokensPerHour"]["remaining"].as_u64().unwrap());
    }
    assert_eq!(remaining, [2, 1, 0]);
    let (status, exhausted) = report(&running, STORE, body.clone()).await;
    assert_eq!(status, 429);
    assert_google_error(&exhausted, 429, "RESOURCE_EXHAUSTED");
    assert!(exhausted["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Exhausted property tokens per hour"));
    // Quotas are per property.
    ok_report(&running, TOKYO, body.clone()).await;

    running.sandbox.advance_clock(Duration::from_secs(3600));
    let answered = ok_report(&running, STORE, body.clone()).await;
    assert_eq!(answered["propertyQuota"]["tokensPerHour"]["remaining"], 2);
    assert_eq!(answered["propertyQuota"]["tokensPerDay"]["remaining"], 11);
    // Three hours more of three tokens, and the day's fifteen are spent.
    ok_report(&running, STORE, body.clone()).await;
    ok_report(&running, STORE, body.clone()).await;
    for _ in 0..3 {
        running.sandbox.advance_clock(Duration::from_secs(3600));
        for _ in 0..3 {
            ok_report(&running, STORE, body.clone()).await;
        }
    }
    running.sandbox.advance_clock(Duration::from_secs(3600));
    let (status, exhausted) = report(&running, STORE, body.clone()).await;
    assert_eq!(status, 429);
    assert!(exhausted["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Exhausted property tokens per day"));
    running.sandbox.advance_clock(Duration::from_secs(86_400));
    ok_report(&running, STORE, body).await;
    assert_eq!(running.sandbox.analytics_requests(), 3 + 1 + 3 + 9 + 1);
}

#[tokio::test]
async fn a_response_costs_a_token_per_thousand_rows() {
    let running = start(config(50)).await;
    let mut body = request(
        "2024-01-01",
        "today",
        &["date", "deviceCategory"],
        &["sessions"],
    );
    body["returnPropertyQuota"] = json!(true);
    let answered = ok_report(&running, STORE, body.clone()).await;
    let returned = rows(&answered).len() as u64;
    assert!((1000..2000).contains(&returned), "{returned}");
    assert_eq!(answered["propertyQuota"]["tokensPerHour"]["consumed"], 2);
    assert_eq!(
        answered["propertyQuota"]["tokensPerDay"]["remaining"],
        200_000 - 2
    );
    body["limit"] = json!(999);
    let answered = ok_report(&running, STORE, body).await;
    assert_eq!(
        answered["propertyQuota"]["tokensPerHour"],
        json!({"consumed": 1, "remaining": 40_000 - 3})
    );
}

#[tokio::test]
async fn an_eleventh_concurrent_report_on_a_property_is_refused() {
    let running = start(SandboxConfig {
        latency: Duration::from_millis(600),
        ..config(50)
    })
    .await;
    let body = request("3daysAgo", "today", &["date"], &["sessions"]);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let http = running.http.clone();
        let url = running.url(&run_report_path(STORE));
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(API_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == 429 {
            assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("concurrent requests"));
        }
        statuses.push(status);
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200; 10].into_iter().chain([429; 2]).collect::<Vec<_>>()
    );
    assert_eq!(running.sandbox.analytics_peak_concurrent_requests(), 12);
    assert_eq!(running.sandbox.analytics_requests(), 10);
    assert_eq!(
        running.sandbox.peak_concurrent_requests(),
        0,
        "/v1 counts its own"
    );
}

#[tokio::test]
async fn knobs_answer_in_google_shape() {
    let limited = start(SandboxConfig {
        rate_limit_per_sec: Some(2),
        ..config(50)
    })
    .await;
    let mut saw_429 = false;
    for _ in 0..5 {
        let response = limited
            .http
            .get(limited.url("/v1beta/accountSummaries"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            saw_429 = true;
            assert!(response.headers().contains_key(RETRY_AFTER));
            assert_google_error(&response.json().await.unwrap(), 429, "RESOURCE_EXHAUSTED");
        }
    }
    assert!(saw_429);

    let failing = start(SandboxConfig {
        faults: Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
        ..config(50)
    })
    .await;
    let (status, body) = report(
        &failing,
        STORE,
        request("today", "today", &[], &["sessions"]),
    )
    .await;
    assert_eq!(status, 500);
    assert_google_error(&body, 500, "INTERNAL");

    let bursting = start(SandboxConfig {
        faults: Faults {
            rate_limit_burst_every: Some(2),
            rate_limit_burst_len: 1,
            ..Faults::default()
        },
        ..config(50)
    })
    .await;
    // Each API counts its own requests: /v1 traffic does not move /v1beta's bursts.
    assert_eq!(bursting.get("/v1/customers").await.0, 200);
    assert_eq!(bursting.get("/v1beta/accountSummaries").await.0, 200);
    let (status, body) = bursting.get("/v1beta/accountSummaries").await;
    assert_eq!(status, 429);
    assert_google_error(&body, 429, "RESOURCE_EXHAUSTED");

    let truncating = start(SandboxConfig {
        faults: Faults {
            truncated_rate: 1.0,
            ..Faults::default()
        },
        ..config(50)
    })
    .await;
    let response = truncating
        .http
        .post(truncating.url(&run_report_path(STORE)))
        .bearer_auth(API_KEY)
        .json(&request("today", "today", &[], &["sessions"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
}

#[tokio::test]
async fn reports_are_deterministic_per_seed() {
    let body = request(
        "2025-12-20",
        "2025-12-31",
        &[
            "date",
            "sessionDefaultChannelGroup",
            "sessionSource",
            "pagePath",
            "operatingSystem",
            "browser",
        ],
        &[
            "sessions",
            "engagedSessions",
            "eventCount",
            "conversions",
            "newUsers",
            "userEngagementDuration",
            "averageSessionDuration",
            "sessionsPerUser",
            "screenPageViewsPerSession",
            "totalUsers",
        ],
    );
    let first = start(config(50)).await;
    let second = start(config(50)).await;
    let other = start(SandboxConfig {
        seed: 43,
        ..config(50)
    })
    .await;
    let a = ok_report(&first, STORE, body.clone()).await;
    let b = ok_report(&second, STORE, body.clone()).await;
    let c = ok_report(&other, STORE, body).await;
    assert_eq!(a, b);
    assert_ne!(rows(&a), rows(&c));
    assert!(!rows(&a).is_empty());
    for (_, values) in rows(&a) {
        let sessions = int(&values[0]);
        assert!(int(&values[1]) <= sessions);
        let average: f64 = values[6].parse().unwrap();
        assert!(average > 0.0);
        let per_user: f64 = values[7].parse().unwrap();
        assert!(per_user >= 1.0);
        assert!(int(&values[9]) > 0, "totalUsers");
    }
}

#[tokio::test]
async fn user_counts_by_country_are_flagged_as_thresholded() {
    let running = start(config(50)).await;
    let flag = |body: &Value| body["metadata"].get("subjectToThresholding").cloned();
    let users_by_country = ok_report(
        &running,
        STORE,
        request("7daysAgo", "today", &["country"], &["activeUsers"]),
    )
    .await;
    assert_eq!(flag(&users_by_country), Some(json!(true)));
    let countries: Vec<String> = rows(&users_by_country)
        .into_iter()
        .map(|(d, _)| d[0].clone())
        .collect();
    assert!(countries.contains(&"United States".to_owned()));
    let sessions_by_country = ok_report(
        &running,
        STORE,
        request("7daysAgo", "today", &["country"], &["sessions"]),
    )
    .await;
    assert_eq!(flag(&sessions_by_country), None);
    let total_users = ok_report(
        &running,
        STORE,
        request("7daysAgo", "today", &["deviceCategory"], &["totalUsers"]),
    )
    .await;
    assert_eq!(flag(&total_users), None);
}

#[tokio::test]
async fn revenue_is_an_exact_decimal_in_the_property_currency() {
    let running = start(config(50)).await;
    let metrics = ["totalRevenue", "purchaseRevenue", "conversions"];
    for (property, currency, decimals) in [(STORE, "USD", 2), (APP, "EUR", 2), (TOKYO, "JPY", 0)] {
        let daily = ok_report(
            &running,
            property,
            request("20daysAgo", "today", &["date"], &metrics),
        )
        .await;
        assert_eq!(daily["metadata"]["currencyCode"], currency);
        assert_eq!(daily["metricHeaders"][0]["type"], "TYPE_CURRENCY");
        let by_page = ok_report(
            &running,
            property,
            request("20daysAgo", "today", &["date", "pagePath"], &metrics),
        )
        .await;
        let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
        for (dims, values) in rows(&by_page) {
            *by_day.entry(dims[0].clone()).or_default() += minor_units(&values[0], decimals);
        }
        let mut revenue = 0;
        for (dims, values) in rows(&daily) {
            assert_eq!(values[0], values[1], "purchaseRevenue is totalRevenue");
            let amount = minor_units(&values[0], decimals);
            assert_eq!(by_day[&dims[0]], amount, "{currency} on {}", dims[0]);
            if int(&values[2]) == 0 {
                assert_eq!(amount, 0);
            }
            revenue += amount;
        }
        assert!(revenue > 0, "{currency}");
    }
}

/// Mounted under `/sandbox` in another app, `/v1beta` and `/v1` both route.
#[tokio::test]
async fn routes_under_a_mount_prefix() {
    let sandbox = Sandbox::new(config(20));
    let mounted = sandbox.clone();
    let server = HttpServer::new(move || {
        let sandbox = mounted.clone();
        App::new().service(web::scope("/sandbox").configure(move |cfg| sandbox.configure(cfg)))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/sandbox");
    let report = http
        .post(format!("{base}/v1beta/properties/250003:runReport"))
        .bearer_auth(API_KEY)
        .json(&request("today", "today", &["date"], &["sessions"]))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let property = http
        .get(format!("{base}/v1beta/properties/250003"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(property.status(), 200);
    let stripe = http
        .get(format!("{base}/v1/customers?limit=1"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stripe.status(), 200);
    assert_eq!(sandbox.analytics_requests(), 1);
}
