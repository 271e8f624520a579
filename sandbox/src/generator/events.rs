//! Stripe's events: every change of every object, derived like the objects themselves.
//!
//! A change happens at a fixed lag after an object's creation (or after one of a subscription's period
//! boundaries), for the objects whose plan has it. A [`Stream`] is one such (kind, lag, change) family: its
//! times never decrease with the object's index, so the changes of a stream in `[a, b]` are a binary search
//! away, and a filter on the object's plan (a few draws, no other object) tells which indices have it. Events
//! are ordered by `(created, stream, index)`, which their ids encode, so cursors decode in O(1) and a page of
//! events merges the streams' newest candidates without materializing anything else.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde_json::{json, Map, Value};

use super::billing::{
    failing_renewal, Amendment, InvoiceOutcome, Trial, CHANGE_AFTER, FINALIZE_AFTER,
    INCOMPLETE_WINDOW, LAPSE_REQUEST, LIFETIMES, MAX_MONTHLY_RENEWALS, MAX_QUARTERLY_RENEWALS,
    MAX_YEARLY_RENEWALS, PAID_AFTER, PAUSE_AFTER, REMINDER_AFTER, RESUME_AFTER, RETRY_WINDOW,
    TRIAL, TRIAL_WILL_END_BEFORE, UNCOLLECTIBLE_AFTER, VOID_AFTER,
};
use super::calendar::period_boundary;
use super::catalog::CATALOG_CHANGES;
use super::customers::{DELETE_LAGS, UPDATE_LAGS};
use super::ids::ALPHABET;
use super::payments::{ChargeOutcome, DISPUTE_DECIDED_AFTER, PENDING_FOR};
use super::payouts::{payout_arrival, payout_fails};
use super::timeline::DAY;
use super::{Generator, ObjectKind};
use crate::rng::hash;

/// The API version events are rendered in.
pub const API_VERSION: &str = "2023-08-16";
/// Stripe keeps events this long.
pub const RETENTION: i64 = 30 * DAY;
const EVENT_SALT: u64 = 0x6576_7420;

/// When a stream's changes happen, as a function of the object's index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum When {
    /// `created + offset`.
    AfterCreated(i64),
    /// A subscription's `k`-th renewal: `k` periods after billing starts (after a trial, when `trial`).
    Renewal { trial: bool, months: i64, k: i64 },
    /// `offset` after a subscription's `k`-th renewal.
    AfterRenewal {
        trial: bool,
        months: i64,
        k: i64,
        offset: i64,
    },
    /// A payout's arrival date.
    PayoutArrival,
    /// A fixed instant: the sandbox's start plus this offset (catalog changes).
    AfterStart(i64),
}

/// Which objects of the stream's kind have the change, and which object the event is about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    Created,
    CustomerUpdated(usize),
    CustomerDeleted(usize),
    Catalog {
        index: u64,
    },
    ChargeCreated(ChargeOutcome),
    ChargeSettled,
    IntentCreated,
    IntentOutcome(ChargeOutcome),
    IntentSettled,
    /// On a refund's index: the refunded charge.
    ChargeRefunded,
    /// On a dispute's index: the disputed charge.
    ChargeDisputed,
    DisputeClosed,
    PayoutArrived {
        failed: bool,
    },
    InvoiceFinalized,
    InvoiceSettled(InvoiceOutcome),
    InvoiceReminded,
    TrialWillEnd,
    TrialConverted,
    LapseRequested,
    LapseEnded,
    IncompleteExpired,
    /// A cancellation request after lifetime class `class`, on a subscription with (`trial`) or without a
    /// trial; `at_period_end` or at once.
    CancelRequested {
        trial: bool,
        class: usize,
        at_period_end: bool,
    },
    Changed {
        trial: bool,
        class: usize,
    },
    Paused {
        trial: bool,
    },
    Resumed {
        trial: bool,
    },
    PastDue {
        trial: bool,
        months: i64,
    },
    Recovered {
        trial: bool,
        months: i64,
    },
    Unpaid {
        trial: bool,
        months: i64,
    },
    Renewed {
        trial: bool,
        months: i64,
        k: i64,
    },
    EndedAtPeriodEnd {
        trial: bool,
        months: i64,
        k: i64,
    },
}

/// One family of changes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stream {
    /// The kind whose indices the stream runs over.
    pub kind: ObjectKind,
    pub when: When,
    pub what: What,
    pub event_type: &'static str,
}

fn stream(kind: ObjectKind, when: When, what: What, event_type: &'static str) -> Stream {
    Stream {
        kind,
        when,
        what,
        event_type,
    }
}

/// Every stream, in the order that breaks ties between events of the same second.
pub(crate) fn streams() -> Vec<Stream> {
    use ObjectKind as K;
    use What as W;
    let at = When::AfterCreated;
    let mut all = vec![
        stream(K::Product, at(0), W::Created, "product.created"),
        stream(K::Price, at(0), W::Created, "price.created"),
        stream(K::Customer, at(0), W::Created, "customer.created"),
    ];
    for (class, lag) in UPDATE_LAGS.iter().enumerate() {
        all.push(stream(
            K::Customer,
            at(*lag),
            W::CustomerUpdated(class),
            "customer.updated",
        ));
    }
    for (class, lag) in DELETE_LAGS.iter().enumerate() {
        all.push(stream(
            K::Customer,
            at(*lag),
            W::CustomerDeleted(class),
            "customer.deleted",
        ));
    }
    for (kind, index, offset, deleted) in CATALOG_CHANGES {
        let event_type = match (kind, deleted) {
            (K::Product, false) => "product.updated",
            (K::Product, true) => "product.deleted",
            (_, false) => "price.updated",
            (_, true) => "price.deleted",
        };
        all.push(stream(
            kind,
            When::AfterStart(offset),
            W::Catalog { index },
            event_type,
        ));
    }
    all.extend([
        stream(K::Charge, at(0), W::IntentCreated, "payment_intent.created"),
        stream(
            K::Charge,
            at(0),
            W::ChargeCreated(ChargeOutcome::Succeeded),
            "charge.succeeded",
        ),
        stream(
            K::Charge,
            at(0),
            W::ChargeCreated(ChargeOutcome::PendingThenSucceeded),
            "charge.pending",
        ),
        stream(
            K::Charge,
            at(0),
            W::ChargeCreated(ChargeOutcome::Failed),
            "charge.failed",
        ),
        stream(
            K::Charge,
            at(0),
            W::IntentOutcome(ChargeOutcome::Succeeded),
            "payment_intent.succeeded",
        ),
        stream(
            K::Charge,
            at(0),
            W::IntentOutcome(ChargeOutcome::PendingThenSucceeded),
            "payment_intent.processing",
        ),
        stream(
            K::Charge,
            at(0),
            W::IntentOutcome(ChargeOutcome::Failed),
            "payment_intent.payment_failed",
        ),
        stream(
            K::Charge,
            at(PENDING_FOR),
            W::ChargeSettled,
            "charge.succeeded",
        ),
        stream(
            K::Charge,
            at(PENDING_FOR),
            W::IntentSettled,
            "payment_intent.succeeded",
        ),
        stream(K::Refund, at(0), W::Created, "refund.created"),
        stream(K::Refund, at(0), W::ChargeRefunded, "charge.refunded"),
        stream(K::Dispute, at(0), W::Created, "charge.dispute.created"),
        stream(K::Dispute, at(0), W::ChargeDisputed, "charge.updated"),
        stream(
            K::Dispute,
            at(DISPUTE_DECIDED_AFTER),
            W::DisputeClosed,
            "charge.dispute.closed",
        ),
        stream(K::Payout, at(0), W::Created, "payout.created"),
        stream(
            K::Payout,
            When::PayoutArrival,
            W::PayoutArrived { failed: false },
            "payout.paid",
        ),
        stream(
            K::Payout,
            When::PayoutArrival,
            W::PayoutArrived { failed: true },
            "payout.failed",
        ),
        stream(K::Invoice, at(0), W::Created, "invoice.created"),
        stream(
            K::Invoice,
            at(FINALIZE_AFTER),
            W::InvoiceFinalized,
            "invoice.finalized",
        ),
    ]);
    for (class, lag) in PAID_AFTER.iter().enumerate() {
        let outcome = InvoiceOutcome::Paid(class);
        all.push(stream(
            K::Invoice,
            at(*lag),
            W::InvoiceSettled(outcome),
            "invoice.paid",
        ));
        all.push(stream(
            K::Invoice,
            at(*lag),
            W::InvoiceSettled(outcome),
            "invoice.payment_succeeded",
        ));
    }
    all.push(stream(
        K::Invoice,
        at(VOID_AFTER),
        W::InvoiceSettled(InvoiceOutcome::Void),
        "invoice.voided",
    ));
    all.push(stream(
        K::Invoice,
        at(REMINDER_AFTER),
        W::InvoiceReminded,
        "invoice.updated",
    ));
    for (class, lag) in UNCOLLECTIBLE_AFTER.iter().enumerate() {
        all.push(stream(
            K::Invoice,
            at(*lag),
            W::InvoiceSettled(InvoiceOutcome::Uncollectible(class)),
            "invoice.marked_uncollectible",
        ));
    }
    let sub = K::Subscription;
    all.extend([
        stream(sub, at(0), W::Created, "customer.subscription.created"),
        stream(
            sub,
            at(TRIAL - TRIAL_WILL_END_BEFORE),
            W::TrialWillEnd,
            "customer.subscription.trial_will_end",
        ),
        stream(
            sub,
            at(TRIAL),
            W::TrialConverted,
            "customer.subscription.updated",
        ),
        stream(
            sub,
            at(LAPSE_REQUEST),
            W::LapseRequested,
            "customer.subscription.updated",
        ),
        stream(
            sub,
            at(TRIAL),
            W::LapseEnded,
            "customer.subscription.deleted",
        ),
        stream(
            sub,
            at(INCOMPLETE_WINDOW),
            W::IncompleteExpired,
            "customer.subscription.updated",
        ),
    ]);
    for trial in [false, true] {
        let base = if trial { TRIAL } else { 0 };
        for (class, lifetime) in LIFETIMES.iter().enumerate() {
            all.push(stream(
                sub,
                at(base + lifetime),
                W::CancelRequested {
                    trial,
                    class,
                    at_period_end: true,
                },
                "customer.subscription.updated",
            ));
            all.push(stream(
                sub,
                at(base + lifetime),
                W::CancelRequested {
                    trial,
                    class,
                    at_period_end: false,
                },
                "customer.subscription.deleted",
            ));
        }
        for (class, lag) in CHANGE_AFTER.iter().enumerate() {
            all.push(stream(
                sub,
                at(base + lag),
                W::Changed { trial, class },
                "customer.subscription.updated",
            ));
        }
        all.extend([
            stream(
                sub,
                at(base + PAUSE_AFTER),
                W::Paused { trial },
                "customer.subscription.paused",
            ),
            stream(
                sub,
                at(base + RESUME_AFTER),
                W::Resumed { trial },
                "customer.subscription.resumed",
            ),
        ]);
        // A failing card's moments hang on the renewal it fails on (see `past_due_span`).
        for months in [1, 3, 12] {
            let k = failing_renewal(months);
            for (offset, what) in [
                (FINALIZE_AFTER, W::PastDue { trial, months }),
                (PAID_AFTER[2], W::Recovered { trial, months }),
                (FINALIZE_AFTER + RETRY_WINDOW, W::Unpaid { trial, months }),
            ] {
                all.push(stream(
                    sub,
                    When::AfterRenewal {
                        trial,
                        months,
                        k,
                        offset,
                    },
                    what,
                    "customer.subscription.updated",
                ));
            }
        }
        for (months, renewals) in [
            (1, MAX_MONTHLY_RENEWALS),
            (3, MAX_QUARTERLY_RENEWALS),
            (12, MAX_YEARLY_RENEWALS),
        ] {
            for k in 1..=renewals {
                let when = When::Renewal { trial, months, k };
                all.push(stream(
                    sub,
                    when,
                    W::Renewed { trial, months, k },
                    "customer.subscription.updated",
                ));
                all.push(stream(
                    sub,
                    when,
                    W::EndedAtPeriodEnd { trial, months, k },
                    "customer.subscription.deleted",
                ));
            }
        }
    }
    all
}

/// An event's place in the order of events: `created`, then stream, then the object's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub created: i64,
    pub stream: u16,
    pub index: u64,
}

const TIME_WIDTH: usize = 6;
const STREAM_WIDTH: usize = 2;
const INDEX_WIDTH: usize = 8;
const CHECK_WIDTH: usize = 4;

fn push_base62(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 16];
    for slot in digits[..width].iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
}

fn parse_base62(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |acc, byte| {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'Z' => byte - b'A' + 10,
            b'a'..=b'z' => byte - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u64::from(digit))
    })
}

impl Generator {
    /// `evt_` + created, stream and index in fixed-width base62 (so ids sort like events) + a keyed check.
    pub fn event_id(&self, key: EventKey) -> String {
        let mut id =
            String::with_capacity(4 + TIME_WIDTH + STREAM_WIDTH + INDEX_WIDTH + CHECK_WIDTH);
        id.push_str("evt_");
        push_base62(&mut id, key.created.max(0) as u64, TIME_WIDTH);
        push_base62(&mut id, u64::from(key.stream), STREAM_WIDTH);
        push_base62(&mut id, key.index, INDEX_WIDTH);
        push_base62(&mut id, self.event_check(key), CHECK_WIDTH);
        id
    }

    fn event_check(&self, key: EventKey) -> u64 {
        hash(&[
            self.seed,
            EVENT_SALT,
            key.created as u64,
            u64::from(key.stream),
            key.index,
        ]) % 62u64.pow(CHECK_WIDTH as u32)
    }

    /// The key an event id stands for, if this generator issued it (whether the event happened is
    /// [`Generator::event_happens`]).
    pub fn event_key(&self, id: &str) -> Option<EventKey> {
        let body = id.strip_prefix("evt_")?;
        if body.len() != TIME_WIDTH + STREAM_WIDTH + INDEX_WIDTH + CHECK_WIDTH || !body.is_ascii() {
            return None;
        }
        let (time, rest) = body.split_at(TIME_WIDTH);
        let (stream, rest) = rest.split_at(STREAM_WIDTH);
        let (index, check) = rest.split_at(INDEX_WIDTH);
        let key = EventKey {
            created: i64::try_from(parse_base62(time)?).ok()?,
            stream: u16::try_from(parse_base62(stream)?).ok()?,
            index: parse_base62(index)?,
        };
        (parse_base62(check)? == self.event_check(key)).then_some(key)
    }

    /// Whether the event of this key happens (at its `created`).
    pub fn event_happens(&self, key: EventKey) -> bool {
        let Some(stream) = self.streams.get(usize::from(key.stream)) else {
            return false;
        };
        key.index < self.count_total(stream.kind)
            && self.stream_time(stream, key.index) == key.created
            && self.stream_accepts(stream, key.index)
    }

    fn stream_time(&self, stream: &Stream, index: u64) -> i64 {
        match stream.when {
            When::AfterCreated(offset) => self.created(stream.kind, index) + offset,
            When::Renewal { trial, months, k } => {
                let created = self.created(stream.kind, index);
                let billing_start = if trial { created + TRIAL } else { created };
                period_boundary(billing_start, k * months)
            }
            When::AfterRenewal {
                trial,
                months,
                k,
                offset,
            } => {
                let created = self.created(stream.kind, index);
                let billing_start = if trial { created + TRIAL } else { created };
                period_boundary(billing_start, k * months) + offset
            }
            When::PayoutArrival => payout_arrival(self.created(stream.kind, index)),
            When::AfterStart(offset) => self.now + offset,
        }
    }

    /// The first index of the stream's kind whose change time is at or after `t`.
    fn stream_first_at_or_after(&self, stream: &Stream, t: i64) -> u64 {
        let (mut low, mut high) = (0, self.count_total(stream.kind));
        while low < high {
            let middle = low + (high - low) / 2;
            if self.stream_time(stream, middle) < t {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Whether object `index` of the stream's kind has the stream's change.
    fn stream_accepts(&self, stream: &Stream, index: u64) -> bool {
        let sub_has_trial = |facts: &super::billing::SubscriptionFacts, trial: bool| {
            !facts.incomplete
                && (facts.trial == Trial::Converts) == trial
                && facts.trial != Trial::Lapses
        };
        match stream.what {
            What::Created => true,
            What::CustomerUpdated(class) => self
                .customer_plan(index)
                .update
                .is_some_and(|(c, _)| c == class),
            What::CustomerDeleted(class) => self
                .customer_plan(index)
                .delete
                .is_some_and(|(c, _)| c == class),
            What::Catalog { index: wanted } => index == wanted,
            What::ChargeCreated(outcome) | What::IntentOutcome(outcome) => {
                self.charge_outcome(index) == outcome
            }
            What::ChargeSettled | What::IntentSettled => {
                self.charge_outcome(index) == ChargeOutcome::PendingThenSucceeded
            }
            What::IntentCreated | What::ChargeRefunded | What::ChargeDisputed => true,
            What::DisputeClosed => true,
            What::PayoutArrived { failed } => payout_fails(self, index) == failed,
            What::InvoiceFinalized => true,
            What::InvoiceSettled(outcome) => self.invoice_outcome(index) == outcome,
            What::InvoiceReminded => self.invoice_outcome(index) == InvoiceOutcome::Open,
            What::TrialWillEnd | What::TrialConverted => {
                let facts = self.subscription_plan(index);
                !facts.incomplete && facts.trial == Trial::Converts
            }
            What::LapseRequested | What::LapseEnded => {
                self.subscription_plan(index).trial == Trial::Lapses
            }
            What::IncompleteExpired => self.subscription_plan(index).incomplete,
            What::CancelRequested {
                trial,
                class,
                at_period_end,
            } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.requested == Some(facts.billing_start + LIFETIMES[class])
                    && facts.end_boundary.is_some() == at_period_end
            }
            What::Changed { trial, class } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && matches!(facts.amendment, Amendment::Change { class: c, .. } if c == class)
            }
            What::Paused { trial } | What::Resumed { trial } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial) && facts.amendment == Amendment::Pause
            }
            What::PastDue { trial, months } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.months == months
                    && matches!(facts.amendment, Amendment::PastDue { .. })
            }
            What::Recovered { trial, months } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.months == months
                    && facts.amendment == Amendment::PastDue { recovers: true }
            }
            What::Unpaid { trial, months } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.months == months
                    && facts.amendment == Amendment::PastDue { recovers: false }
            }
            What::Renewed { trial, months, k } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.months == months
                    && facts.ended.is_none_or(|ended| facts.boundary(k) < ended)
            }
            What::EndedAtPeriodEnd { trial, months, k } => {
                let facts = self.subscription_plan(index);
                sub_has_trial(&facts, trial)
                    && facts.months == months
                    && facts.end_boundary == Some(k)
            }
        }
    }

    /// The object an event of this stream is about.
    fn stream_subject(&self, stream: &Stream, index: u64) -> (ObjectKind, u64) {
        match stream.what {
            What::IntentCreated | What::IntentOutcome(_) | What::IntentSettled => {
                (ObjectKind::PaymentIntent, index)
            }
            What::ChargeRefunded => (ObjectKind::Charge, self.refunded_charge(index)),
            What::ChargeDisputed => (ObjectKind::Charge, self.disputed_charge(index)),
            _ => (stream.kind, index),
        }
    }

    /// The event of a key, in Stripe's shape (the key must be one that happens).
    pub fn event_json(&self, key: EventKey) -> Value {
        let Some(stream) = self.streams.get(usize::from(key.stream)) else {
            return Value::Null;
        };
        let (kind, index) = self.stream_subject(stream, key.index);
        let at = key.created;
        let mut data = Map::new();
        let mut object = self.render(kind, index, at);
        if stream.event_type.ends_with(".deleted")
            && matches!(
                kind,
                ObjectKind::Customer | ObjectKind::Product | ObjectKind::Price
            )
        {
            if let Value::Object(fields) = &mut object {
                fields.insert("deleted".into(), Value::Bool(true));
            }
        }
        if stream.event_type.ends_with(".updated") {
            let before = self.render(kind, index, at - 1);
            let mut previous = Map::new();
            if let (Value::Object(old), Value::Object(new)) = (&before, &object) {
                for (field, old_value) in old {
                    if new.get(field) != Some(old_value) {
                        previous.insert(field.clone(), old_value.clone());
                    }
                }
            }
            data.insert("object".into(), object);
            data.insert("previous_attributes".into(), Value::Object(previous));
        } else {
            data.insert("object".into(), object);
        }
        json!({
            "id": self.event_id(key),
            "object": "event",
            "account": self.account_id(),
            "api_version": API_VERSION,
            "created": at,
            "data": Value::Object(data),
            "livemode": false,
            "pending_webhooks": 0,
            "request": { "id": null, "idempotency_key": null },
            "type": stream.event_type,
        })
    }

    /// The stream numbers whose event type passes `wanted`.
    pub(crate) fn streams_of_types(&self, wanted: &dyn Fn(&str) -> bool) -> Vec<u16> {
        self.streams
            .iter()
            .enumerate()
            .filter(|(_, stream)| wanted(stream.event_type))
            .filter_map(|(number, _)| u16::try_from(number).ok())
            .collect()
    }

    /// Up to `limit` events of the given streams with `from <= created <= to` and a key strictly between
    /// `after` and `before`, newest first (`newest_first`) or oldest first; and whether there are more
    /// beyond them in that direction. Each stream is walked lazily from its end of the window, so a page costs
    /// its events plus two binary searches per stream.
    ///
    /// The window is taken in time slices from its near end, each twice as long as the one before, so that a
    /// page near the end of a long window only looks at the objects of the slices it needs.
    pub(crate) fn events_page(
        &self,
        window: &EventWindow,
        limit: usize,
        newest_first: bool,
    ) -> (Vec<EventKey>, bool) {
        let mut low = window.from;
        let mut high = window.to;
        if let Some(after) = window.after {
            low = low.max(after.created);
        }
        if let Some(before) = window.before {
            high = high.min(before.created);
        }
        let mut keys: Vec<EventKey> = Vec::new();
        let mut span: i64 = DAY;
        while low <= high && keys.len() <= limit {
            let slice = if newest_first {
                EventWindow {
                    from: low.max(high.saturating_sub(span - 1)),
                    to: high,
                    ..*window
                }
            } else {
                EventWindow {
                    from: low,
                    to: high.min(low.saturating_add(span - 1)),
                    ..*window
                }
            };
            let (page, _) = self.events_page_in(&slice, limit + 1 - keys.len(), newest_first);
            keys.extend(page);
            if newest_first {
                high = slice.from - 1;
            } else {
                low = slice.to + 1;
            }
            span = span.saturating_mul(2);
        }
        let has_more = keys.len() > limit;
        keys.truncate(limit);
        (keys, has_more)
    }

    fn events_page_in(
        &self,
        window: &EventWindow,
        limit: usize,
        newest_first: bool,
    ) -> (Vec<EventKey>, bool) {
        let EventWindow {
            streams,
            from,
            to,
            after,
            before,
        } = *window;
        let mut walkers: Vec<Walker> = Vec::with_capacity(streams.len());
        for &number in streams {
            let Some(stream) = self.streams.get(usize::from(number)) else {
                continue;
            };
            let mut low = self.stream_first_at_or_after(stream, from);
            let mut high = self.stream_first_at_or_after(stream, to.saturating_add(1));
            if let Some(before) = before {
                let limit = match number.cmp(&before.stream) {
                    std::cmp::Ordering::Less => {
                        self.stream_first_at_or_after(stream, before.created.saturating_add(1))
                    }
                    std::cmp::Ordering::Greater => {
                        self.stream_first_at_or_after(stream, before.created)
                    }
                    std::cmp::Ordering::Equal => before.index.min(
                        self.stream_first_at_or_after(stream, before.created.saturating_add(1)),
                    ),
                };
                high = high.min(limit);
            }
            if let Some(after) = after {
                let limit = match number.cmp(&after.stream) {
                    std::cmp::Ordering::Less => {
                        self.stream_first_at_or_after(stream, after.created.saturating_add(1))
                    }
                    std::cmp::Ordering::Greater => {
                        self.stream_first_at_or_after(stream, after.created)
                    }
                    std::cmp::Ordering::Equal => after
                        .index
                        .saturating_add(1)
                        .max(self.stream_first_at_or_after(stream, after.created)),
                };
                low = low.max(limit);
            }
            if low < high {
                walkers.push(Walker { number, low, high });
            }
        }
        let mut keys = Vec::with_capacity(limit.min(1000));
        if newest_first {
            let mut heap = BinaryHeap::new();
            for (slot, walker) in walkers.iter_mut().enumerate() {
                if let Some(key) = self.walk_down(walker) {
                    heap.push((key, slot));
                }
            }
            while let Some((key, slot)) = heap.pop() {
                if keys.len() == limit {
                    return (keys, true);
                }
                keys.push(key);
                if let Some(next) = walkers.get_mut(slot).and_then(|w| self.walk_down(w)) {
                    heap.push((next, slot));
                }
            }
        } else {
            let mut heap = BinaryHeap::new();
            for (slot, walker) in walkers.iter_mut().enumerate() {
                if let Some(key) = self.walk_up(walker) {
                    heap.push(Reverse((key, slot)));
                }
            }
            while let Some(Reverse((key, slot))) = heap.pop() {
                if keys.len() == limit {
                    return (keys, true);
                }
                keys.push(key);
                if let Some(next) = walkers.get_mut(slot).and_then(|w| self.walk_up(w)) {
                    heap.push(Reverse((next, slot)));
                }
            }
        }
        (keys, false)
    }

    /// The newest remaining event of a walker's stream (moving its upper end down).
    fn walk_down(&self, walker: &mut Walker) -> Option<EventKey> {
        let stream = self.streams.get(usize::from(walker.number))?;
        while walker.high > walker.low {
            walker.high -= 1;
            if self.stream_accepts(stream, walker.high) {
                return Some(EventKey {
                    created: self.stream_time(stream, walker.high),
                    stream: walker.number,
                    index: walker.high,
                });
            }
        }
        None
    }

    /// The oldest remaining event of a walker's stream (moving its lower end up).
    fn walk_up(&self, walker: &mut Walker) -> Option<EventKey> {
        let stream = self.streams.get(usize::from(walker.number))?;
        while walker.low < walker.high {
            let index = walker.low;
            walker.low += 1;
            if self.stream_accepts(stream, index) {
                return Some(EventKey {
                    created: self.stream_time(stream, index),
                    stream: walker.number,
                    index,
                });
            }
        }
        None
    }

    /// How many events happen with `from <= created <= to` (all types).
    pub fn events_count_between(&self, from: i64, to: i64) -> u64 {
        let mut count = 0;
        for stream in &self.streams {
            let low = self.stream_first_at_or_after(stream, from);
            let high = self.stream_first_at_or_after(stream, to.saturating_add(1));
            count += (low..high)
                .filter(|&index| self.stream_accepts(stream, index))
                .count() as u64;
        }
        count
    }
}

/// Which events a page is taken from: those of `streams` with `from <= created <= to`, strictly between the
/// `after` and `before` keys.
#[derive(Clone, Copy)]
pub(crate) struct EventWindow<'a> {
    pub streams: &'a [u16],
    pub from: i64,
    pub to: i64,
    pub after: Option<EventKey>,
    pub before: Option<EventKey>,
}

/// A stream's remaining index range in a page.
struct Walker {
    number: u16,
    low: u64,
    high: u64,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn all_streams(generator: &Generator) -> Vec<u16> {
        generator.streams_of_types(&|_| true)
    }

    /// Every event with `from <= created <= to`, oldest first, paged like a client would.
    fn events_between(generator: &Generator, from: i64, to: i64) -> Vec<EventKey> {
        let streams = all_streams(generator);
        let mut keys: Vec<EventKey> = Vec::new();
        loop {
            let window = EventWindow {
                streams: &streams,
                from,
                to,
                after: keys.last().copied(),
                before: None,
            };
            let (page, more) = generator.events_page(&window, 100, false);
            keys.extend(page);
            if !more {
                return keys;
            }
        }
    }

    #[test]
    fn stream_times_never_decrease_with_the_index() {
        let generator = Generator::new(3, 200, NOW);
        for stream in &generator.streams {
            let mut previous = i64::MIN;
            for index in 0..generator.count_total(stream.kind) {
                let t = generator.stream_time(stream, index);
                assert!(t >= previous, "{stream:?} {index}");
                previous = t;
            }
        }
    }

    #[test]
    fn event_ids_round_trip_and_sort_like_events() {
        let generator = Generator::new(5, 300, NOW);
        let keys = events_between(&generator, NOW - 10 * DAY, NOW);
        assert!(keys.len() > 100, "{}", keys.len());
        let mut previous = String::new();
        for key in &keys {
            let id = generator.event_id(*key);
            assert_eq!(generator.event_key(&id), Some(*key));
            assert!(generator.event_happens(*key));
            assert!(id > previous);
            previous = id;
        }
        assert_eq!(generator.event_key("evt_nope"), None);
        let other = Generator::new(6, 300, NOW);
        assert_eq!(other.event_key(&generator.event_id(keys[0])), None);
        assert_eq!(
            generator.events_count_between(NOW - 10 * DAY, NOW),
            keys.len() as u64
        );
    }

    #[test]
    fn newest_first_pages_are_the_reverse_of_oldest_first() {
        let generator = Generator::new(5, 300, NOW);
        let oldest_first = events_between(&generator, NOW - 6 * DAY, NOW);
        let streams = all_streams(&generator);
        let mut newest_first: Vec<EventKey> = Vec::new();
        loop {
            let window = EventWindow {
                streams: &streams,
                from: NOW - 6 * DAY,
                to: NOW,
                after: None,
                before: newest_first.last().copied(),
            };
            let (page, more) = generator.events_page(&window, 37, true);
            newest_first.extend(page);
            if !more {
                break;
            }
        }
        newest_first.reverse();
        assert_eq!(newest_first, oldest_first);
    }

    /// Applying the events of `(t1, t2]` to the objects as they were at `t1` gives the objects at `t2`, and
    /// every object that changed has an event (balance transactions excepted: Stripe sends none for them).
    #[test]
    fn events_carry_every_change_between_two_instants() {
        let generator = Generator::new(11, 120, NOW);
        for (t1, t2) in [
            (NOW - 25 * DAY, NOW + 30 * DAY),
            (NOW + 100 * DAY, NOW + 300 * DAY),
        ] {
            let mut latest: HashMap<(ObjectKind, String), Value> = HashMap::new();
            let mut previous_created = i64::MIN;
            for key in events_between(&generator, t1 + 1, t2) {
                assert!(key.created >= previous_created);
                previous_created = key.created;
                let event = generator.event_json(key);
                let object = event["data"]["object"].clone();
                let kind =
                    ObjectKind::from_object_name(object["object"].as_str().unwrap()).unwrap();
                let id = object["id"].as_str().unwrap().to_owned();
                latest.insert((kind, id), object);
            }
            assert!(!latest.is_empty());
            let mut changed = 0;
            for kind in ObjectKind::ALL {
                for index in 0..generator.count_at(kind, t2) {
                    let before = generator.object_at(kind, index, t1);
                    let after = generator.object_at(kind, index, t2);
                    let id = generator.id(kind, index);
                    let applied = latest.get(&(kind, id.clone())).cloned();
                    if kind == ObjectKind::BalanceTransaction {
                        assert!(applied.is_none());
                        continue;
                    }
                    let applied = applied.unwrap_or_else(|| before.clone());
                    if before != after {
                        changed += 1;
                    }
                    if after["deleted"] == true {
                        assert_eq!(applied["deleted"], true, "{kind:?} {id}");
                        assert_eq!(applied["id"], after["id"]);
                    } else {
                        assert_eq!(applied, after, "{kind:?} {id} between {t1} and {t2}");
                    }
                }
            }
            assert!(changed > 100, "{changed}");
        }
    }

    #[test]
    fn updated_events_name_the_old_values_of_what_changed() {
        let generator = Generator::new(2, 500, NOW);
        let keys = events_between(&generator, NOW - 30 * DAY, NOW + 125 * DAY);
        let mut seen = HashMap::new();
        for key in keys {
            let event = generator.event_json(key);
            let event_type = event["type"].as_str().unwrap().to_owned();
            *seen.entry(event_type.clone()).or_insert(0) += 1;
            if event_type.ends_with(".updated") {
                let previous = event["data"]["previous_attributes"].as_object().unwrap();
                assert!(!previous.is_empty(), "{event}");
                for (field, old) in previous {
                    assert_ne!(&event["data"]["object"][field], old, "{event_type} {field}");
                }
            } else {
                assert!(event["data"].get("previous_attributes").is_none());
            }
            if event_type.ends_with(".deleted") && !event_type.starts_with("customer.subscription")
            {
                assert_eq!(event["data"]["object"]["deleted"], true);
            }
            assert_eq!(event["api_version"], API_VERSION);
            assert_eq!(event["object"], "event");
        }
        for wanted in [
            "customer.created",
            "customer.updated",
            "customer.deleted",
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.deleted",
            "customer.subscription.paused",
            "customer.subscription.resumed",
            "customer.subscription.trial_will_end",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
            "invoice.voided",
            "invoice.marked_uncollectible",
            "invoice.updated",
            "charge.succeeded",
            "charge.refunded",
            "charge.updated",
            "charge.dispute.created",
            "charge.dispute.closed",
            "refund.created",
            "payment_intent.created",
            "payment_intent.succeeded",
            "payout.created",
            "payout.paid",
            "product.updated",
            "product.deleted",
            "price.updated",
            "price.deleted",
        ] {
            assert!(seen.contains_key(wanted), "no {wanted}: {seen:?}");
        }
    }

    #[test]
    fn some_objects_change_months_after_they_were_created() {
        let generator = Generator::new(4, 500, NOW);
        let keys = events_between(&generator, NOW, NOW + 30 * DAY);
        let late = keys
            .iter()
            .filter(|key| {
                let event = generator.event_json(**key);
                let created = event["data"]["object"]["created"]
                    .as_i64()
                    .unwrap_or(i64::MAX);
                key.created - created > 90 * DAY
            })
            .count();
        assert!(late > 20, "{late} of {}", keys.len());
    }
}
