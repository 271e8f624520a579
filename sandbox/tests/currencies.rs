//! Subscriptions are billed in their customer's currency (USD, EUR or GBP), as Stripe bills them: the prices of
//! that currency (each USD price has EUR and GBP counterparts of its own), invoices, lines, discounts and
//! coupons all in it, for the subscription's whole life.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};

use allmetrics_sandbox::{Generator, ObjectKind};
use common::NOW;
use serde_json::Value;

const CURRENCIES: [&str; 3] = ["usd", "eur", "gbp"];

/// Every price of the catalog, as published, by id.
fn prices(generator: &Generator) -> HashMap<String, Value> {
    (0..generator.count_total(ObjectKind::Price))
        .map(|index| {
            let price = generator.object_at(ObjectKind::Price, index, generator.start() + 86_400);
            (price["id"].as_str().unwrap().to_owned(), price)
        })
        .collect()
}

/// Every invoice of the whole span (the future included) of each subscription id.
fn invoices_by_subscription(generator: &Generator) -> HashMap<String, Vec<Value>> {
    let end = generator.horizon();
    let mut by_subscription: HashMap<String, Vec<Value>> = HashMap::new();
    for index in 0..generator.count_total(ObjectKind::Invoice) {
        let invoice = generator.object_at(ObjectKind::Invoice, index, end);
        if let Some(subscription) = invoice["subscription"].as_str() {
            by_subscription
                .entry(subscription.to_owned())
                .or_default()
                .push(invoice);
        }
    }
    by_subscription
}

/// The customer's currency, read as it was created (a customer deleted later still had one).
fn currency_of_customer(generator: &Generator, id: &str) -> String {
    let index = generator.index_of(ObjectKind::Customer, id).unwrap();
    let created = generator.created(ObjectKind::Customer, index);
    let customer = generator.object_at(ObjectKind::Customer, index, created);
    customer["currency"].as_str().unwrap().to_owned()
}

/// The subscription's currency is its customer's; its items, invoices, lines, discounts and coupon are in it,
/// and amounts add up. Returns the number of subscriptions per currency, and of EUR or GBP ones with an
/// amount-off coupon.
fn check(seed: u64, size: u64) -> (BTreeMap<String, u64>, u64) {
    let generator = Generator::new(seed, size, NOW);
    let end = generator.horizon();
    let prices = prices(&generator);
    let invoices = invoices_by_subscription(&generator);
    let mut per_currency: BTreeMap<String, u64> = BTreeMap::new();
    let mut amount_off_coupons = 0;
    let mut local_amount_off = 0;
    for index in 0..generator.count_total(ObjectKind::Subscription) {
        let created = generator.created(ObjectKind::Subscription, index);
        let last = generator.object_at(ObjectKind::Subscription, index, end);
        let id = last["id"].as_str().unwrap();
        let currency = last["currency"].as_str().unwrap().to_owned();
        assert!(CURRENCIES.contains(&currency.as_str()), "{id}: {currency}");
        assert_eq!(
            currency_of_customer(&generator, last["customer"].as_str().unwrap()),
            currency,
            "seed {seed} {id}: the customer's currency"
        );
        *per_currency.entry(currency.clone()).or_default() += 1;

        // Its items over its life (before and after a change) are priced in its currency.
        let life_end = last["ended_at"].as_i64().unwrap_or(end);
        let mut instants = vec![created, (created + life_end) / 2, life_end - 1, end];
        instants.extend(
            invoices
                .get(id)
                .into_iter()
                .flatten()
                .map(|i| i["created"].as_i64().unwrap()),
        );
        for t in instants {
            let subscription = generator.object_at(ObjectKind::Subscription, index, t);
            assert_eq!(subscription["currency"], currency.as_str());
            for item in subscription["items"]["data"].as_array().unwrap() {
                let price = &item["price"];
                assert_eq!(price["currency"], currency.as_str(), "{id} at {t}");
                assert_eq!(
                    prices[price["id"].as_str().unwrap()]["currency"],
                    currency.as_str()
                );
                assert_eq!(
                    prices[price["id"].as_str().unwrap()]["unit_amount"],
                    price["unit_amount"]
                );
                assert!(
                    price["created"].as_i64().unwrap() <= created,
                    "{id}: {price}"
                );
                let plan = &item["plan"];
                assert_eq!(plan["id"], price["id"]);
                assert_eq!(plan["currency"], price["currency"]);
                assert_eq!(plan["amount"], price["unit_amount"]);
                assert_eq!(plan["product"], price["product"]);
            }
            if let Some(from) = ["upgraded_from", "downgraded_from"]
                .iter()
                .find_map(|key| subscription["metadata"][key].as_str())
            {
                assert_eq!(prices[from]["currency"], currency.as_str(), "{id}");
            }
        }

        // The coupon: a percentage has no currency, an amount off the subscription's.
        let discount = last["discounts"].as_array().unwrap().first().cloned();
        if let Some(discount) = &discount {
            let coupon = &discount["coupon"];
            if coupon["amount_off"].is_i64() {
                amount_off_coupons += 1;
                if currency != "usd" {
                    local_amount_off += 1;
                }
                assert_eq!(coupon["currency"], currency.as_str(), "{id}: {coupon}");
                assert!(coupon["percent_off"].is_null());
            } else {
                assert!(coupon["currency"].is_null(), "{coupon}");
                assert!(coupon["percent_off"].is_f64());
            }
        }

        for invoice in invoices.get(id).into_iter().flatten() {
            let invoice_id = invoice["id"].as_str().unwrap();
            assert_eq!(invoice["currency"], currency.as_str(), "{invoice_id}");
            assert_eq!(invoice["customer"], last["customer"]);
            let mut subtotal = 0;
            let mut discounted = 0;
            for line in invoice["lines"]["data"].as_array().unwrap() {
                assert_eq!(line["currency"], currency.as_str(), "{invoice_id}");
                let price_id = line["pricing"]["price_details"]["price"].as_str().unwrap();
                let price = &prices[price_id];
                assert_eq!(price["currency"], currency.as_str(), "{invoice_id}");
                assert_eq!(
                    line["pricing"]["price_details"]["product"],
                    price["product"]
                );
                let unit: i64 = line["pricing"]["unit_amount_decimal"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(unit, price["unit_amount"].as_i64().unwrap(), "{line}");
                let amount = line["amount"].as_i64().unwrap();
                let quantity = line["quantity"].as_i64().unwrap();
                let proration = line["parent"]["subscription_item_details"]["proration"]
                    .as_bool()
                    .unwrap();
                assert_eq!(line["subtotal"], amount);
                if !proration {
                    // A trial's invoice bills its period at 0.
                    let trial = invoice["billing_reason"] == "subscription_create"
                        && last["trial_start"].is_i64();
                    let expected = if trial { 0 } else { unit * quantity };
                    assert_eq!(amount, expected, "{invoice_id}: {line}");
                    let symbol = match currency.as_str() {
                        "eur" => "€",
                        "gbp" => "£",
                        _ => "$",
                    };
                    let description = line["description"].as_str().unwrap();
                    assert!(
                        trial || description.contains(&format!("at {symbol}")),
                        "{description}"
                    );
                } else {
                    assert!(amount.abs() <= unit * quantity, "{line}");
                }
                let line_discount: i64 = line["discount_amounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["amount"].as_i64().unwrap())
                    .sum();
                assert!(line_discount <= amount.max(0), "{line}");
                if line_discount > 0 {
                    let coupon = &discount.as_ref().expect("a discount has a coupon")["coupon"];
                    if let Some(off) = coupon["amount_off"].as_i64() {
                        assert_eq!(line_discount, off.min(amount));
                    }
                }
                subtotal += amount;
                discounted += line_discount;
            }
            assert_eq!(
                invoice["subtotal"].as_i64().unwrap(),
                subtotal,
                "{invoice_id}"
            );
            assert_eq!(
                invoice["total"].as_i64().unwrap(),
                subtotal - discounted,
                "{invoice_id}"
            );
            let total_discounts: i64 = invoice["total_discount_amounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["amount"].as_i64().unwrap())
                .sum();
            assert_eq!(total_discounts, discounted, "{invoice_id}");
            assert_eq!(
                invoice["amount_due"].as_i64().unwrap(),
                (subtotal - discounted).max(0)
            );
        }
    }
    assert!(
        amount_off_coupons > 0,
        "seed {seed}: some amount-off coupons"
    );
    (per_currency, local_amount_off)
}

#[test]
fn subscriptions_are_billed_in_their_customers_currency() {
    let mut local_amount_off = 0;
    for (seed, size) in [(3, 400), (11, 300), (29, 500)] {
        let (per_currency, local) = check(seed, size);
        local_amount_off += local;
        let total: u64 = per_currency.values().sum();
        for currency in CURRENCIES {
            assert!(
                per_currency.get(currency).is_some_and(|&n| n > 0),
                "seed {seed}: no {currency} subscription: {per_currency:?}"
            );
        }
        let share = |currency: &str| per_currency[currency] as f64 / total as f64;
        assert!((0.6..0.88).contains(&share("usd")), "{per_currency:?}");
        assert!((0.08..0.28).contains(&share("eur")), "{per_currency:?}");
        assert!((0.03..0.16).contains(&share("gbp")), "{per_currency:?}");
    }
    assert!(
        local_amount_off > 0,
        "EUR or GBP subscriptions with an amount off"
    );
}

/// Active subscriptions per currency at the sandbox's start, for the default size (printed with
/// `--nocapture`): the three currencies are there, USD ahead.
#[test]
fn active_subscriptions_per_currency_at_the_start() {
    for seed in [3, 11, 29] {
        let generator = Generator::new(seed, 2000, NOW);
        let mut active: BTreeMap<String, u64> = BTreeMap::new();
        for index in 0..generator.count(ObjectKind::Subscription) {
            let subscription = generator.object(ObjectKind::Subscription, index);
            if subscription["status"] == "active" {
                *active
                    .entry(subscription["currency"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        println!("seed {seed}: active subscriptions at the start {active:?}");
        assert!(
            active["usd"] > active["eur"] && active["eur"] > active["gbp"] && active["gbp"] > 0
        );
    }
}

#[test]
fn every_price_has_eur_and_gbp_counterparts() {
    let generator = Generator::new(5, 100, NOW);
    let all: Vec<Value> = prices(&generator).into_values().collect();
    let usd: Vec<&Value> = all.iter().filter(|p| p["currency"] == "usd").collect();
    assert_eq!(usd.len(), 25);
    assert_eq!(all.len(), 75);
    let mut lookup_keys: Vec<&str> = all
        .iter()
        .map(|p| p["lookup_key"].as_str().unwrap())
        .collect();
    lookup_keys.sort_unstable();
    lookup_keys.dedup();
    assert_eq!(lookup_keys.len(), all.len(), "lookup keys are unique");
    for price in &usd {
        for currency in ["eur", "gbp"] {
            let same = |p: &&Value| {
                p["currency"] == currency
                    && p["product"] == price["product"]
                    && p["recurring"] == price["recurring"]
                    && p["type"] == price["type"]
                    && p["billing_scheme"] == price["billing_scheme"]
                    && p["tiers_mode"] == price["tiers_mode"]
                    && p["active"] == price["active"]
            };
            let counterparts: Vec<&Value> = all.iter().filter(same).collect();
            assert_eq!(counterparts.len(), 1, "{price}");
            let counterpart = counterparts[0];
            assert_ne!(counterpart["id"], price["id"]);
            let amount = counterpart["unit_amount"].as_i64().unwrap();
            let usd_amount = price["unit_amount"].as_i64().unwrap();
            // Rounded: whole units a month (so whole cents for quarterly and yearly), below the USD amount.
            assert_eq!(amount % 10, 0, "{counterpart}");
            assert!(amount > 0 && amount <= usd_amount, "{counterpart} {price}");
            assert!(amount * 2 > usd_amount, "{counterpart} {price}");
            assert_eq!(
                counterpart["unit_amount_decimal"],
                amount.to_string().as_str()
            );
            assert!(counterpart["created"].as_i64().unwrap() > price["created"].as_i64().unwrap());
        }
    }
}

#[test]
fn the_legacy_plan_retires_in_every_currency() {
    let generator = Generator::new(5, 100, NOW);
    let later = NOW + 121 * 86_400;
    let legacy = generator.id(ObjectKind::Product, 9);
    let mut deleted = 0;
    for index in 0..generator.count_total(ObjectKind::Price) {
        let price = generator.object_at(ObjectKind::Price, index, NOW);
        if price["product"] == legacy.as_str() {
            assert_eq!(price["active"], false);
            assert_eq!(
                generator.object_at(ObjectKind::Price, index, later)["deleted"],
                true
            );
            deleted += 1;
        } else {
            assert!(generator.exists_at(ObjectKind::Price, index, later));
        }
    }
    assert_eq!(deleted, 6, "monthly and yearly, in three currencies");
}

/// Charges for subscriptions are at a price of the charge's currency; balance transactions convert them to USD.
#[test]
fn subscription_charges_are_in_their_currency() {
    let generator = Generator::new(8, 400, NOW);
    let amounts: HashMap<String, Vec<i64>> =
        prices(&generator)
            .into_values()
            .fold(HashMap::new(), |mut amounts, price| {
                amounts
                    .entry(price["currency"].as_str().unwrap().to_owned())
                    .or_default()
                    .push(price["unit_amount"].as_i64().unwrap());
                amounts
            });
    let mut seen = 0;
    for index in 0..generator.count(ObjectKind::Charge) {
        let charge = generator.object(ObjectKind::Charge, index);
        let currency = charge["currency"].as_str().unwrap();
        if charge["description"] != "Subscription update" || !CURRENCIES.contains(&currency) {
            continue;
        }
        let amount = charge["amount"].as_i64().unwrap();
        assert!(amounts[currency].contains(&amount), "{charge}");
        if currency != "usd" && charge["status"] != "failed" {
            seen += 1;
            let transaction = generator.object(ObjectKind::BalanceTransaction, index);
            assert_eq!(transaction["currency"], "usd");
            let rate = transaction["exchange_rate"].as_f64().unwrap();
            assert_eq!(
                transaction["amount"].as_i64().unwrap(),
                (amount as f64 * rate).round() as i64
            );
        }
    }
    assert!(seen > 10, "{seen}");
}

#[test]
fn same_seed_same_subscriptions_invoices_and_prices() {
    let a = Generator::new(29, 250, NOW);
    let b = Generator::new(29, 250, NOW);
    let at = NOW + 200 * 86_400;
    for kind in [
        ObjectKind::Subscription,
        ObjectKind::Invoice,
        ObjectKind::Price,
        ObjectKind::Charge,
    ] {
        assert_eq!(a.count_total(kind), b.count_total(kind));
        for index in 0..a.count_total(kind) {
            assert_eq!(
                a.object_at(kind, index, at).to_string(),
                b.object_at(kind, index, at).to_string(),
                "{kind:?} {index}"
            );
        }
    }
}
