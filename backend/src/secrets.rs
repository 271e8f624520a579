//! Secrets the server needs: taken from the settings, or in `local` generated once and kept in
//! the data directory (mode 0600) so that sessions survive a restart.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use secrecy::SecretString;

use crate::configuration::{Environment, Settings};

/// `len` random bytes from the operating system.
pub fn random_bytes(len: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(bytes)
}

/// A random URL-safe token of `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> anyhow::Result<String> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes)?))
}

/// Minimum length of an explicitly configured JWT secret.
const MIN_SECRET_LEN: usize = 32;

pub fn jwt_secret(settings: &Settings) -> anyhow::Result<SecretString> {
    use secrecy::ExposeSecret;
    match (&settings.auth.jwt_secret, settings.environment) {
        (Some(secret), _) if secret.expose_secret().len() >= MIN_SECRET_LEN => Ok(secret.clone()),
        (Some(_), _) => {
            anyhow::bail!("APP_AUTH__JWT_SECRET must be at least {MIN_SECRET_LEN} characters long")
        }
        (None, Environment::Production) => anyhow::bail!(
            "in production the JWT secret must be set explicitly: APP_AUTH__JWT_SECRET \
             (e.g. `openssl rand -base64 48`)"
        ),
        (None, Environment::Local) => local_secret(settings.data_dir(), "jwt-secret"),
    }
}

/// Reads `data_dir/name`, creating it with 48 random bytes (base64) if it does not exist yet.
pub fn local_secret(data_dir: &Path, name: &str) -> anyhow::Result<SecretString> {
    local_secret_with(data_dir, name, || {
        Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes(48)?))
    })
}

/// Reads `data_dir/name`, creating it (mode 0600) with `generate()` if it does not exist yet.
pub fn local_secret_with(
    data_dir: &Path,
    name: &str,
    generate: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<SecretString> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= MIN_SECRET_LEN {
            return Ok(SecretString::from(existing.to_string()));
        }
        anyhow::bail!(
            "{} is too short to be a secret; delete it to regenerate",
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new local secret");
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_local_secret_is_created_once_with_private_permissions() {
        let folder = tempfile::tempdir().unwrap();
        let first = local_secret(folder.path(), "jwt-secret").unwrap();
        let second = local_secret(folder.path(), "jwt-secret").unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= MIN_SECRET_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.path().join("jwt-secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn production_refuses_to_run_without_an_explicit_secret() {
        let mut settings = Settings {
            environment: Environment::Production,
            ..Settings::default()
        };
        let error = jwt_secret(&settings).unwrap_err().to_string();
        assert!(error.contains("APP_AUTH__JWT_SECRET"), "{error}");
        settings.auth.jwt_secret = Some(SecretString::from("short".to_string()));
        assert!(jwt_secret(&settings).is_err());
        settings.auth.jwt_secret = Some(SecretString::from("x".repeat(40)));
        assert!(jwt_secret(&settings).is_ok());
    }
}
