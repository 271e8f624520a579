//! The sync engine knows no provider's API: a provider of another paging style (offset and
//! limit, no cursors, no time filter), registered from outside, syncs through it with
//! checkpoints and resumption; and one connection never mixes two accounts' data when its API
//! key is replaced by another account's.

use allmetrics::domain::{AuthKind, NewConnection, NewDataSource, RoutingSource, UserId};
use allmetrics::sync;
use serde_json::json;

use crate::fake_provider::{
    stripe_grant, FakeProvider, TokenBehaviour, OTHER_ACCOUNT_API_KEY, VALID_API_KEY,
};
use crate::helpers::{spawn_app_with, DbKind};
use crate::offset_provider::{OffsetProvider, KIND};
use crate::on_both_databases;

on_both_databases!(
    a_provider_with_offset_paging_syncs_and_resumes_through_the_same_engine,
    replacing_an_api_key_with_another_accounts_key_leaves_no_old_row,
);

async fn a_provider_with_offset_paging_syncs_and_resumes_through_the_same_engine(kind: DbKind) {
    allmetrics::providers::registry::register(&OffsetProvider);
    let fake = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert("items".into(), fake.settings());
        settings.sync.page_size = 10;
        settings.sync.max_attempts = 2;
    })
    .await;
    let items: Vec<serde_json::Value> = (0..95)
        .map(|i| json!({"id": format!("item_{i:03}"), "created": 1_700_000_000 + i * 3_600, "size": i}))
        .collect();
    fake.set_items(items);

    let source = app
        .repository
        .create_data_source(NewDataSource {
            slug: "items".into(),
            name: "Items".into(),
            provider: KIND.into(),
            enabled: true,
        })
        .await
        .unwrap();
    app.repository
        .create_routing_source(RoutingSource {
            data_source_id: source.id,
            object_name: "Item".into(),
            label: "Items".into(),
            enabled: true,
        })
        .await
        .unwrap();
    let session = app.sign_up("ann@example.com").await;
    let me: allmetrics_common::UserResponse = app
        .get_me(&session.access_token)
        .await
        .json()
        .await
        .unwrap();
    let user = UserId(me.id);
    let connection = app
        .repository
        .upsert_connection(NewConnection {
            user_id: user,
            data_source_id: source.id,
            auth_kind: AuthKind::ApiKey,
            account_id: None,
            access_token_enc: app
                .state
                .cipher
                .encrypt(
                    VALID_API_KEY,
                    &allmetrics::tokens::token_context(user, "items", "access"),
                )
                .unwrap(),
            refresh_token_enc: None,
            expires_at: None,
            scopes: String::new(),
            token_response: json!({}),
        })
        .await
        .unwrap();
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();

    // The provider fails from offset 40 on: the run stops after four stored pages.
    fake.fail_items_from(Some(40));
    app.run_syncs().await;
    let job = app
        .repository
        .sync_jobs(connection.id)
        .await
        .unwrap()
        .remove(0);
    assert!(!job.backfill_done);
    assert!(job.last_error.is_some());
    let ids = app
        .repository
        .synced_object_ids(connection.id, "Item")
        .await
        .unwrap();
    assert_eq!(ids.len(), 40, "every page before the failure is kept");
    let windows = app.repository.backfill_windows(job.id).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].cursor.as_deref(), Some("40"), "the checkpoint");

    // It recovers: the next run resumes at offset 40, not from the start.
    fake.fail_items_from(None);
    fake.take_item_offsets();
    sync::schedule(&app.state.services(), &connection)
        .await
        .unwrap();
    app.run_syncs().await;
    let offsets = fake.take_item_offsets();
    assert_eq!(offsets.first(), Some(&40), "resumed: {offsets:?}");
    let job = app
        .repository
        .sync_jobs(connection.id)
        .await
        .unwrap()
        .remove(0);
    assert!(job.backfill_done, "{:?}", job.last_error);
    let expected: Vec<String> = (0..95).map(|i| format!("item_{i:03}")).collect();
    assert_eq!(
        app.repository
            .synced_object_ids(connection.id, "Item")
            .await
            .unwrap(),
        expected
    );
    // And it charts like any other object.
    let series: allmetrics_common::Series = app
        .get_authed(
            "/connect/query/items?object_name=Item&operator=sum&value_field=size&total_days=5&end=2023-11-18",
            &session.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(series.meta.records > 0);
}

async fn replacing_an_api_key_with_another_accounts_key_leaves_no_old_row(kind: DbKind) {
    let fake = FakeProvider::start(TokenBehaviour::Grant(stripe_grant())).await;
    let app = spawn_app_with(kind, |settings| {
        settings.providers.insert("stripe".into(), fake.settings());
    })
    .await;
    let charge = |id: &str, created: i64| json!({"id": id, "object": "charge", "created": created, "amount": 100});
    fake.put_for(
        "acct_valid",
        "charges",
        charge("ch_first_account", 1_700_000_000),
    );
    fake.put_for(
        "acct_other",
        "charges",
        charge("ch_second_account", 1_700_000_100),
    );
    let user = app.sign_up("ann@example.com").await.access_token;

    assert_eq!(
        app.post_api_key(&user, "stripe", VALID_API_KEY)
            .await
            .status()
            .as_u16(),
        201
    );
    app.run_syncs().await;
    let connection = app.repository.all_connections().await.unwrap().remove(0);
    assert_eq!(connection.account_id.as_deref(), Some("acct_valid"));
    let charges = || async {
        app.repository
            .synced_object_ids(connection.id, "Charge")
            .await
            .unwrap()
    };
    assert_eq!(charges().await, ["ch_first_account"]);

    // The same account's key again keeps every row.
    app.post_api_key(&user, "stripe", VALID_API_KEY).await;
    assert_eq!(charges().await, ["ch_first_account"]);

    // Another account's key: the first account's rows are gone before anything is read.
    assert_eq!(
        app.post_api_key(&user, "stripe", OTHER_ACCOUNT_API_KEY)
            .await
            .status()
            .as_u16(),
        201
    );
    assert!(charges().await.is_empty());
    app.run_syncs().await;
    assert_eq!(charges().await, ["ch_second_account"]);
}
