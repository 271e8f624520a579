//! How badly `/v1` behaves: a token-bucket rate limit per credential and deterministic fault injection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Faults;
use crate::rng::{hash, unit_of};

struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

/// Token bucket per credential: holds `rate` tokens (so a burst of `rate` requests passes), refills `rate` per
/// second, one token per request.
pub(crate) struct RateLimiter {
    rate: Option<u32>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: Option<u32>) -> Self {
        RateLimiter {
            rate: rate.filter(|&rate| rate > 0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` to wait before a token is available (at least 1, for `Retry-After`).
    pub(crate) fn check(&self, credential: &str, now: Instant) -> Result<(), u64> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let rate = f64::from(rate);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets
            .entry(credential.to_owned())
            .or_insert_with(|| Bucket {
                tokens: rate,
                refilled_at: now,
            });
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// What to do to a body that would be sent with 200.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFault {
    Intact,
    Truncated,
    Malformed,
}

/// The faults drawn for one request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub burst_429: bool,
    pub error_500: bool,
    pub hang: Option<Duration>,
    pub body: BodyFault,
}

const ERROR_SALT: u64 = 1;
const TIMEOUT_SALT: u64 = 2;
const MALFORMED_SALT: u64 = 3;
const TRUNCATED_SALT: u64 = 4;

/// The faults of request number `request` (1-based, counted over `/v1` requests that passed authentication).
pub(crate) fn plan(faults: &Faults, seed: u64, request: u64) -> FaultPlan {
    let draw = |salt: u64| unit_of(hash(&[seed, 0x0066_6175_6c74, salt, request]));
    // Requests N, N+1, ..., N+len-1, then 2N, ... answer 429.
    let burst_429 = faults
        .rate_limit_burst_every
        .filter(|&every| every > 0)
        .is_some_and(|every| {
            let every = u64::from(every);
            request >= every && (request % every) < u64::from(faults.rate_limit_burst_len)
        });
    let body = if draw(MALFORMED_SALT) < faults.malformed_rate {
        BodyFault::Malformed
    } else if draw(TRUNCATED_SALT) < faults.truncated_rate {
        BodyFault::Truncated
    } else {
        BodyFault::Intact
    };
    FaultPlan {
        burst_429,
        error_500: draw(ERROR_SALT) < faults.error_rate,
        hang: (draw(TIMEOUT_SALT) < faults.timeout_rate).then_some(faults.timeout),
        body,
    }
}

/// What a misbehaving proxy might return instead of JSON.
pub(crate) const MALFORMED_BODY: &[u8] =
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";

pub(crate) fn damage(body: Vec<u8>, fault: BodyFault) -> Vec<u8> {
    match fault {
        BodyFault::Intact => body,
        BodyFault::Truncated => {
            let mut body = body;
            body.truncate(body.len() / 2);
            body
        }
        BodyFault::Malformed => MALFORMED_BODY.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_its_rate_then_refills() {
        let limiter = RateLimiter::new(Some(5));
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check("k", start), Ok(()));
        }
        assert_eq!(limiter.check("k", start), Err(1));
        assert_eq!(limiter.check("other", start), Ok(()));
        assert_eq!(
            limiter.check("k", start + Duration::from_millis(250)),
            Ok(())
        );
        assert!(RateLimiter::new(None).check("k", start).is_ok());
    }

    #[test]
    fn faults_are_deterministic_and_honour_rates() {
        let faults = Faults {
            error_rate: 0.25,
            truncated_rate: 0.5,
            ..Faults::default()
        };
        let plans: Vec<_> = (1..=4000).map(|n| plan(&faults, 9, n)).collect();
        assert_eq!(
            plans,
            (1..=4000).map(|n| plan(&faults, 9, n)).collect::<Vec<_>>()
        );
        let errors = plans.iter().filter(|p| p.error_500).count();
        assert!((800..1200).contains(&errors), "{errors}");
        let truncated = plans
            .iter()
            .filter(|p| p.body == BodyFault::Truncated)
            .count();
        assert!((1800..2200).contains(&truncated), "{truncated}");
        assert!(plans.iter().all(|p| !p.burst_429 && p.hang.is_none()));
        assert!((1..1000).all(|n| plan(&Faults::default(), 9, n)
            == FaultPlan {
                burst_429: false,
                error_500: false,
                hang: None,
                body: BodyFault::Intact,
            }));
    }

    #[test]
    fn bursts_start_every_nth_request() {
        let faults = Faults {
            rate_limit_burst_every: Some(10),
            rate_limit_burst_len: 3,
            ..Faults::default()
        };
        let limited: Vec<u64> = (1..=35)
            .filter(|&n| plan(&faults, 1, n).burst_429)
            .collect();
        assert_eq!(limited, vec![10, 11, 12, 20, 21, 22, 30, 31, 32]);
    }

    #[test]
    fn damaged_bodies() {
        let body = br#"{"object":"list","data":[]}"#.to_vec();
        let cut = damage(body.clone(), BodyFault::Truncated);
        assert!(body.starts_with(&cut) && cut.len() < body.len());
        assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
        let junk = damage(body, BodyFault::Malformed);
        assert!(serde_json::from_slice::<serde_json::Value>(&junk).is_err());
    }
}
