//! How a connection's subscription metrics are defined where the leading tools differ
//! (`subscription_settings` of `PATCH /api/v1/connections/{slug}`).

use serde::{Deserialize, Serialize};

/// When a cancelled subscription leaves MRR.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChurnAt {
    /// When service ends: at the period end for a cancellation at period end, at once otherwise.
    #[default]
    PeriodEnd,
    /// When the customer cancels, even if service runs to the period end.
    Cancellation,
}

/// The definitions a connection's subscription metrics use; every field has the documented
/// default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SubscriptionSettings {
    /// When a cancelled subscription churns. Default `period_end`.
    pub churn_at: ChurnAt,
    /// Whether a `once` coupon lowers MRR (for the billing period it applies to). Default false.
    pub once_discounts_lower_mrr: bool,
    /// Whether MRR ignores every discount (list prices). Default false.
    pub ignore_discounts: bool,
    /// Whether `past_due` subscriptions count. Default true.
    pub past_due_counts: bool,
    /// Whether `unpaid` subscriptions count. Default false: turning unpaid is churn.
    pub unpaid_counts: bool,
    /// Whether paused subscriptions count. Default false.
    pub paused_counts: bool,
    /// The window of the churn rates in days (churned over the window, over the value at its
    /// start), 1 to 365. Default 30.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub churn_window_days: u32,
    /// Whether revenue churn is net of expansion and reactivation. Default false.
    pub revenue_churn_net_of_expansion: bool,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        SubscriptionSettings {
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

/// The longest churn window, in days.
pub const MAX_CHURN_WINDOW_DAYS: u32 = 365;

/// A change of some settings: a field left out keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"churn_at": "cancellation", "churn_window_days": 28})))]
pub struct SubscriptionSettingsChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn_at: Option<ChurnAt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once_discounts_lower_mrr: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_discounts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub past_due_counts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpaid_counts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_counts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub churn_window_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_churn_net_of_expansion: Option<bool>,
}

impl SubscriptionSettings {
    /// These settings with `change` applied; `Err` names the field out of range.
    pub fn changed(&self, change: &SubscriptionSettingsChange) -> Result<Self, &'static str> {
        let churn_window_days = change.churn_window_days.unwrap_or(self.churn_window_days);
        if !(1..=MAX_CHURN_WINDOW_DAYS).contains(&churn_window_days) {
            return Err("churn_window_days");
        }
        Ok(SubscriptionSettings {
            churn_at: change.churn_at.unwrap_or(self.churn_at),
            once_discounts_lower_mrr: change
                .once_discounts_lower_mrr
                .unwrap_or(self.once_discounts_lower_mrr),
            ignore_discounts: change.ignore_discounts.unwrap_or(self.ignore_discounts),
            past_due_counts: change.past_due_counts.unwrap_or(self.past_due_counts),
            unpaid_counts: change.unpaid_counts.unwrap_or(self.unpaid_counts),
            paused_counts: change.paused_counts.unwrap_or(self.paused_counts),
            churn_window_days,
            revenue_churn_net_of_expansion: change
                .revenue_churn_net_of_expansion
                .unwrap_or(self.revenue_churn_net_of_expansion),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_keeps_what_it_leaves_out() {
        let change: SubscriptionSettingsChange =
            serde_json::from_str(r#"{"churn_at": "cancellation", "past_due_counts": false}"#)
                .unwrap();
        let changed = SubscriptionSettings::default().changed(&change).unwrap();
        assert_eq!(changed.churn_at, ChurnAt::Cancellation);
        assert!(!changed.past_due_counts);
        assert_eq!(changed.churn_window_days, 30);
        assert!(!changed.ignore_discounts);
    }

    #[test]
    fn the_churn_window_is_bounded() {
        for days in [0, MAX_CHURN_WINDOW_DAYS + 1] {
            let change = SubscriptionSettingsChange {
                churn_window_days: Some(days),
                ..Default::default()
            };
            assert_eq!(
                SubscriptionSettings::default().changed(&change),
                Err("churn_window_days")
            );
        }
    }

    #[test]
    fn stored_settings_fill_what_they_lack_with_defaults() {
        let settings: SubscriptionSettings =
            serde_json::from_str(r#"{"unpaid_counts": true}"#).unwrap();
        assert!(settings.unpaid_counts);
        assert!(settings.past_due_counts);
        assert!(serde_json::from_str::<SubscriptionSettingsChange>(r#"{"bogus": 1}"#).is_err());
    }
}
