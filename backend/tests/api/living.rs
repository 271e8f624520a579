//! A Stripe account that lives: subscriptions renew and cancel, invoices are paid or voided,
//! charges refunded, customers and products deleted, while the sandbox's clock moves forward
//! between syncs. After every sync the store holds exactly what the sandbox serves, object by
//! object, deleted ones gone.

use std::collections::BTreeMap;
use std::time::Duration;

use allmetrics::domain::Connection;
use allmetrics::sync::{self, SyncContext};
use allmetrics_sandbox::{Faults, Sandbox};
use serde_json::Value;

use crate::helpers::{DbKind, TestApp};
use crate::on_both_databases;
use crate::sync::{connected_app, kind_of, post_sync, start_sandbox, sync_status};

on_both_databases!(the_store_equals_the_living_account_after_every_sync);

const DAY: u64 = 86_400;

async fn assert_store_equals_sandbox(
    app: &TestApp,
    sandbox: &Sandbox,
    connection: &Connection,
    when: &str,
) {
    for object in allmetrics::providers::stripe::CATALOGUE {
        let expected: BTreeMap<String, Value> = sandbox
            .stripe_objects_now(kind_of(object.name))
            .map(|json| (json["id"].as_str().unwrap().to_string(), json))
            .collect();
        let stored: BTreeMap<String, Value> = app
            .repository
            .sample_objects(connection.id, object.name, 10_000_000)
            .await
            .unwrap()
            .into_iter()
            .map(|json| (json["id"].as_str().unwrap().to_string(), json))
            .collect();
        let missing: Vec<&String> = expected
            .keys()
            .filter(|id| !stored.contains_key(*id))
            .collect();
        let extra: Vec<&String> = stored
            .keys()
            .filter(|id| !expected.contains_key(*id))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{when}: {}: missing {missing:?}, still stored {extra:?}",
            object.name
        );
        for (id, json) in &expected {
            assert_eq!(&stored[id], json, "{when}: {} {id}", object.name);
        }
    }
}

async fn the_store_equals_the_living_account_after_every_sync(kind: DbKind) {
    let (sandbox, api_base) = start_sandbox(40, Faults::default());
    let (app, token, connection) = connected_app(kind, api_base, |_| {}).await;
    let context = SyncContext::new(app.state.services());
    sync::run_until_idle(&context).await;
    assert_store_equals_sandbox(&app, &sandbox, &connection, "after the backfill").await;

    for days in [1, 7, 45, 400] {
        sandbox.advance_clock(Duration::from_secs(days * DAY));
        assert_eq!(post_sync(&app, &token).await.status().as_u16(), 202);
        sync::run_until_idle(&context).await;
        let when = format!("{days} days later");
        assert_store_equals_sandbox(&app, &sandbox, &connection, &when).await;
        let status = sync_status(&app, &token).await;
        for (name, object) in &status.objects {
            let expected = match (name.as_str(), days) {
                ("BalanceTransaction", _) => "recent_window",
                (_, 45 | 400) => "full_reread",
                _ => "events",
            };
            assert_eq!(
                object.read_mode.as_deref(),
                Some(expected),
                "{when}: {name}: {object:?}"
            );
        }
    }
}
