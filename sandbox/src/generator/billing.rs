//! Subscriptions and invoices.
//!
//! A subscription is a lifecycle decided up front from its draws: a price from the catalog (mostly monthly,
//! some quarterly or yearly), maybe a coupon, maybe a 14-day trial (some never convert), maybe an upgrade to
//! the next tier, and a lifetime after which the customer cancels (now or at period end), so MRR and churn
//! computed from a snapshot are meaningful. Invoices are what Stripe Billing issues for that life, one per
//! billing period (see [`invoice_json`] and [`super::invoice_table`]), so each subscription's items over time
//! can be read back from its invoices; one-off invoices (services, set-up fees) come on top.
//!
//! Currencies: a subscription is billed in its customer's currency, USD, EUR or GBP (the catalog's currencies;
//! customers billed in another currency, CAD, have no subscriptions), for its whole life, as Stripe does: its
//! items use the catalog's prices in that currency (a change moves to the same-currency counterpart), and its
//! `currency`, its invoices, their lines and discounts, are in it. About three subscriptions in four are in
//! USD, one in six in EUR and one in twelve in GBP, the customers' market shares. A percentage coupon applies
//! in any currency; an amount-off coupon has one currency in Stripe, so each currency has its own (`FIRST10`,
//! `FIRST10_EUR`, `FIRST10_GBP`) and a subscription gets the one of its currency.

use serde_json::{json, Value};

use super::calendar::{period_boundary, period_containing};
use super::invoice_table::{Billed, Slot};
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
/// A trial lasts two weeks; Stripe warns three days before it ends.
pub(crate) const TRIAL: i64 = 14 * DAY;
pub(crate) const TRIAL_WILL_END_BEFORE: i64 = 3 * DAY;
/// Stripe expires an unpaid first invoice (and its subscription) after 23 hours.
pub(crate) const INCOMPLETE_WINDOW: i64 = 23 * 3600;
/// When a trial that lapses is canceled, after sign-up (it ends with the trial).
pub(crate) const LAPSE_REQUEST: i64 = 6 * DAY + 5 * 3600;
/// How long after billing starts customers ask to cancel, for each lifetime class. The odd hours keep requests
/// off the period boundaries (which keep the time of day of the billing start).
pub(crate) const LIFETIMES: [i64; 6] = [
    20 * DAY + 7 * 3600,
    61 * DAY + 7 * 3600,
    150 * DAY + 7 * 3600,
    300 * DAY + 7 * 3600,
    500 * DAY + 7 * 3600,
    800 * DAY + 7 * 3600,
];
const LIFETIME_SHARES: [f64; 6] = [0.08, 0.10, 0.12, 0.12, 0.10, 0.08];
/// When a plan change (upgrade, downgrade, seats) happens after billing starts, per class.
pub(crate) const CHANGE_AFTER: [i64; 2] = [50 * DAY + 3 * 3600, 130 * DAY + 3 * 3600];
/// Collection paused for a month.
pub(crate) const PAUSE_AFTER: i64 = 75 * DAY + 2 * 3600;
pub(crate) const RESUME_AFTER: i64 = 105 * DAY + 2 * 3600;
/// A failing card fails on one renewal's invoice: the subscription is past due from that invoice's first
/// payment attempt (its finalization), then either the invoice is paid late (`PAID_AFTER[2]` after it was
/// created) or Stripe's retry schedule runs out `RETRY_WINDOW` after the first attempt and the subscription
/// turns `unpaid` (the account's "after all retries fail" setting), its invoices left open. Both moments
/// follow from the invoices a reader gets, as they do on a real account with Stripe's default schedule.
pub(crate) const RETRY_WINDOW: i64 = 14 * DAY;

/// The renewal a failing card fails on: the third of a monthly plan, the first of the others.
pub(crate) fn failing_renewal(months: i64) -> i64 {
    if months == 1 {
        3
    } else {
        1
    }
}

/// When a subscription billed from `billing_start` every `months` months turns past due on a failing card,
/// and when it recovers (`recovers`) or turns unpaid.
pub(crate) fn past_due_span(billing_start: i64, months: i64, recovers: bool) -> (i64, i64) {
    let failing = period_boundary(billing_start, failing_renewal(months) * months);
    let past_due = failing + FINALIZE_AFTER;
    if recovers {
        (past_due, failing + PAID_AFTER[2])
    } else {
        (past_due, past_due + RETRY_WINDOW)
    }
}
/// The most renewals a subscription can have within the generated span (monthly, quarterly and yearly).
pub(crate) const MAX_MONTHLY_RENEWALS: i64 = 62;
pub(crate) const MAX_QUARTERLY_RENEWALS: i64 = 21;
pub(crate) const MAX_YEARLY_RENEWALS: i64 = 6;
const PLAN_SALT: u64 = 0x706c_616e;
const COUPON_SALT: u64 = 0x636f_7570;
const QUARTER_SALT: u64 = 0x7175_6172;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CouponDuration {
    Forever,
    Repeating(i64),
    Once,
}

pub(crate) struct Coupon {
    pub id: &'static str,
    pub name: &'static str,
    pub percent_off: Option<f64>,
    /// In the minor unit of `currency`.
    pub amount_off: Option<i64>,
    /// The currency of `amount_off` (none for a percentage).
    pub currency: Option<&'static str>,
    pub duration: CouponDuration,
}

/// The coupons some subscriptions get at sign-up (created with the catalog). The first four are drawn (see
/// [`COUPON_WEIGHTS`]); the amount-off one is in USD, and its EUR and GBP versions follow, given instead to
/// subscriptions in those currencies (see [`coupon_in`]).
pub(crate) const COUPONS: [Coupon; 6] = [
    Coupon {
        id: "LAUNCH20",
        name: "20% off forever",
        percent_off: Some(20.0),
        amount_off: None,
        currency: None,
        duration: CouponDuration::Forever,
    },
    Coupon {
        id: "WELCOME50",
        name: "50% off for 3 months",
        percent_off: Some(50.0),
        amount_off: None,
        currency: None,
        duration: CouponDuration::Repeating(3),
    },
    Coupon {
        id: "TEAM25",
        name: "25% off for a year",
        percent_off: Some(25.0),
        amount_off: None,
        currency: None,
        duration: CouponDuration::Repeating(12),
    },
    Coupon {
        id: "FIRST10",
        name: "$10 off the first invoice",
        percent_off: None,
        amount_off: Some(1000),
        currency: Some("usd"),
        duration: CouponDuration::Once,
    },
    Coupon {
        id: "FIRST10_EUR",
        name: "€10 off the first invoice",
        percent_off: None,
        amount_off: Some(1000),
        currency: Some("eur"),
        duration: CouponDuration::Once,
    },
    Coupon {
        id: "FIRST10_GBP",
        name: "£10 off the first invoice",
        percent_off: None,
        amount_off: Some(1000),
        currency: Some("gbp"),
        duration: CouponDuration::Once,
    },
];
/// How often a subscription with a coupon gets each of the first four.
const COUPON_WEIGHTS: [u32; 4] = [3, 4, 2, 3];

/// The coupon a subscription billed in `currency` gets for the drawn `coupon`: a percentage as it is, an amount
/// off as the coupon of the same offer in `currency` (the drawn one when there is none).
pub(crate) fn coupon_in(coupon: usize, currency: &str) -> usize {
    let drawn = &COUPONS[coupon % COUPONS.len()];
    if drawn.amount_off.is_none() {
        return coupon;
    }
    COUPONS
        .iter()
        .position(|other| {
            other.currency == Some(currency)
                && other.amount_off == drawn.amount_off
                && other.duration == drawn.duration
        })
        .unwrap_or(coupon)
}

pub(crate) fn coupon_json(generator: &Generator, coupon: usize) -> Value {
    let coupon = &COUPONS[coupon % COUPONS.len()];
    let (duration, months) = match coupon.duration {
        CouponDuration::Forever => ("forever", None),
        CouponDuration::Repeating(months) => ("repeating", Some(months)),
        CouponDuration::Once => ("once", None),
    };
    json!({
        "id": coupon.id,
        "object": "coupon",
        "amount_off": coupon.amount_off,
        "created": generator.start(),
        "currency": coupon.currency,
        "duration": duration,
        "duration_in_months": months,
        "livemode": false,
        "max_redemptions": null,
        "metadata": {},
        "name": coupon.name,
        "percent_off": coupon.percent_off,
        "redeem_by": null,
        "times_redeemed": 0,
        "valid": true,
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Trial {
    None,
    Converts,
    Lapses,
}

/// The one change a subscription may go through while it is live.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Amendment {
    None,
    /// To `price` and `quantity`, after [`CHANGE_AFTER`]`[class]`.
    Change {
        class: usize,
        price: usize,
        quantity: u64,
    },
    Pause,
    PastDue {
        recovers: bool,
    },
}

/// A subscription's whole life, decided up front from its draws: every time it changes is a fixed lag after
/// its creation or a billing period boundary, so "which subscriptions change in [a, b)" is a binary search.
pub(crate) struct SubscriptionFacts {
    pub created: i64,
    pub customer: u64,
    /// The currency it is billed in: its customer's ([`Generator::subscription_facts`]); "usd" in a plan
    /// ([`Generator::subscription_plan`]), whose prices and coupon are the USD ones.
    pub currency: &'static str,
    /// Months between two bills (1, 3 or 12).
    pub months: i64,
    /// The catalog's price (in [`SubscriptionFacts::currency`]).
    pub price: usize,
    pub quantity: u64,
    pub trial: Trial,
    pub incomplete: bool,
    /// When paid service starts (the trial end, if any).
    pub billing_start: i64,
    pub amendment: Amendment,
    /// When the customer asks to cancel (or the trial lapse is recorded).
    pub requested: Option<i64>,
    /// When service ends (incomplete ones expire).
    pub ended: Option<i64>,
    /// The period boundary (renewal number) a cancellation at period end takes effect on.
    pub end_boundary: Option<i64>,
    pub payment_failed: bool,
    pub feedback: &'static str,
    /// The coupon applied at creation, if any (an index into [`COUPONS`]).
    pub coupon: Option<usize>,
}

impl SubscriptionFacts {
    pub(crate) fn step_months(&self) -> i64 {
        self.months
    }

    /// Bills the plan in `currency` (when the catalog has prices in it): the same-currency counterparts of its
    /// prices, the new one of a change included, and the amount-off coupon of that currency.
    fn localize(&mut self, currency: &'static str) {
        if !catalog::sells_in(currency) {
            return;
        }
        self.currency = currency;
        self.price = catalog::in_currency(self.price, currency);
        if let Amendment::Change {
            class,
            price,
            quantity,
        } = self.amendment
        {
            self.amendment = Amendment::Change {
                class,
                price: catalog::in_currency(price, currency),
                quantity,
            };
        }
        self.coupon = self.coupon.map(|coupon| coupon_in(coupon, currency));
    }

    /// Renewal `k` (k >= 1): the start of the k-th period after billing starts.
    pub(crate) fn boundary(&self, k: i64) -> i64 {
        period_boundary(self.billing_start, k * self.step_months())
    }

    pub(crate) fn change_at(&self) -> Option<(i64, usize, u64)> {
        match self.amendment {
            Amendment::Change {
                class,
                price,
                quantity,
            } => Some((self.billing_start + CHANGE_AFTER[class], price, quantity)),
            _ => None,
        }
    }

    /// When the coupon stops applying (a repeating one, `duration_in_months` after creation).
    pub(crate) fn discount_end(&self) -> Option<i64> {
        match COUPONS[self.coupon? % COUPONS.len()].duration {
            CouponDuration::Repeating(months) => {
                Some(super::calendar::add_months(self.created, months))
            }
            _ => None,
        }
    }

    /// The discount a non-proration line of `amount` gets on the invoice of `slot` created at `created`: a
    /// percentage of it while the coupon lasts (forever, or invoices created before a repeating coupon's end),
    /// or, for a `once` coupon, its amount off the first paid invoice.
    pub(crate) fn discount_on(&self, slot: Slot, created: i64, amount: i64) -> i64 {
        let Some(coupon) = self.coupon.map(|c| &COUPONS[c % COUPONS.len()]) else {
            return 0;
        };
        let applies = match coupon.duration {
            CouponDuration::Forever => true,
            CouponDuration::Repeating(_) => self.discount_end().is_some_and(|end| created < end),
            CouponDuration::Once => {
                slot == if self.trial == Trial::None {
                    Slot::First
                } else {
                    Slot::TrialEnd
                }
            }
        };
        if !applies || slot == Slot::Change || amount <= 0 {
            return 0;
        }
        match (coupon.percent_off, coupon.amount_off) {
            (Some(percent), _) => (amount as f64 * percent / 100.0).round() as i64,
            (None, Some(off)) => off.min(amount),
            (None, None) => 0,
        }
    }

    /// The price and quantity billed at `t`.
    pub(crate) fn price_and_quantity_at(&self, t: i64) -> (usize, u64) {
        match self.change_at() {
            Some((at, price, quantity)) if at <= t => (price, quantity),
            _ => (self.price, self.quantity),
        }
    }

    pub(crate) fn status_at(&self, at: i64) -> SubscriptionStatus {
        if self.incomplete {
            return if self.ended.is_some_and(|ended| ended <= at) {
                SubscriptionStatus::IncompleteExpired
            } else {
                SubscriptionStatus::Incomplete
            };
        }
        if self.ended.is_some_and(|ended| ended <= at) {
            return SubscriptionStatus::Canceled;
        }
        if self.trial != Trial::None && at < self.billing_start {
            return SubscriptionStatus::Trialing;
        }
        if let Amendment::PastDue { recovers } = self.amendment {
            let (past_due, settled) = past_due_span(self.billing_start, self.months, recovers);
            if (past_due..settled).contains(&at) {
                return SubscriptionStatus::PastDue;
            }
            if !recovers && at >= settled {
                return SubscriptionStatus::Unpaid;
            }
        }
        SubscriptionStatus::Active
    }

    /// The current period at `at`: the trial while trialing, else the billing period containing `at` (or the
    /// last one, once ended).
    fn current_period(&self, at: i64) -> (i64, i64) {
        if self.trial != Trial::None && at < self.billing_start {
            return (self.created, self.billing_start);
        }
        let at = match self.ended {
            Some(ended) if ended <= at => (ended - 1).max(self.billing_start),
            _ => at,
        };
        period_containing(self.billing_start, self.step_months(), at)
    }
}

impl Generator {
    /// The subscription's plan with its customer, billed in the customer's currency: its prices, plan change
    /// and amount-off coupon are the counterparts in that currency of the plan's USD ones.
    pub(crate) fn subscription_facts(&self, index: u64) -> SubscriptionFacts {
        let mut facts = self.subscription_plan(index);
        let mut draws = self.draws(ObjectKind::Subscription, index);
        // Recent sign-ups subscribe, in their currency if the catalog sells in it: look for such a customer (a
        // few tries, then the nearest one).
        let mut customer = None;
        let existing = self.count_until(ObjectKind::Customer, facts.created);
        for _ in 0..8 {
            let candidate = Generator::customer_among(existing, &mut draws, true);
            customer = candidate.or(customer);
            if candidate.is_some_and(|c| catalog::sells_in(self.customer_currency(c))) {
                break;
            }
        }
        facts.customer = self.selling_customer_near(customer.unwrap_or(0));
        facts.localize(self.customer_currency(facts.customer));
        facts
    }

    /// `customer` if the catalog sells in its currency, else the nearest such customer before it (after it,
    /// when there is none before).
    fn selling_customer_near(&self, customer: u64) -> u64 {
        let sells = |c: &u64| catalog::sells_in(self.customer_currency(*c));
        (0..=customer)
            .rev()
            .find(sells)
            .or_else(|| (customer + 1..self.count_total(ObjectKind::Customer)).find(sells))
            .unwrap_or(customer)
    }

    /// Everything about a subscription but its customer (cheap: no other object is looked at).
    pub(crate) fn subscription_plan(&self, index: u64) -> SubscriptionFacts {
        let mut draws =
            crate::rng::Draws::new(&[self.seed, ObjectKind::Subscription.tag(), PLAN_SALT, index]);
        let created = self.created(ObjectKind::Subscription, index);
        let mut product = draws.weighted(&catalog::SUBSCRIPTION_WEIGHTS);
        if catalog::PRODUCTS[product].legacy && created > self.start + 180 * DAY {
            product = 0;
        }
        let yearly = draws.chance(if product == 4 { 0.5 } else { 0.2 });
        let quantity = if catalog::PRODUCTS[product].per_seat {
            1 + draws.below(20)
        } else {
            1
        };
        let trial_draw = draws.unit();
        let incomplete = draws.chance(0.02);
        let trial = if incomplete || trial_draw >= 0.35 {
            Trial::None
        } else if trial_draw < 0.245 {
            Trial::Converts
        } else {
            Trial::Lapses
        };
        let lifetime = super::customers::class_of(draws.unit(), &LIFETIME_SHARES);
        let at_period_end = draws.chance(0.6);
        let payment_failed = draws.chance(0.3);
        let feedback = draws.pick(&CANCELLATION_FEEDBACK);
        let amendment_draw = draws.unit();
        let change_class = usize::from(draws.chance(0.5));
        let billing_start = if trial == Trial::None {
            created
        } else {
            created + TRIAL
        };
        // Some tier subscriptions (not the very first) are billed quarterly (a draw of their own).
        let quarterly = !yearly
            && catalog::TIERS.contains(&product)
            && created > self.start + DAY
            && crate::rng::Draws::new(&[
                self.seed,
                ObjectKind::Subscription.tag(),
                QUARTER_SALT,
                index,
            ])
            .chance(0.15);
        let months = match (yearly, quarterly) {
            (true, _) => 12,
            (false, true) => 3,
            (false, false) => 1,
        };
        let price = catalog::price_for(product, months);
        let mut facts = SubscriptionFacts {
            created,
            customer: 0,
            currency: "usd",
            months,
            price,
            quantity,
            trial,
            incomplete,
            billing_start,
            amendment: Amendment::None,
            requested: None,
            ended: None,
            end_boundary: None,
            payment_failed: false,
            feedback,
            coupon: None,
        };
        if incomplete {
            facts.ended = Some(created + INCOMPLETE_WINDOW);
            return facts;
        }
        let mut coupon_draws = crate::rng::Draws::new(&[
            self.seed,
            ObjectKind::Subscription.tag(),
            COUPON_SALT,
            index,
        ]);
        if coupon_draws.chance(0.15) {
            facts.coupon = Some(coupon_draws.weighted(&COUPON_WEIGHTS));
        }
        if trial == Trial::Lapses {
            facts.requested = Some(created + LAPSE_REQUEST);
            facts.ended = Some(billing_start);
            return facts;
        }
        if let Some(class) = lifetime {
            let requested = billing_start + LIFETIMES[class];
            facts.requested = Some(requested);
            facts.payment_failed = payment_failed;
            if at_period_end && !payment_failed {
                let step = facts.step_months();
                let mut k = 1 + (LIFETIMES[class] / (31 * DAY)) / step;
                while period_boundary(billing_start, k * step) <= requested {
                    k += 1;
                }
                facts.end_boundary = Some(k);
                facts.ended = Some(period_boundary(billing_start, k * step));
            } else {
                facts.ended = Some(requested);
            }
        }
        // At most one change while live, and only before the customer asks to cancel.
        let amendment = if amendment_draw < 0.15 {
            let tier = catalog::TIERS.iter().position(|&p| p == product);
            match tier {
                Some(tier) => {
                    let next = if tier + 1 < catalog::TIERS.len() {
                        catalog::TIERS[tier + 1]
                    } else {
                        catalog::TIERS[tier - 1]
                    };
                    Amendment::Change {
                        class: change_class,
                        price: catalog::price_for(next, months),
                        quantity,
                    }
                }
                None if catalog::PRODUCTS[product].per_seat => Amendment::Change {
                    class: change_class,
                    price,
                    quantity: quantity + 3,
                },
                None => Amendment::None,
            }
        } else if amendment_draw < 0.20 {
            Amendment::Pause
        } else if amendment_draw < 0.23 {
            Amendment::PastDue { recovers: true }
        } else if amendment_draw < 0.25 {
            Amendment::PastDue { recovers: false }
        } else {
            Amendment::None
        };
        let last_step = match amendment {
            Amendment::None => None,
            Amendment::Change { class, .. } => Some(CHANGE_AFTER[class]),
            Amendment::Pause => Some(RESUME_AFTER),
            Amendment::PastDue { recovers } => {
                Some(past_due_span(billing_start, facts.months, recovers).1 - billing_start)
            }
        };
        if last_step.is_some_and(|lag| {
            facts
                .requested
                .is_none_or(|requested| billing_start + lag < requested)
        }) {
            facts.amendment = amendment;
        }
        facts
    }
}

pub(crate) fn subscription_json(generator: &Generator, index: u64, at: i64) -> Value {
    let facts = generator.subscription_facts(index);
    let id = generator.id(ObjectKind::Subscription, index);
    let (period_start, period_end) = facts.current_period(at);
    let (price, quantity) = facts.price_and_quantity_at(at);
    let metadata = match facts.change_at() {
        Some((changed_at, new_price, _)) if changed_at <= at && new_price != facts.price => {
            let direction = if catalog::unit_amount(new_price) > catalog::unit_amount(facts.price) {
                "upgraded"
            } else {
                "downgraded"
            };
            json!({
                format!("{direction}_from"): generator.id(ObjectKind::Price, facts.price as u64),
                format!("{direction}_at"): changed_at.to_string(),
            })
        }
        Some((changed_at, _, _)) if changed_at <= at => json!({
            "seats_from": facts.quantity.to_string(),
            "seats_changed_at": changed_at.to_string(),
        }),
        _ => json!({}),
    };
    let canceled_at = facts.requested.filter(|&requested| requested <= at);
    let cancel_at =
        canceled_at.and_then(|requested| facts.ended.filter(|&ended| ended > requested));
    let reason = canceled_at.map(|_| {
        if facts.payment_failed {
            "payment_failed"
        } else {
            "cancellation_requested"
        }
    });
    let feedback = reason
        .filter(|&reason| reason == "cancellation_requested")
        .map(|_| facts.feedback);
    let ended_at = facts.ended.filter(|&ended| ended <= at);
    let paused = facts.amendment == Amendment::Pause
        && (facts.billing_start + PAUSE_AFTER..facts.billing_start + RESUME_AFTER).contains(&at);
    let pause_collection = if paused {
        json!({ "behavior": "void", "resumes_at": null })
    } else {
        Value::Null
    };
    let trial = (facts.trial != Trial::None).then_some((facts.created, facts.billing_start));
    // Served expanded (as with `expand[]=discounts`), the coupon both where classic and current API versions
    // put it. A repeating coupon's discount stays listed with its `end`; it no longer applies after it.
    let discounts: Vec<Value> = facts
        .coupon
        .map(|coupon| {
            json!({
                "id": generator.side_id(SideId::Discount, index),
                "object": "discount",
                "checkout_session": null,
                "coupon": coupon_json(generator, coupon),
                "customer": generator.id(ObjectKind::Customer, facts.customer),
                "customer_account": null,
                "end": facts.discount_end(),
                "invoice": null,
                "invoice_item": null,
                "promotion_code": null,
                "source": { "coupon": COUPONS[coupon % COUPONS.len()].id, "type": "coupon" },
                "start": facts.created,
                "subscription": id,
                "subscription_item": null,
            })
        })
        .into_iter()
        .collect();
    let item = json!({
        "id": generator.side_id(SideId::SubscriptionItem, index),
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": facts.created,
        "current_period_end": period_end,
        "current_period_start": period_start,
        "discounts": [],
        "metadata": {},
        "plan": catalog::plan_json(generator, price),
        // The price as published (its later metadata changes are the price's own events).
        "price": catalog::price_json(generator, price, generator.start()),
        "quantity": quantity,
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
        "cancel_at": cancel_at,
        "cancel_at_period_end": cancel_at.is_some(),
        "canceled_at": canceled_at,
        "cancellation_details": {
            "comment": null,
            "feedback": feedback,
            "reason": reason,
        },
        "collection_method": "charge_automatically",
        "created": facts.created,
        "currency": facts.currency,
        "customer": generator.id(ObjectKind::Customer, facts.customer),
        "customer_account": null,
        "days_until_due": null,
        "default_payment_method": generator.payment_method_id(Some(facts.customer), 0),
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": discounts,
        "ended_at": ended_at,
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
        "pause_collection": pause_collection,
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
        "status": facts.status_at(at).as_str(),
        "test_clock": null,
        "transfer_data": null,
        "trial_end": trial.map(|(_, end)| end),
        "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
        "trial_start": trial.map(|(start, _)| start),
    })
}

const ONE_OFF_DESCRIPTIONS: [&str; 5] = [
    "Onboarding workshop",
    "Consulting services",
    "Custom integration",
    "Data migration",
    "Annual support retainer",
];

/// Invoices are finalized an hour after they are drafted (Stripe's default).
pub(crate) const FINALIZE_AFTER: i64 = 3600;
/// When invoices are paid after creation: charged at once, within days, or (sent ones) within two weeks.
pub(crate) const PAID_AFTER: [i64; 3] = [
    FINALIZE_AFTER + 120,
    2 * DAY + 3 * 3600,
    12 * DAY + 3 * 3600,
];
pub(crate) const VOID_AFTER: i64 = 15 * DAY + 5 * 3600;
/// Some are written off a month later, a few only after two and a half months.
pub(crate) const UNCOLLECTIBLE_AFTER: [i64; 2] = [30 * DAY + 5 * 3600, 75 * DAY + 5 * 3600];
/// When an invoice left open gets its dunning reminder.
pub(crate) const REMINDER_AFTER: i64 = 20 * DAY + 5 * 3600;
const OUTCOME_SALT: u64 = 0x6f75_7463;
const ONE_OFF_SALT: u64 = 0x6f6e_6566;

/// How an invoice ends, decided apart from its other draws so event streams can tell cheaply.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum InvoiceOutcome {
    Paid(usize),
    /// Left open (past due) for good.
    Open,
    Void,
    Uncollectible(usize),
}

impl InvoiceOutcome {
    /// Seconds after creation the invoice leaves `open`, and its final status.
    pub(crate) fn settles(self) -> Option<(i64, &'static str)> {
        match self {
            InvoiceOutcome::Paid(class) => Some((PAID_AFTER[class], "paid")),
            InvoiceOutcome::Open => None,
            InvoiceOutcome::Void => Some((VOID_AFTER, "void")),
            InvoiceOutcome::Uncollectible(class) => {
                Some((UNCOLLECTIBLE_AFTER[class], "uncollectible"))
            }
        }
    }
}

impl Generator {
    pub(crate) fn invoice_outcome(&self, index: u64) -> InvoiceOutcome {
        match self.invoice_table().billed(index) {
            Some(Billed::Subscription { index, slot }) => {
                let facts = self.subscription_plan(index);
                subscription_invoice_outcome(self.seed, index, &facts, slot)
            }
            Some(Billed::OneOff(n)) => {
                let draw = crate::rng::unit_of(crate::rng::hash(&[
                    self.seed,
                    ObjectKind::Invoice.tag(),
                    OUTCOME_SALT,
                    n,
                ]));
                match draw {
                    d if d < 0.70 => InvoiceOutcome::Paid(0),
                    d if d < 0.80 => InvoiceOutcome::Paid(1),
                    d if d < 0.88 => InvoiceOutcome::Paid(2),
                    d if d < 0.93 => InvoiceOutcome::Open,
                    d if d < 0.97 => InvoiceOutcome::Void,
                    d if d < 0.99 => InvoiceOutcome::Uncollectible(0),
                    _ => InvoiceOutcome::Uncollectible(1),
                }
            }
            None => InvoiceOutcome::Open,
        }
    }
}

/// The service period a subscription invoice bills (for a proration invoice: from the change to the end of
/// the period it happens in).
pub(crate) fn invoice_period(facts: &SubscriptionFacts, slot: Slot) -> (i64, i64) {
    match slot {
        Slot::First if facts.trial != Trial::None => (facts.created, facts.billing_start),
        Slot::First | Slot::TrialEnd => (facts.billing_start, facts.boundary(1)),
        Slot::Renewal(k) => (facts.boundary(k), facts.boundary(k + 1)),
        Slot::Change => {
            let at = facts
                .change_at()
                .map_or(facts.billing_start, |(at, _, _)| at);
            let (_, end) = period_containing(facts.billing_start, facts.step_months(), at);
            (at, end)
        }
    }
}

/// How a subscription invoice ends. Charged automatically, most are paid at once. The trial's 0-amount invoice
/// and a downgrade's credit are paid at once too. An incomplete subscription's first invoice is voided. While
/// collection is paused (`pause_collection.behavior = void`), the renewal invoices are still issued, with the
/// items in force, and voided: a reader must take a voided renewal as service that went on unbilled, not as an
/// end. The renewal of the period in which a card starts failing is paid late (recovering) or left open, as
/// are the later ones of a subscription left unpaid; the last invoice of a subscription canceled for failed
/// payments is written off.
fn subscription_invoice_outcome(
    seed: u64,
    index: u64,
    facts: &SubscriptionFacts,
    slot: Slot,
) -> InvoiceOutcome {
    let period = invoice_period(facts, slot);
    match slot {
        Slot::First if facts.incomplete => return InvoiceOutcome::Void,
        Slot::First if facts.trial != Trial::None => return InvoiceOutcome::Paid(0),
        Slot::Change => {
            let (_, price, quantity) =
                facts
                    .change_at()
                    .unwrap_or((0, facts.price, facts.quantity));
            if catalog::unit_amount(price) * quantity as i64
                <= catalog::unit_amount(facts.price) * facts.quantity as i64
            {
                return InvoiceOutcome::Paid(0);
            }
        }
        Slot::Renewal(k) => {
            let since = period.0 - facts.billing_start;
            match facts.amendment {
                Amendment::Pause if (PAUSE_AFTER..RESUME_AFTER).contains(&since) => {
                    return InvoiceOutcome::Void;
                }
                Amendment::PastDue { recovers } => {
                    let failing = failing_renewal(facts.months);
                    if k == failing && recovers {
                        return InvoiceOutcome::Paid(2);
                    }
                    if !recovers && k >= failing {
                        return InvoiceOutcome::Open;
                    }
                }
                _ => {}
            }
        }
        Slot::First | Slot::TrialEnd => {}
    }
    if slot != Slot::Change
        && facts.payment_failed
        && facts
            .ended
            .is_some_and(|ended| period.0 < ended && ended <= period.1)
    {
        return InvoiceOutcome::Uncollectible(0);
    }
    let draw = crate::rng::unit_of(crate::rng::hash(&[
        seed,
        ObjectKind::Invoice.tag(),
        OUTCOME_SALT,
        index,
        slot_key(slot),
    ]));
    match draw {
        d if d < 0.90 => InvoiceOutcome::Paid(0),
        d if d < 0.97 => InvoiceOutcome::Paid(1),
        _ => InvoiceOutcome::Paid(2),
    }
}

fn slot_key(slot: Slot) -> u64 {
    match slot {
        Slot::First => 0,
        Slot::TrialEnd => 1,
        Slot::Change => 2,
        Slot::Renewal(k) => 2 + k as u64,
    }
}

/// One line of an invoice.
struct Line {
    price: Option<usize>,
    quantity: u64,
    unit_amount: i64,
    amount: i64,
    period: (i64, i64),
    proration: bool,
    description: String,
    /// For a proration credit: the invoice (index) and line that billed the time given back.
    credited: Option<(u64, String)>,
    /// The coupon's share of `amount` (the line's `discount_amounts`).
    discount: i64,
}

fn product_name(price: usize) -> &'static str {
    catalog::PRODUCTS[catalog::product_of_price(price)].name
}

fn cycle_description(price: usize, quantity: u64) -> String {
    let interval = match catalog::interval_months(price) {
        12 => "year",
        3 => "3 months",
        _ => "month",
    };
    let symbol = match catalog::currency_of_price(price) {
        "eur" => "€",
        "gbp" => "£",
        _ => "$",
    };
    format!(
        "{quantity} × {} (at {symbol}{:.2} / {interval})",
        product_name(price),
        catalog::unit_amount(price) as f64 / 100.0
    )
}

fn date_text(t: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day) = super::calendar::civil_from_days(t.div_euclid(DAY));
    let month = MONTHS[((month - 1).clamp(0, 11)) as usize];
    format!("{day} {month} {year}")
}

/// The slot of the invoice that billed the (non-trial) period starting at `period_start`.
fn slot_billing(facts: &SubscriptionFacts, period_start: i64) -> Slot {
    if period_start <= facts.billing_start {
        return if facts.trial == Trial::Converts {
            Slot::TrialEnd
        } else {
            Slot::First
        };
    }
    let mut k = 1;
    while facts.boundary(k) < period_start && k <= MAX_MONTHLY_RENEWALS {
        k += 1;
    }
    Slot::Renewal(k)
}

/// The lines of a subscription invoice: the items in force for the period billed (the trial's at 0), or, for a
/// plan change, the unused time of the old item credited and the rest of the period on the new one.
fn subscription_lines(
    generator: &Generator,
    facts: &SubscriptionFacts,
    index: u64,
    slot: Slot,
) -> Vec<Line> {
    let period = invoice_period(facts, slot);
    let created = invoice_created(facts, slot);
    let full = |price: usize, quantity: u64, description: String, amount: i64| Line {
        price: Some(price),
        quantity,
        unit_amount: catalog::unit_amount(price),
        amount,
        period,
        proration: false,
        description,
        credited: None,
        discount: facts.discount_on(slot, created, amount),
    };
    match slot {
        Slot::First if facts.trial != Trial::None => vec![full(
            facts.price,
            facts.quantity,
            format!("Trial period for {}", product_name(facts.price)),
            0,
        )],
        Slot::Change => {
            let Some((at, price, quantity)) = facts.change_at() else {
                return Vec::new();
            };
            let (period_start, period_end) =
                period_containing(facts.billing_start, facts.step_months(), at);
            let share = (period_end - at) as f64 / (period_end - period_start).max(1) as f64;
            let prorated = |price: usize, quantity: u64| {
                (catalog::unit_amount(price) as f64 * quantity as f64 * share).round() as i64
            };
            let billed_slot = slot_billing(facts, period_start);
            let credited = generator
                .invoice_table()
                .index_of(
                    generator.start(),
                    invoice_created(facts, billed_slot),
                    index,
                    billed_slot,
                )
                .map(|invoice| (invoice, generator.side_id(SideId::InvoiceLine, 2 * invoice)));
            let date = date_text(at);
            vec![
                Line {
                    price: Some(facts.price),
                    quantity: facts.quantity,
                    unit_amount: catalog::unit_amount(facts.price),
                    amount: -prorated(facts.price, facts.quantity),
                    period,
                    proration: true,
                    description: format!(
                        "Unused time on {} × {} after {date}",
                        facts.quantity,
                        product_name(facts.price)
                    ),
                    credited,
                    discount: 0,
                },
                Line {
                    price: Some(price),
                    quantity,
                    unit_amount: catalog::unit_amount(price),
                    amount: prorated(price, quantity),
                    period,
                    proration: true,
                    description: format!(
                        "Remaining time on {quantity} × {} after {date}",
                        product_name(price)
                    ),
                    credited: None,
                    discount: 0,
                },
            ]
        }
        _ => {
            let (price, quantity) = facts.price_and_quantity_at(period.0);
            vec![full(
                price,
                quantity,
                cycle_description(price, quantity),
                catalog::unit_amount(price) * quantity as i64,
            )]
        }
    }
}

/// When a subscription's invoice of `slot` is created.
fn invoice_created(facts: &SubscriptionFacts, slot: Slot) -> i64 {
    match slot {
        Slot::First => facts.created,
        Slot::TrialEnd => facts.billing_start,
        Slot::Change => facts.change_at().map_or(facts.created, |(at, _, _)| at),
        Slot::Renewal(k) => facts.boundary(k),
    }
}

/// An invoice. A subscription's invoices (see [`super::invoice_table`]) carry the subscription's id at the top
/// (`subscription`, `parent.subscription_details.subscription`) and on each line
/// (`parent.subscription_item_details.subscription`); each line gives a price, a quantity and its service
/// `period`. Lines that are not prorations give the items in force over their period: `subscription_create`
/// (the trial's 0-amount invoice, or the first period), `subscription_cycle` (a converted trial's first paid
/// period, then every renewal). A mid-period change issues, at the change, a `subscription_update` invoice
/// with two proration lines (`parent.subscription_item_details.proration`) over [change, period end): the old
/// item's unused time credited (negative, `proration_details.credited_items` naming the invoice that billed
/// it) and the new item's remaining time; the next renewal bills the new item. No invoice follows the end of
/// a subscription (at period end or at once; one canceled at once keeps the last period's line, which runs
/// past its end). While collection is paused (`pause_collection` set on the subscription, status still
/// `active`), renewals are still invoiced with the items in force and those invoices are voided: a reader must
/// take a voided renewal as a period served but not billed, not as a change of items nor an end. Coupons give
/// non-proration lines `discount_amounts`; `amount` stays the undiscounted unit amount times quantity. A
/// subscription's invoices, their lines and amounts are in the subscription's currency (its customer's); a
/// one-off invoice is in its customer's currency.
pub(crate) fn invoice_json(generator: &Generator, index: u64, at: i64) -> Value {
    let created = generator.created(ObjectKind::Invoice, index);
    let billed = generator.invoice_table().billed(index);
    // A subscription's invoice is in the subscription's currency, a one-off invoice in the customer's.
    let (customer, lines, subscription, billing_reason, mut draws, billed_in) = match billed {
        Some(Billed::Subscription {
            index: subscription,
            slot,
        }) => {
            let facts = generator.subscription_facts(subscription);
            let reason = match slot {
                Slot::First => "subscription_create",
                Slot::Change => "subscription_update",
                Slot::TrialEnd | Slot::Renewal(_) => "subscription_cycle",
            };
            let lines = subscription_lines(generator, &facts, subscription, slot);
            let draws = crate::rng::Draws::new(&[
                generator.seed,
                ObjectKind::Invoice.tag(),
                subscription,
                slot_key(slot),
            ]);
            (
                facts.customer,
                lines,
                Some(subscription),
                reason,
                draws,
                Some(facts.currency),
            )
        }
        _ => {
            let n = match billed {
                Some(Billed::OneOff(n)) => n,
                _ => index,
            };
            let mut draws = crate::rng::Draws::new(&[
                generator.seed,
                ObjectKind::Invoice.tag(),
                ONE_OFF_SALT,
                n,
            ]);
            let description = draws.pick(&ONE_OFF_DESCRIPTIONS);
            let customer = generator
                .customer_before(created, &mut draws, false)
                .unwrap_or(0);
            let raw = (15_000f64.ln() + 0.7 * draws.normal())
                .exp()
                .clamp(1_000.0, 2_000_000.0);
            let amount = (raw / 100.0).round().max(1.0) as i64 * 100;
            let line = Line {
                price: None,
                quantity: 1,
                unit_amount: amount,
                amount,
                period: (created, created),
                proration: false,
                description: description.to_owned(),
                credited: None,
                discount: 0,
            };
            (customer, vec![line], None, "manual", draws, None)
        }
    };
    let customer_facts = generator.customer_facts(customer);
    let currency = billed_in.unwrap_or(customer_facts.currency);
    let subtotal: i64 = lines.iter().map(|line| line.amount).sum();
    let discounted: i64 = lines.iter().map(|line| line.discount).sum();
    let total = subtotal - discounted;
    let discount_id = subscription
        .map(|s| generator.side_id(SideId::Discount, s))
        .filter(|_| discounted > 0);
    let discount_amounts = |amount: i64| match &discount_id {
        Some(discount) if amount > 0 => json!([{ "amount": amount, "discount": discount }]),
        _ => json!([]),
    };
    // A credit (a downgrade's proration) is owed to the customer: nothing is due, the balance carries it.
    let due = total.max(0);
    let send_invoice = subscription.is_none() && draws.chance(0.5);
    let due_date = send_invoice.then_some(created + 30 * DAY);
    let period = (
        lines
            .iter()
            .map(|line| line.period.0)
            .min()
            .unwrap_or(created),
        lines
            .iter()
            .map(|line| line.period.1)
            .max()
            .unwrap_or(created),
    );

    let outcome = generator.invoice_outcome(index);
    let settles = outcome.settles();
    // Invoices left open get a dunning reminder (an `invoice.updated`).
    let metadata = if outcome == InvoiceOutcome::Open && created + REMINDER_AFTER <= at {
        json!({ "dunning": "reminder_sent" })
    } else {
        json!({})
    };
    let status = if at < created + FINALIZE_AFTER {
        "draft"
    } else {
        match settles {
            Some((after, status)) if created + after <= at => status,
            _ => "open",
        }
    };
    let finalized_at = (status != "draft").then_some(created + FINALIZE_AFTER);
    let settled_at = settles.map(|(after, _)| created + after);
    let transition = |wanted: &str| if status == wanted { settled_at } else { None };
    let amount_paid = if status == "paid" { due } else { 0 };
    let amount_remaining = match status {
        "paid" | "void" => 0,
        _ => due,
    };

    let id = generator.id(ObjectKind::Invoice, index);
    let subscription_id = subscription.map(|s| generator.id(ObjectKind::Subscription, s));
    let parent = match subscription {
        Some(_) => json!({
            "quote_details": null,
            "subscription_details": { "metadata": {}, "subscription": subscription_id },
            "type": "subscription_details",
        }),
        None => Value::Null,
    };
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(j, line)| {
            let credited_items = line.credited.as_ref().map(|(invoice, line_id)| {
                json!({
                    "invoice": generator.id(ObjectKind::Invoice, *invoice),
                    "invoice_line_items": [line_id],
                })
            });
            let line_parent = match subscription {
                Some(s) => json!({
                    "invoice_item_details": null,
                    "subscription_item_details": {
                        "invoice_item": null,
                        "proration": line.proration,
                        "proration_details": { "credited_items": credited_items },
                        "subscription": subscription_id,
                        "subscription_item": generator.side_id(SideId::SubscriptionItem, s),
                    },
                    "type": "subscription_item_details",
                }),
                None => json!({
                    "invoice_item_details": {
                        "invoice_item": generator.side_id(SideId::InvoiceItem, index),
                        "proration": false,
                        "proration_details": { "credited_items": null },
                        "subscription": null,
                    },
                    "subscription_item_details": null,
                    "type": "invoice_item_details",
                }),
            };
            json!({
                "id": generator.side_id(SideId::InvoiceLine, 2 * index + j as u64),
                "object": "line_item",
                "amount": line.amount,
                "currency": currency,
                "description": line.description,
                "discount_amounts": discount_amounts(line.discount),
                "discountable": !line.proration,
                "discounts": if line.discount > 0 { json!([discount_id]) } else { json!([]) },
                "invoice": id,
                "livemode": false,
                "metadata": {},
                "parent": line_parent,
                "period": { "end": line.period.1, "start": line.period.0 },
                "pretax_credit_amounts": [],
                "pricing": {
                    "price_details": line.price.map(|p| json!({
                        "price": generator.id(ObjectKind::Price, p as u64),
                        "product": generator.id(ObjectKind::Product, catalog::product_of_price(p) as u64),
                    })),
                    "type": "price_details",
                    "unit_amount_decimal": line.unit_amount.to_string(),
                },
                "quantity": line.quantity,
                "subscription": subscription_id,
                "subtotal": line.amount,
                "taxes": [],
            })
        })
        .collect();
    json!({
        "id": id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox Demo Co",
        "account_tax_ids": null,
        "amount_due": due,
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
        "discounts": discount_id.iter().collect::<Vec<_>>(),
        "due_date": due_date,
        "effective_at": finalized_at,
        "ending_balance": finalized_at.map(|_| total.min(0)),
        "footer": null,
        "from_invoice": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "issuer": { "type": "self" },
        "last_finalization_error": null,
        "latest_revision": null,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": false,
            "url": format!("/v1/invoices/{id}/lines"),
        },
        "livemode": false,
        "metadata": metadata,
        "next_payment_attempt": match finalized_at {
            Some(finalized) if status == "open" && !send_invoice => Value::from(finalized + 3 * DAY),
            _ => Value::Null,
        },
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
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": null,
        "total": total,
        "total_discount_amounts": discount_amounts(discounted),
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": finalized_at,
    })
}
