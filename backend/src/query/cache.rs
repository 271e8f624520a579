//! Computed series, kept until the data under them changes. The key holds the object's sync job
//! and its data version (bumped with every page that writes objects), read from the database on
//! every request in one statement, so a cached answer is never older than the data, on any
//! replica. Dashboards re-read the same windows again and again; they are answered without
//! aggregating.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

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
}

impl CachedSeries {
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

pub struct SeriesCache {
    capacity: usize,
    entries: Mutex<(HashMap<String, CachedSeries>, VecDeque<String>)>,
    /// Hits, misses and size, for the metrics.
    instruments: Option<CacheInstruments>,
}

impl SeriesCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new((HashMap::new(), VecDeque::new())),
            instruments: None,
        }
    }

    /// A cache that counts its hits, misses and entries.
    pub fn instrumented(capacity: usize, instruments: CacheInstruments) -> Self {
        Self {
            instruments: Some(instruments),
            ..Self::new(capacity)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, CachedSeries>, VecDeque<String>)> {
        match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn get(&self, key: &str) -> Option<CachedSeries> {
        let found = self.lock().0.get(key).cloned();
        if let Some(instruments) = &self.instruments {
            match found {
                Some(_) => instruments.hits.inc(),
                None => instruments.misses.inc(),
            }
        }
        found
    }

    /// Keeps the series; past capacity the oldest entry goes.
    pub fn put(&self, key: String, series: CachedSeries) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.lock();
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), series).is_none() {
            order.push_back(key);
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(oldest) => {
                    map.remove(&oldest);
                }
                None => break,
            }
        }
        if let Some(instruments) = &self.instruments {
            instruments
                .entries
                .set(i64::try_from(map.len()).unwrap_or(i64::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(records: u64) -> CachedSeries {
        CachedSeries {
            coverage: Coverage::Everything,
            series: Series {
                keys: vec![],
                label_x: vec![],
                label_y: vec![],
                label_z: Default::default(),
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
                },
            },
        }
    }

    #[test]
    fn the_oldest_entries_leave_first() {
        let cache = SeriesCache::new(2);
        cache.put("a".into(), series(1));
        cache.put("b".into(), series(2));
        cache.put("c".into(), series(3));
        assert!(cache.get("a").is_none());
        assert_eq!(cache.get("c").unwrap().series.meta.records, 3);
        assert_eq!(cache.get("b").unwrap().series.meta.records, 2);
    }
}
