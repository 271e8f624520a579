//! The clock codes and tokens expire by, and Google Analytics quota hours and days are counted on. Tests move
//! it forward instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    skew_ms: AtomicU64,
    started: Instant,
    /// Unix seconds the clock reads when the sandbox starts: the data's "now", so that tests which pin it
    /// also pin where the quota's hour and day boundaries fall.
    start_unix: i64,
}

impl Clock {
    pub(crate) fn new(start_unix: i64) -> Self {
        Clock {
            skew_ms: AtomicU64::new(0),
            started: Instant::now(),
            start_unix,
        }
    }

    fn skew(&self) -> Duration {
        Duration::from_millis(self.skew_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.skew()
    }

    /// Wall time in unix seconds: the start time, plus the time elapsed since, plus every advance.
    pub(crate) fn unix_now(&self) -> i64 {
        let elapsed = self.started.elapsed() + self.skew();
        self.start_unix
            .saturating_add(i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
    }

    pub(crate) fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.skew_ms.fetch_add(millis, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_starts_at_the_given_instant_and_moves_with_advances() {
        let clock = Clock::new(1_767_225_600);
        assert!((1_767_225_600..1_767_225_605).contains(&clock.unix_now()));
        clock.advance(Duration::from_secs(3600));
        assert!((1_767_229_200..1_767_229_205).contains(&clock.unix_now()));
    }
}
