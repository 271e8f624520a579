//! The API tokens page: what a token's line says, and the lifetimes offered.

use allmetrics_common::{ApiTokenResponse, ApiTokenScope};

/// Lifetimes offered when making a token: (days, label); `None` never expires.
pub const LIFETIMES: [(Option<u32>, &str); 5] = [
    (Some(7), "7 days"),
    (Some(30), "30 days"),
    (Some(90), "90 days"),
    (Some(365), "1 year"),
    (None, "No expiry"),
];

/// The lifetime chosen by the value of its `<option>` (its days, or `never`).
pub fn lifetime_from_option(value: &str) -> Option<u32> {
    value.parse().ok()
}

pub fn lifetime_option_value(days: Option<u32>) -> String {
    days.map_or_else(|| "never".to_string(), |days| days.to_string())
}

/// The minute of an RFC 3339 time, as `2026-12-02 14:05` (UTC).
fn minute(rfc3339: &str) -> String {
    let trimmed: String = rfc3339.chars().take(16).collect();
    format!("{} UTC", trimmed.replacen('T', " ", 1))
}

/// `Read only · created 2026-12-02 14:05 UTC · expires ... · last used ...`.
pub fn token_summary(token: &ApiTokenResponse) -> String {
    let scope = match token.scope {
        ApiTokenScope::Read => "Read only",
        ApiTokenScope::Write => "Read and write",
    };
    let expiry = token.expires_at.as_deref().map_or_else(
        || "never expires".to_string(),
        |at| format!("expires {}", minute(at)),
    );
    let used = token.last_used_at.as_deref().map_or_else(
        || "never used".to_string(),
        |at| format!("last used {}", minute(at)),
    );
    format!(
        "{scope} · created {} · {expiry} · {used}",
        minute(&token.created_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: Option<&str>, last_used_at: Option<&str>) -> ApiTokenResponse {
        ApiTokenResponse {
            id: 1,
            user_id: 2,
            name: "ci".into(),
            scope: ApiTokenScope::Read,
            prefix: "am_pat_Xk3f".into(),
            created_at: "2026-12-02T14:05:09Z".into(),
            expires_at: expires_at.map(Into::into),
            last_used_at: last_used_at.map(Into::into),
        }
    }

    #[test]
    fn a_tokens_line_says_its_scope_lifetime_and_last_use() {
        assert_eq!(
            token_summary(&token(None, None)),
            "Read only · created 2026-12-02 14:05 UTC · never expires · never used"
        );
        let mut written = token(Some("2027-03-02T14:05:09Z"), Some("2026-12-03T08:00:00Z"));
        written.scope = ApiTokenScope::Write;
        assert_eq!(
            token_summary(&written),
            "Read and write · created 2026-12-02 14:05 UTC · expires 2027-03-02 14:05 UTC · \
             last used 2026-12-03 08:00 UTC"
        );
    }

    #[test]
    fn lifetimes_round_trip_through_their_option_values() {
        for (days, _) in LIFETIMES {
            assert_eq!(lifetime_from_option(&lifetime_option_value(days)), days);
        }
        assert_eq!(lifetime_from_option("never"), None);
    }
}
