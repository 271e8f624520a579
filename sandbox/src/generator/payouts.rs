//! Payouts: one every two days at 02:00 UTC, paying out roughly what the charges of the previous two days
//! netted (counted by binary search, not by generating them).

use serde_json::{json, Value};

use super::timeline::DAY;
use super::{Generator, ObjectKind, SideId};

/// Average net of a charge in USD cents, failures included (about $35 less fees, 8% declined).
const AVERAGE_NET: f64 = 3_000.0;
const PAYOUT_EVERY: i64 = 2 * DAY;

pub(crate) fn payout_created(generator: &Generator, index: u64) -> i64 {
    let first_midnight = (generator.start.div_euclid(DAY) + 1) * DAY;
    first_midnight + index as i64 * PAYOUT_EVERY + 2 * 3600
}

/// When a payout reaches the bank (or bounces): two days after it leaves, at midnight.
pub(crate) fn payout_arrival(created: i64) -> i64 {
    (created.div_euclid(DAY) + 2) * DAY
}

/// Whether a payout bounces (about one in a hundred).
pub(crate) fn payout_fails(generator: &Generator, index: u64) -> bool {
    let mut draws = generator.draws(ObjectKind::Payout, index);
    draws.unit();
    draws.chance(0.01)
}

pub(crate) fn payout_json(generator: &Generator, index: u64, at: i64) -> Value {
    let created = payout_created(generator, index);
    let mut draws = generator.draws(ObjectKind::Payout, index);
    let charges = generator.count_between(ObjectKind::Charge, created - PAYOUT_EVERY, created);
    let amount = (charges as f64 * AVERAGE_NET * (0.85 + 0.3 * draws.unit())).round() as i64;
    let arrival_date = payout_arrival(created);
    let arrived = arrival_date <= at;
    let failed = draws.chance(0.01) && arrived;
    let status = if failed {
        "failed"
    } else if arrived {
        "paid"
    } else {
        "in_transit"
    };
    json!({
        "id": generator.id(ObjectKind::Payout, index),
        "object": "payout",
        "amount": amount,
        "application_fee": null,
        "application_fee_amount": null,
        "arrival_date": arrival_date,
        "automatic": true,
        "balance_transaction": null,
        "created": created,
        "currency": "usd",
        "description": "STRIPE PAYOUT",
        "destination": generator.side_id(SideId::BankAccount, 0),
        "failure_balance_transaction": null,
        "failure_code": if failed { Value::from("account_closed") } else { Value::Null },
        "failure_message": if failed { Value::from("The bank account has been closed.") } else { Value::Null },
        "livemode": false,
        "metadata": {},
        "method": "standard",
        "original_payout": null,
        "payout_method": null,
        "reconciliation_status": if status == "paid" { "completed" } else { "in_progress" },
        "reversed_by": null,
        "source_type": "card",
        "statement_descriptor": null,
        "status": status,
        "trace_id": { "status": if status == "paid" { "supported" } else { "pending" }, "value": null },
        "type": "bank_account",
    })
}
