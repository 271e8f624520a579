//! Stripe's change history: the event types that change each object, and what one event says
//! about its object. Events are kept 30 days; each carries the object as it was right after the
//! change (`data.object`).

use std::time::Duration;

use serde_json::Value;

use crate::domain::StoredObject;
use crate::providers::reader::Change;

/// How long Stripe keeps events.
pub const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Stripe accepts at most this many `types[]` in one list request.
pub const MAX_TYPES_PER_REQUEST: usize = 20;

/// The event types whose `data.object` is an object of this catalogue name (empty: the object
/// has no events, as balance transactions). Types that carry another object (a dispute's
/// `charge.dispute.*`, a refund's `charge.refund.updated`) belong to that object.
pub fn event_types(object_name: &str) -> &'static [&'static str] {
    match object_name {
        "Customer" => &["customer.created", "customer.updated", "customer.deleted"],
        "Subscription" => &[
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.deleted",
            "customer.subscription.paused",
            "customer.subscription.resumed",
            "customer.subscription.pending_update_applied",
            "customer.subscription.pending_update_expired",
            "customer.subscription.trial_will_end",
        ],
        "Invoice" => &[
            "invoice.created",
            "invoice.deleted",
            "invoice.finalization_failed",
            "invoice.finalized",
            "invoice.marked_uncollectible",
            "invoice.paid",
            "invoice.payment_action_required",
            "invoice.payment_failed",
            "invoice.payment_succeeded",
            "invoice.sent",
            "invoice.updated",
            "invoice.voided",
        ],
        "Charge" => &[
            "charge.captured",
            "charge.expired",
            "charge.failed",
            "charge.pending",
            "charge.refunded",
            "charge.succeeded",
            "charge.updated",
        ],
        "PaymentIntent" => &[
            "payment_intent.amount_capturable_updated",
            "payment_intent.canceled",
            "payment_intent.created",
            "payment_intent.partially_funded",
            "payment_intent.payment_failed",
            "payment_intent.processing",
            "payment_intent.requires_action",
            "payment_intent.succeeded",
        ],
        "Refund" => &["refund.created", "refund.updated", "charge.refund.updated"],
        "Payout" => &[
            "payout.canceled",
            "payout.created",
            "payout.failed",
            "payout.paid",
            "payout.reconciliation_completed",
            "payout.updated",
        ],
        "Dispute" => &[
            "charge.dispute.closed",
            "charge.dispute.created",
            "charge.dispute.funds_reinstated",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.updated",
        ],
        "Product" => &["product.created", "product.updated", "product.deleted"],
        "Price" => &["price.created", "price.updated", "price.deleted"],
        _ => &[],
    }
}

/// The catalogue name of a Stripe `object` value.
pub fn object_name_of(object: &str) -> Option<&'static str> {
    Some(match object {
        "customer" => "Customer",
        "subscription" => "Subscription",
        "invoice" => "Invoice",
        "charge" => "Charge",
        "payment_intent" => "PaymentIntent",
        "refund" => "Refund",
        "payout" => "Payout",
        "dispute" => "Dispute",
        "product" => "Product",
        "price" => "Price",
        "balance_transaction" => "BalanceTransaction",
        _ => return None,
    })
}

/// Types after which the object no longer exists at Stripe (a canceled subscription's
/// `customer.subscription.deleted` is not one: the subscription stays, `canceled`).
const DELETIONS: &[&str] = &[
    "customer.deleted",
    "product.deleted",
    "price.deleted",
    "invoice.deleted",
];

/// What an event says about its object, with the object's catalogue name; `None` for an event
/// that is not about one object with an id (`invoice.upcoming`) or is not an event.
pub fn change_of(event: &Value) -> Option<(&'static str, Change)> {
    if event["object"] != "event" {
        return None;
    }
    let id = event["id"].as_str()?;
    let at = event["created"].as_i64()?;
    let kind = event["type"].as_str()?;
    let object = &event["data"]["object"];
    let object_id = object["id"].as_str()?;
    let object_name = object_name_of(object["object"].as_str()?)?;
    let deleted = DELETIONS.contains(&kind) || object["deleted"] == true;
    // A deletion may carry only `{id, object, deleted}`: the stored record then keeps its last
    // full state.
    let stored = object["created"].as_i64().map(|created| StoredObject {
        object_id: object_id.to_string(),
        created,
        data: object.clone(),
    });
    Some((
        object_name,
        Change {
            id: id.to_string(),
            at,
            object_id: object_id.to_string(),
            object: stored,
            deleted,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_catalogue_object_but_balance_transactions_has_events_within_one_request() {
        for object in super::super::CATALOGUE {
            let types = event_types(object.name);
            assert!(types.len() <= MAX_TYPES_PER_REQUEST, "{}", object.name);
            assert_eq!(types.is_empty(), object.name == "BalanceTransaction");
        }
    }

    #[test]
    fn events_name_their_object_and_deletions() {
        let updated = json!({
            "id": "evt_1", "object": "event", "created": 50, "type": "customer.subscription.deleted",
            "data": {"object": {"id": "sub_1", "object": "subscription", "created": 10, "status": "canceled"}}
        });
        let (name, change) = change_of(&updated).unwrap();
        assert_eq!(name, "Subscription");
        assert!(!change.deleted, "a canceled subscription still exists");
        assert_eq!(change.at, 50);
        assert_eq!(change.object.unwrap().data["status"], "canceled");

        let deleted = json!({
            "id": "evt_2", "object": "event", "created": 60, "type": "customer.deleted",
            "data": {"object": {"id": "cus_1", "object": "customer", "deleted": true}}
        });
        let (name, change) = change_of(&deleted).unwrap();
        assert_eq!((name, change.deleted), ("Customer", true));
        assert!(change.object.is_none(), "a stub is no state to keep");

        let upcoming = json!({
            "id": "evt_3", "object": "event", "created": 60, "type": "invoice.upcoming",
            "data": {"object": {"object": "invoice", "created": 1}}
        });
        assert!(change_of(&upcoming).is_none());
        assert!(change_of(&json!({"object": "list"})).is_none());
    }
}
