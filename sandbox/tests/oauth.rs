//! The OAuth 2.0 authorization server, end to end over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{config, start, Running, REDIRECT_URI};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, WWW_AUTHENTICATE};
use reqwest::Url;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "sandbox_client";
const CLIENT_SECRET: &str = "sandbox_secret";
const VERIFIER: &str = "the-pkce-code-verifier-of-this-test-0123456789-abcdefghijklmnop";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// The hidden inputs of the consent form, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|chunk| {
            let name = chunk
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = chunk
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = value
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            (name.to_owned(), value)
        })
        .collect()
}

fn location_query(response: &reqwest::Response) -> (String, HashMap<String, String>) {
    let location = response.headers()[LOCATION].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    let base = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
    (base, url.query_pairs().into_owned().collect())
}

async fn consent_page(running: &Running, params: &[(&str, &str)]) -> reqwest::Response {
    running
        .http
        .get(running.url("/oauth/authorize"))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// Shows the consent page, then submits its form with `decision`; returns the redirect.
async fn decide(running: &Running, params: &[(&str, &str)], decision: &str) -> reqwest::Response {
    let page = consent_page(running, params).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"approve\"") && html.contains("id=\"deny\""));
    assert!(html.contains("<form method=\"post\" action=\"authorize\">"));
    let mut form = hidden_fields(&html);
    form.push(("decision".into(), decision.into()));
    running
        .http
        .post(running.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Runs the consent step and returns the authorization code.
async fn code_for(running: &Running, pkce: bool, state: &str) -> String {
    let challenge = challenge(VERIFIER);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "read_write"),
        ("state", state),
    ];
    if pkce {
        params.push(("code_challenge", &challenge));
        params.push(("code_challenge_method", "S256"));
    }
    let response = decide(running, &params, "approve").await;
    assert_eq!(response.status(), 302);
    let (target, query) = location_query(&response);
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(query["state"], state);
    assert_eq!(query["scope"], "read_write");
    let code = query["code"].clone();
    assert!(code.starts_with("ac_") && code.len() >= 3 + 22, "{code}");
    code
}

/// `POST /oauth/token` with a form and an optional Authorization header.
async fn token_request(
    running: &Running,
    form: &[(&str, &str)],
    authorization: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = running.http.post(running.url("/oauth/token")).form(form);
    if let Some(authorization) = authorization {
        request = request.header(AUTHORIZATION, authorization);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

async fn exchange(running: &Running, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    let (status, _, body) =
        token_request(running, &form, Some(&basic(CLIENT_ID, CLIENT_SECRET))).await;
    (status, body)
}

async fn api_status(running: &Running, token: &str) -> (u16, Value) {
    running.get_with("/v1/customers?limit=1", token).await
}

#[tokio::test]
async fn happy_path_with_pkce_and_basic_auth() {
    let running = start(config(20)).await;
    let code = code_for(&running, true, "xyz 123").await;
    let (status, headers, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read_write");
    assert_eq!(body["livemode"], false);
    assert_eq!(body["stripe_user_id"], running.sandbox.account_id());
    assert!(body["stripe_user_id"]
        .as_str()
        .unwrap()
        .starts_with("acct_"));
    assert!(body["stripe_publishable_key"]
        .as_str()
        .unwrap()
        .starts_with("pk_test_"));
    assert!(
        body.get("expires_in").is_none(),
        "Connect tokens do not expire"
    );
    let access = body["access_token"].as_str().unwrap();
    assert!(body["refresh_token"].as_str().unwrap().starts_with("rt_"));

    let (status, list) = api_status(&running, access).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
    let (status, account) = running.get_with("/v1/account", access).await;
    assert_eq!(status, 200);
    assert_eq!(account["id"], running.sandbox.account_id());
}

#[tokio::test]
async fn happy_path_with_body_auth_and_stripe_styles() {
    let running = start(config(20)).await;
    // RFC style: client_id + client_secret in the body.
    let code = code_for(&running, false, "s1").await;
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api_status(&running, body["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );

    // Stripe style: only the secret in the body, no redirect_uri.
    let page = consent_page(
        &running,
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("state", "s2"),
        ],
    )
    .await;
    assert_eq!(
        page.status(),
        200,
        "the only registered redirect URI is the default"
    );
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("decision".into(), "approve".into()));
    let response = running
        .http
        .post(running.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (target, query) = location_query(&response);
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(query["scope"], "read_only");
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query["code"]),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Stripe's curl style: HTTP Basic with the secret as user name and no password.
    let code = code_for(&running, false, "s3").await;
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
        Some(&basic(CLIENT_SECRET, "")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded() {
    let running = start(allmetrics_sandbox::SandboxConfig {
        client_id: "client:with spaces".into(),
        client_secret: "s3cr&t/+=".into(),
        ..config(5)
    })
    .await;
    let page = consent_page(
        &running,
        &[
            ("response_type", "code"),
            ("client_id", "client:with spaces"),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("decision".into(), "approve".into()));
    let response = running
        .http
        .post(running.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (_, query) = location_query(&response);
    // RFC 6749 2.3.1: both parts form-urlencoded before joining with ':'.
    let authorization = basic("client%3Awith+spaces", "s3cr%26t%2F%2B%3D");
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query["code"]),
            ("redirect_uri", REDIRECT_URI),
        ],
        Some(&authorization),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn wrong_client_credentials_are_rejected() {
    let running = start(config(5)).await;
    let code = code_for(&running, false, "s").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];

    let (status, headers, body) =
        token_request(&running, &form, Some(&basic(CLIENT_ID, "wrong"))).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());
    assert!(headers[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Basic"));

    let mut with_body = form.to_vec();
    with_body.push(("client_id", CLIENT_ID));
    with_body.push(("client_secret", "wrong"));
    let (status, headers, body) = token_request(&running, &with_body, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert!(!headers.contains_key(WWW_AUTHENTICATE));

    let mut wrong_id = form.to_vec();
    wrong_id.push(("client_id", "someone_else"));
    wrong_id.push(("client_secret", CLIENT_SECRET));
    assert_eq!(token_request(&running, &wrong_id, None).await.0, 401);

    let (status, _, body) = token_request(&running, &form, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");

    let mut both = form.to_vec();
    both.push(("client_secret", CLIENT_SECRET));
    let (status, _, body) =
        token_request(&running, &both, Some(&basic(CLIENT_ID, CLIENT_SECRET))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");

    // None of that consumed the code.
    assert_eq!(exchange(&running, &code, None).await.0, 200);
}

#[tokio::test]
async fn pkce_verifier_must_match_the_challenge() {
    let running = start(config(5)).await;
    let code = code_for(&running, true, "s").await;

    let (status, body) = exchange(&running, &code, None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    let wrong = "a-different-verifier-that-is-long-enough-to-be-valid-0123456789";
    let (status, body) = exchange(&running, &code, Some(wrong)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    let (status, body) = exchange(&running, &code, Some("short")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (status, body) = exchange(&running, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");

    // A verifier for a code that had no challenge is refused too.
    let plain = code_for(&running, false, "s").await;
    let (status, body) = exchange(&running, &plain, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn bad_pkce_method_and_response_type_redirect_with_errors() {
    let running = start(config(5)).await;
    let challenge = challenge(VERIFIER);
    let base = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("state", "st"),
    ];
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("response_type", "code"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[("response_type", "code"), ("code_challenge", &challenge)],
            "invalid_request",
        ),
        (
            &[("response_type", "code"), ("code_challenge_method", "S256")],
            "invalid_request",
        ),
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[("response_type", "code"), ("scope", "everything")],
            "invalid_scope",
        ),
    ];
    for (extra, error) in cases {
        let mut params = base.to_vec();
        params.extend_from_slice(extra);
        let response = consent_page(&running, &params).await;
        assert_eq!(response.status(), 302, "{extra:?}");
        let (target, query) = location_query(&response);
        assert_eq!(target, REDIRECT_URI);
        assert_eq!(query["error"], error, "{extra:?}");
        assert_eq!(query["state"], "st");
        assert!(!query.contains_key("code"));
    }
}

#[tokio::test]
async fn reused_code_fails_and_revokes_its_tokens() {
    let running = start(config(5)).await;
    let code = code_for(&running, true, "s").await;
    let (status, tokens) = exchange(&running, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(api_status(&running, access).await.0, 200);

    let (status, body) = exchange(&running, &code, Some(VERIFIER)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    let (status, body) = api_status(&running, access).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid API Key provided"));
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
        Some(&basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn expired_code_is_refused() {
    let running = start(config(5)).await;
    let code = code_for(&running, false, "s").await;
    running
        .sandbox
        .advance_clock(Duration::from_secs(5 * 60 + 1));
    let (status, body) = exchange(&running, &code, None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));

    let fresh = code_for(&running, false, "s").await;
    running.sandbox.advance_clock(Duration::from_secs(4 * 60));
    assert_eq!(exchange(&running, &fresh, None).await.0, 200);
}

#[tokio::test]
async fn unverifiable_clients_get_an_error_page_not_a_redirect() {
    let running = start(config(5)).await;
    let cases: [&[(&str, &str)]; 4] = [
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            (
                "redirect_uri",
                "http://localhost:8000/connect/oauth/callback/stripe/",
            ),
        ],
        &[
            ("response_type", "code"),
            ("client_id", "unknown"),
            ("redirect_uri", REDIRECT_URI),
        ],
        &[("response_type", "code"), ("redirect_uri", REDIRECT_URI)],
    ];
    for params in cases {
        let response = consent_page(&running, params).await;
        assert_eq!(response.status(), 400, "{params:?}");
        assert!(!response.headers().contains_key(LOCATION));
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("Authorization error"));
        assert!(
            !html.contains("evil.example/cb\""),
            "the URI is only shown escaped in text"
        );
    }
    // The form answer is verified again.
    let response = running
        .http
        .post(running.url("/oauth/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(!response.headers().contains_key(LOCATION));

    // Without any registered URI nothing is accepted.
    let closed = start(allmetrics_sandbox::SandboxConfig {
        redirect_uris: Vec::new(),
        ..config(5)
    })
    .await;
    let response = consent_page(
        &closed,
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);

    // The token request must repeat the authorize request's redirect_uri.
    let code = code_for(&running, false, "s").await;
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        Some(&basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = token_request(
        &running,
        &[("grant_type", "authorization_code"), ("code", &code)],
        Some(&basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(exchange(&running, &code, None).await.0, 200);
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_state() {
    let running = start(config(5)).await;
    let response = decide(
        &running,
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("state", "opaque/state=1&x"),
        ],
        "deny",
    )
    .await;
    assert_eq!(response.status(), 302);
    let (target, query) = location_query(&response);
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(query["error"], "access_denied");
    assert!(!query["error_description"].is_empty());
    assert_eq!(query["state"], "opaque/state=1&x");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let running = start(config(5)).await;
    let code = code_for(&running, false, "s").await;
    let (_, first) = exchange(&running, &code, None).await;
    let refresh = |token: String, scope: Option<&'static str>| {
        let running = &running;
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", token.as_str()),
            ];
            if let Some(scope) = scope {
                form.push(("scope", scope));
            }
            let (status, _, body) =
                token_request(running, &form, Some(&basic(CLIENT_ID, CLIENT_SECRET))).await;
            (status, body)
        }
    };
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(first_refresh.clone(), None).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["scope"], "read_write");
    assert_eq!(
        api_status(&running, second["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );

    // The old refresh token was rotated away.
    let (status, body) = refresh(first_refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Narrowing the scope is allowed; widening it back is not.
    let (status, third) = refresh(
        second["refresh_token"].as_str().unwrap().to_owned(),
        Some("read_only"),
    )
    .await;
    assert_eq!((status, third["scope"].as_str()), (200, Some("read_only")));
    let (status, body) = refresh(
        third["refresh_token"].as_str().unwrap().to_owned(),
        Some("read_write"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt_nope"),
        ],
        Some(&basic(CLIENT_ID, "bad")),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn grant_type_is_checked() {
    let running = start(config(5)).await;
    let auth = basic(CLIENT_ID, CLIENT_SECRET);
    let (status, _, body) = token_request(
        &running,
        &[("grant_type", "client_credentials")],
        Some(&auth),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, _, body) = token_request(&running, &[("code", "ac_x")], Some(&auth)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _, body) = token_request(
        &running,
        &[("grant_type", "authorization_code"), ("code", "ac_unknown")],
        Some(&auth),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = token_request(
        &running,
        &[
            ("grant_type", "authorization_code"),
            ("code", "a"),
            ("code", "b"),
        ],
        Some(&auth),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn expiring_tokens_report_expires_in_and_expire() {
    let running = start(allmetrics_sandbox::SandboxConfig {
        access_token_ttl: Some(Duration::from_secs(60)),
        ..config(5)
    })
    .await;
    let code = code_for(&running, false, "s").await;
    let (status, tokens) = exchange(&running, &code, None).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["expires_in"], 60);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(api_status(&running, access).await.0, 200);

    running.sandbox.advance_clock(Duration::from_secs(61));
    let (status, body) = api_status(&running, access).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "api_key_expired");

    let (status, _, renewed) = token_request(
        &running,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
        Some(&basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        api_status(&running, renewed["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn revocation_and_deauthorization() {
    let running = start(config(5)).await;
    let issue = || async {
        let code = code_for(&running, false, "s").await;
        let (status, tokens) = exchange(&running, &code, None).await;
        assert_eq!(status, 200);
        tokens["access_token"].as_str().unwrap().to_owned()
    };

    let access = issue().await;
    running.sandbox.revoke_all();
    assert_eq!(api_status(&running, &access).await.0, 401);

    // RFC 7009 revocation (client-authenticated); unknown tokens are fine.
    let access = issue().await;
    for token in [access.as_str(), "sk_test_unknown"] {
        let response = running
            .http
            .post(running.url("/oauth/revoke"))
            .header(AUTHORIZATION, basic(CLIENT_ID, CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(api_status(&running, &access).await.0, 401);
    let unauthenticated = running
        .http
        .post(running.url("/oauth/revoke"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);

    // Stripe's deauthorize: the secret as Bearer, client_id and stripe_user_id in the body.
    let access = issue().await;
    let deauthorize = |account: String| {
        running
            .http
            .post(running.url("/oauth/deauthorize"))
            .bearer_auth(CLIENT_SECRET)
            .form(&[
                ("client_id", CLIENT_ID.to_owned()),
                ("stripe_user_id", account),
            ])
            .send()
    };
    let response = deauthorize("acct_someone_else".into()).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(api_status(&running, &access).await.0, 200);
    let response = deauthorize(running.sandbox.account_id().to_owned())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["stripe_user_id"], running.sandbox.account_id());
    assert_eq!(api_status(&running, &access).await.0, 401);

    // The backend's style: HTTP Basic with the secret as user name, no password.
    let access = issue().await;
    let response = running
        .http
        .post(running.url("/oauth/deauthorize"))
        .basic_auth(CLIENT_SECRET, Option::<&str>::None)
        .form(&[
            ("client_id", CLIENT_ID),
            ("stripe_user_id", running.sandbox.account_id()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api_status(&running, &access).await.0, 401);

    let response = running
        .http
        .post(running.url("/oauth/deauthorize"))
        .bearer_auth("not-the-secret")
        .form(&[
            ("client_id", CLIENT_ID),
            ("stripe_user_id", running.sandbox.account_id()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// Mounted inside another app under `/sandbox`, the consent form (relative action) and the API still work.
#[tokio::test]
async fn works_under_a_mount_prefix() {
    let sandbox = allmetrics_sandbox::Sandbox::new(config(30));
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
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let page_url = Url::parse(&format!("http://127.0.0.1:{port}/sandbox/oauth/authorize")).unwrap();
    let page = http
        .get(page_url.clone())
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let action = html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let target = page_url.join(action).unwrap();
    assert_eq!(target.path(), "/sandbox/oauth/authorize");
    let mut form = hidden_fields(&html);
    form.push(("decision".into(), "approve".into()));
    let response = http.post(target).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let (_, query) = location_query(&response);

    let token: Value = http
        .post(format!("http://127.0.0.1:{port}/sandbox/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &query["code"]),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list: Value = http
        .get(format!(
            "http://127.0.0.1:{port}/sandbox/v1/customers?limit=3"
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["url"], "/v1/customers");
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        list["data"][0]["id"],
        sandbox
            .generator()
            .id(allmetrics_sandbox::ObjectKind::Customer, 29)
    );
}
