//! The rows read from a rollup for a window, shared by the saved metrics that read the same
//! rollup (a count, a sum and an average of one field by one group do) until its data changes.
//! Concurrent charts of one rollup wait for a single read: a dashboard opened after a sync reads
//! each of its rollups once, not once per chart.

use std::sync::Arc;

use crate::db::query::{AggregateRequest, AggregateRow};

/// A read this large (a rollup grouped by id) is not kept.
const MOST_ROWS_KEPT: usize = 50_000;

pub struct RollupReads {
    entries: quick_cache::sync::Cache<String, Arc<Vec<AggregateRow>>, RowsWeight>,
}

#[derive(Clone)]
pub struct RowsWeight;

impl quick_cache::Weighter<String, Arc<Vec<AggregateRow>>> for RowsWeight {
    fn weight(&self, key: &String, rows: &Arc<Vec<AggregateRow>>) -> u64 {
        let bytes = key.len()
            + rows
                .iter()
                .map(|row| 96 + row.grp.as_ref().map_or(0, String::len))
                .sum::<usize>();
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

/// What a rollup read depends on: the rollup, its object's data version, the window's buckets.
pub fn key(rollup: i64, data_version: (i64, i64), request: &AggregateRequest) -> String {
    format!(
        "{rollup}|{}.{}|{}|{}|{}|{:?}|{:?}",
        data_version.0,
        data_version.1,
        request.start,
        request.end,
        request.first_epoch_day,
        request.offsets,
        request.bucket_starts,
    )
}

/// Collects a read's rows while it streams, unless there are too many to keep.
#[derive(Default)]
pub struct Collected {
    rows: Vec<AggregateRow>,
    overflowed: bool,
}

impl Collected {
    pub fn push(&mut self, row: &AggregateRow) {
        if self.overflowed {
            return;
        }
        if self.rows.len() >= MOST_ROWS_KEPT {
            self.overflowed = true;
            self.rows = Vec::new();
        } else {
            self.rows.push(row.clone());
        }
    }

    pub fn into_rows(self) -> Option<Vec<AggregateRow>> {
        (!self.overflowed).then_some(self.rows)
    }
}

impl RollupReads {
    pub fn new(bytes: u64) -> Self {
        Self {
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / 65_536)
                    .unwrap_or(usize::MAX)
                    .max(16),
                bytes.max(1),
                RowsWeight,
            ),
        }
    }

    /// The kept rows of `key`, or a guard to fill it with; others asking for `key` meanwhile
    /// wait for the guard to be filled or dropped.
    pub async fn get_or_guard(&self, key: &str) -> Result<Arc<Vec<AggregateRow>>, ReadGuard<'_>> {
        self.entries.get_value_or_guard_async(key).await
    }
}

pub type ReadGuard<'a> = quick_cache::sync::PlaceholderGuard<
    'a,
    String,
    Arc<Vec<AggregateRow>>,
    RowsWeight,
    quick_cache::DefaultHashBuilder,
    quick_cache::sync::DefaultLifecycle<String, Arc<Vec<AggregateRow>>>,
>;
