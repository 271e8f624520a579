//! Stripe's webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, each `v1`
//! an HMAC-SHA256 of `"<t>.<raw body>"` under an endpoint's signing secret. While a secret is
//! rolled Stripe signs with both, so any `v1` matching any current secret is enough.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Signatures older (or further ahead) than this are refused: a captured delivery cannot be
/// replayed later.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header is not t=...,v1=...")]
    Malformed,
    #[error("the signature's timestamp is more than 5 minutes away")]
    Stale,
    #[error("no signature matches the endpoint's secret")]
    Mismatch,
}

/// Checks a delivery; `now` is the server's time (unix seconds).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            // Only v1 is a real signature: v0 is a test scheme Stripe's libraries ignore.
            "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        let expected = sign(secret, timestamp, body);
        // Every candidate is compared in full: how long this takes says nothing of the secret.
        let matched = signatures.iter().fold(false, |any, signature| {
            any | bool::from(signature.ct_eq(&expected))
        });
        if matched {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The `v1` signature of a body at `timestamp` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// A `Stripe-Signature` header value (for tests and tools that deliver events).
pub fn header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(",v1=");
        value.push_str(&hex::encode(sign(secret, timestamp, body)));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    #[test]
    fn a_signature_of_the_exact_body_within_five_minutes_passes() {
        let signed = header(&["whsec_a"], NOW - 10, BODY);
        assert_eq!(verify(Some(&signed), BODY, &["whsec_a"], NOW), Ok(()));
        assert_eq!(
            verify(
                Some(&signed),
                br#"{"id":"evt_2","object":"event"}"#,
                &["whsec_a"],
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&signed), BODY, &["whsec_other"], NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn old_missing_and_garbled_signatures_are_refused() {
        let old = header(&["whsec_a"], NOW - TOLERANCE_SECS - 1, BODY);
        assert_eq!(
            verify(Some(&old), BODY, &["whsec_a"], NOW),
            Err(SignatureError::Stale)
        );
        let ahead = header(&["whsec_a"], NOW + TOLERANCE_SECS + 1, BODY);
        assert_eq!(
            verify(Some(&ahead), BODY, &["whsec_a"], NOW),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(None, BODY, &["whsec_a"], NOW),
            Err(SignatureError::Missing)
        );
        for garbled in [
            "",
            "t=abc,v1=00",
            "v1=00",
            &format!("t={NOW}"),
            &format!("t={NOW},v1=zz"),
        ] {
            assert_eq!(
                verify(Some(garbled), BODY, &["whsec_a"], NOW),
                Err(SignatureError::Malformed),
                "{garbled}"
            );
        }
    }

    #[test]
    fn during_a_secret_roll_either_secret_and_either_signature_passes() {
        let both = header(&["whsec_old", "whsec_new"], NOW, BODY);
        assert_eq!(verify(Some(&both), BODY, &["whsec_new"], NOW), Ok(()));
        assert_eq!(verify(Some(&both), BODY, &["whsec_old"], NOW), Ok(()));
        let new_only = header(&["whsec_new"], NOW, BODY);
        assert_eq!(
            verify(Some(&new_only), BODY, &["whsec_old", "whsec_new"], NOW),
            Ok(())
        );
        let with_v0 = format!("{new_only},v0=deadbeef");
        assert_eq!(verify(Some(&with_v0), BODY, &["whsec_new"], NOW), Ok(()));
    }
}
