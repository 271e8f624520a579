//! Login and registration attempts, limited per client address and per email (credential
//! stuffing comes from many addresses at one account, or one address at many accounts).
//! Kept in memory: each replica limits on its own, which bounds the total all the same.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Above this many tracked keys, keys whose buckets are full again are dropped.
const PRUNE_ABOVE: usize = 10_000;

pub struct AttemptLimiter {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_email: DefaultKeyedRateLimiter<String>,
}

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl AttemptLimiter {
    pub fn new(per_ip_per_minute: u32, per_email_per_minute: u32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(per_minute(per_ip_per_minute)),
            per_email: RateLimiter::keyed(per_minute(per_email_per_minute)),
        }
    }

    /// 429 `rate_limited` with the seconds to wait when either limit is exceeded.
    pub fn check(&self, client_ip: &str, normalized_email: &str) -> Result<(), ApiError> {
        for (limiter, key) in [
            (&self.per_ip, client_ip),
            (&self.per_email, normalized_email),
        ] {
            if limiter.len() > PRUNE_ABOVE {
                limiter.retain_recent();
            }
            limiter
                .check_key(&key.to_string())
                .map_err(|not_until| rate_limited(&not_until))?;
        }
        Ok(())
    }
}

/// 429 `rate_limited` with the seconds until the next attempt is allowed.
fn rate_limited(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let retry_after_secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    ApiError::RateLimited {
        retry_after_secs,
        message: format!("Too many attempts; try again in {retry_after_secs} seconds."),
    }
}

/// Attempts per signed-in user and minute, for calls that would otherwise answer questions for
/// free (whether an API key is valid at the provider). Keyed by user id: the memory it keeps is
/// bounded by the number of users.
pub struct PerUserLimiter {
    per_user: governor::DefaultKeyedRateLimiter<i64>,
}

impl PerUserLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_user: RateLimiter::keyed(self::per_minute(per_minute)),
        }
    }

    pub fn check(&self, user: i64) -> Result<(), ApiError> {
        if self.per_user.len() > PRUNE_ABOVE {
            self.per_user.retain_recent();
        }
        self.per_user
            .check_key(&user)
            .map_err(|not_until| rate_limited(&not_until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget() {
        let limiter = AttemptLimiter::new(3, 2);
        assert!(limiter.check("1.1.1.1", "a@x.io").is_ok());
        assert!(limiter.check("1.1.1.1", "a@x.io").is_ok());
        // The email's budget (2) is spent, whatever the address.
        assert!(limiter.check("2.2.2.2", "a@x.io").is_err());
        assert!(limiter.check("1.1.1.1", "b@x.io").is_ok());
        // The address's budget (3, one of them spent by the refused attempt) is spent too.
        let error = limiter.check("1.1.1.1", "c@x.io").unwrap_err();
        match error {
            ApiError::RateLimited {
                retry_after_secs, ..
            } => assert!((1..=60).contains(&retry_after_secs)),
            other => panic!("unexpected {other:?}"),
        }
    }
}
