//! No password, hash or token reaches the logs, at any level: this binary captures everything the
//! server logs (TRACE) during a full register/login/refresh/logout cycle and searches it.
//! (A binary of its own because the log subscriber is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use allmetrics::configuration::Environment;
use allmetrics_common::TokenResponse;
use helpers::{spawn_app, DbKind, PASSWORD, TEST_JWT_SECRET};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        // Everything the server logs; the test's own HTTP client is left out.
        let subscriber = allmetrics::telemetry::get_subscriber(
            Environment::Production,
            "trace,hyper=off,hyper_util=off,reqwest=off,h2=off",
            capture.clone(),
        );
        allmetrics::telemetry::init_subscriber(subscriber).unwrap();
        capture
    })
}

async fn no_secret_is_logged(kind: DbKind) {
    let capture = capture();
    let app = spawn_app(kind).await;
    let email = format!("logs-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = format!("{PASSWORD} {}", uuid::Uuid::new_v4().simple());

    assert_eq!(
        app.post_register(&email, &password).await.status().as_u16(),
        201
    );
    assert_eq!(
        app.post_login(&email, "a wrong password!")
            .await
            .status()
            .as_u16(),
        401
    );
    let login = app.post_login(&email, &password).await;
    let csrf = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .find(|cookie| cookie.starts_with("allmetrics_csrf="))
        .unwrap();
    let first: TokenResponse = login.json().await.unwrap();
    assert_eq!(app.get_me(&first.access_token).await.status().as_u16(), 200);
    let second: TokenResponse = app
        .post_refresh(&first.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.post_logout(&second.access_token)
            .await
            .status()
            .as_u16(),
        204
    );
    // Replaying a spent refresh token is refused (and would end the session had logout not).
    assert_eq!(
        app.post_refresh(&first.refresh_token)
            .await
            .status()
            .as_u16(),
        401
    );

    let stored_hash = app
        .repository
        .user_credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).to_string();
    assert!(logs.contains("signed in"), "the logs were captured");

    let csrf_value = csrf
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("allmetrics_csrf=");
    let secrets = [
        ("the password", password.as_str()),
        ("the password hash", stored_hash.as_str()),
        (
            "the hash's salt and digest",
            stored_hash.rsplit('$').next().unwrap(),
        ),
        ("an access token", first.access_token.as_str()),
        (
            "an access token's signature",
            first.access_token.rsplit('.').next().unwrap(),
        ),
        ("a refresh token", first.refresh_token.as_str()),
        ("a rotated refresh token", second.refresh_token.as_str()),
        ("the CSRF token", csrf_value),
        ("the JWT secret", TEST_JWT_SECRET),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} appears in the logs");
    }
}

/// A whole Demo connect (consent, callback, API call, disconnect) logs no token, code, state,
/// verifier or client secret.
async fn no_provider_secret_is_logged(kind: DbKind) {
    let capture = capture();
    let app = spawn_app(kind).await;
    let user = app
        .sign_up(&format!("c-{}@example.com", uuid::Uuid::new_v4().simple()))
        .await;
    let authorize = app.authorize_url(&user.access_token, "demo").await;
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let page = app
        .client
        .get(authorize.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("approve"));
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    let approved = app
        .client
        .post(authorize.as_str().split('?').next().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let callback = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let done = app
        .client
        .get(callback.as_str())
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 302);
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let token = allmetrics::tokens::access_token(&app.state.services(), &connection)
        .await
        .unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token).to_string();
    assert_eq!(
        app.delete_connection(&user.access_token, "demo")
            .await
            .status()
            .as_u16(),
        204
    );

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).to_string();
    assert!(logs.contains("connected"), "the logs were captured");
    let client_secret =
        secrecy::ExposeSecret::expose_secret(&app.state.settings.sandbox.client_secret).to_string();
    for (what, secret) in [
        ("the access token", token.as_str()),
        ("the authorization code", code.as_str()),
        ("the state", state.as_str()),
        ("the client secret", client_secret.as_str()),
        (
            "the token encryption key",
            helpers::TEST_TOKEN_KEYS.split(':').nth(1).unwrap(),
        ),
    ] {
        assert!(!logs.contains(secret), "{what} appears in the logs");
    }
}

#[tokio::test]
async fn no_provider_secret_is_logged_sqlite() {
    no_provider_secret_is_logged(DbKind::Sqlite).await;
}

#[tokio::test]
async fn no_provider_secret_is_logged_postgres() {
    no_provider_secret_is_logged(DbKind::Postgres).await;
}

#[tokio::test]
async fn no_secret_is_logged_sqlite() {
    no_secret_is_logged(DbKind::Sqlite).await;
}

#[tokio::test]
async fn no_secret_is_logged_postgres() {
    no_secret_is_logged(DbKind::Postgres).await;
}
