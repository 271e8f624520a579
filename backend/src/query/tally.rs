//! From the rows of an aggregation to the cells of a chart: per bucket over all groups, and per
//! bucket for the largest groups only. Rows come ordered by group, so a group is complete when
//! the next one starts: it is kept if it is among the largest so far, otherwise summed into
//! `(other groups)`. Memory stays at the kept groups' cells, whatever the number of groups (a
//! chart grouped by `id` has one group per record).

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::params::Operator;
use crate::db::query::AggregateRow;

/// The group of records whose group-by value is missing or null.
pub const NONE_GROUP: &str = "(none)";
/// The group the smaller groups are summed into.
pub const OTHER_GROUPS: &str = "(other groups)";

/// Per-cell accumulation that combines exactly: a bucket's average is its total over its count,
/// not an average of group averages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    pub records: i64,
    pub total: f64,
    pub numeric: i64,
    pub non_numeric: i64,
    pub smallest: Option<f64>,
    pub largest: Option<f64>,
    pub distinct: i64,
}

impl Cell {
    pub fn add_row(&mut self, row: &AggregateRow) {
        self.merge(&Cell {
            records: row.records,
            total: row.total.unwrap_or(0.0),
            numeric: row.numeric,
            non_numeric: row.non_numeric,
            smallest: row.smallest,
            largest: row.largest,
            distinct: row.distinct_values,
        });
    }

    pub fn merge(&mut self, other: &Cell) {
        self.records += other.records;
        self.total += other.total;
        self.numeric += other.numeric;
        self.non_numeric += other.non_numeric;
        self.distinct += other.distinct;
        self.smallest = match (self.smallest, other.smallest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.largest = match (self.largest, other.largest) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn value(&self, operator: Operator) -> f64 {
        match operator {
            Operator::Count => self.records as f64,
            Operator::Sum => self.total,
            Operator::Average if self.numeric > 0 => self.total / self.numeric as f64,
            Operator::Average => 0.0,
            Operator::Min => self.smallest.unwrap_or(0.0),
            Operator::Max => self.largest.unwrap_or(0.0),
            Operator::CountDistinct => self.distinct as f64,
        }
    }
}

/// Which groups keep a series of their own.
#[derive(Debug, Clone)]
pub enum Keep {
    /// The `limit` largest by the absolute value of their whole window (ties: by name). The
    /// others are summed into `(other groups)` when `fold`, left out otherwise (values that do
    /// not add up across groups: distinct counts, unique users).
    Largest {
        limit: usize,
        operator: Operator,
        fold: bool,
    },
    /// Exactly these (the groups a ratio's numerator kept), the others summed.
    Named(BTreeSet<String>),
}

/// The cells of a window.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Per bucket, over every record.
    pub totals: Vec<Cell>,
    /// Per kept group and bucket.
    pub groups: BTreeMap<String, Vec<Cell>>,
    /// Groups beyond the kept ones: summed into `(other groups)` when folded.
    pub folded: u64,
    pub records: i64,
    /// Records whose value is present but not a number.
    pub non_numeric: i64,
}

/// A group's non-empty buckets, in order.
type SparseCells = Vec<(usize, Cell)>;

/// A complete group waiting to learn whether it is among the largest.
struct Ranked {
    magnitude: f64,
    name: String,
    cells: Vec<(usize, Cell)>,
}

impl Ranked {
    /// Larger magnitude ranks higher; of equal ones, the name that sorts first.
    fn rank(&self, other: &Self) -> Ordering {
        self.magnitude
            .total_cmp(&other.magnitude)
            .then_with(|| other.name.cmp(&self.name))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank(other)
    }
}

/// Takes rows one at a time (ordered by group) and keeps what the chart needs.
pub struct Folder {
    keep: Keep,
    /// The bucket of a row's `day` (the identity when the rows are per bucket already).
    bucket_of: Vec<usize>,
    buckets: usize,
    tally: Tally,
    current: Option<(Option<String>, SparseCells)>,
    /// The smallest kept group on top.
    largest: BinaryHeap<Reverse<Ranked>>,
    other: Option<Vec<Cell>>,
}

impl Folder {
    /// `bucket_of[day]` is the bucket of each day index the rows carry.
    pub fn new(keep: Keep, bucket_of: Vec<usize>, buckets: usize) -> Self {
        Self {
            keep,
            bucket_of,
            buckets,
            tally: Tally {
                totals: vec![Cell::default(); buckets],
                ..Tally::default()
            },
            current: None,
            largest: BinaryHeap::new(),
            other: None,
        }
    }

    pub fn push(&mut self, row: AggregateRow) {
        let Some(bucket) = usize::try_from(row.day)
            .ok()
            .and_then(|day| self.bucket_of.get(day).copied())
            .filter(|bucket| *bucket < self.buckets)
        else {
            return;
        };
        self.tally.records += row.records;
        self.tally.non_numeric += row.non_numeric;
        self.tally.totals[bucket].add_row(&row);
        if self
            .current
            .as_ref()
            .is_some_and(|(group, _)| *group != row.grp)
        {
            self.complete();
        }
        let (_, cells) = self
            .current
            .get_or_insert_with(|| (row.grp.clone(), Vec::new()));
        match cells.last_mut() {
            Some((last, cell)) if *last == bucket => cell.add_row(&row),
            _ => {
                let mut cell = Cell::default();
                cell.add_row(&row);
                cells.push((bucket, cell));
            }
        }
    }

    fn complete(&mut self) {
        let Some((group, cells)) = self.current.take() else {
            return;
        };
        let name = group.unwrap_or_else(|| NONE_GROUP.to_string());
        match &self.keep {
            Keep::Named(names) => {
                if names.contains(&name) {
                    Self::keep_group(&mut self.tally.groups, self.buckets, name, &cells);
                } else {
                    self.fold(&cells);
                }
            }
            Keep::Largest {
                limit, operator, ..
            } => {
                let mut whole = Cell::default();
                for (_, cell) in &cells {
                    whole.merge(cell);
                }
                let ranked = Ranked {
                    magnitude: whole.value(*operator).abs(),
                    name,
                    cells,
                };
                self.largest.push(Reverse(ranked));
                if self.largest.len() > *limit {
                    if let Some(Reverse(smallest)) = self.largest.pop() {
                        self.fold(&smallest.cells);
                    }
                }
            }
        }
    }

    fn fold(&mut self, cells: &[(usize, Cell)]) {
        self.tally.folded += 1;
        if matches!(self.keep, Keep::Largest { fold: false, .. }) {
            return;
        }
        let other = self
            .other
            .get_or_insert_with(|| vec![Cell::default(); self.buckets]);
        for (bucket, cell) in cells {
            other[*bucket].merge(cell);
        }
    }

    fn keep_group(
        groups: &mut BTreeMap<String, Vec<Cell>>,
        buckets: usize,
        name: String,
        cells: &[(usize, Cell)],
    ) {
        // A value named like the null group (or the other groups) joins it.
        let series = groups
            .entry(name)
            .or_insert_with(|| vec![Cell::default(); buckets]);
        for (bucket, cell) in cells {
            series[*bucket].merge(cell);
        }
    }

    pub fn finish(mut self) -> Tally {
        self.complete();
        for Reverse(ranked) in std::mem::take(&mut self.largest) {
            Self::keep_group(
                &mut self.tally.groups,
                self.buckets,
                ranked.name,
                &ranked.cells,
            );
        }
        if let Some(other) = self.other.take() {
            let name = OTHER_GROUPS.to_string();
            let cells: Vec<(usize, Cell)> = other.into_iter().enumerate().collect();
            Self::keep_group(&mut self.tally.groups, self.buckets, name, &cells);
        }
        self.tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: i64, grp: Option<&str>, records: i64, total: f64) -> AggregateRow {
        AggregateRow {
            day,
            grp: grp.map(String::from),
            records,
            total: Some(total),
            smallest: Some(total),
            largest: Some(total),
            numeric: records,
            non_numeric: 0,
            distinct_values: 0,
        }
    }

    fn largest(limit: usize, operator: Operator, fold: bool) -> Keep {
        Keep::Largest {
            limit,
            operator,
            fold,
        }
    }

    #[test]
    fn the_largest_groups_stay_and_the_rest_are_summed() {
        // Days 0..4 in two buckets of two days.
        let mut folder = Folder::new(largest(2, Operator::Sum, true), vec![0, 0, 1, 1], 2);
        for row in [
            row(0, None, 1, 5.0),
            row(3, None, 1, 5.0),
            row(0, Some("eur"), 2, -40.0),
            row(1, Some("gbp"), 1, 3.0),
            row(2, Some("gbp"), 1, 4.0),
            row(2, Some("usd"), 3, 30.0),
        ] {
            folder.push(row);
        }
        let tally = folder.finish();
        assert_eq!(tally.records, 9);
        assert_eq!(tally.folded, 2);
        let names: Vec<_> = tally.groups.keys().cloned().collect();
        // |-40| and 30 are the largest; (none) 10 and gbp 7 are summed.
        assert_eq!(names, vec![OTHER_GROUPS, "eur", "usd"]);
        let other = &tally.groups[OTHER_GROUPS];
        assert_eq!(other[0].total, 8.0);
        assert_eq!(other[1].total, 9.0);
        assert_eq!(other[0].smallest, Some(3.0));
        let total: f64 = tally.totals.iter().map(|cell| cell.total).sum();
        assert_eq!(total, 7.0);
    }

    #[test]
    fn ties_keep_the_first_names_and_values_that_do_not_add_up_are_left_out() {
        let mut folder = Folder::new(largest(1, Operator::Count, false), vec![0], 1);
        for row in [row(0, Some("b"), 1, 0.0), row(0, Some("a"), 1, 0.0)] {
            folder.push(row);
        }
        let tally = folder.finish();
        assert_eq!(tally.groups.keys().collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(tally.folded, 1);
    }

    #[test]
    fn named_groups_are_kept_exactly() {
        let names = ["x".to_string()].into_iter().collect();
        let mut folder = Folder::new(Keep::Named(names), vec![0], 1);
        for row in [row(0, Some("x"), 1, 1.0), row(0, Some("y"), 1, 2.0)] {
            folder.push(row);
        }
        let tally = folder.finish();
        assert_eq!(tally.groups["x"][0].total, 1.0);
        assert_eq!(tally.groups[OTHER_GROUPS][0].total, 2.0);
    }
}
