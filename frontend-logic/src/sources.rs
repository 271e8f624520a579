//! What the sources page says after an OAuth callback.

/// What an OAuth callback's error code means for the user.
pub fn callback_error(code: &str, source: &str) -> String {
    let source = if source.is_empty() {
        "the provider"
    } else {
        source
    };
    match code {
        "access_denied" => format!("Connecting {source} was declined at the consent page."),
        "invalid_state" | "state_mismatch" | "expired_state" | "unknown_state" => {
            "That connection attempt expired or was already used. Please connect again.".into()
        }
        "token_exchange_failed" | "provider_error" | "invalid_grant" => {
            format!("{source} did not accept the connection. Please try again.")
        }
        "provider_unavailable" => format!("{source} could not be reached. Please try again later."),
        "not_configured" => format!("This server has no credentials for {source}."),
        other => format!("Connecting {source} failed ({other})."),
    }
}

/// The banner after a successful OAuth callback; `needs_account` names what must still be chosen
/// (`property`) before anything syncs.
pub fn connected_banner(name: &str, needs_account: Option<&str>) -> String {
    match needs_account {
        Some(noun) => format!(
            "Connected {name}. Choose the {noun} to read below; its first sync starts then."
        ),
        None => format!("Connected {name}. The first sync has started; its progress shows below."),
    }
}

#[cfg(test)]
mod tests {
    use super::{callback_error, connected_banner};

    #[test]
    fn says_what_comes_after_connecting() {
        assert_eq!(
            connected_banner("Demo", None),
            "Connected Demo. The first sync has started; its progress shows below."
        );
        assert_eq!(
            connected_banner("Demo Analytics", Some("property")),
            "Connected Demo Analytics. Choose the property to read below; its first sync starts then."
        );
    }

    #[test]
    fn explains_callback_errors() {
        assert_eq!(
            callback_error("access_denied", "demo"),
            "Connecting demo was declined at the consent page."
        );
        assert_eq!(
            callback_error("weird", ""),
            "Connecting the provider failed (weird)."
        );
    }
}
