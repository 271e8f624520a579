//! Provider tokens at rest: AES-256-GCM with a random 96-bit nonce per value. Every ciphertext
//! names the key that made it, so that several keys can be configured at once: the first encrypts,
//! all decrypt, and `allmetrics admin rotate-keys` re-encrypts everything with the first.
//!
//! Stored form: `v1:<key id>:<base64(nonce || ciphertext+tag)>`. The associated data binds a
//! value to where it belongs (user, source, field): a ciphertext copied into another row does not
//! decrypt there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use crate::configuration::{Environment, Settings};

const FORMAT_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("invalid token key list: {0}")]
    InvalidKeys(String),
    #[error("the value was encrypted with key `{0}`, which is not configured")]
    UnknownKey(String),
    #[error("the stored value is not in a known encrypted form")]
    Malformed,
    #[error("the value does not decrypt: wrong key, or tampered with")]
    Undecryptable,
    #[error("encryption failed")]
    Encrypt,
}

pub struct TokenCipher {
    /// The first key encrypts; every key decrypts.
    keys: Vec<(String, Aes256Gcm)>,
}

impl TokenCipher {
    /// Parses `id:base64key[,id:base64key...]` (32-byte keys), newest first.
    pub fn from_spec(spec: &str) -> Result<Self, CryptoError> {
        let mut keys = Vec::new();
        for entry in spec
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let (id, key) = entry.split_once(':').ok_or_else(|| {
                CryptoError::InvalidKeys("each key is written `id:base64`".into())
            })?;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CryptoError::InvalidKeys(format!(
                    "key id `{id}` must be letters, digits, - or _"
                )));
            }
            let bytes = BASE64
                .decode(key.trim())
                .map_err(|_| CryptoError::InvalidKeys(format!("key `{id}` is not valid base64")))?;
            if bytes.len() != KEY_LEN {
                return Err(CryptoError::InvalidKeys(format!(
                    "key `{id}` must be {KEY_LEN} bytes (it has {})",
                    bytes.len()
                )));
            }
            if keys.iter().any(|(existing, _)| existing == id) {
                return Err(CryptoError::InvalidKeys(format!(
                    "key id `{id}` appears twice"
                )));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| CryptoError::InvalidKeys(format!("key `{id}` is unusable")))?;
            keys.push((id.to_string(), cipher));
        }
        if keys.is_empty() {
            return Err(CryptoError::InvalidKeys("no key given".into()));
        }
        Ok(Self { keys })
    }

    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn encrypt(&self, plaintext: &str, context: &str) -> Result<String, CryptoError> {
        let (id, cipher) = &self.keys[0];
        let nonce_bytes =
            crate::secrets::random_bytes(NONCE_LEN).map_err(|_| CryptoError::Encrypt)?;
        let nonce = nonce_from(&nonce_bytes).ok_or(CryptoError::Encrypt)?;
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut packed = nonce_bytes;
        packed.extend_from_slice(&sealed);
        Ok(format!("{FORMAT_VERSION}:{id}:{}", BASE64.encode(packed)))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<SecretString, CryptoError> {
        let (id, packed) = Self::parse(stored)?;
        let cipher = self
            .keys
            .iter()
            .find(|(key_id, _)| key_id == id)
            .map(|(_, cipher)| cipher)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let packed = BASE64.decode(packed).map_err(|_| CryptoError::Malformed)?;
        if packed.len() <= NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = packed.split_at(NONCE_LEN);
        let plaintext = cipher
            .decrypt(
                &nonce_from(nonce).ok_or(CryptoError::Malformed)?,
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Undecryptable)
    }

    /// Whether a stored value was made with another key than the current one.
    pub fn is_stale(&self, stored: &str) -> bool {
        Self::parse(stored).map_or(true, |(id, _)| id != self.current_key_id())
    }

    /// Decrypts with whichever key made it and encrypts again with the current key.
    pub fn reencrypt(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        self.encrypt(self.decrypt(stored, context)?.expose_secret(), context)
    }

    fn parse(stored: &str) -> Result<(&str, &str), CryptoError> {
        let mut parts = stored.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(FORMAT_VERSION), Some(id), Some(packed)) => Ok((id, packed)),
            _ => Err(CryptoError::Malformed),
        }
    }
}

fn nonce_from(bytes: &[u8]) -> Option<Nonce<aes_gcm::aead::consts::U12>> {
    let array: [u8; NONCE_LEN] = bytes.try_into().ok()?;
    Some(Nonce::from(array))
}

/// The cipher from `security.token_keys`; in `local` a key is generated once and kept in the data
/// directory; in `production` the keys must be configured.
pub fn token_cipher(settings: &Settings) -> anyhow::Result<TokenCipher> {
    let spec = match (&settings.security.token_keys, settings.environment) {
        (Some(spec), _) => spec.expose_secret().to_string(),
        (None, Environment::Production) => anyhow::bail!(
            "in production the token encryption key must be set explicitly: \
             APP_SECURITY__TOKEN_KEYS=1:<base64 of 32 random bytes> (e.g. `echo 1:$(openssl rand \
             -base64 32)`)"
        ),
        (None, Environment::Local) => {
            let key = crate::secrets::local_secret_with(settings.data_dir(), "token-key", || {
                generate_key_entry("local1")
            })?;
            key.expose_secret().to_string()
        }
    };
    Ok(TokenCipher::from_spec(&spec)?)
}

/// A fresh key entry for `security.token_keys`.
pub fn generate_key_entry(id: &str) -> anyhow::Result<String> {
    Ok(format!(
        "{id}:{}",
        BASE64.encode(crate::secrets::random_bytes(KEY_LEN)?)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        BASE64.encode([byte; KEY_LEN])
    }

    #[test]
    fn values_round_trip_and_are_bound_to_their_context() {
        let cipher = TokenCipher::from_spec(&format!("k1:{}", key(1))).unwrap();
        let stored = cipher.encrypt("sk_live_secret", "7/stripe/access").unwrap();
        assert!(stored.starts_with("v1:k1:"));
        assert!(!stored.contains("sk_live_secret"));
        assert_eq!(
            cipher
                .decrypt(&stored, "7/stripe/access")
                .unwrap()
                .expose_secret(),
            "sk_live_secret"
        );
        assert!(matches!(
            cipher.decrypt(&stored, "8/stripe/access"),
            Err(CryptoError::Undecryptable)
        ));
        // A fresh nonce every time.
        assert_ne!(
            stored,
            cipher.encrypt("sk_live_secret", "7/stripe/access").unwrap()
        );
    }

    #[test]
    fn the_newest_key_encrypts_and_every_key_decrypts() {
        let old = TokenCipher::from_spec(&format!("old:{}", key(1))).unwrap();
        let stored_old = old.encrypt("token", "c").unwrap();
        let both = TokenCipher::from_spec(&format!("new:{},old:{}", key(2), key(1))).unwrap();
        assert_eq!(both.current_key_id(), "new");
        assert_eq!(
            both.decrypt(&stored_old, "c").unwrap().expose_secret(),
            "token"
        );
        assert!(both.is_stale(&stored_old));
        let rotated = both.reencrypt(&stored_old, "c").unwrap();
        assert!(rotated.starts_with("v1:new:") && !both.is_stale(&rotated));
        assert!(
            matches!(old.decrypt(&rotated, "c"), Err(CryptoError::UnknownKey(id)) if id == "new")
        );
    }

    #[test]
    fn tampering_and_bad_key_lists_are_detected() {
        let cipher = TokenCipher::from_spec(&format!("k1:{}", key(1))).unwrap();
        let stored = cipher.encrypt("token", "c").unwrap();
        let mut bytes = BASE64.decode(stored.rsplit(':').next().unwrap()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("v1:k1:{}", BASE64.encode(bytes));
        assert!(matches!(
            cipher.decrypt(&tampered, "c"),
            Err(CryptoError::Undecryptable)
        ));
        assert!(matches!(
            cipher.decrypt("plain", "c"),
            Err(CryptoError::Malformed)
        ));
        assert!(TokenCipher::from_spec("").is_err());
        assert!(TokenCipher::from_spec("k1:c2hvcnQ=").is_err());
        assert!(TokenCipher::from_spec(&format!("k1:{},k1:{}", key(1), key(2))).is_err());
        assert!(TokenCipher::from_spec(&format!("bad id:{}", key(1))).is_err());
    }
}
