//! The connect flow against a fake provider on loopback: every failure stores nothing.

use std::collections::HashMap;
use std::time::Duration;

use allmetrics::domain::{OAuthState, UserId};
use allmetrics_common::{AuthorizeUrlResponse, UserResponse};

use crate::fake_provider::{stripe_grant, FakeProvider, TokenBehaviour, VALID_API_KEY};
use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    authorize_requires_a_signed_in_user_and_a_usable_source,
    authorize_redirects_with_state_and_the_exact_redirect_uri,
    the_callback_stores_an_encrypted_connection_with_the_providers_fields,
    callback_failures_store_nothing,
    token_endpoint_failures_store_nothing,
    api_keys_are_checked_then_stored_encrypted,
    disconnecting_deauthorizes_and_deletes,
    sources_with_connections_are_deleted_only_when_forced,
    expiring_tokens_are_refreshed_and_invalid_grant_needs_reconnect,
    keys_rotate_without_losing_a_token,
);

async fn app_with_fake(kind: DbKind, behaviour: TokenBehaviour) -> (TestApp, FakeProvider) {
    let fake = FakeProvider::start(behaviour).await;
    let provider = fake.settings();
    let app = spawn_app_with(kind, move |settings| {
        settings.providers.insert("stripe".into(), provider.clone());
        settings.providers.insert("google".into(), provider);
    })
    .await;
    (app, fake)
}

fn query_of(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

async fn connection_count(app: &TestApp) -> usize {
    app.repository.all_connections().await.unwrap().len()
}

async fn authorize_requires_a_signed_in_user_and_a_usable_source(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    // No Stripe credentials on this server.
    let body = assert_error(
        app.get_authorize_json(&user, "stripe").await,
        409,
        "source_not_configured",
    )
    .await;
    assert!(body.message.contains("APP_PROVIDERS__STRIPE__CLIENT_ID"));
    assert_error(
        app.get_authorize_json(&user, "paypal").await,
        404,
        "unknown_source",
    )
    .await;

    let anonymous = app.new_client();
    let api = anonymous
        .get(app.url("/connect/authorize/demo"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(api, 401, "unauthorized").await;
    let browser = anonymous
        .get(app.url("/connect/authorize/demo/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status().as_u16(), 302);
    // A browser without a session resumes it from the refresh cookie, or signs in.
    assert_eq!(
        browser.headers()["location"],
        "/api/v1/auth/resume?next=%2Fconnect%2Fauthorize%2Fdemo"
    );
    let resume = anonymous
        .get(app.url("/api/v1/auth/resume?next=%2Fconnect%2Fauthorize%2Fdemo"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resume.headers()["location"],
        "/login?next=%2Fconnect%2Fauthorize%2Fdemo"
    );
}

async fn authorize_redirects_with_state_and_the_exact_redirect_uri(kind: DbKind) {
    let (app, fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let user = app.sign_up("ann@example.com").await.access_token;

    let url = app.authorize_url(&user, "stripe").await;
    assert!(url
        .as_str()
        .starts_with(&format!("{}/oauth/authorize?", fake.base_url)));
    let query = query_of(&url);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "ca_fake_client");
    assert_eq!(
        query["redirect_uri"],
        format!("{}/connect/oauth/callback/stripe/", app.address)
    );
    assert_eq!(query["scope"], "read_write");
    assert!(query["state"].len() >= 43, "at least 256 bits, base64");
    assert!(
        !query.contains_key("code_challenge"),
        "Stripe Connect takes no PKCE"
    );

    let second = query_of(&app.authorize_url(&user, "stripe").await);
    assert_ne!(second["state"], query["state"], "a new state every time");

    let json: AuthorizeUrlResponse = app
        .get_authorize_json(&user, "stripe")
        .await
        .json()
        .await
        .unwrap();
    assert!(json.authorize_url.contains("state="));

    // Google takes PKCE and offline access.
    let google = query_of(&app.authorize_url(&user, "google").await);
    assert_eq!(google["code_challenge_method"], "S256");
    assert_eq!(google["code_challenge"].len(), 43);
    assert_eq!(google["access_type"], "offline");

    // Only hashes of the states are stored.
    let raw = app.database.raw_secrets_text().await;
    assert!(!raw.contains(&query["state"]) && !raw.contains(&second["state"]));
}

async fn connect_stripe(app: &TestApp, user: &str) -> reqwest::Response {
    let state = query_of(&app.authorize_url(user, "stripe").await)["state"].clone();
    app.get_callback(
        user,
        "stripe",
        &[
            ("code", "ac_fake_code"),
            ("state", &state),
            ("scope", "read_write"),
        ],
    )
    .await
}

async fn the_callback_stores_an_encrypted_connection_with_the_providers_fields(kind: DbKind) {
    let (app, fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let done = connect_stripe(&app, &user).await;
    assert_eq!(done.status().as_u16(), 302);
    assert_eq!(done.headers()["location"], "/sources?connected=stripe");

    // The exchange: code, exact redirect URI, client secret in the body (Stripe's style).
    let (form, authorization) = fake.recorded(|r| {
        (
            r.token_requests[0].clone(),
            r.token_authorizations[0].clone(),
        )
    });
    let form: HashMap<_, _> = form.into_iter().collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "ac_fake_code");
    assert_eq!(
        form["redirect_uri"],
        format!("{}/connect/oauth/callback/stripe/", app.address)
    );
    assert_eq!(form["client_secret"], "sk_fake_platform_secret");
    assert!(authorization.is_none());

    let connections = app.get_connections(&user).await;
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection.source, "stripe");
    assert_eq!(connection.account_id.as_deref(), Some("acct_1Fake"));
    assert_eq!(
        (connection.status.as_str(), connection.auth_kind.as_str()),
        ("active", "oauth")
    );
    assert_eq!(connection.scopes, "read_write");
    let sources = app.get_sources(&user).await;
    let stripe = sources.iter().find(|s| s.slug == "stripe").unwrap();
    assert_eq!(stripe.connection.as_ref(), Some(connection));

    // The provider's extra fields are kept, its secrets are not, and tokens are encrypted.
    let stored = &app.repository.all_connections().await.unwrap()[0];
    assert_eq!(
        stored.token_response["stripe_publishable_key"],
        "pk_test_connected"
    );
    assert_eq!(stored.token_response["stripe_user_id"], "acct_1Fake");
    assert!(stored.token_response.get("access_token").is_none());
    assert!(stored.token_response.get("refresh_token").is_none());
    let raw = app.database.raw_secrets_text().await;
    assert!(
        !raw.contains("sk_test_connected_access") && !raw.contains("rt_connected_refresh"),
        "{raw}"
    );
    assert!(stored.access_token_enc.starts_with("v1:test1:"));
    let token = allmetrics::tokens::access_token(&app.state.services(), stored)
        .await
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&token),
        "sk_test_connected_access"
    );

    // No API answer carries a token.
    for path in ["/api/v1/connections", "/api/v1/sources"] {
        let body = app.get_authed(path, &user).await.text().await.unwrap();
        assert!(
            !body.contains("sk_test_connected") && !body.contains("rt_connected"),
            "{body}"
        );
    }

    // Reconnecting updates the connection in place.
    let mut grant = stripe_grant();
    grant["stripe_user_id"] = "acct_2Other".into();
    fake.set(TokenBehaviour::Grant(grant));
    assert_eq!(connect_stripe(&app, &user).await.status().as_u16(), 302);
    let after = app.get_connections(&user).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].account_id.as_deref(), Some("acct_2Other"));
}

async fn callback_failures_store_nothing(kind: DbKind) {
    let (app, fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let ann = app.sign_up("ann@example.com").await.access_token;
    let bob = app.sign_up("bob@example.com").await.access_token;
    let fresh_state = |slug: &'static str| {
        let app = &app;
        let ann = ann.clone();
        async move { query_of(&app.authorize_url(&ann, slug).await)["state"].clone() }
    };

    // Missing and forged states.
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c")]).await,
        400,
        "invalid_state",
    )
    .await;
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", "forged")])
            .await,
        400,
        "invalid_state",
    )
    .await;

    // Another user's state (and it is burned: not even its owner can use it afterwards).
    let state = fresh_state("stripe").await;
    assert_error(
        app.get_callback(&bob, "stripe", &[("code", "c"), ("state", &state)])
            .await,
        400,
        "invalid_state",
    )
    .await;
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", &state)])
            .await,
        400,
        "invalid_state",
    )
    .await;

    // A state for another source.
    let google_state = fresh_state("google").await;
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", &google_state)])
            .await,
        400,
        "invalid_state",
    )
    .await;

    // An expired state.
    let me: UserResponse = app.get_me(&ann).await.json().await.unwrap();
    app.repository
        .create_oauth_state(OAuthState {
            state_hash: allmetrics::auth::session::hash_token("expired-state"),
            user_id: UserId(me.id),
            slug: "stripe".into(),
            pkce_verifier_enc: None,
            redirect_uri: format!("{}/connect/oauth/callback/stripe/", app.address),
            expires_at: chrono::Utc::now().timestamp() - 1,
        })
        .await
        .unwrap();
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", "expired-state")])
            .await,
        400,
        "invalid_state",
    )
    .await;

    // The user declined at the provider.
    let state = fresh_state("stripe").await;
    let declined = app
        .get_callback(
            &ann,
            "stripe",
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied"),
                ("state", &state),
            ],
        )
        .await;
    assert_eq!(declined.status().as_u16(), 302);
    assert_eq!(
        declined.headers()["location"],
        "/sources?error=access_denied&source=stripe"
    );
    // ...and that state is spent.
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", &state)])
            .await,
        400,
        "invalid_state",
    )
    .await;

    assert_eq!(
        fake.recorded(|r| r.token_requests.len()),
        0,
        "no code was exchanged"
    );
    assert_eq!(connection_count(&app).await, 0);

    // A replayed state: the first use connects, the second is refused.
    let state = fresh_state("stripe").await;
    assert_eq!(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", &state)])
            .await
            .status()
            .as_u16(),
        302
    );
    assert_error(
        app.get_callback(&ann, "stripe", &[("code", "c"), ("state", &state)])
            .await,
        400,
        "invalid_state",
    )
    .await;
    assert_eq!(fake.recorded(|r| r.token_requests.len()), 1);

    // Browsers get a page rather than JSON.
    let page = app
        .client
        .get(app.url("/connect/oauth/callback/stripe/?code=c&state=forged"))
        .bearer_auth(&ann)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 400);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Connecting failed") && html.contains("invalid_state"),
        "{html}"
    );
}

async fn token_endpoint_failures_store_nothing(kind: DbKind) {
    let (app, fake) = app_with_fake(kind, TokenBehaviour::Refuse("invalid_grant")).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    for (behaviour, expected) in [
        (TokenBehaviour::Refuse("invalid_grant"), "invalid_grant"),
        (TokenBehaviour::ServerError, "not understand"),
        (
            TokenBehaviour::Hang(Duration::from_secs(6)),
            "did not answer in time",
        ),
    ] {
        fake.set(behaviour);
        let body = assert_error(
            connect_stripe(&app, &user).await,
            502,
            "token_exchange_failed",
        )
        .await;
        assert!(body.message.contains(expected), "{}", body.message);
        assert_eq!(connection_count(&app).await, 0);
    }
}

async fn api_keys_are_checked_then_stored_encrypted(kind: DbKind) {
    let (app, _fake) = app_with_fake(kind, TokenBehaviour::ServerError).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    assert_error(
        app.post_api_key(&user, "stripe", "rk_test_wrong").await,
        400,
        "invalid_api_key",
    )
    .await;
    assert_error(
        app.post_api_key(&user, "stripe", "has space").await,
        400,
        "invalid_api_key",
    )
    .await;
    assert_error(
        app.post_api_key(&user, "google", VALID_API_KEY).await,
        400,
        "api_key_not_supported",
    )
    .await;
    assert_eq!(connection_count(&app).await, 0);

    let connected = app.post_api_key(&user, "stripe", VALID_API_KEY).await;
    assert_eq!(connected.status().as_u16(), 201);
    let body = connected.text().await.unwrap();
    assert!(!body.contains(VALID_API_KEY));
    let connections = app.get_connections(&user).await;
    assert_eq!(connections[0].auth_kind, "api_key");
    assert!(!app
        .database
        .raw_secrets_text()
        .await
        .contains(VALID_API_KEY));
}

async fn disconnecting_deauthorizes_and_deletes(kind: DbKind) {
    let (app, fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect_stripe(&app, &user).await;
    assert_eq!(
        app.delete_connection(&user, "stripe")
            .await
            .status()
            .as_u16(),
        204
    );
    let deauthorized = fake.recorded(|r| r.deauthorizations.clone());
    assert_eq!(deauthorized.len(), 1);
    let form: HashMap<_, _> = deauthorized[0].iter().cloned().collect();
    assert_eq!(
        (form["client_id"].as_str(), form["stripe_user_id"].as_str()),
        ("ca_fake_client", "acct_1Fake")
    );
    assert!(app.get_connections(&user).await.is_empty());
    assert_eq!(connection_count(&app).await, 0);
    assert_error(
        app.delete_connection(&user, "stripe").await,
        404,
        "not_connected",
    )
    .await;
    assert_error(
        app.delete_connection(&user, "paypal").await,
        404,
        "unknown_source",
    )
    .await;

    // Google revokes the refresh token at its revocation endpoint.
    let google_grant = serde_json::json!({"access_token": "ya29.access", "refresh_token": "1//refresh",
        "expires_in": 3599, "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/analytics.readonly"});
    fake.set(TokenBehaviour::Grant(google_grant));
    let state = query_of(&app.authorize_url(&user, "google").await)["state"].clone();
    assert_eq!(
        app.get_callback(&user, "google", &[("code", "g"), ("state", &state)])
            .await
            .status()
            .as_u16(),
        302
    );
    assert_eq!(
        app.delete_connection(&user, "google")
            .await
            .status()
            .as_u16(),
        204
    );
    let revoked = fake.recorded(|r| r.revocations.clone());
    assert_eq!(
        revoked[0],
        vec![("token".to_string(), "1//refresh".to_string())]
    );
}

async fn sources_with_connections_are_deleted_only_when_forced(kind: DbKind) {
    let (app, _fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let admin = app.sign_up("admin@example.com").await.access_token;
    connect_stripe(&app, &admin).await;
    let refused = app
        .call(
            reqwest::Method::DELETE,
            "/api/v1/admin/sources/stripe",
            &admin,
            None,
        )
        .await;
    assert_error(refused, 409, "source_in_use").await;
    assert_eq!(connection_count(&app).await, 1);
    let forced = app
        .call(
            reqwest::Method::DELETE,
            "/api/v1/admin/sources/stripe?force=true",
            &admin,
            None,
        )
        .await;
    assert_eq!(forced.status().as_u16(), 204);
    assert_eq!(connection_count(&app).await, 0);
}

async fn expiring_tokens_are_refreshed_and_invalid_grant_needs_reconnect(kind: DbKind) {
    let (app, fake) = app_with_fake(
        kind,
        TokenBehaviour::Grant(serde_json::json!({
        "access_token": "first-access", "refresh_token": "first-refresh", "expires_in": 60,
        "token_type": "Bearer"})),
    )
    .await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let state = query_of(&app.authorize_url(&user, "google").await)["state"].clone();
    app.get_callback(&user, "google", &[("code", "g"), ("state", &state)])
        .await;

    // Less than 5 minutes left: refreshed before use. Google sends no new refresh token.
    fake.set(TokenBehaviour::Grant(serde_json::json!({
        "access_token": "second-access", "expires_in": 3599, "token_type": "Bearer"})));
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let token = allmetrics::tokens::access_token(&app.state.services(), &connection)
        .await
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&token),
        "second-access"
    );
    let refresh_form: HashMap<_, _> = fake
        .recorded(|r| r.token_requests.last().unwrap().clone())
        .into_iter()
        .collect();
    assert_eq!(refresh_form["grant_type"], "refresh_token");
    assert_eq!(refresh_form["refresh_token"], "first-refresh");
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    assert!(connection.expires_at.unwrap() > chrono::Utc::now().timestamp() + 3000);
    assert!(
        connection.refresh_token_enc.is_some(),
        "the old refresh token is kept"
    );

    // In the background, ahead of expiry; a refused refresh token needs a reconnect.
    fake.set(TokenBehaviour::Refuse("invalid_grant"));
    let refreshed =
        allmetrics::tokens::refresh_expiring(&app.state.services(), Duration::from_secs(7200))
            .await
            .unwrap();
    assert_eq!(refreshed, 0);
    let connections = app.get_connections(&user).await;
    assert_eq!(connections[0].status, "needs_reconnect");
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    assert!(matches!(
        allmetrics::tokens::access_token(&app.state.services(), &connection).await,
        Err(allmetrics::tokens::RefreshError::NeedsReconnect)
    ));
    // Reconnecting makes it usable again: it waits for its property to be chosen (this fake
    // lists none).
    fake.set(TokenBehaviour::Grant(
        serde_json::json!({"access_token": "third", "refresh_token": "r3",
        "expires_in": 3599, "token_type": "Bearer"}),
    ));
    let state = query_of(&app.authorize_url(&user, "google").await)["state"].clone();
    app.get_callback(&user, "google", &[("code", "g"), ("state", &state)])
        .await;
    assert_eq!(app.get_connections(&user).await[0].status, "needs_account");
}

async fn keys_rotate_without_losing_a_token(kind: DbKind) {
    let (app, _fake) = app_with_fake(kind, TokenBehaviour::Grant(stripe_grant())).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    connect_stripe(&app, &user).await;
    app.post_api_key(&user, "stripe", VALID_API_KEY).await;
    connect_stripe(&app, &user).await;

    let new_key = allmetrics::crypto::generate_key_entry("test2").unwrap();
    let both = allmetrics::crypto::TokenCipher::from_spec(&format!(
        "{new_key},{}",
        crate::helpers::TEST_TOKEN_KEYS
    ))
    .unwrap();
    let (rotated, current) = allmetrics::tokens::rotate_keys(app.repository.as_ref(), &both)
        .await
        .unwrap();
    assert_eq!((rotated, current), (1, 0));
    let (rotated, current) = allmetrics::tokens::rotate_keys(app.repository.as_ref(), &both)
        .await
        .unwrap();
    assert_eq!((rotated, current), (0, 1), "a second run has nothing to do");

    let only_new = allmetrics::crypto::TokenCipher::from_spec(&new_key).unwrap();
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    assert!(stored.access_token_enc.starts_with("v1:test2:"));
    let context = allmetrics::tokens::token_context(stored.user_id, "stripe", "access");
    let token = only_new
        .decrypt(&stored.access_token_enc, &context)
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&token),
        "sk_test_connected_access"
    );
}
