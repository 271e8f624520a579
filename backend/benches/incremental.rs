//! Requests per incremental sync (a bench binary: prints figures, asserts nothing).
//!
//! A Stripe-like account of 100,000 customers created over two years is backfilled; then 1% of
//! them change (spread over their ages: most updated, some twice, some deleted) and one
//! incremental sync runs. It runs twice in the same process, against the same provider:
//!
//! - events: the changes are read from `/v1/events`;
//! - 7-day re-read: the key has no permission on events, so after the daily full re-read each
//!   sync re-reads the customers created in the last 7 days (what every incremental sync did
//!   before the events feed).
//!
//! Prints the requests each took against the fewest that can carry the changes (one page per
//! 100 events, Stripe's largest page), and how many of the changed customers each left stored
//! as the provider has them.
//!
//! `cargo bench -p allmetrics --bench incremental [-- sqlite|postgres]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
// The integration tests' fake Stripe: its objects and events are written by the bench.
#[allow(dead_code)]
#[path = "../tests/api/fake_provider.rs"]
mod fake_provider;

use std::collections::HashMap;
use std::time::Instant;

use allmetrics::sync::{self, SyncContext};
use fake_provider::{FakeProvider, TokenBehaviour, VALID_API_KEY};
use serde_json::{json, Value};

const OBJECTS: usize = 100_000;
/// Every 100th customer changes: 1%, spread evenly over their ages.
const CHANGE_EVERY: usize = 100;
/// One changed customer in ten is deleted.
const DELETE_EVERY: usize = 10;
/// One changed customer in five (of those not deleted) changes twice.
const TWICE_EVERY: usize = 5;
const DAY: i64 = 86_400;
const HISTORY_DAYS: i64 = 730;
/// Stripe's largest page of a list, events included.
const MAX_PAGE: u64 = 100;

fn customer(index: usize, created: i64, email: &str) -> Value {
    json!({
        "id": format!("cus_{index:06}"), "object": "customer", "created": created,
        "email": email, "currency": "usd",
    })
}

/// When customer `index` was created: evenly over the two years before `now`.
fn created_at(index: usize, now: i64) -> i64 {
    let index = i64::try_from(index).unwrap();
    let objects = i64::try_from(OBJECTS).unwrap();
    now - HISTORY_DAYS * DAY + index * (HISTORY_DAYS * DAY) / objects
}

/// What a changed customer ends as at the provider.
enum Expected {
    Email(String),
    Deleted,
}

/// Makes the changes at the provider, each with its event(s), at times from `from` to now;
/// returns what every changed customer ends as, and the number of events.
fn change(api: &FakeProvider, now: i64, from: i64) -> (HashMap<String, Expected>, u64) {
    let to = chrono::Utc::now().timestamp().max(from + 1);
    let changed: Vec<usize> = (0..OBJECTS)
        .filter(|index| index % CHANGE_EVERY == CHANGE_EVERY / 2)
        .collect();
    let span = usize::try_from(to - from).unwrap();
    let at = |n: usize| from + i64::try_from(n * span / changed.len()).unwrap();
    let mut expected = HashMap::new();
    let mut events = 0u64;
    let mut event = |api: &FakeProvider, at: i64, kind: &str, object: Value| {
        events += 1;
        api.event(&format!("evt_{events:06}"), at, kind, object);
    };
    for (n, &index) in changed.iter().enumerate() {
        let id = format!("cus_{index:06}");
        let created = created_at(index, now);
        if n % DELETE_EVERY == 0 {
            api.remove("customers", &id);
            let stub = json!({"id": id, "object": "customer", "deleted": true});
            event(api, at(n), "customer.deleted", stub);
            expected.insert(id, Expected::Deleted);
            continue;
        }
        if n % TWICE_EVERY == 1 {
            // The first of two changes, a second earlier: only the second must be kept.
            let first = customer(index, created, &format!("{index}@first.example"));
            event(api, at(n) - 1, "customer.updated", first);
        }
        let email = format!("{index}@changed.example");
        let object = customer(index, created, &email);
        api.put("customers", object.clone());
        event(api, at(n), "customer.updated", object);
        expected.insert(id, Expected::Email(email));
    }
    (expected, events)
}

/// The app on a database of its own, syncing only the customers of the fake.
async fn app(database: &str, api: &FakeProvider) -> common::Bench {
    let bench = common::start_with_key(database, &api.base_url, VALID_API_KEY, |settings| {
        // Requests are counted, not timed: no wait between them.
        settings.sync.requests_per_sec = Some(100_000);
    })
    .await;
    common::only(&bench, "Customer").await;
    bench
}

/// What one sync of the connection did.
struct Run {
    requests: u64,
    mode: String,
    seconds: f64,
}

async fn sync_once(bench: &common::Bench, api: &FakeProvider) -> Run {
    let services = bench.application.state().services();
    sync::schedule(&services, &bench.connection).await.unwrap();
    let before = api.api_requests();
    let started = Instant::now();
    sync::run_until_idle(&SyncContext::new(services)).await;
    let seconds = started.elapsed().as_secs_f64();
    let job = bench
        .repository
        .sync_jobs(bench.connection.id)
        .await
        .unwrap()
        .remove(0);
    if let Some(error) = &job.last_error {
        println!("  the run failed: {error}");
    }
    Run {
        requests: api.api_requests() - before,
        mode: job
            .last_read
            .map_or_else(|| "-".into(), |read| read.mode.as_str().to_string()),
        seconds,
    }
}

/// How many changed customers are stored as the provider has them (deleted ones: gone).
async fn stored_right(bench: &common::Bench, expected: &HashMap<String, Expected>) -> usize {
    let stored: HashMap<String, Value> = bench
        .repository
        .sample_objects(bench.connection.id, "Customer", i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|object| (object["id"].as_str().unwrap().to_string(), object))
        .collect();
    expected
        .iter()
        .filter(|(id, expected)| match expected {
            Expected::Deleted => !stored.contains_key(*id),
            Expected::Email(email) => stored
                .get(*id)
                .is_some_and(|object| object["email"] == email.as_str()),
        })
        .count()
}

async fn bench(database: &str) {
    let api = FakeProvider::start(TokenBehaviour::Grant(json!({}))).await;
    let now = chrono::Utc::now().timestamp();
    for index in 0..OBJECTS {
        let created = created_at(index, now);
        api.put(
            "customers",
            customer(index, created, &format!("{index}@example.com")),
        );
    }

    // The 7-day re-read: without the events permission, the first sync after the backfill
    // re-reads everything (as once a day), the next ones the last 7 days.
    api.refuse_events(true);
    let window = app(database, &api).await;
    let backfill = sync_once(&window, &api).await;
    let daily = sync_once(&window, &api).await;
    println!(
        "7-day mode, before the changes: backfill {} requests ({:.1} s), then the daily full \
         re-read ({}) {} requests ({:.1} s)",
        backfill.requests, backfill.seconds, daily.mode, daily.requests, daily.seconds
    );

    api.refuse_events(false);
    let events = app(database, &api).await;
    let backfill_started = chrono::Utc::now().timestamp();
    let backfill = sync_once(&events, &api).await;
    println!(
        "events mode, before the changes: backfill {} requests ({:.1} s)",
        backfill.requests, backfill.seconds
    );

    // The changes happen after the backfill started (the feed is read from there).
    let (expected, event_count) = change(&api, now, backfill_started);
    let deleted = expected
        .values()
        .filter(|expected| matches!(expected, Expected::Deleted))
        .count();
    let carrying = event_count.div_ceil(MAX_PAGE);
    println!(
        "{OBJECTS} customers over {HISTORY_DAYS} days, {} changed ({} updated, {} of them \
         twice; {deleted} deleted): {event_count} events, so at least {carrying} requests \
         (pages of {MAX_PAGE} events) carry the changes",
        expected.len(),
        expected.len() - deleted,
        event_count - expected.len() as u64,
    );

    api.refuse_events(false);
    let by_events = sync_once(&events, &api).await;
    let events_right = stored_right(&events, &expected).await;
    api.refuse_events(true);
    let by_window = sync_once(&window, &api).await;
    let window_right = stored_right(&window, &expected).await;
    for (name, run, right) in [
        ("events", &by_events, events_right),
        ("7-day re-read", &by_window, window_right),
    ] {
        println!(
            "incremental sync, {name} ({}): {} requests = {:.2} x the {carrying} carrying the \
             changes, {:.2} s; changed customers stored right: {right} of {}",
            run.mode,
            run.requests,
            run.requests as f64 / carrying as f64,
            run.seconds,
            expected.len()
        );
    }
    common::drop_postgres_database(&window.database_url);
    common::drop_postgres_database(&events.database_url);
}

fn main() {
    common::run_on_database(|database| async move { bench(&database).await });
}
