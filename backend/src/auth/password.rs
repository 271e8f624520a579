//! Passwords: the policy, and argon2id hashing run off the async executor.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;
use crate::telemetry::spawn_blocking_with_tracing;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
pub const MAX_PASSWORD_CHARS: usize = 1024;

const COMMON_PASSWORDS: &str = include_str!("../../assets/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect()
    })
}

/// 400 `weak_password` unless the password is long enough and not a common one.
pub fn check_policy(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(
            "weak_password",
            format!("The password must have at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_request(
            "weak_password",
            format!("The password must have at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if common_passwords().contains(password.to_lowercase().as_str()) {
        return Err(ApiError::bad_request(
            "weak_password",
            "This password is one of the most common ones; choose another.",
        ));
    }
    Ok(())
}

fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
}

/// Hashes computed at once, at most: each takes 19 MiB, so a flood of logins (or of unknown
/// emails, which cost a hash too) waits its turn instead of taking the memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// An argon2id PHC string (argon2's defaults: m=19 MiB, t=2, p=1, as OWASP recommends).
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    spawn_blocking_with_tracing(move || hash_blocking(&password)).await?
}

/// A hash of a random password, verified against when the email is unknown, so that an unknown
/// email and a wrong password take the same time.
pub fn dummy_hash() -> anyhow::Result<String> {
    hash_blocking(&SecretString::from(crate::secrets::random_token(16)?))
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub async fn verify(stored: String, password: SecretString) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await?;
    spawn_blocking_with_tracing(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            tracing::error!("a stored password hash is malformed");
            return false;
        };
        Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_passwords_are_weak() {
        assert!(check_policy("short").is_err());
        assert!(
            check_policy("1234567890").is_err(),
            "common, though long enough"
        );
        assert!(
            check_policy("QWERTYUIOP").is_err(),
            "common ones match in any case"
        );
        assert!(check_policy(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(check_policy("correct horse battery staple").is_ok());
        assert_eq!(common_passwords().len(), 1000);
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash(SecretString::from("correct horse battery".to_string()))
            .await
            .unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(
            stored.clone(),
            SecretString::from("correct horse battery".to_string())
        )
        .await
        .unwrap());
        assert!(!verify(
            stored,
            SecretString::from("wrong horse battery".to_string())
        )
        .await
        .unwrap());
        assert!(
            !verify("not a hash".into(), SecretString::from("x".to_string()))
                .await
                .unwrap()
        );
    }
}
