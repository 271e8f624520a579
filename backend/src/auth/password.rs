//! Passwords: the policy, and argon2id hashing run off the async executor.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// The working memory of hashes, kept for the next ones instead of freed: the allocator keeps
/// what a thread frees for that thread, so 19 MiB allocated and freed on every blocking thread
/// that once hashed made the process grow by hundreds of MiB under a flood of logins. At most
/// one buffer per hash under way (`HASHING`) is kept.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
const KEPT_BUFFERS: usize = 4;

/// Runs `work` with `blocks` blocks of working memory, reused from earlier hashes when they
/// have the default size (other sizes, from hashes made with other parameters, are freed).
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut memory = MEMORY
        .lock()
        .ok()
        .and_then(|mut kept| kept.pop())
        .unwrap_or_default();
    if memory.len() != blocks {
        memory = vec![Block::default(); blocks];
    }
    let result = work(&mut memory);
    if blocks == Params::default().block_count() {
        if let Ok(mut kept) = MEMORY.lock() {
            if kept.len() < KEPT_BUFFERS {
                kept.push(memory);
            }
        }
    }
    result
}

fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    let failed =
        |error: &dyn std::fmt::Display| anyhow::anyhow!("hashing a password failed: {error}");
    let argon2 = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|error| failed(&error))?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(argon2.params().block_count(), |memory| {
        argon2.hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            raw_salt,
            &mut output,
            memory,
        )
    })
    .map_err(|error| failed(&error))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|error| failed(&error))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|error| failed(&error))?),
    };
    Ok(hash.to_string())
}

/// What argon2's own verification does, with kept working memory.
fn verify_blocking(stored: &str, password: &SecretString) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        tracing::error!("a stored password hash is malformed");
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        tracing::error!("a stored password hash is not an argon2 hash");
        return false;
    };
    let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut salt_bytes = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let hashed = with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            raw_salt,
            &mut output,
            memory,
        )
    });
    // Output's equality is constant-time.
    hashed.is_ok() && Output::new(&output).is_ok_and(|computed| computed == expected)
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
    spawn_blocking_with_tracing(move || verify_blocking(&stored, &password))
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

    #[tokio::test]
    async fn hashes_are_argon2s_own_and_their_memory_is_kept_not_regrown() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let password = "correct horse battery";
        // Made by argon2 itself (as every stored hash was), verified here; and the other way.
        let theirs = Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify(theirs, SecretString::from(password.to_string()))
            .await
            .unwrap());
        let ours = hash(SecretString::from(password.to_string()))
            .await
            .unwrap();
        assert!(Argon2::default()
            .verify_password(password.as_bytes(), &PasswordHash::new(&ours).unwrap())
            .is_ok());
        // Other parameters (an older hash) verify too.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(verify(small, SecretString::from(password.to_string()))
            .await
            .unwrap());

        // A flood of hashes keeps at most one working memory per hash allowed at once.
        let mut hashes = tokio::task::JoinSet::new();
        for _ in 0..12 {
            hashes.spawn(hash(SecretString::from(password.to_string())));
        }
        while let Some(done) = hashes.join_next().await {
            done.unwrap().unwrap();
        }
        let kept = MEMORY.lock().unwrap();
        assert!(!kept.is_empty() && kept.len() <= KEPT_BUFFERS);
        assert!(kept
            .iter()
            .all(|memory| memory.len() == Params::default().block_count()));
    }
}
