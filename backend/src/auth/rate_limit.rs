//! Login and registration attempts, limited per client address and per address and email pair
//! (credential stuffing comes from many addresses at one account, or one address at many
//! accounts); many failures at one account from everywhere slow its answers down instead of
//! locking its owner out.
//! Kept in memory: each replica limits on its own, which bounds the total all the same.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Above this many tracked keys, keys whose buckets are full again are dropped.
const PRUNE_ABOVE: usize = 10_000;

pub struct AttemptLimiter {
    per_ip: DefaultKeyedRateLimiter<String>,
    /// Per address and email: guessing one account's password from one address is limited,
    /// and nobody can lock an account out from elsewhere.
    per_pair: DefaultKeyedRateLimiter<(String, [u8; 16])>,
    /// Failed sign-ins per email, this hour, from every address.
    failures: Mutex<HashMap<[u8; 16], (i64, u32)>>,
}

/// Failures per email and hour before each answer is delayed...
const FAILURES_BEFORE_DELAY: u32 = 100;
/// ... by this much more for every failure past them, up to [`LONGEST_DELAY`].
const DELAY_STEP: Duration = Duration::from_millis(100);
const LONGEST_DELAY: Duration = Duration::from_secs(5);
/// Emails whose failures are counted at once, at most (memory bounded by construction).
const MAX_COUNTED_EMAILS: usize = 100_000;

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// A fixed-size key for an email: the limiter never keeps what a client sent, whatever its size.
fn email_key(normalized_email: &str) -> [u8; 16] {
    let digest = Sha256::digest(normalized_email.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl AttemptLimiter {
    pub fn new(per_ip_per_minute: u32, per_pair_per_minute: u32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(per_minute(per_ip_per_minute)),
            per_pair: RateLimiter::keyed(per_minute(per_pair_per_minute)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// 429 `rate_limited` with the seconds to wait when either limit is exceeded.
    pub fn check(&self, client_ip: &str, normalized_email: &str) -> Result<(), ApiError> {
        if self.per_ip.len() > PRUNE_ABOVE {
            self.per_ip.retain_recent();
        }
        if self.per_pair.len() > PRUNE_ABOVE {
            self.per_pair.retain_recent();
        }
        self.per_ip
            .check_key(&client_ip.to_string())
            .map_err(|not_until| rate_limited(&not_until))?;
        self.per_pair
            .check_key(&(client_ip.to_string(), email_key(normalized_email)))
            .map_err(|not_until| rate_limited(&not_until))
    }

    /// Counts a failed sign-in for the email; returns how long to wait before answering: nothing
    /// up to [`FAILURES_BEFORE_DELAY`] an hour, then a delay that grows to [`LONGEST_DELAY`]. A
    /// delay, not a refusal: the account's owner can still sign in.
    pub fn note_failure(&self, normalized_email: &str, now: i64) -> Duration {
        let hour = now.div_euclid(3_600);
        let mut failures = match self.failures.lock() {
            Ok(failures) => failures,
            Err(poisoned) => poisoned.into_inner(),
        };
        if failures.len() >= MAX_COUNTED_EMAILS {
            failures.retain(|_, (counted_hour, _)| *counted_hour == hour);
        }
        let key = email_key(normalized_email);
        if failures.len() >= MAX_COUNTED_EMAILS && !failures.contains_key(&key) {
            return LONGEST_DELAY;
        }
        let entry = failures.entry(key).or_insert((hour, 0));
        if entry.0 != hour {
            *entry = (hour, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let past = entry.1.saturating_sub(FAILURES_BEFORE_DELAY);
        DELAY_STEP.saturating_mul(past).min(LONGEST_DELAY)
    }
}

/// 429 `rate_limited` with the seconds until the next attempt is allowed.
fn rate_limited(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let retry_after_secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    ApiError::RateLimited {
        code: "rate_limited",
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
        // The pair's budget (2) is spent; the same email from elsewhere is not locked out.
        assert!(limiter.check("1.1.1.1", "a@x.io").is_err());
        assert!(limiter.check("2.2.2.2", "a@x.io").is_ok());
        // The address's budget (3, one of them spent by the refused attempt) is spent too.
        let error = limiter.check("1.1.1.1", "c@x.io").unwrap_err();
        match error {
            ApiError::RateLimited {
                retry_after_secs, ..
            } => assert!((1..=60).contains(&retry_after_secs)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn many_failures_at_one_email_delay_its_answers_more_and_more() {
        let limiter = AttemptLimiter::new(30, 10);
        let hour = 1_700_000_000;
        for _ in 0..FAILURES_BEFORE_DELAY {
            assert_eq!(limiter.note_failure("a@x.io", hour), Duration::ZERO);
        }
        assert_eq!(limiter.note_failure("a@x.io", hour), DELAY_STEP);
        assert_eq!(limiter.note_failure("a@x.io", hour), DELAY_STEP * 2);
        for _ in 0..100 {
            limiter.note_failure("a@x.io", hour);
        }
        assert_eq!(limiter.note_failure("a@x.io", hour), LONGEST_DELAY);
        assert_eq!(
            limiter.note_failure("b@x.io", hour),
            Duration::ZERO,
            "per email"
        );
        assert_eq!(
            limiter.note_failure("a@x.io", hour + 3_600),
            Duration::ZERO,
            "per hour"
        );
    }
}
