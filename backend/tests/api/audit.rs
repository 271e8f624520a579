//! Holes found by reading the code as an attacker would, each shown to be closed.

use serde_json::json;

use crate::fake_provider::{FakeProvider, TokenBehaviour};
use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind};
use crate::on_both_databases;
use crate::query::{connected, store};

on_both_databases!(
    a_generic_providers_token_field_is_never_stored_in_clear,
    a_dashboard_holds_a_bounded_number_of_metrics,
    a_page_listing_one_id_twice_stores_it_once,
    disabled_objects_stop_syncing_and_deleted_ones_leave_nothing,
    a_date_field_past_any_date_is_left_out_not_a_500,
    api_key_checks_are_rate_limited,
    answers_carry_security_headers_and_production_adds_hsts,
    an_expired_access_cookie_resumes_from_the_refresh_cookie_on_connect,
    a_forged_forwarded_for_does_not_escape_the_login_limit,
    wrong_passwords_from_elsewhere_do_not_lock_the_owner_out,
);

async fn a_generic_providers_token_field_is_never_stored_in_clear(kind: DbKind) {
    // The provider names its token `credential`, which looks like no token field.
    let fake = FakeProvider::start(TokenBehaviour::Grant(json!({
        "credential": "acme-secret-token-value",
        "token_type": "bearer",
        "access_token": "unused",
        "account": "acct-9"
    })))
    .await;
    let app = spawn_app_with(kind, |settings| {
        let mut acme = fake.settings();
        acme.kind = Some("oauth2".into());
        acme.access_token_key = Some("credential".into());
        acme.user_key = Some("account".into());
        settings.providers.insert("acme".into(), acme);
    })
    .await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let authorize = app.authorize_url(&user, "acme").await;
    let state: String = authorize
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    app.get_callback(&user, "acme", &[("code", "c"), ("state", &state)])
        .await;
    let stored = app.repository.all_connections().await.unwrap().remove(0);
    assert_eq!(stored.account_id.as_deref(), Some("acct-9"));
    assert!(stored.token_response.get("credential").is_none());
    assert!(!app
        .database
        .raw_secrets_text()
        .await
        .contains("acme-secret-token-value"));
}

async fn a_dashboard_holds_a_bounded_number_of_metrics(kind: DbKind) {
    let app = spawn_app(kind).await;
    let user = app.sign_up("ann@example.com").await.access_token;
    let ids: Vec<i64> = (1..=500).collect();
    for (method, path) in [(reqwest::Method::POST, "/api/v1/dashboards")] {
        assert_error(
            app.call(
                method,
                path,
                &user,
                Some(json!({"name": "Big", "metric_ids": ids})),
            )
            .await,
            400,
            "too_many_metrics",
        )
        .await;
    }
}

async fn a_page_listing_one_id_twice_stores_it_once(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (_, connection) = connected(&app, "ann@example.com").await;
    let charge = |amount: i64| json!({"id": "ch_twice", "object": "charge", "created": 1_700_000_000, "amount": amount});
    store(
        &app,
        &connection,
        "Charge",
        &[charge(100), charge(200)],
        true,
    )
    .await;
    assert_eq!(
        app.repository
            .synced_object_ids(connection.id, "Charge")
            .await
            .unwrap(),
        ["ch_twice"]
    );
}

async fn disabled_objects_stop_syncing_and_deleted_ones_leave_nothing(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| settings.sandbox.size = 30).await;
    let key = app.state.settings.sandbox.api_key.clone().unwrap();
    let (admin, connection) = app.sign_up_connected("admin@example.com", &key).await;
    let source = app
        .repository
        .data_source_by_slug("demo")
        .await
        .unwrap()
        .unwrap();
    app.repository
        .update_routing_source(
            source.id,
            "Charge",
            allmetrics::domain::RoutingSourcePatch {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The jobs exist from before the object was disabled.
    app.repository
        .ensure_sync_jobs(
            connection.id,
            &["Charge".to_string(), "Customer".to_string()],
            0,
        )
        .await
        .unwrap();
    allmetrics::sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    allmetrics::sync::run_until_idle(&allmetrics::sync::SyncContext::new(app.state.services()))
        .await;
    let count = |object: &'static str| {
        let repository = app.repository.clone();
        async move {
            repository
                .count_synced_objects(connection.id, object)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("Charge").await, 0, "a disabled object is not read");
    assert!(count("Customer").await > 0);

    // Deleting an object deletes what was synced of it.
    let deleted = app
        .call(
            reqwest::Method::DELETE,
            "/api/v1/admin/sources/demo/objects/Customer",
            &admin,
            None,
        )
        .await;
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(count("Customer").await, 0);
    let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
    assert!(jobs.iter().all(|job| job.object_name != "Customer"));
}

async fn a_date_field_past_any_date_is_left_out_not_a_500(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (user, connection) = connected(&app, "ann@example.com").await;
    let paid_at = 1_764_000_000; // 2025-11-24
    store(
        &app,
        &connection,
        "Charge",
        &[
            json!({"id": "ch_1", "created": paid_at, "paid_at": paid_at, "amount": 5}),
            json!({"id": "ch_2", "created": paid_at, "paid_at": 1e30, "amount": 7}),
            json!({"id": "ch_3", "created": paid_at, "paid_at": -9.3e18, "amount": 9}),
        ],
        true,
    )
    .await;
    let answer = app
        .get_authed(
            "/connect/query/demo?object_name=Charge&operator=sum&value_field=amount&date_field=paid_at&end=2025-11-30&period=weekly",
            &user,
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let series: allmetrics_common::Series = answer.json().await.unwrap();
    assert_eq!(series.label_y.iter().sum::<f64>(), 5.0);
}

async fn api_key_checks_are_rate_limited(kind: DbKind) {
    let fake = FakeProvider::start(TokenBehaviour::Grant(json!({}))).await;
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert("stripe".into(), fake.settings());
    })
    .await;
    let user = app.sign_up("ann@example.com").await.access_token;
    // Each check asks the provider whether the key exists: ten a minute, then 429.
    for attempt in 0..10 {
        let key = format!("sk_test_guess_{attempt}");
        assert_error(
            app.post_api_key(&user, "stripe", &key).await,
            400,
            "invalid_api_key",
        )
        .await;
    }
    let refused = app.post_api_key(&user, "stripe", "sk_test_guess_10").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "rate_limited").await;
    // Another user has a budget of their own.
    let other = app.sign_up("bob@example.com").await.access_token;
    assert_error(
        app.post_api_key(&other, "stripe", "sk_test_guess").await,
        400,
        "invalid_api_key",
    )
    .await;
}

async fn answers_carry_security_headers_and_production_adds_hsts(kind: DbKind) {
    let app = spawn_app(kind).await;
    for path in ["/healthz", "/", "/api/v1/me"] {
        let answer = app.client.get(app.url(path)).send().await.unwrap();
        let headers = answer.headers();
        assert_eq!(
            headers["content-security-policy"], "frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "not over plain HTTP in local"
        );
    }
    let production = spawn_app_with(kind, |settings| {
        settings.environment = allmetrics::configuration::Environment::Production;
    })
    .await;
    let answer = production
        .client
        .get(production.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

async fn an_expired_access_cookie_resumes_from_the_refresh_cookie_on_connect(kind: DbKind) {
    let app = spawn_app(kind).await;
    let session = app.sign_up("ann@example.com").await;
    // A browser whose 15-minute access cookie is gone, with its refresh cookie still there.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String, cookie: Option<String>| {
        let mut request = browser.get(app.url(&path)).header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let location =
        |answer: &reqwest::Response| answer.headers()["location"].to_str().unwrap().to_string();
    let set_cookie = |answer: &reqwest::Response, name: &str| {
        answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_string())
            .find(|value| value.starts_with(&format!("{name}=")))
            .map(|value| value.split(';').next().unwrap().to_string())
    };
    let link = get("/connect/authorize/demo".into(), None).await.unwrap();
    assert_eq!(link.status().as_u16(), 302);
    let resume = location(&link);
    assert_eq!(
        resume,
        "/api/v1/auth/resume?next=%2Fconnect%2Fauthorize%2Fdemo"
    );
    let resumed = get(
        resume.clone(),
        Some(format!("allmetrics_refresh={}", session.refresh_token)),
    )
    .await
    .unwrap();
    assert_eq!(resumed.status().as_u16(), 302);
    assert_eq!(location(&resumed), "/connect/authorize/demo");
    let access = set_cookie(&resumed, "allmetrics_access").expect("a new access cookie");
    let refresh = set_cookie(&resumed, "allmetrics_refresh").expect("a rotated refresh cookie");
    let provider = get("/connect/authorize/demo".into(), Some(access.clone()))
        .await
        .unwrap();
    assert_eq!(provider.status().as_u16(), 302);
    assert!(location(&provider).contains("/sandbox/oauth/authorize?"));

    // Back from the provider after the access cookie expired: the callback waits for the session.
    let state: String = url::Url::parse(&location(&provider))
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let callback = format!("/connect/oauth/callback/demo/?error=access_denied&state={state}");
    let waiting = get(callback.clone(), None).await.unwrap();
    assert!(location(&waiting)
        .starts_with("/api/v1/auth/resume?next=%2Fconnect%2Foauth%2Fcallback%2Fdemo"));
    let resumed = get(location(&waiting), Some(refresh)).await.unwrap();
    // Back to the same callback (trailing slashes are normalized away).
    assert_eq!(location(&resumed), callback.replacen("demo/?", "demo?", 1));
    let access = set_cookie(&resumed, "allmetrics_access").unwrap();
    let done = get(callback, Some(access)).await.unwrap();
    assert_eq!(location(&done), "/sources?error=access_denied&source=demo");

    // No usable refresh cookie: sign in, then come back.
    let spent = get(
        resume,
        Some(format!("allmetrics_refresh={}", session.refresh_token)),
    )
    .await
    .unwrap();
    assert_eq!(
        location(&spent),
        "/login?next=%2Fconnect%2Fauthorize%2Fdemo"
    );
    let elsewhere = get(
        "/api/v1/auth/resume?next=https://evil.example/".into(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(location(&elsewhere), "/login?next=%2Fsources");
}

async fn a_forged_forwarded_for_does_not_escape_the_login_limit(kind: DbKind) {
    const WRONG: &str = "wrong password here";
    // Behind a trusted proxy (the tests connect from 127.0.0.1), which appends the real client.
    let app = spawn_app_with(kind, |settings| {
        settings.application.trusted_proxies = "127.0.0.1".into();
        settings.auth.attempts_per_minute_per_ip = 3;
    })
    .await;
    for attempt in 0..3 {
        let forwarded = format!("1.1.1.{attempt}, 7.7.7.7");
        let answer = app
            .post_login_via(&forwarded, &format!("u{attempt}@x.io"), WRONG)
            .await;
        assert_eq!(answer.status().as_u16(), 401);
    }
    // What the client writes on the left changes nothing: it is still 7.7.7.7.
    let forged = app
        .post_login_via("9.9.9.9, 7.7.7.7", "u9@x.io", WRONG)
        .await;
    assert_eq!(forged.status().as_u16(), 429);
    // Another client behind the same proxy has its own budget.
    let other = app.post_login_via("8.8.8.8", "u10@x.io", WRONG).await;
    assert_eq!(other.status().as_u16(), 401);

    // Without trusted proxies the header is never read: the peer is the client.
    let direct = spawn_app_with(kind, |settings| {
        settings.auth.attempts_per_minute_per_ip = 3
    })
    .await;
    for attempt in 0..3 {
        let forwarded = format!("7.7.7.{attempt}");
        let answer = direct
            .post_login_via(&forwarded, &format!("u{attempt}@x.io"), WRONG)
            .await;
        assert_eq!(answer.status().as_u16(), 401);
    }
    let forged = direct.post_login_via("7.7.7.200", "u9@x.io", WRONG).await;
    assert_eq!(forged.status().as_u16(), 429);
}

async fn wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.application.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    app.sign_up("ann@example.com").await;
    for _ in 0..10 {
        let guess = app
            .post_login_via("7.7.7.7", "ann@example.com", "a wrong guess, again")
            .await;
        assert_eq!(guess.status().as_u16(), 401);
    }
    // The guesser is stopped...
    let guess = app
        .post_login_via("7.7.7.7", "ann@example.com", "a wrong guess, again")
        .await;
    assert_eq!(guess.status().as_u16(), 429);
    // ... and Ann, elsewhere, signs in.
    let ann = app
        .post_login_via("8.8.8.8", "ann@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(ann.status().as_u16(), 200);
}
