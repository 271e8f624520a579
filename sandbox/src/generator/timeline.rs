//! When objects are created: a density over the two years before `now`, with growth (recent days carry more
//! objects) and weekly seasonality (fewer on weekends), plus a little day-to-day noise.
//!
//! Objects are placed by quantile: object `i` of `n` sits at `F⁻¹((i + jitter) / n)` where `F` is the
//! cumulative density and `jitter ∈ [0, 1)`. Quantiles increase strictly with `i`, so `created` never
//! decreases with the index, and "how many were created before t" is a binary search over the index.

use crate::rng::{hash, unit_of};

pub(crate) const DAY: i64 = 86_400;
/// The data covers this many days before `now`.
pub(crate) const SPAN_DAYS: i64 = 730;
/// The last day carries this many times the objects of the first (before seasonality).
pub(crate) const GROWTH: f64 = 3.0;
/// Data goes on this many days after `now`: the future the clock unfolds.
pub(crate) const HORIZON_DAYS: i64 = 1095;
const NOISE_SALT: u64 = 0x7469_6d65;

/// Relative activity by weekday, Sunday first.
const WEEKDAY_WEIGHT: [f64; 7] = [0.5, 1.05, 1.0, 1.0, 1.0, 0.95, 0.6];

struct Bucket {
    from: i64,
    to: i64,
    cum_before: f64,
    weight: f64,
}

pub(crate) struct Timeline {
    buckets: Vec<Bucket>,
    total: f64,
}

/// 0 = Sunday.
pub(crate) fn weekday(t: i64) -> usize {
    // 1970-01-01 was a Thursday.
    (t.div_euclid(DAY) + 4).rem_euclid(7) as usize
}

impl Timeline {
    /// Buckets are UTC days clipped to `[start, end)`; activity grows `GROWTH`-fold from start to end.
    pub(crate) fn new(seed: u64, start: i64, end: i64) -> Self {
        Timeline::build(seed, start, end, None)
    }

    /// Buckets over `[start, end)` at a steady `level` of activity (the business after the generated past
    /// keeps the rate of its last day).
    pub(crate) fn steady(seed: u64, start: i64, end: i64, level: f64) -> Self {
        Timeline::build(seed, start, end, Some(level))
    }

    fn build(seed: u64, start: i64, end: i64, level: Option<f64>) -> Self {
        let mut buckets = Vec::with_capacity(((end - start).max(0) / DAY + 2) as usize);
        let mut total = 0.0;
        let span = (end - start).max(1) as f64;
        let mut from = start;
        while from < end {
            let day = from.div_euclid(DAY);
            let to = ((day + 1) * DAY).min(end);
            let middle = (from + to) as f64 / 2.0;
            let growth =
                level.unwrap_or_else(|| (GROWTH.ln() * (middle - start as f64) / span).exp());
            let noise = 0.9 + 0.2 * unit_of(hash(&[seed, NOISE_SALT, day as u64]));
            let covered = (to - from) as f64 / DAY as f64;
            let weight = growth * WEEKDAY_WEIGHT[weekday(from)] * noise * covered;
            buckets.push(Bucket {
                from,
                to,
                cum_before: total,
                weight,
            });
            total += weight;
            from = to;
        }
        Timeline { buckets, total }
    }

    /// The sum of the buckets' weights (objects per unit of weight are the same on every timeline).
    pub(crate) fn total_weight(&self) -> f64 {
        self.total
    }

    /// The time at quantile `u ∈ [0, 1)`; never decreases as `u` grows.
    pub(crate) fn time_at(&self, u: f64) -> i64 {
        let target = u.clamp(0.0, 1.0) * self.total;
        let position = self
            .buckets
            .partition_point(|bucket| bucket.cum_before + bucket.weight <= target);
        let Some(bucket) = self.buckets.get(position).or(self.buckets.last()) else {
            return 0;
        };
        let fraction = if bucket.weight > 0.0 {
            ((target - bucket.cum_before) / bucket.weight).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let offset = (fraction * (bucket.to - bucket.from) as f64) as i64;
        (bucket.from + offset).clamp(bucket.from, bucket.to - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    #[test]
    fn quantiles_are_monotonic_and_bounded() {
        let start = NOW - SPAN_DAYS * DAY + 1234;
        let timeline = Timeline::new(7, start, NOW);
        let mut previous = i64::MIN;
        for step in 0..100_000 {
            let t = timeline.time_at(step as f64 / 100_000.0);
            assert!(t >= previous);
            assert!((start..NOW).contains(&t));
            previous = t;
        }
        assert_eq!(timeline.time_at(0.0), start);
        assert!(timeline.time_at(0.999_999_999) < NOW);
    }

    #[test]
    fn weekends_are_quieter_and_recent_days_busier() {
        let start = NOW - SPAN_DAYS * DAY;
        let timeline = Timeline::new(7, start, NOW);
        let mut per_weekday = [0u32; 7];
        let (mut first_quarter, mut last_quarter) = (0, 0);
        for step in 0..200_000 {
            let t = timeline.time_at(step as f64 / 200_000.0);
            per_weekday[weekday(t)] += 1;
            if t < start + SPAN_DAYS * DAY / 4 {
                first_quarter += 1;
            } else if t >= NOW - SPAN_DAYS * DAY / 4 {
                last_quarter += 1;
            }
        }
        assert!(per_weekday[0] * 3 < per_weekday[2] * 2, "{per_weekday:?}");
        assert!(per_weekday[6] * 3 < per_weekday[3] * 2, "{per_weekday:?}");
        assert!(
            last_quarter > first_quarter * 2,
            "{first_quarter} vs {last_quarter}"
        );
    }

    #[test]
    fn weekday_of_known_dates() {
        assert_eq!(weekday(0), 4); // Thursday
        assert_eq!(weekday(NOW), 4); // 2026-01-01 is a Thursday
        assert_eq!(weekday(NOW + 2 * DAY), 6);
    }
}
