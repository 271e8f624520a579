//! Stripe's subscriptions as histories for the subscription metrics: each subscription's current
//! state, the line items (and service periods) of its invoices, and the prices they name.

use std::collections::HashMap;

use allmetrics_subscriptions::{
    invoice_subscriptions, rebuild_history, PriceBook, SubscriptionHistory,
};

use crate::providers::{StoredSubscriptions, SubscriptionObjects};

pub const OBJECTS: SubscriptionObjects = SubscriptionObjects {
    subscriptions: "Subscription",
    invoices: "Invoice",
    prices: "Price",
};

/// Every stored subscription's history. Events are not kept in the store (Stripe keeps them 30
/// days): the past comes from the invoices' line items.
pub fn histories(stored: StoredSubscriptions) -> Vec<SubscriptionHistory> {
    let prices = PriceBook::from_prices(&stored.prices);
    let mut invoices: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for invoice in stored.invoices {
        let mut billed = invoice_subscriptions(&invoice);
        // Moved to its last subscription, copied only when it bills several.
        if let Some(last) = billed.pop() {
            for subscription in billed {
                invoices
                    .entry(subscription)
                    .or_default()
                    .push(invoice.clone());
            }
            invoices.entry(last).or_default().push(invoice);
        }
    }
    // Each subscription with its own invoices, rebuilt (and dropped) on every core.
    let subscriptions: Vec<(serde_json::Value, Vec<serde_json::Value>)> = stored
        .subscriptions
        .into_iter()
        .map(|subscription| {
            let own = subscription
                .get("id")
                .and_then(serde_json::Value::as_str)
                .and_then(|id| invoices.remove(id))
                .unwrap_or_default();
            (subscription, own)
        })
        .collect();
    let mut histories: Vec<SubscriptionHistory> =
        // A few hundred microseconds each: a sync's page of ten is worth two threads.
        crate::parallel::map_at_least(4, subscriptions, |(subscription, own)| {
            rebuild_history(&subscription, &own, &[], &prices).ok()
        })
        .into_iter()
        .flatten()
        .collect();
    // Stable order, whatever order the store returned them in.
    histories.sort_by(|a, b| a.id.cmp(&b.id));
    histories
}
