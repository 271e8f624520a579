//! The query engine against hand-computed expectations and a plain in-memory implementation.

use std::collections::BTreeMap;

use allmetrics::domain::{Connection, PageCheckpoint, RunOutcome, StoredObject};
use allmetrics_common::Series;
use chrono::{NaiveDate, TimeZone};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, DbKind, TestApp};
use crate::on_both_databases;

/// Longer than a PostgreSQL identifier: a group read without `jsonb_to_record`.
const LONG_FIELD: &str = "a_field_name_longer_than_any_identifier_postgresql_keeps_whole_64c";

on_both_databases!(
    the_seeds_example_ten_customers_on_one_day,
    every_operator_matches_hand_computed_values,
    groups_follow_nested_paths_and_name_missing_values,
    an_empty_window_is_zero_filled,
    days_are_cut_at_midnight_in_the_time_zone_across_dst,
    windows_move_back_and_forward,
    every_invalid_parameter_has_its_400,
    the_engine_agrees_with_a_plain_implementation_on_random_objects,
    meta_tells_records_freshness_and_partial_backfills,
    a_repeated_query_follows_new_data,
    the_cache_answers_until_the_objects_data_changes,
);

/// A signed-in user connected to Demo (these tests need no provider).
pub async fn connected(app: &TestApp, email: &str) -> (String, Connection) {
    app.sign_up_connected(email, "sk_test_x").await
}

/// Stores objects as a completed backfill would.
pub async fn store(
    app: &TestApp,
    connection: &Connection,
    object_name: &str,
    objects: &[Value],
    done: bool,
) {
    let now = chrono::Utc::now().timestamp();
    app.repository
        .ensure_sync_jobs(connection.id, &[object_name.to_string()], now)
        .await
        .unwrap();
    let (owner, job, jobs) = claim_job(app, connection.id, object_name).await;
    let job = &job;
    let stored: Vec<StoredObject> = objects
        .iter()
        .map(|object| StoredObject {
            object_id: object["id"].as_str().unwrap().to_string(),
            created: object["created"].as_i64().unwrap(),
            data: object.clone(),
        })
        .collect();
    // Stored the way one backfill window walks: newest first, its cursor on the oldest so far.
    // Once the backfill is done, pages are stored as incremental syncs store them.
    let mut window = app
        .repository
        .start_backfill(job.id, &owner, now, &[(None, now)])
        .await
        .unwrap()
        .unwrap()
        .pop();
    let mut newest_first = stored;
    newest_first.sort_by_key(|object| std::cmp::Reverse(object.created));
    let pages: Vec<&[StoredObject]> = if newest_first.is_empty() {
        vec![&[]]
    } else {
        newest_first.chunks(100).collect()
    };
    for (index, page) in pages.iter().enumerate() {
        let checkpoint = match &mut window {
            Some(window) => {
                if let Some(last) = page.last() {
                    window.cursor = Some(last.object_id.clone());
                    window.cursor_created = Some(last.created);
                }
                PageCheckpoint::Window {
                    window: window.clone(),
                    done: done && index + 1 == pages.len(),
                    split_off: None,
                }
            }
            None => PageCheckpoint::Incremental,
        };
        app.repository
            .store_page(job, &owner, page, &checkpoint, now, now + 60)
            .await
            .unwrap()
            .unwrap();
    }
    finish_runs(app, &owner, &jobs).await;
}

/// Claims the connection's due jobs as a sync run would: (the run's owner, the job of
/// `object_name`, every job claimed).
pub async fn claim_job(
    app: &TestApp,
    connection: allmetrics::domain::ConnectionId,
    object_name: &str,
) -> (
    String,
    allmetrics::domain::SyncJob,
    Vec<allmetrics::domain::SyncJob>,
) {
    let now = chrono::Utc::now().timestamp();
    app.repository
        .schedule_sync_now(connection, now)
        .await
        .unwrap();
    let owner = format!("test-{}", uuid::Uuid::new_v4().simple());
    let jobs = app
        .repository
        .claim_due_jobs(&owner, now, now + 60, 100)
        .await
        .unwrap();
    let job = jobs
        .iter()
        .find(|job| job.object_name == object_name)
        .unwrap_or_else(|| panic!("the {object_name} job is due"))
        .clone();
    (owner, job, jobs)
}

/// Ends the sync runs `owner` claimed, due again in an hour.
pub async fn finish_runs(app: &TestApp, owner: &str, jobs: &[allmetrics::domain::SyncJob]) {
    let now = chrono::Utc::now().timestamp();
    for job in jobs {
        app.repository
            .finish_sync_run(
                job.id,
                owner,
                &RunOutcome {
                    next_run_at: now + 3600,
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

fn at(date: &str, hms: (u32, u32, u32)) -> i64 {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(hms.0, hms.1, hms.2)
        .unwrap()
        .and_utc()
        .timestamp()
}

pub async fn query(app: &TestApp, token: &str, params: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url("/connect/query/demo/"))
        .query(params)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn series(app: &TestApp, token: &str, params: &[(&str, &str)]) -> Series {
    let response = query(app, token, params).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn day(series: &Series, date: &str) -> usize {
    series
        .label_x
        .iter()
        .position(|label| label == date)
        .unwrap_or_else(|| panic!("{date} not in window"))
}

async fn the_seeds_example_ten_customers_on_one_day(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let customers: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("cus_{i}"), "object": "customer", "created": at("2021-01-13", (10, i, 0)), "currency": "usd"}))
        .collect();
    store(&app, &connection, "Customer", &customers, true).await;
    let result = series(
        &app,
        &token,
        &[
            ("object_name", "Customer"),
            ("operator", "count"),
            ("field_name", "currency"),
            ("end", "2021-01-20"),
        ],
    )
    .await;
    assert_eq!(result.label_x.len(), 30);
    assert_eq!(result.label_x.first().unwrap(), "2020-12-22");
    assert_eq!(result.label_x.last().unwrap(), "2021-01-20");
    let index = day(&result, "2021-01-13");
    let mut expected = vec![0.0; 30];
    expected[index] = 10.0;
    assert_eq!(result.label_y, expected);
    assert_eq!(
        result.label_z,
        BTreeMap::from([("usd".to_string(), expected)])
    );
    assert_eq!(result.meta.records, 10);
    assert!(result.keys.contains(&"currency".to_string()));
    // The seed's default group-by is the object type.
    let by_object = series(
        &app,
        &token,
        &[("object_name", "Customer"), ("end", "2021-01-20")],
    )
    .await;
    assert_eq!(
        by_object.label_z.keys().collect::<Vec<_>>(),
        vec!["customer"]
    );
}

fn charge(
    id: &str,
    created: i64,
    amount: Value,
    currency: &str,
    customer: &str,
    status: &str,
) -> Value {
    json!({"id": id, "object": "charge", "created": created, "amount": amount, "currency": currency,
           "customer": customer, "status": status, "paid": status == "succeeded",
           "billing_details": {"address": {"country": if currency == "eur" { json!("FR") } else { json!(null) }}}})
}

async fn every_operator_matches_hand_computed_values(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let charges = vec![
        charge(
            "ch_1",
            at("2026-11-01", (9, 0, 0)),
            json!(1000),
            "usd",
            "cus_a",
            "succeeded",
        ),
        charge(
            "ch_2",
            at("2026-11-01", (10, 0, 0)),
            json!(3000),
            "usd",
            "cus_a",
            "succeeded",
        ),
        charge(
            "ch_3",
            at("2026-11-01", (11, 0, 0)),
            json!(500),
            "eur",
            "cus_b",
            "failed",
        ),
        charge(
            "ch_4",
            at("2026-11-03", (12, 0, 0)),
            json!(250),
            "eur",
            "cus_b",
            "succeeded",
        ),
        charge(
            "ch_5",
            at("2026-11-03", (13, 0, 0)),
            json!(750),
            "eur",
            "cus_c",
            "succeeded",
        ),
    ];
    store(&app, &connection, "Charge", &charges, true).await;
    let run = |operator: &'static str, value: Option<&'static str>| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut params = vec![
                ("object_name", "Charge"),
                ("operator", operator),
                ("field_name", "currency"),
                ("end", "2026-11-05"),
                ("total_days", "7"),
            ];
            if let Some(value) = value {
                params.push(("value_field", value));
            }
            series(app, &token, &params).await
        }
    };
    let count = run("count", None).await;
    let (d1, d3) = (day(&count, "2026-11-01"), day(&count, "2026-11-03"));
    assert_eq!((count.label_y[d1], count.label_y[d3]), (3.0, 2.0));
    assert_eq!(
        (
            count.label_z["usd"][d1],
            count.label_z["eur"][d1],
            count.label_z["eur"][d3]
        ),
        (2.0, 1.0, 2.0)
    );
    assert_eq!(count.label_y.iter().sum::<f64>(), 5.0);

    let sum = run("sum", Some("amount")).await;
    assert_eq!((sum.label_y[d1], sum.label_y[d3]), (4500.0, 1000.0));
    assert_eq!(
        (sum.label_z["usd"][d1], sum.label_z["eur"][d1]),
        (4000.0, 500.0)
    );

    // The day's average is over all its records (4500 / 3), not an average of group averages.
    let average = run("average", Some("amount")).await;
    assert_eq!(average.label_y[d1], 1500.0);
    assert_eq!(average.label_z["usd"][d1], 2000.0);
    assert_eq!(average.label_y[d3], 500.0);

    let min = run("min", Some("amount")).await;
    assert_eq!(
        (min.label_y[d1], min.label_z["usd"][d1], min.label_y[d3]),
        (500.0, 1000.0, 250.0)
    );
    let max = run("max", Some("amount")).await;
    assert_eq!((max.label_y[d1], max.label_z["eur"][d3]), (3000.0, 750.0));

    // Distinct customers: cus_a twice on the 1st counts once; per day over all groups.
    let distinct = run("count_distinct", Some("customer")).await;
    assert_eq!(
        (
            distinct.label_y[d1],
            distinct.label_z["usd"][d1],
            distinct.label_y[d3]
        ),
        (2.0, 1.0, 2.0)
    );

    // A non-numeric value field is refused, not summed as zero.
    let refused = query(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("operator", "sum"),
            ("value_field", "currency"),
            ("end", "2026-11-05"),
        ],
    )
    .await;
    let body = assert_error(refused, 400, "not_numeric").await;
    assert!(body.message.contains("currency"));
}

async fn groups_follow_nested_paths_and_name_missing_values(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let mut charges = vec![
        charge(
            "ch_1",
            at("2026-11-01", (9, 0, 0)),
            json!(100),
            "eur",
            "cus_a",
            "succeeded",
        ),
        charge(
            "ch_2",
            at("2026-11-01", (9, 0, 0)),
            json!(100),
            "usd",
            "cus_a",
            "failed",
        ),
    ];
    // No billing_details at all, and an amount that is absent; a field whose name is longer
    // than a PostgreSQL identifier (64 characters).
    charges.push(json!({"id": "ch_3", "object": "charge", "created": at("2026-11-01", (9, 0, 0)), "currency": "usd", "paid": true, "status": "succeeded", LONG_FIELD: "long"}));
    store(&app, &connection, "Charge", &charges, true).await;
    let params = |field: &'static str| {
        vec![
            ("object_name", "Charge"),
            ("field_name", field),
            ("end", "2026-11-02"),
            ("total_days", "2"),
        ]
    };
    let nested = series(&app, &token, &params("billing_details.address.country")).await;
    assert_eq!(nested.label_z["FR"], vec![1.0, 0.0]);
    assert_eq!(
        nested.label_z["(none)"],
        vec![2.0, 0.0],
        "null and missing are one group"
    );
    let long = series(&app, &token, &params(LONG_FIELD)).await;
    assert_eq!(long.label_z["long"], vec![1.0, 0.0]);
    assert_eq!(long.label_z["(none)"], vec![2.0, 0.0]);
    let boolean = series(&app, &token, &params("paid")).await;
    assert_eq!(
        boolean.label_z.keys().collect::<Vec<_>>(),
        vec!["false", "true"]
    );
    assert_eq!(boolean.label_z["true"][0], 2.0);
    assert!(nested
        .keys
        .contains(&"billing_details.address.country".to_string()));
    // Sum skips records without the value, and they still count as records.
    let sum = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("operator", "sum"),
            ("value_field", "amount"),
            ("end", "2026-11-02"),
            ("total_days", "2"),
        ],
    )
    .await;
    assert_eq!(sum.label_y[0], 200.0);
    assert_eq!(sum.meta.records, 3);
}

async fn an_empty_window_is_zero_filled(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    store(
        &app,
        &connection,
        "Charge",
        &[charge(
            "ch_1",
            at("2020-01-01", (0, 0, 0)),
            json!(5),
            "usd",
            "c",
            "succeeded",
        )],
        true,
    )
    .await;
    let result = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("period", "weekly"),
            ("end", "2026-11-24"),
        ],
    )
    .await;
    assert_eq!(result.label_x.len(), 7);
    assert_eq!(result.label_y, vec![0.0; 7]);
    assert!(result.label_z.is_empty());
    assert_eq!(result.meta.records, 0);
    assert!(!result.meta.partial);
    // Nothing synced at all: the same shape.
    let customers = series(
        &app,
        &token,
        &[("object_name", "Customer"), ("end", "2026-11-24")],
    )
    .await;
    assert_eq!(
        (
            customers.label_x.len(),
            customers.label_y.iter().sum::<f64>()
        ),
        (30, 0.0)
    );
    assert!(customers.keys.is_empty());
}

async fn days_are_cut_at_midnight_in_the_time_zone_across_dst(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let new_york: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let local = |date: &str, h: u32, m: u32| {
        let naive = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap();
        new_york
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .timestamp()
    };
    let charges = vec![
        // 23:30 in New York on June 1st is June 2nd in UTC.
        charge(
            "ch_1",
            local("2026-06-01", 23, 30),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
        // Around the spring-forward night (March 8, 2026) and the fall-back night (November 1).
        charge(
            "ch_2",
            local("2026-03-08", 0, 30),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
        charge(
            "ch_3",
            local("2026-03-08", 23, 30),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
        charge(
            "ch_4",
            local("2026-03-09", 0, 10),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
        charge(
            "ch_5",
            local("2026-11-01", 23, 59),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
        charge(
            "ch_6",
            local("2026-10-31", 23, 59),
            json!(1),
            "usd",
            "c",
            "succeeded",
        ),
    ];
    store(&app, &connection, "Charge", &charges, true).await;
    let june_ny = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-06-05"),
            ("total_days", "7"),
            ("tz", "America/New_York"),
        ],
    )
    .await;
    assert_eq!(june_ny.label_y[day(&june_ny, "2026-06-01")], 1.0);
    assert_eq!(june_ny.meta.tz, "America/New_York");
    let june_utc = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-06-05"),
            ("total_days", "7"),
        ],
    )
    .await;
    assert_eq!(june_utc.label_y[day(&june_utc, "2026-06-02")], 1.0);
    assert_eq!(june_utc.label_y[day(&june_utc, "2026-06-01")], 0.0);

    let year = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-12-31"),
            ("total_days", "365"),
            ("tz", "America/New_York"),
        ],
    )
    .await;
    assert_eq!(year.label_y[day(&year, "2026-03-08")], 2.0, "a 23-hour day");
    assert_eq!(year.label_y[day(&year, "2026-03-09")], 1.0);
    assert_eq!(year.label_y[day(&year, "2026-11-01")], 1.0, "a 25-hour day");
    assert_eq!(year.label_y[day(&year, "2026-10-31")], 1.0);
    assert_eq!(year.label_y.iter().sum::<f64>(), 6.0);
}

async fn windows_move_back_and_forward(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let charges: Vec<Value> = (0..90)
        .map(|i| {
            charge(
                &format!("ch_{i}"),
                at("2026-09-01", (12, 0, 0)) + i * 86_400,
                json!(i),
                "usd",
                "c",
                "succeeded",
            )
        })
        .collect();
    store(&app, &connection, "Charge", &charges, true).await;
    let window = |end: &'static str, days: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            series(
                app,
                &token,
                &[
                    ("object_name", "Charge"),
                    ("operator", "sum"),
                    ("value_field", "amount"),
                    ("end", end),
                    ("total_days", days),
                ],
            )
            .await
        }
    };
    let current = window("2026-10-31", "30").await;
    let back_30 = window("2026-10-01", "30").await;
    let back_7 = window("2026-10-24", "30").await;
    let forward_7 = window("2026-11-07", "30").await;
    assert_eq!(current.label_x.first().unwrap(), "2026-10-02");
    assert_eq!(back_30.label_x.last().unwrap(), "2026-10-01");
    assert_eq!(back_30.label_x.first().unwrap(), "2026-09-02");
    // Day i (from Sept 1st) holds value i.
    assert_eq!(current.label_y[0], 31.0);
    assert_eq!(back_30.label_y[0], 1.0);
    assert_eq!(back_7.label_y[0], 24.0);
    assert_eq!(&forward_7.label_y[..23], &current.label_y[7..]);
    assert_eq!(forward_7.label_y[29], 67.0, "November 7 is day 67");
    let after = window("2026-12-31", "30").await;
    assert_eq!(
        after.label_y[..],
        [vec![0.0; 30]][0][..],
        "after the last charge (Nov 29)"
    );
}

async fn every_invalid_parameter_has_its_400(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, _connection) = connected(&app, "ann@example.com").await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "object_name_required"),
        (vec![("object_name", "Unicorn")], "unknown_object"),
        (
            vec![("object_name", "Charge"), ("operator", "median")],
            "invalid_operator",
        ),
        (
            vec![("object_name", "Charge"), ("operator", "sum")],
            "value_field_required",
        ),
        (
            vec![("object_name", "Charge"), ("operator", "average")],
            "value_field_required",
        ),
        (
            vec![("object_name", "Charge"), ("field_name", "a;drop table")],
            "invalid_field",
        ),
        (
            vec![
                ("object_name", "Charge"),
                ("operator", "sum"),
                ("value_field", "a b"),
            ],
            "invalid_field",
        ),
        (
            vec![("object_name", "Charge"), ("date_field", "x..y")],
            "invalid_field",
        ),
        (
            vec![("object_name", "Charge"), ("period", "daily")],
            "invalid_period",
        ),
        (
            vec![("object_name", "Charge"), ("total_days", "0")],
            "invalid_total_days",
        ),
        (
            vec![("object_name", "Charge"), ("total_days", "367")],
            "invalid_total_days",
        ),
        (
            vec![
                ("object_name", "Charge"),
                ("total_days", "99999999999999999999"),
            ],
            "invalid_total_days",
        ),
        (
            vec![("object_name", "Charge"), ("end", "tomorrow")],
            "invalid_end",
        ),
        (
            vec![("object_name", "Charge"), ("tz", "Mars/Olympus")],
            "invalid_timezone",
        ),
    ];
    for (params, code) in cases {
        assert_error(query(&app, &token, &params).await, 400, code).await;
    }
    // A disabled object cannot be reached.
    let admin = token.clone();
    app.call(
        reqwest::Method::PATCH,
        "/api/v1/admin/sources/demo/objects/Charge",
        &admin,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_error(
        query(&app, &token, &[("object_name", "Charge")]).await,
        400,
        "unknown_object",
    )
    .await;
    assert_error(
        app.client
            .get(app.url("/connect/query/paypal"))
            .query(&[("object_name", "Charge")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        "unknown_source",
    )
    .await;
    // Another user who has not connected.
    let other = app.sign_up("bob@example.com").await.access_token;
    assert_error(
        query(&app, &other, &[("object_name", "Customer")]).await,
        404,
        "not_connected",
    )
    .await;
}

/// The same answer computed the slow, obvious way.
fn expected(
    objects: &[Value],
    tz: chrono_tz::Tz,
    first: NaiveDate,
    days: usize,
    operator: &str,
    group: &str,
    value: &str,
) -> (Vec<f64>, BTreeMap<String, Vec<f64>>) {
    let mut by_day: Vec<Vec<&Value>> = vec![Vec::new(); days];
    for object in objects {
        let created = object["created"].as_i64().unwrap();
        let local = tz.timestamp_opt(created, 0).unwrap().date_naive();
        let index = (local - first).num_days();
        if (0..days as i64).contains(&index) {
            by_day[index as usize].push(object);
        }
    }
    let aggregate = |records: &[&Value]| -> f64 {
        let numbers: Vec<f64> = records.iter().filter_map(|r| r[value].as_f64()).collect();
        match operator {
            "count" => records.len() as f64,
            "sum" => numbers.iter().sum(),
            "average" if numbers.is_empty() => 0.0,
            "average" => numbers.iter().sum::<f64>() / numbers.len() as f64,
            "min" => numbers
                .iter()
                .copied()
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
                .unwrap_or(0.0),
            "max" => numbers
                .iter()
                .copied()
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
                .unwrap_or(0.0),
            _ => unreachable!(),
        }
    };
    let label_y = by_day.iter().map(|records| aggregate(records)).collect();
    let mut groups: BTreeMap<String, Vec<Vec<&Value>>> = BTreeMap::new();
    for (index, records) in by_day.iter().enumerate() {
        for record in records {
            let name = match &record[group] {
                Value::Null => "(none)".to_string(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            groups.entry(name).or_insert_with(|| vec![Vec::new(); days])[index].push(record);
        }
    }
    let label_z = groups
        .into_iter()
        .map(|(name, cells)| {
            (
                name,
                cells.iter().map(|records| aggregate(records)).collect(),
            )
        })
        .collect();
    (label_y, label_z)
}

async fn the_engine_agrees_with_a_plain_implementation_on_random_objects(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    // A small deterministic generator (no dependency needed for it).
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let start = at("2026-01-01", (0, 0, 0));
    let statuses = ["succeeded", "failed", "pending"];
    let objects: Vec<Value> = (0..400)
        .map(|i| {
            let mut object = json!({"id": format!("obj_{i:04}"), "object": "charge", "created": start + next(120 * 86_400) as i64});
            match next(5) {
                0 => {}
                1 => object["status"] = Value::Null,
                n => object["status"] = json!(statuses[(n as usize) % 3]),
            }
            if next(6) != 0 {
                object["amount"] = json!(next(100_000));
            }
            object
        })
        .collect();
    store(&app, &connection, "Charge", &objects, true).await;
    for (tz_name, end, days) in [
        ("UTC", "2026-03-31", 90usize),
        ("America/New_York", "2026-04-20", 45),
        ("Asia/Kolkata", "2026-02-15", 30),
        ("Pacific/Auckland", "2026-04-30", 120),
    ] {
        let tz: chrono_tz::Tz = tz_name.parse().unwrap();
        let last = NaiveDate::parse_from_str(end, "%Y-%m-%d").unwrap();
        let first = last - chrono::Duration::days(days as i64 - 1);
        for operator in ["count", "sum", "average", "min", "max"] {
            let days_text = days.to_string();
            let mut params = vec![
                ("object_name", "Charge"),
                ("operator", operator),
                ("field_name", "status"),
                ("end", end),
                ("total_days", days_text.as_str()),
                ("tz", tz_name),
            ];
            if operator != "count" {
                params.push(("value_field", "amount"));
            }
            let result = series(&app, &token, &params).await;
            let (label_y, label_z) =
                expected(&objects, tz, first, days, operator, "status", "amount");
            let close = |a: &[f64], b: &[f64]| {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
            };
            assert!(
                close(&result.label_y, &label_y),
                "{tz_name} {operator} labelY\n{:?}\n{:?}",
                result.label_y,
                label_y
            );
            assert_eq!(
                result.label_z.keys().collect::<Vec<_>>(),
                label_z.keys().collect::<Vec<_>>(),
                "{tz_name} {operator}"
            );
            for (name, values) in &label_z {
                assert!(
                    close(&result.label_z[name], values),
                    "{tz_name} {operator} group {name}"
                );
            }
        }
    }
}

async fn meta_tells_records_freshness_and_partial_backfills(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    // A backfill in progress that has reached back to Nov 10 only.
    let charges: Vec<Value> = (10..20)
        .map(|d| {
            charge(
                &format!("ch_{d}"),
                at(&format!("2026-11-{d}"), (12, 0, 0)),
                json!(1),
                "usd",
                "c",
                "succeeded",
            )
        })
        .collect();
    store(&app, &connection, "Charge", &charges, false).await;
    let reaching_back = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-11-20"),
            ("total_days", "30"),
        ],
    )
    .await;
    assert!(
        reaching_back.meta.partial,
        "the window starts before what the backfill has read"
    );
    assert_eq!(reaching_back.meta.records, 10);
    assert!(reaching_back.meta.synced_at.is_some());
    let covered = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-11-20"),
            ("total_days", "7"),
        ],
    )
    .await;
    assert!(
        !covered.meta.partial,
        "the backfill has read this whole window"
    );
    assert_eq!(
        (covered.meta.from.as_str(), covered.meta.to.as_str()),
        ("2026-11-14", "2026-11-20")
    );
}

async fn a_repeated_query_follows_new_data(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let params = [
        ("object_name", "Charge"),
        ("end", "2026-11-20"),
        ("total_days", "7"),
    ];
    store(
        &app,
        &connection,
        "Charge",
        &[charge(
            "ch_1",
            at("2026-11-18", (1, 0, 0)),
            json!(1),
            "usd",
            "c",
            "succeeded",
        )],
        true,
    )
    .await;
    let first = series(&app, &token, &params).await;
    assert_eq!(first.meta.records, 1);
    assert_eq!(
        series(&app, &token, &params).await,
        first,
        "the same answer again"
    );
    // New objects arrive: the next answer includes them.
    store(
        &app,
        &connection,
        "Charge",
        &[charge(
            "ch_2",
            at("2026-11-19", (1, 0, 0)),
            json!(1),
            "usd",
            "c",
            "succeeded",
        )],
        true,
    )
    .await;
    let second = series(&app, &token, &params).await;
    assert_eq!(second.meta.records, 2);
    assert_eq!(second.label_y.iter().sum::<f64>(), 2.0);
}

/// The response's `X-Cache` and its series.
async fn answered(response: reqwest::Response) -> (String, Series) {
    assert_eq!(response.status().as_u16(), 200);
    let cache = response.headers()["x-cache"].to_str().unwrap().to_string();
    (cache, response.json().await.unwrap())
}

async fn the_cache_answers_until_the_objects_data_changes(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let params = [
        ("object_name", "Charge"),
        ("end", "2026-11-20"),
        ("total_days", "7"),
    ];
    let charge_on =
        |id: &str, date: &str| charge(id, at(date, (1, 0, 0)), json!(1), "usd", "c", "succeeded");
    store(
        &app,
        &connection,
        "Charge",
        &[charge_on("ch_1", "2026-11-18")],
        true,
    )
    .await;
    let (cache, first) = answered(query(&app, &token, &params).await).await;
    assert_eq!((cache.as_str(), first.meta.records), ("miss", 1));
    let (cache, again) = answered(query(&app, &token, &params).await).await;
    assert_eq!(cache, "hit");
    assert_eq!(again, first);

    // Another object's page, and a run of this object's sync that stores nothing, change
    // nothing under the series: still answered from the cache.
    let customer =
        json!({"id": "cus_1", "object": "customer", "created": at("2026-11-18", (2, 0, 0))});
    store(&app, &connection, "Customer", &[customer], true).await;
    store(&app, &connection, "Charge", &[], true).await;
    let (cache, unchanged) = answered(query(&app, &token, &params).await).await;
    assert_eq!(cache, "hit");
    assert_eq!(unchanged.meta.records, 1);
    assert!(unchanged.meta.synced_at.is_some() && !unchanged.meta.partial);

    // A page of charges, stored by any replica: the next answer is computed again.
    store(
        &app,
        &connection,
        "Charge",
        &[charge_on("ch_2", "2026-11-19")],
        true,
    )
    .await;
    let (cache, changed) = answered(query(&app, &token, &params).await).await;
    assert_eq!((cache.as_str(), changed.meta.records), ("miss", 2));

    // A metric's series is cached the same way, and follows the metric's edits.
    let created = app
        .call(
            reqwest::Method::POST,
            "/api/v1/metrics",
            &token,
            Some(
                json!({"name": "Charges", "source": "demo", "object_name": "Charge",
                        "operator": "count", "field_name": "object"}),
            ),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let metric: Value = created.json().await.unwrap();
    let path = format!(
        "/api/v1/metrics/{}/series?end=2026-11-20&total_days=7",
        metric["id"]
    );
    // Answers are kept once the metric's rollup is built (until then they are partial).
    crate::rollups::wait_for_rollups(&app, &token, &[metric["id"].as_i64().unwrap()]).await;
    let (cache, by_metric) = answered(app.get_authed(&path, &token).await).await;
    assert_eq!((cache.as_str(), by_metric.meta.records), ("miss", 2));
    let (cache, _) = answered(app.get_authed(&path, &token).await).await;
    assert_eq!(cache, "hit");
    let edited = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/metrics/{}", metric["id"]),
            &token,
            Some(json!({"field_name": "currency"})),
        )
        .await;
    assert_eq!(edited.status().as_u16(), 200);
    let (cache, regrouped) = answered(app.get_authed(&path, &token).await).await;
    assert_eq!(cache, "miss");
    assert!(regrouped.label_z.contains_key("usd"), "{regrouped:?}");
}
