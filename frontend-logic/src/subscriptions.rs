//! Subscription metrics as the web app shows them: their names, what a window's summary of
//! them is (a state such as MRR is its latest value, a flow such as new customers the window's
//! total), and how a card describes them.

/// A subscription metric kind the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionKind {
    /// The API's `kind`.
    pub kind: &'static str,
    pub label: &'static str,
    /// True when a window's value is the sum of its days (movements, new customers); false
    /// when it is a state at a day's end (MRR, active customers, rates).
    pub flow: bool,
}

pub const SUBSCRIPTION_KINDS: [SubscriptionKind; 12] = [
    SubscriptionKind {
        kind: "mrr",
        label: "MRR",
        flow: false,
    },
    SubscriptionKind {
        kind: "arr",
        label: "ARR",
        flow: false,
    },
    SubscriptionKind {
        kind: "mrr_movements",
        label: "Net new MRR (movements)",
        flow: true,
    },
    SubscriptionKind {
        kind: "active_subscribers",
        label: "Active subscribers",
        flow: false,
    },
    SubscriptionKind {
        kind: "active_customers",
        label: "Active customers",
        flow: false,
    },
    SubscriptionKind {
        kind: "new_customers",
        label: "New customers",
        flow: true,
    },
    SubscriptionKind {
        kind: "churned_customers",
        label: "Churned customers",
        flow: true,
    },
    SubscriptionKind {
        kind: "customer_churn_rate",
        label: "Customer churn rate (30 days)",
        flow: false,
    },
    SubscriptionKind {
        kind: "revenue_churn_rate",
        label: "Revenue churn rate (30 days)",
        flow: false,
    },
    SubscriptionKind {
        kind: "arpu",
        label: "ARPU",
        flow: false,
    },
    SubscriptionKind {
        kind: "ltv",
        label: "LTV",
        flow: false,
    },
    SubscriptionKind {
        kind: "trials",
        label: "Trials started and converted",
        flow: true,
    },
];

/// The kind named `kind`, if it is a subscription metric.
pub fn subscription_kind(kind: &str) -> Option<SubscriptionKind> {
    SUBSCRIPTION_KINDS.iter().copied().find(|k| k.kind == kind)
}

/// The operator a card summarizes a window with: `sum` for flows and objects' totals, `last`
/// (the latest day's value) for states.
pub fn summary_operator<'a>(kind: &str, operator: Option<&'a str>) -> &'a str {
    match subscription_kind(kind) {
        Some(found) if found.flow => "sum",
        Some(_) => "last",
        None => operator.unwrap_or("count"),
    }
}

/// A card's description of a subscription metric: `MRR by plan`.
pub fn describe_subscription(kind: SubscriptionKind, field_name: &str) -> String {
    match field_name {
        "" => kind.label.to_string(),
        field => format!("{} by {field}", kind.label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_show_their_latest_value_and_flows_their_total() {
        assert_eq!(summary_operator("mrr", None), "last");
        assert_eq!(summary_operator("customer_churn_rate", None), "last");
        assert_eq!(summary_operator("mrr_movements", None), "sum");
        assert_eq!(summary_operator("objects", Some("average")), "average");
        assert_eq!(summary_operator("objects", None), "count");
    }

    #[test]
    fn every_kind_of_the_api_is_offered_once() {
        let kinds: Vec<&str> = SUBSCRIPTION_KINDS.iter().map(|k| k.kind).collect();
        assert_eq!(kinds, allmetrics_common::SUBSCRIPTION_KINDS.to_vec());
        let mrr = subscription_kind("mrr").unwrap();
        assert_eq!(describe_subscription(mrr, "plan"), "MRR by plan");
        assert_eq!(describe_subscription(mrr, ""), "MRR");
        assert!(subscription_kind("objects").is_none());
    }
}
