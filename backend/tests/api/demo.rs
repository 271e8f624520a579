//! The whole connect flow against a real OAuth2 authorization server on loopback: the built-in
//! sandbox, mounted at `/sandbox`, exactly as a new user meets it after `make run`.

use std::collections::HashMap;

use secrecy::ExposeSecret;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    connecting_the_demo_goes_through_a_real_authorization_server,
    the_server_checks_pkce,
    both_client_authentication_styles_work,
    denying_at_the_consent_page_stores_nothing,
    the_demo_also_connects_with_an_api_key,
);

/// The hidden fields of the consent page's form, read as a browser would.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for input in html.split("<input").skip(1) {
        let tag = &input[..input.find('>').unwrap_or(input.len())];
        let attribute = |name: &str| {
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            let end = tag[start..].find('"')? + start;
            Some(
                tag[start..end]
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&"),
            )
        };
        if attribute("type").as_deref() == Some("hidden") {
            fields.push((
                attribute("name").unwrap(),
                attribute("value").unwrap_or_default(),
            ));
        }
    }
    fields
}

/// Starts connecting, shows the consent page, clicks `decision`; returns where the sandbox sends
/// the browser (our callback with a code, or with an error).
pub async fn consent(app: &TestApp, user: &str, slug: &str, decision: &str) -> url::Url {
    let authorize = app.authorize_url(user, slug).await;
    assert!(authorize
        .as_str()
        .starts_with(&format!("{}/sandbox/oauth/authorize?", app.address)));
    let page = app.client.get(authorize.clone()).send().await.unwrap();
    let status = page.status().as_u16();
    let html = page.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("id=\"approve\"") && html.contains("id=\"deny\""),
        "{html}"
    );
    let mut form = hidden_fields(&html);
    form.push(("decision".into(), decision.into()));
    let answer = app
        .client
        .post(authorize.as_str().split('?').next().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap()
}

pub async fn follow_callback(app: &TestApp, user: &str, callback: &url::Url) -> reqwest::Response {
    app.client
        .get(callback.as_str())
        .bearer_auth(user)
        .send()
        .await
        .unwrap()
}

async fn connecting_the_demo_goes_through_a_real_authorization_server(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let callback = consent(&app, &user, "demo", "approve").await;
    assert_eq!(callback.path(), "/connect/oauth/callback/demo/");
    let query: HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert!(query.contains_key("code") && query.contains_key("state"));

    let done = follow_callback(&app, &user, &callback).await;
    assert_eq!(done.status().as_u16(), 302);
    assert_eq!(done.headers()["location"], "/sources?connected=demo");

    let sandbox = app.state.sandbox.as_ref().unwrap();
    let connection = app.get_connections(&user).await.remove(0);
    assert_eq!(connection.account_id.as_deref(), Some(sandbox.account_id()));
    assert_eq!(connection.scopes, "read_only");
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    assert_eq!(
        stored.token_response["stripe_publishable_key"],
        sandbox.publishable_key()
    );
    assert_eq!(stored.token_response["livemode"], false);

    // The stored token works on the provider's API, and is stored only encrypted.
    let token = allmetrics::tokens::access_token(&app.state.services(), &stored)
        .await
        .unwrap();
    assert!(!app
        .database
        .raw_secrets_text()
        .await
        .contains(token.expose_secret()));
    let customers = app
        .client
        .get(app.url("/sandbox/v1/customers?limit=3"))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status().as_u16(), 200);
    let list: serde_json::Value = customers.json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 3);

    // The code is single use: replaying the whole callback fails and changes nothing.
    assert_error(
        follow_callback(&app, &user, &callback).await,
        400,
        "invalid_state",
    )
    .await;

    // Disconnecting deauthorizes at the sandbox: the token stops working there.
    assert_eq!(
        app.delete_connection(&user, "demo").await.status().as_u16(),
        204
    );
    let after = app
        .client
        .get(app.url("/sandbox/v1/customers?limit=1"))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);
}

async fn the_server_checks_pkce(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let callback = consent(&app, &user, "demo", "approve").await;
    // Swap the stored verifier for another one before the code is exchanged.
    let state = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let hash = allmetrics::auth::session::hash_token(&state);
    let mut pending = app
        .repository
        .take_oauth_state(&hash)
        .await
        .unwrap()
        .unwrap();
    pending.pkce_verifier_enc = Some(
        app.state
            .cipher
            .encrypt(&"x".repeat(64), &format!("oauth_state/{hash}"))
            .unwrap(),
    );
    app.repository.create_oauth_state(pending).await.unwrap();

    let body = assert_error(
        follow_callback(&app, &user, &callback).await,
        502,
        "token_exchange_failed",
    )
    .await;
    assert!(body.message.contains("invalid_grant"), "{}", body.message);
    assert!(app.get_connections(&user).await.is_empty());
}

async fn both_client_authentication_styles_work(kind: DbKind) {
    for style in ["basic", "body"] {
        let app = spawn_app_with(kind, |settings| {
            settings.providers.insert(
                "demo".into(),
                allmetrics::configuration::ProviderSettings {
                    client_auth: Some(style.into()),
                    ..Default::default()
                },
            );
        })
        .await;
        let user = app.sign_up("ann@example.com").await.access_token;
        let callback = consent(&app, &user, "demo", "approve").await;
        let done = follow_callback(&app, &user, &callback).await;
        assert_eq!(done.status().as_u16(), 302, "client auth {style}");
        assert_eq!(
            app.get_connections(&user).await.len(),
            1,
            "client auth {style}"
        );
    }
}

async fn denying_at_the_consent_page_stores_nothing(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let callback = consent(&app, &user, "demo", "deny").await;
    let query: HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert_eq!(query["error"], "access_denied");
    let done = follow_callback(&app, &user, &callback).await;
    assert_eq!(
        done.headers()["location"],
        "/sources?error=access_denied&source=demo"
    );
    assert!(app.get_connections(&user).await.is_empty());
}

async fn the_demo_also_connects_with_an_api_key(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    assert_error(
        app.post_api_key(&user, "demo", "sk_test_wrong").await,
        400,
        "invalid_api_key",
    )
    .await;
    let key = app.state.settings.sandbox.api_key.clone().unwrap();
    assert_eq!(
        app.post_api_key(&user, "demo", &key)
            .await
            .status()
            .as_u16(),
        201
    );
    assert_eq!(app.get_connections(&user).await[0].auth_kind, "api_key");
}
