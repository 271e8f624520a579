//! Which invoice sits at which index.
//!
//! Stripe Billing invoices every subscription once per billing period, so a subscription's invoices follow
//! from its lifecycle (see [`super::billing`]): the first invoice at creation (a 0-amount one for the trial,
//! if any), one when a trial converts, one per renewal while live, and one with proration lines when its plan
//! changes mid-period. One-off invoices (no subscription) come on top, placed on the timeline like other
//! objects.
//!
//! Invoices must stay addressable by index with `created` never decreasing, like every other kind, but their
//! times are a merge of every subscription's renewals. So the generator builds, once, the sorted list of all
//! invoices of the whole span, one `u64` each: `created - start` in the high 28 bits, then the invoice's
//! identity (a one-off flag, then the subscription index and the slot, or the one-off's ordinal). Sorting the
//! packed words sorts by `(created, identity)`, so the order is total and stable, and `created` filters are a
//! binary search over the words. The build is one pass over the subscriptions' plans (no other object) and one
//! sort; memory is 8 bytes per invoice.

use super::billing::SubscriptionFacts;
use super::{Generator, ObjectKind};

const CREATED_SHIFT: u32 = 36;
const ONE_OFF_FLAG: u64 = 1 << 35;
const SLOT_BITS: u32 = 7;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const IDENTITY_MASK: u64 = (1 << CREATED_SHIFT) - 1;
/// Subscription indices the packing holds (`2^28`).
const MAX_SUBSCRIPTIONS: u64 = 1 << (35 - SLOT_BITS);
/// The largest size whose invoice table is built with the generator (about 25 invoices a customer over the
/// span, 200 bytes; 0.2 s and 20 MB at 100,000 customers); above it, it is built on the first invoice asked
/// for.
pub(crate) const EAGER_SIZE: u64 = 2_000_000;
/// Above this size the account has no invoices at all (the table would take gigabytes); the other kinds keep
/// their flat memory at any size.
pub(crate) const MAX_TABLE_SIZE: u64 = 5_000_000;

/// Which of its subscription's invoices an invoice is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Slot {
    /// At creation: the trial's 0-amount invoice, or the first period's (`subscription_create`).
    First,
    /// When a trial converts: the first paid period (`subscription_cycle`).
    TrialEnd,
    /// A mid-period plan change: proration lines (`subscription_update`).
    Change,
    /// Renewal `k >= 1`: the period starting at [`SubscriptionFacts::boundary`]`(k)` (`subscription_cycle`).
    Renewal(i64),
}

impl Slot {
    fn code(self) -> u64 {
        match self {
            Slot::First => 0,
            Slot::TrialEnd => 1,
            Slot::Change => 2,
            Slot::Renewal(k) => 2 + k as u64,
        }
    }

    fn from_code(code: u64) -> Slot {
        match code {
            0 => Slot::First,
            1 => Slot::TrialEnd,
            2 => Slot::Change,
            k => Slot::Renewal(k as i64 - 2),
        }
    }
}

/// What invoice `index` bills.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Billed {
    Subscription {
        index: u64,
        slot: Slot,
    },
    /// The `n`-th one-off invoice.
    OneOff(u64),
}

pub(crate) struct InvoiceTable {
    words: Vec<u64>,
    /// Invoices created at or before `now`.
    count_now: u64,
}

/// A subscription's invoices with their creation times, in slot order (not time order), up to `horizon`.
pub(crate) fn subscription_invoices(
    facts: &SubscriptionFacts,
    horizon: i64,
) -> impl Iterator<Item = (Slot, i64)> + '_ {
    let first = std::iter::once((Slot::First, facts.created));
    let trial_end = (facts.trial == super::billing::Trial::Converts)
        .then_some((Slot::TrialEnd, facts.billing_start));
    let change = facts.change_at().map(|(at, _, _)| (Slot::Change, at));
    let live = !facts.incomplete;
    let renewals = (1..)
        .map(|k| (Slot::Renewal(k), facts.boundary(k)))
        .take_while(move |&(_, at)| {
            live && at <= horizon && facts.ended.is_none_or(|ended| at < ended)
        });
    first
        .chain(trial_end)
        .chain(change)
        .filter(move |&(_, at)| at <= horizon)
        .chain(renewals)
}

impl InvoiceTable {
    pub(crate) fn build(generator: &Generator) -> InvoiceTable {
        let start = generator.start();
        let horizon = generator.horizon();
        let subscriptions = generator.count_total(ObjectKind::Subscription);
        if generator.size() > MAX_TABLE_SIZE || subscriptions >= MAX_SUBSCRIPTIONS {
            return InvoiceTable {
                words: Vec::new(),
                count_now: 0,
            };
        }
        let one_offs = generator.one_off_total();
        let pack = |at: i64, identity: u64| {
            let offset = u64::try_from(at - start).unwrap_or(0);
            (offset << CREATED_SHIFT) | identity
        };
        // About 12 invoices a subscription over the span (measured: 11.8 at size 100,000).
        let mut words = Vec::with_capacity((subscriptions * 12 + one_offs) as usize);
        for index in 0..subscriptions {
            let facts = generator.subscription_plan(index);
            for (slot, at) in subscription_invoices(&facts, horizon) {
                words.push(pack(at, (index << SLOT_BITS) | slot.code()));
            }
        }
        for n in 0..one_offs {
            words.push(pack(generator.one_off_created(n), ONE_OFF_FLAG | n));
        }
        words.sort_unstable();
        words.shrink_to_fit();
        let mut table = InvoiceTable {
            words,
            count_now: 0,
        };
        table.count_now = table.first_at_or_after(start, generator.now().saturating_add(1));
        table
    }

    pub(crate) fn len(&self) -> u64 {
        self.words.len() as u64
    }

    pub(crate) fn count_now(&self) -> u64 {
        self.count_now
    }

    pub(crate) fn created(&self, start: i64, index: u64) -> i64 {
        self.words
            .get(index as usize)
            .map_or(i64::MAX, |word| start + (word >> CREATED_SHIFT) as i64)
    }

    /// The first index created at or after `t`.
    pub(crate) fn first_at_or_after(&self, start: i64, t: i64) -> u64 {
        let offset = t - start;
        if offset <= 0 {
            return 0;
        }
        let key = (offset as u64).min(u64::MAX >> CREATED_SHIFT) << CREATED_SHIFT;
        self.words.partition_point(|&word| word < key) as u64
    }

    pub(crate) fn billed(&self, index: u64) -> Option<Billed> {
        let identity = self.words.get(index as usize)? & IDENTITY_MASK;
        Some(if identity & ONE_OFF_FLAG != 0 {
            Billed::OneOff(identity & !ONE_OFF_FLAG)
        } else {
            Billed::Subscription {
                index: identity >> SLOT_BITS,
                slot: Slot::from_code(identity & SLOT_MASK),
            }
        })
    }

    /// The index of a subscription's invoice created at `at`, if it has one there.
    pub(crate) fn index_of(
        &self,
        start: i64,
        at: i64,
        subscription: u64,
        slot: Slot,
    ) -> Option<u64> {
        let offset = u64::try_from(at - start).ok()?;
        let word = (offset << CREATED_SHIFT) | (subscription << SLOT_BITS) | slot.code();
        self.words.binary_search(&word).ok().map(|i| i as u64)
    }
}
