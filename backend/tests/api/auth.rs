use allmetrics_common::{TokenResponse, UserResponse};
use base64::Engine;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, PASSWORD, TEST_JWT_SECRET};
use crate::on_both_databases;

on_both_databases!(
    the_first_user_is_admin_and_the_next_are_not,
    emails_are_unique_whatever_their_case,
    weak_common_passwords_and_bad_emails_are_refused,
    unknown_email_and_wrong_password_get_identical_answers,
    expired_and_tampered_tokens_are_refused,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_the_session,
    admin_endpoints_are_for_admins,
    attempts_are_rate_limited_with_retry_after,
    browsers_authenticate_by_cookie_with_csrf_on_writes,
    malformed_bodies_get_precise_400s,
    closed_registration_leaves_account_creation_to_admins,
);

async fn the_first_user_is_admin_and_the_next_are_not(kind: DbKind) {
    let app = spawn_app(kind).await;
    let first = app.post_register("ann@example.com", PASSWORD).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: UserResponse = first.json().await.unwrap();
    assert_eq!(first.email, "ann@example.com");
    assert_eq!(first.role.as_str(), "admin");

    let second: UserResponse = app
        .post_register("bob@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second.role.as_str(), "user");

    let session = app.sign_up("bob@example.com").await;
    let me: UserResponse = app
        .get_me(&session.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, second);
}

async fn emails_are_unique_whatever_their_case(kind: DbKind) {
    let app = spawn_app(kind).await;
    assert_eq!(
        app.post_register("Ann@Example.com", PASSWORD)
            .await
            .status()
            .as_u16(),
        201
    );
    for duplicate in ["Ann@Example.com", "ann@example.com", " ANN@EXAMPLE.COM "] {
        assert_error(
            app.post_register(duplicate, PASSWORD).await,
            409,
            "email_taken",
        )
        .await;
    }
    // Signing in works with any case.
    assert_eq!(
        app.post_login("aNN@example.COM", PASSWORD)
            .await
            .status()
            .as_u16(),
        200
    );
}

async fn weak_common_passwords_and_bad_emails_are_refused(kind: DbKind) {
    let app = spawn_app(kind).await;
    for weak in [
        "short",
        "123456789",
        "1234567890",
        "QwertyUiop",
        "1qaz2wsx3edc",
    ] {
        let body = assert_error(
            app.post_register("ann@example.com", weak).await,
            400,
            "weak_password",
        )
        .await;
        assert!(!body.message.contains(weak), "the password is not echoed");
    }
    for bad in ["ann", "ann@", "@example.com", "ann example@x.io", ""] {
        assert_error(app.post_register(bad, PASSWORD).await, 400, "invalid_email").await;
    }
    assert!(
        app.repository.list_users().await.unwrap().is_empty(),
        "nothing was stored"
    );
}

async fn unknown_email_and_wrong_password_get_identical_answers(kind: DbKind) {
    let app = spawn_app(kind).await;
    app.sign_up("ann@example.com").await;
    let wrong_password = app
        .post_login("ann@example.com", "not the password at all")
        .await;
    let unknown_email = app.post_login("nobody@example.com", PASSWORD).await;
    let wrong_password = assert_error(wrong_password, 401, "invalid_credentials").await;
    let unknown_email = assert_error(unknown_email, 401, "invalid_credentials").await;
    assert_eq!(wrong_password.message, unknown_email.message);
    assert_ne!(wrong_password.request_id, unknown_email.request_id);
}

fn forge(claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn expired_and_tampered_tokens_are_refused(kind: DbKind) {
    let app = spawn_app(kind).await;
    app.sign_up("admin@example.com").await;
    let session = app.sign_up("user@example.com").await;
    assert_eq!(
        app.get_me(&session.access_token).await.status().as_u16(),
        200
    );
    let user: UserResponse = app
        .get_me(&session.access_token)
        .await
        .json()
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = |role: &str, iat: i64, exp: i64| {
        json!({"sub": user.id.to_string(), "role": role, "iat": iat, "exp": exp,
               "jti": "x", "sid": "s"})
    };

    // A correctly signed token works: the forging is right, so the refusals below are real.
    let valid = forge(&claims("user", now, now + 600), TEST_JWT_SECRET);
    assert_eq!(app.get_me(&valid).await.status().as_u16(), 200);

    let expired = forge(&claims("user", now - 7200, now - 3600), TEST_JWT_SECRET);
    let body = assert_error(app.get_me(&expired).await, 401, "invalid_token").await;
    assert!(body.message.contains("expired"));

    let wrong_signature = forge(
        &claims("admin", now, now + 600),
        "another-secret-another-secret-another",
    );
    assert_error(
        app.get_admin_users(&wrong_signature).await,
        401,
        "invalid_token",
    )
    .await;

    let header_none = b64(&json!({"alg": "none", "typ": "JWT"}));
    let unsigned = format!("{header_none}.{}.", b64(&claims("admin", now, now + 600)));
    assert_error(app.get_admin_users(&unsigned).await, 401, "invalid_token").await;

    // The user's own token with the role changed to admin, signature kept.
    let mut parts: Vec<String> = session.access_token.split('.').map(String::from).collect();
    let mut payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["role"] = json!("admin");
    parts[1] = b64(&payload);
    let escalated = parts.join(".");
    assert_error(app.get_admin_users(&escalated).await, 401, "invalid_token").await;

    assert_error(app.get_me("not-a-jwt").await, 401, "invalid_token").await;
    let anonymous = app
        .new_client()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;
}

async fn refresh_rotates_and_reuse_revokes_the_session(kind: DbKind) {
    let app = spawn_app(kind).await;
    let first = app.sign_up("ann@example.com").await;
    assert_eq!(first.token_type, "Bearer");
    assert_eq!(first.expires_in, 900);

    let second = app.post_refresh(&first.refresh_token).await;
    assert_eq!(second.status().as_u16(), 200);
    let second: TokenResponse = second.json().await.unwrap();
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "refresh tokens rotate"
    );
    assert_eq!(
        app.get_me(&second.access_token).await.status().as_u16(),
        200
    );

    let third: TokenResponse = app
        .post_refresh(&second.refresh_token)
        .await
        .json()
        .await
        .unwrap();

    // The first token was already rotated: presenting it again means it was copied.
    assert_error(
        app.post_refresh(&first.refresh_token).await,
        401,
        "refresh_token_reused",
    )
    .await;
    // ...and the legitimate holder's current token is revoked with the whole family.
    assert_error(
        app.post_refresh(&third.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    // The session's access tokens end with it, at once (not when they expire).
    assert_error(app.get_me(&third.access_token).await, 401, "session_ended").await;
    assert_error(app.get_me(&second.access_token).await, 401, "session_ended").await;

    // Another session of the same user is not affected.
    let other = app.sign_up("ann@example.com").await;
    assert_eq!(
        app.post_refresh(&other.refresh_token)
            .await
            .status()
            .as_u16(),
        200
    );

    assert_error(
        app.post_refresh("made-up-token").await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

async fn logout_ends_the_session(kind: DbKind) {
    let app = spawn_app(kind).await;
    let session = app.sign_up("ann@example.com").await;
    let other = app.sign_up("ann@example.com").await;
    assert_eq!(
        app.post_logout(&session.access_token)
            .await
            .status()
            .as_u16(),
        204
    );
    assert_error(
        app.post_refresh(&session.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    // Its access token stops working at once, not in 15 minutes.
    assert_error(
        app.get_me(&session.access_token).await,
        401,
        "session_ended",
    )
    .await;
    assert_error(
        app.post_logout(&session.access_token).await,
        401,
        "session_ended",
    )
    .await;
    // Only that session ended.
    assert_eq!(app.get_me(&other.access_token).await.status().as_u16(), 200);
    assert_eq!(
        app.post_refresh(&other.refresh_token)
            .await
            .status()
            .as_u16(),
        200
    );
    let anonymous = app
        .new_client()
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;
}

async fn admin_endpoints_are_for_admins(kind: DbKind) {
    let app = spawn_app(kind).await;
    let admin = app.sign_up("admin@example.com").await;
    let user = app.sign_up("user@example.com").await;

    assert_error(
        app.get_admin_users(&user.access_token).await,
        403,
        "forbidden",
    )
    .await;
    let created = app
        .post_admin_user(
            &user.access_token,
            &json!({"email": "x@example.com", "password": PASSWORD}),
        )
        .await;
    assert_error(created, 403, "forbidden").await;

    let created = app
        .post_admin_user(
            &admin.access_token,
            &json!({"email": "carol@example.com", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let users: Vec<UserResponse> = app
        .get_admin_users(&admin.access_token)
        .await
        .json()
        .await
        .unwrap();
    let summary: Vec<(&str, &str)> = users
        .iter()
        .map(|u| (u.email.as_str(), u.role.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("admin@example.com", "admin"),
            ("user@example.com", "user"),
            ("carol@example.com", "admin")
        ]
    );
    let bad_role = app
        .post_admin_user(
            &admin.access_token,
            &json!({"email": "d@example.com", "password": PASSWORD, "role": "root"}),
        )
        .await;
    assert_error(bad_role, 400, "invalid_body").await;
}

async fn attempts_are_rate_limited_with_retry_after(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth.attempts_per_minute_per_email = 3;
        settings.auth.attempts_per_minute_per_ip = 5;
    })
    .await;
    app.post_register("ann@example.com", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(
            app.post_login("ann@example.com", "wrong password!!")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    let limited = app.post_login("ann@example.com", PASSWORD).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_error(limited, 429, "rate_limited").await;

    // Another email from the same address still has the address's budget (5): one left.
    assert_eq!(
        app.post_login("bob@example.com", PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_error(
        app.post_login("carol@example.com", PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
}

async fn browsers_authenticate_by_cookie_with_csrf_on_writes(kind: DbKind) {
    let app = spawn_app(kind).await;
    app.post_register("ann@example.com", PASSWORD).await;
    let browser = app.new_client();
    let login = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("allmetrics_access="))
        .unwrap();
    assert!(
        access.contains("HttpOnly") && access.contains("SameSite=Lax"),
        "{access}"
    );
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("allmetrics_refresh="))
        .unwrap();
    assert!(
        refresh.contains("HttpOnly") && refresh.contains("Path=/api/v1/auth"),
        "{refresh}"
    );
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("allmetrics_csrf="))
        .unwrap();
    assert!(!csrf_cookie.contains("HttpOnly"));
    let csrf = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("allmetrics_csrf=")
        .to_string();

    // A GET by cookie alone.
    let me = browser.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);

    // A write by cookie alone is refused without the CSRF header, or with a wrong one.
    let no_header = browser
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_error(no_header, 403, "csrf_failed").await;
    let wrong = browser
        .post(app.url("/api/v1/auth/logout"))
        .header("x-csrf-token", "nope")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 403, "csrf_failed").await;

    // Refresh by cookie, with the header.
    let refreshed = browser
        .post(app.url("/api/v1/auth/refresh"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status().as_u16(), 200);
    let new_csrf = refreshed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("allmetrics_csrf="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("allmetrics_csrf=")
        .to_string();

    let logout = browser
        .post(app.url("/api/v1/auth/logout"))
        .header("x-csrf-token", &new_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status().as_u16(), 204);
    // The cookies are gone.
    assert_error(
        browser.get(app.url("/api/v1/me")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
}

async fn malformed_bodies_get_precise_400s(kind: DbKind) {
    let app = spawn_app(kind).await;
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/register"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_error(
        send("{\"email\": ", "application/json").await.unwrap(),
        400,
        "invalid_json",
    )
    .await;
    assert_error(
        send("{\"email\": 5, \"password\": []}", "application/json")
            .await
            .unwrap(),
        400,
        "invalid_body",
    )
    .await;
    assert_error(
        send("{}", "application/json").await.unwrap(),
        400,
        "invalid_body",
    )
    .await;
    assert_error(
        send("email=a", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let huge = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(400_000)
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
    let refresh = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(refresh, 400, "invalid_json").await;
    assert!(app.repository.list_users().await.unwrap().is_empty());
}

async fn closed_registration_leaves_account_creation_to_admins(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| settings.auth.registration_open = false).await;
    assert_error(
        app.post_register("ann@example.com", PASSWORD).await,
        403,
        "registration_closed",
    )
    .await;
    assert!(app.repository.list_users().await.unwrap().is_empty());
}
