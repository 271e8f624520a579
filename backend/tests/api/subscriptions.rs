//! Subscription metrics (MRR, movements, customers, churn, ARPU, LTV, trials) of a Stripe-compatible
//! source, against an independent computation from the subscriptions the sandbox serves.

use allmetrics_sandbox::{ObjectKind, Sandbox, SandboxConfig};
use serde_json::{json, Value};

use crate::helpers::{assert_error, DbKind, TestApp};
use crate::on_both_databases;
use crate::sync::connected_app;

on_both_databases!(
    subscription_metrics_match_the_subscriptions_every_day_of_two_years,
    subscription_metrics_match_the_subscriptions_of_the_last_day,
    subscription_metrics_are_consistent_every_day,
    subscription_metrics_refuse_what_does_not_apply,
);

/// Midnight UTC: the sandbox's "now", so that each subscription's current state is its state at
/// the end of the window's last day.
pub(crate) const MIDNIGHT: i64 = 1_790_035_200;
pub(crate) const LAST_DAY: &str = "2026-09-21";

pub(crate) async fn sandbox_app(kind: DbKind, seed: u64) -> (TestApp, String, Sandbox) {
    let sandbox = Sandbox::new(SandboxConfig {
        seed,
        size: 120,
        api_key: Some(crate::fake_provider::VALID_API_KEY.into()),
        now: Some(MIDNIGHT),
        ..Default::default()
    });
    let (server, port) = sandbox.bind("127.0.0.1", 0).unwrap();
    tokio::spawn(server);
    let (app, token, _) = connected_app(kind, format!("http://127.0.0.1:{port}"), |_| {}).await;
    app.run_syncs().await;
    (app, token, sandbox)
}

async fn create(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.call(reqwest::Method::POST, "/api/v1/metrics", token, Some(body))
        .await
}

pub(crate) async fn metric_of(app: &TestApp, token: &str, kind: &str, field_name: &str) -> i64 {
    let response = create(
        app,
        token,
        json!({"name": kind, "source": "demo", "kind": kind, "field_name": field_name}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 201);
    let metric: allmetrics_common::Metric = response.json().await.unwrap();
    assert_eq!(metric.kind, kind);
    assert_eq!((metric.object_name, metric.operator), (None, None));
    metric.id
}

pub(crate) async fn series(app: &TestApp, token: &str, id: i64, query: &str) -> Value {
    let response = app
        .get_authed(&format!("/api/v1/metrics/{id}/series?{query}"), token)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

pub(crate) fn values(series: &Value) -> Vec<Option<f64>> {
    series["labelY"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::as_f64)
        .collect()
}

/// Whether the sandbox's subscription `index` is in a billing period that began while its
/// collection was paused (such a renewal is not billed).
pub(crate) fn unbilled_at(sandbox: &Sandbox, index: u64, subscription: &Value) -> bool {
    let period_start = subscription["items"]["data"][0]["current_period_start"]
        .as_i64()
        .or_else(|| subscription["current_period_start"].as_i64());
    period_start.is_some_and(|start| {
        let generator = sandbox.generator();
        !generator.object_at(ObjectKind::Subscription, index, start)["pause_collection"].is_null()
    })
}

/// A subscription's monthly value at `at`, computed apart from the server: licensed recurring
/// items, unit amount x quantity, a year is twelve months, `interval_count` divides; less the
/// forever and repeating discounts in force (once discounts do not lower MRR); rounded half to
/// even per subscription. Only active and past-due subscriptions pay (trials, unpaid,
/// incomplete and canceled ones do not), and only for periods that were billed (`unbilled`: the
/// period began while collection was paused).
pub(crate) fn monthly_value_at(subscription: &Value, at: i64, unbilled: bool) -> i64 {
    let status = subscription["status"].as_str().unwrap();
    if !matches!(status, "active" | "past_due") || unbilled {
        return 0;
    }
    // An exact fraction: numerator / denominator (minor units a month).
    let (mut numerator, mut denominator) = (0i128, 1i128);
    // Months one billing period lasts, as a fraction, for amounts off per period.
    let mut period_months = (1i128, 1i128);
    for item in subscription["items"]["data"].as_array().unwrap() {
        let price = &item["price"];
        let recurring = &price["recurring"];
        if recurring.is_null() || recurring["usage_type"] == "metered" {
            continue;
        }
        let amount = i128::from(price["unit_amount"].as_i64().unwrap_or(0))
            * i128::from(item["quantity"].as_i64().unwrap_or(1));
        let count = i128::from(recurring["interval_count"].as_i64().unwrap_or(1));
        // Months in one billing period: (months numerator, denominator).
        let months = match recurring["interval"].as_str().unwrap() {
            "month" => (count, 1),
            "year" => (12 * count, 1),
            "week" => (12 * count, 52),
            "day" => (12 * count, 365),
            other => panic!("interval {other}"),
        };
        period_months = months;
        // amount / months = amount * months.1 / months.0
        numerator = numerator * months.0 + amount * months.1 * denominator;
        denominator *= months.0;
    }
    for discount in subscription["discounts"].as_array().into_iter().flatten() {
        let coupon = &discount["coupon"];
        let started = discount["start"].as_i64().unwrap_or(i64::MIN) <= at;
        let ended = discount["end"].as_i64().is_some_and(|end| at >= end);
        if coupon["duration"] == "once" || !started || ended {
            continue;
        }
        if let Some(percent) = coupon["percent_off"].as_f64() {
            let kept = 10_000 - (percent * 100.0).round() as i128;
            numerator *= kept;
            denominator *= 10_000;
        } else if let Some(off) = coupon["amount_off"].as_i64() {
            // Off each billing period: off / months a month.
            let off = i128::from(off);
            numerator = numerator * period_months.0 - off * period_months.1 * denominator;
            denominator *= period_months.0;
            numerator = numerator.max(0);
        }
    }
    let whole = numerator.div_euclid(denominator);
    let rest = numerator.rem_euclid(denominator) * 2;
    let rounded = match rest.cmp(&denominator) {
        std::cmp::Ordering::Less => whole,
        std::cmp::Ordering::Greater => whole + 1,
        std::cmp::Ordering::Equal => whole + (whole % 2),
    };
    i64::try_from(rounded).unwrap()
}

/// What one unit of each currency is worth in USD (the reporting currency: the account's), from
/// the rates the sandbox's `GET /v1/exchange_rates/usd` serves, which the sync keeps.
pub(crate) fn usd_rates(sandbox: &Sandbox) -> std::collections::BTreeMap<String, f64> {
    sandbox
        .exchange_rates("usd")
        .unwrap()
        .into_iter()
        .map(|(currency, rate)| (currency.to_string(), 1.0 / rate))
        .chain([("usd".to_string(), 1.0)])
        .collect()
}

/// A subscription's monthly value in USD: its own, converted and rounded half to even.
pub(crate) fn in_usd(
    subscription: &Value,
    value: i64,
    rates: &std::collections::BTreeMap<String, f64>,
) -> i64 {
    let currency = subscription["currency"].as_str().unwrap();
    if currency == "usd" {
        return value;
    }
    (value as f64 * rates[currency]).round_ties_even() as i64
}

/// One day's figures, computed from the state of every subscription the sandbox served at the
/// day's end (and the day before).
#[derive(Clone, Debug, Default)]
struct DayFigures {
    mrr: i64,
    subscribers: i64,
    customers: i64,
    new_customers: i64,
    churned_customers: i64,
    /// new, expansion, reactivation, contraction, churn (customer level; one currency: no fx).
    movements: [i64; 5],
    trials_started: i64,
    trials_converted: i64,
}

const MOVEMENT_NAMES: [&str; 5] = ["new", "expansion", "reactivation", "contraction", "churn"];

/// Each day's figures (see [`DayFigures`]), in USD.
fn independent_days(sandbox: &Sandbox, day_ends: &[i64]) -> Vec<DayFigures> {
    use std::collections::{BTreeMap, BTreeSet};
    let rates = usd_rates(sandbox);
    let generator = sandbox.generator();
    let count = generator.count(ObjectKind::Subscription);
    let mut had_mrr = BTreeSet::new();
    let mut previous: BTreeMap<String, i64> = BTreeMap::new();
    let mut trialing_before: BTreeSet<u64> = BTreeSet::new();
    let mut days = Vec::new();
    // One day before the first: the first day's movements compare with it.
    let before = day_ends[0] - 86_400;
    for (sample, at) in std::iter::once(&before).chain(day_ends).enumerate() {
        let mut customers: BTreeMap<String, i64> = BTreeMap::new();
        let mut day = DayFigures::default();
        let mut trialing = BTreeSet::new();
        for (index, subscription) in (0..count)
            .filter(|i| generator.exists_at(ObjectKind::Subscription, *i, *at))
            .map(|i| (i, generator.object_at(ObjectKind::Subscription, i, *at)))
        {
            let unbilled = unbilled_at(sandbox, index, &subscription);
            let value = in_usd(
                &subscription,
                monthly_value_at(&subscription, *at, unbilled),
                &rates,
            );
            if value > 0 {
                day.subscribers += 1;
                *customers
                    .entry(subscription["customer"].as_str().unwrap().to_string())
                    .or_default() += value;
                if trialing_before.contains(&index) {
                    day.trials_converted += 1;
                }
            }
            if subscription["status"] == "trialing" {
                trialing.insert(index);
                if !trialing_before.contains(&index) {
                    day.trials_started += 1;
                }
            }
        }
        let everyone: BTreeSet<&String> = customers.keys().chain(previous.keys()).collect();
        for customer in everyone {
            let then = previous.get(customer).copied().unwrap_or(0);
            let now = customers.get(customer).copied().unwrap_or(0);
            let movement = match (then > 0, now > 0) {
                (false, true) if had_mrr.contains(customer) => 2,
                (false, true) => {
                    day.new_customers += 1;
                    0
                }
                (true, false) => {
                    day.churned_customers += 1;
                    4
                }
                (true, true) if now > then => 1,
                (true, true) if now < then => 3,
                _ => continue,
            };
            day.movements[movement] += now - then;
        }
        day.mrr = customers.values().sum();
        day.customers = i64::try_from(customers.len()).unwrap();
        had_mrr.extend(customers.keys().cloned());
        if sample > 0 {
            days.push(day);
        }
        previous = customers;
        trialing_before = trialing;
    }
    days
}

/// Every metric's value on day `s` of `days` as the API writes it (`None`: null), by the
/// definitions of the README: rates over the 30 days before, ARPU and LTV rounded half to even to
/// the minor unit, rates to 1e-6.
fn expected_value(kind: &str, days: &[DayFigures], s: usize) -> Option<f64> {
    let day = &days[s];
    let month_before = s.checked_sub(30);
    let sum = |f: &dyn Fn(&DayFigures) -> i64| -> i64 { days[s - 29..=s].iter().map(f).sum() };
    let ratio = |numerator: i64, denominator: i64| {
        (denominator != 0).then(|| numerator as f64 / denominator as f64)
    };
    let customer_churn =
        || month_before.and_then(|b| ratio(sum(&|d| d.churned_customers), days[b].customers));
    let arpu = || ratio(day.mrr, day.customers);
    let rate = |value: f64| (value * 1e6).round_ties_even() / 1e6;
    match kind {
        "mrr" => Some(day.mrr as f64),
        "arr" => Some((12 * day.mrr) as f64),
        "mrr_movements" => Some(day.movements.iter().sum::<i64>() as f64),
        "active_subscribers" => Some(day.subscribers as f64),
        "active_customers" => Some(day.customers as f64),
        "new_customers" => Some(day.new_customers as f64),
        "churned_customers" => Some(day.churned_customers as f64),
        "trials" => Some(day.trials_started as f64),
        "customer_churn_rate" => customer_churn().map(rate),
        "revenue_churn_rate" => month_before
            .and_then(|b| {
                let lost = -sum(&|d| d.movements[3] + d.movements[4]);
                ratio(lost, days[b].mrr)
            })
            .map(rate),
        "arpu" => arpu().map(f64::round_ties_even),
        "ltv" => customer_churn()
            .filter(|churn| *churn > 0.0)
            .and_then(|churn| arpu().map(|arpu| (arpu / churn).round_ties_even())),
        other => panic!("kind {other}"),
    }
}

/// Every day of two years, every metric, against the subscriptions' true states (the sandbox's
/// state of each subscription at each day's end), for several seeds.
async fn subscription_metrics_match_the_subscriptions_every_day_of_two_years(kind: DbKind) {
    let mut reactivations = 0;
    for seed in [3, 11, 29] {
        let (app, token, sandbox) = sandbox_app(kind, seed).await;
        let kinds = allmetrics_common::SUBSCRIPTION_KINDS;
        let mut ids = Vec::new();
        for kind in kinds {
            ids.push(metric_of(&app, &token, kind, "").await);
        }
        let last = chrono::NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d").unwrap();
        // Every day since the account's first, so that "new" and "reactivation" know the
        // whole past.
        let day_end = |day: chrono::NaiveDate| {
            (day + chrono::Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
        };
        let opened = chrono::DateTime::from_timestamp(sandbox.generator().start(), 0)
            .unwrap()
            .date_naive();
        let all_days: Vec<chrono::NaiveDate> = (0..)
            .map(|offset| opened + chrono::Duration::days(offset))
            .take_while(|day| *day <= last)
            .collect();
        let all_ends: Vec<i64> = all_days.iter().map(|day| day_end(*day)).collect();
        let truth = independent_days(&sandbox, &all_ends);
        let happened = |f: &dyn Fn(&DayFigures) -> i64| truth.iter().map(f).sum::<i64>();
        let (churned, reactivated, expanded, contracted, converted) = (
            happened(&|d| d.churned_customers),
            happened(&|d| i64::from(d.movements[2] > 0)),
            happened(&|d| i64::from(d.movements[1] > 0)),
            happened(&|d| i64::from(d.movements[3] < 0)),
            happened(&|d| d.trials_converted),
        );
        reactivations += reactivated;
        assert!(
            churned > 0 && expanded > 0 && contracted > 0 && converted > 0,
            "seed {seed}: churn, expansion, contraction and conversions happen"
        );
        // Two years, as two windows of 365 days (a daily window holds at most 366).
        for end in [last - chrono::Duration::days(365), last] {
            let first = end - chrono::Duration::days(364);
            let offset = all_days.iter().position(|day| *day == first).unwrap();
            let window = format!("total_days=365&end={end}");
            for (kind, id) in kinds.iter().zip(&ids) {
                let answer = series(&app, &token, *id, &window).await;
                let got = values(&answer);
                assert_eq!(got.len(), 365);
                for (day, value) in got.iter().enumerate() {
                    assert_eq!(
                        *value,
                        expected_value(kind, &truth, offset + day),
                        "seed {seed}: {kind} on {}",
                        first + chrono::Duration::days(day as i64)
                    );
                }
                let groups = |names: &[&str], pick: &dyn Fn(&DayFigures, usize) -> i64| {
                    for (g, name) in names.iter().enumerate() {
                        let column: Vec<Option<f64>> = answer["labelZ"][name]
                            .as_array()
                            .unwrap_or_else(|| panic!("seed {seed}: {kind} has {name}"))
                            .iter()
                            .map(Value::as_f64)
                            .collect();
                        assert_eq!(column.len(), 365);
                        for (day, value) in column.iter().enumerate() {
                            assert_eq!(
                                *value,
                                Some(pick(&truth[offset + day], g) as f64),
                                "seed {seed}: {kind} {name} on {}",
                                first + chrono::Duration::days(day as i64)
                            );
                        }
                    }
                };
                match *kind {
                    "mrr_movements" => {
                        groups(&MOVEMENT_NAMES, &|d, g| d.movements[g]);
                        groups(&["fx"], &|_, _| 0);
                    }
                    "trials" => groups(&["started", "converted"], &|d, g| {
                        [d.trials_started, d.trials_converted][g]
                    }),
                    _ => {}
                }
            }
        }
    }
    assert!(reactivations > 0, "customers come back in some seed");
}

async fn subscription_metrics_match_the_subscriptions_of_the_last_day(kind: DbKind) {
    for seed in [3, 11, 29] {
        let (app, token, sandbox) = sandbox_app(kind, seed).await;
        let generator = sandbox.generator();
        let subscriptions: Vec<(u64, Value)> = (0..generator.count(ObjectKind::Subscription))
            .filter(|index| generator.exists_at(ObjectKind::Subscription, *index, MIDNIGHT))
            .map(|index| {
                (
                    index,
                    generator.object_at(ObjectKind::Subscription, index, MIDNIGHT),
                )
            })
            .collect();
        let rates = usd_rates(&sandbox);
        // (customer, currency, own monthly value, in USD)
        let paying: Vec<(&str, &str, i64, i64)> = subscriptions
            .iter()
            .map(|(index, s)| {
                let unbilled = unbilled_at(&sandbox, *index, s);
                let own = monthly_value_at(s, MIDNIGHT, unbilled);
                (
                    s["customer"].as_str().unwrap(),
                    s["currency"].as_str().unwrap(),
                    own,
                    in_usd(s, own, &rates),
                )
            })
            .filter(|(_, _, own, _)| *own > 0)
            .collect();
        let mrr: i64 = paying.iter().map(|(_, _, _, usd)| usd).sum();
        let mut own_currencies: std::collections::BTreeMap<&str, i64> = Default::default();
        for (_, currency, own, _) in &paying {
            *own_currencies.entry(currency).or_default() += own;
        }
        assert!(
            own_currencies.len() >= 2,
            "seed {seed}: several currencies bill: {own_currencies:?}"
        );
        let mut customers: Vec<&str> = paying.iter().map(|(customer, ..)| *customer).collect();
        customers.sort_unstable();
        customers.dedup();
        assert!(mrr > 0, "seed {seed}: the sandbox bills subscriptions");

        let window = format!("total_days=30&end={LAST_DAY}");
        let last = |series: &Value| *values(series).last().unwrap();
        let mrr_series = series(
            &app,
            &token,
            metric_of(&app, &token, "mrr", "").await,
            &window,
        )
        .await;
        assert_eq!(mrr_series["meta"]["kind"], "mrr");
        assert_eq!(mrr_series["meta"]["currency"], "usd");
        assert_eq!(mrr_series["meta"]["partial"], false);
        assert_eq!(last(&mrr_series), Some(mrr as f64), "seed {seed}: MRR");
        let arr = series(
            &app,
            &token,
            metric_of(&app, &token, "arr", "").await,
            &window,
        )
        .await;
        assert_eq!(last(&arr), Some(12.0 * mrr as f64), "seed {seed}: ARR");
        let subscribers = metric_of(&app, &token, "active_subscribers", "").await;
        let subscribers = series(&app, &token, subscribers, &window).await;
        assert_eq!(last(&subscribers), Some(paying.len() as f64), "seed {seed}");
        let active = metric_of(&app, &token, "active_customers", "").await;
        let active = series(&app, &token, active, &window).await;
        assert_eq!(last(&active), Some(customers.len() as f64), "seed {seed}");
        let arpu = series(
            &app,
            &token,
            metric_of(&app, &token, "arpu", "").await,
            &window,
        )
        .await;
        let expected_arpu = (mrr as f64 / customers.len() as f64).round_ties_even();
        assert_eq!(last(&arpu), Some(expected_arpu), "seed {seed}: ARPU");

        // By currency, each group in its own money; by plan, every price that bills.
        let by_currency = metric_of(&app, &token, "mrr", "currency").await;
        let by_currency = series(&app, &token, by_currency, &window).await;
        let groups: std::collections::BTreeMap<&str, i64> = by_currency["labelZ"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(currency, values)| {
                let last = values.as_array().unwrap().last().unwrap().as_f64().unwrap();
                (currency.as_str(), last as i64)
            })
            .filter(|(_, value)| *value != 0)
            .collect();
        assert_eq!(groups, own_currencies, "seed {seed}: MRR by currency");
        assert!(by_currency["meta"].get("currency").is_none());
    }
}

async fn subscription_metrics_are_consistent_every_day(kind: DbKind) {
    let (app, token, _sandbox) = sandbox_app(kind, 5).await;
    let window = format!("total_days=120&end={LAST_DAY}");
    let mrr = values(
        &series(
            &app,
            &token,
            metric_of(&app, &token, "mrr", "").await,
            &window,
        )
        .await,
    );
    let movements_id = metric_of(&app, &token, "mrr_movements", "").await;
    let movements = series(&app, &token, movements_id, &window).await;
    let groups = movements["labelZ"].as_object().unwrap();
    let mut names: Vec<&String> = groups.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "churn",
            "contraction",
            "expansion",
            "fx",
            "new",
            "reactivation"
        ]
    );
    let net = values(&movements);
    for day in 1..mrr.len() {
        let change = mrr[day].unwrap() - mrr[day - 1].unwrap();
        assert_eq!(
            net[day],
            Some(change),
            "day {day}: net new MRR is the change of MRR"
        );
        let sum: f64 = groups
            .values()
            .map(|values| values[day].as_f64().unwrap())
            .sum();
        assert_eq!(sum, change, "day {day}: the movements add up");
        for positive in ["new", "expansion", "reactivation"] {
            assert!(groups[positive][day].as_f64().unwrap() >= 0.0);
        }
        for negative in ["contraction", "churn"] {
            assert!(groups[negative][day].as_f64().unwrap() <= 0.0);
        }
    }
    // A week's MRR is its last day's; a week's movements are its days' sum.
    let weekly = format!("{window}&interval=week");
    let weekly_mrr = series(&app, &token, 1, &weekly).await;
    let weekly_net = values(&series(&app, &token, movements_id, &weekly).await);
    let labels = weekly_mrr["labelX"].as_array().unwrap().len();
    assert_eq!(weekly_net.len(), labels);
    assert_eq!(weekly_mrr["meta"]["interval"], "week");
    // The second answer of a window is the cache's.
    let again = app
        .get_authed(&format!("/api/v1/metrics/1/series?{window}"), &token)
        .await;
    assert_eq!(again.headers()["x-cache"], "hit");
}

async fn subscription_metrics_refuse_what_does_not_apply(kind: DbKind) {
    let (app, token, _sandbox) = sandbox_app(kind, 5).await;
    let cases = [
        (
            json!({"name": "x", "source": "demo", "kind": "mrrr"}),
            400,
            "invalid_kind",
        ),
        (
            json!({"name": "x", "source": "demo", "kind": "mrr", "object_name": "Charge"}),
            400,
            "not_for_kind",
        ),
        (
            json!({"name": "x", "source": "demo", "kind": "mrr", "operator": "sum"}),
            400,
            "not_for_kind",
        ),
        (
            json!({"name": "x", "source": "demo", "kind": "mrr", "field_name": "status"}),
            400,
            "invalid_field",
        ),
        (
            json!({"name": "x", "source": "demo-analytics", "kind": "mrr"}),
            400,
            "subscriptions_not_supported",
        ),
        (
            json!({"name": "x", "source": "nope", "kind": "mrr"}),
            404,
            "unknown_source",
        ),
        (
            json!({"name": "x", "source": "demo"}),
            400,
            "object_name_required",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(create(&app, &token, body).await, status, code).await;
    }
    let metrics: Vec<allmetrics_common::Metric> = app
        .get_authed("/api/v1/metrics", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(metrics.is_empty(), "nothing refused was stored");

    // A subscription metric changes its name and grouping only.
    let id = metric_of(&app, &token, "mrr", "").await;
    let path = format!("/api/v1/metrics/{id}");
    let renamed = app
        .call(
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(json!({"name": "MRR by plan", "field_name": "plan"})),
        )
        .await;
    assert_eq!(renamed.status().as_u16(), 200);
    let renamed: allmetrics_common::Metric = renamed.json().await.unwrap();
    assert_eq!(
        (renamed.kind.as_str(), renamed.field_name.as_str()),
        ("mrr", "plan")
    );
    let refused = app
        .call(
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(json!({"operator": "sum"})),
        )
        .await;
    assert_error(refused, 400, "not_for_kind").await;
}
