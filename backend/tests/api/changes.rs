//! Changes after the backfill: the events feed, tombstones, the full re-read when the feed cannot
//! be trusted, and signed webhooks. Against a Stripe-like fake whose events and clock the tests
//! write.

use allmetrics::providers::stripe::webhook;
use allmetrics::sync::{self, SyncContext};
use serde_json::{json, Value};

use crate::fake_provider::{stripe_grant, FakeProvider, TokenBehaviour};
use crate::helpers::{assert_error, DbKind, TestApp};
use crate::on_both_databases;
use crate::sync::{connected_app, post_sync, sync_status};

on_both_databases!(
    deletions_become_tombstones_and_older_changes_never_win,
    a_change_in_the_same_second_as_the_stored_one_is_read_again,
    without_the_events_permission_everything_is_read_again_once_a_day,
    a_position_older_than_the_events_kept_reads_everything_again,
    signed_deliveries_are_applied_and_nothing_else_is_stored,
    the_platform_endpoint_routes_events_by_account,
    a_flood_of_ten_thousand_deliveries_loses_nothing,
    an_incremental_sync_takes_about_the_pages_of_its_changes,
);

const DAY: i64 = 86_400;

fn customer(id: &str, created: i64, email: &str) -> Value {
    json!({"id": id, "object": "customer", "created": created, "email": email, "currency": "usd"})
}

async fn customers_by_email(app: &TestApp, token: &str) -> Vec<(String, f64)> {
    let params = [
        ("object_name", "Customer"),
        ("operator", "count"),
        ("field_name", "email"),
        ("total_days", "60"),
    ];
    let series = crate::query::series(app, token, &params).await;
    series
        .label_z
        .into_iter()
        .map(|(group, days)| (group, days.iter().sum()))
        .collect()
}

/// The app connected to a fake holding two customers, its backfill done.
async fn synced(
    kind: DbKind,
) -> (
    FakeProvider,
    TestApp,
    String,
    std::sync::Arc<SyncContext>,
    i64,
) {
    let api = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let now = chrono::Utc::now().timestamp();
    api.put("customers", customer("cus_a", now - 40 * DAY, "a@old"));
    api.put("customers", customer("cus_b", now - 30 * DAY, "b@old"));
    let (app, token, _) = connected_app(kind, api.base_url.clone(), |_| {}).await;
    let context = SyncContext::new(app.state.services());
    sync::run_until_idle(&context).await;
    (api, app, token, context, now)
}

async fn sync_now(app: &TestApp, token: &str, context: &std::sync::Arc<SyncContext>) {
    assert_eq!(post_sync(app, token).await.status().as_u16(), 202);
    sync::run_until_idle(context).await;
}

async fn deletions_become_tombstones_and_older_changes_never_win(kind: DbKind) {
    let (api, app, token, context, now) = synced(kind).await;
    let later = chrono::Utc::now().timestamp();
    // cus_a changes twice; the feed lists the older change too. cus_b is deleted.
    api.put("customers", customer("cus_a", now - 40 * DAY, "a@newest"));
    api.event(
        "evt_2",
        later,
        "customer.updated",
        customer("cus_a", now - 40 * DAY, "a@newest"),
    );
    api.event(
        "evt_1",
        later - 60,
        "customer.updated",
        customer("cus_a", now - 40 * DAY, "a@middle"),
    );
    api.remove("customers", "cus_b");
    api.event(
        "evt_3",
        later,
        "customer.deleted",
        json!({"id": "cus_b", "object": "customer", "deleted": true}),
    );
    sync_now(&app, &token, &context).await;
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@newest".to_string(), 1.0)],
        "the newest change won and the deleted customer left the chart"
    );
    assert!(
        api.take_retrieved().is_empty(),
        "the events said enough: nothing was read again"
    );

    // A late copy of the older change (a replayed page, a late webhook) changes nothing.
    api.put(
        "events",
        json!({"id": "evt_0", "object": "event", "created": later - 30, "type": "customer.updated",
               "data": {"object": customer("cus_a", now - 40 * DAY, "a@stale")}}),
    );
    sync_now(&app, &token, &context).await;
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@newest".to_string(), 1.0)]
    );
    // The tombstone is kept (histories can still be computed), out of every count.
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    assert_eq!(
        app.repository
            .count_synced_objects(connection.id, "Customer")
            .await
            .unwrap(),
        1
    );
}

async fn a_change_in_the_same_second_as_the_stored_one_is_read_again(kind: DbKind) {
    let (api, app, token, context, now) = synced(kind).await;
    let later = chrono::Utc::now().timestamp() - 5;
    // Two changes in one second: their order is unknown, so the object is read as it is now.
    api.put("customers", customer("cus_a", now - 40 * DAY, "a@now"));
    for (id, email) in [("evt_x", "a@first"), ("evt_y", "a@second")] {
        api.event(
            id,
            later,
            "customer.updated",
            customer("cus_a", now - 40 * DAY, email),
        );
    }
    sync_now(&app, &token, &context).await;
    assert_eq!(api.take_retrieved(), ["cus_a"]);
    let emails = customers_by_email(&app, &token).await;
    assert!(emails.contains(&("a@now".to_string(), 1.0)), "{emails:?}");
    // The same events listed again: already applied, nothing is read.
    sync_now(&app, &token, &context).await;
    assert!(api.take_retrieved().is_empty());
}

async fn without_the_events_permission_everything_is_read_again_once_a_day(kind: DbKind) {
    let (api, app, token, context, now) = synced(kind).await;
    api.refuse_events(true);
    api.remove("customers", "cus_b");
    api.put("customers", customer("cus_a", now - 40 * DAY, "a@changed"));
    sync_now(&app, &token, &context).await;
    let status = sync_status(&app, &token).await;
    let customers = &status.objects["Customer"];
    assert_eq!(customers.read_mode.as_deref(), Some("full_reread"));
    assert!(
        customers
            .note
            .as_deref()
            .is_some_and(|note| note.contains("once a day")),
        "{customers:?}"
    );
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@changed".to_string(), 1.0)],
        "the full re-read updated cus_a and found cus_b gone"
    );

    // Within the day, only the recent window is read.
    sync_now(&app, &token, &context).await;
    let status = sync_status(&app, &token).await;
    assert_eq!(
        status.objects["Customer"].read_mode.as_deref(),
        Some("recent_window")
    );
    assert!(status.objects["Customer"].note.is_some());
}

async fn a_position_older_than_the_events_kept_reads_everything_again(kind: DbKind) {
    let (api, app, token, context, now) = synced(kind).await;
    // 45 days pass at the provider: its events of the first 15 are gone.
    api.set_clock_ahead(45 * DAY);
    api.remove("customers", "cus_b");
    sync_now(&app, &token, &context).await;
    let status = sync_status(&app, &token).await;
    let customers = &status.objects["Customer"];
    assert_eq!(customers.read_mode.as_deref(), Some("full_reread"));
    assert!(
        customers
            .note
            .as_deref()
            .is_some_and(|note| note.contains("45 days ago") && note.contains("30 days")),
        "{customers:?}"
    );
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@old".to_string(), 1.0)]
    );
    // From there on the feed is read again.
    api.put("customers", customer("cus_a", now - 40 * DAY, "a@later"));
    let provider_now = chrono::Utc::now().timestamp() + 45 * DAY;
    api.event(
        "evt_9",
        provider_now,
        "customer.updated",
        customer("cus_a", now - 40 * DAY, "a@later"),
    );
    sync_now(&app, &token, &context).await;
    let status = sync_status(&app, &token).await;
    assert_eq!(
        status.objects["Customer"].read_mode.as_deref(),
        Some("events")
    );
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@later".to_string(), 1.0)]
    );
}

/// Stripe's largest page, of events too.
const MAX_PAGE: usize = 100;

/// The small-scale form of the benchmark `benches/incremental.rs`: with `k` of `n` customers
/// changed (spread over their ages, some twice, some deleted), the incremental sync reads the
/// pages of events that carry the changes (at most twice as many requests) and stores every one.
async fn an_incremental_sync_takes_about_the_pages_of_its_changes(kind: DbKind) {
    const N: usize = 600;
    let api = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let now = chrono::Utc::now().timestamp();
    let created = |index: usize| now - 730 * DAY + i64::try_from(index).unwrap() * 730 * DAY / 600;
    for index in 0..N {
        let email = format!("{index}@before");
        api.put(
            "customers",
            customer(&format!("cus_{index:04}"), created(index), &email),
        );
    }
    let (app, token, connection) = connected_app(kind, api.base_url.clone(), |_| {}).await;
    let context = SyncContext::new(app.state.services());
    sync::run_until_idle(&context).await;
    assert_eq!(
        app.repository
            .count_synced_objects(connection.id, "Customer")
            .await
            .unwrap(),
        600
    );

    // Every third customer changes: one in ten of them is deleted, one in four of the others
    // changes twice (a second apart: only the second counts).
    let mut events = 0usize;
    let mut expected: Vec<(String, Option<String>)> = Vec::new();
    let at = chrono::Utc::now().timestamp();
    for (n, index) in (0..N).step_by(3).enumerate() {
        let id = format!("cus_{index:04}");
        if n % 10 == 0 {
            api.remove("customers", &id);
            events += 1;
            let stub = json!({"id": id, "object": "customer", "deleted": true});
            api.event(&format!("evt_{events}"), at, "customer.deleted", stub);
            expected.push((id, None));
            continue;
        }
        if n % 4 == 1 {
            events += 1;
            let first = customer(&id, created(index), "first@changed");
            api.event(&format!("evt_{events}"), at - 1, "customer.updated", first);
        }
        let email = format!("{index}@changed");
        api.put("customers", customer(&id, created(index), &email));
        events += 1;
        let object = customer(&id, created(index), &email);
        api.event(&format!("evt_{events}"), at, "customer.updated", object);
        expected.push((id, Some(email)));
    }
    let carrying = events.div_ceil(MAX_PAGE);
    assert_eq!((expected.len(), events, carrying), (200, 250, 3));

    let before = api.api_requests();
    sync_now(&app, &token, &context).await;
    let sent = api.api_requests() - before;
    let status = sync_status(&app, &token).await;
    let customers = &status.objects["Customer"];
    assert_eq!(customers.read_mode.as_deref(), Some("events"));
    let requests = usize::try_from(customers.requests.unwrap()).unwrap();
    assert!(
        requests <= 2 * carrying,
        "{requests} requests for the {carrying} pages of events that carry the changes"
    );
    assert!(api.take_retrieved().is_empty(), "the events said enough");
    // The other objects, unchanged, cost one request each: an empty page of events (or of the
    // recent window, for balance transactions).
    let others = u64::try_from(status.objects.len() - 1).unwrap();
    assert!(
        sent <= u64::try_from(requests).unwrap() + others,
        "{sent} requests in all"
    );

    let stored: std::collections::HashMap<String, Value> = app
        .repository
        .sample_objects(connection.id, "Customer", 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|object| (object["id"].as_str().unwrap().to_string(), object))
        .collect();
    assert_eq!(stored.len(), 600 - 20);
    for (id, email) in expected {
        match email {
            Some(email) => assert_eq!(stored[&id]["email"], email.as_str(), "{id}"),
            None => assert!(!stored.contains_key(&id), "{id} was deleted"),
        }
    }
}

fn event(id: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "created": created, "type": "customer.updated",
           "api_version": "2023-08-16", "data": {"object": object}})
}

async fn deliver(
    app: &TestApp,
    path: &str,
    body: &[u8],
    signature: Option<String>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    request.send().await.unwrap()
}

async fn signed_deliveries_are_applied_and_nothing_else_is_stored(kind: DbKind) {
    let (api, app, token, context, now) = synced(kind).await;
    let endpoint = app
        .get_authed("/api/v1/connections/demo/webhook", &token)
        .await;
    assert_eq!(endpoint.status().as_u16(), 200);
    let endpoint: Value = endpoint.json().await.unwrap();
    assert_eq!(endpoint["secret_set"], false);
    let url = endpoint["url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches(&app.address).to_string();
    assert!(path.starts_with("/webhooks/stripe/"), "{url}");

    let body = serde_json::to_vec(&event(
        "evt_w1",
        chrono::Utc::now().timestamp(),
        customer("cus_a", now - 40 * DAY, "a@pushed"),
    ))
    .unwrap();
    let signed = |secrets: &[&str]| {
        Some(webhook::header(
            secrets,
            chrono::Utc::now().timestamp(),
            &body,
        ))
    };
    // Before the secret is known, nothing is accepted.
    assert_error(
        deliver(&app, &path, &body, signed(&["whsec_one"])).await,
        400,
        "webhook_not_configured",
    )
    .await;
    let bad_secret = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/connections/demo/webhook",
            &token,
            Some(json!({"secret": "not a secret"})),
        )
        .await;
    assert_error(bad_secret, 400, "invalid_webhook_secret").await;
    let set = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/connections/demo/webhook",
            &token,
            Some(json!({"secret": "whsec_one_0123456789"})),
        )
        .await;
    assert_eq!(set.status().as_u16(), 200);
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["secret_set"], true);
    assert!(!set.to_string().contains("whsec_one"), "never shown again");

    // Forged, tampered, stale and unsigned deliveries: 400, nothing stored.
    let stale = Some(webhook::header(
        &["whsec_one_0123456789"],
        chrono::Utc::now().timestamp() - 301,
        &body,
    ));
    assert_error(
        deliver(&app, &path, &body, signed(&["whsec_forged"])).await,
        400,
        "invalid_signature",
    )
    .await;
    assert_error(
        deliver(&app, &path, &body, stale).await,
        400,
        "stale_signature",
    )
    .await;
    assert_error(
        deliver(&app, &path, &body, None).await,
        400,
        "invalid_signature",
    )
    .await;
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_error(
        deliver(&app, &path, &tampered, signed(&["whsec_one_0123456789"])).await,
        400,
        "invalid_signature",
    )
    .await;
    assert_error(
        deliver(
            &app,
            "/webhooks/stripe/0123abcd",
            &body,
            signed(&["whsec_one_0123456789"]),
        )
        .await,
        404,
        "unknown_webhook",
    )
    .await;
    sync::run_until_idle(&context).await;
    assert_eq!(
        customers_by_email(&app, &token).await,
        [("a@old".to_string(), 1.0), ("b@old".to_string(), 1.0)]
    );

    // Valid, then the same delivery again: queued once.
    let first = deliver(&app, &path, &body, signed(&["whsec_one_0123456789"])).await;
    assert_eq!(first.status().as_u16(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["queued"], 1);
    let again = deliver(&app, &path, &body, signed(&["whsec_one_0123456789"])).await;
    assert_eq!(again.json::<Value>().await.unwrap()["queued"], 0);
    // An older change delivered after it (out of order) never wins.
    let older = serde_json::to_vec(&event(
        "evt_w0",
        chrono::Utc::now().timestamp() - 120,
        customer("cus_a", now - 40 * DAY, "a@older"),
    ))
    .unwrap();
    let older_signed = webhook::header(
        &["whsec_one_0123456789"],
        chrono::Utc::now().timestamp(),
        &older,
    );
    assert_eq!(
        deliver(&app, &path, &older, Some(older_signed))
            .await
            .status()
            .as_u16(),
        200
    );
    // The job is due at once: no manual sync needed.
    sync::run_until_idle(&context).await;
    let emails = customers_by_email(&app, &token).await;
    assert!(
        emails.contains(&("a@pushed".to_string(), 1.0)),
        "{emails:?}"
    );
    assert!(api.take_retrieved().is_empty());

    // While Stripe rolls the secret, deliveries signed with both, or either, pass.
    let roll = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/connections/demo/webhook",
            &token,
            Some(json!({"secret": "whsec_one_0123456789,whsec_two_0123456789"})),
        )
        .await;
    assert_eq!(roll.status().as_u16(), 200);
    let rolled = serde_json::to_vec(&event(
        "evt_w2",
        chrono::Utc::now().timestamp() + 1,
        customer("cus_b", now - 30 * DAY, "b@rolled"),
    ))
    .unwrap();
    let both = webhook::header(
        &["whsec_two_0123456789", "whsec_one_0123456789"],
        chrono::Utc::now().timestamp(),
        &rolled,
    );
    assert_eq!(
        deliver(&app, &path, &rolled, Some(both))
            .await
            .status()
            .as_u16(),
        200
    );
    sync::run_until_idle(&context).await;
    let emails = customers_by_email(&app, &token).await;
    assert!(
        emails.contains(&("b@rolled".to_string(), 1.0)),
        "{emails:?}"
    );
    let status = sync_status(&app, &token).await;
    assert_eq!(
        status.objects["Customer"].read_mode.as_deref(),
        Some("webhook")
    );
}

async fn the_platform_endpoint_routes_events_by_account(kind: DbKind) {
    let api = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let (app, _token, _) = connected_app(kind, api.base_url.clone(), |settings| {
        settings.providers.insert(
            "stripe".into(),
            allmetrics::configuration::ProviderSettings {
                webhook_secret: Some(secrecy::SecretString::from("whsec_platform_secret")),
                ..Default::default()
            },
        );
    })
    .await;
    let mut payload = event(
        "evt_p1",
        chrono::Utc::now().timestamp(),
        customer("cus_p", 1, "p@x"),
    );
    payload["account"] = json!("acct_nobody");
    let body = serde_json::to_vec(&payload).unwrap();
    let signed = webhook::header(
        &["whsec_platform_secret"],
        chrono::Utc::now().timestamp(),
        &body,
    );
    let answer = deliver(&app, "/webhooks/stripe", &body, Some(signed)).await;
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["queued"],
        0,
        "no connection to that account (API-key connections use their own endpoint)"
    );
    let forged = webhook::header(&["whsec_other"], chrono::Utc::now().timestamp(), &body);
    assert_error(
        deliver(&app, "/webhooks/stripe", &body, Some(forged)).await,
        400,
        "invalid_signature",
    )
    .await;
    assert_error(
        deliver(
            &app,
            "/webhooks/stripe",
            b"not json",
            Some(webhook::header(
                &["whsec_platform_secret"],
                chrono::Utc::now().timestamp(),
                b"not json",
            )),
        )
        .await,
        400,
        "invalid_event",
    )
    .await;
}

/// 10,000 signed deliveries for 500 customers, 20 changes each, sent 32 at a time in a shuffled
/// order with every tenth one twice: every customer ends at its newest change, none goes back,
/// and the server keeps answering meanwhile (its latencies are printed).
async fn a_flood_of_ten_thousand_deliveries_loses_nothing(kind: DbKind) {
    use futures_util::stream::{self, StreamExt};

    const CUSTOMERS: i64 = 500;
    const CHANGES: i64 = 20;
    let api = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let now = chrono::Utc::now().timestamp();
    for index in 0..CUSTOMERS {
        api.put(
            "customers",
            customer(&format!("cus_{index}"), now - 40 * DAY + index, "start"),
        );
    }
    let (app, token, _) = connected_app(kind, api.base_url.clone(), |_| {}).await;
    let context = SyncContext::new(app.state.services());
    sync::run_until_idle(&context).await;
    let secret = "whsec_flood_0123456789";
    let set = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/connections/demo/webhook",
            &token,
            Some(json!({"secret": secret})),
        )
        .await;
    let set: Value = set.json().await.unwrap();
    let path = set["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.address)
        .to_string();

    // Change j of customer i happened j seconds after `base`: the last one must win.
    let base = now - 3_600;
    let mut deliveries: Vec<(i64, i64)> = (0..CUSTOMERS)
        .flat_map(|i| (0..CHANGES).map(move |j| (i, j)))
        .collect();
    // A fixed shuffle: deterministic, far from the order the changes happened in.
    deliveries.sort_by_key(|&(i, j)| ((i * 7_919 + j * 104_729) % 10_007, i, j));
    assert_eq!(deliveries.len(), 10_000);
    let series_params = [
        ("object_name", "Customer"),
        ("operator", "count"),
        ("total_days", "60"),
    ];
    crate::query::series(&app, &token, &series_params).await;
    // The server keeps answering meanwhile; deliveries only queue changes, so the series stays
    // cached until the sync job applies them. (Latencies: `cargo bench --bench flood`.)
    let probe = async {
        for _ in 0..40 {
            let health = app
                .client
                .get(format!("{}/healthz", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(health.status().as_u16(), 200);
            let series = crate::query::query(&app, &token, &series_params).await;
            assert_eq!(series.status().as_u16(), 200);
            assert_eq!(series.headers()["x-cache"], "hit");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let flood = stream::iter(deliveries.iter().enumerate())
        .map(|(n, &(i, j))| {
            let body = serde_json::to_vec(&event(
                &format!("evt_{i}_{j}"),
                base + j,
                customer(
                    &format!("cus_{i}"),
                    now - 40 * DAY + i,
                    &format!("change-{j}"),
                ),
            ))
            .unwrap();
            let app = &app;
            let path = &path;
            async move {
                let times = if n % 10 == 0 { 2 } else { 1 };
                for _ in 0..times {
                    let signature =
                        webhook::header(&[secret], chrono::Utc::now().timestamp(), &body);
                    let answer = deliver(app, path, &body, Some(signature)).await;
                    assert_eq!(answer.status().as_u16(), 200);
                }
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>();
    tokio::join!(probe, flood);

    sync::run_until_idle(&context).await;
    let emails = customers_by_email(&app, &token).await;
    assert_eq!(
        emails,
        [(format!("change-{}", CHANGES - 1), CUSTOMERS as f64)],
        "every customer ends at its newest change"
    );
    assert!(
        api.take_retrieved().is_empty(),
        "no change needed a re-read"
    );
}
