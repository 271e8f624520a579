//! Saved metrics read their rollups: the same answers as the stored objects give, through
//! random objects, updates, deletions and full re-reads, for every operator, in time zones off
//! the whole hour and across daylight-saving days; built in the background, pruned with their
//! metrics.

use allmetrics::db::rollups::RollupKey;
use allmetrics::domain::{Connection, ObjectChange, SyncJob};
use allmetrics_common::Series;
use serde_json::{json, Value};
use sqlx::Connection as _;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, DbKind, TestApp};
use crate::on_both_databases;
use crate::query::{connected, finish_runs, store};

on_both_databases!(
    rollups_answer_as_the_objects_do_through_updates_and_deletions,
    a_rollup_is_built_in_the_background_and_goes_with_its_last_metric,
    ad_hoc_queries_on_an_unindexed_date_are_refused_past_the_limit,
);

/// The saved metrics of the comparison: (operator, group, value, date field).
const METRICS: &[(&str, &str, Option<&str>, &str)] = &[
    ("count", "status", None, "created"),
    ("sum", "status", Some("amount"), "created"),
    ("average", "currency", Some("amount"), "created"),
    ("min", "status", Some("amount"), "created"),
    ("max", "currency", Some("amount"), "created"),
    ("sum", "currency", Some("fee"), "created"),
    ("average", "status", Some("fee"), "created"),
    ("count", "currency", None, "paid_at"),
    ("max", "status", Some("amount"), "paid_at"),
    ("sum", "currency", Some("mixed"), "created"),
];

/// The windows compared: (tz, end, days, interval). Kathmandu is +05:45, St John's -03:30 (and
/// -02:30 in summer); New York's windows hold 2026-03-08 (23 hours) and 2026-11-01 (25 hours).
const WINDOWS: &[(&str, &str, &str, &str)] = &[
    ("UTC", "2026-10-27", "300", "day"),
    ("Asia/Kathmandu", "2026-06-30", "120", "day"),
    ("America/St_Johns", "2026-11-10", "60", "day"),
    ("America/New_York", "2026-03-20", "30", "day"),
    ("America/New_York", "2026-11-05", "30", "day"),
    ("Europe/Berlin", "2026-10-31", "280", "week"),
    ("America/St_Johns", "2026-10-31", "300", "month"),
];

/// A small deterministic generator.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn charge(random: &mut Random, id: usize) -> Value {
    let created = START + random.below(300 * 86_400) as i64;
    let mut object = json!({"id": format!("ch_{id:05}"), "object": "charge", "created": created});
    let statuses = ["succeeded", "failed", "pending"];
    match random.below(8) {
        0 => {}
        1 => object["status"] = Value::Null,
        2 => object["status"] = json!(true),
        3 => object["status"] = json!(7),
        n => object["status"] = json!(statuses[(n as usize) % 3]),
    }
    object["currency"] = json!(["usd", "eur", "gbp", "jpy"][random.below(4) as usize]);
    if random.below(6) != 0 {
        object["amount"] = json!(random.below(100_000) as i64 - 2_000);
    }
    object["fee"] = json!(random.below(10_000) as f64 / 100.0 + 0.1);
    match random.below(5) {
        0 => {}
        1 => object["paid_at"] = Value::Null,
        _ => object["paid_at"] = json!(created + random.below(5 * 86_400) as i64),
    }
    // A value that is sometimes not a number: every sum of it is refused, the same way.
    object["mixed"] = if random.below(40) == 0 {
        json!("n/a")
    } else {
        json!(random.below(50))
    };
    object
}

async fn create_metric(
    app: &TestApp,
    token: &str,
    (operator, group, value, date): (&str, &str, Option<&str>, &str),
) -> i64 {
    let response = app
        .client
        .post(app.url("/api/v1/metrics"))
        .bearer_auth(token)
        .json(&json!({
            "name": format!("{operator} {value:?} by {group} on {date}"),
            "source": "demo",
            "object_name": "Charge",
            "operator": operator,
            "field_name": group,
            "value_field": value,
            "date_field": date,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Status, `X-Computed-From` and body of a series answer.
async fn answer(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let from = response
        .headers()
        .get("x-computed-from")
        .map(|value| value.to_str().unwrap().to_string());
    (status, from, response.json().await.unwrap())
}

/// Status, `X-Computed-From` and body of a saved metric's series.
async fn metric_series(
    app: &TestApp,
    token: &str,
    id: i64,
    window: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/metrics/{id}/series")))
        .query(window)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// The same query asked ad hoc, from the objects.
async fn ad_hoc_series(
    app: &TestApp,
    token: &str,
    (operator, group, value, date): (&str, &str, Option<&str>, &str),
    window: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut params = vec![
        ("object_name", "Charge"),
        ("operator", operator),
        ("field_name", group),
        ("date_field", date),
    ];
    if let Some(value) = value {
        params.push(("value_field", value));
    }
    params.extend_from_slice(window);
    let response = app
        .client
        .get(app.url("/connect/query/demo"))
        .query(&params)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// Waits until every metric's series is computed from its rollup (the hourly one).
pub async fn wait_for_rollups(app: &TestApp, token: &str, ids: &[i64]) {
    wait_for_rollups_in(app, token, ids, "UTC").await;
}

/// Waits until every metric's series in `tz` is computed from its rollup: a time zone offset by
/// a half or a quarter hour has rollups of its own.
async fn wait_for_rollups_in(app: &TestApp, token: &str, ids: &[i64], tz: &str) {
    let window = [("end", "2026-06-30"), ("total_days", "30"), ("tz", tz)];
    for id in ids {
        let mut tries = 0;
        loop {
            let (status, from, body) = metric_series(app, token, *id, &window).await;
            if from.as_deref() == Some("rollup") || status == 400 {
                break;
            }
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["meta"]["partial"],
                json!(true),
                "not built yet: partial"
            );
            tries += 1;
            assert!(tries < 200, "metric {id}'s rollup was not built");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Equal: integers exactly, other numbers within 1e-9 relative.
fn same_number(a: f64, b: f64) -> bool {
    if a.fract() == 0.0 && b.fract() == 0.0 {
        a == b
    } else {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }
}

fn assert_same_series(rollup: &Value, objects: &Value, context: &str) {
    let rollup: Series = serde_json::from_value(rollup.clone()).unwrap();
    let objects: Series = serde_json::from_value(objects.clone()).unwrap();
    assert_eq!(rollup.label_x, objects.label_x, "{context}");
    assert_eq!(rollup.meta.records, objects.meta.records, "{context}");
    assert_eq!(
        rollup.meta.groups_folded, objects.meta.groups_folded,
        "{context}"
    );
    assert_eq!(
        rollup.label_z.keys().collect::<Vec<_>>(),
        objects.label_z.keys().collect::<Vec<_>>(),
        "{context}"
    );
    let same = |a: &[f64], b: &[f64]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_number(*x, *y))
    };
    assert!(
        same(&rollup.label_y, &objects.label_y),
        "{context} labelY\n{:?}\n{:?}",
        rollup.label_y,
        objects.label_y
    );
    for (name, values) in &objects.label_z {
        assert!(
            same(&rollup.label_z[name], values),
            "{context} group {name}\n{:?}\n{values:?}",
            rollup.label_z[name]
        );
    }
}

/// Every metric in every window: the rollup's answer is the objects' answer.
async fn compare_all(app: &TestApp, token: &str, ids: &[i64], stage: &str) -> usize {
    let mut compared = 0;
    for (metric, id) in METRICS.iter().zip(ids) {
        for (tz, end, days, interval) in WINDOWS {
            let window = [
                ("tz", *tz),
                ("end", *end),
                ("total_days", *days),
                ("interval", *interval),
            ];
            let context = format!("{stage}: {metric:?} in {tz} to {end} by {interval}");
            let (status, from, rollup) = metric_series(app, token, *id, &window).await;
            let (objects_status, objects_from, objects) =
                ad_hoc_series(app, token, *metric, &window).await;
            assert_eq!(status, objects_status, "{context}: {rollup} / {objects}");
            if status != 200 {
                assert_eq!(rollup["error"], objects["error"], "{context}");
                assert_eq!(rollup["error"], json!("not_numeric"), "{context}");
                continue;
            }
            assert_eq!(from.as_deref(), Some("rollup"), "{context}");
            assert_eq!(objects_from.as_deref(), Some("objects"), "{context}");
            assert_same_series(&rollup, &objects, &context);
            compared += 1;
        }
    }
    compared
}

/// Claims the Charge job of the connection as a sync run would.
async fn claim_charges(app: &TestApp, connection: &Connection) -> (String, SyncJob, Vec<SyncJob>) {
    crate::query::claim_job(app, connection.id, "Charge").await
}

async fn rollups_answer_as_the_objects_do_through_updates_and_deletions(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let mut random = Random(0x2545_F491_4F6C_DD1D);
    let mut objects: Vec<Value> = (0..700).map(|id| charge(&mut random, id)).collect();
    store(&app, &connection, "Charge", &objects, true).await;
    let mut ids = Vec::new();
    for metric in METRICS {
        ids.push(create_metric(&app, &token, *metric).await);
    }
    wait_for_rollups(&app, &token, &ids).await;
    // Kathmandu's and St John's charts read quarter-hour rollups, made when first asked.
    wait_for_rollups_in(&app, &token, &ids, "Asia/Kathmandu").await;
    let compared = compare_all(&app, &token, &ids, "built").await;
    assert!(compared >= 60, "{compared} comparisons");

    // Updates: a quarter of the objects change group, value, day or date field; some new ones
    // arrive. Stored a second later than the rest, so that a full re-read can tell them apart.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let updated_at = chrono::Utc::now().timestamp();
    let mut changed = Vec::new();
    for index in (0..objects.len()).step_by(4) {
        let mut object = charge(&mut random, index);
        if random.below(2) == 0 {
            // Same day, other values.
            object["created"] = objects[index]["created"].clone();
        }
        objects[index] = object.clone();
        changed.push(object);
    }
    for id in 700..760 {
        let object = charge(&mut random, id);
        objects.push(object.clone());
        changed.push(object);
    }
    store(&app, &connection, "Charge", &changed, true).await;
    compare_all(&app, &token, &ids, "updated").await;

    // Deletions from the change feed.
    let (owner, job, jobs) = claim_charges(&app, &connection).await;
    let now = chrono::Utc::now().timestamp();
    let deletions: Vec<ObjectChange> = (1..objects.len())
        .step_by(9)
        .map(|index| ObjectChange {
            object_id: objects[index]["id"].as_str().unwrap().to_string(),
            at: now,
            change_id: Some(format!("evt_{index}")),
            object: None,
            deleted: true,
        })
        .collect();
    app.repository
        .apply_changes(&job, &owner, &deletions, now, now + 60)
        .await
        .unwrap()
        .unwrap();
    finish_runs(&app, &owner, &jobs).await;
    compare_all(&app, &token, &ids, "deleted").await;

    // A full re-read that no longer lists the objects not stored again since the updates, among
    // those created before June: they become tombstones.
    let (owner, job, jobs) = claim_charges(&app, &connection).await;
    let gone = app
        .repository
        .tombstone_unseen(&job, &owner, updated_at, START + 150 * 86_400, now + 1)
        .await
        .unwrap()
        .unwrap();
    assert!(gone > 100, "{gone} tombstones");
    finish_runs(&app, &owner, &jobs).await;
    compare_all(&app, &token, &ids, "re-read").await;
}

/// A connection held open on the database, keeping a rollup from being built.
enum Held {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Held {
    /// SQLite: the write lock, which a build waits for; PostgreSQL: the definition's row.
    async fn hold(app: &TestApp, kind: DbKind, definition: i64) -> Self {
        match kind {
            DbKind::Sqlite => {
                let mut connection = sqlx::SqliteConnection::connect(&app.database.url)
                    .await
                    .unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                Held::Sqlite(connection)
            }
            DbKind::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&app.database.url)
                    .await
                    .unwrap();
                sqlx::raw_sql("BEGIN")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                sqlx::query("SELECT id FROM rollup_definitions WHERE id = $1 FOR UPDATE")
                    .bind(definition)
                    .execute(&mut connection)
                    .await
                    .unwrap();
                Held::Postgres(connection)
            }
        }
    }

    async fn release(self) {
        match self {
            Held::Sqlite(mut connection) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
            Held::Postgres(mut connection) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn a_rollup_is_built_in_the_background_and_goes_with_its_last_metric(kind: DbKind) {
    let app = spawn_app(kind).await;
    // The metric is saved before its source is connected: nothing is built yet.
    let token = app.sign_up("ann@example.com").await.access_token;
    let metric = ("sum", "currency", Some("amount"), "created");
    let id = create_metric(&app, &token, metric).await;
    let connection = app.connect_demo_directly(&token, "sk_test_x").await;
    let mut random = Random(7);
    let objects: Vec<Value> = (0..200).map(|id| charge(&mut random, id)).collect();
    store(&app, &connection, "Charge", &objects, true).await;
    let key = RollupKey {
        connection: connection.id,
        object_name: "Charge".into(),
        group: vec!["currency".into()],
        value: Some(vec!["amount".into()]),
        date: None,
        bucket_seconds: allmetrics::db::rollups::HOUR,
    };
    // The definition exists and its build is held back.
    let definition = app.repository.rollup_definition(&key).await.unwrap();
    assert!(!definition.ready);
    let held = Held::hold(&app, kind, definition.id).await;
    let window = [("end", "2026-10-27"), ("total_days", "300")];
    for _ in 0..2 {
        // Answered from the objects, exact, said to be partial, and not kept.
        let (status, from, body) = metric_series(&app, &token, id, &window).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(from.as_deref(), Some("objects"));
        assert_eq!(body["meta"]["partial"], json!(true));
        let (_, _, objects) = ad_hoc_series(&app, &token, metric, &window).await;
        assert_eq!(body["labelZ"], objects["labelZ"]);
    }
    held.release().await;
    wait_for_rollups(&app, &token, &[id]).await;
    let (_, from, body) = metric_series(&app, &token, id, &window).await;
    assert_eq!(from.as_deref(), Some("rollup"));
    assert_eq!(body["meta"]["partial"], json!(false));
    let (_, from, _) = metric_series(&app, &token, id, &window).await;
    assert_eq!(from, None, "the built series is kept");

    // A second metric over the same paths (another operator) shares the rollup; the rollup
    // goes with the last of them.
    let max = create_metric(&app, &token, ("max", "currency", Some("amount"), "created")).await;
    let rollups = |app: &TestApp| {
        let repository = app.repository.clone();
        let connection = connection.id;
        async move { repository.rollup_definitions(connection).await.unwrap() }
    };
    assert_eq!(rollups(&app).await.len(), 1);
    // A chart in Kathmandu (+05:45) cannot read hourly buckets: it makes and reads the
    // quarter-hour rollup of the same paths, and both go with the last metric.
    let kathmandu = [
        ("end", "2026-10-27"),
        ("total_days", "300"),
        ("tz", "Asia/Kathmandu"),
    ];
    let (_, from, body) = metric_series(&app, &token, id, &kathmandu).await;
    assert_eq!(from.as_deref(), Some("objects"), "{body}");
    wait_for_rollups_in(&app, &token, &[id], "Asia/Kathmandu").await;
    let (_, from, rollup) = metric_series(&app, &token, id, &kathmandu).await;
    assert_eq!(from.as_deref(), Some("rollup"));
    assert_same_series(&rollup, &body, "Kathmandu");
    let mut widths: Vec<i64> = rollups(&app)
        .await
        .iter()
        .map(|rollup| rollup.key.bucket_seconds)
        .collect();
    widths.sort_unstable();
    assert_eq!(widths, vec![900, 3_600]);
    for metric in [id, max] {
        let deleted = app
            .client
            .delete(app.url(&format!("/api/v1/metrics/{metric}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status().as_u16(), 204);
        let left = rollups(&app).await.len();
        assert_eq!(
            left,
            2 * usize::from(metric == id),
            "after deleting {metric}"
        );
    }
    // Changing a metric's paths replaces its rollup.
    let count = create_metric(&app, &token, ("count", "status", None, "created")).await;
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/metrics/{count}")))
        .bearer_auth(&token)
        .json(&json!({"field_name": "currency"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    let left = rollups(&app).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key.group, vec!["currency".to_string()]);
}

async fn ad_hoc_queries_on_an_unindexed_date_are_refused_past_the_limit(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.query.ad_hoc_date_field_limit = 150
    })
    .await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let mut random = Random(11);
    let objects: Vec<Value> = (0..151).map(|id| charge(&mut random, id)).collect();
    store(&app, &connection, "Charge", &objects, true).await;
    let metric = ("count", "currency", None, "paid_at");
    let window = [("end", "2026-10-27"), ("total_days", "300")];
    let response = app
        .client
        .get(app.url("/connect/query/demo"))
        .query(&[
            ("object_name", "Charge"),
            ("field_name", "currency"),
            ("date_field", "paid_at"),
            ("end", "2026-10-27"),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "date_field_unindexed").await;
    // `created` is indexed: no limit.
    let (status, _, _) = ad_hoc_series(
        &app,
        &token,
        ("count", "currency", None, "created"),
        &window,
    )
    .await;
    assert_eq!(status, 200);
    // Saved, the same query reads its rollup.
    let id = create_metric(&app, &token, metric).await;
    wait_for_rollups(&app, &token, &[id]).await;
    let (status, _, body) = metric_series(&app, &token, id, &window).await;
    assert_eq!(status, 200, "{body}");
    let total: f64 = body["labelY"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_f64().unwrap())
        .sum();
    let paid_in_window = objects
        .iter()
        .filter(|object| {
            object["paid_at"]
                .as_i64()
                .is_some_and(|at| (START..START + 300 * 86_400).contains(&at))
        })
        .count();
    assert_eq!(total as usize, paid_in_window);
}
