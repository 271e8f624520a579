//! Subscription metrics benchmark (a bench binary: prints figures).
//!
//! Stores the subscriptions, invoices and prices of a sandbox account of about 10,000
//! subscriptions over two years (full Stripe JSON) as a finished backfill leaves them, then
//! prints, in the same run:
//! - the baselines: reading those objects back (the bare `SELECT data`), a saved metric of the
//!   objects (count of subscriptions by status) over 366 days, uncached, from its rollup, and a
//!   dashboard of twelve saved metrics of the invoices over the same two years as the
//!   subscription metrics, uncached (new invoices stored first), from their rollups;
//! - the time to the first MRR chart (two years, weekly) after the backfill;
//! - a dashboard of every subscription metric (two years, weekly, converted to dollars with a
//!   rate a day), asked at once as the web app does: uncached (new data stored first, a window
//!   not asked before), then cached.
//!
//! `cargo bench -p allmetrics --bench subscriptions [-- sqlite|postgres]`
//! (`BENCH_SUBSCRIPTIONS=N` aims at another number of subscriptions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use allmetrics::domain::StoredObject;
use allmetrics_sandbox::{Generator, ObjectKind};

use common::{median, ms};

const NOW: i64 = 1_790_000_000;
const SEED: u64 = 42;

/// A generator of about `wanted` subscriptions (their number follows the customers').
fn generator_of(wanted: u64) -> Generator {
    let probe = 2_000;
    let per_probe = Generator::new(SEED, probe, NOW).count(ObjectKind::Subscription);
    let customers = (probe * wanted / per_probe.max(1)).max(1);
    Generator::new(SEED, customers, NOW)
}

async fn run(database: &str) {
    let common::Bench {
        application,
        repository,
        connection,
        database_url,
        _folder,
        ..
    } = common::start(database, "http://127.0.0.1:9", |settings| {
        settings.query.computations_per_user = 16;
        settings.database.statement_timeout_ms = 120_000;
    })
    .await;

    let wanted = std::env::var("BENCH_SUBSCRIPTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let generator = generator_of(wanted);
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let mut counts = Vec::new();
    for (kind, name) in [
        (ObjectKind::Price, "Price"),
        (ObjectKind::Subscription, "Subscription"),
        (ObjectKind::Invoice, "Invoice"),
    ] {
        common::store_as_backfilled(&repository, &connection, &generator, (kind, name), now).await;
        counts.push(format!("{} {name}s", generator.count(kind)));
    }
    println!(
        "{database}: stored {} in {:.0} s",
        counts.join(", "),
        started.elapsed().as_secs_f64()
    );

    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    // Idle connections are dropped before the server's keep-alive (5 s) closes them: a request
    // sent on one the server has just closed is reset.
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let token = common::login(&client, &base).await;
    let last_day = chrono::DateTime::from_timestamp(NOW, 0)
        .unwrap()
        .date_naive();
    let create = |body: serde_json::Value| {
        let request = client
            .post(format!("{base}/api/v1/metrics"))
            .bearer_auth(&token)
            .json(&body)
            .send();
        async move {
            let created: serde_json::Value = request.await.unwrap().json().await.unwrap();
            created["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("metric not saved: {created}"))
        }
    };
    let two_years = |id: i64, end: chrono::NaiveDate| {
        format!(
            "{base}/api/v1/metrics/{id}/series?total_days=728&interval=week&end={}",
            end.format("%Y-%m-%d")
        )
    };
    let get = |url: String| {
        let request = client.get(url).bearer_auth(&token).send();
        async move {
            let response = request.await.unwrap();
            let status = response.status().as_u16();
            let from = response
                .headers()
                .get("x-computed-from")
                .map(|value| value.to_str().unwrap().to_string());
            let body = response.text().await.unwrap();
            assert_eq!(status, 200, "{body}");
            from
        }
    };

    // Daily rates for the two years (an administrator's CSV): EUR and GBP subscriptions are
    // converted to dollars, a rate per day.
    let mut csv = String::from("date,currency,rate\n");
    for offset in 0..760 {
        let day = last_day - chrono::Duration::days(offset);
        let wave = (offset as f64 / 40.0).sin();
        csv.push_str(&format!("{day},eur,{:.4}\n", 0.92 + 0.03 * wave));
        csv.push_str(&format!("{day},gbp,{:.4}\n", 0.79 + 0.02 * wave));
    }
    let response = client
        .put(format!("{base}/api/v1/admin/fx-rates"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    // The baseline read: every stored object subscription metrics are rebuilt from.
    let mut bare = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let rows: Vec<(String,)> = if database == "postgres" {
            let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
            sqlx::query_as(
                "SELECT data::text FROM synced_objects WHERE connection_id = $1 \
                 AND object_name IN ('Subscription', 'Invoice', 'Price')",
            )
            .bind(connection.id.0)
            .fetch_all(&pool)
            .await
            .unwrap()
        } else {
            let pool = sqlx::SqlitePool::connect(&database_url).await.unwrap();
            sqlx::query_as(
                "SELECT data FROM synced_objects WHERE connection_id = $1 \
                 AND object_name IN ('Subscription', 'Invoice', 'Price')",
            )
            .bind(connection.id.0)
            .fetch_all(&pool)
            .await
            .unwrap()
        };
        assert!(!rows.is_empty());
        bare.push(started.elapsed());
    }
    let bare = median(&mut bare);

    // What an uncached build of the histories spends: reading the objects as JSON, rebuilding.
    let started = Instant::now();
    let mut stored = allmetrics::providers::StoredSubscriptions::default();
    for (name, into) in [
        ("Subscription", &mut stored.subscriptions),
        ("Invoice", &mut stored.invoices),
        ("Price", &mut stored.prices),
    ] {
        // Parsed on every core, as the server does.
        *into = allmetrics::parallel::map(
            repository
                .stored_objects(connection.id, name)
                .await
                .unwrap(),
            |object| object.value(),
        );
    }
    let read = started.elapsed();
    let started = Instant::now();
    let histories = allmetrics::providers::stripe::subscriptions::histories(stored);
    let rebuild = started.elapsed();
    assert!(!histories.is_empty());

    // What kept histories read to learn what changed: the ids and revisions alone.
    let started = Instant::now();
    let mut revisions = 0;
    for name in ["Subscription", "Invoice", "Price"] {
        revisions += repository
            .object_revisions(connection.id, name)
            .await
            .unwrap()
            .len();
    }
    let revisions_time = started.elapsed();
    assert!(revisions > histories.len());

    // What a new window computes from kept histories: the timeline (each subscription's MRR at
    // the day ends: two years, weekly, and the 31 days the churn rates look back on), then one
    // sweep of every kind (amounts at par: the conversion costs the same whatever the rates).
    let settings = allmetrics_subscriptions::Settings::default();
    let midnight = last_day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + 86_400;
    let day_ends: Vec<i64> = (0..(2 * 366 + 31))
        .rev()
        .map(|back| midnight - back * 86_400)
        .collect();
    let started = Instant::now();
    let timeline =
        allmetrics_subscriptions::MrrTimeline::build(&histories, &day_ends, &settings).unwrap();
    let timeline_time = started.elapsed();
    let started = Instant::now();
    let all = allmetrics_subscriptions::all_series_from_timeline(
        &timeline,
        allmetrics_subscriptions::Grouping::None,
        &allmetrics_subscriptions::FxRates::new("usd").at_par(),
        &settings,
    )
    .unwrap();
    let sweep_time = started.elapsed();
    assert_eq!(all.len(), allmetrics_common::SUBSCRIPTION_KINDS.len());

    // The first MRR chart after the backfill.
    let mrr = create(serde_json::json!({"name": "MRR", "source": "demo", "kind": "mrr"})).await;
    let started = Instant::now();
    assert_eq!(
        get(two_years(mrr, last_day)).await.as_deref(),
        Some("subscriptions")
    );
    let first_chart = started.elapsed();

    // A saved metric of the objects, from its rollup, for comparison.
    let by_status = create(serde_json::json!({
        "name": "Subscriptions by status",
        "source": "demo",
        "object_name": "Subscription",
        "operator": "count",
        "field_name": "status",
    }))
    .await;
    let year = |id: i64, end: chrono::NaiveDate| {
        format!(
            "{base}/api/v1/metrics/{id}/series?total_days=366&end={}",
            end.format("%Y-%m-%d")
        )
    };
    while get(year(by_status, last_day)).await.as_deref() != Some("rollup") {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A dashboard of twelve saved metrics of the invoices, from their rollups, for comparison:
    // every operator, by status and by currency, over the same two years.
    let mut invoice_metrics = Vec::new();
    for group in ["status", "currency"] {
        for (operator, value) in [
            ("count", None),
            ("sum", Some("amount_paid")),
            ("average", Some("amount_paid")),
            ("sum", Some("total")),
            ("max", Some("total")),
            ("min", Some("amount_due")),
        ] {
            let mut body = serde_json::json!({
                "name": format!("{operator} of invoices by {group}"),
                "source": "demo",
                "object_name": "Invoice",
                "operator": operator,
                "field_name": group,
            });
            if let Some(value) = value {
                body["value_field"] = serde_json::json!(value);
            }
            invoice_metrics.push(create(body).await);
        }
    }
    for id in &invoice_metrics {
        while get(two_years(*id, last_day)).await.as_deref() != Some("rollup") {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let mut ids = vec![mrr];
    for kind in allmetrics_common::SUBSCRIPTION_KINDS {
        if kind != "mrr" {
            ids.push(
                create(serde_json::json!({"name": kind, "source": "demo", "kind": kind})).await,
            );
        }
    }

    // New data (an incremental sync's page of changed subscriptions, or invoices), then windows
    // not asked before.
    let mut arrivals = 0i64;
    let mut new_data = |kind: ObjectKind| {
        arrivals += 1;
        changed_page(&generator, kind, arrivals)
    };
    let mut day_offset = 0i64;
    let mut fresh_end = || {
        day_offset += 1;
        last_day - chrono::Duration::days(day_offset)
    };

    let mut rollup = Vec::new();
    for _ in 0..5 {
        common::store_incremental(
            &repository,
            &connection,
            "Subscription",
            &new_data(ObjectKind::Subscription),
        )
        .await;
        let url = year(by_status, fresh_end());
        let started = Instant::now();
        assert_eq!(get(url).await.as_deref(), Some("rollup"));
        rollup.push(started.elapsed());
    }
    let rollup = median(&mut rollup);

    let mut rollup_dashboard = Vec::new();
    for _ in 0..5 {
        common::store_incremental(
            &repository,
            &connection,
            "Invoice",
            &new_data(ObjectKind::Invoice),
        )
        .await;
        let end = fresh_end();
        let started = Instant::now();
        for from in futures_util::future::join_all(
            invoice_metrics.iter().map(|id| get(two_years(*id, end))),
        )
        .await
        {
            assert_eq!(from.as_deref(), Some("rollup"));
        }
        rollup_dashboard.push(started.elapsed());
    }
    let rollup_dashboard = median(&mut rollup_dashboard);

    let mut uncached = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..5 {
        common::store_incremental(
            &repository,
            &connection,
            "Subscription",
            &new_data(ObjectKind::Subscription),
        )
        .await;
        let end = fresh_end();
        let started = Instant::now();
        futures_util::future::join_all(ids.iter().map(|id| get(two_years(*id, end)))).await;
        uncached.push(started.elapsed());
        let started = Instant::now();
        for from in
            futures_util::future::join_all(ids.iter().map(|id| get(two_years(*id, end)))).await
        {
            assert_eq!(
                from, None,
                "a cached answer says where it came from only once"
            );
        }
        cached.push(started.elapsed());
    }
    let uncached = median(&mut uncached);
    let cached = median(&mut cached);
    common::drop_postgres_database(&database_url);

    println!(
        "{database}: {} subscriptions, two years\n  \
         bare SELECT of the subscriptions, invoices and prices: {:.1} ms (median of 3)\n  \
         the same read as JSON values: {:.1} ms; histories rebuilt from them: {:.1} ms\n  \
         the ids and revisions of those objects: {:.1} ms\n  \
         from the histories, a window's timeline: {:.1} ms; every kind's sweep: {:.1} ms\n  \
         saved metric of the objects (count by status, 366 days, from its rollup), uncached: \
         {:.1} ms (median of 5)\n  \
         first MRR chart after the backfill (two years, weekly): {:.1} ms\n  \
         dashboard of {} saved metrics of the invoices (two years, weekly), at once, from their \
         rollups, uncached: {:.1} ms (median of 5)\n  \
         dashboard of the {} subscription metrics (two years, weekly), at once: uncached {:.1} ms \
         ({:.2} x the rollups' dashboard), cached {:.1} ms (medians of 5)",
        generator.count(ObjectKind::Subscription),
        ms(bare),
        ms(read),
        ms(rebuild),
        ms(revisions_time),
        ms(timeline_time),
        ms(sweep_time),
        ms(rollup),
        ms(first_chart),
        invoice_metrics.len(),
        ms(rollup_dashboard),
        ids.len(),
        ms(uncached),
        uncached.as_secs_f64() / rollup_dashboard.as_secs_f64(),
        ms(cached),
    );
}

/// The first ten objects of a kind as a sync reads them again, changed (`arrival` in their
/// metadata).
fn changed_page(generator: &Generator, kind: ObjectKind, arrival: i64) -> Vec<StoredObject> {
    (0..10)
        .map(|i| {
            let mut data = generator.object(kind, i);
            data["metadata"] = serde_json::json!({ "arrival": arrival });
            StoredObject {
                object_id: generator.id(kind, i),
                created: generator.created(kind, i),
                data,
            }
        })
        .collect()
}

fn main() {
    common::run_on_database(|database| async move { run(&database).await });
}
