//! How a connection's subscription metrics are defined (`subscription_settings` of
//! `PATCH /api/v1/connections/{slug}`): kept, validated, and applied to the series, against a
//! computation from the subscriptions the sandbox serves.

use allmetrics_sandbox::{ObjectKind, Sandbox, SandboxConfig};
use serde_json::{json, Value};

use crate::helpers::{assert_error, DbKind, TestApp};
use crate::on_both_databases;
use crate::subscriptions::{
    in_usd, metric_of, monthly_value_at, sandbox_app, series, unbilled_at, usd_rates, values,
    LAST_DAY, MIDNIGHT,
};

on_both_databases!(
    subscription_settings_are_kept_and_checked,
    subscription_settings_change_the_series,
);

async fn patch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    crate::fx::patch(app, token, "demo", body).await
}

async fn stored_settings(app: &TestApp, token: &str) -> Value {
    crate::fx::the_connection(app, token).await["subscription_settings"].clone()
}

fn defaults() -> Value {
    json!({
        "churn_at": "period_end",
        "once_discounts_lower_mrr": false,
        "ignore_discounts": false,
        "past_due_counts": true,
        "unpaid_counts": false,
        "paused_counts": false,
        "churn_window_days": 30,
        "revenue_churn_net_of_expansion": false
    })
}

async fn subscription_settings_are_kept_and_checked(kind: DbKind) {
    let app = crate::helpers::spawn_app(kind).await;
    let (ann, _) = app
        .sign_up_connected("ann@example.com", crate::fake_provider::VALID_API_KEY)
        .await;
    assert_eq!(stored_settings(&app, &ann).await, defaults());

    let response = patch(
        &app,
        &ann,
        json!({"subscription_settings": {"churn_at": "cancellation", "churn_window_days": 7}}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let mut expected = defaults();
    expected["churn_at"] = json!("cancellation");
    expected["churn_window_days"] = json!(7);
    assert_eq!(body["subscription_settings"], expected);
    // A setting left out keeps its value; so does the whole object.
    let response = patch(
        &app,
        &ann,
        json!({"subscription_settings": {"unpaid_counts": true}}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    expected["unpaid_counts"] = json!(true);
    let response = patch(&app, &ann, json!({"reporting_currency": "eur"})).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(stored_settings(&app, &ann).await, expected);

    // Mistakes change nothing, not even the fields of the same request that were right.
    for (bad, code) in [
        (json!({"churn_window_days": 0}), "invalid_settings"),
        (json!({"churn_window_days": 366}), "invalid_settings"),
        (json!({"churn_window_days": -1}), "invalid_body"),
        (json!({"churn_window_days": 1e12}), "invalid_body"),
        (json!({"churn_at": "whenever"}), "invalid_body"),
        (json!({"past_due_counts": "no"}), "invalid_body"),
        (json!({"bogus": true}), "invalid_body"),
        (json!(["churn_at"]), "invalid_body"),
        (json!([null, null]), "invalid_body"),
        (json!([]), "invalid_body"),
        (json!("cancellation"), "invalid_body"),
    ] {
        let response = patch(
            &app,
            &ann,
            json!({"reporting_currency": "gbp", "subscription_settings": bad}),
        )
        .await;
        assert_error(response, 400, code).await;
    }
    assert_eq!(stored_settings(&app, &ann).await, expected);
    assert_eq!(
        crate::fx::the_connection(&app, &ann).await["reporting_currency"],
        "eur"
    );

    // Another user reaches only their own connection.
    let bob = app.sign_up("bob@example.com").await.access_token;
    let response = patch(
        &app,
        &bob,
        json!({"subscription_settings": {"churn_window_days": 90}}),
    )
    .await;
    assert_error(response, 404, "not_connected").await;
    assert_eq!(stored_settings(&app, &ann).await, expected);

    // null goes back to every default.
    let response = patch(&app, &ann, json!({"subscription_settings": null})).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(stored_settings(&app, &ann).await, defaults());
}

/// The sandbox's subscriptions at the end of the last day, with their index.
fn subscriptions_now(sandbox: &Sandbox) -> Vec<(u64, Value)> {
    let generator = sandbox.generator();
    (0..generator.count(ObjectKind::Subscription))
        .filter(|index| generator.exists_at(ObjectKind::Subscription, *index, MIDNIGHT))
        .map(|index| {
            (
                index,
                generator.object_at(ObjectKind::Subscription, index, MIDNIGHT),
            )
        })
        .collect()
}

/// MRR at the end of the last day in USD, of the subscriptions `counts` keeps.
fn mrr_of(sandbox: &Sandbox, counts: impl Fn(&Value) -> bool) -> i64 {
    let rates = usd_rates(sandbox);
    subscriptions_now(sandbox)
        .iter()
        .filter(|(_, subscription)| counts(subscription))
        .map(|(index, subscription)| {
            let own = monthly_value_at(
                subscription,
                MIDNIGHT,
                unbilled_at(sandbox, *index, subscription),
            );
            in_usd(subscription, own, &rates)
        })
        .sum()
}

/// Whether a subscription was cancelled (by the end of the last day) and still runs.
fn cancelling(subscription: &Value) -> bool {
    subscription["status"] != "canceled"
        && subscription["canceled_at"]
            .as_i64()
            .is_some_and(|at| at <= MIDNIGHT)
}

async fn subscription_settings_change_the_series(kind: DbKind) {
    // The first seed whose last day has past-due subscriptions and some cancelled at period end.
    let seed = (1..200)
        .find(|seed| {
            let sandbox = Sandbox::new(SandboxConfig {
                seed: *seed,
                size: 120,
                now: Some(MIDNIGHT),
                ..Default::default()
            });
            let now = subscriptions_now(&sandbox);
            now.iter().any(|(_, s)| s["status"] == "past_due")
                && now.iter().any(|(_, s)| cancelling(s))
        })
        .expect("a seed with past-due and cancelling subscriptions");
    let (app, token, sandbox) = sandbox_app(kind, seed).await;
    let window = format!("total_days=60&end={LAST_DAY}");
    let mrr = metric_of(&app, &token, "mrr", "").await;
    let last_mrr = |series: &Value| values(series).last().copied().flatten();

    let everything = mrr_of(&sandbox, |_| true);
    assert_eq!(
        last_mrr(&series(&app, &token, mrr, &window).await),
        Some(everything as f64)
    );

    // Past-due subscriptions left out.
    let past_due = subscriptions_now(&sandbox)
        .iter()
        .filter(|(_, s)| s["status"] == "past_due")
        .count();
    assert!(past_due > 0, "the sandbox has past-due subscriptions");
    let response = patch(
        &app,
        &token,
        json!({"subscription_settings": {"past_due_counts": false}}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let paying = mrr_of(&sandbox, |s| s["status"] != "past_due");
    assert!(paying < everything);
    // The same question asked again is answered anew, not from the cache.
    assert_eq!(
        last_mrr(&series(&app, &token, mrr, &window).await),
        Some(paying as f64)
    );

    // Churn at cancellation: a subscription cancelled at period end leaves MRR at once.
    let response = patch(
        &app,
        &token,
        json!({"subscription_settings": {"churn_at": "cancellation"}}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let staying = mrr_of(&sandbox, |s| s["status"] != "past_due" && !cancelling(s));
    assert!(staying < paying);
    assert_eq!(
        last_mrr(&series(&app, &token, mrr, &window).await),
        Some(staying as f64)
    );

    // A 7-day churn window: churned over the last 7 days over the customers 7 days before.
    let response = patch(
        &app,
        &token,
        json!({"subscription_settings": {"churn_window_days": 7}}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let churned = metric_of(&app, &token, "churned_customers", "").await;
    let churned = values(&series(&app, &token, churned, &window).await);
    let active = metric_of(&app, &token, "active_customers", "").await;
    let active = values(&series(&app, &token, active, &window).await);
    let rate = metric_of(&app, &token, "customer_churn_rate", "").await;
    let rate = values(&series(&app, &token, rate, &window).await);
    let mut churning_days = 0;
    for day in 7..rate.len() {
        let lost: f64 = churned[day - 6..=day].iter().map(|v| v.unwrap()).sum();
        let before = active[day - 7].unwrap();
        let expected = (lost / before * 1e6).round_ties_even() / 1e6;
        assert_eq!(rate[day], Some(expected), "day {day}");
        churning_days += usize::from(lost > 0.0);
    }
    assert!(churning_days > 0, "customers churn in the window");

    // Back to the defaults: the first answer again.
    let response = patch(&app, &token, json!({"subscription_settings": null})).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        last_mrr(&series(&app, &token, mrr, &window).await),
        Some(everything as f64)
    );
}
