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
pub(crate) mod events;
pub(crate) mod fx;
pub(crate) mod ids;
mod invoice_table;
mod payments;
mod payouts;
pub(crate) mod timeline;

use std::sync::OnceLock;

use serde_json::Value;

use crate::rng::{hash, unit_of};
use timeline::{Timeline, DAY, HORIZON_DAYS, SPAN_DAYS};

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
    Discount,
}

impl SideId {
    fn prefix(self) -> &'static str {
        match self {
            SideId::PaymentMethod => "pm_",
            SideId::SubscriptionItem => "si_",
            SideId::InvoiceLine => "il_",
            SideId::InvoiceItem => "ii_",
            SideId::BankAccount => "ba_",
            SideId::Discount => "di_",
        }
    }
}

const CREATED_SALT: u64 = 0x6372_6561_7465;
const ID_SALT: u64 = 0x6964;
pub(crate) const ACCOUNT_SALT: u64 = 0x6163_6374;
/// The largest supported `size` (ids carry indices up to 2·10^14; charges are 3 per customer).
pub const MAX_SIZE: u64 = 10_000_000_000_000;

/// Produces every object of a sandbox on demand. Cheap to query concurrently (`&self` only).
///
/// The data spans the two years before `now` (the past, fixed when the sandbox starts) and
/// three years (1,095 days) after it (the future a moving clock unfolds, at the rate of the last days).
/// [`Generator::count`] and [`Generator::object`] describe the account as of `now`; [`Generator::object_at`]
/// and [`Generator::count_at`] at any instant.
pub struct Generator {
    seed: u64,
    size: u64,
    now: i64,
    start: i64,
    horizon: i64,
    past: Timeline,
    future: Timeline,
    /// Objects of each kind placed on the past timeline (kinds spread by quantile).
    past_counts: [u64; 11],
    /// Objects of each kind over the whole span, future included.
    totals: [u64; 11],
    /// Objects of each kind created at or before `now`.
    counts: [u64; 11],
    pub(crate) streams: Vec<events::Stream>,
    /// Every invoice's place (see [`invoice_table`]); `totals` and `past_counts` hold the one-off invoices.
    invoices: OnceLock<invoice_table::InvoiceTable>,
}

impl Generator {
    /// `size` customers (capped at [`MAX_SIZE`]), data spread over the two years before `now` (unix seconds)
    /// and going on after it.
    pub fn new(seed: u64, size: u64, now: i64) -> Self {
        let size = size.min(MAX_SIZE);
        let start = now - SPAN_DAYS * DAY;
        let horizon = now + HORIZON_DAYS * DAY;
        let past = Timeline::new(seed, start, now);
        let future = Timeline::steady(seed, now + 1, horizon, timeline::GROWTH);
        let ratio = future.total_weight() / past.total_weight().max(f64::MIN_POSITIVE);
        let mut past_counts = [0u64; 11];
        let mut totals = [0u64; 11];
        for kind in ObjectKind::ALL {
            let past_count = match kind {
                ObjectKind::Customer => size,
                // One-off invoices; subscriptions' invoices follow from their lifecycles.
                ObjectKind::Invoice => size / 10,
                ObjectKind::Charge | ObjectKind::PaymentIntent | ObjectKind::BalanceTransaction => {
                    size * 3
                }
                ObjectKind::Subscription => size * 3 / 5,
                _ => 0,
            };
            past_counts[kind.slot()] = past_count;
            totals[kind.slot()] = past_count + (past_count as f64 * ratio).round() as u64;
        }
        let charges = totals[ObjectKind::Charge.slot()];
        totals[ObjectKind::Refund.slot()] = charges / 10;
        totals[ObjectKind::Dispute.slot()] = charges / 100;
        // One payout every two days once there is any business at all.
        totals[ObjectKind::Payout.slot()] = if size == 0 {
            0
        } else {
            ((SPAN_DAYS + HORIZON_DAYS) / 2) as u64
        };
        totals[ObjectKind::Product.slot()] = catalog::PRODUCTS.len() as u64;
        totals[ObjectKind::Price.slot()] = catalog::PRICES as u64;
        let mut generator = Generator {
            seed,
            size,
            now,
            start,
            horizon,
            past,
            future,
            past_counts,
            totals,
            counts: totals,
            streams: events::streams(),
            invoices: OnceLock::new(),
        };
        for kind in ObjectKind::ALL {
            if kind != ObjectKind::Invoice {
                generator.counts[kind.slot()] = generator.count_until(kind, now);
            }
        }
        if size <= invoice_table::EAGER_SIZE {
            generator.invoice_table();
        }
        generator
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// When the sandbox started: the end of the generated past (unix seconds).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The beginning of the generated period: two years (730 days) before `now`.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The Stripe account the data belongs to (`acct_...`, derived from the seed).
    pub fn account_id(&self) -> String {
        format!(
            "acct_{}",
            ids::base62_string(hash(&[self.seed, ACCOUNT_SALT]), 16)
        )
    }

    /// The end of the generated future: nothing is created or changes after it.
    pub fn horizon(&self) -> i64 {
        self.horizon
    }

    /// Objects of a kind created at or before `now` (the start), deleted ones included.
    pub fn count(&self, object: ObjectKind) -> u64 {
        match object {
            ObjectKind::Invoice => self.invoice_table().count_now(),
            _ => self.counts[object.slot()],
        }
    }

    /// Objects of a kind over the whole span, the future included (indices run `0..count_total`).
    pub fn count_total(&self, object: ObjectKind) -> u64 {
        match object {
            ObjectKind::Invoice => self.invoice_table().len(),
            _ => self.totals[object.slot()],
        }
    }

    pub(crate) fn invoice_table(&self) -> &invoice_table::InvoiceTable {
        self.invoices
            .get_or_init(|| invoice_table::InvoiceTable::build(self))
    }

    /// One-off invoices over the whole span.
    pub(crate) fn one_off_total(&self) -> u64 {
        self.totals[ObjectKind::Invoice.slot()]
    }

    /// When one-off invoice `n` is created (spread on the timeline like other objects).
    pub(crate) fn one_off_created(&self, n: u64) -> i64 {
        self.spread_created(ObjectKind::Invoice, n)
    }

    /// Objects of a kind created at or before `at`, deleted ones included.
    pub fn count_at(&self, object: ObjectKind, at: i64) -> u64 {
        self.count_until(object, at)
    }

    /// The object at `index` (0 = oldest) as it was at `now` (the start), or `Value::Null` past the end.
    pub fn object(&self, object: ObjectKind, index: u64) -> Value {
        if index >= self.count(object) {
            return Value::Null;
        }
        self.object_at(object, index, self.now)
    }

    /// The object at `index` as it is at `at`: `Value::Null` when it is not created yet (or past the end); for
    /// a deleted object, Stripe's `{"id": ..., "object": ..., "deleted": true}`.
    pub fn object_at(&self, object: ObjectKind, index: u64, at: i64) -> Value {
        if index >= self.count_total(object) || self.created(object, index) > at {
            return Value::Null;
        }
        if let Some(deleted) = self.deleted_at(object, index) {
            if deleted <= at {
                return serde_json::json!({
                    "id": self.id(object, index),
                    "object": object.object_name(),
                    "deleted": true,
                });
            }
        }
        self.render(object, index, at)
    }

    /// The object's full state at `at`, deleted or not (what a `*.deleted` event carries).
    pub(crate) fn render(&self, object: ObjectKind, index: u64, at: i64) -> Value {
        match object {
            ObjectKind::Customer => customers::customer_json(self, index, at),
            ObjectKind::Charge => payments::charge_json(self, index, at),
            ObjectKind::PaymentIntent => payments::payment_intent_json(self, index, at),
            ObjectKind::Refund => payments::refund_json(self, index),
            ObjectKind::Dispute => payments::dispute_json(self, index, at),
            ObjectKind::BalanceTransaction => payments::balance_transaction_json(self, index, at),
            ObjectKind::Invoice => billing::invoice_json(self, index, at),
            ObjectKind::Subscription => billing::subscription_json(self, index, at),
            ObjectKind::Payout => payouts::payout_json(self, index, at),
            ObjectKind::Product => catalog::product_json(self, index as usize, at),
            ObjectKind::Price => catalog::price_json(self, index as usize, at),
        }
    }

    /// When the object is deleted, if ever (customers, products and prices; only after `now`).
    pub fn deleted_at(&self, object: ObjectKind, index: u64) -> Option<i64> {
        match object {
            ObjectKind::Customer => self.customer_plan(index).deleted,
            ObjectKind::Product | ObjectKind::Price => catalog::deleted_at(self, object, index),
            _ => None,
        }
    }

    /// Whether the object is created and not deleted at `at` (what lists show), without building it.
    pub fn exists_at(&self, object: ObjectKind, index: u64, at: i64) -> bool {
        index < self.count_total(object)
            && self.created(object, index) <= at
            && self
                .deleted_at(object, index)
                .is_none_or(|deleted| deleted > at)
    }

    /// The id of object `index` (whether or not it exists).
    pub fn id(&self, object: ObjectKind, index: u64) -> String {
        ids::encode(
            object.id_prefix(),
            index,
            hash(&[self.seed, object.tag(), ID_SALT, index]),
        )
    }

    /// The index of an id this generator issued for `object` (now or in its future), or `None`.
    pub fn index_of(&self, object: ObjectKind, id: &str) -> Option<u64> {
        let (index, check) = ids::decode(id, object.id_prefix())?;
        let expected = hash(&[self.seed, object.tag(), ID_SALT, index]) % ids::CHECK_MODULUS;
        (index < self.count_total(object) && check == expected).then_some(index)
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
            ObjectKind::Customer | ObjectKind::Subscription => self.spread_created(object, index),
            ObjectKind::Invoice => self.invoice_table().created(self.start, index),
            // A payment intent and a balance transaction are created with the charge of the same index.
            ObjectKind::Charge | ObjectKind::PaymentIntent | ObjectKind::BalanceTransaction => {
                self.spread_created(ObjectKind::Charge, index)
            }
            ObjectKind::Refund => {
                let lag = (self.count_total(ObjectKind::Charge) / 600).max(1);
                self.after_charge(self.refunded_charge(index), lag)
            }
            ObjectKind::Dispute => {
                let lag = (self.count_total(ObjectKind::Charge) / 100).max(1);
                self.after_charge(self.disputed_charge(index), lag)
            }
            ObjectKind::Payout => payouts::payout_created(self, index),
            // The catalog predates the first customer: products ten minutes apart, each followed by its prices
            // (see [`catalog::price_created`]).
            ObjectKind::Product => self.start + 600 * index as i64 + 60,
            ObjectKind::Price => catalog::price_created(self.start, index),
        }
    }

    /// Quantile placement on the past timeline, then on the future one (see [`timeline`]).
    fn spread_created(&self, object: ObjectKind, index: u64) -> i64 {
        let past = self.past_counts[object.slot()];
        let jitter = unit_of(hash(&[self.seed, object.tag(), CREATED_SALT, index]));
        if index < past {
            self.past.time_at((index as f64 + jitter) / past as f64)
        } else {
            let future = (self.totals[object.slot()] - past).max(1);
            self.future
                .time_at(((index - past) as f64 + jitter) / future as f64)
        }
    }

    /// Halfway between a charge and the charge `lag` places later (or the horizon): a delay that scales with
    /// the business's volume and keeps `created` monotonic in the follower's index.
    fn after_charge(&self, charge: u64, lag: u64) -> i64 {
        let charges = self.count_total(ObjectKind::Charge);
        let from = self.spread_created(ObjectKind::Charge, charge);
        let to = if charge + lag < charges {
            self.spread_created(ObjectKind::Charge, charge + lag)
        } else {
            self.horizon - 1
        };
        from + (to - from) / 2
    }

    /// The charge refund `index` refunds: refunds are spread evenly over the charges.
    pub(crate) fn refunded_charge(&self, refund: u64) -> u64 {
        spread(
            refund,
            self.count_total(ObjectKind::Refund),
            self.count_total(ObjectKind::Charge),
        )
    }

    pub(crate) fn disputed_charge(&self, dispute: u64) -> u64 {
        spread(
            dispute,
            self.count_total(ObjectKind::Dispute),
            self.count_total(ObjectKind::Charge),
        )
    }

    /// The refund of a charge, if it has one.
    pub(crate) fn refund_of_charge(&self, charge: u64) -> Option<u64> {
        spread_inverse(
            charge,
            self.count_total(ObjectKind::Refund),
            self.count_total(ObjectKind::Charge),
        )
    }

    pub(crate) fn dispute_of_charge(&self, charge: u64) -> Option<u64> {
        spread_inverse(
            charge,
            self.count_total(ObjectKind::Dispute),
            self.count_total(ObjectKind::Charge),
        )
    }

    /// The first index whose `created` is at or after `t` (the count when there is none).
    pub fn first_index_at_or_after(&self, object: ObjectKind, t: i64) -> u64 {
        if object == ObjectKind::Invoice {
            return self.invoice_table().first_at_or_after(self.start, t);
        }
        let (mut low, mut high) = (0, self.count_total(object));
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

    /// The index range `[from, to)` of objects with `gte <= created < lt`, among those created by `now` (the
    /// start).
    pub fn created_range(
        &self,
        object: ObjectKind,
        gte: Option<i64>,
        lt: Option<i64>,
    ) -> (u64, u64) {
        let from = gte.map_or(0, |t| self.first_index_at_or_after(object, t));
        let to = lt.map_or(self.count(object), |t| {
            self.first_index_at_or_after(object, t)
                .min(self.count(object))
        });
        let from = from.min(to);
        (from, to)
    }

    /// How many objects have `gte <= created < lt` over the whole span, the future included.
    pub(crate) fn count_between(&self, object: ObjectKind, gte: i64, lt: i64) -> u64 {
        let from = self.first_index_at_or_after(object, gte);
        let to = self.first_index_at_or_after(object, lt);
        to.saturating_sub(from)
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
            // Ids of objects the future holds decode too (they exist once the clock gets there).
            let future = generator.id(kind, generator.count(kind));
            assert_eq!(
                generator.index_of(kind, &future).is_some(),
                generator.count(kind) < generator.count_total(kind)
            );
            let past_end = generator.id(kind, generator.count_total(kind));
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
