//! What one connection may ask of its provider, shared by every object syncing for it in this
//! process: a token bucket at the provider's rate, a bound on requests in flight, a pause the
//! provider asked for, and how many backfill windows walk at once. One walk sends one request at a time,
//! so `rate x latency` walks keep the rate busy; a walk splits its window only while fewer run.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::domain::ConnectionId;

#[derive(Default)]
pub struct ConnectionLimiters {
    budgets: Mutex<HashMap<(ConnectionId, u32, usize), Arc<ConnectionBudget>>>,
}

impl ConnectionLimiters {
    pub fn budget(
        &self,
        connection: ConnectionId,
        per_second: u32,
        concurrent: usize,
    ) -> Arc<ConnectionBudget> {
        let concurrent = concurrent.clamp(1, Semaphore::MAX_PERMITS);
        let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let mut budgets = match self.budgets.lock() {
            Ok(budgets) => budgets,
            Err(poisoned) => poisoned.into_inner(),
        };
        budgets
            .entry((connection, per_second.get(), concurrent))
            .or_insert_with(|| Arc::new(ConnectionBudget::new(per_second, concurrent)))
            .clone()
    }
}

pub struct ConnectionBudget {
    pub bucket: DefaultDirectRateLimiter,
    per_second: u32,
    /// Backfill windows being walked now.
    walks: AtomicUsize,
    /// A moving average of the provider's answer time, microseconds (0: none measured yet).
    latency_micros: AtomicU64,
    /// The oldest `created` of any kind whose history was read to its start (`i64::MAX`: none).
    history_start: AtomicI64,
    /// Requests in flight for this connection.
    in_flight: Semaphore,
    /// No request before this (the provider asked to slow down).
    paused_until: Mutex<Option<Instant>>,
}

impl ConnectionBudget {
    fn new(per_second: NonZeroU32, concurrent: usize) -> Self {
        Self {
            in_flight: Semaphore::new(concurrent),
            paused_until: Mutex::new(None),
            bucket: RateLimiter::direct(Quota::per_second(per_second)),
            per_second: per_second.get(),
            walks: AtomicUsize::new(0),
            latency_micros: AtomicU64::new(0),
            history_start: AtomicI64::new(i64::MAX),
        }
    }

    /// A place for one request in flight (held while it is answered).
    pub async fn request_slot(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed: `None` cannot happen, and would only lift the bound.
        self.in_flight.acquire().await.ok()
    }

    /// No request of this connection for `wait` from now.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = match self.paused_until.lock() {
            Ok(paused) => paused,
            Err(poisoned) => poisoned.into_inner(),
        };
        *paused = Some(paused.map_or(until, |current| current.max(until)));
    }

    /// How long requests must still wait, if the provider asked for a pause.
    pub fn paused_for(&self) -> Option<Duration> {
        let paused = match self.paused_until.lock() {
            Ok(paused) => *paused,
            Err(poisoned) => *poisoned.into_inner(),
        };
        paused
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|wait| !wait.is_zero())
    }

    /// Records how long the provider took to answer one request.
    pub fn record_latency(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // Races between updates lose a sample at worst: it is an estimate.
        let average = self.latency_micros.load(Ordering::Relaxed);
        let updated = if average == 0 {
            sample
        } else {
            average - average / 8 + sample / 8
        };
        self.latency_micros.store(updated.max(1), Ordering::Relaxed);
    }

    /// A walk read one kind's history down to its first object, created at `oldest`.
    pub fn note_history_start(&self, oldest: i64) {
        self.history_start.fetch_min(oldest, Ordering::AcqRel);
    }

    /// The oldest object of this connection known so far: where other kinds' histories probably
    /// start too.
    pub fn history_start(&self) -> Option<i64> {
        Some(self.history_start.load(Ordering::Acquire)).filter(|start| *start != i64::MAX)
    }

    /// How many walks keep the rate busy: `rate x latency`, with headroom for the time pages take
    /// to store and for latency spikes, between 1 and `max_walks`.
    pub fn wanted_walks(&self, max_walks: usize) -> usize {
        wanted_walks(
            self.per_second,
            Duration::from_micros(self.latency_micros.load(Ordering::Relaxed)),
            max_walks,
        )
    }

    /// A place for one more walk (the windows a run starts with always get one).
    pub fn walk(self: &Arc<Self>) -> WalkSlot {
        self.walks.fetch_add(1, Ordering::AcqRel);
        WalkSlot(self.clone())
    }

    /// A place for one more walk if fewer than the wanted number run.
    pub fn extra_walk(self: &Arc<Self>, max_walks: usize) -> Option<WalkSlot> {
        let wanted = self.wanted_walks(max_walks);
        self.walks
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |walks| {
                (walks < wanted).then_some(walks + 1)
            })
            .ok()
            .map(|_| WalkSlot(self.clone()))
    }
}

/// Held by a running walk; gives its place back when dropped.
pub struct WalkSlot(Arc<ConnectionBudget>);

impl Drop for WalkSlot {
    fn drop(&mut self) {
        self.0.walks.fetch_sub(1, Ordering::AcqRel);
    }
}

fn wanted_walks(per_second: u32, latency: Duration, max_walks: usize) -> usize {
    let busy = f64::from(per_second) * latency.as_secs_f64() * 1.5;
    // Float to integer casts saturate; `busy` is finite and not negative.
    let wanted = busy.ceil() as usize + 1;
    wanted.clamp(1, max_walks.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_walks_to_keep_the_rate_busy() {
        // 25 requests/s at 100 ms: 2.5 requests in flight on average, plus headroom.
        assert_eq!(wanted_walks(25, Duration::from_millis(100), 16), 5);
        assert_eq!(wanted_walks(100, Duration::from_millis(300), 16), 16);
        assert_eq!(wanted_walks(25, Duration::ZERO, 16), 1);
        assert_eq!(wanted_walks(25, Duration::from_millis(1), 16), 2);
        assert_eq!(wanted_walks(25, Duration::from_secs(3600), 0), 1);
    }

    #[test]
    fn extra_walks_stop_at_the_wanted_number_and_come_back() {
        let limiters = ConnectionLimiters::default();
        let budget = limiters.budget(ConnectionId(1), 25, 25);
        budget.record_latency(Duration::from_millis(100));
        let first = budget.walk();
        let extra: Vec<WalkSlot> = std::iter::from_fn(|| budget.extra_walk(16)).collect();
        assert_eq!(extra.len(), 4, "five walks in all");
        assert!(budget.extra_walk(16).is_none());
        drop(first);
        assert!(
            budget.extra_walk(16).is_some(),
            "a finished walk frees its place"
        );
        assert!(Arc::ptr_eq(
            &budget,
            &limiters.budget(ConnectionId(1), 25, 25)
        ));
    }
}
