//! Charts of bounded cost: week and month bars, the cap on groups, the parameters that bound
//! them, the statement timeout and the limit on one user's computations at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use allmetrics_common::{Metric, Series};
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};

use crate::helpers::{
    assert_error, spawn_app, spawn_app_on, spawn_app_with, DbKind, TestApp, TestDatabase,
};
use crate::on_both_databases;
use crate::query::{connected, query, series, store};

on_both_databases!(
    weeks_and_months_are_whole_buckets_that_add_up_their_days,
    the_largest_groups_stay_and_the_others_are_summed_into_other_groups,
    out_of_bounds_intervals_windows_and_groups_are_refused,
    a_statement_past_the_timeout_is_a_503_and_the_server_goes_on,
    a_third_uncached_computation_of_one_user_waits_for_a_429,
);

const OTHER: &str = "(other groups)";

/// A UTC instant (unix seconds).
fn at(date: &str, hours: u32, minutes: u32) -> i64 {
    day(date)
        .and_hms_opt(hours, minutes, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn charge(id: &str, created: i64, amount: i64, currency: &str, customer: &str) -> Value {
    json!({"id": id, "object": "charge", "created": created, "amount": amount,
           "currency": currency, "customer": customer})
}

/// Saves a metric; its id.
async fn metric(app: &TestApp, token: &str, body: Value) -> i64 {
    let created = app
        .call(reqwest::Method::POST, "/api/v1/metrics", token, Some(body))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    created.json::<Metric>().await.unwrap().id
}

/// A metric's series, which must be answered.
/// A saved metric's series, once its rollup is built (until then it says `partial`).
async fn metric_series(app: &TestApp, token: &str, id: i64, params: &[(&str, &str)]) -> Series {
    crate::rollups::wait_for_rollups(app, token, &[id]).await;
    let response = app.get_metric_series(token, id, params).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The first day of the bar holding `day`.
fn bucket_start(day: NaiveDate, interval: &str) -> NaiveDate {
    match interval {
        "day" => day,
        "week" => day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday())),
        "month" => day.with_day(1).unwrap(),
        other => panic!("{other}"),
    }
}

/// A chart computed the obvious way: each object's local day in `tz`, the bar of that day among
/// `labels` (first days), and per bar the operator over all objects and per `currency`.
fn expected(
    objects: &[Value],
    tz: Tz,
    interval: &str,
    labels: &[String],
    operator: &str,
) -> (Vec<f64>, BTreeMap<String, Vec<f64>>) {
    let mut bars: Vec<Vec<&Value>> = vec![Vec::new(); labels.len()];
    for object in objects {
        let local = tz
            .timestamp_opt(object["created"].as_i64().unwrap(), 0)
            .unwrap()
            .date_naive();
        let first = bucket_start(local, interval).format("%Y-%m-%d").to_string();
        if let Some(index) = labels.iter().position(|label| *label == first) {
            bars[index].push(object);
        }
    }
    let value = |records: &[&Value]| -> f64 {
        let amounts = records
            .iter()
            .map(|record| record["amount"].as_f64().unwrap());
        match operator {
            "count" => records.len() as f64,
            "sum" => amounts.sum(),
            "average" if records.is_empty() => 0.0,
            "average" => amounts.sum::<f64>() / records.len() as f64,
            "count_distinct" => records
                .iter()
                .map(|record| record["customer"].as_str().unwrap())
                .collect::<BTreeSet<_>>()
                .len() as f64,
            other => panic!("{other}"),
        }
    };
    let totals = bars.iter().map(|records| value(records)).collect();
    let mut groups: BTreeMap<String, Vec<Vec<&Value>>> = BTreeMap::new();
    for (index, records) in bars.iter().enumerate() {
        for record in records {
            let name = record["currency"].as_str().unwrap().to_string();
            groups
                .entry(name)
                .or_insert_with(|| vec![Vec::new(); labels.len()])[index]
                .push(record);
        }
    }
    let groups = groups
        .into_iter()
        .map(|(name, cells)| (name, cells.iter().map(|records| value(records)).collect()))
        .collect();
    (totals, groups)
}

/// Charges every 31 hours from 2025-12-20 to 2026-04-02, and a few placed on purpose.
fn timeline() -> Vec<Value> {
    let start = at("2025-12-20", 5, 0);
    let mut objects: Vec<Value> = (0..80i64)
        .map(|i| {
            charge(
                &format!("ch_{i:03}"),
                start + i * 31 * 3600,
                100 * (1 + i % 7),
                ["usd", "eur", "gbp"][(i % 3) as usize],
                &format!("cus_{i:03}"),
            )
        })
        .collect();
    // March 1st 03:00 UTC is still February 28th in New York.
    objects.push(charge("ch_m", at("2026-03-01", 3, 0), 7, "eur", "cus_m"));
    // Monday March 9th 02:30 UTC is Sunday the 8th in New York (EDT since that morning).
    objects.push(charge("ch_w", at("2026-03-09", 2, 30), 11, "gbp", "cus_w"));
    // One customer on Tuesday and on Thursday of the week of March 2nd.
    objects.push(charge("ch_r1", at("2026-03-03", 12, 0), 13, "usd", "cus_r"));
    objects.push(charge("ch_r2", at("2026-03-05", 12, 0), 17, "usd", "cus_r"));
    objects
}

/// Equal values; averages (fractions) to the last digit or so that JSON carries.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            if x.fract() == 0.0 && y.fract() == 0.0 {
                x == y
            } else {
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
            }
        })
}

fn labels(days: &[&str]) -> Vec<String> {
    days.iter().map(|day| day.to_string()).collect()
}

async fn weeks_and_months_are_whole_buckets_that_add_up_their_days(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let objects = timeline();
    store(&app, &connection, "Charge", &objects, true).await;

    let weeks = labels(&[
        "2026-02-16",
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
    ]);
    let months = labels(&["2026-01-01", "2026-02-01", "2026-03-01"]);
    let new_year = labels(&["2025-12-01", "2026-01-01"]);
    let one_week = labels(&["2026-03-02"]);
    let one_month = labels(&["2026-02-01"]);
    // (interval, total_days, end, tz, the bars' first days, meta.to)
    let cases = [
        // 30 days to Wednesday March 18th start on Tuesday February 17th: widened to Mondays
        // and Sundays.
        ("week", "30", "2026-03-18", "UTC", &weeks, "2026-03-22"),
        (
            "week",
            "30",
            "2026-03-18",
            "America/New_York",
            &weeks,
            "2026-03-22",
        ),
        // 60 days to March 18th start on January 18th: whole months.
        ("month", "60", "2026-03-18", "UTC", &months, "2026-03-31"),
        (
            "month",
            "60",
            "2026-03-18",
            "America/New_York",
            &months,
            "2026-03-31",
        ),
        ("month", "40", "2026-01-15", "UTC", &new_year, "2026-01-31"),
        // A single bar: Monday March 2nd to Sunday the 8th; February.
        ("week", "7", "2026-03-08", "UTC", &one_week, "2026-03-08"),
        (
            "week",
            "1",
            "2026-03-04",
            "America/New_York",
            &one_week,
            "2026-03-08",
        ),
        (
            "month",
            "1",
            "2026-02-10",
            "America/New_York",
            &one_month,
            "2026-02-28",
        ),
    ];
    // The week and the month holding the customer charged twice.
    let repeated = |interval: &str| bucket_start(day("2026-03-03"), interval);
    for (interval, total_days, end, tz_name, bars, to) in cases {
        let tz: Tz = tz_name.parse().unwrap();
        let from = bars[0].as_str();
        let days = (day(to) - day(from)).num_days() + 1;
        let days_text = days.to_string();
        for operator in ["count", "sum", "average", "count_distinct"] {
            let mut params = vec![
                ("object_name", "Charge"),
                ("operator", operator),
                ("field_name", "currency"),
                ("total_days", total_days),
                ("end", end),
                ("tz", tz_name),
                ("interval", interval),
            ];
            if operator != "count" {
                params.push(("value_field", operator_field(operator)));
            }
            let chart = series(&app, &token, &params).await;
            let context = format!("{interval} {total_days} {end} {tz_name} {operator}");
            assert_eq!(&chart.label_x, bars, "{context}");
            assert_eq!(
                (
                    chart.meta.from.as_str(),
                    chart.meta.to.as_str(),
                    chart.meta.interval.as_str(),
                    chart.meta.tz.as_str(),
                    chart.meta.groups_folded,
                ),
                (from, to, interval, tz_name, 0),
                "{context}"
            );
            let (totals, groups) = expected(&objects, tz, interval, bars, operator);
            assert!(same(&chart.label_y, &totals), "{context}: {chart:?}");
            assert_eq!(
                chart.label_z.keys().collect::<Vec<_>>(),
                groups.keys().collect::<Vec<_>>(),
                "{context}"
            );
            for (name, values) in &groups {
                assert!(same(&chart.label_z[name], values), "{context} {name}");
            }

            // The same days one bar a day: each bar adds up its days.
            params.retain(|(name, _)| !matches!(*name, "interval" | "total_days" | "end"));
            params.extend([("interval", "day"), ("total_days", &days_text), ("end", to)]);
            let daily = series(&app, &token, &params).await;
            assert_eq!(daily.label_x.len() as i64, days, "{context}");
            assert_eq!(
                (daily.label_x[0].as_str(), daily.meta.to.as_str()),
                (from, to)
            );
            let bar_of = |label: &str| {
                let first = bucket_start(day(label), interval)
                    .format("%Y-%m-%d")
                    .to_string();
                bars.iter().position(|bar| *bar == first).unwrap()
            };
            let add_up = |values: &[f64]| {
                let mut sums = vec![0.0; bars.len()];
                for (label, value) in daily.label_x.iter().zip(values) {
                    sums[bar_of(label)] += value;
                }
                sums
            };
            match operator {
                "count" | "sum" => {
                    assert_eq!(chart.label_y, add_up(&daily.label_y), "{context}");
                    assert_eq!(
                        chart.label_z.keys().collect::<Vec<_>>(),
                        daily.label_z.keys().collect::<Vec<_>>()
                    );
                    for (name, values) in &daily.label_z {
                        assert_eq!(chart.label_z[name], add_up(values), "{context} {name}");
                    }
                }
                "count_distinct" => {
                    // A customer charged on two days of a bar is one customer of the bar.
                    let mut once = add_up(&daily.label_y);
                    let mut usd_once = add_up(&daily.label_z["usd"]);
                    let first = repeated(interval).format("%Y-%m-%d").to_string();
                    if let Some(index) = bars.iter().position(|bar| *bar == first) {
                        once[index] -= 1.0;
                        usd_once[index] -= 1.0;
                        assert_ne!(chart.label_y, add_up(&daily.label_y), "{context}");
                    }
                    assert_eq!(chart.label_y, once, "{context}");
                    assert_eq!(chart.label_z["usd"], usd_once, "{context}");
                }
                _ => {}
            }
        }
    }

    // Counted by hand: the charges of each month and week, in UTC and in New York, where the
    // evening charges placed on the edges (and one every 31 hours) move a day back.
    let count = |tz: &'static str, interval: &'static str, total_days: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            series(
                app,
                &token,
                &[
                    ("object_name", "Charge"),
                    ("end", "2026-03-18"),
                    ("total_days", total_days),
                    ("tz", tz),
                    ("interval", interval),
                ],
            )
            .await
            .label_y
        }
    };
    assert_eq!(count("UTC", "month", "60").await, vec![24.0, 21.0, 28.0]);
    assert_eq!(
        count("America/New_York", "month", "60").await,
        vec![24.0, 22.0, 27.0]
    );
    assert_eq!(
        count("UTC", "week", "30").await,
        vec![6.0, 6.0, 7.0, 7.0, 5.0]
    );
    assert_eq!(
        count("America/New_York", "week", "30").await,
        vec![6.0, 6.0, 9.0, 5.0, 5.0]
    );

    // Ten years by month: 121 bars, from March 2016.
    let decade = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("end", "2026-03-18"),
            ("total_days", "3660"),
            ("interval", "month"),
        ],
    )
    .await;
    assert_eq!(decade.label_x.len(), 121);
    assert_eq!(
        (
            decade.label_x[0].as_str(),
            decade.label_x[120].as_str(),
            decade.meta.from.as_str(),
            decade.meta.to.as_str()
        ),
        ("2016-03-01", "2026-03-01", "2016-03-01", "2026-03-31")
    );
    assert_eq!(&decade.label_y[117..], &[10.0, 24.0, 21.0, 28.0]);
    assert_eq!(decade.label_y.iter().sum::<f64>(), 83.0);
    assert_eq!(decade.meta.records, 83);

    // A saved metric charts the same bars.
    let id = metric(
        &app,
        &token,
        json!({"name": "Revenue", "source": "demo", "object_name": "Charge", "operator": "sum",
               "field_name": "currency", "value_field": "amount"}),
    )
    .await;
    let window = [
        ("total_days", "30"),
        ("end", "2026-03-18"),
        ("tz", "America/New_York"),
        ("interval", "week"),
    ];
    let by_metric = metric_series(&app, &token, id, &window).await;
    let mut direct = vec![
        ("object_name", "Charge"),
        ("operator", "sum"),
        ("field_name", "currency"),
        ("value_field", "amount"),
    ];
    direct.extend(window);
    assert_eq!(by_metric, series(&app, &token, &direct).await);
    assert_eq!(by_metric.label_x, weeks);
    assert_eq!(by_metric.meta.interval, "week");
}

/// The field each operator reads.
fn operator_field(operator: &str) -> &'static str {
    match operator {
        "count_distinct" => "customer",
        _ => "amount",
    }
}

/// Group `t{k}` has `k + 1` charges of 10 (k = 0..25) spread over May 1st..7th, 2026, and one
/// refund of -5,000 (the largest in absolute value) whose customer is also one of `t25`'s.
fn many_groups() -> Vec<Value> {
    let mut objects = Vec::new();
    for k in 0..26i64 {
        for j in 0..=k {
            let day = 1 + (k + j) % 7;
            objects.push(json!({
                "id": format!("ch_{k:02}_{j:02}"), "object": "charge",
                "created": at(&format!("2026-05-0{day}"), 12, 0), "amount": 10,
                "tier": format!("t{k:02}"), "customer": format!("cus_{k}_{j}")
            }));
        }
    }
    // t25's first charge is on May 5th (day (25 + 0) % 7 = 4).
    objects.push(json!({
        "id": "re_1", "object": "charge", "created": at("2026-05-05", 18, 0),
        "amount": -5000, "tier": "refund", "customer": "cus_25_0"
    }));
    objects
}

/// Per day (May 1st..7th) and per `field`: how many objects, their amounts, and their distinct
/// customers.
fn per_day(objects: &[Value], field: &str, operator: &str) -> BTreeMap<String, Vec<f64>> {
    let mut cells: BTreeMap<String, Vec<Vec<&Value>>> = BTreeMap::new();
    for object in objects {
        let created = chrono::DateTime::from_timestamp(object["created"].as_i64().unwrap(), 0)
            .unwrap()
            .date_naive();
        let index = (created - day("2026-05-01")).num_days() as usize;
        cells
            .entry(object[field].as_str().unwrap().to_string())
            .or_insert_with(|| vec![Vec::new(); 7])[index]
            .push(object);
    }
    cells
        .into_iter()
        .map(|(name, days)| {
            let values = days
                .iter()
                .map(|records| match operator {
                    "count" => records.len() as f64,
                    "sum" => records.iter().map(|r| r["amount"].as_f64().unwrap()).sum(),
                    _ => records
                        .iter()
                        .map(|r| r["customer"].as_str().unwrap())
                        .collect::<BTreeSet<_>>()
                        .len() as f64,
                })
                .collect();
            (name, values)
        })
        .collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

async fn the_largest_groups_stay_and_the_others_are_summed_into_other_groups(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let objects = many_groups();
    assert_eq!(objects.len(), 352);
    store(&app, &connection, "Charge", &objects, true).await;
    let chart = |operator: &'static str, field: &'static str, groups: Option<&'static str>| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut params = vec![
                ("object_name", "Charge"),
                ("operator", operator),
                ("field_name", field),
                ("end", "2026-05-07"),
                ("total_days", "7"),
            ];
            match operator {
                "sum" => params.push(("value_field", "amount")),
                "count_distinct" => params.push(("value_field", "customer")),
                _ => {}
            }
            if let Some(groups) = groups {
                params.push(("groups", groups));
            }
            series(app, &token, &params).await
        }
    };
    // Everything, one series per group: the truth the capped charts are checked against.
    let counts = per_day(&objects, "tier", "count");
    let all_days = counts
        .values()
        .fold(vec![0.0; 7], |sum, values| add(&sum, values));
    assert_eq!(all_days.iter().sum::<f64>(), 352.0);
    let every = chart("count", "tier", Some("100")).await;
    assert_eq!(every.label_z, counts);
    assert_eq!(
        (every.meta.groups_folded, every.label_y.clone()),
        (0, all_days.clone())
    );

    // By default the 20 largest: t06..t25 (7 to 26 charges); t00..t05 and the refund (1 to 6
    // charges, and 1) are summed.
    let capped = chart("count", "tier", None).await;
    let kept: Vec<String> = (6..26).map(|k| format!("t{k:02}")).collect();
    let mut names: Vec<&str> = kept.iter().map(String::as_str).collect();
    names.insert(0, OTHER);
    assert_eq!(capped.label_z.keys().collect::<Vec<_>>(), names);
    assert_eq!(capped.meta.groups_folded, 7);
    for name in &kept {
        assert_eq!(capped.label_z[name], counts[name], "{name}");
    }
    let folded = ["t00", "t01", "t02", "t03", "t04", "t05", "refund"]
        .iter()
        .fold(vec![0.0; 7], |sum, name| add(&sum, &counts[*name]));
    assert_eq!(folded.iter().sum::<f64>(), 22.0);
    assert_eq!(capped.label_z[OTHER], folded);
    assert_eq!(capped.label_y, all_days, "labelY is over every group");

    let three = chart("count", "tier", Some("3")).await;
    assert_eq!(
        three.label_z.keys().collect::<Vec<_>>(),
        vec![OTHER, "t23", "t24", "t25"]
    );
    assert_eq!(three.meta.groups_folded, 24);
    let kept_three = add(&add(&counts["t23"], &counts["t24"]), &counts["t25"]);
    assert_eq!(
        add(&three.label_z[OTHER], &kept_three),
        all_days,
        "the others are the rest of every day"
    );
    assert_eq!(three.label_z[OTHER].iter().sum::<f64>(), 352.0 - 75.0);
    assert_eq!(three.label_y, all_days);

    // By the absolute value of the whole window: the refund (-5,000) first.
    let sums = per_day(&objects, "tier", "sum");
    let sum_days = sums
        .values()
        .fold(vec![0.0; 7], |sum, values| add(&sum, values));
    let by_amount = chart("sum", "tier", Some("3")).await;
    assert_eq!(
        by_amount.label_z.keys().collect::<Vec<_>>(),
        vec![OTHER, "refund", "t24", "t25"]
    );
    assert_eq!(by_amount.label_z["refund"], sums["refund"]);
    assert_eq!(by_amount.label_z[OTHER].iter().sum::<f64>(), 10.0 * 300.0);
    let kept_amounts = add(&add(&sums["refund"], &sums["t24"]), &sums["t25"]);
    assert_eq!(add(&by_amount.label_z[OTHER], &kept_amounts), sum_days);
    assert_eq!(by_amount.label_y, sum_days);
    assert_eq!(by_amount.meta.groups_folded, 24);

    // One group per record: only `groups` of them are charted (ties: the first names).
    let mut ids: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    for (groups, limit) in [(None, 20), (Some("5"), 5)] {
        let by_id = chart("count", "id", groups).await;
        let mut expected_names = vec![OTHER];
        expected_names.extend(&ids[..limit]);
        assert_eq!(by_id.label_z.keys().collect::<Vec<_>>(), expected_names);
        assert_eq!(by_id.meta.groups_folded, 352 - limit as u64);
        assert_eq!(
            by_id.label_z[OTHER].iter().sum::<f64>(),
            (352 - limit) as f64
        );
        assert_eq!(by_id.label_y, all_days);
    }

    // Distinct customers do not add up across groups: the others are left out, still counted.
    let distinct = per_day(&objects, "tier", "count_distinct");
    let unique = chart("count_distinct", "tier", Some("3")).await;
    assert_eq!(
        unique.label_z.keys().collect::<Vec<_>>(),
        vec!["t23", "t24", "t25"]
    );
    assert_eq!(unique.meta.groups_folded, 24);
    for name in ["t23", "t24", "t25"] {
        assert_eq!(unique.label_z[name], distinct[name], "{name}");
    }
    // Per day over every group: May 5th has the refund's customer, t25's too, once.
    let mut customers = all_days.clone();
    customers[4] -= 1.0;
    assert_eq!(unique.label_y, customers);
    assert_eq!(
        chart("count_distinct", "tier", None).await.label_y,
        customers
    );

    // A saved metric is capped the same way.
    let id = metric(
        &app,
        &token,
        json!({"name": "Tiers", "source": "demo", "object_name": "Charge", "operator": "count",
               "field_name": "tier"}),
    )
    .await;
    let by_metric = metric_series(
        &app,
        &token,
        id,
        &[("end", "2026-05-07"), ("total_days", "7"), ("groups", "3")],
    )
    .await;
    assert_eq!(by_metric, three);
}

async fn out_of_bounds_intervals_windows_and_groups_are_refused(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    store(
        &app,
        &connection,
        "Charge",
        &[charge("ch_1", at("2026-11-02", 9, 0), 5, "usd", "cus_1")],
        true,
    )
    .await;
    let id = metric(
        &app,
        &token,
        json!({"name": "Charges", "source": "demo", "object_name": "Charge", "operator": "count"}),
    )
    .await;
    let stored_metric = app
        .get_authed(&format!("/api/v1/metrics/{id}"), &token)
        .await;
    assert_eq!(stored_metric.status().as_u16(), 200);
    let stored_metric = stored_metric.text().await.unwrap();
    let before = series(
        &app,
        &token,
        &[("object_name", "Charge"), ("end", "2026-11-29")],
    )
    .await;
    let cached = app.state.series_cache.weight();

    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[("interval", "year")], "invalid_interval"),
        (&[("total_days", "367")], "invalid_total_days"),
        (
            &[("total_days", "367"), ("interval", "day")],
            "invalid_total_days",
        ),
        (
            &[("total_days", "3661"), ("interval", "month")],
            "invalid_total_days",
        ),
        // 2,900 days are 415 weeks: more than 400 bars.
        (
            &[("total_days", "2900"), ("interval", "week")],
            "invalid_total_days",
        ),
        (&[("groups", "0")], "invalid_groups"),
        (&[("groups", "101")], "invalid_groups"),
        (&[("groups", "x")], "invalid_groups"),
    ];
    for (bad, code) in cases {
        let mut params = vec![("object_name", "Charge"), ("end", "2026-11-29")];
        params.extend_from_slice(bad);
        let body = assert_error(query(&app, &token, &params).await, 400, code).await;
        assert!(!body.message.is_empty(), "{bad:?}");
        let mut window = vec![("end", "2026-11-29")];
        window.extend_from_slice(bad);
        assert_error(app.get_metric_series(&token, id, &window).await, 400, code).await;
    }
    // Nothing refused was computed, kept or changed.
    assert_eq!(app.state.series_cache.weight(), cached);
    assert_eq!(app.state.computations.users_computing(), 0);
    assert_eq!(
        app.get_authed(&format!("/api/v1/metrics/{id}"), &token)
            .await
            .text()
            .await
            .unwrap(),
        stored_metric
    );
    let after = query(
        &app,
        &token,
        &[("object_name", "Charge"), ("end", "2026-11-29")],
    )
    .await;
    assert_eq!(after.headers()["x-cache"], "hit");
    assert_eq!(after.json::<Series>().await.unwrap(), before);

    // The bounds themselves are valid. Sunday November 29th and 2,800 days before it: a Monday,
    // so exactly 400 weeks; one more day is a 401st.
    let ok = |params: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut all = vec![("object_name", "Charge"), ("end", "2026-11-29")];
            all.extend(params);
            series(app, &token, &all).await
        }
    };
    let weeks = ok(vec![("total_days", "2800"), ("interval", "week")]).await;
    assert_eq!(weeks.label_x.len(), 400);
    assert_eq!(
        (weeks.meta.from.as_str(), weeks.meta.to.as_str()),
        ("2019-04-01", "2026-11-29")
    );
    assert_eq!(weeks.label_y.iter().sum::<f64>(), 1.0);
    assert_error(
        query(
            &app,
            &token,
            &[
                ("object_name", "Charge"),
                ("end", "2026-11-29"),
                ("total_days", "2801"),
                ("interval", "week"),
            ],
        )
        .await,
        400,
        "invalid_total_days",
    )
    .await;
    assert_eq!(ok(vec![("total_days", "366")]).await.label_x.len(), 366);
    let months = ok(vec![("total_days", "3660"), ("interval", "month")]).await;
    assert_eq!(months.label_x.len(), 121);
    assert_eq!(ok(vec![("groups", "1")]).await.label_z.len(), 1);
    assert_eq!(ok(vec![("groups", "100")]).await.label_z.len(), 1);

    assert_eq!(app.state.computations.users_computing(), 0);
}

/// A lock on `synced_objects` held by a connection of the test's own: charts wait for it, the
/// other tables (users, sources, sync jobs: what a cached answer reads) do not.
enum ObjectsLock {
    /// `LOCK TABLE ... IN ACCESS EXCLUSIVE MODE` in an open transaction.
    Postgres(sqlx::PgConnection),
    /// In SQLite's shared-cache mode locks are per table: an open transaction that has written
    /// to `synced_objects` makes the app's readers of that table wait (sqlx waits for the unlock
    /// notification), and only them.
    Sqlite(sqlx::SqliteConnection),
}

impl ObjectsLock {
    async fn hold(app: &TestApp) -> Self {
        match app.database.url.starts_with("sqlite:") {
            false => {
                let mut connection = sqlx::PgConnection::connect(&app.database.url)
                    .await
                    .unwrap();
                connection.execute("BEGIN").await.unwrap();
                connection
                    .execute("LOCK TABLE synced_objects IN ACCESS EXCLUSIVE MODE")
                    .await
                    .unwrap();
                ObjectsLock::Postgres(connection)
            }
            true => {
                assert!(app.database.url.contains("cache=shared"));
                let mut connection = sqlx::SqliteConnection::connect(&app.database.url)
                    .await
                    .unwrap();
                connection.execute("BEGIN").await.unwrap();
                let written = connection
                    .execute(
                        "UPDATE synced_objects SET created = created \
                         WHERE rowid = (SELECT MIN(rowid) FROM synced_objects)",
                    )
                    .await
                    .unwrap();
                assert_eq!(written.rows_affected(), 1);
                ObjectsLock::Sqlite(connection)
            }
        }
    }

    async fn release(self) {
        match self {
            ObjectsLock::Postgres(mut connection) => {
                connection.execute("ROLLBACK").await.unwrap();
                connection.close().await.unwrap();
            }
            ObjectsLock::Sqlite(mut connection) => {
                connection.execute("ROLLBACK").await.unwrap();
                connection.close().await.unwrap();
            }
        }
    }
}

/// Charts stopped at the statement timeout. SQLite checks its deadline every 10,000 virtual
/// machine instructions: a millisecond is long past before an aggregation over 10,000 records
/// is done (and a chart of a few records never reaches the first check). PostgreSQL's statements
/// wait on a lock the test holds until its timeout stops them.
async fn a_statement_past_the_timeout_is_a_503_and_the_server_goes_on(kind: DbKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.database.statement_timeout_ms = match kind {
            DbKind::Sqlite => 1,
            DbKind::Postgres => 500,
        };
        // One reader connection: whatever follows runs on the one that was stopped.
        settings.database.read_connections = 1;
    })
    .await;
    let (token, connection) = connected(&app, "ann@example.com").await;
    let many = match kind {
        DbKind::Sqlite => 10_000,
        DbKind::Postgres => 300,
    };
    let mut charges: Vec<Value> = (0..many)
        .map(|i| {
            charge(
                &format!("ch_{i:05}"),
                at("2026-11-01", 0, 0) + i * (10 * 86_400 / many),
                1 + i % 50,
                ["usd", "eur"][(i % 2) as usize],
                &format!("cus_{i}"),
            )
        })
        .collect();
    for i in 0..3 {
        charges.push(charge(
            &format!("ch_late_{i}"),
            at("2026-11-20", 9, i),
            10,
            "usd",
            "cus_late",
        ));
    }
    store(&app, &connection, "Charge", &charges, true).await;
    let customers: Vec<Value> = (0..3)
        .map(|i| json!({"id": format!("cus_{i}"), "object": "customer", "created": at("2026-11-03", 8, i)}))
        .collect();
    store(&app, &connection, "Customer", &customers, true).await;
    let id = metric(
        &app,
        &token,
        json!({"name": "Charges", "source": "demo", "object_name": "Charge", "operator": "sum",
               "field_name": "currency", "value_field": "amount"}),
    )
    .await;
    let customers_params = [
        ("object_name", "Customer"),
        ("end", "2026-11-30"),
        ("total_days", "30"),
    ];
    let first = query(&app, &token, &customers_params).await;
    assert_eq!(first.headers()["x-cache"], "miss");
    assert_eq!(
        first
            .json::<Series>()
            .await
            .unwrap()
            .label_y
            .iter()
            .sum::<f64>(),
        3.0
    );

    let lock = match kind {
        DbKind::Postgres => Some(ObjectsLock::hold(&app).await),
        DbKind::Sqlite => None,
    };
    let whole_month = [
        ("object_name", "Charge"),
        ("operator", "sum"),
        ("field_name", "currency"),
        ("value_field", "amount"),
        ("end", "2026-11-30"),
        ("total_days", "30"),
    ];
    let body = assert_error(
        query(&app, &token, &whole_month).await,
        503,
        "query_timeout",
    )
    .await;
    assert!(body.message.contains("longer"), "{}", body.message);
    assert_error(
        app.get_metric_series(&token, id, &[("end", "2026-11-30"), ("total_days", "30")])
            .await,
        503,
        "query_timeout",
    )
    .await;
    // The computations stopped have given their places back.
    assert_eq!(app.state.computations.users_computing(), 0);
    // The server goes on: a cached chart, the health check.
    let cached = query(&app, &token, &customers_params).await;
    assert_eq!(cached.status().as_u16(), 200);
    assert_eq!(cached.headers()["x-cache"], "hit");
    assert_eq!(app.get_healthz().await.status().as_u16(), 200);
    if let Some(lock) = lock {
        lock.release().await;
    }
    // And computes again, on the connection that was stopped: another window of customers, a
    // day of three charges.
    let other = query(
        &app,
        &token,
        &[
            ("object_name", "Customer"),
            ("end", "2026-11-10"),
            ("total_days", "10"),
        ],
    )
    .await;
    assert_eq!(other.headers()["x-cache"], "miss");
    let other: Series = other.json().await.unwrap();
    assert_eq!(other.label_y[2], 3.0);
    assert_eq!(other.meta.records, 3);
    let late = series(
        &app,
        &token,
        &[
            ("object_name", "Charge"),
            ("operator", "sum"),
            ("value_field", "amount"),
            ("end", "2026-11-20"),
            ("total_days", "1"),
        ],
    )
    .await;
    assert_eq!((late.label_y, late.meta.records), (vec![30.0], 3));
    if kind == DbKind::Postgres {
        // Unlocked, the very chart that was stopped is answered.
        let whole: Series = series(&app, &token, &whole_month).await;
        assert_eq!(whole.meta.records, many as u64 + 3);
        let total: i64 = (0..many).map(|i| 1 + i % 50).sum::<i64>() + 30;
        assert_eq!(whole.label_y.iter().sum::<f64>(), total as f64);
    }
    assert_eq!(app.state.computations.users_computing(), 0);
}

/// Waits (at most a minute) until `ready` says so.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Computations that cannot end while the test holds a lock on the objects: two of one user
/// hold her two places, a third is refused at once, whatever the order they arrive in.
async fn a_third_uncached_computation_of_one_user_waits_for_a_429(kind: DbKind) {
    let mut database = TestDatabase::create(kind).await;
    if kind == DbKind::Sqlite {
        database.url.push_str("?cache=shared");
    }
    let app = spawn_app_on(database, |settings| {
        // Waiting for the lock is no timeout.
        settings.database.statement_timeout_ms = 600_000;
        settings.database.read_connections = 8;
    })
    .await;
    assert_eq!(app.state.settings.query.computations_per_user, 2);
    let (ann, ann_connection) = connected(&app, "ann@example.com").await;
    let (bob, bob_connection) = connected(&app, "bob@example.com").await;
    let charges: Vec<Value> = (0..5)
        .map(|i| charge(&format!("ch_{i}"), at("2026-11-02", 9, i), 10, "usd", "c"))
        .collect();
    store(&app, &ann_connection, "Charge", &charges, true).await;
    store(&app, &bob_connection, "Charge", &charges[..2], true).await;
    let cached_params = [("object_name", "Charge"), ("end", "2026-11-30")];
    let cached = series(&app, &ann, &cached_params).await;

    let lock = ObjectsLock::hold(&app).await;
    let request = |token: &str, path: String, end: &str| {
        let request = app
            .client
            .get(app.url(&path))
            .query(&[("end", end)])
            .bearer_auth(token);
        tokio::spawn(request.send())
    };
    let query_path = "/connect/query/demo/?object_name=Charge".to_string();
    let mut pending = vec![
        request(&ann, query_path.clone(), "2026-11-27"),
        request(&ann, query_path.clone(), "2026-11-28"),
        // (Not a saved metric: its rollup would answer without waiting for the objects.)
        request(&ann, query_path.clone(), "2026-11-29"),
    ];
    until("one of the three is answered", || {
        pending.iter().any(|task| task.is_finished())
    })
    .await;
    let refused = pending.remove(pending.iter().position(|t| t.is_finished()).unwrap());
    let refused = refused.await.unwrap().unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body = assert_error(refused, 429, "too_many_queries").await;
    assert!(body.message.contains('2'), "{}", body.message);
    // The two others hold their places until the lock goes.
    assert!(pending.iter().all(|task| !task.is_finished()));
    assert_eq!(app.state.computations.users_computing(), 1);
    // Hers again: refused at once; a cached chart is no computation and is answered.
    let again = query(
        &app,
        &ann,
        &[("object_name", "Charge"), ("end", "2026-11-26")],
    )
    .await;
    assert_eq!(again.headers()["retry-after"], "1");
    assert_error(again, 429, "too_many_queries").await;
    let hit = query(&app, &ann, &cached_params).await;
    assert_eq!(hit.headers()["x-cache"], "hit");
    assert_eq!(hit.json::<Series>().await.unwrap(), cached);
    // Another user is not refused: his computation starts (and waits for the lock too).
    let bobs = request(&bob, query_path.clone(), "2026-11-27");
    until("bob computes", || {
        app.state.computations.users_computing() == 2 || bobs.is_finished()
    })
    .await;
    assert!(!bobs.is_finished(), "bob's chart waits for the lock");
    assert!(pending.iter().all(|task| !task.is_finished()));

    lock.release().await;
    for task in pending {
        let answer = task.await.unwrap().unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let chart: Series = answer.json().await.unwrap();
        assert_eq!(chart.label_y.iter().sum::<f64>(), 5.0);
        assert_eq!(chart.meta.records, 5);
    }
    let bobs = bobs.await.unwrap().unwrap();
    assert_eq!(bobs.status().as_u16(), 200);
    assert_eq!(bobs.json::<Series>().await.unwrap().meta.records, 2);
    assert_eq!(app.state.computations.users_computing(), 0);
    // Her places are free again.
    let retried = series(
        &app,
        &ann,
        &[("object_name", "Charge"), ("end", "2026-11-26")],
    )
    .await;
    assert_eq!(retried.meta.records, 5);
}
