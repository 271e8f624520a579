//! Facebook's Graph API login and Marketing API under `/v25.0`: login, shapes, cursor paging, exact additivity,
//! reach, renamed campaigns, money, range limits, usage headers and throttling, forced errors, scopes, knobs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use allmetrics_sandbox::{Faults, Sandbox, SandboxConfig};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{config, start, Running, API_KEY, NOW, REDIRECT_URI};
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::Url;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const US: &str = "act_1001";
const FR: &str = "act_1002";
const TOKYO: &str = "act_1003";
const KUWAIT: &str = "act_1004";
const DAY: i64 = 86_400;
const VERIFIER: &str = "a-facebook-style-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

/// `GET` an absolute URL with `key` as a Bearer token: the status, the headers and the parsed body.
async fn get_url(running: &Running, url: &str, key: &str) -> (u16, HeaderMap, Value) {
    let response = running.http.get(url).bearer_auth(key).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

async fn graph(running: &Running, path: &str) -> (u16, HeaderMap, Value) {
    get_url(running, &running.url(path), API_KEY).await
}

/// An insights path: `act/insights?` + the query, with the time range encoded as JSON.
fn insights(account: &str, since: &str, until: &str, query: &str) -> String {
    let range = json!({ "since": since, "until": until }).to_string();
    let range: String = url_encode(&range);
    format!("/v25.0/{account}/insights?time_range={range}&{query}")
}

fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_owned()
}

/// Every row of an insights request, following `paging.next` to the end; the error body if the first page
/// is refused.
async fn try_fetch_all(running: &Running, path: &str) -> Result<Vec<Value>, Value> {
    let mut url = running.url(path);
    let mut rows = Vec::new();
    for page in 0..1000 {
        let (status, _, body) = get_url(running, &url, API_KEY).await;
        if status != 200 && page == 0 {
            return Err(body);
        }
        assert_eq!(status, 200, "{url}: {body}");
        rows.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["paging"].get("next").and_then(Value::as_str) {
            Some(next) => url = next.to_owned(),
            None => return Ok(rows),
        }
    }
    panic!("paging never ends");
}

async fn fetch_all(running: &Running, path: &str) -> Vec<Value> {
    match try_fetch_all(running, path).await {
        Ok(rows) => rows,
        Err(body) => panic!("{path}: {body}"),
    }
}

fn assert_facebook_error(body: &Value, code: u64, subcode: Option<u64>) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(
        error.get("error_subcode").and_then(Value::as_u64),
        subcode,
        "{body}"
    );
    assert!(error["type"]
        .as_str()
        .is_some_and(|kind| kind.ends_with("Exception")));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error["fbtrace_id"]
        .as_str()
        .is_some_and(|t| t.starts_with('A')));
}

fn int(value: &Value) -> u64 {
    value.as_str().unwrap().parse().unwrap()
}

/// A decimal amount with exactly `decimals` decimals, in minor units.
fn minor_units(value: &Value, decimals: usize) -> u64 {
    let text = value.as_str().unwrap();
    match text.split_once('.') {
        Some((whole, fraction)) => {
            assert_eq!(fraction.len(), decimals, "{text}");
            whole.parse::<u64>().unwrap() * 10u64.pow(decimals as u32)
                + fraction.parse::<u64>().unwrap()
        }
        None => {
            assert_eq!(decimals, 0, "{text}");
            text.parse().unwrap()
        }
    }
}

/// The value of one action type in an `actions` or `action_values` list (0 when absent).
fn action(row: &Value, field: &str, kind: &str, decimals: Option<usize>) -> u64 {
    row.get(field)
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find(|entry| entry["action_type"] == kind))
        .map_or(0, |entry| match decimals {
            Some(decimals) => minor_units(&entry["value"], decimals),
            None => int(&entry["value"]),
        })
}

const ALL_METRICS: &str =
    "spend,impressions,clicks,reach,frequency,ctr,cpc,cpm,actions,action_values";

/// The additive metrics of a row: spend (minor units), impressions, clicks, four actions, two action values.
fn additive(row: &Value, decimals: usize) -> [u64; 9] {
    [
        minor_units(&row["spend"], decimals),
        int(&row["impressions"]),
        int(&row["clicks"]),
        action(row, "actions", "link_click", None),
        action(row, "actions", "add_to_cart", None),
        action(row, "actions", "purchase", None),
        action(row, "actions", "lead", None),
        action(row, "action_values", "add_to_cart", Some(decimals)),
        action(row, "action_values", "purchase", Some(decimals)),
    ]
}

/// Sums of the additive metrics by the value of `key` (e.g. `date_start`).
fn sums_by(rows: &[Value], key: &str, decimals: usize) -> BTreeMap<String, [u64; 9]> {
    let mut sums: BTreeMap<String, [u64; 9]> = BTreeMap::new();
    for row in rows {
        let entry = sums
            .entry(row[key].as_str().unwrap().to_owned())
            .or_default();
        for (total, value) in entry.iter_mut().zip(additive(row, decimals)) {
            *total += value;
        }
    }
    sums
}

/// Shows the consent page for `scope`, approves it, and returns the code (with PKCE when `pkce`).
async fn code(running: &Running, scope: &str, pkce: bool) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "sandbox_client"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", "st"),
    ];
    if pkce {
        params.extend([
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
    }
    let page = running
        .http
        .get(running.url("/oauth/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(
        html.contains("Facebook ad accounts"),
        scope.contains("ads_read") || scope.contains("read_insights"),
        "{html}"
    );
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
    query["code"].clone()
}

/// `GET /v25.0/oauth/access_token` with these parameters.
async fn exchange(running: &Running, params: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let response = running
        .http
        .get(running.url("/v25.0/oauth/access_token"))
        .query(params)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

fn client<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("client_id", "sandbox_client"),
        ("client_secret", "sandbox_secret"),
    ];
    params.extend_from_slice(extra);
    params
}

/// A token for `scope` from the whole login flow (code exchange only).
async fn short_token(running: &Running, scope: &str) -> String {
    let code = code(running, scope, false).await;
    let (status, _, body) = exchange(
        running,
        &client(&[("redirect_uri", REDIRECT_URI), ("code", &code)]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn login_exchanges_a_code_then_a_long_lived_token_and_tokens_expire_on_the_clock() {
    let running = start(config(20)).await;
    let code = code(&running, "ads_read,read_insights", true).await;
    let exchange_code = client(&[
        ("redirect_uri", REDIRECT_URI),
        ("code", &code),
        ("code_verifier", VERIFIER),
    ]);
    let (status, headers, body) = exchange(&running, &exchange_code).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-app-usage"));
    let short = body["access_token"].as_str().unwrap().to_owned();
    assert!(short.starts_with("EAA") && short.len() > 40);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 5400);
    assert!(
        body.get("refresh_token").is_none(),
        "Facebook issues no refresh token"
    );
    let me = running.url(&format!("/v25.0/me/adaccounts?access_token={short}"));
    assert_eq!(running.http.get(&me).send().await.unwrap().status(), 200);

    let (status, _, bad) = exchange(
        &running,
        &client(&[("redirect_uri", REDIRECT_URI), ("code", "not-a-code")]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["message"], "Invalid verification code format.");
    assert_facebook_error(&bad, 100, None);
    let other = self::code(&running, "ads_read", true).await;
    let (status, _, wrong_secret) = exchange(
        &running,
        &[
            ("client_id", "sandbox_client"),
            ("client_secret", "nope"),
            ("code", &other),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_facebook_error(&wrong_secret, 1, None);
    // The backend's OAuth client POSTs a form with grant_type, and its secret in HTTP Basic.
    let posted = running
        .http
        .post(running.url("/v25.0/oauth/access_token"))
        .basic_auth("sandbox_client", Some("sandbox_secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", other.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let posted: Value = posted.json().await.unwrap();
    assert_eq!(posted["expires_in"], 5400);

    let (status, _, long) = exchange(
        &running,
        &client(&[
            ("grant_type", "fb_exchange_token"),
            ("fb_exchange_token", &short),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{long}");
    assert_eq!(long["expires_in"], 5_184_000);
    let long = long["access_token"].as_str().unwrap().to_owned();
    assert_ne!(long, short);

    running.sandbox.advance_clock(Duration::from_secs(5_401));
    let path = "/v25.0/me/adaccounts";
    let (status, headers, expired) = get_url(&running, &running.url(path), &short).await;
    assert_eq!(status, 400);
    assert_facebook_error(&expired, 190, Some(463));
    assert!(headers.contains_key(WWW_AUTHENTICATE));
    assert!(
        headers.contains_key("x-app-usage"),
        "usage headers on errors too"
    );
    let (status, _, again) = exchange(
        &running,
        &client(&[
            ("grant_type", "fb_exchange_token"),
            ("fb_exchange_token", &short),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    assert_facebook_error(&again, 190, Some(463));
    assert_eq!(get_url(&running, &running.url(path), &long).await.0, 200);

    running
        .sandbox
        .advance_clock(Duration::from_secs(59 * DAY as u64));
    assert_eq!(get_url(&running, &running.url(path), &long).await.0, 200);
    // Exchanging a code twice revokes every token issued from it, long-lived ones included.
    let (status, _, reused) = exchange(&running, &exchange_code).await;
    assert_eq!(status, 400);
    assert_facebook_error(&reused, 100, Some(36_009));
    assert_eq!(
        reused["error"]["message"],
        "This authorization code has been used."
    );
    let (status, _, revoked) = get_url(&running, &running.url(path), &long).await;
    assert_eq!(status, 400);
    assert_facebook_error(&revoked, 190, Some(460));
}

#[tokio::test]
async fn long_lived_tokens_expire_after_sixty_days_and_revoke_all_kills_tokens() {
    let running = start(config(20)).await;
    let short = short_token(&running, "ads_read").await;
    let (_, _, long) = exchange(
        &running,
        &client(&[
            ("grant_type", "fb_exchange_token"),
            ("fb_exchange_token", &short),
        ]),
    )
    .await;
    let long = long["access_token"].as_str().unwrap().to_owned();
    running
        .sandbox
        .advance_clock(Duration::from_secs(5_184_000 - 10));
    assert_eq!(
        get_url(&running, &running.url("/v25.0/me"), &long).await.0,
        200
    );
    running.sandbox.advance_clock(Duration::from_secs(11));
    let (status, _, expired) = get_url(&running, &running.url("/v25.0/me"), &long).await;
    assert_eq!(status, 400);
    assert_facebook_error(&expired, 190, Some(463));

    let fresh = short_token(&running, "ads_read").await;
    assert_eq!(
        get_url(&running, &running.url("/v25.0/me"), &fresh).await.0,
        200
    );
    running.sandbox.revoke_all();
    let (status, _, revoked) = get_url(&running, &running.url("/v25.0/me"), &fresh).await;
    assert_eq!(status, 400);
    assert_facebook_error(&revoked, 190, Some(460));
}

#[tokio::test]
async fn tokens_need_the_ads_read_scope() {
    let running = start(config(20)).await;
    let path = insights(US, "2025-12-01", "2025-12-02", "fields=spend");
    let stripe_only = short_token(&running, "read_only").await;
    let (status, _, refused) = get_url(&running, &running.url(&path), &stripe_only).await;
    assert_eq!(status, 403);
    assert_facebook_error(&refused, 200, None);
    let insights_only = short_token(&running, "read_insights").await;
    assert_eq!(
        get_url(&running, &running.url(&path), &insights_only)
            .await
            .0,
        403
    );
    let ads = short_token(&running, "ads_read read_insights").await;
    assert_eq!(get_url(&running, &running.url(&path), &ads).await.0, 200);
    // Facebook's other ways of presenting a token.
    let query = running.url(&format!("{path}&access_token={ads}"));
    assert_eq!(running.http.get(&query).send().await.unwrap().status(), 200);
    let oauth_header = running
        .http
        .get(running.url(&path))
        .header("Authorization", format!("OAuth {ads}"))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_header.status(), 200);
    assert_eq!(graph(&running, &path).await.0, 200, "the API key passes");

    let (status, _, missing) = get_url(&running, &running.url(&path), "").await;
    assert_eq!(status, 400);
    assert_facebook_error(&missing, 104, None);
    let (status, _, unknown) = get_url(&running, &running.url(&path), "EAAnonsense").await;
    assert_eq!(status, 400);
    assert_facebook_error(&unknown, 190, None);
    assert_eq!(running.sandbox.ads_requests(), 4);
}

#[tokio::test]
async fn ad_accounts_have_facebook_shapes() {
    let running = start(config(20)).await;
    let fields = "id,account_id,name,currency,timezone_name";
    let (status, headers, body) = graph(
        &running,
        &format!("/v25.0/me/adaccounts?fields={fields}&limit=25"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-app-usage"));
    assert!(body["paging"].get("next").is_none());
    assert_eq!(
        body["data"],
        json!([
            {"id": "act_1001", "account_id": "1001", "name": "Demo Shoes US", "currency": "USD",
             "timezone_name": "America/New_York"},
            {"id": "act_1002", "account_id": "1002", "name": "Demo Lunettes FR", "currency": "EUR",
             "timezone_name": "Europe/Paris"},
            {"id": "act_1003", "account_id": "1003", "name": "Demo Tokyo Ads", "currency": "JPY",
             "timezone_name": "Asia/Tokyo"},
            {"id": "act_1004", "account_id": "1004", "name": "Demo Kuwait", "currency": "KWD",
             "timezone_name": "Asia/Kuwait"},
        ])
    );
    assert_eq!(
        body["paging"]["cursors"],
        json!({"before": "MAZDZD", "after": "MwZDZD"})
    );
    let (_, _, first) = graph(&running, "/v25.0/me/adaccounts?limit=3").await;
    assert_eq!(
        first["data"][0],
        json!({"id": "act_1001", "account_id": "1001"})
    );
    let next = first["paging"]["next"].as_str().unwrap();
    assert!(
        next.starts_with(&running.url("/v25.0/me/adaccounts?limit=3&after=")),
        "{next}"
    );
    let (_, _, second) = get_url(&running, next, API_KEY).await;
    assert_eq!(
        second["data"],
        json!([{"id": "act_1004", "account_id": "1004"}])
    );
    assert!(second["paging"].get("next").is_none());

    let (status, _, kuwait) = graph(
        &running,
        "/v25.0/act_1004?fields=id,timezone_offset_hours_utc,created_time,business,account_status",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        kuwait,
        json!({"id": "act_1004", "timezone_offset_hours_utc": 3, "created_time": "2025-10-03T03:00:00+0300",
               "business": {"id": "2309000000001004", "name": "Demo Perfumes W.L.L."}, "account_status": 1})
    );
    let (_, _, me) = graph(&running, "/v25.0/me").await;
    assert_eq!(
        me,
        json!({"id": "10150000000000001", "name": "Sandbox Demo User"})
    );
    let (status, _, unknown) = graph(&running, "/v25.0/act_999/insights").await;
    assert_eq!(status, 400);
    assert_facebook_error(&unknown, 100, Some(33));
    let (status, _, bad_field) = graph(&running, "/v25.0/me/adaccounts?fields=id,owner").await;
    assert_eq!(status, 400);
    assert_facebook_error(&bad_field, 100, None);
    let (status, _, nowhere) = graph(&running, "/v25.0/act_1001/adcreatives").await;
    assert_eq!(status, 400);
    assert_facebook_error(&nowhere, 100, None);

    let accounts = running.sandbox.ad_accounts();
    let summary: Vec<_> = accounts
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.currency.as_str(),
                a.utc_offset_seconds,
                a.created_time,
                a.first_date.as_str(),
                a.last_date.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                US,
                "USD",
                -5 * 3600,
                NOW - 1100 * DAY,
                "2022-12-27",
                "2025-12-31"
            ),
            (FR, "EUR", 3600, NOW - 400 * DAY, "2024-11-27", "2026-01-01"),
            (
                TOKYO,
                "JPY",
                9 * 3600,
                NOW - 120 * DAY,
                "2025-09-03",
                "2026-01-01"
            ),
            (
                KUWAIT,
                "KWD",
                3 * 3600,
                NOW - 90 * DAY,
                "2025-10-03",
                "2026-01-01"
            ),
        ]
    );
    assert_eq!(accounts[1].timezone_name, "Europe/Paris");
    assert_eq!(accounts[3].business_id, "2309000000001004");
}

#[tokio::test]
async fn insights_pages_follow_next_and_concatenate_to_one_big_page() {
    let running = start(config(20)).await;
    let query =
        "fields=ad_name,spend,impressions,actions&level=ad&breakdowns=country&time_increment=1";
    let path = insights(US, "2025-12-01", "2025-12-14", query);
    let (status, headers, whole) = graph(&running, &format!("{path}&limit=500")).await;
    assert_eq!(status, 200, "{whole}");
    assert!(headers.contains_key("x-ad-account-usage"));
    let all = whole["data"].as_array().unwrap().clone();
    assert!((100..500).contains(&all.len()), "{}", all.len());
    assert!(whole["paging"].get("next").is_none());
    assert_eq!(whole["paging"]["cursors"]["before"], "MAZDZD");

    let paged = fetch_all(&running, &format!("{path}&limit=7")).await;
    assert_eq!(paged, all);
    let (_, _, first) = graph(&running, &format!("{path}&limit=7")).await;
    let next = first["paging"]["next"].as_str().unwrap();
    let next = Url::parse(next).unwrap();
    let params: Vec<(String, String)> = next.query_pairs().into_owned().collect();
    let names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "time_range",
            "fields",
            "level",
            "breakdowns",
            "time_increment",
            "limit",
            "after"
        ]
    );
    assert_eq!(
        params[0].1,
        r#"{"since":"2025-12-01","until":"2025-12-14"}"#
    );
    assert_eq!(
        params[6].1,
        first["paging"]["cursors"]["after"].as_str().unwrap()
    );

    // Sorted by date, then ad id, then country; one day per row; identity fields always there.
    let keys: Vec<(String, String, String)> = all
        .iter()
        .map(|row| {
            assert_eq!(row["date_start"], row["date_stop"]);
            assert_eq!(row["account_id"], "1001");
            assert_eq!(row["account_currency"], "USD");
            assert!(row["campaign_name"].is_string() && row["adset_id"].is_string());
            assert!(row.get("clicks").is_none(), "not asked for");
            (
                row["date_start"].as_str().unwrap().to_owned(),
                row["ad_id"].as_str().unwrap().to_owned(),
                row["country"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    assert_eq!(keys[0].0, "2025-12-01");
    assert_eq!(keys.last().unwrap().0, "2025-12-14");

    let (_, _, past_the_end) = graph(
        &running,
        &format!(
            "{path}&limit=7&after={}",
            whole["paging"]["cursors"]["after"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(past_the_end, json!({"data": []}));
    let (status, _, bad_cursor) = graph(&running, &format!("{path}&after=garbage")).await;
    assert_eq!(status, 400);
    assert_facebook_error(&bad_cursor, 100, None);
}

#[tokio::test]
async fn additive_metrics_are_exact_sums_across_levels_and_breakdowns() {
    let running = start(config(20)).await;
    let (since, until) = ("2025-12-01", "2025-12-20");
    let fetch = |query: String| {
        let running = &running;
        async move {
            fetch_all(
                running,
                &insights(
                    US,
                    since,
                    until,
                    &format!("fields={ALL_METRICS}&time_increment=1&limit=500&{query}"),
                ),
            )
            .await
        }
    };
    let account = fetch("level=account".into()).await;
    assert_eq!(account.len(), 20);
    let totals = sums_by(&account, "date_start", 2);
    let mut checked = 0;
    for level in ["campaign", "adset", "ad"] {
        for breakdowns in ["", "country", "age,gender", "publisher_platform"] {
            let rows = fetch(format!("level={level}&breakdowns={breakdowns}")).await;
            assert_eq!(
                sums_by(&rows, "date_start", 2),
                totals,
                "{level} by {breakdowns}"
            );
            checked += 1;
        }
    }
    for breakdowns in ["country", "gender,age", "publisher_platform"] {
        let rows = fetch(format!("breakdowns={breakdowns}")).await;
        assert_eq!(
            sums_by(&rows, "date_start", 2),
            totals,
            "account by {breakdowns}"
        );
        if breakdowns == "gender,age" {
            assert!(rows
                .iter()
                .all(|row| row["age"].is_string() && row["gender"].is_string()));
        }
    }
    assert_eq!(checked, 12);
    assert!(totals
        .values()
        .all(|sums| sums.iter().take(4).all(|&v| v > 0)));

    // Campaigns sum to the account; ads of a campaign sum to the campaign.
    let campaigns = fetch("level=campaign".into()).await;
    let ads = fetch("level=ad".into()).await;
    let by_campaign_day = |rows: &[Value]| {
        let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
        for row in rows {
            let key = (
                row["date_start"].as_str().unwrap().to_owned(),
                row["campaign_id"].as_str().unwrap().to_owned(),
            );
            *sums.entry(key).or_default() += minor_units(&row["spend"], 2);
        }
        sums
    };
    assert_eq!(by_campaign_day(&campaigns), by_campaign_day(&ads));

    // The whole range without time_increment is one row: the sum of the days.
    let (_, _, whole) = graph(
        &running,
        &insights(US, since, until, &format!("fields={ALL_METRICS}")),
    )
    .await;
    let row = &whole["data"][0];
    assert_eq!(
        (row["date_start"].as_str(), row["date_stop"].as_str()),
        (Some(since), Some(until))
    );
    let mut summed = [0u64; 9];
    for sums in totals.values() {
        for (total, value) in summed.iter_mut().zip(sums) {
            *total += value;
        }
    }
    assert_eq!(additive(row, 2), summed);

    // Reach is not additive: each day, the account reaches fewer than its campaigns added up.
    let mut campaign_reach: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for row in &campaigns {
        let entry = campaign_reach
            .entry(row["date_start"].as_str().unwrap().to_owned())
            .or_default();
        entry.0 += int(&row["reach"]);
        entry.1 += 1;
    }
    for row in &account {
        let (sum, count) = campaign_reach[row["date_start"].as_str().unwrap()];
        assert!(count >= 2);
        let reach = int(&row["reach"]);
        assert!(reach < sum, "{reach} < {sum}");
        assert!(reach < int(&row["impressions"]));
        let frequency: f64 = row["frequency"].as_str().unwrap().parse().unwrap();
        assert!((frequency - int(&row["impressions"]) as f64 / reach as f64).abs() < 1e-6);
    }
}

#[tokio::test]
async fn a_renamed_campaign_carries_the_name_of_each_day() {
    let running = start(config(20)).await;
    // The US account renamed its retargeting campaign 20 days before its today (2025-12-31).
    let rows = fetch_all(
        &running,
        &insights(
            US,
            "2025-12-01",
            "2025-12-31",
            "fields=spend&level=campaign&time_increment=1&limit=500",
        ),
    )
    .await;
    let (_, _, listed) = graph(
        &running,
        "/v25.0/act_1001/campaigns?fields=id,name,objective,status",
    )
    .await;
    let current = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Retargeting - Cart Abandoners")
        .unwrap()
        .clone();
    assert_eq!(listed["data"].as_array().unwrap().len(), 4);
    assert_eq!(current["status"], "ACTIVE");
    let names: BTreeMap<String, String> = rows
        .iter()
        .filter(|row| row["campaign_id"] == current["id"])
        .map(|row| {
            (
                row["date_start"].as_str().unwrap().to_owned(),
                row["campaign_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(names.len() >= 25);
    for (date, name) in &names {
        let expected = if date.as_str() < "2025-12-11" {
            "Retargeting - Visitors 30d"
        } else {
            "Retargeting - Cart Abandoners"
        };
        assert_eq!(name, expected, "{date}");
    }
    // Without time_increment, the row carries the name of its last day.
    let (_, _, whole) = graph(
        &running,
        &insights(
            US,
            "2025-12-01",
            "2025-12-05",
            "fields=spend&level=campaign",
        ),
    )
    .await;
    assert!(whole["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row["campaign_name"] == "Retargeting - Visitors 30d"));
}

#[tokio::test]
async fn money_is_exact_in_the_account_currency() {
    let running = start(config(20)).await;
    for (account, currency, decimals) in [
        (US, "USD", 2),
        (FR, "EUR", 2),
        (TOKYO, "JPY", 0),
        (KUWAIT, "KWD", 3),
    ] {
        let rows = fetch_all(
            &running,
            &insights(
                account,
                "2025-12-10",
                "2025-12-30",
                &format!("fields={ALL_METRICS}&level=ad&time_increment=1&limit=500"),
            ),
        )
        .await;
        assert!(!rows.is_empty(), "{account}");
        let mut purchases = 0;
        for row in &rows {
            assert_eq!(row["account_currency"], currency);
            let spend = minor_units(&row["spend"], decimals);
            let impressions = int(&row["impressions"]);
            let clicks = int(&row["clicks"]);
            let unit = 10f64.powi(decimals as i32);
            let close = |field: &str, expected: f64| {
                let value: f64 = row[field].as_str().unwrap().parse().unwrap();
                let text = row[field].as_str().unwrap();
                assert!(
                    text.split_once('.')
                        .is_none_or(|(_, f)| f.len() <= 6 && !f.ends_with('0')),
                    "{text}"
                );
                assert!(
                    (value - expected).abs() < 6e-7,
                    "{field} {value} {expected}"
                );
            };
            close("cpm", spend as f64 / unit * 1000.0 / impressions as f64);
            close("ctr", clicks as f64 * 100.0 / impressions as f64);
            match row.get("cpc") {
                Some(_) => close("cpc", spend as f64 / unit / clicks as f64),
                None => assert_eq!(clicks, 0),
            }
            purchases += action(row, "action_values", "purchase", Some(decimals));
            for list in ["actions", "action_values"] {
                if let Some(list) = row.get(list) {
                    assert!(
                        !list.as_array().unwrap().is_empty(),
                        "empty lists are left out"
                    );
                }
            }
        }
        assert!(purchases > 0, "{account}");
    }
}

#[tokio::test]
async fn too_large_ranges_are_refused_and_halves_succeed() {
    let running = start(config(20)).await;
    let ads_by_country = "fields=spend&level=ad&breakdowns=country&time_increment=1&limit=500";
    let (status, _, refused) = graph(
        &running,
        &insights(US, "2025-10-01", "2025-12-01", ads_by_country),
    )
    .await;
    assert_eq!(status, 400);
    assert_facebook_error(&refused, 1, Some(1_504_044));
    assert_eq!(
        refused["error"]["message"],
        "Please reduce the amount of data you're asking for, then retry your request"
    );
    assert_eq!(
        graph(
            &running,
            &insights(US, "2025-10-01", "2025-10-31", ads_by_country)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        graph(
            &running,
            &insights(US, "2025-11-01", "2025-12-01", ads_by_country)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        graph(
            &running,
            &insights(US, "2025-11-01", "2025-12-02", ads_by_country)
        )
        .await
        .0,
        400
    );
    // Without a breakdown (or at another level), 93 days.
    let ads = "fields=spend&level=ad&time_increment=1&limit=500";
    assert_eq!(
        graph(&running, &insights(US, "2025-10-01", "2025-12-01", ads))
            .await
            .0,
        200
    );
    assert_eq!(
        graph(&running, &insights(US, "2025-09-30", "2025-12-31", ads))
            .await
            .0,
        200
    );
    assert_eq!(
        graph(&running, &insights(US, "2025-09-29", "2025-12-31", ads))
            .await
            .0,
        400
    );

    // A client that halves refused ranges gets half a year, with the account's daily totals.
    let mut pending = vec![(days("2025-07-01"), days("2025-12-31"))];
    let mut rows = Vec::new();
    let mut refusals = 0;
    while let Some((since, until)) = pending.pop() {
        let path = insights(
            US,
            &date(since),
            &date(until),
            "fields=spend,impressions,clicks&level=ad&breakdowns=publisher_platform&time_increment=1&limit=500",
        );
        match try_fetch_all(&running, &path).await {
            Ok(page_rows) => rows.extend(page_rows),
            Err(body) => {
                assert_eq!(body["error"]["error_subcode"], 1_504_044);
                refusals += 1;
                let middle = since + (until - since) / 2;
                pending.push((middle + 1, until));
                pending.push((since, middle));
            }
        }
    }
    assert_eq!(refusals, 1 + 2 + 4, "184 days, 92, 46, then 23 pass");
    let by_day = sums_by(&rows, "date_start", 2);
    assert_eq!(by_day.len(), 184);
    let account = fetch_all(
        &running,
        &insights(
            US,
            "2025-07-01",
            "2025-09-30",
            "fields=spend&time_increment=1",
        ),
    )
    .await;
    assert_eq!(account.len(), 92);
    for row in &account {
        assert_eq!(
            by_day[row["date_start"].as_str().unwrap()][0],
            minor_units(&row["spend"], 2)
        );
    }

    let strict = start(SandboxConfig {
        ads_max_range_days: 10,
        ..config(20)
    })
    .await;
    assert_eq!(
        graph(
            &strict,
            &insights(US, "2025-12-01", "2025-12-11", ads_by_country)
        )
        .await
        .0,
        400
    );
    assert_eq!(
        graph(
            &strict,
            &insights(US, "2025-12-01", "2025-12-10", ads_by_country)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        graph(
            &strict,
            &insights(US, "2025-12-01", "2025-12-30", "level=campaign")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        graph(
            &strict,
            &insights(US, "2025-12-01", "2025-12-31", "level=campaign")
        )
        .await
        .0,
        400
    );
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (Howard Hinnant's `days_from_civil`).
fn days(date: &str) -> i64 {
    let parts: Vec<i64> = date.split('-').map(|part| part.parse().unwrap()).collect();
    let (m, d) = (parts[1], parts[2]);
    let y = if m <= 2 { parts[0] - 1 } else { parts[0] };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `YYYY-MM-DD` of days since 1970-01-01 (`civil_from_days`).
fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn usage(headers: &HeaderMap, name: &str) -> Value {
    serde_json::from_str(headers[name].to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn usage_rises_to_throttling_then_resets_on_the_next_hour() {
    let running = start(SandboxConfig {
        ads_calls_per_hour: Some(4),
        ..config(20)
    })
    .await;
    let path = insights(US, "2025-12-01", "2025-12-02", "fields=spend");
    let mut percents = Vec::new();
    for _ in 0..4 {
        let (status, headers, _) = graph(&running, &path).await;
        assert_eq!(status, 200);
        let account = usage(&headers, "x-ad-account-usage");
        assert_eq!(account["ads_api_access_tier"], "development_access");
        assert!(account["reset_time_duration"].as_u64().unwrap() > 0);
        let business = usage(&headers, "x-business-use-case-usage");
        let entry = &business["2309000000001001"][0];
        assert_eq!(entry["type"], "ads_insights");
        // Once the hour's calls are all made, the next call must wait for the next hour.
        let full = account["acc_id_util_pct"] == 100;
        assert_eq!(
            entry["estimated_time_to_regain_access"].as_u64().unwrap() > 0,
            full
        );
        assert_eq!(entry["call_count"], account["acc_id_util_pct"]);
        percents.push(account["acc_id_util_pct"].as_u64().unwrap());
    }
    assert_eq!(percents, [25, 50, 75, 100]);
    let (status, headers, throttled) = graph(&running, &path).await;
    assert_eq!(status, 400);
    assert_facebook_error(&throttled, 80_000, Some(2_446_079));
    assert!(throttled["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("(#80000) There have been too many calls from this ad-account."));
    assert!(
        usage(&headers, "x-ad-account-usage")["acc_id_util_pct"]
            .as_u64()
            .unwrap()
            >= 100
    );
    let entry = &usage(&headers, "x-business-use-case-usage")["2309000000001001"][0];
    assert!(entry["call_count"].as_u64().unwrap() >= 100);
    assert!(entry["estimated_time_to_regain_access"].as_u64().unwrap() > 0);
    assert_eq!(
        usage(&headers, "x-app-usage"),
        json!({"call_count": 25, "total_cputime": 12, "total_time": 18})
    );
    // Other accounts have their own calls; /me/... has no account headers.
    let (status, headers, _) =
        graph(&running, &insights(KUWAIT, "2025-12-01", "2025-12-02", "")).await;
    assert_eq!(status, 200);
    assert_eq!(usage(&headers, "x-ad-account-usage")["acc_id_util_pct"], 25);
    let (_, headers, _) = graph(&running, "/v25.0/me/adaccounts").await;
    assert!(headers.contains_key("x-app-usage") && !headers.contains_key("x-ad-account-usage"));
    assert_eq!(running.sandbox.ads_requests(), 5);

    running.sandbox.advance_clock(Duration::from_secs(3600));
    let (status, headers, _) = graph(&running, &path).await;
    assert_eq!(status, 200);
    assert_eq!(usage(&headers, "x-ad-account-usage")["acc_id_util_pct"], 25);
}

#[tokio::test]
async fn forced_errors_answer_the_next_insights_calls() {
    let running = start(config(20)).await;
    let sandbox = &running.sandbox;
    sandbox.force_ads_errors(17, 2);
    for code in [4, 32, 613, 100, 190, 200, 80_000, 1, 2] {
        sandbox.force_ads_errors(code, 1);
    }
    // Other endpoints are not affected.
    assert_eq!(graph(&running, "/v25.0/me/adaccounts").await.0, 200);
    let path = insights(TOKYO, "2025-12-01", "2025-12-02", "fields=spend");
    let mut answers = Vec::new();
    for _ in 0..12 {
        let (status, headers, body) = graph(&running, &path).await;
        assert!(headers.contains_key("x-ad-account-usage"));
        let code = body["error"]["code"].as_u64().unwrap_or(0);
        if status != 200 {
            assert_facebook_error(
                &body,
                code,
                body["error"].get("error_subcode").and_then(Value::as_u64),
            );
        }
        answers.push((status, code));
    }
    assert_eq!(
        answers,
        [
            (400, 17),
            (400, 17),
            (400, 4),
            (400, 32),
            (400, 613),
            (400, 100),
            (400, 190),
            (403, 200),
            (400, 80_000),
            (500, 1),
            (500, 2),
            (200, 0),
        ]
    );
    assert_eq!(sandbox.ads_requests(), 1);
}

#[tokio::test]
async fn insights_are_deterministic_per_seed() {
    let path = insights(
        FR,
        "2025-11-01",
        "2025-12-31",
        &format!("fields={ALL_METRICS}&level=ad&time_increment=1&limit=500"),
    );
    let first = start(config(20)).await;
    let second = start(config(20)).await;
    let other = start(SandboxConfig {
        seed: 43,
        ..config(20)
    })
    .await;
    let a = fetch_all(&first, &path).await;
    assert_eq!(a, fetch_all(&second, &path).await);
    let c = fetch_all(&other, &path).await;
    assert_ne!(a, c);
    assert!(!a.is_empty());
    let names = |rows: &[Value], field: &str| {
        let mut names: Vec<String> = rows.iter().map(|row| row[field].to_string()).collect();
        names.sort();
        names.dedup();
        names
    };
    assert_ne!(
        names(&a, "ad_id"),
        names(&c, "ad_id"),
        "ids depend on the seed"
    );
    assert_eq!(names(&a, "ad_name"), names(&c, "ad_name"), "names do not");
    // Rows exist only from the account's first day: a range before it is empty.
    let before = insights(
        FR,
        "2024-10-01",
        "2024-11-26",
        "fields=spend&time_increment=1",
    );
    assert_eq!(graph(&first, &before).await.2, json!({"data": []}));
    let (_, _, first_day) = graph(
        &first,
        &insights(
            FR,
            "2024-11-20",
            "2024-11-30",
            "fields=spend&time_increment=1",
        ),
    )
    .await;
    assert_eq!(first_day["data"][0]["date_start"], "2024-11-27");
}

#[tokio::test]
async fn knobs_answer_in_facebook_shape() {
    let path = insights(US, "2025-12-01", "2025-12-02", "fields=spend");
    let failing = start(SandboxConfig {
        faults: Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
        ..config(20)
    })
    .await;
    let (status, headers, body) = graph(&failing, &path).await;
    assert_eq!(status, 500);
    assert_facebook_error(&body, 2, None);
    assert_eq!(body["error"]["is_transient"], true);
    assert!(headers.contains_key("x-app-usage"));

    let limited = start(SandboxConfig {
        rate_limit_per_sec: Some(2),
        ..config(20)
    })
    .await;
    let mut limited_answers = 0;
    for _ in 0..5 {
        let (status, headers, body) = graph(&limited, &path).await;
        if status != 200 {
            assert_eq!(status, 400);
            assert_facebook_error(&body, 17, Some(2_446_079));
            assert!(headers.contains_key(RETRY_AFTER));
            limited_answers += 1;
        }
    }
    assert!(limited_answers > 0);

    let truncating = start(SandboxConfig {
        faults: Faults {
            truncated_rate: 1.0,
            ..Faults::default()
        },
        ..config(20)
    })
    .await;
    let response = truncating
        .http
        .get(truncating.url(&path))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    assert_eq!(truncating.sandbox.ads_requests(), 1);
}

/// Mounted under `/sandbox` in another app, `next` URLs carry the prefix and work.
#[tokio::test]
async fn next_urls_work_under_a_mount_prefix() {
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
    let running = Running {
        sandbox,
        base: format!("http://127.0.0.1:{port}/sandbox"),
        http: reqwest::Client::new(),
    };
    let path = insights(
        KUWAIT,
        "2025-12-01",
        "2025-12-31",
        "fields=spend&level=campaign&time_increment=1&limit=10",
    );
    let (status, _, first) = graph(&running, &path).await;
    assert_eq!(status, 200, "{first}");
    let next = first["paging"]["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!(
            "http://127.0.0.1:{port}/sandbox/v25.0/act_1004/insights?"
        )),
        "{next}"
    );
    let rows = fetch_all(&running, &path).await;
    assert!(rows.len() > 60, "{}", rows.len());
    assert_eq!(
        running.sandbox.ads_requests() as usize,
        rows.len().div_ceil(10) + 1
    );
}
