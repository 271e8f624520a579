//! The choices a metric can make where definitions differ between tools.

use serde::{Deserialize, Serialize};

/// When a cancelled subscription leaves MRR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnAt {
    /// When service ends (`ended_at`): at period end for `cancel_at_period_end`, at once otherwise.
    #[default]
    PeriodEnd,
    /// When the customer asks to cancel (`canceled_at`), even if service runs to the period end.
    Cancellation,
}

/// How subscription data turns into MRR. `Default` gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// When a cancelled subscription churns.
    pub churn_at: ChurnAt,
    /// Whether a `once` coupon lowers MRR (for one billing period from the discount's start). Default false.
    pub once_discounts_lower_mrr: bool,
    /// Whether every discount is ignored (MRR at list price). Default false.
    pub ignore_discounts: bool,
    /// Whether `past_due` subscriptions count in MRR. Default true.
    pub past_due_counts: bool,
    /// Whether `unpaid` subscriptions count in MRR. Default false: turning unpaid is churn.
    pub unpaid_counts: bool,
    /// Whether paused subscriptions (`pause_collection` set, or status `paused`) count. Default false.
    pub paused_counts: bool,
    /// The window of churn rates, in days (churned in the last N days over the value N days before). 30.
    pub churn_window_days: usize,
    /// Whether revenue churn is net of expansion (and reactivation). Default false: churn + contraction only.
    pub revenue_churn_net_of_expansion: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            churn_at: ChurnAt::PeriodEnd,
            once_discounts_lower_mrr: false,
            ignore_discounts: false,
            past_due_counts: true,
            unpaid_counts: false,
            paused_counts: false,
            churn_window_days: 30,
            revenue_churn_net_of_expansion: false,
        }
    }
}
