//! Webhook endpoints (`/v1/webhook_endpoints`) and deliveries: signatures, retries, secret rolls, duplicates,
//! reversed order, and a flood delivered in bounded memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use allmetrics_sandbox::{SandboxConfig, WebhookConfig};
use common::{config, start, Running, API_KEY};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const DAY: u64 = 86_400;

struct Received {
    signature: String,
    content_type: String,
    user_agent: String,
    body: Vec<u8>,
}

/// A webhook receiver on loopback that records what it gets and fails the first `fail_first` requests.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicU64>,
}

impl Receiver {
    async fn start(fail_first: u64) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.fail_first.store(fail_first, Ordering::SeqCst);
        let shared = receiver.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().app_data(web::Data::new(shared)).route(
                "/hook",
                web::post().to(
                    |receiver: web::Data<Receiver>, req: HttpRequest, body: web::Bytes| async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|value| value.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let failing = receiver
                            .fail_first
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                                left.checked_sub(1)
                            })
                            .is_ok();
                        if failing {
                            return HttpResponse::InternalServerError().finish();
                        }
                        receiver.received.lock().unwrap().push(Received {
                            signature: header("stripe-signature"),
                            content_type: header("content-type"),
                            user_agent: header("user-agent"),
                            body: body.to_vec(),
                        });
                        HttpResponse::Ok().finish()
                    },
                ),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        (receiver, format!("http://127.0.0.1:{port}/hook"))
    }

    fn events(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|received| serde_json::from_slice(&received.body).unwrap())
            .collect()
    }
}

/// The `v1` signatures of a `Stripe-Signature` header and its timestamp.
fn parse_signature(header: &str) -> (i64, Vec<String>) {
    let mut timestamp = 0;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (name, value) = part.split_once('=').unwrap();
        match name {
            "t" => timestamp = value.parse().unwrap(),
            "v1" => signatures.push(value.to_owned()),
            other => panic!("unexpected {other} in {header}"),
        }
    }
    (timestamp, signatures)
}

fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn fast_webhooks() -> WebhookConfig {
    WebhookConfig {
        timeout: Duration::from_secs(2),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_attempts: 6,
        concurrency: 8,
        poll_interval: Duration::from_millis(50),
    }
}

async fn start_fast(size: u64) -> Running {
    start(SandboxConfig {
        webhooks: fast_webhooks(),
        ..config(size)
    })
    .await
}

async fn post_form(running: &Running, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = running
        .http
        .post(running.url(path))
        .bearer_auth(API_KEY)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn idle(running: &Running) {
    tokio::time::timeout(Duration::from_secs(60), running.sandbox.webhooks_idle())
        .await
        .expect("deliveries finish");
}

#[tokio::test]
async fn endpoints_are_created_listed_updated_and_deleted_with_the_secret_shown_once() {
    let running = start_fast(20).await;
    let (status, created) = post_form(
        &running,
        "/v1/webhook_endpoints",
        &[
            ("url", "https://example.com/hooks/stripe"),
            ("enabled_events[0]", "invoice.paid"),
            ("enabled_events[1]", "customer.subscription.updated"),
            ("description", "allmetrics"),
            ("metadata[connection]", "42"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("we_"));
    assert_eq!(created["object"], "webhook_endpoint");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["metadata"]["connection"], "42");
    assert_eq!(
        created["enabled_events"],
        serde_json::json!(["invoice.paid", "customer.subscription.updated"])
    );

    let (status, listed) = running.get("/v1/webhook_endpoints").await;
    assert_eq!(status, 200);
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(listed["data"][0].get("secret").is_none());
    let (status, one) = running.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(status, 200);
    assert!(one.get("secret").is_none());
    assert_eq!(one["url"], "https://example.com/hooks/stripe");

    let (status, updated) = post_form(
        &running,
        &format!("/v1/webhook_endpoints/{id}"),
        &[
            ("disabled", "true"),
            ("enabled_events[]", "*"),
            ("url", "https://example.com/other"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["enabled_events"], serde_json::json!(["*"]));
    assert_eq!(updated["url"], "https://example.com/other");
    assert!(updated.get("secret").is_none());

    let (status, missing) = post_form(&running, "/v1/webhook_endpoints", &[("url", "nope")]).await;
    assert_eq!(status, 400);
    assert_eq!(missing["error"]["param"], "url");
    let (status, _) = post_form(
        &running,
        "/v1/webhook_endpoints",
        &[("url", "https://example.com/x")],
    )
    .await;
    assert_eq!(status, 400);

    let response = running
        .http
        .delete(running.url(&format!("/v1/webhook_endpoints/{id}")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(
        deleted,
        serde_json::json!({ "id": id, "object": "webhook_endpoint", "deleted": true })
    );
    assert_eq!(
        running.get(&format!("/v1/webhook_endpoints/{id}")).await.0,
        404
    );

    // Sixteen at most.
    for n in 0..16 {
        let url = format!("https://example.com/{n}");
        let (status, _) = post_form(
            &running,
            "/v1/webhook_endpoints",
            &[("url", &url), ("enabled_events[]", "*")],
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, body) = post_form(
        &running,
        "/v1/webhook_endpoints",
        &[("url", "https://example.com/17"), ("enabled_events[]", "*")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn events_after_the_endpoint_is_created_arrive_signed_and_retried() {
    let running = start_fast(300).await;
    // The receiver fails its first five requests: those deliveries are retried.
    let (receiver, url) = Receiver::start(5).await;
    let (status, created) = post_form(
        &running,
        "/v1/webhook_endpoints",
        &[("url", &url), ("enabled_events[]", "*")],
    )
    .await;
    assert_eq!(status, 200);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let endpoint_created = created["created"].as_i64().unwrap();

    running.sandbox.advance_clock(Duration::from_secs(3 * DAY));
    idle(&running).await;
    let now = running.sandbox.now_unix();
    let expected = running
        .sandbox
        .events_count_between(endpoint_created + 1, now);
    assert!(expected > 50, "{expected}");

    let received: Vec<Received> = std::mem::take(&mut *receiver.received.lock().unwrap());
    assert_eq!(received.len() as u64, expected);
    let mut ids = HashSet::new();
    let first: Value = serde_json::from_slice(&received[0].body).unwrap();
    for delivery in &received {
        assert_eq!(delivery.content_type, "application/json; charset=utf-8");
        assert_eq!(
            delivery.user_agent,
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
        );
        let (timestamp, signatures) = parse_signature(&delivery.signature);
        // Signed at delivery, on the wall clock (what receivers check the tolerance against).
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((wall - 300..=wall + 5).contains(&timestamp), "{timestamp}");
        assert_eq!(signatures, vec![sign(&secret, timestamp, &delivery.body)]);
        let event: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert!(event["created"].as_i64().unwrap() > endpoint_created);
        assert!(ids.insert(event["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(running.sandbox.webhook_deliveries_succeeded(), expected);
    assert_eq!(running.sandbox.webhook_deliveries_attempted(), expected + 5);
    assert_eq!(running.sandbox.webhook_deliveries_given_up(), 0);
    assert_eq!(running.sandbox.pending_webhook_deliveries(), 0);

    // Each delivered event is the one /v1/events serves.
    let event = &first;
    let (status, served) = running
        .get(&format!("/v1/events/{}", event["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(&served, event);
}

#[tokio::test]
async fn only_enabled_event_types_are_sent_and_a_receiver_that_always_fails_is_given_up() {
    let running = start_fast(300).await;
    let (receiver, url) = Receiver::start(0).await;
    running
        .sandbox
        .create_webhook_endpoint(&url, &["invoice.paid", "customer.created"])
        .unwrap();
    let (_, failing_url) = Receiver::start(u64::MAX).await;
    running
        .sandbox
        .create_webhook_endpoint(&failing_url, &["customer.created"])
        .unwrap();
    running.sandbox.advance_clock(Duration::from_secs(2 * DAY));
    idle(&running).await;
    let events = receiver.events();
    assert!(!events.is_empty());
    assert!(events.iter().all(
        |event| ["invoice.paid", "customer.created"].contains(&event["type"].as_str().unwrap())
    ));
    let customers = events
        .iter()
        .filter(|event| event["type"] == "customer.created")
        .count() as u64;
    assert!(customers > 0);
    assert_eq!(running.sandbox.webhook_deliveries_given_up(), customers);
}

#[tokio::test]
async fn a_rolled_secret_signs_beside_the_old_one_until_it_expires() {
    let running = start_fast(300).await;
    let (receiver, url) = Receiver::start(0).await;
    let (id, old_secret) = running
        .sandbox
        .create_webhook_endpoint(&url, &["*"])
        .unwrap();
    let new_secret = running
        .sandbox
        .roll_webhook_secret(&id, Duration::from_secs(DAY))
        .unwrap();
    assert_ne!(new_secret, old_secret);
    running.sandbox.advance_clock(Duration::from_secs(DAY / 2));
    idle(&running).await;
    let count = receiver.received.lock().unwrap().len();
    assert!(count > 0);
    for delivery in receiver.received.lock().unwrap().iter() {
        let (timestamp, signatures) = parse_signature(&delivery.signature);
        assert_eq!(
            signatures,
            vec![
                sign(&new_secret, timestamp, &delivery.body),
                sign(&old_secret, timestamp, &delivery.body)
            ]
        );
    }
    // A day later the old secret no longer signs.
    running.sandbox.advance_clock(Duration::from_secs(DAY));
    idle(&running).await;
    let received = receiver.received.lock().unwrap();
    assert!(received.len() > count);
    let last = received.last().unwrap();
    let (timestamp, signatures) = parse_signature(&last.signature);
    assert_eq!(signatures, vec![sign(&new_secret, timestamp, &last.body)]);
}

#[tokio::test]
async fn duplicated_and_reversed_deliveries_on_demand() {
    let running = start(SandboxConfig {
        webhooks: WebhookConfig {
            concurrency: 1,
            ..fast_webhooks()
        },
        ..config(300)
    })
    .await;
    let (receiver, url) = Receiver::start(0).await;
    running.sandbox.webhook_delivery_faults(3, 10);
    running
        .sandbox
        .create_webhook_endpoint(&url, &["*"])
        .unwrap();
    running.sandbox.advance_clock(Duration::from_secs(DAY));
    idle(&running).await;
    let events = receiver.events();
    let mut times: HashMap<String, u32> = HashMap::new();
    for event in &events {
        *times
            .entry(event["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(times.values().filter(|&&n| n == 2).count(), 3);
    assert_eq!(events.len(), times.len() + 3);
    // The first ten picked up went out newest first (the three oldest of them twice).
    let ids: Vec<&str> = events
        .iter()
        .take(13)
        .map(|event| event["id"].as_str().unwrap())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] >= pair[1]), "{ids:?}");
    assert!(ids[0] > ids[12]);
    assert!(events[13]["id"].as_str().unwrap() > ids[0]);
}

#[tokio::test]
async fn a_flood_of_ten_thousand_events_is_delivered_in_bounded_memory() {
    let running = start(SandboxConfig {
        webhooks: WebhookConfig {
            concurrency: 32,
            ..fast_webhooks()
        },
        ..config(2000)
    })
    .await;
    let (receiver, url) = Receiver::start(0).await;
    let (_, _) = running
        .sandbox
        .create_webhook_endpoint(&url, &["*"])
        .unwrap();
    let from = running.sandbox.now_unix();
    // About 10,000 events: a big jump, delivered as if they had happened one by one.
    running
        .sandbox
        .advance_clock(Duration::from_secs(110 * DAY));
    let expected = running
        .sandbox
        .events_count_between(from + 1, running.sandbox.now_unix());
    assert!(expected >= 10_000, "{expected}");
    let mut peak = 0;
    let started = std::time::Instant::now();
    loop {
        let pending = running.sandbox.pending_webhook_deliveries();
        peak = peak.max(pending);
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "stuck at {pending}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Never more than a bounded number of deliveries at once.
    assert!(peak <= 256, "{peak}");
    let received = receiver.received.lock().unwrap().len() as u64;
    assert!(received >= expected, "{received} < {expected}");
}
