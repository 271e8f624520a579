//! The subscriptions' histories are kept per connection and brought up to date with what a
//! sync changes (only the objects whose revision moved are read again): the series after
//! changes are those of a server that rebuilds everything from the store.

use allmetrics::domain::{PageCheckpoint, StoredObject};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_on, DbKind, TestApp};
use crate::on_both_databases;
use crate::subscriptions::{metric_of, sandbox_app, series, LAST_DAY};

on_both_databases!(
    kept_histories_follow_the_changes_of_the_store,
    a_job_names_the_objects_its_last_writes_wrote,
);

/// Stores `objects` as an incremental sync of `object_name` does (a new data version).
async fn store_changed(app: &TestApp, object_name: &str, objects: Vec<Value>) {
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let (owner, job, jobs) = crate::query::claim_job(app, connection.id, object_name).await;
    let now = chrono::Utc::now().timestamp();
    let page: Vec<StoredObject> = objects
        .into_iter()
        .map(|data| StoredObject {
            object_id: data["id"].as_str().unwrap().to_owned(),
            created: data["created"].as_i64().unwrap(),
            data,
        })
        .collect();
    app.repository
        .store_page(
            &job,
            &owner,
            &page,
            &PageCheckpoint::Incremental,
            now,
            now + 60,
        )
        .await
        .unwrap()
        .unwrap();
    crate::query::finish_runs(app, &owner, &jobs).await;
}

async fn stored(app: &TestApp, object_name: &str) -> Vec<Value> {
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    let mut objects: Vec<Value> = app
        .repository
        .stored_objects(connection.id, object_name)
        .await
        .unwrap()
        .into_iter()
        .map(|object| object.value())
        .collect();
    objects.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    objects
}

/// The series a server shows, without what they answer about the request itself.
async fn charts(app: &TestApp, token: &str, ids: &[i64]) -> Vec<(Value, Value)> {
    let mut charts = Vec::new();
    for id in ids {
        let series = series(
            app,
            token,
            *id,
            &format!("total_days=400&interval=week&end={LAST_DAY}"),
        )
        .await;
        charts.push((series["labelY"].clone(), series["labelZ"].clone()));
    }
    charts
}

async fn kept_histories_follow_the_changes_of_the_store(kind: DbKind) {
    let (app, token, _sandbox) = sandbox_app(kind, 5).await;
    let mut ids = Vec::new();
    for (kind, field) in [
        ("mrr", ""),
        ("mrr_movements", ""),
        ("active_customers", ""),
        ("mrr", "plan"),
        ("trials", ""),
    ] {
        ids.push(metric_of(&app, &token, kind, field).await);
    }
    let before = charts(&app, &token, &ids).await;

    // A paying subscription doubles its quantity; another one's oldest invoice bills twice the
    // quantity (its past changes); one subscription and one invoice of a third leave the store.
    let subscriptions = stored(&app, "Subscription").await;
    let paying: Vec<&Value> = subscriptions
        .iter()
        .filter(|s| {
            s["status"] == "active"
                && s["items"]["data"][0]["price"]["recurring"]["usage_type"] == "licensed"
        })
        .collect();
    assert!(paying.len() >= 4, "the sandbox has paying subscriptions");
    let mut doubled = paying[0].clone();
    let quantity = doubled["items"]["data"][0]["quantity"]
        .as_i64()
        .unwrap_or(1);
    doubled["items"]["data"][0]["quantity"] = (2 * quantity).into();
    let invoices = stored(&app, "Invoice").await;
    let of = |subscription: &Value| -> Vec<Value> {
        let id = subscription["id"].as_str().unwrap();
        invoices
            .iter()
            .filter(|invoice| {
                allmetrics_subscriptions::invoice_subscriptions(invoice)
                    .iter()
                    .any(|s| s == id)
            })
            .cloned()
            .collect()
    };
    let mut rebilled = of(paying[1])
        .into_iter()
        .min_by_key(|invoice| invoice["created"].as_i64())
        .expect("a paying subscription has invoices");
    for line in rebilled["lines"]["data"].as_array_mut().unwrap() {
        let quantity = line["quantity"].as_i64().unwrap_or(1);
        line["quantity"] = (2 * quantity).into();
        let amount = line["amount"].as_i64().unwrap_or(0);
        line["amount"] = (2 * amount).into();
    }
    let gone = paying[2]["id"].as_str().unwrap().to_owned();
    let gone_invoice = of(paying[1])
        .into_iter()
        .max_by_key(|invoice| invoice["created"].as_i64())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Objects leave the store only with their job, and a reader learns what a sync wrote from
    // the job's last writes; here they leave by other means, and the jobs move on further than
    // their writes are kept: every id and revision is compared, and what left is seen.
    app.database
        .execute(&format!(
            "DELETE FROM synced_objects WHERE object_id IN ('{gone}', '{gone_invoice}')"
        ))
        .await;
    app.database
        .execute(&format!(
            "UPDATE sync_jobs SET data_version = data_version + {}",
            allmetrics::db::sync::KEPT_WRITES
        ))
        .await;
    store_changed(&app, "Subscription", vec![doubled]).await;
    store_changed(&app, "Invoice", vec![rebilled]).await;

    let after = charts(&app, &token, &ids).await;
    assert_ne!(after[0], before[0], "MRR follows the changes");
    // Another server on the same database builds everything from the store.
    let other = spawn_app_on(app.database.shared(), |_| {}).await;
    assert_eq!(charts(&other, &token, &ids).await, after);

    // Data versions that move without a change of these objects keep what was built.
    store_changed(&app, "Subscription", vec![]).await;
    assert_eq!(charts(&app, &token, &ids).await, after);

    // Only subscriptions written: the invoices, whose job's version did not move, are not read
    // again, and the answer is still a full rebuild's.
    let mut halved = paying[3].clone();
    halved["items"]["data"][0]["quantity"] = 1.into();
    halved["discounts"] = serde_json::json!([]);
    store_changed(&app, "Subscription", vec![halved]).await;
    let last = charts(&app, &token, &ids).await;
    let another = spawn_app_on(app.database.shared(), |_| {}).await;
    assert_eq!(charts(&another, &token, &ids).await, last);
}

/// The store tells which objects a job's writes wrote since a data version (what the kept
/// histories read after a sync's page instead of every id and revision), and keeps only the
/// job's last writes.
async fn a_job_names_the_objects_its_last_writes_wrote(kind: DbKind) {
    use allmetrics::db::sync::KEPT_WRITES;
    let app = spawn_app(kind).await;
    let (_, connection) = app
        .sign_up_connected("ann@example.com", crate::fake_provider::VALID_API_KEY)
        .await;
    let now = chrono::Utc::now().timestamp();
    app.repository
        .ensure_sync_jobs(connection.id, &["Charge".to_owned()], now)
        .await
        .unwrap();
    let charge = |id: &str| serde_json::json!({"id": id, "created": 1_700_000_000});
    let version = || async {
        let job = app
            .repository
            .sync_jobs(connection.id)
            .await
            .unwrap()
            .remove(0);
        (job.id, job.data_version)
    };
    let written = |job, since| {
        let repository = app.repository.clone();
        async move { repository.objects_written_since(job, since).await.unwrap() }
    };
    let ids = |list: &[&str]| list.iter().map(|id| id.to_string()).collect::<Vec<_>>();

    let (job, v0) = version().await;
    store_changed(&app, "Charge", vec![charge("ch_a"), charge("ch_b")]).await;
    let (_, v1) = version().await;
    store_changed(&app, "Charge", vec![]).await;
    store_changed(&app, "Charge", vec![charge("ch_c"), charge("ch_b")]).await;
    let (_, v2) = version().await;
    assert!(v0 < v1 && v1 < v2);
    assert_eq!(written(job, v0).await, Some(ids(&["ch_a", "ch_b", "ch_c"])));
    assert_eq!(written(job, v1).await, Some(ids(&["ch_b", "ch_c"])));
    assert_eq!(written(job, v2).await, Some(Vec::new()));
    // A version the job never had.
    assert_eq!(written(job, v2 + 1).await, None);

    // Further back than the writes kept: unknown, and the older writes are forgotten with the
    // next one.
    app.database
        .execute(&format!(
            "UPDATE sync_jobs SET data_version = data_version + {KEPT_WRITES} WHERE id = {}",
            job.0
        ))
        .await;
    assert_eq!(written(job, v2).await, None);
    store_changed(&app, "Charge", vec![charge("ch_d")]).await;
    let (_, v3) = version().await;
    assert_eq!(written(job, v3 - 1).await, Some(ids(&["ch_d"])));
    assert_eq!(
        app.database
            .texts("SELECT CAST(COUNT(*) AS TEXT) FROM object_writes")
            .await,
        vec!["1".to_owned()]
    );
}
