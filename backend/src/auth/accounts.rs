//! Creating accounts: registration, the admin endpoint and the CLI all go through here.

use secrecy::{ExposeSecret, SecretString};

use super::password;
use crate::db::{DbError, Repository};
use crate::domain::{NewUser, Role, User};
use crate::error::ApiError;

/// 400 `invalid_email` unless the address looks deliverable; returns it trimmed.
pub fn validate_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    if valid {
        Ok(email.to_string())
    } else {
        Err(ApiError::bad_request(
            "invalid_email",
            "This is not a valid email address.",
        ))
    }
}

/// Creates an account after checking the email and the password policy. `role: None` makes the
/// first user admin.
pub async fn create_account(
    repository: &dyn Repository,
    email: &str,
    password: SecretString,
    role: Option<Role>,
) -> Result<User, ApiError> {
    let email = validate_email(email)?;
    password::check_policy(password.expose_secret())?;
    let password_hash = password::hash(password).await.map_err(ApiError::internal)?;
    repository
        .create_user(NewUser {
            email,
            password_hash,
            role,
        })
        .await
        .map_err(|error| match error {
            DbError::Conflict(_) => {
                ApiError::conflict("email_taken", "An account with this email already exists.")
            }
            other => other.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::validate_email;

    #[test]
    fn emails_are_checked_for_shape() {
        assert_eq!(
            validate_email(" ann@example.com ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@.example.com",
            "ann@example..com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert!(validate_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
