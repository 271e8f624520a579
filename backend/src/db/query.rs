//! Aggregation over the object store: one `GROUP BY day, group` per series, with the day cut in
//! the user's time zone. JSON access differs by dialect (`json_extract` / `#>>`), so each backend
//! builds its own SQL (in sqlite.rs and postgres.rs); the request and the rows are shared.

use crate::db::row::row_struct;
use async_trait::async_trait;

use super::DbResult;
use crate::domain::ConnectionId;

/// Where an object's date is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateSource {
    /// The indexed `created` column.
    Created,
    /// A numeric (unix seconds) field at this path.
    Path(Vec<String>),
}

/// How the value field is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    None,
    /// Summed, averaged, min/max: must be numbers.
    Number(Vec<String>),
    /// Counted distinct: any JSON value, compared as text.
    Distinct(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct AggregateRequest {
    pub connection: ConnectionId,
    pub object_name: String,
    pub date: DateSource,
    /// The group-by field; `None` groups by day only.
    pub group: Option<Vec<String>>,
    pub value: ValueSource,
    /// Window bounds, unix seconds, `[start, end)`.
    pub start: i64,
    pub end: i64,
    /// The epoch day number of the window's first day.
    pub first_epoch_day: i64,
    /// `(until, offset seconds)` intervals covering the window (see query/window.rs).
    pub offsets: Vec<(i64, i64)>,
    /// When set, rows are per bucket rather than per day: the index, among the window's days,
    /// of each bucket's first day (a distinct count of a week is not the sum of its days').
    pub bucket_starts: Option<Vec<i64>>,
}

row_struct! {
    /// One (day, group) cell.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AggregateRow {
        /// 0-based index of the day in the window.
        pub day: i64,
        /// The group's text; `None` for a missing or null value.
        pub grp: Option<String>,
        pub records: i64,
        pub total: Option<f64>,
        pub smallest: Option<f64>,
        pub largest: Option<f64>,
        /// Records whose value is a number.
        pub numeric: i64,
        /// Records whose value is present but not a number.
        pub non_numeric: i64,
        pub distinct_values: i64,
    }
}

/// Where the rows of an aggregation go, one at a time: a grouped request's rows come ordered by
/// group, so that a group is complete when the next one starts.
pub type RowSink<'a> = dyn FnMut(AggregateRow) + Send + 'a;

#[async_trait]
pub trait QueryStore {
    /// Streams the rows of one aggregation into `sink`, stopped by the statement timeout.
    async fn aggregate_each(
        &self,
        request: &AggregateRequest,
        sink: &mut RowSink<'_>,
    ) -> DbResult<()>;

    /// The rows of one aggregation, for the small ones (day totals, flags).
    async fn aggregate(&self, request: &AggregateRequest) -> DbResult<Vec<AggregateRow>> {
        let mut rows = Vec::new();
        self.aggregate_each(request, &mut |row| rows.push(row))
            .await?;
        Ok(rows)
    }
    /// For every value of the field `id` among the object's records, the field `label` of the
    /// newest record having it (the current name of a campaign id).
    async fn latest_labels(
        &self,
        connection: ConnectionId,
        object_name: &str,
        id: &str,
        label: &str,
    ) -> DbResult<Vec<(String, String)>>;
}

/// `CASE WHEN t < u1 THEN (t + o1) WHEN ... END / 86400 - first_day`: the day index of `t`.
/// Only numbers computed by the server are written into the SQL.
pub(super) fn day_expression(request: &AggregateRequest, t: &str) -> String {
    let mut expression = String::from("((CASE");
    for (until, offset) in &request.offsets {
        expression.push_str(&format!(" WHEN {t} < {until} THEN {t} + ({offset})"));
    }
    expression.push_str(&format!(
        " ELSE {t} END) / 86400 - ({}))",
        request.first_epoch_day
    ));
    expression
}

/// The row's bucket: its day, the day's week (the window starts on a Monday), or, for months,
/// the bucket whose first day precedes it. Always a bigint (PostgreSQL types a CASE of literals
/// `integer`).
pub(crate) fn bucket_expression(request: &AggregateRequest, t: &str) -> String {
    let day = day_expression(request, t);
    let Some(starts) = &request.bucket_starts else {
        return day;
    };
    // One bucket holds the whole window (one start looks daily and weekly alike).
    if starts.len() < 2 {
        return "CAST(0 AS BIGINT)".to_string();
    }
    let daily = starts
        .iter()
        .enumerate()
        .all(|(i, start)| *start == i as i64);
    let weekly = starts
        .iter()
        .enumerate()
        .all(|(i, start)| *start == 7 * i as i64);
    if daily {
        day
    } else if weekly {
        format!("({day} / 7)")
    } else {
        let mut expression = String::from("CAST((CASE");
        for (index, start) in starts.iter().enumerate().skip(1) {
            expression.push_str(&format!(" WHEN {day} < {start} THEN {}", index - 1));
        }
        expression.push_str(&format!(
            " ELSE {} END) AS BIGINT)",
            starts.len().saturating_sub(1)
        ));
        expression
    }
}

/// SQLite's JSON path for a dot path: `$.a.b`, `$.items[0]`.
pub(super) fn sqlite_path(path: &[String]) -> String {
    let mut text = String::from("$");
    for segment in path {
        if segment.chars().all(|c| c.is_ascii_digit()) {
            text.push_str(&format!("[{segment}]"));
        } else {
            text.push('.');
            text.push_str(segment);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_day_expressions() {
        assert_eq!(
            sqlite_path(&["items".into(), "data".into(), "0".into(), "price".into()]),
            "$.items.data[0].price"
        );
        let request = AggregateRequest {
            connection: ConnectionId(1),
            object_name: "Charge".into(),
            date: DateSource::Created,
            group: None,
            value: ValueSource::None,
            start: 0,
            end: 100,
            first_epoch_day: 20000,
            offsets: vec![(50, -14400), (100, -18000)],
            bucket_starts: None,
        };
        assert_eq!(
            day_expression(&request, "t"),
            "((CASE WHEN t < 50 THEN t + (-14400) WHEN t < 100 THEN t + (-18000) ELSE t END) / 86400 - (20000))"
        );
        let day = day_expression(&request, "t");
        let weeks = AggregateRequest {
            bucket_starts: Some(vec![0, 7, 14]),
            ..request.clone()
        };
        assert_eq!(bucket_expression(&weeks, "t"), format!("({day} / 7)"));
        let months = AggregateRequest {
            bucket_starts: Some(vec![0, 31, 59]),
            ..request.clone()
        };
        assert_eq!(
            bucket_expression(&months, "t"),
            format!(
                "CAST((CASE WHEN {day} < 31 THEN 0 WHEN {day} < 59 THEN 1 ELSE 2 END) AS BIGINT)"
            )
        );
        // A window of one week or one month is one bucket, not the days of a daily chart.
        let one = AggregateRequest {
            bucket_starts: Some(vec![0]),
            ..request
        };
        assert_eq!(bucket_expression(&one, "t"), "CAST(0 AS BIGINT)");
    }
}
