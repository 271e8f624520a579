//! The register form: what it sends, and where a refusal is shown. A production server with no
//! administrator prints a one-time setup token at start; the account registered with it becomes
//! the administrator. Everyone else leaves the field empty, and then no token is sent at all (an
//! empty one would be refused as invalid).

use allmetrics_common::RegisterRequest;

/// The API's code for a setup token it refuses (wrong, used, expired, or an admin exists).
pub const INVALID_SETUP_TOKEN: &str = "invalid_setup_token";

/// The request for the form's fields: the token only when one was typed (pasted tokens often
/// carry spaces or a line break around them).
pub fn register_request(email: &str, password: &str, setup_token: &str) -> RegisterRequest {
    let setup_token = setup_token.trim();
    RegisterRequest {
        email: email.trim().to_string(),
        password: password.to_string(),
        setup_token: (!setup_token.is_empty()).then(|| setup_token.to_string()),
    }
}

/// Where the form shows a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterFailure {
    /// Under the setup-token field: the token was refused.
    SetupToken(String),
    /// Under the form.
    Form(String),
}

/// The refusal of `POST /api/v1/auth/register` (its error code and message), placed.
pub fn register_failure(code: &str, message: &str, sent_token: bool) -> RegisterFailure {
    if code != INVALID_SETUP_TOKEN {
        return RegisterFailure::Form(message.to_string());
    }
    RegisterFailure::SetupToken(if sent_token {
        format!(
            "{message} Copy the token again from the server's start-up log (it is valid for 24 \
             hours and only once), or leave the field empty if this server has an administrator."
        )
    } else {
        message.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_setup_token_is_not_sent() {
        for empty in ["", "   ", "\n"] {
            let request = register_request(" ann@example.com ", "a password!", empty);
            assert_eq!(request.setup_token, None);
            assert_eq!(request.email, "ann@example.com");
            let json = serde_json::to_value(&request).unwrap();
            assert!(json.get("setup_token").is_none(), "{json}");
        }
    }

    #[test]
    fn a_pasted_setup_token_is_sent_trimmed() {
        let request = register_request("ann@example.com", " keep spaces ", " setup_abc\n");
        assert_eq!(request.setup_token.as_deref(), Some("setup_abc"));
        assert_eq!(
            request.password, " keep spaces ",
            "passwords are sent as typed"
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["setup_token"], "setup_abc");
    }

    #[test]
    fn a_refused_setup_token_is_shown_at_its_field() {
        let refused = register_failure(INVALID_SETUP_TOKEN, "This setup token is not valid.", true);
        let RegisterFailure::SetupToken(message) = refused else {
            panic!("shown at the form: {refused:?}");
        };
        assert!(message.starts_with("This setup token is not valid."));
        assert!(message.contains("leave the field empty"), "{message}");
        assert_eq!(
            register_failure("email_taken", "An account with this email exists.", true),
            RegisterFailure::Form("An account with this email exists.".into())
        );
    }
}
