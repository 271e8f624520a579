//! Rebuilding a subscription's history from Stripe JSON, since Stripe keeps events for 30 days only.
//!
//! Sources, in Stripe's shapes (both the classic line item with `price`, `proration`, `subscription`, and
//! the 2025 one with `pricing.price_details.price` and `parent.subscription_item_details`):
//! * the subscription as it is now (items, status, `trial_start`/`trial_end`, `start_date`, `canceled_at`,
//!   `ended_at`, `pause_collection`, `discount`/`discounts` as expanded objects);
//! * its invoices' line items, with their service periods;
//! * `customer.subscription.*` events, with `data.previous_attributes` when present.
//!
//! Rules:
//! * Items. A non-proration line item tells the item set for its service period, from `period.start` (all
//!   such lines of one invoice with the same start form the set). Proration lines mark a mid-period change
//!   at their `period.start`: negative ones remove their price, the others add theirs (a quantity change is
//!   a removal and an addition of the same price). An `updated` event whose `previous_attributes` has
//!   `items` sets the object's items at the event; its previous items hold from the start when nothing
//!   earlier is known. The current items hold from the latest known change; if they differ from what the
//!   invoices and events say last, from the later of that and the current period's start. Before the first
//!   observation the first known items hold (from `start_date`). A line's price is the expanded `price`
//!   (or `plan`), else its id looked up in the [`PriceBook`] (which always has the current items' prices),
//!   else a price made from `unit_amount_decimal` and an interval guessed from the period's length
//!   (proration lines of unknown prices are skipped).
//! * Status. Incomplete (or expired) subscriptions never count. Otherwise `trialing` over
//!   `[trial_start, trial_end)`, then `active`; `updated` events with a previous `status` set the new
//!   status at the event (the previous one from the latest invoice period start before it, when later than
//!   the last known change); the current status, when it differs from the last known one, holds from the
//!   later of the last change and the current period's start; `canceled` from `ended_at`. A renewal
//!   (`subscription_cycle`, charged automatically) still `open` failed: the subscription was past due from
//!   its first attempt (`finalized_at`) and, when it is unpaid now or ended after Stripe's retries ran out,
//!   unpaid from [`RETRY_WINDOW`] later (unless events give these moments).
//! * Pauses: `pause_collection` set (or `customer.subscription.paused` / `resumed` events, or a previous
//!   `pause_collection` in an update) pauses; a current pause without an event starts at the later of the
//!   last known pause change and the current period's start.
//! * Discounts: every discount seen (current, in events' objects and previous attributes) applies between
//!   its `start` and its `end`, or until an event shows it removed.
//!
//! Not used (yet): discounts given only as ids (unexpanded), item-level discounts, invoice-level discounts
//! and `discount_amounts`, tiered prices (no `unit_amount`: they count 0), subscription schedules, and
//! events other than `customer.subscription.*`.

use std::collections::HashMap;

use serde_json::Value;

use crate::history::{
    Change, Coupon, CouponDuration, Discount, Item, Status, SubscriptionHistory, SubscriptionState,
    UsageType,
};
use crate::money::Interval;

/// Why a subscription cannot be rebuilt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StripeError {
    /// The JSON is not a subscription (no `id` or `customer`).
    NotASubscription,
}

impl std::fmt::Display for StripeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a Stripe subscription")
    }
}

impl std::error::Error for StripeError {}

/// Recurring prices by id (an item of quantity 1 each).
#[derive(Clone, Debug, Default)]
pub struct PriceBook {
    prices: HashMap<String, Item>,
}

impl PriceBook {
    pub fn new() -> PriceBook {
        PriceBook::default()
    }

    /// The recurring prices (or legacy plans) among `prices`.
    pub fn from_prices(prices: &[Value]) -> PriceBook {
        let mut book = PriceBook::new();
        for price in prices {
            book.add(price);
        }
        book
    }

    /// Adds a price or plan object; false when it is not a recurring one.
    pub fn add(&mut self, price: &Value) -> bool {
        match parse_price(price) {
            Some(item) => {
                self.prices.insert(item.price.clone(), item);
                true
            }
            None => false,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.prices.get(id)
    }
}

fn id_of(value: &Value) -> Option<&str> {
    value
        .as_str()
        .or_else(|| value.get("id").and_then(Value::as_str))
}

fn int(value: &Value, key: &str) -> Option<i64> {
    value.get(key).and_then(Value::as_i64)
}

/// A price (`recurring`) or a legacy plan (`interval` at the top) as an item of quantity 1.
fn parse_price(price: &Value) -> Option<Item> {
    let id = price.get("id")?.as_str()?;
    let recurring = price
        .get("recurring")
        .filter(|r| r.is_object())
        .unwrap_or(price);
    let interval = Interval::parse(recurring.get("interval")?.as_str()?)?;
    let count = int(recurring, "interval_count").unwrap_or(1);
    let unit_amount = int(price, "unit_amount")
        .or_else(|| int(price, "amount"))
        .or_else(|| {
            ["unit_amount_decimal", "amount_decimal"]
                .iter()
                .find_map(|key| price.get(*key)?.as_str()?.parse::<f64>().ok())
                .map(|amount| amount.round() as i64)
        })
        .unwrap_or(0);
    let usage_type = match recurring.get("usage_type").and_then(Value::as_str) {
        Some("metered") => UsageType::Metered,
        _ => UsageType::Licensed,
    };
    Some(Item {
        price: id.to_owned(),
        currency: price
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase(),
        unit_amount,
        quantity: 1,
        interval,
        interval_count: u32::try_from(count).unwrap_or(1),
        usage_type,
    })
}

/// A subscription's `items` (the list object).
fn parse_items(items: &Value) -> Vec<Item> {
    let Some(data) = items.get("data").and_then(Value::as_array) else {
        return Vec::new();
    };
    data.iter()
        .filter_map(|entry| {
            let price = entry
                .get("price")
                .filter(|p| p.is_object())
                .or_else(|| entry.get("plan"))?;
            let mut item = parse_price(price)?;
            item.quantity = int(entry, "quantity").unwrap_or(1);
            Some(item)
        })
        .collect()
}

fn parse_coupon(coupon: &Value) -> Option<Coupon> {
    let duration = match coupon.get("duration")?.as_str()? {
        "forever" => CouponDuration::Forever,
        "once" => CouponDuration::Once,
        "repeating" => CouponDuration::Repeating {
            months: u32::try_from(int(coupon, "duration_in_months").unwrap_or(0)).unwrap_or(0),
        },
        _ => return None,
    };
    Some(Coupon {
        id: id_of(coupon).unwrap_or_default().to_owned(),
        percent_off: coupon.get("percent_off").and_then(Value::as_f64),
        amount_off: int(coupon, "amount_off"),
        currency: coupon
            .get("currency")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase),
        duration,
    })
}

/// An expanded discount object (`coupon`, or the 2025 `source.coupon`); ids alone are skipped.
fn parse_discount(discount: &Value) -> Option<Discount> {
    let coupon = discount
        .get("coupon")
        .filter(|c| c.is_object())
        .or_else(|| discount.get("source")?.get("coupon"))?;
    Some(Discount {
        id: id_of(discount).unwrap_or_default().to_owned(),
        coupon: parse_coupon(coupon)?,
        start: int(discount, "start")?,
        end: int(discount, "end"),
    })
}

/// The discounts of an object's `discount` and `discounts` fields.
fn discounts_in(object: &Value) -> Vec<Discount> {
    let mut found: Vec<Discount> = object
        .get("discount")
        .and_then(parse_discount)
        .into_iter()
        .collect();
    if let Some(list) = object.get("discounts").and_then(Value::as_array) {
        found.extend(list.iter().filter_map(parse_discount));
    }
    found
}

fn add_discount(known: &mut Vec<Discount>, discount: Discount) {
    match known.iter_mut().find(|d| d.id == discount.id) {
        Some(existing) => {
            if let Some(end) = discount.end {
                existing.end = Some(existing.end.map_or(end, |e| e.min(end)));
            }
        }
        None => known.push(discount),
    }
}

/// What one observation says about the items.
enum ItemsSeen {
    Full(Vec<Item>),
    Delta {
        removed: Vec<String>,
        added: Vec<Item>,
    },
}

fn merge_into(items: &mut Vec<Item>, item: Item) {
    match items.iter_mut().find(|i| i.price == item.price) {
        Some(existing) => existing.quantity += item.quantity,
        None => items.push(item),
    }
}

fn guess_interval(start: i64, end: i64) -> (Interval, u32) {
    let days = (end - start) as f64 / 86_400.0;
    match days {
        d if d <= 1.5 => (Interval::Day, 1),
        d if d <= 8.0 => (Interval::Week, 1),
        d if d <= 32.0 => (Interval::Month, 1),
        d if d <= 93.0 => (Interval::Month, 3),
        d if d <= 186.0 => (Interval::Month, 6),
        _ => (Interval::Year, 1),
    }
}

/// The subscriptions an invoice bills (its own and its lines'), to hand each subscription its
/// invoices.
pub fn invoice_subscriptions(invoice: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut add = |id: Option<&str>| {
        if let Some(id) = id {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
    };
    add(invoice.get("subscription").and_then(id_of));
    add(invoice
        .get("parent")
        .and_then(|p| p.get("subscription_details"))
        .and_then(|d| d.get("subscription"))
        .and_then(id_of));
    let lines = invoice
        .get("lines")
        .and_then(|l| l.get("data"))
        .and_then(Value::as_array);
    for line in lines.into_iter().flatten() {
        add(line.get("subscription").and_then(id_of));
        add(line
            .get("parent")
            .and_then(|p| p.get("subscription_item_details"))
            .and_then(|d| d.get("subscription"))
            .and_then(id_of));
    }
    ids
}

/// A line item's subscription, proration flag, and item (None for lines that bill no recurring price).
fn parse_line(
    line: &Value,
    invoice: &Value,
    book: &PriceBook,
) -> Option<(String, bool, i64, Item, i64)> {
    let details = line
        .get("parent")
        .and_then(|p| p.get("subscription_item_details"));
    let invoice_subscription = invoice.get("subscription").and_then(id_of).or_else(|| {
        invoice
            .get("parent")?
            .get("subscription_details")?
            .get("subscription")
            .and_then(id_of)
    });
    let subscription = line
        .get("subscription")
        .and_then(id_of)
        .or_else(|| details?.get("subscription").and_then(id_of))
        .or(invoice_subscription)?;
    let proration = line
        .get("proration")
        .and_then(Value::as_bool)
        .or_else(|| details?.get("proration")?.as_bool())
        .unwrap_or(false);
    let period = line.get("period")?;
    let (start, end) = (int(period, "start")?, int(period, "end")?);
    let quantity = int(line, "quantity").unwrap_or(1);
    let amount = int(line, "amount").unwrap_or(0);
    let expanded = line
        .get("price")
        .filter(|p| p.is_object())
        .or_else(|| line.get("plan").filter(|p| p.is_object()))
        .and_then(parse_price);
    let price_id = line.get("price").and_then(id_of).or_else(|| {
        line.get("pricing")?
            .get("price_details")?
            .get("price")
            .and_then(id_of)
    });
    let mut item = match (expanded, price_id.and_then(|id| book.get(id))) {
        (Some(item), _) => item,
        (None, Some(item)) => item.clone(),
        (None, None) if !proration => {
            let price = price_id?;
            let unit = line
                .get("pricing")
                .and_then(|p| p.get("unit_amount_decimal"))
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<f64>().ok())
                .map(|amount| amount.round() as i64)
                .unwrap_or(if quantity > 0 { amount / quantity } else { 0 });
            let (interval, interval_count) = guess_interval(start, end);
            Item {
                price: price.to_owned(),
                currency: line
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                unit_amount: unit,
                quantity: 1,
                interval,
                interval_count,
                usage_type: UsageType::Licensed,
            }
        }
        (None, None) => return None,
    };
    item.quantity = quantity;
    Some((subscription.to_owned(), proration, start, item, amount))
}

/// The value in force at `at` in an ascending list of points (None before the first).
fn at_or_before<T>(points: &[(i64, T)], at: i64) -> Option<&T> {
    let index = points.partition_point(|(from, _)| *from <= at);
    index.checked_sub(1).map(|i| &points[i].1)
}

/// Rebuilds one subscription's history from its current state, its invoices (others' are ignored) and
/// events (others' are ignored). `prices` resolves line items that name a price by id only.
pub fn rebuild_history(
    subscription: &Value,
    invoices: &[Value],
    events: &[Value],
    prices: &PriceBook,
) -> Result<SubscriptionHistory, StripeError> {
    let id = subscription
        .get("id")
        .and_then(Value::as_str)
        .ok_or(StripeError::NotASubscription)?;
    let customer = subscription
        .get("customer")
        .and_then(id_of)
        .ok_or(StripeError::NotASubscription)?;
    let items_value = subscription.get("items").unwrap_or(&Value::Null);
    let current_items = parse_items(items_value);
    let mut book = prices.clone();
    if let Some(data) = items_value.get("data").and_then(Value::as_array) {
        for entry in data {
            if let Some(price) = entry.get("price").filter(|p| p.is_object()) {
                book.add(price);
            }
        }
    }
    let status_now = subscription
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse)
        .unwrap_or(Status::Active);
    let start = int(subscription, "start_date")
        .or_else(|| int(subscription, "created"))
        .unwrap_or(0);
    let trial = int(subscription, "trial_start").zip(int(subscription, "trial_end"));
    let canceled_at = int(subscription, "canceled_at");
    let ended_at = int(subscription, "ended_at");
    let period_start = int(subscription, "current_period_start").or_else(|| {
        items_value
            .get("data")?
            .as_array()?
            .iter()
            .find_map(|entry| int(entry, "current_period_start"))
    });

    // Items seen on invoices.
    let mut seen: Vec<(i64, ItemsSeen)> = Vec::new();
    let mut period_starts: Vec<i64> = period_start.into_iter().collect();
    let mut sorted_invoices: Vec<&Value> = invoices.iter().collect();
    sorted_invoices.sort_by_key(|invoice| int(invoice, "created").unwrap_or(0));
    // Renewals voided while collection was paused: service periods that were not billed.
    let mut unbilled: Vec<(i64, i64)> = Vec::new();
    let mut paid: Vec<i64> = Vec::new();
    // First payment attempts of renewals charged automatically and never paid: the card failed.
    let mut failed_attempts: Vec<i64> = Vec::new();
    for invoice in sorted_invoices {
        let renewal =
            invoice.get("billing_reason").and_then(Value::as_str) == Some("subscription_cycle");
        let status = invoice.get("status").and_then(Value::as_str);
        let voided_renewal = renewal && status == Some("void");
        let failed_renewal = renewal
            && status == Some("open")
            && invoice.get("collection_method").and_then(Value::as_str) != Some("send_invoice");
        let first_attempt = invoice
            .get("status_transitions")
            .and_then(|t| int(t, "finalized_at"))
            .or_else(|| int(invoice, "created"));
        let Some(lines) = invoice
            .get("lines")
            .and_then(|l| l.get("data"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        let mut full: Vec<(i64, Vec<Item>)> = Vec::new();
        let mut deltas: Vec<(i64, Vec<String>, Vec<Item>)> = Vec::new();
        for line in lines {
            let Some((sub, proration, from, item, amount)) = parse_line(line, invoice, &book)
            else {
                continue;
            };
            if sub != id {
                continue;
            }
            if proration {
                let index = match deltas.iter().position(|(at, _, _)| *at == from) {
                    Some(index) => index,
                    None => {
                        deltas.push((from, Vec::new(), Vec::new()));
                        deltas.len() - 1
                    }
                };
                if amount < 0 {
                    deltas[index].1.push(item.price);
                } else {
                    merge_into(&mut deltas[index].2, item);
                }
            } else {
                if voided_renewal {
                    if let Some(end) = line.get("period").and_then(|p| int(p, "end")) {
                        unbilled.push((from, end));
                    }
                } else if status == Some("paid") {
                    paid.push(from);
                } else if failed_renewal {
                    failed_attempts.extend(first_attempt);
                }
                period_starts.push(from);
                match full.iter_mut().find(|(at, _)| *at == from) {
                    Some((_, items)) => merge_into(items, item),
                    None => full.push((from, vec![item])),
                }
            }
        }
        seen.extend(
            full.into_iter()
                .map(|(at, items)| (at, ItemsSeen::Full(items))),
        );
        seen.extend(
            deltas
                .into_iter()
                .map(|(at, removed, added)| (at, ItemsSeen::Delta { removed, added })),
        );
    }
    period_starts.sort_unstable();

    // Events.
    let mut weak_items: Vec<(i64, Vec<Item>)> = Vec::new();
    let mut statuses: Vec<(i64, Status, Option<Status>)> = Vec::new();
    let mut pauses: Vec<(i64, bool)> = Vec::new();
    let mut discounts: Vec<Discount> = Vec::new();
    let mut sorted_events: Vec<&Value> = events
        .iter()
        .filter(|event| {
            event
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("customer.subscription."))
                && event
                    .get("data")
                    .and_then(|d| d.get("object"))
                    .and_then(|o| o.get("id"))
                    .and_then(Value::as_str)
                    == Some(id)
        })
        .collect();
    sorted_events.sort_by_key(|event| int(event, "created").unwrap_or(0));
    for event in sorted_events {
        let at = int(event, "created").unwrap_or(0);
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let data = event.get("data").unwrap_or(&Value::Null);
        let object = data.get("object").unwrap_or(&Value::Null);
        for discount in discounts_in(object) {
            add_discount(&mut discounts, discount);
        }
        match kind {
            "customer.subscription.paused" => pauses.push((at, true)),
            "customer.subscription.resumed" => pauses.push((at, false)),
            _ => {}
        }
        let Some(previous) = data.get("previous_attributes").filter(|p| p.is_object()) else {
            continue;
        };
        if let Some(old_items) = previous.get("items") {
            seen.push((
                at,
                ItemsSeen::Full(parse_items(object.get("items").unwrap_or(&Value::Null))),
            ));
            weak_items.push((at, parse_items(old_items)));
        }
        if let Some(old_status) = previous
            .get("status")
            .and_then(Value::as_str)
            .and_then(Status::parse)
        {
            if let Some(new_status) = object
                .get("status")
                .and_then(Value::as_str)
                .and_then(Status::parse)
            {
                statuses.push((at, new_status, Some(old_status)));
            }
        }
        if let Some(old_pause) = previous.get("pause_collection") {
            let paused = !object.get("pause_collection").is_none_or(Value::is_null);
            // A pause set or lifted (not one whose settings changed).
            if old_pause.is_null() == paused {
                pauses.push((at, paused));
            }
        }
        let now_ids: Vec<String> = discounts_in(object).into_iter().map(|d| d.id).collect();
        for mut old in discounts_in(previous) {
            if !now_ids.contains(&old.id) {
                old.end = Some(old.end.map_or(at, |end| end.min(at)));
            }
            add_discount(&mut discounts, old);
        }
    }
    for discount in discounts_in(subscription) {
        add_discount(&mut discounts, discount);
    }

    // The item timeline.
    seen.sort_by_key(|(at, observation)| (*at, matches!(observation, ItemsSeen::Delta { .. })));
    let first_strong = seen.first().map(|(at, _)| *at);
    let mut items_timeline: Vec<(i64, Vec<Item>)> = Vec::new();
    let mut current: Vec<Item> = Vec::new();
    for (at, observation) in &seen {
        match observation {
            ItemsSeen::Full(items) => current = items.clone(),
            ItemsSeen::Delta { removed, added } => {
                if items_timeline.is_empty() && current.is_empty() {
                    // Before the first full set: what the proration removed was there.
                    current = removed
                        .iter()
                        .filter_map(|price| book.get(price).cloned())
                        .collect();
                }
                current.retain(|item| !removed.contains(&item.price));
                for item in added {
                    merge_into(&mut current, item.clone());
                }
            }
        }
        items_timeline.push((*at, current.clone()));
    }
    // What held before the first observation: an event's previous items, else the first known items.
    let earliest = weak_items
        .iter()
        .find(|(at, _)| first_strong.is_none_or(|first| *at <= first))
        .map(|(_, items)| items.clone())
        .or_else(|| items_timeline.first().map(|(_, items)| items.clone()))
        .unwrap_or_else(|| current_items.clone());
    if items_timeline.first().is_none_or(|(at, _)| *at > start) {
        items_timeline.insert(0, (start, earliest));
    }
    let last_known = items_timeline
        .last()
        .map(|(at, items)| (*at, items.clone()));
    if let Some((at, items)) = last_known {
        if !same_items(&items, &current_items) && !current_items.is_empty() {
            let from = period_start.map_or(at, |p| p.max(at));
            items_timeline.push((from, current_items.clone()));
        }
    }
    items_timeline.sort_by_key(|(at, _)| *at);

    // The status timeline.
    let mut status_points: Vec<(i64, Status)> = Vec::new();
    let latest_period_start = |before: i64| -> Option<i64> {
        let index = period_starts.partition_point(|&p| p < before);
        index.checked_sub(1).map(|i| period_starts[i])
    };
    match status_now {
        Status::Incomplete | Status::IncompleteExpired => status_points.push((start, status_now)),
        _ => {
            match trial {
                Some((trial_start, trial_end)) => {
                    status_points.push((trial_start.min(start), Status::Trialing));
                    if ended_at.is_none_or(|ended| ended > trial_end) {
                        status_points.push((trial_end, Status::Active));
                    }
                }
                None => status_points.push((start, Status::Active)),
            }
            // A renewal left open: past due from its first attempt and, once the retries ran out
            // (the subscription is unpaid now, or ended later), unpaid. Events, when they tell the
            // moments, win.
            let told = |wanted: Status| statuses.iter().any(|(_, new, _)| *new == wanted);
            if let Some(&first_attempt) = failed_attempts.iter().min() {
                let unpaid_from = first_attempt + RETRY_WINDOW;
                let still_due = matches!(status_now, Status::PastDue | Status::Unpaid);
                let ended_after = ended_at.is_some_and(|ended| ended > unpaid_from);
                if (still_due || ended_after) && !told(Status::PastDue) {
                    status_points.push((first_attempt, Status::PastDue));
                }
                if (status_now == Status::Unpaid || ended_after) && !told(Status::Unpaid) {
                    status_points.push((unpaid_from, Status::Unpaid));
                }
                status_points.sort_by_key(|(from, _)| *from);
            }
            for (at, new_status, old_status) in &statuses {
                let last_change = status_points
                    .iter()
                    .map(|(from, _)| *from)
                    .filter(|from| from < at)
                    .max();
                if let (Some(old), Some(since)) = (old_status, latest_period_start(*at)) {
                    if last_change.is_none_or(|last| since > last)
                        && at_or_before(&status_points, since) != Some(old)
                    {
                        status_points.push((since, *old));
                    }
                }
                status_points.push((*at, *new_status));
                status_points.sort_by_key(|(from, _)| *from);
            }
            let last = status_points.last().copied();
            if let Some((last_at, last_status)) = last {
                if status_now != Status::Canceled && status_now != last_status {
                    let from = period_start.map_or(last_at, |p| p.max(last_at));
                    status_points.push((from, status_now));
                }
            }
            if let Some(ended) = ended_at {
                status_points.retain(|(from, _)| *from < ended);
                status_points.push((ended, Status::Canceled));
            }
        }
    }
    status_points.sort_by_key(|(from, _)| *from);

    // Pauses: a renewal voided while collection was paused leaves its period out of MRR (it was
    // not billed); a period paid for counts even if collection is paused during it. The current
    // period of a subscription paused now counts only if paid (its renewal is voided later).
    for (from, to) in &unbilled {
        pauses.push((*from, true));
        pauses.push((*to, false));
    }
    let paused_now = !subscription
        .get("pause_collection")
        .is_none_or(Value::is_null);
    // At one instant a period's end and the next unbilled period's start: the start wins.
    pauses.sort_by_key(|(at, paused)| (*at, *paused));
    let current_paid = period_start.is_some_and(|start| paid.contains(&start));
    if paused_now && !current_paid && pauses.last().is_none_or(|(_, paused)| !paused) {
        let last = pauses.last().map(|(at, _)| *at);
        let from = match (period_start, last) {
            (Some(p), Some(l)) => p.max(l),
            (p, l) => p.or(l).unwrap_or(start),
        };
        pauses.push((from, true));
    }

    // Merge into changes.
    let mut instants: Vec<i64> = items_timeline.iter().map(|(at, _)| *at).collect();
    instants.extend(status_points.iter().map(|(at, _)| *at));
    instants.extend(pauses.iter().map(|(at, _)| *at));
    instants.retain(|&at| at >= start);
    instants.push(start);
    instants.sort_unstable();
    instants.dedup();
    let mut changes: Vec<Change> = Vec::new();
    for at in instants {
        let items = at_or_before(&items_timeline, at)
            .cloned()
            .unwrap_or_default();
        let mut status = at_or_before(&status_points, at)
            .copied()
            .unwrap_or(Status::Active);
        let paused = at_or_before(&pauses, at).copied().unwrap_or(false);
        if paused && matches!(status, Status::Active | Status::PastDue) {
            status = Status::Paused;
        }
        let state = SubscriptionState {
            items,
            status,
            discounts: discounts.clone(),
        };
        if changes.last().is_none_or(|last| last.state != state) {
            changes.push(Change { from: at, state });
        }
    }
    Ok(SubscriptionHistory {
        id: id.to_owned(),
        customer: customer.to_owned(),
        changes,
        canceled_at,
        trial,
    })
}

/// How long Stripe retries a failed renewal before the subscription turns `unpaid` (its default
/// schedule: Smart Retries over two weeks). Older than the 30 days of events, this is the only clue.
pub const RETRY_WINDOW: i64 = 14 * 86_400;

fn same_items(a: &[Item], b: &[Item]) -> bool {
    let key = |items: &[Item]| {
        let mut key: Vec<(String, i64)> = items
            .iter()
            .map(|item| (item.price.clone(), item.quantity))
            .collect();
        key.sort();
        key
    };
    key(a) == key(b)
}
