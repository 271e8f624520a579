//! Generated objects follow Stripe's shapes: Stripe's own example objects (fixtures3.json, when the shared
//! folder is present) and a list of fields allmetrics relies on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use allmetrics_sandbox::{Generator, ObjectKind};
use common::NOW;
use serde_json::Value;

fn fixtures() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/providers/stripe/fixtures3.json");
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(_) => {
            println!(
                "skipping the fixture comparison: {} is absent",
                path.display()
            );
            None
        }
    }
}

/// Fields the fixture's minimal examples lack but Stripe does send (or the sandbox promises on every object).
fn tolerated(path: &str) -> bool {
    const ALWAYS: [&str; 4] = ["id", "object", "created", "livemode"];
    let top = path.split('.').nth(1).unwrap_or_default();
    (path.split('.').count() == 2 && ALWAYS.contains(&top))
        || path.contains(".metadata.")
        || path.starts_with("payment_intent.last_payment_error.")
        || path.starts_with("invoice.lines.data[].pricing.price_details")
}

/// Every key of `generated`, at every depth where the fixture has an object too, must exist in the fixture.
fn invented_keys(generated: &Value, fixture: &Value, path: &str, out: &mut Vec<String>) {
    match (generated, fixture) {
        (Value::Object(generated), Value::Object(fixture)) => {
            for (key, value) in generated {
                let child = format!("{path}.{key}");
                match fixture.get(key) {
                    None if !tolerated(&child) => out.push(child),
                    None => {}
                    Some(expected) => invented_keys(value, expected, &child, out),
                }
            }
        }
        (Value::Array(generated), Value::Array(fixture)) => {
            if let (Some(first), Some(expected)) = (generated.first(), fixture.first()) {
                invented_keys(first, expected, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn samples(generator: &Generator, kind: ObjectKind) -> impl Iterator<Item = Value> + '_ {
    let count = generator.count(kind);
    let step = (count / 150).max(1);
    (0..count)
        .step_by(step as usize)
        .map(move |i| generator.object(kind, i))
}

#[test]
fn generated_objects_use_only_fixture_field_names() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let generator = Generator::new(42, 500, NOW);
    for kind in ObjectKind::ALL {
        let fixture = &fixtures["resources"][kind.object_name()];
        assert!(fixture.is_object(), "fixture for {}", kind.object_name());
        let mut invented = Vec::new();
        for object in samples(&generator, kind) {
            invented_keys(&object, fixture, kind.object_name(), &mut invented);
        }
        invented.sort();
        invented.dedup();
        assert!(
            invented.is_empty(),
            "{} invents {invented:?}",
            kind.object_name()
        );
    }
}

/// The fields allmetrics charts and the paths the brief names, present with the right JSON types.
#[test]
fn important_fields_are_present() {
    let generator = Generator::new(7, 300, NOW);
    let required: [(ObjectKind, &[(&str, &str)]); 11] = [
        (
            ObjectKind::Customer,
            &[
                ("/email", "string"),
                ("/name", "string"),
                ("/currency", "string"),
                ("/address/country", "string"),
                ("/metadata", "object"),
                ("/delinquent", "bool"),
            ],
        ),
        (
            ObjectKind::Charge,
            &[
                ("/amount", "int"),
                ("/amount_captured", "int"),
                ("/amount_refunded", "int"),
                ("/currency", "string"),
                ("/status", "string"),
                ("/paid", "bool"),
                ("/captured", "bool"),
                ("/refunded", "bool"),
                ("/disputed", "bool"),
                ("/payment_method_details/card/brand", "string"),
                ("/payment_method_details/card/last4", "string"),
                ("/billing_details/address/country", "string"),
                ("/outcome/type", "string"),
                ("/payment_intent", "string"),
                ("/refunds/data", "array"),
            ],
        ),
        (
            ObjectKind::Invoice,
            &[
                ("/amount_due", "int"),
                ("/amount_paid", "int"),
                ("/amount_remaining", "int"),
                ("/total", "int"),
                ("/subtotal", "int"),
                ("/status", "string"),
                ("/currency", "string"),
                ("/customer", "string"),
                ("/billing_reason", "string"),
                ("/period_start", "int"),
                ("/period_end", "int"),
                ("/lines/data/0/amount", "int"),
                ("/status_transitions", "object"),
            ],
        ),
        (
            ObjectKind::Subscription,
            &[
                ("/status", "string"),
                ("/customer", "string"),
                ("/currency", "string"),
                ("/start_date", "int"),
                ("/cancel_at_period_end", "bool"),
                ("/items/data/0/price/unit_amount", "int"),
                ("/items/data/0/price/recurring/interval", "string"),
                ("/items/data/0/price/product", "string"),
                ("/items/data/0/quantity", "int"),
                ("/items/data/0/current_period_start", "int"),
                ("/items/data/0/current_period_end", "int"),
                ("/items/data/0/plan/amount", "int"),
            ],
        ),
        (
            ObjectKind::PaymentIntent,
            &[
                ("/amount", "int"),
                ("/amount_received", "int"),
                ("/status", "string"),
                ("/currency", "string"),
                ("/latest_charge", "string"),
                ("/payment_method_types", "array"),
            ],
        ),
        (
            ObjectKind::Refund,
            &[
                ("/amount", "int"),
                ("/charge", "string"),
                ("/currency", "string"),
                ("/status", "string"),
                ("/reason", "string"),
            ],
        ),
        (
            ObjectKind::BalanceTransaction,
            &[
                ("/amount", "int"),
                ("/fee", "int"),
                ("/net", "int"),
                ("/type", "string"),
                ("/status", "string"),
                ("/available_on", "int"),
                ("/reporting_category", "string"),
            ],
        ),
        (
            ObjectKind::Payout,
            &[
                ("/amount", "int"),
                ("/arrival_date", "int"),
                ("/status", "string"),
                ("/currency", "string"),
            ],
        ),
        (
            ObjectKind::Dispute,
            &[
                ("/amount", "int"),
                ("/charge", "string"),
                ("/reason", "string"),
                ("/status", "string"),
                ("/evidence_details/due_by", "int"),
            ],
        ),
        (
            ObjectKind::Product,
            &[
                ("/name", "string"),
                ("/active", "bool"),
                ("/default_price", "string"),
            ],
        ),
        (
            ObjectKind::Price,
            &[
                ("/unit_amount", "int"),
                ("/currency", "string"),
                ("/product", "string"),
                ("/recurring/interval", "string"),
                ("/type", "string"),
            ],
        ),
    ];
    for (kind, fields) in required {
        for object in samples(&generator, kind) {
            for key in ["/id", "/object", "/created", "/livemode"] {
                assert!(object.pointer(key).is_some(), "{kind:?} lacks {key}");
            }
            assert_eq!(object["livemode"], false);
            assert!(object["created"].is_i64());
            for (pointer, kind_of_value) in fields {
                let value = object
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{kind:?} lacks {pointer}: {object}"));
                let ok = match *kind_of_value {
                    "string" => value.is_string(),
                    "int" => value.is_i64(),
                    "bool" => value.is_boolean(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    _ => false,
                };
                // Some fields are null in some states (a failed charge has no card charge yet, ...).
                assert!(
                    ok || value.is_null() && nullable(kind, pointer),
                    "{kind:?} {pointer} = {value}"
                );
            }
        }
    }
}

fn nullable(kind: ObjectKind, pointer: &str) -> bool {
    matches!(
        (kind, pointer),
        (ObjectKind::Customer, "/currency") | (ObjectKind::Refund, "/reason")
    )
}

#[test]
fn distributions_look_like_a_business() {
    let generator = Generator::new(42, 2000, NOW);
    let charges: Vec<Value> = (0..generator.count(ObjectKind::Charge))
        .map(|i| generator.object(ObjectKind::Charge, i))
        .collect();
    let share = |predicate: &dyn Fn(&Value) -> bool| {
        charges.iter().filter(|c| predicate(c)).count() as f64 / charges.len() as f64
    };
    let failed = share(&|c| c["status"] == "failed");
    assert!((0.05..0.11).contains(&failed), "failed {failed}");
    let usd = share(&|c| c["currency"] == "usd");
    assert!((0.55..0.85).contains(&usd), "usd {usd}");
    for brand in ["visa", "mastercard", "amex", "discover"] {
        assert!(
            share(&|c| c["payment_method_details"]["card"]["brand"] == brand) > 0.03,
            "{brand}"
        );
    }
    let refunded = share(&|c| c["amount_refunded"].as_i64().unwrap() > 0);
    assert!((0.08..0.12).contains(&refunded), "refunded {refunded}");

    // Growth: the last quarter has clearly more charges than the first.
    let span = 730 * 86_400;
    let first = generator.count_created(ObjectKind::Charge, None, Some(NOW - span * 3 / 4));
    let last = generator.count_created(ObjectKind::Charge, Some(NOW - span / 4), None);
    assert!(last as f64 > first as f64 * 1.8, "{first} -> {last}");

    let subscriptions: Vec<Value> = (0..generator.count(ObjectKind::Subscription))
        .map(|i| generator.object(ObjectKind::Subscription, i))
        .collect();
    let count = |status: &str| {
        subscriptions
            .iter()
            .filter(|s| s["status"] == status)
            .count()
    };
    assert!(count("active") > subscriptions.len() / 3);
    assert!(count("canceled") > subscriptions.len() / 10);
    assert!(count("trialing") > 0);
    assert!(subscriptions
        .iter()
        .any(|s| s["metadata"]["upgraded_from"].is_string()));
    assert!(subscriptions
        .iter()
        .any(|s| s["items"]["data"][0]["price"]["recurring"]["interval"] == "year"));
}
