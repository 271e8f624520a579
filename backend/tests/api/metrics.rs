use allmetrics_common::{Dashboard, Metric, Series};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, DbKind, TestApp};
use crate::on_both_databases;
use crate::query::{connected, store};

on_both_databases!(
    metrics_are_saved_queries_owned_by_their_user,
    dashboards_order_metrics_and_every_user_has_a_home,
);

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.call(Method::POST, path, token, Some(body)).await
}

async fn metrics_are_saved_queries_owned_by_their_user(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (ann, connection) = connected(&app, "ann@example.com").await;
    let (bob, _) = connected(&app, "bob@example.com").await;
    let charges: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("ch_{i}"), "object": "charge", "created": 1_790_000_000 + i * 3600,
                        "amount": 100 * (i + 1), "currency": if i % 2 == 0 { "usd" } else { "eur" }}))
        .collect();
    store(&app, &connection, "Charge", &charges, true).await;

    let body = json!({"name": "Revenue by currency", "source": "demo", "object_name": "Charge",
                      "operator": "sum", "field_name": "currency", "value_field": "amount"});
    let created = post(&app, &ann, "/api/v1/metrics", body.clone()).await;
    assert_eq!(created.status().as_u16(), 201);
    let metric: Metric = created.json().await.unwrap();
    assert_eq!(
        (
            metric.operator.as_deref().unwrap(),
            metric.date_field.as_str()
        ),
        ("sum", "created")
    );

    for (change, code, status) in [
        (json!({"object_name": "Unicorn"}), "unknown_object", 400),
        (
            json!({"value_field": null, "operator": "average"}),
            "value_field_required",
            400,
        ),
        (json!({"name": ""}), "invalid_name", 400),
        (json!({"operator": "median"}), "invalid_operator", 400),
        (json!({"source": "paypal"}), "unknown_source", 404),
    ] {
        let mut invalid = body.clone();
        for (key, value) in change.as_object().unwrap() {
            invalid[key] = value.clone();
        }
        assert_error(
            post(&app, &ann, "/api/v1/metrics", invalid).await,
            status,
            code,
        )
        .await;
    }

    // Its series is the query's, once its rollup is built (until then it is the objects'
    // answer, marked partial).
    crate::rollups::wait_for_rollups(&app, &ann, &[metric.id]).await;
    let path = format!(
        "/api/v1/metrics/{}/series?end=2026-09-22&total_days=7",
        metric.id
    );
    let series: Series = app.get_authed(&path, &ann).await.json().await.unwrap();
    let direct: Series = app
        .get_authed("/connect/query/demo?object_name=Charge&operator=sum&field_name=currency&value_field=amount&end=2026-09-22&total_days=7", &ann)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(series, direct);
    assert_eq!(series.label_y.iter().sum::<f64>(), 1500.0);
    assert_error(
        app.get_authed(
            &format!("/api/v1/metrics/{}/series?tz=Nowhere", metric.id),
            &ann,
        )
        .await,
        400,
        "invalid_timezone",
    )
    .await;

    // Update, checked like a new one.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/api/v1/metrics/{}", metric.id),
            &ann,
            Some(json!({"name": "Revenue", "operator": "average"})),
        )
        .await;
    let renamed: Metric = renamed.json().await.unwrap();
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.operator.as_deref().unwrap(),
            renamed.value_field.as_deref()
        ),
        ("Revenue", "average", Some("amount"))
    );
    let bad = app
        .call(
            Method::PATCH,
            &format!("/api/v1/metrics/{}", metric.id),
            &ann,
            Some(json!({"field_name": "a b"})),
        )
        .await;
    assert_error(bad, 400, "invalid_field").await;

    // Another user's metric is a 404 everywhere, and nothing changes.
    let id = metric.id;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/metrics/{id}"), None),
        (Method::GET, format!("/api/v1/metrics/{id}/series"), None),
        (
            Method::PATCH,
            format!("/api/v1/metrics/{id}"),
            Some(json!({"name": "mine now"})),
        ),
        (Method::DELETE, format!("/api/v1/metrics/{id}"), None),
    ] {
        assert_error(
            app.call(method, &path, &bob, body).await,
            404,
            "metric_not_found",
        )
        .await;
    }
    let bobs: Vec<Metric> = app
        .get_authed("/api/v1/metrics", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert!(bobs.is_empty());
    let anns: Vec<Metric> = app
        .get_authed("/api/v1/metrics", &ann)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anns, vec![renamed]);

    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/metrics/{id}"), &ann, None)
            .await
            .status()
            .as_u16(),
        204
    );
    assert_error(
        app.get_authed(&format!("/api/v1/metrics/{id}"), &ann).await,
        404,
        "metric_not_found",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/metrics/not-a-number", &ann).await,
        400,
        "invalid_path",
    )
    .await;
}

async fn dashboards_order_metrics_and_every_user_has_a_home(kind: DbKind) {
    let app = spawn_app(kind).await;
    let (ann, _) = connected(&app, "ann@example.com").await;
    let (bob, _) = connected(&app, "bob@example.com").await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        let metric: Metric = post(
            &app,
            &ann,
            "/api/v1/metrics",
            json!({"name": name, "source": "demo", "object_name": "Customer", "operator": "count"}),
        )
        .await
        .json()
        .await
        .unwrap();
        ids.push(metric.id);
    }
    let bobs_metric: Metric = post(
        &app,
        &bob,
        "/api/v1/metrics",
        json!({"name": "Bob's", "source": "demo", "object_name": "Customer", "operator": "count"}),
    )
    .await
    .json()
    .await
    .unwrap();

    let dashboards: Vec<Dashboard> = app
        .get_authed("/api/v1/dashboards", &ann)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dashboards.len(), 1);
    let home = &dashboards[0];
    assert!(home.is_home && home.metric_ids.is_empty() && home.default_total_days == 30);
    let again: Vec<Dashboard> = app
        .get_authed("/api/v1/dashboards", &ann)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "one home only");

    // Add metrics in an order, reorder them.
    let path = format!("/api/v1/dashboards/{}", home.id);
    let updated: Dashboard = app
        .call(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({"metric_ids": [ids[2], ids[0]]})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated.metric_ids, vec![ids[2], ids[0]]);
    let reordered: Dashboard = app
        .call(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({"metric_ids": [ids[0], ids[1], ids[2]], "default_total_days": 90})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (reordered.metric_ids.clone(), reordered.default_total_days),
        (ids.clone(), 90)
    );

    for body in [
        json!({"metric_ids": [bobs_metric.id]}),
        json!({"metric_ids": [ids[0], ids[0]]}),
        json!({"metric_ids": [999999]}),
    ] {
        assert_error(
            app.call(Method::PATCH, &path, &ann, Some(body)).await,
            400,
            "unknown_metric",
        )
        .await;
    }
    assert_error(
        app.call(
            Method::PATCH,
            &path,
            &ann,
            Some(json!({"default_total_days": 0})),
        )
        .await,
        400,
        "invalid_total_days",
    )
    .await;

    // Another dashboard; the home one cannot be deleted.
    let created = post(
        &app,
        &ann,
        "/api/v1/dashboards",
        json!({"name": "Payments", "metric_ids": [ids[1]], "default_total_days": 7}),
    )
    .await;
    assert_eq!(created.status().as_u16(), 201);
    let payments: Dashboard = created.json().await.unwrap();
    assert!(!payments.is_home);
    assert_error(
        app.call(Method::DELETE, &path, &ann, None).await,
        409,
        "home_dashboard",
    )
    .await;

    // Bob sees none of it.
    let payments_path = format!("/api/v1/dashboards/{}", payments.id);
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "x"}))),
        (Method::DELETE, None),
    ] {
        assert_error(
            app.call(method, &payments_path, &bob, body).await,
            404,
            "dashboard_not_found",
        )
        .await;
    }

    // Deleting a metric takes it off every dashboard.
    app.call(
        Method::DELETE,
        &format!("/api/v1/metrics/{}", ids[1]),
        &ann,
        None,
    )
    .await;
    let home_now: Dashboard = app.get_authed(&path, &ann).await.json().await.unwrap();
    assert_eq!(home_now.metric_ids, vec![ids[0], ids[2]]);
    let payments_now: Dashboard = app
        .get_authed(&payments_path, &ann)
        .await
        .json()
        .await
        .unwrap();
    assert!(payments_now.metric_ids.is_empty());
    assert_eq!(
        app.call(Method::DELETE, &payments_path, &ann, None)
            .await
            .status()
            .as_u16(),
        204
    );
    let remaining: Vec<Dashboard> = app
        .get_authed("/api/v1/dashboards", &ann)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(remaining.len(), 1);
}
