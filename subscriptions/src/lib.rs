//! Daily subscription metrics from Stripe subscription data: MRR, ARR, MRR movements, active subscribers and
//! customers, new and churned customers, churn rates, ARPU, LTV and trials — like Baremetrics, ChartMogul or
//! Stripe Billing analytics. Pure computation: no I/O, no time zones (the caller passes day boundaries as
//! unix seconds), amounts in minor units.
//!
//! The pipeline:
//! 1. [`SubscriptionHistory`]: a subscription as an ordered list of (from instant, state); rebuilt from
//!    Stripe JSON by [`rebuild_history`] (invoice line items, the current subscription, update events).
//! 2. [`MrrTimeline`]: each subscription's monthly value sampled at the day ends, kept where it changes —
//!    compact, storable and mergeable ([`MrrTimeline::merge`]); [`MrrTimeline::customer_changes`] gives the
//!    per-day, per-customer change points.
//! 3. [`series_from_timeline`] / [`all_series_from_timeline`]: one sweep over the days computes every kind
//!    ([`compute_series`] does steps 2 and 3).
//!
//! Definitions (defaults in [`Settings`]):
//! * A subscription's MRR is the sum of its licensed recurring items (unit amount x quantity) normalized to
//!   a month (year / 12, `interval_count` divides, week x 52/12, day x 365/12), less the discounts in force
//!   (`forever`, `repeating` until `duration_in_months` after the discount's start; `once` not by default;
//!   an `amount_off` is per billing period, so normalized the same way), rounded half to even to the minor
//!   unit per subscription. Metered items, trials, incomplete, unpaid and paused subscriptions count 0;
//!   past due ones count. Tax is never included (prices, not invoice totals).
//! * Movements are per customer, day end against the previous day end: `new`, `reactivation`,
//!   `expansion`, `contraction`, `churn`, and `fx` (the change due to rates only); see [`movements`].
//! * Churn rates use a 30-day window: customers (MRR) churned over the window over those active (the MRR)
//!   at its start. Revenue churn is churn + contraction, not net of expansion (a setting). ARPU = MRR /
//!   active customers; LTV = ARPU / customer churn rate (None when the rate is zero or missing).
//! * `trials`: trials started per day; ungrouped, the groups `started` and `converted` (per day); a trial
//!   converts when the subscription is paying at its end, and is then `new` MRR that day.
//! * `mrr_movements` always has the six movement groups of the converted total (the grouping does not
//!   apply); other kinds group by currency (native amounts) or price id (converted). `total` is always the
//!   ungrouped, converted series.
//! * Day 0's movements compare with the state one day before `day_ends[0]` ([`timeline::BASELINE_DAY`]).

pub mod fx;
pub mod history;
pub mod money;
pub mod movements;
pub mod series;
pub mod settings;
pub mod stripe;
pub mod timeline;

#[cfg(test)]
mod tests;

pub use fx::FxRates;
pub use history::{
    Change, Coupon, CouponDuration, Discount, Item, MonthlyValue, MrrStep, Part, Status,
    SubscriptionHistory, SubscriptionState, UsageType,
};
pub use money::Interval;
pub use movements::{DayTotals, MOVEMENTS};
pub use series::{
    all_series_from_timeline, compute_series, series_from_timeline, Grouping, MetricKind, Number,
    Series, SeriesError, Sweeps,
};
pub use settings::{ChurnAt, Settings};
pub use stripe::{invoice_subscriptions, rebuild_history, PriceBook, StripeError};
pub use timeline::{CustomerChange, MrrTimeline, SubscriptionTrack, TrackPoint};
