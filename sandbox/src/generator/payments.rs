//! Charges and what hangs off them. Charge `i`, payment intent `i` and balance transaction `i` are the same
//! payment seen three ways (same `created`); refunds and disputes are spread evenly over the charges (about
//! one charge in ten refunded, one in a hundred disputed) and follow them by a few days or weeks.

use serde_json::{json, Value};

use super::timeline::DAY;
use super::{catalog, Generator, ObjectKind};
use crate::rng::hash;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
}

impl ChargeStatus {
    fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Succeeded => "succeeded",
            ChargeStatus::Pending => "pending",
            ChargeStatus::Failed => "failed",
        }
    }
}

pub(crate) struct Decline {
    failure_code: &'static str,
    decline_code: &'static str,
    message: &'static str,
    network_status: &'static str,
    reason: &'static str,
    seller_message: &'static str,
    outcome_type: &'static str,
}

const DECLINES: [Decline; 5] = [
    Decline {
        failure_code: "card_declined",
        decline_code: "generic_decline",
        message: "Your card was declined.",
        network_status: "declined_by_network",
        reason: "generic_decline",
        seller_message: "The bank did not return any further details with this decline.",
        outcome_type: "issuer_declined",
    },
    Decline {
        failure_code: "card_declined",
        decline_code: "insufficient_funds",
        message: "Your card has insufficient funds.",
        network_status: "declined_by_network",
        reason: "insufficient_funds",
        seller_message: "The bank returned the decline code `insufficient_funds`.",
        outcome_type: "issuer_declined",
    },
    Decline {
        failure_code: "expired_card",
        decline_code: "expired_card",
        message: "Your card has expired.",
        network_status: "declined_by_network",
        reason: "expired_card",
        seller_message: "The bank returned the decline code `expired_card`.",
        outcome_type: "issuer_declined",
    },
    Decline {
        failure_code: "incorrect_cvc",
        decline_code: "incorrect_cvc",
        message: "Your card's security code is incorrect.",
        network_status: "declined_by_network",
        reason: "incorrect_cvc",
        seller_message: "The bank returned the decline code `incorrect_cvc`.",
        outcome_type: "issuer_declined",
    },
    Decline {
        failure_code: "card_declined",
        decline_code: "fraudulent",
        message: "Your card was declined.",
        network_status: "not_sent_to_network",
        reason: "highest_risk_level",
        seller_message: "Stripe blocked this payment as too risky.",
        outcome_type: "blocked",
    },
];
const DECLINE_WEIGHTS: [u32; 5] = [35, 30, 10, 10, 15];

const BRANDS: [&str; 4] = ["visa", "mastercard", "amex", "discover"];
const BRAND_WEIGHTS: [u32; 4] = [50, 30, 12, 8];
const FUNDING: [&str; 3] = ["credit", "debit", "prepaid"];
const FUNDING_WEIGHTS: [u32; 3] = [70, 28, 2];
const REFUND_REASONS: [&str; 3] = ["requested_by_customer", "duplicate", "fraudulent"];
const REFUND_REASON_WEIGHTS: [u32; 3] = [70, 15, 15];
const DISPUTE_REASONS: [&str; 6] = [
    "fraudulent",
    "product_not_received",
    "duplicate",
    "subscription_canceled",
    "unrecognized",
    "general",
];
const DISPUTE_REASON_WEIGHTS: [u32; 6] = [45, 15, 8, 12, 12, 8];
const SECRET_SALT: u64 = 0x7365_6372_6574;
const CARD_SALT: u64 = 0x6361_7264;

/// USD value of one unit of the currency, for balance transactions (the account settles in USD).
pub(crate) fn usd_rate(currency: &str) -> f64 {
    match currency {
        "eur" => 1.08,
        "gbp" => 1.27,
        "cad" => 0.73,
        _ => 1.0,
    }
}

/// Stripe's standard card pricing: 2.9% + 30¢.
fn processing_fee(amount_usd: i64) -> i64 {
    (amount_usd as f64 * 0.029).round() as i64 + 30
}

/// How long a pending charge takes to succeed.
pub(crate) const PENDING_FOR: i64 = DAY + 1800;
/// How long after a dispute opens it is decided (its evidence is due).
pub(crate) const DISPUTE_DECIDED_AFTER: i64 = 14 * DAY;
const OUTCOME_SALT: u64 = 0x6f75_7463;

/// How a charge turns out, decided apart from its other draws so event streams can tell cheaply.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ChargeOutcome {
    Succeeded,
    /// Pending for [`PENDING_FOR`], then succeeded.
    PendingThenSucceeded,
    Failed,
}

pub(crate) struct ChargeFacts {
    pub created: i64,
    pub customer: Option<u64>,
    pub currency: &'static str,
    pub country: &'static str,
    pub name: Option<String>,
    pub email: Option<String>,
    pub amount: i64,
    pub status: ChargeStatus,
    pub decline: Option<&'static Decline>,
    pub card: Card,
    pub from_subscription: bool,
    pub refund: Option<u64>,
    pub dispute: Option<u64>,
}

impl ChargeFacts {
    fn description(&self, index: u64) -> String {
        if self.from_subscription {
            "Subscription update".to_owned()
        } else {
            format!("Order #{}", 10_000 + index)
        }
    }
}

/// The card a payment method stands for: the same for every charge of a customer.
pub(crate) struct Card {
    pub payment_method: u64,
    pub brand: &'static str,
    pub funding: &'static str,
    pub last4: u64,
    pub exp_month: u64,
    pub exp_year: i64,
}

pub(crate) struct RefundFacts {
    pub charge: u64,
    pub amount: i64,
    pub reason: &'static str,
}

impl Generator {
    pub(crate) fn charge_outcome(&self, index: u64) -> ChargeOutcome {
        if self.refund_of_charge(index).is_some() || self.dispute_of_charge(index).is_some() {
            return ChargeOutcome::Succeeded;
        }
        let draw = crate::rng::unit_of(hash(&[
            self.seed,
            ObjectKind::Charge.tag(),
            OUTCOME_SALT,
            index,
        ]));
        if draw < 0.08 {
            ChargeOutcome::Failed
        } else if draw < 0.14 {
            ChargeOutcome::PendingThenSucceeded
        } else {
            ChargeOutcome::Succeeded
        }
    }

    pub(crate) fn charge_facts(&self, index: u64) -> ChargeFacts {
        self.charge_facts_at(index, i64::MAX)
    }

    /// The charge as it stands at `at` (pending ones succeed after [`PENDING_FOR`]).
    pub(crate) fn charge_facts_at(&self, index: u64, at: i64) -> ChargeFacts {
        let mut draws = self.draws(ObjectKind::Charge, index);
        let created = self.created(ObjectKind::Charge, index);
        // A few guest checkouts; everyone else is a customer who signed up before paying.
        let guest = draws.chance(0.04);
        let customer = if guest {
            None
        } else {
            self.customer_before(created, &mut draws, false)
        };
        let customer_facts = customer.map(|c| self.customer_facts(c));
        let currency = customer_facts.as_ref().map_or("usd", |c| c.currency);
        let from_subscription = draws.chance(0.55);
        let amount = if from_subscription {
            // A plan's price in the charge's currency (the USD amount for a currency without prices).
            let product = draws.weighted(&catalog::SUBSCRIPTION_WEIGHTS);
            let price = catalog::price_of(product, draws.chance(0.15));
            catalog::unit_amount(catalog::in_currency(price, currency))
        } else {
            // Log-normal around $35, rounded like shop prices ($x.99 or $x.00).
            let raw = (3500f64.ln() + 0.9 * draws.normal())
                .exp()
                .clamp(50.0, 999_900.0);
            let dollars = (raw / 100.0).round().max(1.0) as i64;
            if draws.chance(0.5) {
                dollars * 100 - 1
            } else {
                dollars * 100
            }
        };
        // Kept so the draws after them (the decline) stay where they were.
        draws.chance(0.08);
        draws.chance(0.2);
        let refund = self
            .refund_of_charge(index)
            .filter(|&refund| self.created(ObjectKind::Refund, refund) <= at);
        let dispute = self
            .dispute_of_charge(index)
            .filter(|&dispute| self.created(ObjectKind::Dispute, dispute) <= at);
        let status = match self.charge_outcome(index) {
            ChargeOutcome::Failed => ChargeStatus::Failed,
            ChargeOutcome::PendingThenSucceeded if at < created + PENDING_FOR => {
                ChargeStatus::Pending
            }
            _ => ChargeStatus::Succeeded,
        };
        let decline = &DECLINES[draws.weighted(&DECLINE_WEIGHTS)];
        ChargeFacts {
            created,
            customer,
            currency,
            country: customer_facts.as_ref().map_or("US", |c| c.country),
            name: customer_facts.as_ref().map(|c| c.name.clone()),
            email: customer_facts.map(|c| c.email),
            amount,
            status,
            decline: (status == ChargeStatus::Failed).then_some(decline),
            card: self.card(Generator::payment_method_key(customer, index), created),
            from_subscription,
            refund,
            dispute,
        }
    }

    pub(crate) fn refund_facts(&self, index: u64) -> RefundFacts {
        let charge = self.refunded_charge(index);
        let charge_amount = self.charge_facts(charge).amount;
        let mut draws = self.draws(ObjectKind::Refund, index);
        let amount = if draws.chance(0.3) {
            ((charge_amount as f64) * (0.2 + 0.6 * draws.unit()))
                .round()
                .max(1.0) as i64
        } else {
            charge_amount
        };
        RefundFacts {
            charge,
            amount,
            reason: REFUND_REASONS[draws.weighted(&REFUND_REASON_WEIGHTS)],
        }
    }

    fn card(&self, payment_method: u64, first_used: i64) -> Card {
        let mut draws = crate::rng::Draws::new(&[self.seed, CARD_SALT, payment_method]);
        let year = 1970 + first_used.div_euclid(365 * DAY + DAY / 4);
        Card {
            payment_method,
            brand: BRANDS[draws.weighted(&BRAND_WEIGHTS)],
            funding: FUNDING[draws.weighted(&FUNDING_WEIGHTS)],
            last4: draws.below(10_000),
            exp_month: 1 + draws.below(12),
            exp_year: year + draws.between(3, 5),
        }
    }

    fn client_secret(&self, object: ObjectKind, index: u64) -> String {
        format!(
            "{}_secret_{}",
            self.id(object, index),
            super::ids::base62_string(hash(&[self.seed, SECRET_SALT, index]), 25)
        )
    }
}

fn card_details(facts: &ChargeFacts, generator: &Generator) -> Value {
    let card = &facts.card;
    json!({
        "card": {
            "amount_authorized": if facts.status == ChargeStatus::Failed { Value::Null } else { facts.amount.into() },
            "authorization_code": null,
            "brand": card.brand,
            "checks": {
                "address_line1_check": null,
                "address_postal_code_check": "pass",
                "cvc_check": if facts.decline.is_some_and(|d| d.failure_code == "incorrect_cvc") { "fail" } else { "pass" },
            },
            "country": facts.country,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "extended_authorization": { "status": "disabled" },
            "fingerprint": super::ids::base62_string(hash(&[generator.seed, CARD_SALT, card.payment_method]), 16),
            "funding": card.funding,
            "incremental_authorization": { "status": "unavailable" },
            "installments": null,
            "last4": format!("{:04}", card.last4),
            "mandate": null,
            "multicapture": { "status": "unavailable" },
            "network": card.brand,
            "network_token": { "used": false },
            "network_transaction_id": null,
            "overcapture": { "maximum_amount_capturable": facts.amount, "status": "unavailable" },
            "regulated_status": "unregulated",
            "three_d_secure": null,
            "wallet": null,
        },
        "type": "card",
    })
}

fn outcome(facts: &ChargeFacts) -> Value {
    match (facts.status, facts.decline) {
        (ChargeStatus::Failed, Some(decline)) => json!({
            "advice_code": "try_again_later",
            "network_advice_code": null,
            "network_decline_code": decline.decline_code,
            "network_status": decline.network_status,
            "reason": decline.reason,
            "seller_message": decline.seller_message,
            "type": decline.outcome_type,
        }),
        (ChargeStatus::Pending, _) => json!({
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "approved_by_network",
            "reason": null,
            "seller_message": "The payment is pending.",
            "type": "manual_review",
        }),
        _ => json!({
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "approved_by_network",
            "reason": null,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }),
    }
}

pub(crate) fn charge_json(generator: &Generator, index: u64, at: i64) -> Value {
    let facts = generator.charge_facts_at(index, at);
    let id = generator.id(ObjectKind::Charge, index);
    let paid = facts.status != ChargeStatus::Failed;
    let refunds: Vec<Value> = facts
        .refund
        .map(|refund| refund_json(generator, refund))
        .into_iter()
        .collect();
    let amount_refunded = facts
        .refund
        .map_or(0, |refund| generator.refund_facts(refund).amount);
    json!({
        "id": id,
        "object": "charge",
        "amount": facts.amount,
        "amount_captured": if facts.status == ChargeStatus::Succeeded { facts.amount } else { 0 },
        "amount_refunded": amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": if paid { Value::from(generator.id(ObjectKind::BalanceTransaction, index)) } else { Value::Null },
        "billing_details": {
            "address": {
                "city": null,
                "country": facts.country,
                "line1": null,
                "line2": null,
                "postal_code": null,
                "state": null,
            },
            "email": facts.email,
            "name": facts.name,
            "phone": null,
            "tax_id": null,
        },
        "calculated_statement_descriptor": "ALLMETRICS DEMO",
        "captured": facts.status == ChargeStatus::Succeeded,
        "created": facts.created,
        "currency": facts.currency,
        "customer": facts.customer.map(|c| generator.id(ObjectKind::Customer, c)),
        "description": facts.description(index),
        "disputed": facts.dispute.is_some(),
        "failure_balance_transaction": null,
        "failure_code": facts.decline.map(|d| d.failure_code),
        "failure_message": facts.decline.map(|d| d.message),
        "fraud_details": {},
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
        "outcome": outcome(&facts),
        "paid": paid,
        "payment_intent": generator.id(ObjectKind::PaymentIntent, index),
        "payment_method": generator.payment_method_id(facts.customer, index),
        "payment_method_details": card_details(&facts, generator),
        "receipt_email": facts.email,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": facts.refund.is_some() && amount_refunded == facts.amount,
        "refunds": {
            "object": "list",
            "data": refunds,
            "has_more": false,
            "url": format!("/v1/charges/{id}/refunds"),
        },
        "review": null,
        "shipping": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": facts.status.as_str(),
        "transfer_data": null,
        "transfer_group": null,
    })
}

pub(crate) fn payment_intent_json(generator: &Generator, index: u64, at: i64) -> Value {
    let facts = generator.charge_facts_at(index, at);
    let status = match facts.status {
        ChargeStatus::Succeeded => "succeeded",
        ChargeStatus::Pending => "processing",
        ChargeStatus::Failed => "requires_payment_method",
    };
    let last_payment_error = facts.decline.map(|decline| {
        json!({
            "type": "card_error",
            "charge": generator.id(ObjectKind::Charge, index),
            "code": decline.failure_code,
            "decline_code": decline.decline_code,
            "message": decline.message,
        })
    });
    json!({
        "id": generator.id(ObjectKind::PaymentIntent, index),
        "object": "payment_intent",
        "amount": facts.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": if facts.status == ChargeStatus::Succeeded { facts.amount } else { 0 },
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "enabled": true },
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": generator.client_secret(ObjectKind::PaymentIntent, index),
        "confirmation_method": "automatic",
        "created": facts.created,
        "currency": facts.currency,
        "customer": facts.customer.map(|c| generator.id(ObjectKind::Customer, c)),
        "customer_account": null,
        "description": facts.description(index),
        "excluded_payment_method_types": null,
        "last_payment_error": last_payment_error,
        "latest_charge": generator.id(ObjectKind::Charge, index),
        "livemode": false,
        "metadata": {},
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": if facts.status == ChargeStatus::Failed { Value::Null } else { generator.payment_method_id(facts.customer, index).into() },
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": if facts.status == ChargeStatus::Pending { json!({ "type": "card" }) } else { Value::Null },
        "receipt_email": facts.email,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

pub(crate) fn refund_json(generator: &Generator, index: u64) -> Value {
    let refund = generator.refund_facts(index);
    let charge = generator.charge_facts(refund.charge);
    json!({
        "id": generator.id(ObjectKind::Refund, index),
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": null,
        "charge": generator.id(ObjectKind::Charge, refund.charge),
        "created": generator.created(ObjectKind::Refund, index),
        "currency": charge.currency,
        "customer": charge.customer.map(|c| generator.id(ObjectKind::Customer, c)),
        "customer_account": null,
        "destination_details": { "card": { "type": "refund" }, "type": "card" },
        "livemode": false,
        "metadata": {},
        "payment_intent": generator.id(ObjectKind::PaymentIntent, refund.charge),
        "payment_method": generator.payment_method_id(charge.customer, refund.charge),
        "reason": refund.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}

pub(crate) fn dispute_json(generator: &Generator, index: u64, at: i64) -> Value {
    let charge_index = generator.disputed_charge(index);
    let charge = generator.charge_facts(charge_index);
    let created = generator.created(ObjectKind::Dispute, index);
    let mut draws = generator.draws(ObjectKind::Dispute, index);
    let reason = DISPUTE_REASONS[draws.weighted(&DISPUTE_REASON_WEIGHTS)];
    let due_by = created + DISPUTE_DECIDED_AFTER;
    let has_evidence = draws.chance(0.7);
    let won = draws.chance(0.55);
    let status = if due_by > at {
        if has_evidence {
            "under_review"
        } else {
            "needs_response"
        }
    } else if has_evidence && won {
        "won"
    } else {
        "lost"
    };
    let evidence_fields = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ];
    let mut evidence: serde_json::Map<String, Value> = evidence_fields
        .iter()
        .map(|field| ((*field).to_owned(), Value::Null))
        .collect();
    if has_evidence {
        evidence.insert("customer_email_address".into(), charge.email.clone().into());
        evidence.insert("customer_name".into(), charge.name.clone().into());
        evidence.insert(
            "product_description".into(),
            charge.description(charge_index).into(),
        );
    }
    json!({
        "id": generator.id(ObjectKind::Dispute, index),
        "object": "dispute",
        "amount": charge.amount,
        "balance_transactions": [],
        "charge": generator.id(ObjectKind::Charge, charge_index),
        "created": created,
        "currency": charge.currency,
        "enhanced_eligibility_types": [],
        "evidence": evidence,
        "evidence_details": {
            "due_by": due_by,
            "has_evidence": has_evidence,
            "past_due": !has_evidence && due_by <= at,
            "submission_count": u32::from(has_evidence),
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "payment_intent": generator.id(ObjectKind::PaymentIntent, charge_index),
        "payment_method_details": {
            "card": {
                "brand": charge.card.brand,
                "case_type": if reason == "general" { "inquiry" } else { "chargeback" },
                "network_reason_code": match reason { "fraudulent" => "10.4", "product_not_received" => "13.1", "duplicate" => "12.6.1", "subscription_canceled" => "13.2", _ => "13.7" },
            },
            "type": "card",
        },
        "reason": reason,
        "status": status,
    })
}

pub(crate) fn balance_transaction_json(generator: &Generator, index: u64, at: i64) -> Value {
    let facts = generator.charge_facts(index);
    let id = generator.id(ObjectKind::BalanceTransaction, index);
    let available_on = (facts.created.div_euclid(DAY) + 2) * DAY;
    let status = if available_on <= at {
        "available"
    } else {
        "pending"
    };
    if facts.status == ChargeStatus::Failed {
        // A declined card still costs the fraud screening fee.
        return json!({
            "id": id,
            "object": "balance_transaction",
            "amount": -5,
            "available_on": available_on,
            "balance_type": "payments",
            "created": facts.created,
            "currency": "usd",
            "description": "Radar screening fee",
            "exchange_rate": null,
            "fee": 0,
            "fee_details": [],
            "livemode": false,
            "net": -5,
            "reporting_category": "fee",
            "source": null,
            "status": status,
            "type": "stripe_fee",
        });
    }
    let rate = usd_rate(facts.currency);
    let amount = (facts.amount as f64 * rate).round() as i64;
    let fee = processing_fee(amount);
    json!({
        "id": id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "balance_type": "payments",
        "created": facts.created,
        "currency": "usd",
        "description": facts.description(index),
        "exchange_rate": if facts.currency == "usd" { Value::Null } else { rate.into() },
        "fee": fee,
        "fee_details": [{
            "amount": fee,
            "application": null,
            "currency": "usd",
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }],
        "livemode": false,
        "net": amount - fee,
        "reporting_category": "charge",
        "source": generator.id(ObjectKind::Charge, index),
        "status": status,
        "type": "charge",
    })
}
