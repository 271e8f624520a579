//! The connection settings form of a Stripe-compatible source: what its subscription metrics are
//! converted to and how they are defined, read from the connection and turned into the
//! `PATCH /api/v1/connections/{slug}` request.

use allmetrics_common::{
    ChurnAt, SubscriptionSettings, SubscriptionSettingsChange, UpdateConnectionRequest,
    MAX_CHURN_WINDOW_DAYS,
};

/// The yes/no settings, with what the form says of each.
pub const SWITCHES: [(&str, &str); 6] = [
    ("past_due_counts", "Past-due subscriptions count"),
    ("unpaid_counts", "Unpaid subscriptions count"),
    ("paused_counts", "Paused subscriptions count"),
    ("once_discounts_lower_mrr", "Once coupons lower MRR"),
    ("ignore_discounts", "Ignore every discount (list prices)"),
    (
        "revenue_churn_net_of_expansion",
        "Revenue churn net of expansion",
    ),
];

/// A yes/no setting by its name.
pub fn switch(settings: &SubscriptionSettings, name: &str) -> bool {
    match name {
        "past_due_counts" => settings.past_due_counts,
        "unpaid_counts" => settings.unpaid_counts,
        "paused_counts" => settings.paused_counts,
        "once_discounts_lower_mrr" => settings.once_discounts_lower_mrr,
        "ignore_discounts" => settings.ignore_discounts,
        "revenue_churn_net_of_expansion" => settings.revenue_churn_net_of_expansion,
        _ => false,
    }
}

/// Sets a yes/no setting by its name.
pub fn set_switch(settings: &mut SubscriptionSettings, name: &str, on: bool) {
    match name {
        "past_due_counts" => settings.past_due_counts = on,
        "unpaid_counts" => settings.unpaid_counts = on,
        "paused_counts" => settings.paused_counts = on,
        "once_discounts_lower_mrr" => settings.once_discounts_lower_mrr = on,
        "ignore_discounts" => settings.ignore_discounts = on,
        "revenue_churn_net_of_expansion" => settings.revenue_churn_net_of_expansion = on,
        _ => {}
    }
}

/// `churn_at` as the form's select names it, and back.
pub fn churn_at_value(churn_at: ChurnAt) -> &'static str {
    match churn_at {
        ChurnAt::PeriodEnd => "period_end",
        ChurnAt::Cancellation => "cancellation",
    }
}

pub fn churn_at_of(value: &str) -> ChurnAt {
    if value == "cancellation" {
        ChurnAt::Cancellation
    } else {
        ChurnAt::PeriodEnd
    }
}

/// The request that saves the form: the reporting currency as typed (empty: the account's
/// default), the settings, and the churn window as typed. `Err` says what to fix.
pub fn settings_request(
    currency: &str,
    settings: &SubscriptionSettings,
    churn_window: &str,
) -> Result<UpdateConnectionRequest, String> {
    let currency = currency.trim();
    let reporting_currency = if currency.is_empty() {
        None
    } else if currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()) {
        Some(currency.to_ascii_lowercase())
    } else {
        return Err(
            "The reporting currency is a code of three letters (EUR), or empty for the account's."
                .into(),
        );
    };
    let churn_window_days = churn_window
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|days| (1..=MAX_CHURN_WINDOW_DAYS).contains(days))
        .ok_or_else(|| {
            format!("The churn window is a number of days from 1 to {MAX_CHURN_WINDOW_DAYS}.")
        })?;
    Ok(UpdateConnectionRequest {
        reporting_currency: Some(reporting_currency),
        subscription_settings: Some(Some(SubscriptionSettingsChange {
            churn_at: Some(settings.churn_at),
            once_discounts_lower_mrr: Some(settings.once_discounts_lower_mrr),
            ignore_discounts: Some(settings.ignore_discounts),
            past_due_counts: Some(settings.past_due_counts),
            unpaid_counts: Some(settings.unpaid_counts),
            paused_counts: Some(settings.paused_counts),
            churn_window_days: Some(churn_window_days),
            revenue_churn_net_of_expansion: Some(settings.revenue_churn_net_of_expansion),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_saves_every_setting_and_the_currency() {
        let mut settings = SubscriptionSettings::default();
        set_switch(&mut settings, "unpaid_counts", true);
        settings.churn_at = churn_at_of("cancellation");
        let request = settings_request(" EUR ", &settings, "28").unwrap();
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(body["reporting_currency"], "eur");
        assert_eq!(body["subscription_settings"]["churn_at"], "cancellation");
        assert_eq!(body["subscription_settings"]["unpaid_counts"], true);
        assert_eq!(body["subscription_settings"]["past_due_counts"], true);
        assert_eq!(body["subscription_settings"]["churn_window_days"], 28);
        // Empty: back to the account's currency (null, not left out).
        let request = settings_request("", &settings, "30").unwrap();
        let body = serde_json::to_value(&request).unwrap();
        assert!(body["reporting_currency"].is_null());
        assert!(body.as_object().unwrap().contains_key("reporting_currency"));
    }

    #[test]
    fn mistakes_are_named_before_sending() {
        let settings = SubscriptionSettings::default();
        for currency in ["euro", "e1", "€€€"] {
            assert!(settings_request(currency, &settings, "30").is_err());
        }
        for window in ["0", "366", "-1", "thirty", ""] {
            let error = settings_request("", &settings, window).unwrap_err();
            assert!(error.contains("churn window"), "{error}");
        }
    }

    #[test]
    fn every_switch_reads_what_it_sets() {
        let mut settings = SubscriptionSettings::default();
        for (name, _) in SWITCHES {
            let before = switch(&settings, name);
            set_switch(&mut settings, name, !before);
            assert_eq!(switch(&settings, name), !before, "{name}");
        }
        assert_eq!(churn_at_value(churn_at_of("period_end")), "period_end");
    }
}
