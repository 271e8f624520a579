//! The living account over HTTP: `/v1/events` (filters, paging, retention), objects as of the clock, deleted
//! objects' shapes, the restricted key, the clock knob and the `Date` header.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use allmetrics_sandbox::{ObjectKind, SandboxConfig};
use common::{config, ids, start, Running, API_KEY, NOW};
use serde_json::Value;

const DAY: i64 = 86_400;
const RESTRICTED_KEY: &str = "rk_test_sandbox_restricted_key_for_tests";

/// Every event `path` lists (newest first), following `starting_after`.
async fn all_events(running: &Running, path: &str, limit: u32) -> Vec<Value> {
    running.list_all(path, limit).await
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn events_list_newest_first_with_stripe_shapes_and_30_days_kept() {
    let running = start(config(400)).await;
    let now = running.sandbox.now_unix();
    let events = all_events(&running, "/v1/events", 100).await;
    assert!(events.len() > 200, "{}", events.len());
    let mut seen = HashSet::new();
    for pair in events.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(newer["created"].as_i64() >= older["created"].as_i64());
        assert!(newer["id"].as_str() > older["id"].as_str());
    }
    for event in &events {
        assert!(seen.insert(event["id"].as_str().unwrap().to_owned()));
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event["object"], "event");
        assert_eq!(event["api_version"], "2023-08-16");
        assert_eq!(event["livemode"], false);
        assert!(event["pending_webhooks"].is_u64());
        assert!(event["request"].get("id").is_some());
        assert!(event["request"].get("idempotency_key").is_some());
        let created = event["created"].as_i64().unwrap();
        assert!((now - 30 * DAY..=now + 5).contains(&created));
        assert!(event["data"]["object"]["id"].is_string());
    }
    let now = running.sandbox.now_unix();
    assert_eq!(
        events.len() as u64,
        running.sandbox.events_count_between(now - 30 * DAY, now)
    );

    // One retrieves what the list showed.
    let sample = &events[events.len() / 2];
    let (status, body) = running
        .get(&format!("/v1/events/{}", sample["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(&body, sample);
    let (status, body) = running.get("/v1/events/evt_1234").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "resource_missing");

    // 40 days later the oldest are gone from the list and from retrieval.
    running
        .sandbox
        .advance_clock(Duration::from_secs(40 * DAY as u64));
    let (status, _) = running
        .get(&format!("/v1/events/{}", sample["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 404);
    let later = all_events(&running, "/v1/events?created[lte]=9999999999", 100).await;
    let now = running.sandbox.now_unix();
    assert!(later
        .iter()
        .all(|event| event["created"].as_i64().unwrap() >= now - 30 * DAY));
    assert!(later.len() > 200);
}

#[tokio::test]
async fn events_filter_by_type_types_and_created() {
    let running = start(config(300)).await;
    let everything = all_events(&running, "/v1/events", 100).await;

    let invoices = all_events(&running, "/v1/events?type=invoice.*", 100).await;
    let expected: Vec<&Value> = everything
        .iter()
        .filter(|event| event["type"].as_str().unwrap().starts_with("invoice."))
        .collect();
    assert!(!invoices.is_empty());
    assert_eq!(invoices.iter().collect::<Vec<_>>(), expected);

    let some = all_events(
        &running,
        "/v1/events?types[]=customer.created&types[]=charge.refunded",
        7,
    )
    .await;
    assert!(some
        .iter()
        .all(|event| ["customer.created", "charge.refunded"]
            .contains(&event["type"].as_str().unwrap())));
    assert_eq!(
        some.len(),
        types(&everything)
            .iter()
            .filter(|t| *t == "customer.created" || *t == "charge.refunded")
            .count()
    );

    let exact = all_events(&running, "/v1/events?type=customer.created", 100).await;
    assert!(exact
        .iter()
        .all(|event| event["type"] == "customer.created"));

    let (from, to) = (NOW - 10 * DAY, NOW - 3 * DAY);
    let window = all_events(
        &running,
        &format!("/v1/events?created[gt]={from}&created[lte]={to}"),
        50,
    )
    .await;
    let expected: Vec<&Value> = everything
        .iter()
        .filter(|event| {
            let created = event["created"].as_i64().unwrap();
            created > from && created <= to
        })
        .collect();
    assert!(!window.is_empty());
    assert_eq!(window.iter().collect::<Vec<_>>(), expected);
    let at = window[0]["created"].as_i64().unwrap();
    let exact_second = all_events(&running, &format!("/v1/events?created={at}"), 100).await;
    assert!(exact_second
        .iter()
        .all(|event| event["created"].as_i64() == Some(at)));
    assert!(!exact_second.is_empty());

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("created[gte]=soon", "created[gte]"),
        ("starting_after=evt_nope", "starting_after"),
    ] {
        let (status, body) = running.get(&format!("/v1/events?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["param"], param, "{query}");
    }
    let too_many: String = (0..21).map(|i| format!("types[]=a.b{i}&")).collect();
    assert_eq!(running.get(&format!("/v1/events?{too_many}")).await.0, 400);
}

#[tokio::test]
async fn ending_before_pages_back_toward_the_newest() {
    let running = start(config(200)).await;
    let everything = all_events(&running, "/v1/events", 100).await;
    assert!(everything.len() > 60);
    // From the oldest, walk up with ending_before.
    let mut collected = vec![everything.last().unwrap().clone()];
    loop {
        let cursor = collected.last().unwrap()["id"].as_str().unwrap().to_owned();
        let (status, body) = running
            .get(&format!("/v1/events?limit=25&ending_before={cursor}"))
            .await;
        assert_eq!(status, 200);
        let page = body["data"].as_array().unwrap();
        // Pages are newest first and sit just above the cursor.
        collected.extend(page.iter().rev().cloned());
        if !body["has_more"].as_bool().unwrap() {
            break;
        }
    }
    collected.reverse();
    assert_eq!(ids(&collected), ids(&everything));
}

#[tokio::test]
async fn history_stays_put_when_the_clock_moves() {
    let running = start(config(300)).await;
    let path = format!(
        "/v1/events?created[gte]={}&created[lte]={}",
        NOW - 6 * DAY,
        NOW - DAY
    );
    let before = all_events(&running, &path, 100).await;
    let customer_id = running.sandbox.generator().id(ObjectKind::Customer, 10);
    let (_, customer_before) = running.get(&format!("/v1/customers/{customer_id}")).await;
    running
        .sandbox
        .advance_clock(Duration::from_secs(10 * DAY as u64));
    let after = all_events(&running, &path, 100).await;
    assert_eq!(before, after);
    // The state at a past instant is fixed too: the generator answers the same for it.
    let generator = running.sandbox.generator();
    assert_eq!(
        generator.object_at(ObjectKind::Customer, 10, NOW),
        customer_before
    );
    // And new events appear as time passes.
    let newer = all_events(
        &running,
        &format!("/v1/events?created[gt]={}", NOW + 60),
        100,
    )
    .await;
    assert!(!newer.is_empty());
    assert!(newer
        .iter()
        .any(|event| event["type"] == "customer.created"));
}

#[tokio::test]
async fn lists_and_retrieval_follow_the_clock() {
    let running = start(config(300)).await;
    let generator = running.sandbox.generator();
    let at_start = running.list_all("/v1/customers", 100).await.len() as u64;
    assert_eq!(at_start, generator.count(ObjectKind::Customer));
    let future_customer = generator.id(ObjectKind::Customer, generator.count(ObjectKind::Customer));
    assert_eq!(
        running
            .get(&format!("/v1/customers/{future_customer}"))
            .await
            .0,
        404
    );

    running
        .sandbox
        .advance_clock(Duration::from_secs(400 * DAY as u64));
    let now = running.sandbox.now_unix();
    let customers = running.list_all("/v1/customers", 100).await;
    let served: Vec<Value> = running
        .sandbox
        .stripe_objects_now(ObjectKind::Customer)
        .collect();
    assert!(
        customers.len() as u64 > at_start * 3 / 2,
        "{}",
        customers.len()
    );
    let mut expected = served.clone();
    expected.reverse();
    assert_eq!(customers, expected);
    let (status, body) = running
        .get(&format!("/v1/customers/{future_customer}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        Some(body),
        running
            .sandbox
            .stripe_object_now(ObjectKind::Customer, &future_customer)
    );

    // Deleted customers: Stripe's stub on retrieval, gone from lists and from the helpers.
    let deleted = (0..generator.count_at(ObjectKind::Customer, now))
        .find(|&index| {
            generator
                .deleted_at(ObjectKind::Customer, index)
                .is_some_and(|at| at <= now)
        })
        .expect("a customer deleted within 400 days");
    let deleted_id = generator.id(ObjectKind::Customer, deleted);
    let (status, body) = running.get(&format!("/v1/customers/{deleted_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({ "id": deleted_id, "object": "customer", "deleted": true })
    );
    assert!(!ids(&customers).contains(&deleted_id));
    assert_eq!(
        running
            .sandbox
            .stripe_object_now(ObjectKind::Customer, &deleted_id),
        None
    );

    // The legacy product and its prices are deleted 120 days after the start: 404 and out of the lists.
    for (kind, index, path) in [
        (ObjectKind::Product, 9, "products"),
        (ObjectKind::Price, 18, "prices"),
        (ObjectKind::Price, 19, "prices"),
        // Their EUR and GBP counterparts.
        (ObjectKind::Price, 25 + 18, "prices"),
        (ObjectKind::Price, 50 + 19, "prices"),
    ] {
        let id = generator.id(kind, index);
        let (status, body) = running.get(&format!("/v1/{path}/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert_eq!(body["error"]["code"], "resource_missing");
        let listed = running.list_all(&format!("/v1/{path}"), 100).await;
        assert!(!ids(&listed).contains(&id));
    }

    // Subscriptions keep Stripe's rule: canceled ones only with status=all.
    let default = running.list_all("/v1/subscriptions", 100).await;
    assert!(default.iter().all(|s| s["status"] != "canceled"));
    let all = running.list_all("/v1/subscriptions?status=all", 100).await;
    assert!(all.iter().any(|s| s["status"] == "canceled"));
    assert_eq!(
        all.len(),
        running
            .sandbox
            .stripe_objects_now(ObjectKind::Subscription)
            .count()
    );
}

#[tokio::test]
async fn the_clock_moves_over_http_and_dates_every_answer() {
    let running = start(config(50)).await;
    let response = running
        .http
        .get(running.url("/v1/customers"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let date = response.headers()["date"].to_str().unwrap().to_owned();
    assert!(
        date == "Thu, 01 Jan 2026 00:00:00 GMT" || date == "Thu, 01 Jan 2026 00:00:01 GMT",
        "{date}"
    );
    let response = running
        .http
        .post(running.url("/v1/test_helpers/advance_clock"))
        .bearer_auth(API_KEY)
        .form(&[("seconds", "86400")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let now = body["now"].as_i64().unwrap();
    assert!((NOW + DAY..NOW + DAY + 5).contains(&now));
    assert!((now..now + 5).contains(&running.sandbox.now_unix()));
    // Errors carry the clock's date too.
    let response = running
        .http
        .get(running.url("/v1/customers/cus_nope"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers()["date"]
        .to_str()
        .unwrap()
        .starts_with("Fri, 02 Jan 2026"));
    let response = running
        .http
        .post(running.url("/v1/test_helpers/advance_clock"))
        .bearer_auth(API_KEY)
        .form(&[("seconds", "-5")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_restricted_key_reads_objects_but_not_events_nor_webhook_endpoints() {
    let running = start(SandboxConfig {
        restricted_api_key: Some(RESTRICTED_KEY.to_owned()),
        ..config(50)
    })
    .await;
    let (status, body) = running.get_with("/v1/customers", RESTRICTED_KEY).await;
    assert_eq!(status, 200);
    assert!(!body["data"].as_array().unwrap().is_empty());
    for path in ["/v1/events", "/v1/events/evt_whatever"] {
        let (status, body) = running.get_with(path, RESTRICTED_KEY).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("The provided key 'rk_test_")
                && message.contains("does not have the required permissions for this endpoint"),
            "{message}"
        );
        assert!(!message.contains(RESTRICTED_KEY));
    }
    let response = running
        .http
        .post(running.url("/v1/webhook_endpoints"))
        .bearer_auth(RESTRICTED_KEY)
        .form(&[
            ("url", "https://example.com/hook"),
            ("enabled_events[]", "*"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The secret key may.
    let (status, _) = running.get("/v1/events").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn same_seed_and_clock_same_events() {
    let a = start(config(150)).await;
    let b = start(config(150)).await;
    let path = format!("/v1/events?created[lte]={}", NOW - 60);
    assert_eq!(
        all_events(&a, &path, 100).await,
        all_events(&b, &path, 100).await
    );
}
