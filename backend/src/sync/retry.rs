//! How long to wait before trying a page again: exponential backoff with jitter, or the
//! provider's `Retry-After` when it gives one; a bounded number of attempts.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): `base * 2^(attempt-1)`,
    /// capped, then scaled by a random factor in [0.5, 1.5) so that clients do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.cap);
        let jitter = 0.5 + random_unit();
        exponential.mul_f64(jitter)
    }

    /// The provider's `Retry-After` wins when it is given (plus a little jitter).
    pub fn wait_after_rate_limit(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait + self.base.mul_f64(random_unit()),
            None => self.backoff(attempt),
        }
    }
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 8,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        };
        for attempt in 1..=10 {
            let expected =
                (Duration::from_millis(100) * 2u32.pow(attempt - 1)).min(Duration::from_secs(2));
            let wait = policy.backoff(attempt);
            assert!(
                wait >= expected.mul_f64(0.5) && wait < expected.mul_f64(1.5),
                "{attempt}: {wait:?}"
            );
        }
        let told = policy.wait_after_rate_limit(1, Some(Duration::from_secs(3)));
        assert!(told >= Duration::from_secs(3) && told < Duration::from_millis(3100));
    }
}
