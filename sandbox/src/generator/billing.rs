//! Subscriptions and invoices.
//!
//! A subscription is a lifecycle decided up front from its draws: a price from the catalog (mostly monthly),
//! maybe a 14-day trial (some never convert), maybe an upgrade to the next tier, and a lifetime after which the
//! customer cancels (now or at period end), so MRR and churn computed from a snapshot are meaningful.
//! An invoice bills a subscription that was live when the invoice was created, or is a one-off invoice.

use serde_json::{json, Value};

use super::calendar::period_containing;
use super::timeline::DAY;
use super::{catalog, Generator, ObjectKind, SideId};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    IncompleteExpired,
}

impl SubscriptionStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
        }
    }
}

const CANCELLATION_FEEDBACK: [&str; 8] = [
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "customer_service",
    "too_complex",
    "low_quality",
    "other",
];
const TRIAL_DAYS: i64 = 14;
/// Stripe expires an unpaid first invoice (and its subscription) after 23 hours.
const INCOMPLETE_WINDOW: i64 = 23 * 3600;

pub(crate) struct Upgrade {
    pub from_price: usize,
    pub at: i64,
}

pub(crate) struct SubscriptionFacts {
    pub created: i64,
    pub customer: u64,
    pub price: usize,
    pub quantity: u64,
    pub upgrade: Option<Upgrade>,
    pub trial: Option<(i64, i64)>,
    /// When paid service starts (the trial end, if any).
    pub billing_start: i64,
    pub canceled_at: Option<i64>,
    pub cancel_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancellation_reason: Option<&'static str>,
    pub feedback: Option<&'static str>,
    pub status: SubscriptionStatus,
}

impl SubscriptionFacts {
    fn step_months(&self) -> i64 {
        if catalog::is_yearly(self.price) {
            12
        } else {
            1
        }
    }

    /// The price billed at `t` (before an upgrade, the old one).
    pub(crate) fn price_at(&self, t: i64) -> usize {
        match &self.upgrade {
            Some(upgrade) if t < upgrade.at => upgrade.from_price,
            _ => self.price,
        }
    }

    /// Whether the subscription was in paid service at `t`.
    pub(crate) fn billable_at(&self, t: i64) -> bool {
        !matches!(
            self.status,
            SubscriptionStatus::Incomplete | SubscriptionStatus::IncompleteExpired
        ) && self.billing_start <= t
            && self.ended_at.is_none_or(|ended| ended > t)
    }

    /// The current period: the trial while trialing, else the billing period containing `now` (or the end).
    fn current_period(&self, now: i64) -> (i64, i64) {
        match self.trial {
            Some((start, end)) if now < end => (start, end),
            _ => {
                let at = self
                    .ended_at
                    .map_or(now, |ended| (ended - 1).max(self.billing_start));
                period_containing(self.billing_start, self.step_months(), at)
            }
        }
    }
}

impl Generator {
    pub(crate) fn subscription_facts(&self, index: u64) -> SubscriptionFacts {
        let mut draws = self.draws(ObjectKind::Subscription, index);
        let created = self.created(ObjectKind::Subscription, index);
        // Recent sign-ups subscribe; prices are in USD, so look for a USD customer (a few tries).
        let mut customer = None;
        for _ in 0..8 {
            let candidate = self.customer_before(created, &mut draws, true);
            customer = candidate.or(customer);
            if candidate.is_some_and(|c| self.customer_facts(c).currency == "usd") {
                break;
            }
        }
        let mut product = draws.weighted(&catalog::SUBSCRIPTION_WEIGHTS);
        if catalog::PRODUCTS[product].legacy && created > self.start + 180 * DAY {
            product = 0;
        }
        let yearly = draws.chance(if product == 4 { 0.5 } else { 0.2 });
        let mut price = catalog::price_of(product, yearly);
        let quantity = if catalog::PRODUCTS[product].per_seat {
            1 + draws.below(20)
        } else {
            1
        };
        let trial = draws
            .chance(0.35)
            .then_some((created, created + TRIAL_DAYS * DAY));
        let billing_start = trial.map_or(created, |(_, end)| end);
        let step = if yearly { 12 } else { 1 };

        let incomplete = draws.chance(0.02);
        let trial_dropped = trial.is_some() && draws.chance(0.3);
        let lifetime_days = draws.exponential(if yearly { 900.0 } else { 540.0 });
        let at_period_end = draws.chance(0.6);
        let payment_failed = draws.chance(0.3);
        let feedback = draws.pick(&CANCELLATION_FEEDBACK);
        let delinquency = draws.unit();
        let upgrades = draws.chance(0.15);
        let upgrade_point = 0.2 + 0.6 * draws.unit();
        let request_in_trial = draws.between(DAY, (TRIAL_DAYS - 1) * DAY);

        let mut facts = SubscriptionFacts {
            created,
            customer: customer.unwrap_or(0),
            price,
            quantity,
            upgrade: None,
            trial,
            billing_start,
            canceled_at: None,
            cancel_at: None,
            ended_at: None,
            cancellation_reason: None,
            feedback: None,
            status: SubscriptionStatus::Active,
        };

        if incomplete {
            facts.trial = None;
            facts.billing_start = created;
            if created > self.now - INCOMPLETE_WINDOW {
                facts.status = SubscriptionStatus::Incomplete;
            } else {
                facts.status = SubscriptionStatus::IncompleteExpired;
                facts.ended_at = Some(created + INCOMPLETE_WINDOW);
            }
            return facts;
        }

        // When the customer asks to cancel, and when service ends.
        let (requested, ends, reason) = if trial_dropped {
            (
                created + request_in_trial,
                billing_start,
                "cancellation_requested",
            )
        } else {
            let requested = billing_start + (lifetime_days * DAY as f64) as i64;
            let reason = if payment_failed {
                "payment_failed"
            } else {
                "cancellation_requested"
            };
            let ends = if at_period_end && !payment_failed {
                period_containing(billing_start, step, requested).1
            } else {
                requested
            };
            (requested, ends, reason)
        };
        if requested <= self.now {
            facts.canceled_at = Some(requested);
            facts.cancellation_reason = Some(reason);
            facts.feedback = (reason == "cancellation_requested").then_some(feedback);
            if ends > requested {
                facts.cancel_at = Some(ends);
            }
            if ends <= self.now {
                facts.ended_at = Some(ends);
            }
        }

        let served_until = facts.ended_at.unwrap_or(self.now);
        if upgrades && product < catalog::TIERS.len() - 1 && served_until - billing_start > 60 * DAY
        {
            let at = billing_start + ((served_until - billing_start) as f64 * upgrade_point) as i64;
            facts.upgrade = Some(Upgrade {
                from_price: price,
                at,
            });
            price = catalog::price_of(catalog::TIERS[product + 1], yearly);
            facts.price = price;
        }

        facts.status = if facts.ended_at.is_some() {
            SubscriptionStatus::Canceled
        } else if trial.is_some_and(|(_, end)| end > self.now) {
            SubscriptionStatus::Trialing
        } else if delinquency < 0.03 {
            SubscriptionStatus::PastDue
        } else if delinquency < 0.04 {
            SubscriptionStatus::Unpaid
        } else {
            SubscriptionStatus::Active
        };
        facts
    }
}

pub(crate) fn subscription_json(generator: &Generator, index: u64) -> Value {
    let facts = generator.subscription_facts(index);
    let id = generator.id(ObjectKind::Subscription, index);
    let (period_start, period_end) = facts.current_period(generator.now);
    let metadata = match &facts.upgrade {
        Some(upgrade) => json!({
            "upgraded_from": generator.id(ObjectKind::Price, upgrade.from_price as u64),
            "upgraded_at": upgrade.at.to_string(),
        }),
        None => json!({}),
    };
    let item = json!({
        "id": generator.side_id(SideId::SubscriptionItem, index),
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": facts.created,
        "current_period_end": period_end,
        "current_period_start": period_start,
        "discounts": [],
        "metadata": {},
        "plan": catalog::plan_json(generator, facts.price),
        "price": catalog::price_json(generator, facts.price),
        "quantity": facts.quantity,
        "subscription": id,
        "tax_rates": [],
    });
    json!({
        "id": id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
        "billing_cycle_anchor": facts.billing_start,
        "billing_cycle_anchor_config": null,
        "billing_mode": { "flexible": null, "type": "classic" },
        "billing_thresholds": null,
        "cancel_at": facts.cancel_at,
        "cancel_at_period_end": facts.cancel_at.is_some(),
        "canceled_at": facts.canceled_at,
        "cancellation_details": {
            "comment": null,
            "feedback": facts.feedback,
            "reason": facts.cancellation_reason,
        },
        "collection_method": "charge_automatically",
        "created": facts.created,
        "currency": "usd",
        "customer": generator.id(ObjectKind::Customer, facts.customer),
        "customer_account": null,
        "days_until_due": null,
        "default_payment_method": generator.payment_method_id(Some(facts.customer), 0),
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": [],
        "ended_at": facts.ended_at,
        "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
        "items": {
            "object": "list",
            "data": [item],
            "has_more": false,
            "url": format!("/v1/subscription_items?subscription={id}"),
        },
        "latest_invoice": null,
        "livemode": false,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": {
            "payment_method_options": null,
            "payment_method_types": null,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": facts.created,
        "status": facts.status.as_str(),
        "test_clock": null,
        "transfer_data": null,
        "trial_end": facts.trial.map(|(_, end)| end),
        "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
        "trial_start": facts.trial.map(|(start, _)| start),
    })
}

const ONE_OFF_DESCRIPTIONS: [&str; 5] = [
    "Onboarding workshop",
    "Consulting services",
    "Custom integration",
    "Data migration",
    "Annual support retainer",
];

/// What an invoice bills.
enum Billed {
    Subscription {
        index: u64,
        facts: Box<SubscriptionFacts>,
    },
    OneOff {
        description: &'static str,
    },
}

pub(crate) fn invoice_json(generator: &Generator, index: u64) -> Value {
    let mut draws = generator.draws(ObjectKind::Invoice, index);
    let created = generator.created(ObjectKind::Invoice, index);
    let now = generator.now;

    // Most invoices bill a live subscription; some are one-off (services, set-up fees).
    let existing = generator.count_until(ObjectKind::Subscription, created);
    let attempts = if draws.chance(0.08) { 0 } else { 6 };
    let mut billed = None;
    for _ in 0..attempts {
        if existing == 0 {
            break;
        }
        let candidate = draws.below(existing);
        let facts = generator.subscription_facts(candidate);
        if facts.billable_at(created) {
            billed = Some(Billed::Subscription {
                index: candidate,
                facts: Box::new(facts),
            });
            break;
        }
    }
    let billed = billed.unwrap_or_else(|| Billed::OneOff {
        description: draws.pick(&ONE_OFF_DESCRIPTIONS),
    });

    let (customer, quantity, unit_amount, period, price, subscription, billing_reason) =
        match &billed {
            Billed::Subscription { index, facts } => {
                let price = facts.price_at(created);
                let period = period_containing(facts.billing_start, facts.step_months(), created);
                let reason = if created - facts.billing_start < 2 * DAY {
                    "subscription_create"
                } else {
                    "subscription_cycle"
                };
                (
                    facts.customer,
                    facts.quantity,
                    catalog::unit_amount(price),
                    period,
                    Some(price),
                    Some(*index),
                    reason,
                )
            }
            Billed::OneOff { .. } => {
                let customer = generator
                    .customer_before(created, &mut draws, false)
                    .unwrap_or(0);
                let raw = (15_000f64.ln() + 0.7 * draws.normal())
                    .exp()
                    .clamp(1_000.0, 2_000_000.0);
                let amount = (raw / 100.0).round().max(1.0) as i64 * 100;
                (
                    customer,
                    1,
                    amount,
                    (created, created),
                    None,
                    None,
                    "manual",
                )
            }
        };
    let customer_facts = generator.customer_facts(customer);
    let currency = if subscription.is_some() {
        "usd"
    } else {
        customer_facts.currency
    };
    let total = unit_amount * quantity as i64;
    let send_invoice = subscription.is_none() && draws.chance(0.5);
    let due_date = send_invoice.then_some(created + 30 * DAY);

    let age = now - created;
    let status_draw = draws.unit();
    let status = if age < DAY && status_draw < 0.3 {
        "draft"
    } else if (age < 3 * DAY && status_draw < 0.5)
        || due_date.is_some_and(|due| due > now && status_draw < 0.6)
    {
        "open"
    } else if status_draw < 0.88 {
        "paid"
    } else if status_draw < 0.93 {
        "open"
    } else if status_draw < 0.96 {
        "uncollectible"
    } else {
        "void"
    };
    let finalized_at = (status != "draft").then(|| (created + 3600).min(now));
    let settled_at = finalized_at.map(|at| (at + draws.between(0, 3 * DAY)).min(now));
    let transition = |wanted: &str| if status == wanted { settled_at } else { None };
    let amount_paid = if status == "paid" { total } else { 0 };
    let amount_remaining = match status {
        "paid" | "void" => 0,
        _ => total,
    };

    let id = generator.id(ObjectKind::Invoice, index);
    let subscription_id = subscription.map(|s| generator.id(ObjectKind::Subscription, s));
    let line_description = match (&billed, price) {
        (Billed::Subscription { .. }, Some(price)) => {
            let product = &catalog::PRODUCTS[catalog::product_of_price(price)];
            let interval = if catalog::is_yearly(price) {
                "year"
            } else {
                "month"
            };
            format!(
                "{quantity} × {} (at ${:.2} / {interval})",
                product.name,
                catalog::unit_amount(price) as f64 / 100.0
            )
        }
        (Billed::OneOff { description }, _) => (*description).to_owned(),
        (Billed::Subscription { .. }, None) => String::new(),
    };
    let (parent, line_parent) = match subscription {
        Some(s) => (
            json!({
                "quote_details": null,
                "subscription_details": { "metadata": {}, "subscription": subscription_id },
                "type": "subscription_details",
            }),
            json!({
                "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": { "credited_items": null },
                    "subscription": subscription_id,
                    "subscription_item": generator.side_id(SideId::SubscriptionItem, s),
                },
                "type": "subscription_item_details",
            }),
        ),
        None => (
            Value::Null,
            json!({
                "invoice_item_details": {
                    "invoice_item": generator.side_id(SideId::InvoiceItem, index),
                    "proration": false,
                    "proration_details": { "credited_items": null },
                    "subscription": null,
                },
                "subscription_item_details": null,
                "type": "invoice_item_details",
            }),
        ),
    };
    let line = json!({
        "id": generator.side_id(SideId::InvoiceLine, index),
        "object": "line_item",
        "amount": total,
        "currency": currency,
        "description": line_description,
        "discount_amounts": [],
        "discountable": true,
        "discounts": [],
        "invoice": id,
        "livemode": false,
        "metadata": {},
        "parent": line_parent,
        "period": { "end": period.1, "start": period.0 },
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": price.map(|p| json!({
                "price": generator.id(ObjectKind::Price, p as u64),
                "product": generator.id(ObjectKind::Product, catalog::product_of_price(p) as u64),
            })),
            "type": "price_details",
            "unit_amount_decimal": unit_amount.to_string(),
        },
        "quantity": quantity,
        "subscription": subscription_id,
        "subtotal": total,
        "taxes": [],
    });
    json!({
        "id": id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox Demo Co",
        "account_tax_ids": null,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": amount_paid,
        "amount_remaining": amount_remaining,
        "amount_shipping": 0,
        "application": null,
        "attempt_count": u32::from(finalized_at.is_some() && !send_invoice),
        "attempted": finalized_at.is_some() && !send_invoice,
        "auto_advance": matches!(status, "draft" | "open"),
        "automatic_tax": {
            "disabled_reason": null,
            "enabled": false,
            "liability": null,
            "provider": null,
            "status": null,
        },
        "automatically_finalizes_at": if status == "draft" { Value::from(created + 3600) } else { Value::Null },
        "billing_reason": billing_reason,
        "collection_method": if send_invoice { "send_invoice" } else { "charge_automatically" },
        "created": created,
        "currency": currency,
        "custom_fields": null,
        "customer": generator.id(ObjectKind::Customer, customer),
        "customer_account": null,
        "customer_address": {
            "city": null,
            "country": customer_facts.country,
            "line1": null,
            "line2": null,
            "postal_code": null,
            "state": null,
        },
        "customer_email": customer_facts.email,
        "customer_name": customer_facts.name,
        "customer_phone": null,
        "customer_shipping": null,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": [],
        "due_date": due_date,
        "effective_at": finalized_at,
        "ending_balance": finalized_at.map(|_| 0),
        "footer": null,
        "from_invoice": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "issuer": { "type": "self" },
        "last_finalization_error": null,
        "latest_revision": null,
        "lines": {
            "object": "list",
            "data": [line],
            "has_more": false,
            "url": format!("/v1/invoices/{id}/lines"),
        },
        "livemode": false,
        "metadata": {},
        "next_payment_attempt": if status == "open" && !send_invoice { Value::from(now + DAY) } else { Value::Null },
        "number": finalized_at.map(|_| format!("{}-{:04}", customer_facts.invoice_prefix, 1 + index % 9999)),
        "on_behalf_of": null,
        "parent": parent,
        "payment_settings": {
            "default_mandate": null,
            "payment_method_options": null,
            "payment_method_types": null,
        },
        "period_end": period.1,
        "period_start": period.0,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": null,
        "rendering": null,
        "shipping_cost": null,
        "shipping_details": null,
        "starting_balance": 0,
        "statement_descriptor": null,
        "status": status,
        "status_transitions": {
            "finalized_at": finalized_at,
            "marked_uncollectible_at": transition("uncollectible"),
            "paid_at": transition("paid"),
            "voided_at": transition("void"),
        },
        "subscription": subscription_id,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": null,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": finalized_at,
    })
}
