//! Computed series, kept until the data under them changes. The key holds the object's sync job
//! and its data version (bumped with every page that writes objects), read from the database on
//! every request in one statement, so a cached answer is never older than the data, on any
//! replica. Dashboards re-read the same windows again and again; they are answered without
//! aggregating.

use std::sync::Arc;

use allmetrics_common::Series;

use crate::db::versions::JobVersion;
use crate::monitoring::CacheInstruments;

/// What of its object a series needs stored to be complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Everything created since this instant: the series is bucketed by `created`.
    CreatedSince(i64),
    /// The whole history: bucketed by another date field, the window says nothing about
    /// `created`, so only a finished backfill is complete.
    Everything,
}

/// A computed series, without what changes when a sync run stores nothing: when the object last
/// synced and how much of its history is stored are filled in from the job on every answer.
#[derive(Debug, Clone)]
pub struct CachedSeries {
    pub series: Series,
    pub coverage: Coverage,
    /// What it takes in memory, estimated once.
    pub bytes: u64,
}

impl CachedSeries {
    pub fn new(series: Series, coverage: Coverage) -> Self {
        let text = |text: &String| 24 + text.len();
        let bytes = 512
            + series.keys.iter().map(text).sum::<usize>()
            + series.label_x.iter().map(text).sum::<usize>()
            + 8 * series.label_y.len()
            + series
                .label_z
                .iter()
                .map(|(name, values)| 64 + text(name) + 8 * values.len())
                .sum::<usize>();
        Self {
            series,
            coverage,
            bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
        }
    }

    /// The series as of the job's current state.
    pub fn as_of(&self, job: Option<&JobVersion>) -> Series {
        let mut series = self.series.clone();
        series.meta.synced_at = job
            .and_then(|job| job.last_synced_at)
            .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
            .map(|at| at.to_rfc3339());
        let complete = job.is_some_and(|job| match self.coverage {
            Coverage::CreatedSince(from) => job.has_stored_from(from),
            Coverage::Everything => job.backfill_done,
        });
        series.meta.partial = !complete;
        series
    }
}

/// The series cache: bounded by the memory its entries take (keys and series, estimated), not
/// by their number, since a series of one group and one of a hundred differ a hundredfold.
/// Entries are shared: a hit clones a pointer, never a series under a lock.
pub struct SeriesCache {
    entries: quick_cache::sync::Cache<String, Arc<CachedSeries>, Weight>,
    /// Hits, misses and size, for the metrics.
    instruments: Option<CacheInstruments>,
}

/// The estimated bytes of an entry.
#[derive(Clone)]
pub struct Weight;

impl quick_cache::Weighter<String, Arc<CachedSeries>> for Weight {
    fn weight(&self, key: &String, series: &Arc<CachedSeries>) -> u64 {
        (key.len() as u64).saturating_add(series.bytes)
    }
}

impl SeriesCache {
    /// A cache of at most `bytes`; 0 keeps nothing.
    pub fn new(bytes: u64) -> Self {
        Self {
            // quick_cache sizes its tables from the expected number of entries.
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 16_384)
                    .unwrap_or(usize::MAX)
                    .max(16),
                bytes.max(1),
                Weight,
            ),
            instruments: None,
        }
    }

    /// A cache that counts its hits, misses and entries.
    pub fn instrumented(bytes: u64, instruments: CacheInstruments) -> Self {
        Self {
            instruments: Some(instruments),
            ..Self::new(bytes)
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedSeries>> {
        let found = self.entries.get(key);
        if let Some(instruments) = &self.instruments {
            match found {
                Some(_) => instruments.hits.inc(),
                None => instruments.misses.inc(),
            }
        }
        found
    }

    /// Keeps the series; past capacity the least useful entries go.
    pub fn put(&self, key: String, series: CachedSeries) {
        let series = Arc::new(series);
        if quick_cache::Weighter::weight(&Weight, &key, &series) > self.entries.capacity() {
            return;
        }
        self.entries.insert(key, series);
        if let Some(instruments) = &self.instruments {
            instruments
                .entries
                .set(i64::try_from(self.entries.len()).unwrap_or(i64::MAX));
        }
    }

    /// The estimated bytes held.
    pub fn weight(&self) -> u64 {
        self.entries.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(records: u64, groups: usize) -> CachedSeries {
        CachedSeries::new(
            Series {
                keys: vec![],
                label_x: vec!["2026-01-01".into(); 30],
                label_y: vec![0.0; 30],
                label_z: (0..groups)
                    .map(|g| (format!("g{g}"), vec![0.0; 30]))
                    .collect(),
                meta: allmetrics_common::SeriesMeta {
                    records,
                    from: String::new(),
                    to: String::new(),
                    tz: "UTC".into(),
                    synced_at: None,
                    partial: false,
                    source_tz: None,
                    currency: None,
                    sampled: None,
                    interval: "day".into(),
                    groups_folded: 0,
                    kind: None,
                },
            },
            Coverage::Everything,
        )
    }

    #[test]
    fn the_cache_holds_bytes_not_entries() {
        let large = series(1, 100);
        let small = series(2, 1);
        assert!(
            large.bytes > 20 * small.bytes / 2,
            "{} {}",
            large.bytes,
            small.bytes
        );
        let cache = SeriesCache::new(40 * large.bytes);
        for key in 0..1000 {
            cache.put(format!("k{key}"), series(key, 100));
        }
        assert!(
            cache.weight() <= 40 * large.bytes + 1000,
            "{}",
            cache.weight()
        );
        // Too large to keep at all.
        let tiny = SeriesCache::new(small.bytes / 2);
        tiny.put("a".into(), small.clone());
        assert!(tiny.get("a").is_none());
        let roomy = SeriesCache::new(1 << 20);
        roomy.put("b".into(), small);
        assert_eq!(roomy.get("b").unwrap().series.meta.records, 2);
    }
}
