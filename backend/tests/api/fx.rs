//! Reporting currencies and exchange rates: a connection's setting (`PATCH`), the administrators'
//! CSV, the rates a sync keeps from the provider once a day, and subscription metrics converted
//! with them against a computation by hand.

use allmetrics::domain::Connection;
use allmetrics_sandbox::{ObjectKind, Sandbox, SandboxConfig};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, DbKind, TestApp};
use crate::on_both_databases;
use crate::subscriptions::{
    metric_of, monthly_value_at, series, unbilled_at, values, LAST_DAY, MIDNIGHT,
};
use crate::sync::connected_app;

on_both_databases!(
    the_reporting_currency_is_set_read_and_reset,
    administrators_replace_the_rates_with_a_csv,
    a_sync_keeps_the_providers_rates_once_a_day,
    subscription_metrics_are_converted_with_the_stored_rates,
);

const API_KEY: &str = crate::fake_provider::VALID_API_KEY;

pub(crate) async fn patch(
    app: &TestApp,
    token: &str,
    slug: &str,
    body: Value,
) -> reqwest::Response {
    app.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/connections/{slug}"),
        token,
        Some(body),
    )
    .await
}

/// The user's one connection, as `GET /api/v1/connections` shows it.
pub(crate) async fn the_connection(app: &TestApp, token: &str) -> Value {
    let mut connections: Vec<Value> = app
        .get_authed("/api/v1/connections", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(connections.len(), 1);
    connections.remove(0)
}

async fn reporting_currency(app: &TestApp, token: &str) -> Value {
    the_connection(app, token).await["reporting_currency"].clone()
}

async fn the_reporting_currency_is_set_read_and_reset(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (ann, _) = app.sign_up_connected("ann@example.com", API_KEY).await;
    assert_eq!(reporting_currency(&app, &ann).await, Value::Null);

    let response = patch(&app, &ann, "demo", json!({"reporting_currency": "EUR"})).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reporting_currency"], "eur");
    assert_eq!(body["source"], "demo");
    assert_eq!(reporting_currency(&app, &ann).await, "eur");
    // A field left out keeps its value.
    let response = patch(&app, &ann, "demo", json!({})).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(reporting_currency(&app, &ann).await, "eur");

    // Mistakes change nothing.
    for bad in ["euro", "e1", "", "e u", "€€€"] {
        let response = patch(&app, &ann, "demo", json!({"reporting_currency": bad})).await;
        assert_error(response, 400, "invalid_currency").await;
    }
    let response = patch(&app, &ann, "demo", json!({"reporting_currency": 978})).await;
    assert_error(response, 400, "invalid_body").await;
    let response = patch(&app, &ann, "demo", json!({"currency": "usd"})).await;
    assert_error(response, 400, "invalid_body").await;
    let malformed = app
        .client
        .patch(app.url("/api/v1/connections/demo"))
        .bearer_auth(&ann)
        .header("content-type", "application/json")
        .body("{\"reporting_currency\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, "invalid_json").await;
    let response = patch(
        &app,
        &ann,
        "nosuchsource",
        json!({"reporting_currency": "usd"}),
    )
    .await;
    assert_error(response, 404, "unknown_source").await;
    assert_eq!(reporting_currency(&app, &ann).await, "eur");

    // Another user reaches only their own connection.
    let bob = app.sign_up("bob@example.com").await.access_token;
    let response = patch(&app, &bob, "demo", json!({"reporting_currency": "gbp"})).await;
    assert_error(response, 404, "not_connected").await;
    assert_eq!(reporting_currency(&app, &ann).await, "eur");

    // The sources page shows it too; null goes back to the default.
    let sources = app.get_sources(&ann).await;
    let demo = sources.iter().find(|source| source.slug == "demo").unwrap();
    let connection = demo.connection.as_ref().unwrap();
    assert_eq!(connection.reporting_currency.as_deref(), Some("eur"));
    let response = patch(&app, &ann, "demo", json!({"reporting_currency": null})).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reporting_currency"], Value::Null);
    assert_eq!(reporting_currency(&app, &ann).await, Value::Null);
}

async fn put_csv(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/admin/fx-rates{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn summary(app: &TestApp, token: &str) -> Value {
    let response = app.get_authed("/api/v1/admin/fx-rates", token).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn administrators_replace_the_rates_with_a_csv(kind: DbKind) {
    let app = spawn_app(kind).await;
    // In `local` the first account is an administrator.
    let admin = app.sign_up("admin@example.com").await.access_token;
    let bob = app.sign_up("bob@example.com").await.access_token;
    let empty =
        json!({"rates": 0, "bases": [], "currencies": [], "first_day": null, "last_day": null});
    assert_eq!(summary(&app, &admin).await, empty);

    let csv = "date,currency,rate\n2026-09-01,eur,0.5\n2026-09-15,EUR,0.8\r\n2026-09-15,gbp,0.75\n";
    let response = put_csv(&app, &bob, "", "text/csv", csv).await;
    assert_error(response, 403, "forbidden").await;
    assert_error(
        app.get_authed("/api/v1/admin/fx-rates", &bob).await,
        403,
        "forbidden",
    )
    .await;

    let response = put_csv(&app, &admin, "", "text/csv", csv).await;
    assert_eq!(response.status().as_u16(), 200);
    let stored: Value = response.json().await.unwrap();
    let expected = json!({
        "rates": 3, "bases": ["usd"], "currencies": ["eur", "gbp"],
        "first_day": "2026-09-01", "last_day": "2026-09-15"
    });
    assert_eq!(stored, expected);
    assert_eq!(summary(&app, &admin).await, expected);

    // A wrong line refuses the whole file, naming the line; nothing changes.
    for (body, line) in [
        (
            "date,currency,rate\n2026-09-01,eur,0.5\n2026-09-31,eur,0.5\n",
            3,
        ),
        ("date,currency,rate\n2026-09-01,eur,-2\n", 2),
        ("date,currency,rate\n2026-09-01,eur,inf\n", 2),
        ("date,currency,rate\n2026-09-01,euro,1\n", 2),
        ("date,currency\n2026-09-01,eur\n", 1),
        (
            "date,currency,rate\n2026-09-01,eur,1\n2026-09-01,eur,2\n",
            3,
        ),
    ] {
        let response = put_csv(&app, &admin, "", "text/csv", body).await;
        let error = assert_error(response, 400, "invalid_csv").await;
        assert!(error.message.contains(&format!("line {line}")), "{error:?}");
    }
    let response = put_csv(&app, &admin, "", "application/json", csv).await;
    assert_error(response, 415, "unsupported_media_type").await;
    let response = put_csv(&app, &admin, "?base=dollars", "text/csv", csv).await;
    assert_error(response, 400, "invalid_currency").await;
    let huge = format!("date,currency,rate\n{}", "x".repeat(10 * 1024 * 1024));
    let response = put_csv(&app, &admin, "", "text/csv", &huge).await;
    assert_error(response, 413, "payload_too_large").await;
    assert_eq!(summary(&app, &admin).await, expected);

    // A PUT replaces everything, here with rates against the euro.
    let response = put_csv(
        &app,
        &admin,
        "?base=EUR",
        "text/csv; charset=utf-8",
        "date,currency,rate\n2026-10-01,usd,1.1\n",
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let replaced = json!({
        "rates": 1, "bases": ["eur"], "currencies": ["usd"],
        "first_day": "2026-10-01", "last_day": "2026-10-01"
    });
    assert_eq!(response.json::<Value>().await.unwrap(), replaced);
    // A header alone removes them all.
    let response = put_csv(&app, &admin, "", "text/csv", "date,currency,rate\n").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(summary(&app, &admin).await, empty);
}

/// A sandbox (seed 3, its clock at `MIDNIGHT`) connected with an API key and synced.
async fn synced_sandbox(kind: DbKind) -> (TestApp, String, Connection, Sandbox, String) {
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 3,
        size: 120,
        api_key: Some(API_KEY.into()),
        now: Some(MIDNIGHT),
        ..Default::default()
    });
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    let base = format!("http://127.0.0.1:{port}");
    let (app, token, connection) = connected_app(kind, base.clone(), |_| {}).await;
    app.run_syncs().await;
    (app, token, connection, sandbox, base)
}

/// The sandbox's rates against USD today, as its API serves them.
async fn sandbox_rates(base: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/exchange_rates/usd"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["rates"].clone()
}

/// The connection's stored rates: (day, base, currency, rate) as text, in order.
async fn stored_rates(app: &TestApp) -> Vec<String> {
    app.database
        .texts(
            "SELECT CAST(day AS TEXT) || ' ' || base || ' ' || currency || ' ' || CAST(id AS TEXT) \
             FROM fx_rates WHERE connection_id IS NOT NULL ORDER BY day, currency",
        )
        .await
}

async fn a_sync_keeps_the_providers_rates_once_a_day(kind: DbKind) {
    let (app, _token, connection, sandbox, base) = synced_sandbox(kind).await;
    let first = stored_rates(&app).await;
    // The sandbox serves eleven currencies besides the dollar, its account's default.
    assert_eq!(first.len(), 11, "{first:?}");
    assert!(
        first.iter().all(|row| row.starts_with("2026-09-22 usd ")),
        "{first:?}"
    );
    let stored = app
        .repository
        .connection_by_id(connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.account_currency.as_deref(), Some("usd"));
    let served = sandbox_rates(&base).await;
    let euro = app
        .database
        .texts("SELECT CAST(rate AS TEXT) FROM fx_rates WHERE currency = 'eur'")
        .await;
    assert_eq!(
        euro[0].parse::<f64>().unwrap(),
        served["eur"].as_f64().unwrap()
    );

    // Another sync the same day does not ask again (the rows would be new).
    allmetrics::sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    app.run_syncs().await;
    assert_eq!(stored_rates(&app).await, first);

    // The next day (the server's day is claimed anew; the sandbox's clock moves on), the next
    // day's rates are kept beside the first.
    sandbox.advance_clock(std::time::Duration::from_secs(86_400));
    app.database
        .execute("UPDATE connections SET fx_rates_day = NULL")
        .await;
    allmetrics::sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    app.run_syncs().await;
    let both = stored_rates(&app).await;
    assert_eq!(both.len(), 22, "{both:?}");
    assert_eq!(both[..11], first[..]);
    assert!(both[11..]
        .iter()
        .all(|row| row.starts_with("2026-09-23 usd ")));
    let next = sandbox_rates(&base).await;
    assert_ne!(next["eur"], served["eur"], "rates move from day to day");
}

/// The day's end (the next day's first instant, UTC) of an ISO date.
fn day_end(day: &str) -> i64 {
    let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    (day + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// MRR at `at` converted by hand: each subscription's monthly value (minor units of its own
/// currency) times its currency's rate (`rate_of`), rounded half to even, summed.
fn converted_mrr(sandbox: &Sandbox, at: i64, rate_of: &dyn Fn(&str) -> f64) -> f64 {
    let generator = sandbox.generator();
    (0..generator.count(ObjectKind::Subscription))
        .filter(|index| generator.exists_at(ObjectKind::Subscription, *index, at))
        .map(|index| {
            let subscription = generator.object_at(ObjectKind::Subscription, index, at);
            let unbilled = unbilled_at(sandbox, index, &subscription);
            let rate = rate_of(subscription["currency"].as_str().unwrap());
            (monthly_value_at(&subscription, at, unbilled) as f64 * rate).round_ties_even()
        })
        .sum()
}

async fn subscription_metrics_are_converted_with_the_stored_rates(kind: DbKind) {
    let (app, token, _connection, sandbox, base) = synced_sandbox(kind).await;
    let window = format!("total_days=30&end={LAST_DAY}");
    let mrr = metric_of(&app, &token, "mrr", "").await;
    let last = |series: &Value| *values(series).last().unwrap();

    // By default, the account's currency: the dollar, unconverted.
    // Stripe's rates against the dollar: units of each currency one dollar buys.
    let served = sandbox_rates(&base).await;
    let per_usd = |currency: &str| {
        if currency == "usd" {
            1.0
        } else {
            served[currency].as_f64().unwrap()
        }
    };
    let usd = series(&app, &token, mrr, &window).await;
    assert_eq!(usd["meta"]["currency"], "usd");
    let to_usd = |currency: &str| 1.0 / per_usd(currency);
    assert_eq!(last(&usd), Some(converted_mrr(&sandbox, MIDNIGHT, &to_usd)));

    // In euros with the connection's own rates (the sync's day, the only one, applies before):
    // the dollar directly, the pound through the dollar.
    let response = patch(&app, &token, "demo", json!({"reporting_currency": "eur"})).await;
    assert_eq!(response.status().as_u16(), 200);
    let to_eur = |currency: &str| per_usd("eur") / per_usd(currency);
    let eur = series(&app, &token, mrr, &window).await;
    assert_eq!(eur["meta"]["currency"], "eur");
    assert_eq!(last(&eur), Some(converted_mrr(&sandbox, MIDNIGHT, &to_eur)));

    // The administrators' rates fill the days the connection's lack: 0.5 from 2026-09-01,
    // 0.8 from 2026-09-15 (each day's value at that day's rate).
    // Ann, the first to sign up, is an administrator.
    let response = put_csv(
        &app,
        &token,
        "",
        "text/csv",
        "date,currency,rate\n2026-09-01,eur,0.5\n2026-09-15,eur,0.8\n",
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let eur = series(&app, &token, mrr, &window).await;
    let days: Vec<String> = eur["labelX"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| day.as_str().unwrap().to_string())
        .collect();
    let answer = values(&eur);
    for (day, rate) in [
        ("2026-08-23", 0.5),
        ("2026-09-10", 0.5),
        ("2026-09-14", 0.5),
        ("2026-09-15", 0.8),
        (LAST_DAY, 0.8),
    ] {
        let index = days.iter().position(|label| label == day).unwrap();
        // The administrators state only the euro: the pound keeps the connection's rate.
        let rate_of = |currency: &str| match currency {
            "usd" => rate,
            other => to_eur(other),
        };
        assert_eq!(
            answer[index],
            Some(converted_mrr(&sandbox, day_end(day), &rate_of)),
            "MRR on {day}"
        );
    }

    // The movements show the rate's change on the day it changed, and only then.
    let movements = metric_of(&app, &token, "mrr_movements", "").await;
    let movements = series(&app, &token, movements, &window).await;
    let fx = movements["labelZ"]["fx"].as_array().unwrap();
    for (index, day) in days.iter().enumerate() {
        let effect = fx[index].as_f64().unwrap();
        if day == "2026-09-15" {
            assert!(
                effect > 0.0,
                "a dearer dollar raises MRR in euros: {effect}"
            );
        } else {
            assert_eq!(effect, 0.0, "no rate change on {day}");
        }
    }

    // A currency without any rate cannot be converted to.
    let response = patch(&app, &token, "demo", json!({"reporting_currency": "isk"})).await;
    assert_eq!(response.status().as_u16(), 200);
    let response = app
        .get_authed(&format!("/api/v1/metrics/{mrr}/series?{window}"), &token)
        .await;
    let error = assert_error(response, 400, "missing_fx_rate").await;
    assert!(error.message.contains("`usd`"), "{error:?}");
    // Grouped by currency, each group is in its own money and needs no rate; the total's counts
    // hold, its amounts do not exist.
    let by_currency = metric_of(&app, &token, "mrr", "currency").await;
    let by_currency = series(&app, &token, by_currency, &window).await;
    assert!(values(&by_currency).iter().all(Option::is_none));
    assert!(by_currency["labelZ"].as_object().unwrap().len() >= 2);
    assert!(by_currency["meta"].get("currency").is_none());
    let customers = metric_of(&app, &token, "active_customers", "currency").await;
    let customers = series(&app, &token, customers, &window).await;
    assert!(values(&customers)
        .iter()
        .all(|count| count.is_some_and(|count| count > 0.0)));
    // The movements are the converted total's, whatever the grouping.
    let movements = metric_of(&app, &token, "mrr_movements", "currency").await;
    let response = app
        .get_authed(
            &format!("/api/v1/metrics/{movements}/series?{window}"),
            &token,
        )
        .await;
    assert_error(response, 400, "missing_fx_rate").await;
    // Back to the default.
    let response = patch(&app, &token, "demo", json!({"reporting_currency": null})).await;
    assert_eq!(response.status().as_u16(), 200);
    let back = series(&app, &token, mrr, &window).await;
    assert_eq!(back["meta"]["currency"], "usd");
    assert_eq!(back["labelX"], usd["labelX"]);
    // The euro now has the administrators' rate of 2026-09-15 (0.8 euros a dollar) on the last
    // day; the pound the connection's.
    let rate_of = |currency: &str| match currency {
        "eur" => 1.0 / 0.8,
        other => to_usd(other),
    };
    assert_eq!(
        last(&back),
        Some(converted_mrr(&sandbox, MIDNIGHT, &rate_of))
    );
}
