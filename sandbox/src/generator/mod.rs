//! Deterministic Stripe-shaped data, produced on demand by index.
//!
//! Nothing is stored: object `i` of a kind is a pure function of `(seed, size, now, kind, i)`. Index 0 is the
//! oldest object and `created` never decreases with the index, so Stripe's newest-first listing walks indices
//! downward, `created` filters become index bounds found by binary search, and ids (which encode the index,
//! see [`ids`]) make cursors O(1). Memory stays flat whatever the size.

mod billing;
pub(crate) mod calendar;
mod catalog;
mod customers;
pub(crate) mod ids;
mod payments;
mod payouts;
pub(crate) mod timeline;

use serde_json::Value;

use crate::rng::{hash, unit_of};
use timeline::{Timeline, DAY, SPAN_DAYS};

/// The Stripe resources the sandbox serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Customer,
    Charge,
    Invoice,
    Subscription,
    PaymentIntent,
    Refund,
    BalanceTransaction,
    Payout,
    Dispute,
    Product,
    Price,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 11] = [
        ObjectKind::Customer,
        ObjectKind::Charge,
        ObjectKind::Invoice,
        ObjectKind::Subscription,
        ObjectKind::PaymentIntent,
        ObjectKind::Refund,
        ObjectKind::BalanceTransaction,
        ObjectKind::Payout,
        ObjectKind::Dispute,
        ObjectKind::Product,
        ObjectKind::Price,
    ];

    /// The path segment after `/v1/`.
    pub fn list_path(&self) -> &'static str {
        match self {
            ObjectKind::Customer => "customers",
            ObjectKind::Charge => "charges",
            ObjectKind::Invoice => "invoices",
            ObjectKind::Subscription => "subscriptions",
            ObjectKind::PaymentIntent => "payment_intents",
            ObjectKind::Refund => "refunds",
            ObjectKind::BalanceTransaction => "balance_transactions",
            ObjectKind::Payout => "payouts",
            ObjectKind::Dispute => "disputes",
            ObjectKind::Product => "products",
            ObjectKind::Price => "prices",
        }
    }

    pub fn from_list_path(path: &str) -> Option<ObjectKind> {
        ObjectKind::ALL
            .into_iter()
            .find(|kind| kind.list_path() == path)
    }

    /// The value of the objects' `object` field.
    pub fn object_name(&self) -> &'static str {
        match self {
            ObjectKind::Customer => "customer",
            ObjectKind::Charge => "charge",
            ObjectKind::Invoice => "invoice",
            ObjectKind::Subscription => "subscription",
            ObjectKind::PaymentIntent => "payment_intent",
            ObjectKind::Refund => "refund",
            ObjectKind::BalanceTransaction => "balance_transaction",
            ObjectKind::Payout => "payout",
            ObjectKind::Dispute => "dispute",
            ObjectKind::Product => "product",
            ObjectKind::Price => "price",
        }
    }

    pub fn from_object_name(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL
            .into_iter()
            .find(|kind| kind.object_name() == name)
    }

    /// Stripe's id prefix, underscore included.
    pub fn id_prefix(&self) -> &'static str {
        match self {
            ObjectKind::Customer => "cus_",
            ObjectKind::Charge => "ch_",
            ObjectKind::Invoice => "in_",
            ObjectKind::Subscription => "sub_",
            ObjectKind::PaymentIntent => "pi_",
            ObjectKind::Refund => "re_",
            ObjectKind::BalanceTransaction => "txn_",
            ObjectKind::Payout => "po_",
            ObjectKind::Dispute => "dp_",
            ObjectKind::Product => "prod_",
            ObjectKind::Price => "price_",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }

    /// Salt of this kind's hashes.
    fn tag(self) -> u64 {
        0x6b69_6e64_0000 + self as u64
    }
}

/// Hash salts of secondary ids (payment methods, subscription items, ...), distinct from every kind's tag.
#[derive(Clone, Copy)]
pub(crate) enum SideId {
    PaymentMethod,
    SubscriptionItem,
    InvoiceLine,
    InvoiceItem,
    BankAccount,
}

impl SideId {
    fn prefix(self) -> &'static str {
        match self {
            SideId::PaymentMethod => "pm_",
            SideId::SubscriptionItem => "si_",
            SideId::InvoiceLine => "il_",
            SideId::InvoiceItem => "ii_",
            SideId::BankAccount => "ba_",
        }
    }
}

const CREATED_SALT: u64 = 0x6372_6561_7465;
const ID_SALT: u64 = 0x6964;
/// The largest supported `size` (ids carry indices up to 2·10^14; charges are 3 per customer).
pub const MAX_SIZE: u64 = 10_000_000_000_000;

/// Produces every object of a sandbox on demand. Cheap to query concurrently (`&self` only).
pub struct Generator {
    seed: u64,
    size: u64,
    now: i64,
    start: i64,
    timeline: Timeline,
    counts: [u64; 11],
}

impl Generator {
    /// `size` customers (capped at [`MAX_SIZE`]), data spread over the two years before `now` (unix seconds).
    pub fn new(seed: u64, size: u64, now: i64) -> Self {
        let size = size.min(MAX_SIZE);
        let start = now - SPAN_DAYS * DAY;
        let mut counts = [0u64; 11];
        for kind in ObjectKind::ALL {
            counts[kind.slot()] = match kind {
                ObjectKind::Customer | ObjectKind::Invoice => size,
                ObjectKind::Charge | ObjectKind::PaymentIntent | ObjectKind::BalanceTransaction => {
                    size * 3
                }
                ObjectKind::Subscription => size * 3 / 5,
                ObjectKind::Refund => size * 3 / 10,
                ObjectKind::Dispute => size * 3 / 100,
                // One every two days once there is any business at all.
                ObjectKind::Payout if size == 0 => 0,
                ObjectKind::Payout => (SPAN_DAYS / 2) as u64,
                ObjectKind::Product => catalog::PRODUCTS.len() as u64,
                ObjectKind::Price => catalog::PRODUCTS.len() as u64 * 2,
            };
        }
        Generator {
            seed,
            size,
            now,
            start,
            timeline: Timeline::new(seed, start, now),
            counts,
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The end of the generated period (unix seconds).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The beginning of the generated period: two years (730 days) before `now`.
    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn count(&self, object: ObjectKind) -> u64 {
        self.counts[object.slot()]
    }

    /// The object at `index` (0 = oldest), or `Value::Null` past the end.
    pub fn object(&self, object: ObjectKind, index: u64) -> Value {
        if index >= self.count(object) {
            return Value::Null;
        }
        match object {
            ObjectKind::Customer => customers::customer_json(self, index),
            ObjectKind::Charge => payments::charge_json(self, index),
            ObjectKind::PaymentIntent => payments::payment_intent_json(self, index),
            ObjectKind::Refund => payments::refund_json(self, index),
            ObjectKind::Dispute => payments::dispute_json(self, index),
            ObjectKind::BalanceTransaction => payments::balance_transaction_json(self, index),
            ObjectKind::Invoice => billing::invoice_json(self, index),
            ObjectKind::Subscription => billing::subscription_json(self, index),
            ObjectKind::Payout => payouts::payout_json(self, index),
            ObjectKind::Product => catalog::product_json(self, index as usize),
            ObjectKind::Price => catalog::price_json(self, index as usize),
        }
    }

    /// The id of object `index` (whether or not it exists).
    pub fn id(&self, object: ObjectKind, index: u64) -> String {
        ids::encode(
            object.id_prefix(),
            index,
            hash(&[self.seed, object.tag(), ID_SALT, index]),
        )
    }

    /// The index of an id this generator issued for `object`, or `None`.
    pub fn index_of(&self, object: ObjectKind, id: &str) -> Option<u64> {
        let (index, check) = ids::decode(id, object.id_prefix())?;
        let expected = hash(&[self.seed, object.tag(), ID_SALT, index]) % ids::CHECK_MODULUS;
        (index < self.count(object) && check == expected).then_some(index)
    }

    pub(crate) fn side_id(&self, side: SideId, index: u64) -> String {
        ids::encode(
            side.prefix(),
            index,
            hash(&[self.seed, side as u64, ID_SALT, index]),
        )
    }

    /// `created` of object `index` without building it. Never decreases with the index.
    pub fn created(&self, object: ObjectKind, index: u64) -> i64 {
        match object {
            ObjectKind::Customer | ObjectKind::Invoice | ObjectKind::Subscription => {
                self.spread_created(object, index)
            }
            // A payment intent and a balance transaction are created with the charge of the same index.
            ObjectKind::Charge | ObjectKind::PaymentIntent | ObjectKind::BalanceTransaction => {
                self.spread_created(ObjectKind::Charge, index)
            }
            ObjectKind::Refund => {
                let lag = (self.count(ObjectKind::Charge) / 180).max(1);
                self.after_charge(self.refunded_charge(index), lag)
            }
            ObjectKind::Dispute => {
                let lag = (self.count(ObjectKind::Charge) / 30).max(1);
                self.after_charge(self.disputed_charge(index), lag)
            }
            ObjectKind::Payout => payouts::payout_created(self, index),
            // The catalog predates the first customer: products ten minutes apart, each followed by its prices.
            ObjectKind::Product => self.start + 600 * index as i64 + 60,
            ObjectKind::Price => {
                self.start + 600 * (index / 2) as i64 + 120 + 60 * (index % 2) as i64
            }
        }
    }

    /// Quantile placement on the timeline (see [`timeline`]).
    fn spread_created(&self, object: ObjectKind, index: u64) -> i64 {
        let count = self.count(object).max(1);
        let jitter = unit_of(hash(&[self.seed, object.tag(), CREATED_SALT, index]));
        let u = (index as f64 + jitter) / count as f64;
        self.timeline.time_at(u)
    }

    /// Halfway between a charge and the charge `lag` places later (or `now`): a delay that scales with the
    /// business's volume and keeps `created` monotonic in the follower's index.
    fn after_charge(&self, charge: u64, lag: u64) -> i64 {
        let charges = self.count(ObjectKind::Charge);
        let from = self.spread_created(ObjectKind::Charge, charge);
        let to = if charge + lag < charges {
            self.spread_created(ObjectKind::Charge, charge + lag)
        } else {
            self.now - 1
        };
        from + (to - from) / 2
    }

    /// The charge refund `index` refunds: refunds are spread evenly over the charges.
    pub(crate) fn refunded_charge(&self, refund: u64) -> u64 {
        spread(
            refund,
            self.count(ObjectKind::Refund),
            self.count(ObjectKind::Charge),
        )
    }

    pub(crate) fn disputed_charge(&self, dispute: u64) -> u64 {
        spread(
            dispute,
            self.count(ObjectKind::Dispute),
            self.count(ObjectKind::Charge),
        )
    }

    /// The refund of a charge, if it has one.
    pub(crate) fn refund_of_charge(&self, charge: u64) -> Option<u64> {
        spread_inverse(
            charge,
            self.count(ObjectKind::Refund),
            self.count(ObjectKind::Charge),
        )
    }

    pub(crate) fn dispute_of_charge(&self, charge: u64) -> Option<u64> {
        spread_inverse(
            charge,
            self.count(ObjectKind::Dispute),
            self.count(ObjectKind::Charge),
        )
    }

    /// The first index whose `created` is at or after `t` (the count when there is none).
    pub fn first_index_at_or_after(&self, object: ObjectKind, t: i64) -> u64 {
        let (mut low, mut high) = (0, self.count(object));
        while low < high {
            let middle = low + (high - low) / 2;
            if self.created(object, middle) < t {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// The index range `[from, to)` of objects with `gte <= created < lt`.
    pub fn created_range(
        &self,
        object: ObjectKind,
        gte: Option<i64>,
        lt: Option<i64>,
    ) -> (u64, u64) {
        let from = gte.map_or(0, |t| self.first_index_at_or_after(object, t));
        let to = lt.map_or(self.count(object), |t| {
            self.first_index_at_or_after(object, t)
        });
        (from, to.max(from))
    }

    /// How many objects have `gte <= created < lt`: two binary searches, nothing materialized.
    pub fn count_created(&self, object: ObjectKind, gte: Option<i64>, lt: Option<i64>) -> u64 {
        let (from, to) = self.created_range(object, gte, lt);
        to - from
    }

    /// Objects of `object` created at or before `t`.
    pub(crate) fn count_until(&self, object: ObjectKind, t: i64) -> u64 {
        self.first_index_at_or_after(object, t.saturating_add(1))
    }

    pub(crate) fn draws(&self, object: ObjectKind, index: u64) -> crate::rng::Draws {
        crate::rng::Draws::new(&[self.seed, object.tag(), index])
    }
}

/// Item `j` of `from` items spread evenly over `to` slots (`from <= to`): the middle of its share.
fn spread(j: u64, from: u64, to: u64) -> u64 {
    if from == 0 {
        return 0;
    }
    ((u128::from(j) * 2 + 1) * u128::from(to) / (u128::from(from) * 2)) as u64
}

/// The item placed on slot `slot` by [`spread`], if any.
fn spread_inverse(slot: u64, from: u64, to: u64) -> Option<u64> {
    if from == 0 || to == 0 {
        return None;
    }
    let estimate = (u128::from(slot) * u128::from(from) / u128::from(to)) as u64;
    (estimate.saturating_sub(1)..=estimate + 1).find(|&j| j < from && spread(j, from, to) == slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    #[test]
    fn paths_and_names_round_trip() {
        for kind in ObjectKind::ALL {
            assert_eq!(ObjectKind::from_list_path(kind.list_path()), Some(kind));
            assert_eq!(ObjectKind::from_object_name(kind.object_name()), Some(kind));
        }
        assert_eq!(ObjectKind::from_list_path("events"), None);
    }

    #[test]
    fn same_seed_same_objects_other_seed_other_objects() {
        let a = Generator::new(7, 300, NOW);
        let b = Generator::new(7, 300, NOW);
        let c = Generator::new(8, 300, NOW);
        for kind in ObjectKind::ALL {
            for index in [0, a.count(kind) / 2, a.count(kind).saturating_sub(1)] {
                if index < a.count(kind) {
                    assert_eq!(
                        a.object(kind, index),
                        b.object(kind, index),
                        "{kind:?} {index}"
                    );
                }
            }
        }
        let index = 123;
        assert_ne!(
            a.object(ObjectKind::Customer, index),
            c.object(ObjectKind::Customer, index)
        );
    }

    #[test]
    fn created_is_monotonic_within_two_years_and_matches_the_object() {
        let generator = Generator::new(3, 1500, NOW);
        for kind in ObjectKind::ALL {
            let mut previous = i64::MIN;
            for index in 0..generator.count(kind) {
                let created = generator.created(kind, index);
                assert!(created >= previous, "{kind:?} {index}");
                assert!(
                    (NOW - 730 * DAY..=NOW).contains(&created),
                    "{kind:?} {index} {created}"
                );
                previous = created;
                if index % 97 == 0 {
                    let object = generator.object(kind, index);
                    assert_eq!(
                        object["created"].as_i64(),
                        Some(created),
                        "{kind:?} {index}"
                    );
                    assert_eq!(object["object"], kind.object_name());
                    assert_eq!(object["livemode"], false);
                }
            }
        }
    }

    #[test]
    fn ids_round_trip_to_indices() {
        let generator = Generator::new(11, 1000, NOW);
        for kind in ObjectKind::ALL {
            for index in 0..generator.count(kind) {
                let id = generator.id(kind, index);
                assert!(id.starts_with(kind.id_prefix()));
                assert_eq!(generator.index_of(kind, &id), Some(index), "{id}");
                if index % 50 == 0 {
                    assert_eq!(generator.object(kind, index)["id"], id.as_str());
                }
            }
            let past_end = generator.id(kind, generator.count(kind));
            assert_eq!(generator.index_of(kind, &past_end), None);
        }
        let other = Generator::new(12, 1000, NOW);
        let foreign = other.id(ObjectKind::Customer, 5);
        assert_eq!(generator.index_of(ObjectKind::Customer, &foreign), None);
        assert_eq!(
            generator.index_of(ObjectKind::Charge, &generator.id(ObjectKind::Customer, 5)),
            None
        );
    }

    #[test]
    fn count_created_matches_a_direct_count() {
        let generator = Generator::new(5, 800, NOW);
        let bounds = [
            (None, None),
            (Some(NOW - 100 * DAY), None),
            (None, Some(NOW - 500 * DAY)),
            (Some(NOW - 300 * DAY), Some(NOW - 200 * DAY)),
            (Some(NOW), None),
            (Some(NOW - 10 * DAY), Some(NOW - 20 * DAY)),
        ];
        for kind in ObjectKind::ALL {
            for (gte, lt) in bounds {
                let direct = (0..generator.count(kind))
                    .filter(|&i| {
                        let created = generator.created(kind, i);
                        gte.is_none_or(|g| created >= g) && lt.is_none_or(|l| created < l)
                    })
                    .count() as u64;
                assert_eq!(
                    generator.count_created(kind, gte, lt),
                    direct,
                    "{kind:?} {gte:?} {lt:?}"
                );
            }
        }
    }

    #[test]
    fn spread_and_inverse_agree() {
        for (from, to) in [
            (0, 10),
            (1, 1),
            (3, 10),
            (30, 300),
            (7, 7),
            (300, 3000),
            (9, 3000),
        ] {
            let mut hits = 0;
            for slot in 0..to {
                if let Some(j) = spread_inverse(slot, from, to) {
                    assert_eq!(spread(j, from, to), slot);
                    hits += 1;
                }
            }
            assert_eq!(hits, from);
        }
    }

    #[test]
    fn huge_sizes_stay_cheap() {
        let generator = Generator::new(1, 1_000_000_000, NOW);
        let charges = generator.count(ObjectKind::Charge);
        let last = generator.object(ObjectKind::Charge, charges - 1);
        assert_eq!(last["object"], "charge");
        let recent = generator.count_created(ObjectKind::Charge, Some(NOW - DAY), None);
        assert!(recent > 0 && recent < charges / 100);
    }
}
