//! How the accounts of a connection read on the sources page: the account picker's labels, its
//! first choice, and the connection's state chip.

use allmetrics_common::AccountResponse;

/// What one readable account of a provider is called: a GA4 property, an ad account, else an
/// account.
pub fn account_noun(provider: &str) -> &'static str {
    match provider {
        "google" | "demo-analytics" => "property",
        "facebook" | "demo-ads" => "ad account",
        _ => "account",
    }
}

/// `a property`, `an ad account`.
pub fn with_article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// `Demo Web Store (Demo Company)`; the id when the provider gave no name.
pub fn account_label(account: &AccountResponse) -> String {
    let name = if account.name.trim().is_empty() {
        account.id.as_str()
    } else {
        account.name.as_str()
    };
    match account.parent.as_deref().map(str::trim) {
        Some(parent) if !parent.is_empty() => format!("{name} ({parent})"),
        _ => name.to_string(),
    }
}

/// The account the picker starts on: the current one when it is still listed, else the first.
pub fn initial_choice(accounts: &[AccountResponse], current: Option<&str>) -> Option<String> {
    current
        .filter(|id| accounts.iter().any(|a| a.id == *id))
        .or_else(|| accounts.first().map(|a| a.id.as_str()))
        .map(str::to_string)
}

/// A currency code as people write it (`usd` -> `USD`); a dash when unknown.
pub fn currency_label(currency: Option<&str>) -> String {
    match currency.map(str::trim) {
        Some(code) if !code.is_empty() => code.to_ascii_uppercase(),
        _ => "—".into(),
    }
}

/// The chip of a source card: its CSS class and its words, from the connection's status
/// (`None`: not connected).
pub fn connection_chip(status: Option<&str>, configured: bool, noun: &str) -> (String, String) {
    match (status, configured) {
        (Some("needs_reconnect"), _) => (
            "badge state-needs_reconnect".into(),
            "Needs reconnect".into(),
        ),
        (Some("expiring"), _) => ("badge state-expiring".into(), "Expires soon".into()),
        (Some("needs_account"), _) => (
            "badge state-needs_account".into(),
            format!("Choose {}", with_article(noun)),
        ),
        (Some(_), _) => ("badge state-idle".into(), "Connected".into()),
        (None, true) => ("badge".into(), "Not connected".into()),
        (None, false) => ("badge muted".into(), "Not configured".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str, parent: Option<&str>) -> AccountResponse {
        AccountResponse {
            id: id.into(),
            name: name.into(),
            parent: parent.map(str::to_string),
            time_zone: None,
            currency: None,
        }
    }

    #[test]
    fn names_accounts() {
        assert_eq!(account_noun("demo-analytics"), "property");
        assert_eq!(account_noun("google"), "property");
        assert_eq!(account_noun("demo-ads"), "ad account");
        assert_eq!(account_noun("stripe"), "account");
        assert_eq!(with_article("property"), "a property");
        assert_eq!(with_article("ad account"), "an ad account");
        assert_eq!(
            account_label(&account("250001", "Demo Web Store", Some("Demo Company"))),
            "Demo Web Store (Demo Company)"
        );
        assert_eq!(
            account_label(&account("250001", "Demo Web Store", None)),
            "Demo Web Store"
        );
        assert_eq!(
            account_label(&account("250001", "Demo Web Store", Some(" "))),
            "Demo Web Store"
        );
        assert_eq!(account_label(&account("250001", "", None)), "250001");
    }

    #[test]
    fn starts_on_the_current_account() {
        let list = [
            account("1", "A", None),
            account("2", "B", None),
            account("3", "C", None),
        ];
        assert_eq!(initial_choice(&list, Some("2")), Some("2".into()));
        assert_eq!(initial_choice(&list, Some("9")), Some("1".into()));
        assert_eq!(initial_choice(&list, None), Some("1".into()));
        assert_eq!(initial_choice(&[], Some("2")), None);
    }

    #[test]
    fn labels_currencies_and_states() {
        assert_eq!(currency_label(Some("usd")), "USD");
        assert_eq!(currency_label(Some("")), "—");
        assert_eq!(currency_label(None), "—");
        assert_eq!(
            connection_chip(Some("needs_account"), true, "property"),
            (
                "badge state-needs_account".to_string(),
                "Choose a property".to_string()
            )
        );
        assert_eq!(
            connection_chip(Some("needs_account"), true, "ad account").1,
            "Choose an ad account"
        );
        assert_eq!(
            connection_chip(Some("active"), true, "property").1,
            "Connected"
        );
        assert_eq!(
            connection_chip(Some("needs_reconnect"), true, "account").1,
            "Needs reconnect"
        );
        assert_eq!(
            connection_chip(Some("expiring"), true, "ad account"),
            (
                "badge state-expiring".to_string(),
                "Expires soon".to_string()
            )
        );
        assert_eq!(connection_chip(None, true, "account").1, "Not connected");
        assert_eq!(connection_chip(None, false, "account").1, "Not configured");
    }
}
