//! The sync engine against the sandbox: the store ends with exactly the provider's objects.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use allmetrics::domain::{Connection, RoutingSourcePatch, SyncJob};
use allmetrics::sync::{self, SyncContext};
use allmetrics_common::SyncStatus;
use allmetrics_sandbox::{Faults, ObjectKind, Sandbox, SandboxConfig};
use serde_json::json;

use crate::demo::{consent, follow_callback};
use crate::fake_provider::{stripe_grant, FakeProvider, TokenBehaviour, VALID_API_KEY};
use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_store_ends_with_exactly_the_providers_objects,
    a_killed_backfill_resumes_with_no_duplicate_and_no_loss,
    a_job_waiting_on_retry_after_keeps_its_lease,
    one_large_object_is_read_in_parallel_time_windows,
    faults_are_survived_and_the_store_is_still_exact,
    a_revoked_token_needs_a_reconnect,
    an_object_the_provider_refuses_is_reported_while_the_others_complete,
    incremental_syncs_read_new_objects_and_changes_from_events,
);

/// The key the sandboxes here and the fake provider both accept.
const API_KEY: &str = VALID_API_KEY;
/// Data generated up to a fixed instant, so that every run sees the same objects.
const NOW: i64 = 1_790_000_000;

/// A sandbox of its own on loopback (so that tests can give it faults).
pub(crate) fn start_sandbox(size: u64, faults: Faults) -> (Sandbox, String) {
    start_sandbox_with(SandboxConfig {
        faults,
        ..sandbox_config(size)
    })
}

fn sandbox_config(size: u64) -> SandboxConfig {
    SandboxConfig {
        seed: 7,
        size,
        api_key: Some(API_KEY.into()),
        now: Some(NOW),
        ..Default::default()
    }
}

fn start_sandbox_with(config: SandboxConfig) -> (Sandbox, String) {
    let sandbox = Sandbox::new(config);
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    (sandbox, format!("http://127.0.0.1:{port}"))
}

/// The app, its Demo source pointed at `api_base`, and a user connected to it with the key.
pub(crate) async fn connected_app(
    kind: DbKind,
    api_base: String,
    configure: impl FnOnce(&mut allmetrics::configuration::Settings),
) -> (TestApp, String, Connection) {
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert(
            "demo".into(),
            allmetrics::configuration::ProviderSettings {
                api_base: Some(api_base),
                ..Default::default()
            },
        );
        configure(settings);
    })
    .await;
    // Stored directly: checking the key would be one more request to a sandbox with faults.
    let (token, connection) = app.sign_up_connected("ann@example.com", API_KEY).await;
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    (app, token, connection)
}

pub(crate) fn kind_of(object_name: &str) -> ObjectKind {
    let path = allmetrics::providers::stripe::reader::list_path(
        allmetrics::providers::stripe::CATALOGUE,
        object_name,
    );
    ObjectKind::from_list_path(path.trim_start_matches("/v1/")).unwrap()
}

/// Every object of every kind is stored exactly once.
async fn assert_store_is_exact(app: &TestApp, sandbox: &Sandbox, connection: &Connection) {
    for object in allmetrics::providers::stripe::CATALOGUE {
        assert_object_is_exact(app, sandbox, connection, object.name).await;
    }
}

/// Every object of this kind is stored exactly once.
async fn assert_object_is_exact(
    app: &TestApp,
    sandbox: &Sandbox,
    connection: &Connection,
    object_name: &str,
) {
    let kind = kind_of(object_name);
    let generator = sandbox.generator();
    let mut expected: Vec<String> = (0..generator.count(kind))
        .map(|index| generator.id(kind, index))
        .collect();
    expected.sort();
    let stored = app
        .repository
        .synced_object_ids(connection.id, object_name)
        .await
        .unwrap();
    if stored.len() != expected.len() {
        let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
        let states: Vec<_> = jobs
            .iter()
            .map(|job| {
                (
                    &job.object_name,
                    job.backfill_done,
                    job.objects_synced,
                    job.failures,
                    &job.last_error,
                )
            })
            .collect();
        panic!(
            "{object_name} count: {} stored, {} expected; jobs (object, done, synced, failures, \
             error): {states:?}",
            stored.len(),
            expected.len()
        );
    }
    assert_eq!(stored, expected, "{object_name} ids");
}

async fn job_of(app: &TestApp, connection: &Connection, object_name: &str) -> SyncJob {
    app.repository
        .sync_jobs(connection.id)
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.object_name == object_name)
        .unwrap()
}

/// `POST /api/v1/connections/demo/sync`: sync now.
pub(crate) async fn post_sync(app: &TestApp, token: &str) -> reqwest::Response {
    app.call(
        reqwest::Method::POST,
        "/api/v1/connections/demo/sync",
        token,
        None,
    )
    .await
}

pub(crate) async fn sync_status(app: &TestApp, token: &str) -> SyncStatus {
    let response = app.get_authed("/api/v1/connections/demo/sync", token).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn the_store_ends_with_exactly_the_providers_objects(kind: DbKind) {
    for size in [0, 3, 120] {
        let (sandbox, api_base) = start_sandbox(size, Faults::default());
        let (app, token, connection) = connected_app(kind, api_base, |_| {}).await;
        let before = sync_status(&app, &token).await;
        assert_eq!(before.state, "backfilling");
        assert_eq!(before.objects.len(), 11);
        assert!(before
            .objects
            .values()
            .all(|object| object.synced == 0 && !object.done));

        let context = SyncContext::new(app.state.services());
        sync::run_until_idle(&context).await;
        assert_store_is_exact(&app, &sandbox, &connection).await;

        let status = sync_status(&app, &token).await;
        assert_eq!(status.state, "idle", "size {size}: {status:?}");
        assert_eq!(status.objects.len(), 11);
        let customers = &status.objects["Customer"];
        assert!(customers.done && customers.last_error.is_none());
        assert_eq!(
            customers.synced,
            i64::try_from(sandbox.generator().count(ObjectKind::Customer)).unwrap()
        );
        assert!(status.last_synced_at.is_some() || size == 0);

        // A manual sync reads again: nothing is duplicated.
        let manual = post_sync(&app, &token).await;
        assert_eq!(manual.status().as_u16(), 202);
        sync::run_until_idle(&context).await;
        assert_store_is_exact(&app, &sandbox, &connection).await;
        assert_eq!(
            sync_status(&app, &token).await.objects["Customer"].synced,
            customers.synced
        );
    }
}

async fn a_killed_backfill_resumes_with_no_duplicate_and_no_loss(kind: DbKind) {
    // Requests take a while and the rate has room: the backfill splits into windows.
    let (sandbox, api_base) = start_sandbox_with(SandboxConfig {
        latency: Duration::from_millis(10),
        ..sandbox_config(400)
    });
    let (app, _token, connection) = connected_app(kind, api_base, |settings| {
        settings.sync.page_size = 10;
        settings.sync.lease_secs = 1;
        settings.sync.max_concurrent_jobs = 2;
        settings.sync.requests_per_sec = Some(1_000);
    })
    .await;
    let total_charges = i64::try_from(sandbox.generator().count(ObjectKind::Charge)).unwrap();
    let charges_job = job_of(&app, &connection, "Charge").await.id;

    // Kill the engine while several windows of the charges are half walked.
    let first = SyncContext::new(app.state.services());
    let engine = tokio::spawn({
        let first = first.clone();
        async move { sync::run_until_idle(&first).await }
    });
    let mut polls = 0;
    loop {
        let windows = app.repository.backfill_windows(charges_job).await.unwrap();
        if windows
            .iter()
            .filter(|window| window.cursor.is_some())
            .count()
            >= 2
        {
            break;
        }
        polls += 1;
        assert!(polls < 3_000, "the charges never had two windows under way");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.abort();
    let _ = engine.await;
    let charges = job_of(&app, &connection, "Charge").await;
    assert!(!charges.backfill_done, "stopped mid-backfill");
    let windows = app.repository.backfill_windows(charges_job).await.unwrap();
    assert!(windows.len() >= 2, "{windows:?}");
    // The windows are disjoint slices of the history, newest first.
    for pair in windows.windows(2) {
        assert!(
            pair[1].created_lt <= pair[0].created_gte.unwrap(),
            "{windows:?}"
        );
    }
    let stored_at_kill = app
        .repository
        .count_synced_objects(connection.id, "Charge")
        .await
        .unwrap();
    assert!(stored_at_kill < total_charges);
    assert_eq!(charges.objects_synced, stored_at_kill);

    // A restarted process (another lease owner) takes the jobs over once the dead lease expires.
    let restarted: Arc<SyncContext> = SyncContext::new(app.state.services());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sync::run_until_idle(&restarted).await;
    assert_store_is_exact(&app, &sandbox, &connection).await;
    let charges = job_of(&app, &connection, "Charge").await;
    assert!(charges.backfill_done);
    assert_eq!(charges.objects_synced, total_charges, "counted once each");
    assert!(app
        .repository
        .backfill_windows(charges_job)
        .await
        .unwrap()
        .is_empty());
}

async fn a_job_waiting_on_retry_after_keeps_its_lease(kind: DbKind) {
    // After every few requests the provider answers 429 `Retry-After: 1` three times in a row:
    // the run waits about 3 s between pages, longer than its 2 s lease.
    let (sandbox, api_base) = start_sandbox(
        12,
        Faults {
            rate_limit_burst_every: Some(4),
            rate_limit_burst_len: 3,
            ..Faults::default()
        },
    );
    let (app, _token, connection) = connected_app(kind, api_base, |settings| {
        settings.sync.page_size = 5;
        settings.sync.lease_secs = 2;
        settings.sync.max_concurrent_jobs = 1;
        settings.sync.max_windows_per_connection = 1;
    })
    .await;
    // Only the customers.
    let source = app
        .repository
        .data_source_by_slug("demo")
        .await
        .unwrap()
        .unwrap();
    for object in allmetrics::providers::stripe::CATALOGUE {
        if object.name != "Customer" {
            let patch = RoutingSourcePatch {
                enabled: Some(false),
                ..Default::default()
            };
            app.repository
                .update_routing_source(source.id, object.name, patch)
                .await
                .unwrap();
        }
    }
    app.repository.reset_sync(connection.id).await.unwrap();
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();

    let engine = tokio::spawn({
        let context = SyncContext::new(app.state.services());
        async move { sync::run_until_idle(&context).await }
    });
    let started = std::time::Instant::now();
    // Once the run has stored its first page, another replica looks for due jobs all along: it
    // never gets the running one.
    while job_of(&app, &connection, "Customer").await.objects_synced == 0 {
        assert!(
            !engine.is_finished(),
            "the run ended before storing anything"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    while !engine.is_finished() {
        let now = chrono::Utc::now().timestamp();
        let claimed = app
            .repository
            .claim_due_jobs("another-replica", now, now + 60, 10)
            .await
            .unwrap();
        assert!(
            claimed.is_empty(),
            "another replica took a running job after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine.await.unwrap();
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "the run waited longer than its lease"
    );
    assert_object_is_exact(&app, &sandbox, &connection, "Customer").await;
    let customers = job_of(&app, &connection, "Customer").await;
    assert!(customers.backfill_done);
    assert_eq!(customers.last_error, None);
    assert_eq!(
        customers.objects_synced,
        app.repository
            .count_synced_objects(connection.id, "Customer")
            .await
            .unwrap(),
        "counted once each"
    );
}

async fn one_large_object_is_read_in_parallel_time_windows(kind: DbKind) {
    let (sandbox, api_base) = start_sandbox_with(SandboxConfig {
        latency: Duration::from_millis(25),
        ..sandbox_config(200)
    });
    let (app, token, connection) = connected_app(kind, api_base, |settings| {
        settings.sync.page_size = 10;
        settings.sync.requests_per_sec = Some(400);
        settings.sync.max_windows_per_connection = 6;
    })
    .await;
    // Only the charges.
    let source = app
        .repository
        .data_source_by_slug("demo")
        .await
        .unwrap()
        .unwrap();
    for object in allmetrics::providers::stripe::CATALOGUE {
        if object.name != "Charge" {
            let patch = RoutingSourcePatch {
                enabled: Some(false),
                ..Default::default()
            };
            app.repository
                .update_routing_source(source.id, object.name, patch)
                .await
                .unwrap();
        }
    }
    app.repository.reset_sync(connection.id).await.unwrap();
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    assert_eq!(
        app.repository.sync_jobs(connection.id).await.unwrap().len(),
        1
    );

    sync::run_until_idle(&SyncContext::new(app.state.services())).await;
    assert_object_is_exact(&app, &sandbox, &connection, "Charge").await;
    let charges = job_of(&app, &connection, "Charge").await;
    assert!(charges.backfill_done);
    assert_eq!(
        charges.objects_synced,
        i64::try_from(sandbox.generator().count(ObjectKind::Charge)).unwrap(),
        "counted once each"
    );
    assert!(app
        .repository
        .backfill_windows(charges.id)
        .await
        .unwrap()
        .is_empty());
    // One cursor walk sends one request at a time; the windows sent several, never more than
    // allowed.
    let peak = sandbox.peak_concurrent_requests();
    assert!((2..=6).contains(&peak), "peak of {peak} requests at once");
    let status = sync_status(&app, &token).await;
    assert_eq!(status.state, "idle");
    assert!(status.objects["Charge"].done);
}

async fn faults_are_survived_and_the_store_is_still_exact(kind: DbKind) {
    let (sandbox, api_base) = start_sandbox(
        150,
        Faults {
            error_rate: 0.1,
            rate_limit_burst_every: Some(9),
            rate_limit_burst_len: 3,
            timeout_rate: 0.03,
            timeout: Duration::from_millis(2500),
            truncated_rate: 0.05,
            malformed_rate: 0.05,
        },
    );
    let (app, token, connection) = connected_app(kind, api_base, |settings| {
        settings.sync.max_attempts = 12;
        settings.sync.page_size = 50;
        // Room in the rate: pages are read in several windows at once, through the faults.
        settings.sync.requests_per_sec = Some(1_000);
    })
    .await;
    sync::run_until_idle(&SyncContext::new(app.state.services())).await;
    // A run that meets more faults in a row than its attempts allow stops and is retried later,
    // as in production: here, later is now (at most twice).
    for _ in 0..2 {
        let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
        if jobs.iter().all(|job| job.backfill_done) {
            break;
        }
        app.repository
            .schedule_sync_now(connection.id, chrono::Utc::now().timestamp())
            .await
            .unwrap();
        sync::run_until_idle(&SyncContext::new(app.state.services())).await;
    }
    assert_store_is_exact(&app, &sandbox, &connection).await;
    let status = sync_status(&app, &token).await;
    assert_eq!(status.state, "idle");
    assert!(status.last_error.is_none(), "{status:?}");
}

async fn a_revoked_token_needs_a_reconnect(kind: DbKind) {
    let app = spawn_app(kind).await;
    let token = app.sign_up("ann@example.com").await.access_token;
    let callback = consent(&app, &token, "demo", "approve").await;
    assert_eq!(
        follow_callback(&app, &token, &callback)
            .await
            .status()
            .as_u16(),
        302
    );
    app.state.sandbox.as_ref().unwrap().revoke_all();

    sync::run_until_idle(&SyncContext::new(app.state.services())).await;
    let status = sync_status(&app, &token).await;
    assert_eq!(status.state, "needs_reconnect");
    assert!(status.last_error.unwrap().contains("reconnect"));
    assert_eq!(
        app.get_connections(&token).await[0].status,
        "needs_reconnect"
    );
}

async fn an_object_the_provider_refuses_is_reported_while_the_others_complete(kind: DbKind) {
    let (sandbox, api_base) = start_sandbox(20, Faults::default());
    let (app, token, connection) = connected_app(kind, api_base, |_| {}).await;
    let created = app
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/sources/demo/objects",
            &token,
            Some(serde_json::json!({"name": "Nonexistent"})),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let scheduled = post_sync(&app, &token).await;
    assert_eq!(scheduled.status().as_u16(), 202);
    let scheduled: SyncStatus = scheduled.json().await.unwrap();
    assert!(
        scheduled.objects.contains_key("Nonexistent"),
        "new objects join the sync"
    );

    sync::run_until_idle(&SyncContext::new(app.state.services())).await;
    let status = sync_status(&app, &token).await;
    let refused = &status.objects["Nonexistent"];
    assert!(!refused.done);
    assert!(
        refused.last_error.as_deref().unwrap().contains("404"),
        "{refused:?}"
    );
    assert_eq!(status.objects.len(), 12);
    assert!(status
        .objects
        .iter()
        .filter(|(name, _)| *name != "Nonexistent")
        .all(|(_, object)| object.done));
    assert_store_is_exact(&app, &sandbox, &connection).await;
    assert_error(
        app.get_authed("/api/v1/connections/stripe/sync", &token)
            .await,
        404,
        "not_connected",
    )
    .await;
}

/// Counts of the connection's charges over the last 30 days by `refunded`, as a chart shows them.
async fn charges_by_refunded(app: &TestApp, token: &str) -> BTreeMap<String, f64> {
    let params = [
        ("object_name", "Charge"),
        ("operator", "count"),
        ("field_name", "refunded"),
        ("total_days", "30"),
    ];
    let series = crate::query::series(app, token, &params).await;
    series
        .label_z
        .into_iter()
        .map(|(group, days)| (group, days.iter().sum()))
        .collect()
}

async fn incremental_syncs_read_new_objects_and_changes_from_events(kind: DbKind) {
    const DAY: i64 = 86_400;
    let charge = |id: &str, created: i64, refunded: bool| {
        json!({
            "id": id, "object": "charge", "created": created, "currency": "usd",
            "amount": 1_000, "amount_refunded": if refunded { 1_000 } else { 0 },
            "refunded": refunded, "status": "succeeded",
        })
    };
    let api = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let now = chrono::Utc::now().timestamp();
    api.put("charges", charge("ch_older", now - 20 * DAY, false));
    api.put("charges", charge("ch_recent", now - 2 * DAY, false));
    let (app, token, connection) = connected_app(kind, api.base_url.clone(), |_| {}).await;
    let context = SyncContext::new(app.state.services());
    sync::run_until_idle(&context).await;
    assert_eq!(
        charges_by_refunded(&app, &token).await,
        BTreeMap::from([("false".to_string(), 2.0)])
    );

    // After the backfill, a charge of three weeks ago (older than any recent window) and a
    // recent one are refunded, and a new one is made: each change is an event.
    let later = chrono::Utc::now().timestamp();
    for (event, id, created) in [
        ("evt_1", "ch_older", now - 20 * DAY),
        ("evt_2", "ch_recent", now - 2 * DAY),
    ] {
        api.put("charges", charge(id, created, true));
        api.event(event, later, "charge.refunded", charge(id, created, true));
    }
    api.put("charges", charge("ch_new", later, false));
    api.event(
        "evt_3",
        later,
        "charge.succeeded",
        charge("ch_new", later, false),
    );
    // Nothing is due until the schedule says so: the store still shows the old state.
    sync::run_until_idle(&context).await;
    assert_eq!(
        charges_by_refunded(&app, &token).await,
        BTreeMap::from([("false".to_string(), 2.0)])
    );
    let manual = post_sync(&app, &token).await;
    assert_eq!(manual.status().as_u16(), 202);
    sync::run_until_idle(&context).await;

    assert_eq!(
        charges_by_refunded(&app, &token).await,
        BTreeMap::from([("false".to_string(), 1.0), ("true".to_string(), 2.0)])
    );
    assert_eq!(
        app.repository
            .synced_object_ids(connection.id, "Charge")
            .await
            .unwrap(),
        ["ch_new", "ch_older", "ch_recent"]
    );
    let status = sync_status(&app, &token).await;
    assert_eq!(status.state, "idle");
    assert_eq!(status.objects["Charge"].synced, 3, "counted once each");
    assert_eq!(
        status.objects["Charge"].read_mode.as_deref(),
        Some("events")
    );
    assert_eq!(
        status.objects["Charge"].requests,
        Some(1),
        "one page of events carried every change: no object was read again"
    );
    assert_eq!(
        status.objects["BalanceTransaction"].read_mode.as_deref(),
        Some("recent_window"),
        "objects without events re-read the recent window"
    );
}

/// Two engines on one PostgreSQL never hold the same job; a dead one's jobs are taken over when
/// its lease expires.
#[tokio::test]
async fn two_engines_on_one_postgres_never_run_the_same_job_at_once() {
    let (_sandbox, api_base) = start_sandbox(5, Faults::default());
    let (app, _token, connection) = connected_app(DbKind::Postgres, api_base, |_| {}).await;
    let jobs = app.repository.sync_jobs(connection.id).await.unwrap();
    assert_eq!(jobs.len(), 11);

    // A second replica: its own pool on the same database.
    let settings = crate::helpers::test_settings(&app.database.url, std::env::temp_dir());
    let other = allmetrics::db::connect(&settings.database).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.repository.claim_due_jobs("replica-a", now, now + 2, 6),
            other.claim_due_jobs("replica-b", now, now + 2, 6),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut ids: Vec<i64> = a.iter().chain(b.iter()).map(|job| job.id.0).collect();
        let claimed = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), claimed, "no job was claimed twice");
        assert_eq!(claimed, 11, "all due jobs were claimed by one or the other");
        // Nothing is left while the leases hold.
        assert!(app
            .repository
            .claim_due_jobs("replica-c", now, now + 2, 20)
            .await
            .unwrap()
            .is_empty());
        // Release everything for the next round.
        for job in a.iter().chain(b.iter()) {
            let owner = if a.contains(job) {
                "replica-a"
            } else {
                "replica-b"
            };
            app.repository
                .finish_sync_run(
                    job.id,
                    owner,
                    &allmetrics::domain::RunOutcome {
                        next_run_at: now,
                        last_error: None,
                        failures: 0,
                        incremental_from: None,
                        last_synced_at: None,
                        progress: None,
                    },
                )
                .await
                .unwrap();
        }
    }
    // A dead replica's lease expires and its jobs are taken over.
    let dead = app
        .repository
        .claim_due_jobs("dead", now, now + 1, 20)
        .await
        .unwrap();
    assert_eq!(dead.len(), 11);
    assert!(other
        .claim_due_jobs("alive", now, now + 60, 20)
        .await
        .unwrap()
        .is_empty());
    let later = now + 2;
    assert_eq!(
        other
            .claim_due_jobs("alive", later, later + 60, 20)
            .await
            .unwrap()
            .len(),
        11
    );
    other.close().await;
}
