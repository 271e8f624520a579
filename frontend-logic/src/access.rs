//! When a connection's access runs out: Facebook's long-lived tokens cannot be refreshed, so the
//! connection is `expiring` during its last days (syncs go on) and `needs_reconnect` once expired
//! (or refused by the provider). The source card words it with the date from `expires_at`.

use crate::dates::{date_at, date_label, parse_rfc3339};

/// Who granted the access, as the user knows it: `Facebook` for Facebook Ads and its demo, else
/// the source's own name.
pub fn access_owner(provider: &str, source_name: &str) -> String {
    match provider {
        "facebook" | "demo-ads" => "Facebook".into(),
        _ => source_name.to_string(),
    }
}

/// The day an access expires, as `Nov 24, 2026` on the user's calendar (`offset_seconds`: the
/// user's UTC offset at that instant); `None` when `expires_at` is missing or not RFC 3339.
pub fn expiry_label(expires_at: Option<&str>, offset_seconds: i64) -> Option<String> {
    let at = parse_rfc3339(expires_at?)?;
    Some(date_label(&date_at(at, offset_seconds)))
}

/// The warning a source card shows about its access, or `None` when there is nothing to say.
/// `expires_at` is the connection's (RFC 3339), `now` seconds since the epoch.
pub fn access_notice(
    status: Option<&str>,
    owner: &str,
    expires_at: Option<&str>,
    offset_seconds: i64,
    now: i64,
) -> Option<String> {
    let expiry = expiry_label(expires_at, offset_seconds);
    match status? {
        "expiring" => Some(match expiry {
            Some(date) => format!("{owner} access expires on {date}: reconnect to keep syncing."),
            None => format!("{owner} access expires soon: reconnect to keep syncing."),
        }),
        "needs_reconnect" => {
            let expired = expires_at
                .and_then(parse_rfc3339)
                .is_some_and(|at| at <= now);
            Some(match expiry {
                Some(date) if expired => {
                    format!("{owner} access expired on {date}: reconnect to resume syncing.")
                }
                _ => format!(
                    "{owner} no longer accepts this connection: reconnect to resume syncing."
                ),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-20T12:00:00Z";

    fn now() -> i64 {
        parse_rfc3339(NOW).unwrap()
    }

    #[test]
    fn names_who_granted_the_access() {
        assert_eq!(access_owner("facebook", "Facebook Ads"), "Facebook");
        assert_eq!(access_owner("demo-ads", "Demo Ads"), "Facebook");
        assert_eq!(access_owner("stripe", "Stripe"), "Stripe");
    }

    #[test]
    fn dates_the_expiry_on_the_users_calendar() {
        let at = Some("2026-11-25T03:00:00+00:00");
        assert_eq!(expiry_label(at, 0).as_deref(), Some("Nov 25, 2026"));
        assert_eq!(expiry_label(at, -8 * 3600).as_deref(), Some("Nov 24, 2026"));
        assert_eq!(expiry_label(None, 0), None);
        assert_eq!(expiry_label(Some("next week"), 0), None);
    }

    #[test]
    fn warns_while_expiring() {
        assert_eq!(
            access_notice(
                Some("expiring"),
                "Facebook",
                Some("2026-11-25T03:00:00+00:00"),
                0,
                now()
            )
            .as_deref(),
            Some("Facebook access expires on Nov 25, 2026: reconnect to keep syncing.")
        );
        assert_eq!(
            access_notice(Some("expiring"), "Facebook", None, 0, now()).as_deref(),
            Some("Facebook access expires soon: reconnect to keep syncing.")
        );
    }

    #[test]
    fn says_why_a_reconnect_is_needed() {
        assert_eq!(
            access_notice(
                Some("needs_reconnect"),
                "Facebook",
                Some("2026-11-18T09:00:00Z"),
                3600,
                now()
            )
            .as_deref(),
            Some("Facebook access expired on Nov 18, 2026: reconnect to resume syncing.")
        );
        // Refused before its expiry, or a token that does not expire.
        for expires_at in [Some("2027-01-10T00:00:00Z"), None] {
            assert_eq!(
                access_notice(Some("needs_reconnect"), "Demo", expires_at, 0, now()).as_deref(),
                Some("Demo no longer accepts this connection: reconnect to resume syncing.")
            );
        }
    }

    #[test]
    fn says_nothing_otherwise() {
        for status in [Some("active"), Some("needs_account"), None] {
            assert_eq!(
                access_notice(status, "Facebook", Some("2026-11-25T03:00:00Z"), 0, now()),
                None
            );
        }
    }
}
