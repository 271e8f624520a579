//! The first administrator: in `local` the first account to register; in `production` only the
//! one-time setup token (or the command line) makes one.

use allmetrics::auth::setup_token::{self, SetupToken};
use allmetrics::configuration::Environment;
use allmetrics_common::UserResponse;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    in_local_the_first_account_is_admin_and_no_token_is_made,
    in_production_registration_makes_no_admin_but_the_setup_token_does_once,
    setup_tokens_expire_and_a_later_start_makes_a_new_one,
);

async fn register(app: &TestApp, email: &str, token: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(token) = token {
        body["setup_token"] = json!(token);
    }
    app.post_json("/api/v1/auth/register", &body).await
}

async fn production_app(kind: DbKind) -> TestApp {
    spawn_app_with(kind, |settings| {
        settings.environment = Environment::Production
    })
    .await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn in_local_the_first_account_is_admin_and_no_token_is_made(kind: DbKind) {
    let app = spawn_app(kind).await;
    let first: UserResponse = register(&app, "ann@example.com", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first.role.as_str(), "admin");
    setup_token::announce(&app.state.settings, app.repository.as_ref())
        .await
        .unwrap();
    assert_eq!(app.repository.setup_token_expiry().await.unwrap(), None);
}

async fn in_production_registration_makes_no_admin_but_the_setup_token_does_once(kind: DbKind) {
    let app = production_app(kind).await;
    let first = register(&app, "ann@example.com", None).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: UserResponse = first.json().await.unwrap();
    assert_eq!(first.role.as_str(), "user");

    // The first server to start makes the token; another replica on the same database does not.
    let SetupToken::Issued { token, expires_at } =
        setup_token::prepare(app.repository.as_ref(), now())
            .await
            .unwrap()
    else {
        panic!("no setup token was made");
    };
    assert!(matches!(
        setup_token::prepare(app.repository.as_ref(), now()).await.unwrap(),
        SetupToken::Pending { expires_at: pending } if pending == expires_at
    ));
    let token = token.expose_secret().to_string();

    // It is stored hashed, not in clear.
    let stored: String = match kind {
        DbKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            sqlx::query_scalar("SELECT token_hash FROM setup_token")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
        DbKind::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            sqlx::query_scalar("SELECT token_hash FROM setup_token")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(!stored.contains(&token) && !token.contains(&stored));

    // A wrong token stores nothing.
    assert_error(
        register(&app, "bob@example.com", Some("setup_wrong")).await,
        403,
        "invalid_setup_token",
    )
    .await;
    assert_eq!(app.repository.list_users().await.unwrap().len(), 1);

    // A taken email keeps the token for a retry.
    assert_error(
        register(&app, "ann@example.com", Some(&token)).await,
        409,
        "email_taken",
    )
    .await;

    let admin = register(&app, "root@example.com", Some(&token)).await;
    assert_eq!(admin.status().as_u16(), 201);
    let admin: UserResponse = admin.json().await.unwrap();
    assert_eq!(admin.role.as_str(), "admin");

    // Used up: refused the second time, and no new token while an admin exists.
    assert_error(
        register(&app, "eve@example.com", Some(&token)).await,
        403,
        "invalid_setup_token",
    )
    .await;
    assert_eq!(app.repository.list_users().await.unwrap().len(), 2);
    assert!(matches!(
        setup_token::prepare(app.repository.as_ref(), now())
            .await
            .unwrap(),
        SetupToken::NotNeeded
    ));

    // Registration goes on, as users.
    let later: UserResponse = register(&app, "dan@example.com", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later.role.as_str(), "user");
}

async fn setup_tokens_expire_and_a_later_start_makes_a_new_one(kind: DbKind) {
    let app = production_app(kind).await;
    let day_ago = now() - setup_token::SETUP_TOKEN_TTL_SECS - 60;
    let SetupToken::Issued { token: old, .. } =
        setup_token::prepare(app.repository.as_ref(), day_ago)
            .await
            .unwrap()
    else {
        panic!("no setup token was made");
    };
    assert_error(
        register(&app, "ann@example.com", Some(old.expose_secret())).await,
        403,
        "invalid_setup_token",
    )
    .await;
    assert!(app.repository.list_users().await.unwrap().is_empty());

    let SetupToken::Issued { token: new, .. } =
        setup_token::prepare(app.repository.as_ref(), now())
            .await
            .unwrap()
    else {
        panic!("the expired token was not replaced");
    };
    let admin: UserResponse = register(&app, "ann@example.com", Some(new.expose_secret()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin.role.as_str(), "admin");
}
