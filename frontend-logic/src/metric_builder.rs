//! The metric builder's choices: operators, proposed names, how sources and default dates read.

use allmetrics_common::SourceResponse;

use crate::accounts::account_noun;
use crate::summary::describe;

/// The operators of the query API, with their labels.
pub const OPERATORS: [(&str, &str); 6] = [
    ("count", "Count"),
    ("sum", "Sum"),
    ("average", "Average"),
    ("min", "Minimum"),
    ("max", "Maximum"),
    ("count_distinct", "Count distinct"),
];

/// Every operator but `count` reads a value field.
pub fn needs_value_field(operator: &str) -> bool {
    operator != "count"
}

/// The name proposed for a metric: `Charges: Sum of amount by currency`.
pub fn suggested_name(
    object_label: &str,
    operator: &str,
    value_field: &str,
    group_by: &str,
) -> String {
    if object_label.is_empty() {
        return String::new();
    }
    let value = Some(value_field).filter(|v| !v.is_empty());
    format!("{object_label}: {}", describe(operator, value, group_by))
}

/// A source in the source list: its name, and what it still lacks.
pub fn source_label(source: &SourceResponse) -> String {
    match source.connection.as_ref().map(|c| c.status.as_str()) {
        None => format!("{} (not connected)", source.name),
        Some("needs_account") => format!(
            "{} (choose its {} on Sources first)",
            source.name,
            account_noun(&source.provider)
        ),
        Some(_) => source.name.clone(),
    }
}

/// The date the days are cut on when none is chosen: a report's own day, else the creation time.
pub fn default_date_label(keys: &[String]) -> &'static str {
    let has = |name: &str| keys.iter().any(|k| k == name);
    if has("date") && !has("created") {
        "the report's date (default)"
    } else {
        "created (default)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposes_names() {
        assert_eq!(
            suggested_name("Charges", "sum", "amount", "currency"),
            "Charges: Sum of amount by currency"
        );
        assert_eq!(
            suggested_name("Customers", "count", "", ""),
            "Customers: Count"
        );
        assert_eq!(suggested_name("", "count", "", ""), "");
        assert!(needs_value_field("sum"));
        assert!(!needs_value_field("count"));
    }

    #[test]
    fn labels_sources_and_default_dates() {
        let mut source = SourceResponse {
            slug: "demo-analytics".into(),
            name: "Demo Analytics".into(),
            provider: "demo-analytics".into(),
            configured: true,
            api_key_supported: false,
            subscriptions_supported: false,
            connection: None,
        };
        assert_eq!(source_label(&source), "Demo Analytics (not connected)");
        source.connection = Some(allmetrics_common::ConnectionResponse {
            source: "demo-analytics".into(),
            auth_kind: "oauth".into(),
            account_id: None,
            status: "needs_account".into(),
            account: None,
            reporting_currency: None,
            subscription_settings: Default::default(),
            scopes: String::new(),
            expires_at: None,
            connected_at: String::new(),
            updated_at: String::new(),
        });
        assert_eq!(
            source_label(&source),
            "Demo Analytics (choose its property on Sources first)"
        );
        let keys = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            default_date_label(&keys(&["date", "sessions"])),
            "the report's date (default)"
        );
        assert_eq!(
            default_date_label(&keys(&["created", "amount"])),
            "created (default)"
        );
        assert_eq!(default_date_label(&[]), "created (default)");
    }
}
