//! The timeline model: a subscription as an ordered list of (from instant, state), and its MRR over time.

use std::ops::{Add, Div, Mul, Sub};

use serde::{Deserialize, Serialize};

use crate::money::{percent_left, Fraction, Interval};
use crate::settings::{ChurnAt, Settings};

/// How a price is billed: per unit licensed up front, or by metered usage (never MRR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageType {
    #[default]
    Licensed,
    Metered,
}

/// One subscription item: a recurring price and a quantity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The price id (the `plan` group).
    pub price: String,
    /// Lower-case ISO code.
    pub currency: String,
    /// Minor units per unit and billing period.
    pub unit_amount: i64,
    pub quantity: i64,
    pub interval: Interval,
    pub interval_count: u32,
    pub usage_type: UsageType,
}

impl Item {
    /// A licensed item.
    pub fn licensed(
        price: &str,
        currency: &str,
        unit_amount: i64,
        quantity: i64,
        interval: Interval,
        interval_count: u32,
    ) -> Item {
        Item {
            price: price.to_owned(),
            currency: currency.to_ascii_lowercase(),
            unit_amount,
            quantity,
            interval,
            interval_count,
            usage_type: UsageType::Licensed,
        }
    }

    /// The item's exact monthly amount before discounts (zero for metered items).
    pub fn monthly(&self) -> Fraction {
        if self.usage_type == UsageType::Metered {
            return Fraction::zero();
        }
        Fraction::new(
            i128::from(self.unit_amount) * i128::from(self.quantity.max(0)),
            1,
        )
        .mul(self.interval.to_month(self.interval_count))
    }
}

/// Stripe's subscription statuses (`paused` also stands for `pause_collection` being set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Unpaid,
    Paused,
    Canceled,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "incomplete" => Status::Incomplete,
            "incomplete_expired" => Status::IncompleteExpired,
            "trialing" => Status::Trialing,
            "active" => Status::Active,
            "past_due" => Status::PastDue,
            "unpaid" => Status::Unpaid,
            "paused" => Status::Paused,
            "canceled" => Status::Canceled,
            _ => return None,
        })
    }

    /// Whether a subscription in this status counts in MRR.
    pub fn counts(self, settings: &Settings) -> bool {
        match self {
            Status::Active => true,
            Status::PastDue => settings.past_due_counts,
            Status::Unpaid => settings.unpaid_counts,
            Status::Paused => settings.paused_counts,
            Status::Incomplete
            | Status::IncompleteExpired
            | Status::Trialing
            | Status::Canceled => false,
        }
    }
}

/// How long a coupon lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponDuration {
    Forever,
    Once,
    Repeating { months: u32 },
}

/// A coupon: a percentage or an amount off each invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coupon {
    pub id: String,
    pub percent_off: Option<f64>,
    /// Minor units off each invoice (one billing period), in `currency`.
    pub amount_off: Option<i64>,
    pub currency: Option<String>,
    pub duration: CouponDuration,
}

/// A coupon applied to a subscription from `start`, until `end` (Stripe's `end`, or its removal) if known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discount {
    pub id: String,
    pub coupon: Coupon,
    pub start: i64,
    pub end: Option<i64>,
}

impl Discount {
    /// The instant the discount stops lowering MRR (None: never). `period` is the subscription's billing
    /// interval, which bounds a `once` coupon when those count.
    pub fn effective_end(
        &self,
        period: Option<(Interval, u32)>,
        settings: &Settings,
    ) -> Option<i64> {
        let by_duration = match self.coupon.duration {
            CouponDuration::Forever => None,
            CouponDuration::Repeating { months } => {
                Some(crate::money::add_months(self.start, months))
            }
            CouponDuration::Once if settings.once_discounts_lower_mrr => {
                Some(period.map_or(self.start, |(interval, count)| {
                    interval.add_to(self.start, count)
                }))
            }
            CouponDuration::Once => Some(self.start),
        };
        match (by_duration, self.end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the discount lowers MRR at `at`.
    pub fn active_at(&self, at: i64, period: Option<(Interval, u32)>, settings: &Settings) -> bool {
        !settings.ignore_discounts
            && self.start <= at
            && self
                .effective_end(period, settings)
                .is_none_or(|end| at < end)
    }
}

/// What a subscription is at some instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionState {
    pub items: Vec<Item>,
    pub status: Status,
    /// Discounts known on the subscription; each applies only between its start and end.
    pub discounts: Vec<Discount>,
}

/// MRR of one price within a subscription's monthly value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Part {
    pub price: String,
    pub mrr: i64,
}

/// A subscription's monthly value: the rounded total, and its split by price (parts sum to the total).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyValue {
    pub total: i64,
    pub parts: Vec<Part>,
}

impl SubscriptionState {
    /// The billing interval (of the first licensed item): what an `amount_off` and a `once` coupon are per.
    pub fn billing_period(&self) -> Option<(Interval, u32)> {
        self.items
            .iter()
            .find(|item| item.usage_type == UsageType::Licensed)
            .or(self.items.first())
            .map(|item| (item.interval, item.interval_count))
    }

    /// The currency of the items (Stripe bills a subscription in one currency).
    pub fn currency(&self) -> Option<&str> {
        self.items.first().map(|item| item.currency.as_str())
    }

    /// The monthly value at `at` if the status counts: licensed items normalized to a month, discounts
    /// active at `at` applied in order (percentages, amounts normalized to a month; never below zero),
    /// rounded half to even. The parts split the rounded total in proportion to the items' list values
    /// (floored, the remainder to the largest).
    pub fn monthly_value(&self, at: i64, settings: &Settings) -> MonthlyValue {
        if !self.status.counts(settings) {
            return MonthlyValue::default();
        }
        let mut by_price: Vec<(String, Fraction)> = Vec::new();
        for item in &self.items {
            let monthly = item.monthly();
            if !monthly.is_positive() {
                continue;
            }
            match by_price.iter_mut().find(|(price, _)| *price == item.price) {
                Some((_, sum)) => *sum = sum.add(monthly),
                None => by_price.push((item.price.clone(), monthly)),
            }
        }
        let list = by_price
            .iter()
            .fold(Fraction::zero(), |sum, (_, value)| sum.add(*value));
        if !list.is_positive() {
            return MonthlyValue::default();
        }
        let period = self.billing_period();
        let currency = self.currency();
        let mut value = list;
        for discount in &self.discounts {
            if !discount.active_at(at, period, settings) {
                continue;
            }
            if let Some(percent) = discount.coupon.percent_off {
                value = value.mul(percent_left(percent));
            }
            let same_currency = discount
                .coupon
                .currency
                .as_deref()
                .is_none_or(|c| Some(c.to_ascii_lowercase().as_str()) == currency);
            if let (Some(amount), true) = (discount.coupon.amount_off, same_currency) {
                let (interval, count) = period.unwrap_or((Interval::Month, 1));
                value = value.sub(Fraction::integer(amount).mul(interval.to_month(count)));
            }
        }
        let total = if value.is_positive() {
            value.round_half_even()
        } else {
            0
        };
        // Split the rounded total by list value: floor each share, the remainder to the largest part.
        let mut parts: Vec<Part> = by_price
            .iter()
            .map(|(price, share)| Part {
                price: price.clone(),
                mrr: Fraction::integer(total).mul(*share).div(list).floor(),
            })
            .collect();
        let assigned: i64 = parts.iter().map(|part| part.mrr).sum();
        if let Some(largest) = parts.iter_mut().max_by_key(|part| part.mrr) {
            largest.mrr += total - assigned;
        }
        parts.retain(|part| part.mrr != 0);
        parts.sort();
        MonthlyValue { total, parts }
    }
}

/// One change: the state that holds from `from` until the next change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub from: i64,
    pub state: SubscriptionState,
}

/// A subscription over time. Before the first change it does not exist; the last change holds forever
/// (an ended subscription's last state has status `canceled`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionHistory {
    pub id: String,
    pub customer: String,
    /// Ascending `from`.
    pub changes: Vec<Change>,
    /// When cancellation was requested (`canceled_at`): the churn instant under [`ChurnAt::Cancellation`].
    pub canceled_at: Option<i64>,
    /// `[trial_start, trial_end)`, if the subscription had a trial.
    pub trial: Option<(i64, i64)>,
}

/// The monthly value from `from` until the next step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MrrStep {
    pub from: i64,
    pub value: MonthlyValue,
}

impl SubscriptionHistory {
    /// The state at `at` (None before the first change).
    pub fn state_at(&self, at: i64) -> Option<&SubscriptionState> {
        let index = self.changes.partition_point(|change| change.from <= at);
        index
            .checked_sub(1)
            .and_then(|i| self.changes.get(i))
            .map(|change| &change.state)
    }

    /// The currency of the subscription (of its latest items).
    pub fn currency(&self) -> String {
        self.changes
            .iter()
            .rev()
            .find_map(|change| change.state.currency())
            .unwrap_or_default()
            .to_owned()
    }

    /// The monthly value at `at`.
    pub fn mrr_at(&self, at: i64, settings: &Settings) -> MonthlyValue {
        if settings.churn_at == ChurnAt::Cancellation
            && self.canceled_at.is_some_and(|canceled| canceled <= at)
        {
            return MonthlyValue::default();
        }
        self.state_at(at)
            .map(|state| state.monthly_value(at, settings))
            .unwrap_or_default()
    }

    /// The monthly value as a step function: every instant it may change (changes, discount starts and
    /// ends, the cancellation request under [`ChurnAt::Cancellation`]), keeping only actual changes. The
    /// first step is the first change (its value may be zero).
    pub fn mrr_steps(&self, settings: &Settings) -> Vec<MrrStep> {
        let mut instants: Vec<i64> = Vec::with_capacity(self.changes.len() + 2);
        for change in &self.changes {
            instants.push(change.from);
            let period = change.state.billing_period();
            for discount in &change.state.discounts {
                instants.push(discount.start);
                instants.extend(discount.effective_end(period, settings));
            }
        }
        if settings.churn_at == ChurnAt::Cancellation {
            instants.extend(self.canceled_at);
        }
        let first = self.changes.first().map_or(i64::MAX, |change| change.from);
        instants.retain(|&at| at >= first);
        instants.sort_unstable();
        instants.dedup();
        let mut steps: Vec<MrrStep> = Vec::new();
        for at in instants {
            let value = self.mrr_at(at, settings);
            if steps.last().is_none_or(|last| last.value != value) {
                steps.push(MrrStep { from: at, value });
            }
        }
        steps
    }

    /// Whether the trial converted: the state at the trial's end is a paying one (not trialing, ended or
    /// incomplete).
    pub fn trial_converted(&self) -> bool {
        self.trial.is_some_and(|(_, end)| {
            self.state_at(end).is_some_and(|state| {
                matches!(
                    state.status,
                    Status::Active | Status::PastDue | Status::Unpaid | Status::Paused
                )
            })
        })
    }
}
