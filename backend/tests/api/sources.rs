use allmetrics_common::{AdminSourceResponse, ObjectResponse};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind};
use crate::on_both_databases;

on_both_databases!(
    users_see_the_enabled_sources_and_their_objects,
    admins_manage_sources,
    admins_manage_objects,
    admin_source_endpoints_refuse_non_admins,
    a_generic_provider_is_declared_in_configuration,
    a_source_is_deleted_while_another_writer_commits,
);

const STRIPE_OBJECTS: [&str; 11] = [
    "Customer",
    "Charge",
    "Invoice",
    "Subscription",
    "PaymentIntent",
    "Refund",
    "BalanceTransaction",
    "Payout",
    "Dispute",
    "Product",
    "Price",
];

/// A write that reads first (is the source in use?) waits for the write another process is
/// making, and then happens: on SQLite it would otherwise have read before that write committed
/// and failed at its own first write (503 `database_unavailable`).
async fn a_source_is_deleted_while_another_writer_commits(kind: DbKind) {
    let app = spawn_app(kind).await;
    let admin = app.sign_up("admin@example.com").await.access_token;
    let created = app
        .call(
            Method::POST,
            "/api/v1/admin/sources",
            &admin,
            Some(json!({"slug": "stripe-eu", "name": "Stripe EU", "provider": "stripe"})),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);

    let other_writer = app
        .database
        .hold_write("UPDATE users SET email = email")
        .await;
    let (deleted, ()) = tokio::join!(
        app.call(
            Method::DELETE,
            "/api/v1/admin/sources/stripe-eu",
            &admin,
            None
        ),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            other_writer.commit().await;
        }
    );
    assert_eq!(deleted.status().as_u16(), 204);
    let gone = app
        .call(
            Method::DELETE,
            "/api/v1/admin/sources/stripe-eu",
            &admin,
            None,
        )
        .await;
    assert_error(gone, 404, "unknown_source").await;
}

async fn users_see_the_enabled_sources_and_their_objects(kind: DbKind) {
    let app = spawn_app(kind).await;
    app.sign_up("admin@example.com").await;
    let user = app.sign_up("user@example.com").await;

    let sources = app.get_sources(&user.access_token).await;
    let slugs: Vec<&str> = sources.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(
        slugs,
        vec![
            "demo",
            "demo-ads",
            "demo-analytics",
            "facebook",
            "google",
            "stripe"
        ],
        "ordered by name"
    );
    let stripe = sources.iter().find(|s| s.slug == "stripe").unwrap();
    assert!(!stripe.configured, "no Stripe credentials in tests");
    assert!(stripe.api_key_supported);
    assert!(stripe.connection.is_none());
    let demo = sources.iter().find(|s| s.slug == "demo").unwrap();
    assert!(demo.configured, "the sandbox is built in");

    let objects: Vec<ObjectResponse> = app
        .get_source_objects(&user.access_token, "stripe")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, STRIPE_OBJECTS);

    assert_error(
        app.get_source_objects(&user.access_token, "nope").await,
        404,
        "unknown_source",
    )
    .await;
    let anonymous = app
        .new_client()
        .get(app.url("/api/v1/sources"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;
}

async fn admins_manage_sources(kind: DbKind) {
    let app = spawn_app(kind).await;
    let admin = app.sign_up("admin@example.com").await.access_token;
    let user = app.sign_up("user@example.com").await.access_token;
    let call = |method, path: &'static str, body| app.call(method, path, &admin, body);

    let all: Vec<AdminSourceResponse> = call(Method::GET, "/api/v1/admin/sources", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 6);

    // Create: validated, unique, with the provider's default objects.
    for (body, code) in [
        (
            json!({"slug": "Bad Slug", "name": "x", "provider": "stripe"}),
            "invalid_slug",
        ),
        (
            json!({"slug": "stripe2", "name": "  ", "provider": "stripe"}),
            "invalid_name",
        ),
        (
            json!({"slug": "stripe2", "name": "x", "provider": "paypal"}),
            "unknown_provider",
        ),
        (
            json!({"slug": 5, "name": "x", "provider": "stripe"}),
            "invalid_body",
        ),
    ] {
        assert_error(
            call(Method::POST, "/api/v1/admin/sources", Some(body)).await,
            400,
            code,
        )
        .await;
    }
    let created = call(
        Method::POST,
        "/api/v1/admin/sources",
        Some(json!({"slug": "stripe-eu", "name": "Stripe EU", "provider": "stripe"})),
    )
    .await;
    assert_eq!(created.status().as_u16(), 201);
    let created: AdminSourceResponse = created.json().await.unwrap();
    assert_eq!(
        (created.slug.as_str(), created.enabled, created.connections),
        ("stripe-eu", true, 0)
    );
    let duplicate = call(
        Method::POST,
        "/api/v1/admin/sources",
        Some(json!({"slug": "stripe-eu", "name": "Again", "provider": "stripe"})),
    )
    .await;
    assert_error(duplicate, 409, "slug_taken").await;
    let objects: Vec<ObjectResponse> = app
        .get_source_objects(&user, "stripe-eu")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(objects.len(), 11);

    // Rename and disable: users no longer see it, nor can they connect it.
    let renamed = call(
        Method::PATCH,
        "/api/v1/admin/sources/stripe-eu",
        Some(json!({"name": "Stripe Europe", "enabled": false})),
    )
    .await;
    assert_eq!(renamed.status().as_u16(), 200);
    let renamed: AdminSourceResponse = renamed.json().await.unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.enabled),
        ("Stripe Europe", false)
    );
    assert!(!app
        .get_sources(&user)
        .await
        .iter()
        .any(|s| s.slug == "stripe-eu"));
    assert_error(
        app.get_source_objects(&user, "stripe-eu").await,
        404,
        "unknown_source",
    )
    .await;
    assert_error(
        app.get_authorize_json(&user, "stripe-eu").await,
        404,
        "unknown_source",
    )
    .await;
    let unknown_field = call(
        Method::PATCH,
        "/api/v1/admin/sources/stripe-eu",
        Some(json!({"slug": "x"})),
    )
    .await;
    assert_error(unknown_field, 400, "invalid_body").await;
    let missing = call(
        Method::PATCH,
        "/api/v1/admin/sources/nope",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_error(missing, 404, "unknown_source").await;

    // Delete.
    assert_eq!(
        call(Method::DELETE, "/api/v1/admin/sources/stripe-eu", None)
            .await
            .status()
            .as_u16(),
        204
    );
    assert_error(
        call(Method::DELETE, "/api/v1/admin/sources/stripe-eu", None).await,
        404,
        "unknown_source",
    )
    .await;
}

async fn admins_manage_objects(kind: DbKind) {
    let app = spawn_app(kind).await;
    let admin = app.sign_up("admin@example.com").await.access_token;
    let user = app.sign_up("user@example.com").await.access_token;
    let call = |method, path: &'static str, body| app.call(method, path, &admin, body);

    let created = call(
        Method::POST,
        "/api/v1/admin/sources/stripe/objects",
        Some(json!({"name": "CreditNote", "label": "Credit notes"})),
    )
    .await;
    assert_eq!(created.status().as_u16(), 201);
    let again = call(
        Method::POST,
        "/api/v1/admin/sources/stripe/objects",
        Some(json!({"name": "CreditNote"})),
    )
    .await;
    assert_error(again, 409, "object_exists").await;
    let bad = call(
        Method::POST,
        "/api/v1/admin/sources/stripe/objects",
        Some(json!({"name": "drop table;"})),
    )
    .await;
    assert_error(bad, 400, "invalid_object_name").await;
    let user_objects: Vec<ObjectResponse> = app
        .get_source_objects(&user, "stripe")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        user_objects.last().unwrap().name,
        "CreditNote",
        "added at the end"
    );

    let disabled = call(
        Method::PATCH,
        "/api/v1/admin/sources/stripe/objects/Charge",
        Some(json!({"enabled": false, "label": "Payments"})),
    )
    .await;
    let disabled: ObjectResponse = disabled.json().await.unwrap();
    assert_eq!(
        (disabled.label.as_str(), disabled.enabled),
        ("Payments", false)
    );
    let user_objects: Vec<ObjectResponse> = app
        .get_source_objects(&user, "stripe")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !user_objects.iter().any(|o| o.name == "Charge"),
        "disabled objects are hidden from users"
    );
    let admin_objects: Vec<ObjectResponse> =
        call(Method::GET, "/api/v1/admin/sources/stripe/objects", None)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(admin_objects.len(), 12, "admins see all");

    assert_eq!(
        call(
            Method::DELETE,
            "/api/v1/admin/sources/stripe/objects/CreditNote",
            None
        )
        .await
        .status()
        .as_u16(),
        204
    );
    let gone = call(
        Method::DELETE,
        "/api/v1/admin/sources/stripe/objects/CreditNote",
        None,
    )
    .await;
    assert_error(gone, 404, "unknown_object").await;
    let missing = call(
        Method::PATCH,
        "/api/v1/admin/sources/stripe/objects/Nope",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_error(missing, 404, "unknown_object").await;
}

async fn admin_source_endpoints_refuse_non_admins(kind: DbKind) {
    let app = spawn_app(kind).await;
    app.sign_up("admin@example.com").await;
    let user = app.sign_up("user@example.com").await.access_token;
    for (method, path, body) in [
        (Method::GET, "/api/v1/admin/sources", None),
        (
            Method::POST,
            "/api/v1/admin/sources",
            Some(json!({"slug": "x", "name": "x", "provider": "stripe"})),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/sources/stripe",
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, "/api/v1/admin/sources/stripe", None),
        (Method::GET, "/api/v1/admin/sources/stripe/objects", None),
        (
            Method::POST,
            "/api/v1/admin/sources/stripe/objects",
            Some(json!({"name": "X"})),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/sources/stripe/objects/Charge",
            Some(json!({"enabled": false})),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/sources/stripe/objects/Charge",
            None,
        ),
    ] {
        assert_error(app.call(method, path, &user, body).await, 403, "forbidden").await;
    }
    // Nothing changed.
    assert_eq!(app.get_sources(&user).await.len(), 6);
    let objects: Vec<ObjectResponse> = app
        .get_source_objects(&user, "stripe")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(objects.len(), 11);
}

async fn a_generic_provider_is_declared_in_configuration(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert(
            "acme".into(),
            allmetrics::configuration::ProviderSettings {
                kind: Some("oauth2".into()),
                name: Some("Acme Analytics".into()),
                client_id: Some("acme-client".into()),
                client_secret: Some(secrecy::SecretString::from("acme-secret")),
                authorize_url: Some("https://acme.example/oauth/authorize".into()),
                token_url: Some("https://acme.example/oauth/token".into()),
                scopes: Some("metrics:read".into()),
                ..Default::default()
            },
        );
    })
    .await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let acme = app
        .get_sources(&user)
        .await
        .into_iter()
        .find(|s| s.slug == "acme")
        .unwrap();
    assert_eq!(
        (acme.name.as_str(), acme.provider.as_str(), acme.configured),
        ("Acme Analytics", "oauth2", true)
    );
    let url = app.authorize_url(&user, "acme").await;
    assert_eq!(url.host_str(), Some("acme.example"));
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["scope"], "metrics:read");
    assert_eq!(query["client_id"], "acme-client");
    assert_eq!(query["code_challenge_method"], "S256", "PKCE by default");
}
