//! At most a few series computed at once per user: a computation holds a database connection
//! and a core for up to the statement timeout, so one user's burst of uncached charts (a script
//! walking `end` back through the years) must not take them all. Cache hits are not counted.
//! Only the users computing right now have an entry.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::UserId;
use crate::error::ApiError;

pub struct ComputationLimiter {
    per_user: usize,
    running: Mutex<HashMap<UserId, usize>>,
}

/// One computation under way; dropping it (done, failed or abandoned) frees its place.
pub struct ComputationPermit<'a> {
    limiter: &'a ComputationLimiter,
    user: UserId,
}

impl ComputationLimiter {
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user: per_user.max(1),
            running: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        match self.running.lock() {
            Ok(running) => running,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A place for one more computation of `user`, or 429 `too_many_queries`.
    pub fn start(&self, user: UserId) -> Result<ComputationPermit<'_>, ApiError> {
        let mut running = self.lock();
        let count = running.entry(user).or_insert(0);
        if *count >= self.per_user {
            return Err(ApiError::RateLimited {
                code: "too_many_queries",
                retry_after_secs: 1,
                message: format!(
                    "{} charts of yours are being computed already; this one can start when \
                     one of them is done.",
                    self.per_user
                ),
            });
        }
        *count += 1;
        Ok(ComputationPermit {
            limiter: self,
            user,
        })
    }

    /// Users with a computation under way (for tests of the bound).
    pub fn users_computing(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for ComputationPermit<'_> {
    fn drop(&mut self) {
        let mut running = self.limiter.lock();
        if let Some(count) = running.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_at_once_per_user_and_nothing_kept_after() {
        let limiter = ComputationLimiter::new(2);
        let first = limiter.start(UserId(1)).unwrap();
        let second = limiter.start(UserId(1)).unwrap();
        let refused = limiter.start(UserId(1)).err().unwrap();
        assert_eq!(refused.code(), "too_many_queries");
        // Another user is not held up.
        let other = limiter.start(UserId(2)).unwrap();
        drop(first);
        let third = limiter.start(UserId(1)).unwrap();
        drop((second, third, other));
        assert_eq!(limiter.users_computing(), 0);
    }
}
