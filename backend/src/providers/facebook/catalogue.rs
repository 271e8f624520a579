//! Facebook Ads offers insights, not objects. Each object is the daily insights of the ad
//! account at one level (ad, campaign, account) or with one breakdown (country; age and gender;
//! publisher platform). `reach` counts people, so it is not additive: a day's total comes from
//! the account level, a group only from the object at exactly that grouping.

use crate::providers::{CatalogueObject, Ratio, ReportSpec};

/// The action types read from `actions` and `action_values` (one field each:
/// `actions_purchase`, `action_values_purchase`).
pub const ACTION_TYPES: &[&str] = &["link_click", "purchase", "add_to_cart", "lead"];

const METRICS: &[&str] = &[
    "spend",
    "impressions",
    "clicks",
    "reach",
    "actions",
    "action_values",
];

const NON_ADDITIVE: &[&str] = &["reach", "frequency"];

const MONEY: &[&str] = &[
    "spend",
    "action_values_link_click",
    "action_values_purchase",
    "action_values_add_to_cart",
    "action_values_lead",
];

/// Ads Manager's ratios, from their parts.
const RATIOS: &[Ratio] = &[
    Ratio {
        name: "ctr",
        numerator: "clicks",
        denominator: "impressions",
        scale: 100,
    },
    Ratio {
        name: "cpc",
        numerator: "spend",
        denominator: "clicks",
        scale: 1,
    },
    Ratio {
        name: "cpm",
        numerator: "spend",
        denominator: "impressions",
        scale: 1_000,
    },
    Ratio {
        name: "frequency",
        numerator: "impressions",
        denominator: "reach",
        scale: 1,
    },
    Ratio {
        name: "roas",
        numerator: "action_values_purchase",
        denominator: "spend",
        scale: 1,
    },
];

const LABELS: &[(&str, &str)] = &[
    ("campaign_id", "campaign_name"),
    ("adset_id", "adset_name"),
    ("ad_id", "ad_name"),
];

pub const TOTALS: &str = "account";

const fn spec(dimensions: &'static [&'static str]) -> ReportSpec {
    ReportSpec {
        dimensions,
        metrics: METRICS,
        non_additive: NON_ADDITIVE,
        totals_object: TOTALS,
        money: MONEY,
        ratios: RATIOS,
        labels: LABELS,
    }
}

/// An insights object: its routing-source name, label, level, breakdowns and shape.
pub struct Insights {
    pub name: &'static str,
    pub label: &'static str,
    pub level: &'static str,
    pub breakdowns: &'static [&'static str],
    pub spec: ReportSpec,
}

pub const INSIGHTS: &[Insights] = &[
    Insights {
        name: "ads",
        label: "Ads (daily)",
        level: "ad",
        breakdowns: &[],
        spec: spec(&["ad_id"]),
    },
    Insights {
        name: "campaigns",
        label: "Campaigns (daily)",
        level: "campaign",
        breakdowns: &[],
        spec: spec(&["campaign_id"]),
    },
    Insights {
        name: TOTALS,
        label: "Account totals (daily)",
        level: "account",
        breakdowns: &[],
        spec: spec(&[]),
    },
    Insights {
        name: "country",
        label: "By country",
        level: "account",
        breakdowns: &["country"],
        spec: spec(&["country"]),
    },
    Insights {
        name: "age_gender",
        label: "By age and gender",
        level: "account",
        breakdowns: &["age", "gender"],
        spec: spec(&["age", "gender"]),
    },
    Insights {
        name: "platform",
        label: "By publisher platform",
        level: "account",
        breakdowns: &["publisher_platform"],
        spec: spec(&["publisher_platform"]),
    },
    Insights {
        name: "ads_country",
        label: "Ads by country",
        level: "ad",
        breakdowns: &["country"],
        spec: spec(&["ad_id", "country"]),
    },
];

const PATH: &str = "/v25.0/act_{account}/insights";

pub const CATALOGUE: &[CatalogueObject] = &[
    CatalogueObject {
        name: "ads",
        label: "Ads (daily)",
        list_path: PATH,
    },
    CatalogueObject {
        name: "campaigns",
        label: "Campaigns (daily)",
        list_path: PATH,
    },
    CatalogueObject {
        name: TOTALS,
        label: "Account totals (daily)",
        list_path: PATH,
    },
    CatalogueObject {
        name: "country",
        label: "By country",
        list_path: PATH,
    },
    CatalogueObject {
        name: "age_gender",
        label: "By age and gender",
        list_path: PATH,
    },
    CatalogueObject {
        name: "platform",
        label: "By publisher platform",
        list_path: PATH,
    },
    CatalogueObject {
        name: "ads_country",
        label: "Ads by country",
        list_path: PATH,
    },
];

pub fn insights_named(name: &str) -> Option<&'static Insights> {
    INSIGHTS.iter().find(|insights| insights.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_insights_object() {
        assert_eq!(CATALOGUE.len(), INSIGHTS.len());
        for (object, insights) in CATALOGUE.iter().zip(INSIGHTS) {
            assert_eq!((object.name, object.label), (insights.name, insights.label));
        }
        assert!(insights_named(TOTALS).is_some_and(|totals| totals.spec.dimensions.is_empty()));
    }
}
