//! Stripe list semantics over HTTP: paging, cursors, created filters, status filters, retrieve, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use allmetrics_sandbox::ObjectKind;
use common::{config, ids, start, API_KEY, NOW};
use serde_json::Value;

const DAY: i64 = 86_400;

/// Ids of every object of a kind, newest first, straight from the generator.
fn expected_ids(generator: &allmetrics_sandbox::Generator, kind: ObjectKind) -> Vec<String> {
    (0..generator.count(kind))
        .rev()
        .map(|i| generator.id(kind, i))
        .collect()
}

fn assert_newest_first(objects: &[Value]) {
    for pair in objects.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        let (a, b) = (
            newer["created"].as_i64().unwrap(),
            older["created"].as_i64().unwrap(),
        );
        assert!(
            a > b || (a == b && newer["id"].as_str() > older["id"].as_str()),
            "{a} {b}"
        );
    }
}

#[tokio::test]
async fn paging_returns_every_customer_once_in_order() {
    for size in [0u64, 1, 7, 250, 1234] {
        let running = start(config(size)).await;
        let expected = expected_ids(running.sandbox.generator(), ObjectKind::Customer);
        assert_eq!(expected.len() as u64, size);
        let limits: &[u32] = if size > 300 {
            &[10, 100]
        } else {
            &[1, 10, 100]
        };
        for &limit in limits {
            let objects = running.list_all("/v1/customers", limit).await;
            assert_eq!(ids(&objects), expected, "size {size} limit {limit}");
            assert_newest_first(&objects);
        }
    }
}

#[tokio::test]
async fn paging_one_by_one_through_a_larger_set() {
    let running = start(config(1234)).await;
    let expected = expected_ids(running.sandbox.generator(), ObjectKind::Customer);
    let objects = running.list_all("/v1/customers", 1).await;
    assert_eq!(ids(&objects), expected);
}

#[tokio::test]
async fn ending_before_pages_backwards() {
    let running = start(config(95)).await;
    let generator = running.sandbox.generator();
    let expected = expected_ids(generator, ObjectKind::Customer);
    for limit in [1usize, 10, 100] {
        // Start from the oldest object and walk toward the newest.
        let oldest = generator.id(ObjectKind::Customer, 0);
        let mut collected: Vec<String> = vec![oldest.clone()];
        let mut cursor = oldest;
        loop {
            let (status, body) = running
                .get(&format!(
                    "/v1/customers?limit={limit}&ending_before={cursor}"
                ))
                .await;
            assert_eq!(status, 200);
            let page = ids(body["data"].as_array().unwrap());
            assert!(page.len() <= limit);
            // Pages are still newest first, and sit immediately above the cursor.
            let mut ascending = page.clone();
            ascending.reverse();
            collected.extend(ascending);
            if !body["has_more"].as_bool().unwrap() {
                break;
            }
            cursor = page[0].clone();
        }
        collected.reverse();
        assert_eq!(collected, expected, "limit {limit}");
    }
    // The page just newer than a cursor in the middle.
    let middle = generator.id(ObjectKind::Customer, 50);
    let (_, body) = running
        .get(&format!("/v1/customers?limit=3&ending_before={middle}"))
        .await;
    let page = ids(body["data"].as_array().unwrap());
    let want: Vec<String> = [53, 52, 51]
        .iter()
        .map(|&i| generator.id(ObjectKind::Customer, i))
        .collect();
    assert_eq!(page, want);
    assert_eq!(body["has_more"], true);
}

#[tokio::test]
async fn created_filters_match_the_generator() {
    let running = start(config(400)).await;
    let generator = running.sandbox.generator();
    let windows = [
        (Some(NOW - 90 * DAY), None),
        (None, Some(NOW - 600 * DAY)),
        (Some(NOW - 400 * DAY), Some(NOW - 300 * DAY)),
        (Some(NOW - 7 * DAY), Some(NOW)),
        (Some(NOW + DAY), None),
    ];
    for kind in [
        ObjectKind::Customer,
        ObjectKind::Charge,
        ObjectKind::Refund,
        ObjectKind::Payout,
    ] {
        for (gte, lt) in windows {
            let mut path = format!("/v1/{}?", kind.list_path());
            if let Some(gte) = gte {
                path.push_str(&format!("created[gte]={gte}&"));
            }
            if let Some(lt) = lt {
                path.push_str(&format!("created[lt]={lt}&"));
            }
            let objects = running
                .list_all(path.trim_end_matches(['?', '&']), 100)
                .await;
            let direct = (0..generator.count(kind))
                .map(|i| generator.object(kind, i)["created"].as_i64().unwrap())
                .filter(|&c| gte.is_none_or(|g| c >= g) && lt.is_none_or(|l| c < l))
                .count() as u64;
            assert_eq!(objects.len() as u64, direct, "{path}");
            assert_eq!(generator.count_created(kind, gte, lt), direct, "{path}");
            assert!(objects.iter().all(|o| {
                let c = o["created"].as_i64().unwrap();
                gte.is_none_or(|g| c >= g) && lt.is_none_or(|l| c < l)
            }));
        }
    }
    // gt / lte / exact, with percent-encoded brackets as Stripe's libraries send them.
    let pivot = generator.created(ObjectKind::Customer, 200);
    let (_, body) = running
        .get(&format!(
            "/v1/customers?limit=100&created%5Bgt%5D={pivot}&created%5Blte%5D={}",
            pivot + 30 * DAY
        ))
        .await;
    let expected = generator.count_created(
        ObjectKind::Customer,
        Some(pivot + 1),
        Some(pivot + 30 * DAY + 1),
    );
    assert_eq!(
        body["data"].as_array().unwrap().len() as u64,
        expected.min(100)
    );
    let (_, body) = running.get(&format!("/v1/customers?created={pivot}")).await;
    assert!(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == generator.id(ObjectKind::Customer, 200)));
    assert!(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["created"] == pivot));
}

#[tokio::test]
async fn subscriptions_omit_canceled_unless_asked() {
    let running = start(config(300)).await;
    let generator = running.sandbox.generator();
    let all: Vec<Value> = (0..generator.count(ObjectKind::Subscription))
        .rev()
        .map(|i| generator.object(ObjectKind::Subscription, i))
        .collect();
    let canceled = all.iter().filter(|s| s["status"] == "canceled").count();
    assert!(canceled > 0 && canceled < all.len());

    let default = running.list_all("/v1/subscriptions", 7).await;
    assert!(default.iter().all(|s| s["status"] != "canceled"));
    assert_eq!(default.len(), all.len() - canceled);
    assert_newest_first(&default);

    let everything = running.list_all("/v1/subscriptions?status=all", 100).await;
    assert_eq!(ids(&everything), ids(&all));

    let only_canceled = running
        .list_all("/v1/subscriptions?status=canceled", 10)
        .await;
    assert_eq!(only_canceled.len(), canceled);
    let ended = running
        .list_all("/v1/subscriptions?status=ended", 100)
        .await;
    assert!(ended
        .iter()
        .all(|s| s["status"] == "canceled" || s["status"] == "incomplete_expired"));

    // Cursor paging backwards skips canceled ones as well.
    let last = default.last().unwrap()["id"].as_str().unwrap().to_owned();
    let (_, body) = running
        .get(&format!("/v1/subscriptions?limit=5&ending_before={last}"))
        .await;
    let page = ids(body["data"].as_array().unwrap());
    assert_eq!(page, ids(&default[default.len() - 6..default.len() - 1]));

    let (status, body) = running.get("/v1/subscriptions?status=sleeping").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "status");
}

#[tokio::test]
async fn equality_filters_narrow_lists() {
    let running = start(config(200)).await;
    let generator = running.sandbox.generator();
    let charge = generator.object(ObjectKind::Charge, 500);
    let customer = charge["customer"].as_str().unwrap();
    let listed = running
        .list_all(&format!("/v1/charges?customer={customer}"), 100)
        .await;
    let direct = (0..generator.count(ObjectKind::Charge))
        .filter(|&i| generator.object(ObjectKind::Charge, i)["customer"] == customer)
        .count();
    assert_eq!(listed.len(), direct);
    assert!(listed.iter().any(|c| c["id"] == charge["id"]));

    let product = generator.id(ObjectKind::Product, 2);
    let prices = running
        .list_all(&format!("/v1/prices?product={product}"), 100)
        .await;
    assert_eq!(
        prices.len(),
        9,
        "monthly, yearly and quarterly, in USD, EUR and GBP"
    );
    for currency in ["usd", "eur", "gbp"] {
        let listed = running
            .list_all(
                &format!("/v1/prices?product={product}&currency={currency}"),
                100,
            )
            .await;
        assert_eq!(listed.len(), 3, "{currency}");
    }
    let inactive = running.list_all("/v1/products?active=false", 100).await;
    assert!(!inactive.is_empty() && inactive.iter().all(|p| p["active"] == false));
}

#[tokio::test]
async fn every_kind_lists_and_retrieves() {
    let running = start(config(120)).await;
    let generator = running.sandbox.generator();
    for kind in ObjectKind::ALL {
        let path = match kind {
            ObjectKind::Subscription => "/v1/subscriptions?status=all".to_owned(),
            _ => format!("/v1/{}", kind.list_path()),
        };
        let objects = running.list_all(&path, 100).await;
        assert_eq!(ids(&objects), expected_ids(generator, kind), "{kind:?}");
        assert_newest_first(&objects);
        let (_, body) = running
            .get(&format!("/v1/{}?limit=1", kind.list_path()))
            .await;
        assert_eq!(body["url"], format!("/v1/{}", kind.list_path()));
        assert_eq!(body["object"], "list");
        if let Some(sample) = objects.get(objects.len() / 2) {
            let id = sample["id"].as_str().unwrap();
            let (status, retrieved) = running.get(&format!("/v1/{}/{id}", kind.list_path())).await;
            assert_eq!(status, 200);
            assert_eq!(&retrieved, sample);
            assert_eq!(retrieved["object"], kind.object_name());
        }
    }
}

#[tokio::test]
async fn errors_have_stripe_shapes() {
    let running = start(config(30)).await;
    let generator = running.sandbox.generator();

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
    ] {
        let (status, body) = running.get(&format!("/v1/customers?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], param);
    }
    let (status, body) = running
        .get("/v1/customers?starting_after=cus_doesnotexist0")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "resource_missing");
    assert_eq!(body["error"]["param"], "starting_after");
    // An id of another kind is not a customer.
    let charge_id = generator.id(ObjectKind::Charge, 3);
    let (status, body) = running
        .get(&format!("/v1/customers?ending_before={charge_id}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("resource_missing"))
    );

    let (status, body) = running.get("/v1/customers/cus_1000000nothere").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "resource_missing");
    assert_eq!(
        body["error"]["message"],
        "No such customer: 'cus_1000000nothere'"
    );
    let past_end = generator.id(ObjectKind::Customer, 30);
    assert_eq!(
        running.get(&format!("/v1/customers/{past_end}")).await.0,
        404
    );

    let (status, body) = running.get("/v1/invoiceitems").await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Unrecognized request URL"));
    let response = running
        .http
        .post(running.url("/v1/customers"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // Authentication.
    let response = running
        .http
        .get(running.url("/v1/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("You did not provide an API key"));
    let (status, body) = running
        .get_with("/v1/customers", "sk_test_wrong_key_123456")
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid API Key provided: sk_test_"),
        "{message}"
    );
    assert!(
        !message.contains("wrong_key"),
        "the key is masked: {message}"
    );

    // Stripe also takes the key as HTTP Basic user name.
    let response = running
        .http
        .get(running.url("/v1/customers?limit=2"))
        .basic_auth(API_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("request-id"));

    // Stripe-Account must name this sandbox's account.
    let response = running
        .http
        .get(running.url("/v1/customers"))
        .bearer_auth(API_KEY)
        .header("Stripe-Account", running.sandbox.account_id())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = running
        .http
        .get(running.url("/v1/customers"))
        .bearer_auth(API_KEY)
        .header("Stripe-Account", "acct_other")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

/// The generated data hangs together: references point to objects that exist and came first.
#[tokio::test]
async fn references_are_consistent() {
    let running = start(config(300)).await;
    let generator = running.sandbox.generator();
    let created_of = |kind: ObjectKind, id: &str| {
        let index = generator
            .index_of(kind, id)
            .unwrap_or_else(|| panic!("{id} does not exist"));
        generator.created(kind, index)
    };
    for charge in running.list_all("/v1/charges", 100).await {
        let created = charge["created"].as_i64().unwrap();
        if let Some(customer) = charge["customer"].as_str() {
            assert!(created_of(ObjectKind::Customer, customer) <= created);
            let customer = generator.object(
                ObjectKind::Customer,
                generator.index_of(ObjectKind::Customer, customer).unwrap(),
            );
            assert_eq!(charge["currency"], customer["currency"]);
            assert_eq!(
                charge["billing_details"]["address"]["country"],
                customer["address"]["country"]
            );
        }
        let refunded = charge["amount_refunded"].as_i64().unwrap();
        assert!(refunded <= charge["amount"].as_i64().unwrap());
        assert_eq!(
            charge["refunded"],
            refunded == charge["amount"].as_i64().unwrap() && refunded > 0
        );
        for refund in charge["refunds"]["data"].as_array().unwrap() {
            assert_eq!(refund["charge"], charge["id"]);
            assert!(refund["created"].as_i64().unwrap() >= created);
        }
        if charge["status"] == "failed" {
            assert_eq!(charge["paid"], false);
            assert!(charge["failure_code"].is_string());
        }
    }
    for refund in running.list_all("/v1/refunds", 100).await {
        let charge_id = refund["charge"].as_str().unwrap();
        let charge = generator.object(
            ObjectKind::Charge,
            generator.index_of(ObjectKind::Charge, charge_id).unwrap(),
        );
        assert_eq!(charge["status"], "succeeded");
        assert_eq!(charge["refunds"]["data"][0], refund);
    }
    for dispute in running.list_all("/v1/disputes", 100).await {
        let charge_id = dispute["charge"].as_str().unwrap();
        let charge = generator.object(
            ObjectKind::Charge,
            generator.index_of(ObjectKind::Charge, charge_id).unwrap(),
        );
        assert_eq!(charge["disputed"], true);
        assert!(charge["created"].as_i64().unwrap() <= dispute["created"].as_i64().unwrap());
    }
    for subscription in running.list_all("/v1/subscriptions?status=all", 100).await {
        let customer = subscription["customer"].as_str().unwrap();
        assert!(generator.index_of(ObjectKind::Customer, customer).is_some());
        let price = &subscription["items"]["data"][0]["price"];
        assert!(generator
            .index_of(ObjectKind::Price, price["id"].as_str().unwrap())
            .is_some());
        if subscription["status"] == "canceled" {
            assert!(subscription["canceled_at"].is_i64() && subscription["ended_at"].is_i64());
        }
        if subscription["status"] == "trialing" {
            assert!(subscription["trial_end"].as_i64().unwrap() > NOW);
        }
    }
    for invoice in running.list_all("/v1/invoices", 100).await {
        if let Some(subscription) = invoice["subscription"].as_str() {
            let index = generator
                .index_of(ObjectKind::Subscription, subscription)
                .unwrap();
            assert!(
                generator.created(ObjectKind::Subscription, index)
                    <= invoice["created"].as_i64().unwrap()
            );
        }
        let total = invoice["total"].as_i64().unwrap();
        assert_eq!(invoice["amount_due"].as_i64().unwrap(), total);
        assert!(invoice["amount_paid"].as_i64().unwrap() <= total);
    }
}
