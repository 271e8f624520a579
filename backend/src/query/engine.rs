//! From validated parameters to the seed's stacked series: one aggregation in the database, the
//! zero-filled buckets, the largest groups' series, the object's keys, and how fresh it all is.

use std::collections::BTreeMap;

use allmetrics_common::{Series, SeriesMeta};

use super::cache::Coverage;
use super::params::Operator;
use super::tally::{Cell, Folder, Keep, Tally};
use super::window::{Interval, Window};
use crate::db::query::{AggregateRequest, DateSource, ValueSource};
use crate::domain::Connection;
use crate::error::ApiError;
use crate::providers::{ObjectSchema, Ratio};
use crate::state::AppState;

pub use super::tally::NONE_GROUP;

/// A series to compute.
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    pub object_name: String,
    pub schema: ObjectSchema,
    /// The value is the ratio of two fields' sums.
    pub ratio: Option<Ratio>,
    pub operator: Operator,
    pub group: Vec<String>,
    pub value: Option<Vec<String>>,
    pub date: Option<Vec<String>>,
    pub window: Window,
    /// How many groups keep a series of their own.
    pub groups: usize,
    /// The rollup of a saved metric, if it has one (read once it is built).
    pub rollup: Option<crate::db::rollups::RollupDefinition>,
    /// The object's sync job and data version, read before anything is computed: rollup reads
    /// are shared under it.
    pub data_version: Option<(i64, i64)>,
}

/// The window records are bucketed in. Report rows are stored at 00:00 UTC of their own day
/// (in the source's time zone): bucketed by UTC days, a row stays on its date whatever time zone
/// the chart asks for.
fn bucket_window(spec: &SeriesSpec) -> Window {
    match spec.schema {
        ObjectSchema::Records => spec.window.clone(),
        ObjectSchema::Report(_) => spec.window.in_utc(),
    }
}

/// Whether the database cuts the buckets itself: always for a distinct count (a week's distinct
/// values are not the sum of its days'), and for weeks, which cost one division. Months are
/// cut here from the days, cheaper than the database's comparisons.
fn buckets_in_sql(spec: &SeriesSpec) -> bool {
    match spec.window.interval {
        Interval::Day => false,
        Interval::Week => true,
        Interval::Month => spec.operator == Operator::CountDistinct,
    }
}

/// The bucket of each index a request's rows carry.
fn bucket_of(spec: &SeriesSpec) -> Vec<usize> {
    let buckets = spec.window.buckets();
    if buckets_in_sql(spec) {
        return (0..buckets).collect();
    }
    let starts = spec.window.bucket_starts();
    let mut of_day = Vec::with_capacity(spec.window.days());
    for (bucket, start) in starts.iter().enumerate() {
        let next = starts
            .get(bucket + 1)
            .copied()
            .unwrap_or(i64::try_from(spec.window.days()).unwrap_or(0));
        for _ in *start..next {
            of_day.push(bucket);
        }
    }
    of_day
}

fn request(connection: &Connection, spec: &SeriesSpec, group: bool) -> AggregateRequest {
    request_of(connection, spec, &spec.object_name, group)
}

fn request_of(
    connection: &Connection,
    spec: &SeriesSpec,
    object_name: &str,
    group: bool,
) -> AggregateRequest {
    let window = bucket_window(spec);
    AggregateRequest {
        connection: connection.id,
        object_name: object_name.to_string(),
        date: spec
            .date
            .clone()
            .map_or(DateSource::Created, DateSource::Path),
        group: group.then(|| spec.group.clone()),
        value: match (&spec.value, spec.operator) {
            (None, _) | (_, Operator::Count) => ValueSource::None,
            (Some(path), Operator::CountDistinct) => ValueSource::Distinct(path.clone()),
            (Some(path), _) => ValueSource::Number(path.clone()),
        },
        start: window.start,
        end: window.end,
        first_epoch_day: window.first_epoch_day(),
        bucket_starts: buckets_in_sql(spec).then(|| window.bucket_starts()),
        offsets: window.offsets,
    }
}

/// Where the rows of an aggregation are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The stored objects.
    Objects,
    /// A saved metric's rollup.
    Rollup(crate::db::rollups::BuiltRollup),
}

/// Runs one aggregation and keeps its cells as `keep` says.
async fn tally_of(
    state: &AppState,
    spec: &SeriesSpec,
    request: &AggregateRequest,
    keep: Keep,
) -> Result<Tally, ApiError> {
    tally_from(state, spec, request, keep, Read::Objects).await
}

async fn tally_from(
    state: &AppState,
    spec: &SeriesSpec,
    request: &AggregateRequest,
    keep: Keep,
    read: Read,
) -> Result<Tally, ApiError> {
    let mut folder = Folder::new(keep, bucket_of(spec), spec.window.buckets());
    match (read, spec.data_version) {
        (Read::Objects, _) => {
            let mut sink = |row| folder.push(row);
            state.repository.aggregate_each(request, &mut sink).await?
        }
        (Read::Rollup(rollup), None) => {
            let mut sink = |row| folder.push(row);
            state
                .repository
                .rollup_each(rollup, request, &mut sink)
                .await?
        }
        (Read::Rollup(rollup), Some(version)) => {
            let key = super::reads::key(rollup.id, version, request);
            match state.rollup_reads.get_or_guard(&key).await {
                Ok(rows) => rows.iter().cloned().for_each(|row| folder.push(row)),
                Err(guard) => {
                    let mut collected = super::reads::Collected::default();
                    let mut sink = |row: crate::db::query::AggregateRow| {
                        collected.push(&row);
                        folder.push(row);
                    };
                    state
                        .repository
                        .rollup_each(rollup, request, &mut sink)
                        .await?;
                    if let Some(rows) = collected.into_rows() {
                        let _ = guard.insert(std::sync::Arc::new(rows));
                    }
                }
            }
        }
    }
    Ok(folder.finish())
}

/// Where the series' cells come from: a built rollup when its buckets make the window's days
/// exactly, the objects otherwise (a rollup being built, a time zone off its buckets' edges).
pub fn read_of(spec: &SeriesSpec, request: &AggregateRequest) -> Read {
    match &spec.rollup {
        Some(rollup)
            if rollup.ready
                && spec.ratio.is_none()
                && spec.operator != Operator::CountDistinct
                && crate::db::rollups::window_fits(request, rollup.key.bucket_seconds) =>
        {
            Read::Rollup(crate::db::rollups::BuiltRollup {
                id: rollup.id,
                bucket_seconds: rollup.key.bucket_seconds,
            })
        }
        _ => Read::Objects,
    }
}

/// The field names of the stored objects (nested ones as dot paths), for the group-by picker.
pub fn keys_of(samples: &[serde_json::Value]) -> Vec<String> {
    fn walk(value: &serde_json::Value, prefix: &str, depth: usize, keys: &mut Vec<String>) {
        let Some(object) = value.as_object() else {
            return;
        };
        for (name, child) in object {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            keys.push(path.clone());
            if depth < 3 {
                walk(child, &path, depth + 1, keys);
            }
        }
    }
    let mut keys = Vec::new();
    for sample in samples {
        walk(sample, "", 0, &mut keys);
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The object's field names, sampled once per data version of the object (every chart of it
/// offers the same group-by picker).
async fn object_keys(
    state: &AppState,
    connection: &Connection,
    spec: &SeriesSpec,
) -> Result<Vec<String>, ApiError> {
    let key = spec
        .data_version
        .map(|(job, version)| format!("{}|{}|{job}|{version}", connection.id.0, spec.object_name));
    if let Some(keys) = key.as_ref().and_then(|key| state.object_keys.get(key)) {
        return Ok(keys.as_ref().clone());
    }
    let samples = state
        .repository
        .sample_objects(connection.id, &spec.object_name, 20)
        .await?;
    let keys = keys_of(&samples);
    if let Some(key) = key {
        state
            .object_keys
            .insert(key, std::sync::Arc::new(keys.clone()));
    }
    Ok(keys)
}

/// What the series needs stored of its object to be complete.
pub fn coverage(spec: &SeriesSpec) -> Coverage {
    match &spec.date {
        None => Coverage::CreatedSince(spec.window.start),
        Some(_) => Coverage::Everything,
    }
}

/// The series from the store. Its sync state (`synced_at`, `partial`) is left for
/// [`CachedSeries::as_of`](super::cache::CachedSeries::as_of) to fill in.
pub async fn compute(
    state: &AppState,
    connection: &Connection,
    spec: &SeriesSpec,
) -> Result<(Series, Read), ApiError> {
    let repository = &state.repository;
    let mut grouped = request(connection, spec, true);
    if let Some(ratio) = &spec.ratio {
        grouped.value = ValueSource::Number(vec![ratio.numerator.to_string()]);
    }
    let read = read_of(spec, &grouped);
    // Distinct values and unique users repeat across groups: never summed into one.
    let additive = spec.operator != Operator::CountDistinct
        && !matches!(spec.schema, ObjectSchema::Report(report) if non_additive(report, spec));
    let Tally {
        totals: mut day_totals,
        mut groups,
        records,
        folded,
        non_numeric,
    } = tally_from(
        state,
        spec,
        &grouped,
        Keep::Largest {
            limit: spec.groups,
            operator: spec.operator,
            fold: additive,
        },
        read,
    )
    .await?;
    if non_numeric > 0
        && spec.operator != Operator::CountDistinct
        && spec.operator != Operator::Count
    {
        return Err(ApiError::bad_request(
            "not_numeric",
            format!(
                "`{}` is not a number on {non_numeric} of these records: {} needs numbers.",
                spec.value.as_deref().unwrap_or_default().join("."),
                spec.operator.as_str()
            ),
        ));
    }
    let kept = || Keep::Named(groups.keys().cloned().collect());
    // Distinct values repeat across groups: the bucket's count is its own query.
    if spec.operator == Operator::CountDistinct {
        day_totals = tally_of(state, spec, &request(connection, spec, false), kept())
            .await?
            .totals;
    }
    let mut report_meta = ReportMeta::default();
    // A ratio's denominator is summed over the very groups its numerator kept.
    let mut denominators = match &spec.ratio {
        Some(ratio) => {
            grouped.value = ValueSource::Number(vec![ratio.denominator.to_string()]);
            Some(tally_of(state, spec, &grouped, kept()).await?)
        }
        None => None,
    };
    if let ObjectSchema::Report(report) = spec.schema {
        // A unique-users figure of a day is the source's own total, never the sum of groups
        // (a ratio over unique users: both of its parts).
        if non_additive(report, spec) && spec.object_name != report.totals_object {
            let mut totals = request_of(connection, spec, report.totals_object, false);
            if let Some(ratio) = &spec.ratio {
                totals.value = ValueSource::Number(vec![ratio.numerator.to_string()]);
            }
            day_totals = tally_of(state, spec, &totals, kept()).await?.totals;
            if let (Some(ratio), Some(parts)) = (&spec.ratio, denominators.as_mut()) {
                totals.value = ValueSource::Number(vec![ratio.denominator.to_string()]);
                parts.totals = tally_of(state, spec, &totals, kept()).await?.totals;
            }
        }
        if let [group] = spec.group.as_slice() {
            if let Some((id, name)) = report.labels.iter().find(|(id, _)| id == group) {
                let labels = repository
                    .latest_labels(connection.id, &spec.object_name, id, name)
                    .await?;
                groups = relabel(groups, &labels);
                if let Some(parts) = denominators.as_mut() {
                    parts.groups = relabel(std::mem::take(&mut parts.groups), &labels);
                }
            }
        }
        let account = connection.account.as_ref();
        report_meta.source_tz = Some(
            account
                .and_then(|account| account.time_zone.clone())
                .unwrap_or_else(|| "UTC".into()),
        );
        let money = |name: &str| report.money.contains(&name);
        let is_money = match (&spec.ratio, spec.value.as_deref()) {
            (Some(ratio), _) => money(ratio.numerator) && !money(ratio.denominator),
            (None, Some([field])) => money(field),
            _ => false,
        } && !matches!(spec.operator, Operator::Count | Operator::CountDistinct);
        report_meta.currency = if is_money {
            account.and_then(|account| account.currency.as_ref().map(|c| c.to_lowercase()))
        } else {
            None
        };
        report_meta.sampled = Some(sampled(repository.as_ref(), connection, spec).await?);
    }
    // A ratio's cells divide the numerator's sums (above) by the denominator's.
    let scale = spec.ratio.map_or(1.0, |ratio| f64::from(ratio.scale));
    let value_of = |cell: &Cell, denominator: Option<&Cell>| match denominator {
        Some(denominator) if denominator.total != 0.0 => scale * cell.total / denominator.total,
        Some(_) => 0.0,
        None => cell.value(spec.operator),
    };
    let series = Series {
        keys: {
            // Ratios are charted from their parts: offer them with the stored fields.
            let mut keys = object_keys(state, connection, spec).await?;
            if let ObjectSchema::Report(report) = spec.schema {
                keys.extend(report.ratios.iter().map(|ratio| ratio.name.to_string()));
                keys.sort();
                keys.dedup();
            }
            keys
        },
        label_x: spec.window.labels(),
        label_y: day_totals
            .iter()
            .enumerate()
            .map(|(day, cell)| {
                value_of(cell, denominators.as_ref().map(|parts| &parts.totals[day]))
            })
            .collect(),
        label_z: groups
            .into_iter()
            .map(|(name, cells)| {
                let parts = denominators
                    .as_ref()
                    .and_then(|parts| parts.groups.get(&name));
                let values = cells
                    .iter()
                    .enumerate()
                    .map(|(day, cell)| {
                        let denominator = denominators
                            .as_ref()
                            .map(|_| parts.map_or(&EMPTY_CELL, |cells| &cells[day]));
                        value_of(cell, denominator)
                    })
                    .collect();
                (name, values)
            })
            .collect(),
        meta: SeriesMeta {
            records: u64::try_from(records).unwrap_or(0),
            interval: spec.window.interval.as_str().to_string(),
            groups_folded: folded,
            from: spec.window.first_day.format("%Y-%m-%d").to_string(),
            to: spec.window.last_day.format("%Y-%m-%d").to_string(),
            tz: spec.window.tz.name().to_string(),
            synced_at: None,
            partial: true,
            source_tz: report_meta.source_tz,
            currency: report_meta.currency,
            sampled: report_meta.sampled,
            kind: None,
        },
    };
    Ok((series, read))
}

const EMPTY_CELL: Cell = Cell {
    records: 0,
    total: 0.0,
    numeric: 0,
    non_numeric: 0,
    smallest: None,
    largest: None,
    distinct: 0,
};

/// Groups named by an id, renamed with the id's current label; two ids of one label keep the id
/// beside it, so that they stay two groups.
fn relabel(
    groups: BTreeMap<String, Vec<Cell>>,
    labels: &[(String, String)],
) -> BTreeMap<String, Vec<Cell>> {
    let label_of = |id: &str| {
        labels
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, label)| label)
    };
    let shared = |label: &str| labels.iter().filter(|(_, other)| other == label).count() > 1;
    groups
        .into_iter()
        .map(|(id, cells)| match label_of(&id) {
            Some(label) if shared(label) => (format!("{label} ({id})"), cells),
            Some(label) => (label.clone(), cells),
            None => (id, cells),
        })
        .collect()
}

/// Whether the value counts unique users (GA4 `activeUsers`, Meta `reach`): its groups do not
/// add up to the day.
fn non_additive(report: &crate::providers::ReportSpec, spec: &SeriesSpec) -> bool {
    matches!(&spec.value, Some(path) if path.len() == 1
        && report.non_additive.contains(&path[0].as_str()))
}

/// What the meta says of a report source.
#[derive(Default)]
struct ReportMeta {
    source_tz: Option<String>,
    currency: Option<String>,
    sampled: Option<bool>,
}

/// Whether any row of the window was flagged as sampled or thresholded by the provider (report
/// rows carry `sampled`).
async fn sampled(
    repository: &dyn crate::db::Repository,
    connection: &Connection,
    spec: &SeriesSpec,
) -> Result<bool, ApiError> {
    let mut request = request(connection, spec, true);
    request.group = Some(vec!["sampled".to_string()]);
    request.value = ValueSource::None;
    Ok(repository
        .aggregate(&request)
        .await?
        .iter()
        .any(|row| row.grp.as_deref() == Some("true")))
}

#[cfg(test)]
mod tests {
    use super::keys_of;

    #[test]
    fn keys_include_nested_paths() {
        let samples = vec![serde_json::json!({
            "id": "ch_1", "amount": 5,
            "billing_details": {"address": {"country": "FR"}},
            "metadata": {}
        })];
        assert_eq!(
            keys_of(&samples),
            vec![
                "amount",
                "billing_details",
                "billing_details.address",
                "billing_details.address.country",
                "id",
                "metadata"
            ]
        );
    }
}
