//! Google Analytics 4 offers reports, not objects. Each report object is a fixed set of
//! dimensions with `date` first: `daily` holds the totals; one report per dimension offered for
//! grouping gives every grouping of a users metric its exact figures (users are not additive);
//! `platform` is finer, for additive metrics only.

use crate::providers::{CatalogueObject, Ratio, ReportSpec};

/// At most 10 metrics fit in one request.
const ALL_METRICS: &[&str] = &[
    "sessions",
    "engagedSessions",
    "activeUsers",
    "newUsers",
    "totalUsers",
    "screenPageViews",
    "eventCount",
    "conversions",
    "totalRevenue",
    "averageSessionDuration",
];

const ADDITIVE_METRICS: &[&str] = &[
    "sessions",
    "engagedSessions",
    "newUsers",
    "screenPageViews",
    "eventCount",
    "conversions",
    "totalRevenue",
    "averageSessionDuration",
];

/// Unique users: a day's figure is not the sum of its groups, nor a week's the sum of its days.
const USERS: &[&str] = &["activeUsers", "totalUsers"];

const MONEY: &[&str] = &["totalRevenue"];

/// GA's ratios, from the additive parts every record carries (see reader.rs).
const RATIOS: &[Ratio] = &[
    Ratio {
        name: "bounceRate",
        numerator: "bounces",
        denominator: "sessions",
        scale: 1,
    },
    Ratio {
        name: "engagementRate",
        numerator: "engagedSessions",
        denominator: "sessions",
        scale: 1,
    },
    Ratio {
        name: "averageSessionDuration",
        numerator: "sessionDuration",
        denominator: "sessions",
        scale: 1,
    },
    Ratio {
        name: "screenPageViewsPerSession",
        numerator: "screenPageViews",
        denominator: "sessions",
        scale: 1,
    },
];

pub const TOTALS: &str = "daily";

const fn report(
    dimensions: &'static [&'static str],
    metrics: &'static [&'static str],
) -> ReportSpec {
    ReportSpec {
        dimensions,
        metrics,
        non_additive: USERS,
        totals_object: TOTALS,
        money: MONEY,
        ratios: RATIOS,
        labels: &[],
    }
}

/// A report object: its routing-source name, label and shape.
pub struct Report {
    pub name: &'static str,
    pub label: &'static str,
    pub spec: ReportSpec,
}

pub const REPORTS: &[Report] = &[
    Report {
        name: TOTALS,
        label: "Daily totals",
        spec: report(&[], ALL_METRICS),
    },
    Report {
        name: "device",
        label: "By device category",
        spec: report(&["deviceCategory"], ALL_METRICS),
    },
    Report {
        name: "country",
        label: "By country",
        spec: report(&["country"], ALL_METRICS),
    },
    Report {
        name: "channel",
        label: "By default channel group",
        spec: report(&["sessionDefaultChannelGroup"], ALL_METRICS),
    },
    Report {
        name: "source",
        label: "By session source",
        spec: report(&["sessionSource"], ALL_METRICS),
    },
    Report {
        name: "page",
        label: "By page path",
        spec: report(&["pagePath"], ALL_METRICS),
    },
    Report {
        name: "platform",
        label: "By device, operating system and browser",
        spec: report(
            &["deviceCategory", "operatingSystem", "browser"],
            ADDITIVE_METRICS,
        ),
    },
];

pub const CATALOGUE: &[CatalogueObject] = &[
    CatalogueObject {
        name: "daily",
        label: "Daily totals",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "device",
        label: "By device category",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "country",
        label: "By country",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "channel",
        label: "By default channel group",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "source",
        label: "By session source",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "page",
        label: "By page path",
        list_path: "/v1beta/properties/{property}:runReport",
    },
    CatalogueObject {
        name: "platform",
        label: "By device, operating system and browser",
        list_path: "/v1beta/properties/{property}:runReport",
    },
];

pub fn report_named(name: &str) -> Option<&'static Report> {
    REPORTS.iter().find(|report| report.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_report_and_requests_fit_googles_limits() {
        assert_eq!(CATALOGUE.len(), REPORTS.len());
        for (object, report) in CATALOGUE.iter().zip(REPORTS) {
            assert_eq!((object.name, object.label), (report.name, report.label));
            assert!(report.spec.metrics.len() <= 10, "{}", report.name);
            assert!(report.spec.dimensions.len() < 9, "{}", report.name);
        }
        assert!(report_named(TOTALS).is_some_and(|totals| totals.spec.dimensions.is_empty()));
    }
}
