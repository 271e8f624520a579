//! Subscription histories can be rebuilt from the invoices the sandbox serves, as from Stripe Billing's: for
//! every subscription and every instant of its life, the (price, quantity) items read from its invoices' lines
//! are the ones the subscription itself has then.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use allmetrics_sandbox::{Generator, ObjectKind};
use common::NOW;
use serde_json::Value;

const DAY: i64 = 86_400;

/// A line as a reader keeps it.
#[derive(Debug, Clone)]
struct Line {
    price: String,
    quantity: u64,
    amount: i64,
    start: i64,
    end: i64,
    proration: bool,
    discount: i64,
}

#[derive(Debug, Clone)]
struct Invoice {
    created: i64,
    reason: String,
    lines: Vec<Line>,
}

/// Every invoice of the whole span (the future included), grouped by subscription id.
fn invoices_by_subscription(generator: &Generator) -> HashMap<String, Vec<Invoice>> {
    let end = generator.horizon();
    let mut by_subscription: HashMap<String, Vec<Invoice>> = HashMap::new();
    let mut previous = i64::MIN;
    for index in 0..generator.count_total(ObjectKind::Invoice) {
        let invoice = generator.object_at(ObjectKind::Invoice, index, end);
        let created = invoice["created"].as_i64().unwrap();
        assert!(created >= previous, "invoice {index}: created goes back");
        previous = created;
        assert_eq!(
            generator.index_of(ObjectKind::Invoice, invoice["id"].as_str().unwrap()),
            Some(index)
        );
        let Some(subscription) = invoice["subscription"].as_str() else {
            assert_eq!(invoice["billing_reason"], "manual");
            continue;
        };
        assert_eq!(
            invoice["parent"]["subscription_details"]["subscription"],
            subscription
        );
        let lines = invoice["lines"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| {
                let details = &line["parent"]["subscription_item_details"];
                assert_eq!(details["subscription"], subscription);
                let amount = line["amount"].as_i64().unwrap();
                let quantity = line["quantity"].as_u64().unwrap();
                let unit: i64 = line["pricing"]["unit_amount_decimal"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let proration = details["proration"].as_bool().unwrap();
                if !proration && invoice["billing_reason"] != "subscription_create" {
                    assert_eq!(amount, unit * quantity as i64, "{line}");
                }
                Line {
                    price: line["pricing"]["price_details"]["price"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    quantity,
                    amount,
                    start: line["period"]["start"].as_i64().unwrap(),
                    end: line["period"]["end"].as_i64().unwrap(),
                    proration,
                    discount: line["discount_amounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d["amount"].as_i64().unwrap())
                        .sum(),
                }
            })
            .collect::<Vec<_>>();
        let subtotal: i64 = lines.iter().map(|line| line.amount).sum();
        let discounted: i64 = lines.iter().map(|line| line.discount).sum();
        assert_eq!(invoice["subtotal"].as_i64().unwrap(), subtotal);
        assert_eq!(invoice["total"].as_i64().unwrap(), subtotal - discounted);
        assert_eq!(
            invoice["amount_due"].as_i64().unwrap(),
            (subtotal - discounted).max(0)
        );
        by_subscription
            .entry(subscription.to_owned())
            .or_default()
            .push(Invoice {
                created,
                reason: invoice["billing_reason"].as_str().unwrap().to_owned(),
                lines,
            });
    }
    by_subscription
}

/// The items in force at `t` as the invoices tell: the lines billing a period that contains `t`, with the
/// prorations over `t` applied (a credit removes an item, a charge adds one).
fn items_from_invoices(invoices: &[Invoice], t: i64) -> Vec<(String, u64)> {
    let mut items: Vec<(String, u64)> = Vec::new();
    let mut removed: Vec<(String, u64)> = Vec::new();
    for line in invoices.iter().flat_map(|invoice| &invoice.lines) {
        if !(line.start <= t && t < line.end) {
            continue;
        }
        let item = (line.price.clone(), line.quantity);
        if line.proration && line.amount < 0 {
            removed.push(item);
        } else {
            items.push(item);
        }
    }
    for item in removed {
        let position = items
            .iter()
            .position(|i| *i == item)
            .expect("credit of an item billed");
        items.remove(position);
    }
    items.sort();
    items
}

fn items_of(subscription: &Value) -> Vec<(String, u64)> {
    let mut items: Vec<(String, u64)> = subscription["items"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["price"]["id"].as_str().unwrap().to_owned(),
                item["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    items.sort();
    items
}

fn check(seed: u64, size: u64, step: i64) {
    let generator = Generator::new(seed, size, NOW);
    let end = generator.horizon();
    let by_subscription = invoices_by_subscription(&generator);
    let mut changes = 0;
    let mut coupons = 0;
    let mut checked = 0u64;
    for index in 0..generator.count_total(ObjectKind::Subscription) {
        let last = generator.object_at(ObjectKind::Subscription, index, end);
        let id = last["id"].as_str().unwrap();
        let created = last["created"].as_i64().unwrap();
        let life_end = last["ended_at"].as_i64().unwrap_or(end);
        let invoices = by_subscription.get(id).cloned().unwrap_or_default();
        assert!(!invoices.is_empty(), "{id} has no invoice");
        assert_eq!(
            invoices[0].created, created,
            "{id}: first invoice at creation"
        );
        assert_eq!(invoices[0].reason, "subscription_create");
        assert!(
            invoices.iter().all(|invoice| invoice.created < life_end),
            "{id}: an invoice after its end"
        );
        // Instants: every day of its life (at a drifting time of day) and every invoice's creation.
        let mut instants: Vec<i64> = (0..)
            .map(|d| created + d * step + (d * 3_607) % DAY)
            .take_while(|&t| t < life_end)
            .collect();
        instants.extend(invoices.iter().map(|invoice| invoice.created));
        instants.push(life_end - 1);
        instants.sort_unstable();
        let mut previous: Option<Vec<(String, u64)>> = None;
        let mut seen_changes = Vec::new();
        for t in instants {
            let truth = items_of(&generator.object_at(ObjectKind::Subscription, index, t));
            assert_eq!(
                items_from_invoices(&invoices, t),
                truth,
                "seed {seed} size {size} {id} at {t} (created {created}, ended {life_end})"
            );
            checked += 1;
            if previous.as_ref().is_some_and(|p| *p != truth) {
                seen_changes.push(t);
            }
            previous = Some(truth);
        }
        // Proration invoices exist exactly for the mid-period changes, at the change.
        let updates: Vec<&Invoice> = invoices
            .iter()
            .filter(|invoice| invoice.reason == "subscription_update")
            .collect();
        assert_eq!(updates.len(), seen_changes.len(), "{id}: {updates:?}");
        for (update, seen) in updates.iter().zip(&seen_changes) {
            changes += 1;
            assert!(update.created <= *seen);
            assert_eq!(update.lines.len(), 2);
            assert!(update
                .lines
                .iter()
                .all(|line| line.proration && line.start == update.created));
            assert!(update.lines[0].amount < 0 && update.lines[1].amount > 0);
            let truth =
                items_of(&generator.object_at(ObjectKind::Subscription, index, update.created));
            let before =
                items_of(&generator.object_at(ObjectKind::Subscription, index, update.created - 1));
            assert_ne!(truth, before, "{id}: the update invoice is at the change");
        }
        if check_discounts(&last, &invoices) {
            coupons += 1;
        }
        // The billed periods follow each other without gap from creation on.
        let mut periods: Vec<(i64, i64)> = invoices
            .iter()
            .filter(|invoice| invoice.reason != "subscription_update")
            .map(|invoice| (invoice.lines[0].start, invoice.lines[0].end))
            .collect();
        periods.sort_unstable();
        assert_eq!(periods[0].0, created);
        for pair in periods.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "{id}: {periods:?}");
        }
        assert!(periods.last().unwrap().1 >= life_end.min(end));
    }
    assert!(changes > 0, "some subscriptions change");
    assert!(coupons > 0, "some subscriptions have a coupon");
    assert!(checked > 1000);
}

/// A coupon's discount is on the lines it covers, and only on them.
fn check_discounts(subscription: &Value, invoices: &[Invoice]) -> bool {
    let id = subscription["id"].as_str().unwrap();
    let billed: Vec<&Line> = invoices
        .iter()
        .filter(|invoice| invoice.reason != "subscription_update")
        .flat_map(|invoice| invoice.lines.iter().map(move |line| (invoice, line)))
        .filter(|(_, line)| line.amount > 0)
        .map(|(_, line)| line)
        .collect();
    let Some(discount) = subscription["discounts"].as_array().unwrap().first() else {
        assert!(invoices
            .iter()
            .flat_map(|i| &i.lines)
            .all(|l| l.discount == 0));
        return false;
    };
    let coupon = &discount["coupon"];
    assert_eq!(discount["source"]["coupon"], coupon["id"]);
    let expected = |line: &Line| match coupon["percent_off"].as_f64() {
        Some(percent) => (line.amount as f64 * percent / 100.0).round() as i64,
        None => coupon["amount_off"].as_i64().unwrap().min(line.amount),
    };
    let discounted = billed.iter().filter(|line| line.discount > 0).count();
    for line in &billed {
        if line.discount > 0 {
            assert_eq!(line.discount, expected(line), "{id}");
        }
    }
    match coupon["duration"].as_str().unwrap() {
        "forever" => assert_eq!(discounted, billed.len(), "{id}"),
        "once" => assert_eq!(discounted, billed.len().min(1), "{id}"),
        "repeating" => {
            let end = discount["end"].as_i64().unwrap();
            for invoice in invoices {
                for line in invoice
                    .lines
                    .iter()
                    .filter(|l| !l.proration && l.amount > 0)
                {
                    assert_eq!(line.discount > 0, invoice.created < end, "{id}");
                }
            }
        }
        other => panic!("{other}"),
    }
    assert!(invoices
        .iter()
        .flat_map(|i| &i.lines)
        .all(|l| !l.proration || l.discount == 0));
    discounted > 0
}

#[test]
fn subscription_items_rebuild_from_their_invoices_at_every_instant() {
    check(1, 150, DAY);
    check(2, 300, DAY);
    check(3, 800, 5 * DAY);
}

#[test]
fn invoice_kinds_and_counts() {
    let generator = Generator::new(4, 500, NOW);
    let mut reasons: HashMap<String, u64> = HashMap::new();
    for index in 0..generator.count(ObjectKind::Invoice) {
        let invoice = generator.object(ObjectKind::Invoice, index);
        *reasons
            .entry(invoice["billing_reason"].as_str().unwrap().to_owned())
            .or_default() += 1;
        assert!(invoice["created"].as_i64().unwrap() <= NOW);
        assert!(invoice["amount_due"].as_i64().unwrap() >= 0);
    }
    for reason in [
        "subscription_create",
        "subscription_cycle",
        "subscription_update",
        "manual",
    ] {
        assert!(
            reasons.get(reason).is_some_and(|&n| n > 0),
            "{reason}: {reasons:?}"
        );
    }
    // Renewals dominate: a subscription is invoiced every period it lives.
    assert!(reasons["subscription_cycle"] > 3 * reasons["subscription_create"]);

    // Quarterly plans bill three months at a time.
    let by_subscription = invoices_by_subscription(&generator);
    let mut quarterly = 0;
    for index in 0..generator.count(ObjectKind::Subscription) {
        let subscription = generator.object(ObjectKind::Subscription, index);
        let recurring = &subscription["items"]["data"][0]["price"]["recurring"];
        if recurring["interval_count"] != 3 {
            continue;
        }
        assert_eq!(recurring["interval"], "month");
        quarterly += 1;
        let id = subscription["id"].as_str().unwrap();
        for invoice in &by_subscription[id] {
            if invoice.reason == "subscription_cycle" {
                let days = (invoice.lines[0].end - invoice.lines[0].start) / DAY;
                assert!((89..=92).contains(&days), "{id}: {days} days");
            }
        }
    }
    assert!(quarterly > 0);
}
