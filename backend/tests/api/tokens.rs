//! Personal API tokens: made once and shown once, stored hashed, scoped, revocable, expiring,
//! rate limited per token; sessions manage them, tokens never do.

use allmetrics_common::{ApiTokenResponse, CreatedApiTokenResponse, TokenResponse};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_token_is_shown_once_stored_hashed_and_authenticates_its_owner,
    a_read_token_only_reads_and_no_token_manages_tokens,
    an_admins_write_token_reaches_the_admin_routes_and_admins_revoke_any_token,
    revoked_and_expired_tokens_stop_working_at_once,
    last_use_is_recorded_at_most_once_a_minute,
    logout_ends_the_session_not_the_tokens,
    each_token_has_its_own_rate_limit,
    requests_for_tokens_are_validated,
);

impl TestApp {
    pub async fn post_token(&self, session: &str, body: &Value) -> reqwest::Response {
        self.call(Method::POST, "/api/v1/tokens", session, Some(body.clone()))
            .await
    }

    pub async fn create_token(
        &self,
        session: &TokenResponse,
        scope: &str,
    ) -> CreatedApiTokenResponse {
        let response = self
            .post_token(
                &session.access_token,
                &json!({"name": format!("{scope} script"), "scope": scope}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    pub async fn get_tokens(&self, session: &str) -> reqwest::Response {
        self.get_authed("/api/v1/tokens", session).await
    }

    pub async fn delete_token(&self, session: &str, id: i64) -> reqwest::Response {
        self.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            session,
            None,
        )
        .await
    }
}

fn status(response: &reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn a_token_is_shown_once_stored_hashed_and_authenticates_its_owner(kind: DbKind) {
    let app = spawn_app(kind).await;
    let _admin = app.sign_up("admin@example.com").await;
    let ann = app.sign_up("ann@example.com").await;
    let created = app.create_token(&ann, "read").await;
    assert!(created.token.starts_with("am_pat_"), "{}", created.token);
    assert_eq!(created.token.len(), "am_pat_".len() + 43, "256 random bits");
    assert_eq!(created.api_token.scope.as_str(), "read");
    assert!(created.token.starts_with(&created.api_token.prefix));
    assert_eq!(created.api_token.last_used_at, None);

    let me: Value = app.get_me(&created.token).await.json().await.unwrap();
    assert_eq!(me["email"], "ann@example.com");

    // The list never shows the token again; the store holds only its hash.
    let listed = app.get_tokens(&ann.access_token).await;
    assert_eq!(status(&listed), 200);
    let listed_text = listed.text().await.unwrap();
    assert!(!listed_text.contains(&created.token));
    let listed: Vec<ApiTokenResponse> = serde_json::from_str(&listed_text).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.api_token.id);
    assert!(listed[0].last_used_at.is_some(), "the use was recorded");
    let stored = app
        .database
        .texts("SELECT token_hash || ' ' || prefix || ' ' || name FROM api_tokens")
        .await
        .join("\n");
    assert!(!stored.contains(&created.token));
    assert!(!stored.contains(&created.token["am_pat_".len()..]));
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(created.token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(stored.contains(&hash), "kept as its SHA-256");

    // Another user sees none of it.
    let bob = app.sign_up("bob@example.com").await;
    let bobs: Vec<ApiTokenResponse> = app
        .get_tokens(&bob.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(bobs.is_empty());
    assert_error(app.get_me("am_pat_made-up").await, 401, "invalid_token").await;
}

async fn a_read_token_only_reads_and_no_token_manages_tokens(kind: DbKind) {
    let app = spawn_app(kind).await;
    let _admin = app.sign_up("admin@example.com").await;
    let ann = app.sign_up("ann@example.com").await;
    let read = app.create_token(&ann, "read").await.token;
    let write = app.create_token(&ann, "write").await.token;
    let dashboard = json!({"name": "Board", "metric_ids": []});

    assert_eq!(
        status(&app.get_authed("/api/v1/dashboards", &read).await),
        200
    );
    assert_eq!(status(&app.get_authed("/api/v1/sources", &read).await), 200);
    // The seed's query route too (authenticated: the slug is what is wrong).
    assert_error(
        app.get_authed("/connect/query/nope?object_name=x", &read)
            .await,
        404,
        "unknown_source",
    )
    .await;
    for (method, path, body) in [
        (Method::POST, "/api/v1/dashboards", Some(dashboard.clone())),
        (Method::POST, "/api/v1/auth/logout", None),
        (Method::DELETE, "/api/v1/connections/demo", None),
    ] {
        assert_error(
            app.call(method, path, &read, body).await,
            403,
            "insufficient_scope",
        )
        .await;
    }
    assert_eq!(
        status(&app.get_authed("/api/v1/dashboards", &read).await),
        200
    );
    let created = app
        .call(Method::POST, "/api/v1/dashboards", &write, Some(dashboard))
        .await;
    assert_eq!(status(&created), 201);

    for (token, refusal_of_writes) in [(&read, "insufficient_scope"), (&write, "session_required")]
    {
        assert_error(app.get_tokens(token).await, 403, "session_required").await;
        assert_error(
            app.post_token(token, &json!({"name": "x", "scope": "read"}))
                .await,
            403,
            refusal_of_writes,
        )
        .await;
    }
    let id = app.create_token(&ann, "read").await.api_token.id;
    assert_error(app.delete_token(&write, id).await, 403, "session_required").await;
    // A user's write token is no key to the admin routes.
    assert_error(app.get_admin_users(&write).await, 403, "forbidden").await;
}

async fn an_admins_write_token_reaches_the_admin_routes_and_admins_revoke_any_token(kind: DbKind) {
    let app = spawn_app(kind).await;
    let admin = app.sign_up("admin@example.com").await;
    let ann = app.sign_up("ann@example.com").await;
    let admin_write = app.create_token(&admin, "write").await.token;
    let admin_read = app.create_token(&admin, "read").await.token;
    let anns = app.create_token(&ann, "write").await;

    assert_eq!(status(&app.get_admin_users(&admin_read).await), 200);
    let new_user = json!({"email": "cy@example.com", "password": crate::helpers::PASSWORD});
    assert_error(
        app.post_admin_user(&admin_read, &new_user).await,
        403,
        "insufficient_scope",
    )
    .await;
    assert_eq!(
        status(&app.post_admin_user(&admin_write, &new_user).await),
        201
    );

    // Admins list every user's tokens, or one user's, and revoke any of them.
    let all: Vec<ApiTokenResponse> = app
        .get_authed("/api/v1/admin/tokens", &admin.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let only_anns: Vec<ApiTokenResponse> = app
        .get_authed(
            &format!("/api/v1/admin/tokens?user_id={}", anns.api_token.user_id),
            &admin_write,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_anns, vec![anns.api_token.clone()]);
    assert_error(
        app.get_authed("/api/v1/admin/tokens", &ann.access_token)
            .await,
        403,
        "forbidden",
    )
    .await;
    let path = format!("/api/v1/admin/tokens/{}", anns.api_token.id);
    assert_error(
        app.call(Method::DELETE, &path, &ann.access_token, None)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(status(&app.get_me(&anns.token).await), 200);
    assert_eq!(
        status(&app.call(Method::DELETE, &path, &admin_write, None).await),
        204
    );
    assert_error(app.get_me(&anns.token).await, 401, "invalid_token").await;
    assert_error(
        app.call(Method::DELETE, &path, &admin.access_token, None)
            .await,
        404,
        "token_not_found",
    )
    .await;
}

async fn revoked_and_expired_tokens_stop_working_at_once(kind: DbKind) {
    let app = spawn_app(kind).await;
    let _admin = app.sign_up("admin@example.com").await;
    let ann = app.sign_up("ann@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let token = app.create_token(&ann, "read").await;
    assert_eq!(status(&app.get_me(&token.token).await), 200);

    // Not bob's to revoke: nothing changes.
    assert_error(
        app.delete_token(&bob.access_token, token.api_token.id)
            .await,
        404,
        "token_not_found",
    )
    .await;
    assert_eq!(status(&app.get_me(&token.token).await), 200);
    assert_eq!(
        status(
            &app.delete_token(&ann.access_token, token.api_token.id)
                .await
        ),
        204
    );
    assert_error(app.get_me(&token.token).await, 401, "invalid_token").await;
    assert_error(
        app.delete_token(&ann.access_token, token.api_token.id)
            .await,
        404,
        "token_not_found",
    )
    .await;

    let expiring: CreatedApiTokenResponse = app
        .post_token(
            &ann.access_token,
            &json!({"name": "a day", "scope": "read", "expires_in_days": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(expiring.api_token.expires_at.as_deref().unwrap())
            .unwrap();
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    assert!((expires_at.timestamp() - in_a_day.timestamp()).abs() < 60);
    assert_eq!(status(&app.get_me(&expiring.token).await), 200);
    // A day later (the store's clock moved instead of the test's).
    app.database
        .execute(&format!(
            "UPDATE api_tokens SET expires_at = {} WHERE id = {}",
            chrono::Utc::now().timestamp() - 1,
            expiring.api_token.id
        ))
        .await;
    assert_error(app.get_me(&expiring.token).await, 401, "invalid_token").await;
}

async fn last_use_is_recorded_at_most_once_a_minute(kind: DbKind) {
    let app = spawn_app(kind).await;
    let ann = app.sign_up("ann@example.com").await;
    let token = app.create_token(&ann, "read").await;
    let id = token.api_token.id;
    assert_eq!(last_used(&app, id).await, 0);
    app.get_me(&token.token).await;
    let now = chrono::Utc::now().timestamp();
    assert!((last_used(&app, id).await - now).abs() <= 2);

    // Used 30 seconds ago: this use is not written.
    set_last_used(&app, id, now - 30).await;
    for _ in 0..3 {
        assert_eq!(status(&app.get_me(&token.token).await), 200);
    }
    assert_eq!(last_used(&app, id).await, now - 30);
    // Used two minutes ago: it is.
    set_last_used(&app, id, now - 120).await;
    app.get_me(&token.token).await;
    assert!(last_used(&app, id).await >= now);
}

async fn last_used(app: &TestApp, id: i64) -> i64 {
    app.database
        .texts(&format!(
            "SELECT CAST(COALESCE(last_used_at, 0) AS TEXT) FROM api_tokens WHERE id = {id}"
        ))
        .await
        .remove(0)
        .parse()
        .unwrap()
}

async fn set_last_used(app: &TestApp, id: i64, at: i64) {
    app.database
        .execute(&format!(
            "UPDATE api_tokens SET last_used_at = {at} WHERE id = {id}"
        ))
        .await;
}

async fn logout_ends_the_session_not_the_tokens(kind: DbKind) {
    let app = spawn_app(kind).await;
    let ann = app.sign_up("ann@example.com").await;
    let token = app.create_token(&ann, "write").await.token;
    // Signing out with the token ends no session and leaves the token working.
    assert_eq!(status(&app.post_logout(&token).await), 204);
    assert_eq!(status(&app.get_me(&token).await), 200);
    assert_eq!(status(&app.post_logout(&ann.access_token).await), 204);
    assert_error(app.get_me(&ann.access_token).await, 401, "session_ended").await;
    assert_eq!(status(&app.get_me(&token).await), 200);
}

async fn each_token_has_its_own_rate_limit(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth.api_token_requests_per_minute = 3;
    })
    .await;
    let ann = app.sign_up("ann@example.com").await;
    let first = app.create_token(&ann, "read").await.token;
    let second = app.create_token(&ann, "read").await.token;
    for _ in 0..3 {
        assert_eq!(status(&app.get_me(&first).await), 200);
    }
    let limited = app.get_me(&first).await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_error(limited, 429, "rate_limited").await;
    assert_eq!(status(&app.get_me(&second).await), 200, "its own budget");
    assert_eq!(status(&app.get_me(&ann.access_token).await), 200);
}

async fn requests_for_tokens_are_validated(kind: DbKind) {
    let app = spawn_app(kind).await;
    let ann = app.sign_up("ann@example.com").await;
    let session = &ann.access_token;
    for (body, code) in [
        (json!({"name": " ", "scope": "read"}), "invalid_name"),
        (
            json!({"name": "x".repeat(101), "scope": "read"}),
            "invalid_name",
        ),
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 0}),
            "invalid_expiry",
        ),
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 3651}),
            "invalid_expiry",
        ),
    ] {
        assert_error(app.post_token(session, &body).await, 400, code).await;
    }
    for body in [
        json!({"name": "x", "scope": "admin"}),
        json!({"name": "x"}),
        json!({"name": "x", "scope": "read", "expires_in_days": -1}),
        json!({"name": "x", "scope": "read", "expires_in_days": 1e12}),
    ] {
        assert_eq!(status(&app.post_token(session, &body).await), 400, "{body}");
    }
    assert_error(
        app.delete_token(session, 9_999_999).await,
        404,
        "token_not_found",
    )
    .await;
    let listed: Vec<ApiTokenResponse> = app.get_tokens(session).await.json().await.unwrap();
    assert!(listed.is_empty(), "nothing was stored");

    // At most 50 tokens an account.
    for _ in 0..50 {
        app.create_token(&ann, "read").await;
    }
    assert_error(
        app.post_token(session, &json!({"name": "51st", "scope": "read"}))
            .await,
        409,
        "too_many_tokens",
    )
    .await;
}
