//! GA's property quotas: tokens per hour and per day, and concurrent requests.
//!
//! Each `runReport` costs `1 + rows_returned / 1000` tokens (integer division: 1 token up to 999 rows in the
//! response, 2 up to 1,999, ...), charged only when it is answered 200. A request that would take the hour's
//! or the day's consumption past the budget is refused with 429 and costs nothing. Hours and days are those of
//! the sandbox's clock (UTC boundaries of `Clock::unix_now`), so `Sandbox::advance_clock` by an hour starts a
//! new hourly budget. Quotas are kept per property.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

/// GA's standard property: 40,000 tokens per hour, 200,000 per day.
const STANDARD_TOKENS_PER_HOUR: u64 = 40_000;
/// The daily budget is five hourly budgets, GA's ratio.
const DAYS_PER_HOUR_RATIO: u64 = 5;
/// Requests in flight at once on one property (standard properties).
pub(crate) const CONCURRENT_REQUESTS: u64 = 10;
const SERVER_ERRORS_PER_HOUR: u64 = 10;
const THRESHOLDED_REQUESTS_PER_HOUR: u64 = 120;

/// The cost in tokens of a response carrying `rows` rows.
pub(crate) fn cost(rows: usize) -> u64 {
    1 + rows as u64 / 1000
}

#[derive(Clone, Copy, Default)]
struct Usage {
    hour: i64,
    tokens_this_hour: u64,
    thresholded_this_hour: u64,
    day: i64,
    tokens_today: u64,
}

/// Which budget a request would overrun.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exhausted {
    Hour,
    Day,
}

impl Exhausted {
    pub(crate) fn message(&self) -> &'static str {
        match self {
            Exhausted::Hour => "Exhausted property tokens per hour for this project. Tokens are restored at the start of the next hour (on the sandbox's clock).",
            Exhausted::Day => "Exhausted property tokens per day for this project. Tokens are restored at the start of the next day (UTC, on the sandbox's clock).",
        }
    }
}

pub(crate) struct Quota {
    tokens_per_hour: u64,
    tokens_per_day: u64,
    usage: Mutex<Vec<Usage>>,
}

impl Quota {
    /// `tokens_per_hour`: `None` for GA's standard budgets; the daily budget is always five hourly ones.
    pub(crate) fn new(properties: usize, tokens_per_hour: Option<u32>) -> Self {
        let tokens_per_hour = tokens_per_hour.map_or(STANDARD_TOKENS_PER_HOUR, u64::from);
        Quota {
            tokens_per_hour,
            tokens_per_day: tokens_per_hour * DAYS_PER_HOUR_RATIO,
            usage: Mutex::new(vec![Usage::default(); properties]),
        }
    }

    fn usage(&self) -> MutexGuard<'_, Vec<Usage>> {
        self.usage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Charges `cost` tokens to `property` at `now` (unix seconds), or says which budget it would overrun.
    /// Returns the `propertyQuota` to report.
    pub(crate) fn charge(
        &self,
        property: usize,
        now: i64,
        cost: u64,
        thresholded: bool,
    ) -> Result<Value, Exhausted> {
        let mut all = self.usage();
        let Some(usage) = all.get_mut(property) else {
            return Err(Exhausted::Hour);
        };
        let (hour, day) = (now.div_euclid(3600), now.div_euclid(86_400));
        if usage.hour != hour {
            usage.hour = hour;
            usage.tokens_this_hour = 0;
            usage.thresholded_this_hour = 0;
        }
        if usage.day != day {
            usage.day = day;
            usage.tokens_today = 0;
        }
        if usage.tokens_this_hour + cost > self.tokens_per_hour {
            return Err(Exhausted::Hour);
        }
        if usage.tokens_today + cost > self.tokens_per_day {
            return Err(Exhausted::Day);
        }
        usage.tokens_this_hour += cost;
        usage.tokens_today += cost;
        usage.thresholded_this_hour += u64::from(thresholded);
        let status =
            |consumed: u64, remaining: u64| json!({ "consumed": consumed, "remaining": remaining });
        let hour_left = self.tokens_per_hour - usage.tokens_this_hour;
        Ok(json!({
            "tokensPerDay": status(cost, self.tokens_per_day - usage.tokens_today),
            "tokensPerHour": status(cost, hour_left),
            // Released as soon as the request is answered, as GA reports it.
            "concurrentRequests": status(0, CONCURRENT_REQUESTS),
            "serverErrorsPerProjectPerHour": status(0, SERVER_ERRORS_PER_HOUR),
            "potentiallyThresholdedRequestsPerHour": status(
                u64::from(thresholded),
                THRESHOLDED_REQUESTS_PER_HOUR.saturating_sub(usage.thresholded_this_hour),
            ),
            // The sandbox knows one project: it may use the property's whole hourly budget.
            "tokensPerProjectPerHour": status(cost, hour_left),
        }))
    }
}

/// `runReport` requests in flight per property, and the most there ever were on one property.
pub(crate) struct Concurrency {
    in_flight: Vec<AtomicU64>,
    peak: AtomicU64,
}

/// Holds a property's in-flight slot until dropped.
pub(crate) struct Slot<'a> {
    counter: &'a AtomicU64,
    /// How many were in flight on the property with this one.
    pub(crate) count: u64,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Concurrency {
    pub(crate) fn new(properties: usize) -> Self {
        Concurrency {
            in_flight: (0..properties).map(|_| AtomicU64::new(0)).collect(),
            peak: AtomicU64::new(0),
        }
    }

    pub(crate) fn enter(&self, property: usize) -> Option<Slot<'_>> {
        let counter = self.in_flight.get(property)?;
        let count = counter.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(count, Ordering::AcqRel);
        Some(Slot { counter, count })
    }

    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_START: i64 = 1_767_225_600;

    #[test]
    fn hourly_budget_resets_on_the_hour_and_daily_after_five_hours() {
        let quota = Quota::new(2, Some(3));
        assert!(quota.charge(0, HOUR_START, 2, false).is_ok());
        assert_eq!(
            quota.charge(0, HOUR_START + 10, 2, false).err(),
            Some(Exhausted::Hour)
        );
        let report = quota
            .charge(0, HOUR_START + 10, 1, true)
            .unwrap_or_default();
        assert_eq!(
            report["tokensPerHour"],
            json!({"consumed": 1, "remaining": 0})
        );
        assert_eq!(
            report["tokensPerDay"],
            json!({"consumed": 1, "remaining": 12})
        );
        assert_eq!(
            report["potentiallyThresholdedRequestsPerHour"]["consumed"],
            1
        );
        assert!(
            quota.charge(1, HOUR_START, 3, false).is_ok(),
            "per property"
        );
        for hour in 1..5 {
            assert!(quota.charge(0, HOUR_START + hour * 3600, 3, false).is_ok());
        }
        assert_eq!(
            quota.charge(0, HOUR_START + 5 * 3600, 1, false).err(),
            Some(Exhausted::Day)
        );
        assert!(quota.charge(0, HOUR_START + 86_400, 3, false).is_ok());
    }

    #[test]
    fn costs_grow_by_the_thousand_rows() {
        assert_eq!([cost(0), cost(999), cost(1000), cost(2500)], [1, 1, 2, 3]);
    }

    #[test]
    fn slots_count_and_release() {
        let concurrency = Concurrency::new(1);
        let first = concurrency.enter(0);
        let second = concurrency.enter(0);
        assert_eq!(
            (first.map(|slot| slot.count), second.map(|slot| slot.count)),
            (Some(1), Some(2))
        );
        assert_eq!(
            concurrency.enter(0).map(|slot| slot.count),
            Some(1),
            "released"
        );
        assert_eq!(concurrency.peak(), 2);
        assert!(concurrency.enter(1).is_none());
    }
}
