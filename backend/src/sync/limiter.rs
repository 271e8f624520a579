//! One token bucket per connection, at the provider's rate (Stripe: 25 requests/s in test mode,
//! 100 in live mode), shared by every object syncing for that connection in this process.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::domain::ConnectionId;

#[derive(Default)]
pub struct ConnectionLimiters {
    buckets: Mutex<HashMap<(ConnectionId, u32), Arc<DefaultDirectRateLimiter>>>,
}

impl ConnectionLimiters {
    pub fn bucket(
        &self,
        connection: ConnectionId,
        per_second: u32,
    ) -> Arc<DefaultDirectRateLimiter> {
        let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        buckets
            .entry((connection, per_second.get()))
            .or_insert_with(|| Arc::new(RateLimiter::direct(Quota::per_second(per_second))))
            .clone()
    }
}
