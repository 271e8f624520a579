//! Subscription metrics (MRR, its movements, churn, ARPU, LTV, trials): computed from every
//! subscription's history, which the source's provider rebuilds from the stored subscriptions,
//! invoices and prices. Answers are kept in the series cache until any of those objects changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use allmetrics_common::{Series, SeriesMeta};
use allmetrics_subscriptions::{
    FxRates, Grouping, MetricKind, MrrTimeline, Number, SeriesError, Settings, SubscriptionHistory,
    SubscriptionTrack, Sweeps,
};
use chrono::Duration;

use super::cache::{CachedSeries, Coverage};
use super::tally::OTHER_GROUPS;
use super::window::{day_start, Interval, Window};
use super::Answer;
use crate::auth::AuthUser;
use crate::domain::{MetricDefinition, SyncJob};
use crate::error::ApiError;
use crate::state::AppState;

/// The group-by fields of subscription metrics.
pub const GROUP_FIELDS: [&str; 2] = ["currency", "plan"];

/// `field_name` of a subscription metric: none (converted to the reporting currency),
/// `currency` or `plan`; 400 `invalid_field` otherwise.
pub fn grouping_of(field_name: &str) -> Result<Grouping, ApiError> {
    match field_name {
        "" => Ok(Grouping::None),
        "currency" => Ok(Grouping::Currency),
        "plan" => Ok(Grouping::Plan),
        other => Err(ApiError::bad_request(
            "invalid_field",
            format!(
                "Subscription metrics group by `currency` or `plan` (or nothing), not `{other}`."
            ),
        )),
    }
}

/// Whether a kind is money (in the reporting currency's minor units unless grouped by currency).
fn is_money(kind: MetricKind) -> bool {
    matches!(
        kind,
        MetricKind::Mrr
            | MetricKind::Arr
            | MetricKind::MrrMovements
            | MetricKind::Arpu
            | MetricKind::Ltv
    )
}

/// Whether a kind counts what happened during a day (a week's value is the sum of its days)
/// rather than a state at the day's end (a week's value is its last day's).
fn is_flow(kind: MetricKind) -> bool {
    matches!(
        kind,
        MetricKind::MrrMovements
            | MetricKind::NewCustomers
            | MetricKind::ChurnedCustomers
            | MetricKind::Trials
    )
}

/// Whether a day's groups add up to its total (and may be folded into `(other groups)`).
fn is_additive(kind: MetricKind, grouping: Grouping) -> bool {
    grouping != Grouping::Currency
        && !matches!(
            kind,
            MetricKind::CustomerChurnRate
                | MetricKind::RevenueChurnRate
                | MetricKind::Arpu
                | MetricKind::Ltv
        )
}

/// The day totals of `grouping` over `day_ends`: the subscriptions split by customer into one
/// part per core (a customer's movements need every subscription of theirs), each part's
/// timeline built and swept on a thread of its own, the parts' totals added up. For 10,000
/// subscriptions over two years this is most of an uncached dashboard's time.
fn sweeps(
    histories: &[SubscriptionHistory],
    (day_ends, settings): (&[i64], &Settings),
    grouping: Grouping,
    fx: &FxRates,
) -> Result<Sweeps, SeriesError> {
    let parts = crate::parallel::threads_for(histories.len());
    let mut shares: Vec<Vec<&SubscriptionHistory>> = vec![Vec::new(); parts];
    for history in histories {
        shares[part_of(&history.customer, parts)].push(history);
    }
    let swept = crate::parallel::map_each(shares, |share| {
        let tracks = SubscriptionTrack::build_all(share, day_ends, settings)?;
        Sweeps::run(&MrrTimeline::from_tracks(day_ends, tracks)?, grouping, fx)
    });
    let mut summed: Option<Sweeps> = None;
    for part in swept {
        let part = part?;
        match summed.as_mut() {
            Some(summed) => summed.add(part)?,
            None => summed = Some(part),
        }
    }
    // There is always one part at least.
    summed.ok_or(SeriesError::BadDayEnds)
}

/// The part (of `parts`) a customer's subscriptions are swept in.
fn part_of(customer: &str, parts: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    customer.hash(&mut hasher);
    usize::try_from(hasher.finish() % u64::try_from(parts.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// The series of a subscription metric over `window`.
pub async fn subscription_series(
    state: &AppState,
    user: &AuthUser,
    definition: &MetricDefinition,
    kind: MetricKind,
    (window, groups): (Window, usize),
) -> Result<Answer, ApiError> {
    let grouping = match grouping_of(&definition.field_name)? {
        // The movements are the converted total's, whatever the grouping.
        _ if kind == MetricKind::MrrMovements => Grouping::None,
        grouping => grouping,
    };
    let (source, provider) = crate::lookup::enabled_source(state, &definition.source).await?;
    let objects = provider
        .provider
        .subscription_objects()
        .ok_or_else(|| not_supported(&source.name))?;
    let connection = state
        .repository
        .connection(user.id, source.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("not_connected", format!("Connect {} first.", source.name))
        })?;
    let jobs: Vec<SyncJob> = state
        .repository
        .sync_jobs(connection.id)
        .await?
        .into_iter()
        .filter(|job| objects.names().contains(&job.object_name.as_str()))
        .collect();
    let versions: super::histories::Versions = objects.names().map(|name| {
        jobs.iter()
            .find(|job| job.object_name == name)
            .map(|job| (job.id.0, job.data_version))
    });
    // Converted values change with the rates and the reporting currency.
    let rates_version = state.repository.rates_version(connection.id).await?;
    let key = format!(
        "Subscriptions|{}|{kind}|{}|{}|{}|{}|{}|{groups}|{versions:?}|{:?}|{:?}|{rates_version:?}|{:?}",
        connection.id.0,
        definition.field_name,
        window.start,
        window.end,
        window.tz.name(),
        window.interval.as_str(),
        connection.reporting_currency,
        connection.account_currency,
        connection.subscription_settings,
    );
    if let Some(cached) = state.series_cache.get(&key) {
        return Ok(Answer {
            series: with_jobs(cached.series.clone(), &jobs, objects.names().len()),
            cached: true,
            read: None,
        });
    }
    let _computing = state.computations.start(user.id)?;
    let histories = state
        .subscription_histories
        .histories(
            &state.repository,
            provider.provider,
            connection.id,
            objects,
            &versions,
        )
        .await?;
    let settings = connection.subscription_settings.clone();
    // The days before the window that the first day's 30-day churn looks back on.
    let lead = i64::from(settings.churn_window_days) + 1;
    let first = window.first_day - Duration::days(lead);
    let day_ends: Vec<i64> = (0..)
        .map(|offset| first + Duration::days(offset))
        .take_while(|day| *day <= window.last_day)
        .map(|day| day_start(window.tz, day + Duration::days(1)))
        .collect();
    let reporting = reporting_currency(&connection, &histories);
    // The timeline and its sweep are CPU work of their own (tens of milliseconds for 10,000
    // subscriptions over two years, on every core): off the request threads, like the rebuild. Every kind of
    // one window is swept at once and kept for the other charts of a dashboard; grouped by plan
    // (a group per price, of every kind), only the kind asked for.
    let records = u64::try_from(histories.len()).unwrap_or(0);
    let computed = if grouping == Grouping::Plan {
        let fx = rates(state, &connection, (&reporting, &rates_version), &histories).await?;
        tokio::task::spawn_blocking(move || {
            let swept = sweeps(&histories, (&day_ends, &settings), grouping, &fx)?;
            Ok::<_, SeriesError>(swept.series(kind, grouping, &settings))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(series_error)?
    } else {
        let sweep = format!(
            "{}|{versions:?}|{first}|{}|{}|{grouping:?}|{settings:?}|{rates_version:?}|{reporting}",
            connection.id.0,
            window.last_day,
            window.tz.name(),
        );
        let all = match state.subscription_sweeps.get_or_guard(&sweep).await {
            Ok(all) => all,
            Err(guard) => {
                // Only the chart that computes reads the rates.
                let fx =
                    rates(state, &connection, (&reporting, &rates_version), &histories).await?;
                let all = tokio::task::spawn_blocking(move || {
                    let swept = sweeps(&histories, (&day_ends, &settings), grouping, &fx)?;
                    Ok::<_, SeriesError>(swept.all_series(grouping, &settings))
                })
                .await
                .map_err(ApiError::internal)?
                .map_err(series_error)?;
                let all = Arc::new(all);
                let _ = guard.insert(all.clone());
                all
            }
        };
        all.get(&kind)
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no {kind} in the sweep")))?
    };
    let skip = usize::try_from(lead).unwrap_or(0);
    let daily = |values: &[Option<Number>]| -> Vec<f64> {
        values
            .iter()
            .skip(skip)
            .map(|value| rounded(kind, number(*value)))
            .collect()
    };
    let total = bucketed(&window, kind, &daily(&computed.total));
    let mut label_z: BTreeMap<String, Vec<f64>> = computed
        .groups
        .iter()
        .map(|(name, values)| (name.clone(), bucketed(&window, kind, &daily(values))))
        .collect();
    let folded = fold(
        &mut label_z,
        groups,
        is_additive(kind, grouping) && kind != MetricKind::MrrMovements,
    );
    let series = Series {
        keys: GROUP_FIELDS.iter().map(|field| field.to_string()).collect(),
        label_x: window.labels(),
        label_y: total,
        label_z,
        meta: SeriesMeta {
            records,
            from: window.first_day.format("%Y-%m-%d").to_string(),
            to: window.last_day.format("%Y-%m-%d").to_string(),
            tz: window.tz.name().to_string(),
            synced_at: None,
            partial: true,
            source_tz: None,
            currency: (is_money(kind) && grouping != Grouping::Currency).then_some(reporting),
            sampled: None,
            interval: window.interval.as_str().to_string(),
            groups_folded: folded,
            kind: Some(kind.as_str().to_string()),
        },
    };
    state
        .series_cache
        .put(key, CachedSeries::new(series.clone(), Coverage::Everything));
    Ok(Answer {
        series: with_jobs(series, &jobs, objects.names().len()),
        cached: false,
        read: Some(super::ComputedFrom::Subscriptions),
    })
}

/// 400 `subscriptions_not_supported`: the source's provider bills no subscriptions.
pub fn not_supported(source: &str) -> ApiError {
    ApiError::bad_request(
        "subscriptions_not_supported",
        format!("{source} has no subscriptions to compute subscription metrics from."),
    )
}

fn series_error(error: SeriesError) -> ApiError {
    match error {
        SeriesError::MissingRate { currency } => ApiError::bad_request(
            "missing_fx_rate",
            format!(
                "There is no exchange rate of `{currency}` to the reporting currency: an \
                 administrator can add its daily rates, or choose another reporting currency."
            ),
        ),
        other => ApiError::bad_request("invalid_window", other.to_string()),
    }
}

/// The connection's reporting currency: its setting, else the account's default currency, else
/// the currency most subscriptions bill in.
fn reporting_currency(
    connection: &crate::domain::Connection,
    histories: &[allmetrics_subscriptions::SubscriptionHistory],
) -> String {
    connection
        .reporting_currency
        .clone()
        .or_else(|| connection.account_currency.clone())
        .unwrap_or_else(|| most_common_currency(histories))
}

/// The rates to the reporting currency of every currency the subscriptions bill in, from the
/// stored daily rates; kept until they change.
async fn rates(
    state: &AppState,
    connection: &crate::domain::Connection,
    (reporting, rates_version): (&str, &crate::domain::RatesVersion),
    histories: &[allmetrics_subscriptions::SubscriptionHistory],
) -> Result<Arc<FxRates>, ApiError> {
    let reporting = reporting.to_string();
    // A few currencies among thousands of subscriptions: each is looked for among those found.
    let mut currencies: Vec<String> = Vec::new();
    for history in histories {
        let currency = history.currency();
        if !currency.is_empty()
            && !currency.eq_ignore_ascii_case(&reporting)
            && !currencies
                .iter()
                .any(|found| found.eq_ignore_ascii_case(&currency))
        {
            currencies.push(currency.to_ascii_lowercase());
        }
    }
    currencies.sort_unstable();
    if currencies.is_empty() {
        return Ok(Arc::new(FxRates::new(&reporting)));
    }
    let key = format!(
        "{}|{rates_version:?}|{reporting}|{}",
        connection.id.0,
        currencies.join(",")
    );
    let read = async {
        // A cross rate needs the reporting currency's rates of the same base.
        let mut read = currencies.clone();
        read.push(reporting.clone());
        let stored = state.repository.fx_rates(connection.id, &read).await?;
        Ok::<_, ApiError>(crate::fx::convert::reporting_rates(
            &reporting,
            &currencies,
            &stored,
        ))
    };
    state.subscription_sweeps.rates(&key, read).await
}

/// The currency most subscriptions bill in (USD when there are none): amounts of the others
/// need their rates.
fn most_common_currency(histories: &[allmetrics_subscriptions::SubscriptionHistory]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for history in histories {
        let currency = history.currency();
        if !currency.is_empty() {
            *counts.entry(currency.to_ascii_lowercase()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or_else(|| "usd".to_string(), |(currency, _)| currency)
}

/// A value that does not exist (LTV while nobody churns) is NaN, written as `null`.
fn number(value: Option<Number>) -> f64 {
    match value {
        Some(Number::Int(value)) => value as f64,
        Some(Number::Float(value)) => value,
        None => f64::NAN,
    }
}

/// Money to the minor unit (half to even, as the monthly values are), rates to six places.
fn rounded(kind: MetricKind, value: f64) -> f64 {
    match kind {
        MetricKind::Arpu | MetricKind::Ltv => value.round_ties_even(),
        MetricKind::CustomerChurnRate | MetricKind::RevenueChurnRate => {
            (value * 1e6).round_ties_even() / 1e6
        }
        _ => value,
    }
}

/// Days into the window's buckets: a flow adds its days up, a state is its last day's.
fn bucketed(window: &Window, kind: MetricKind, daily: &[f64]) -> Vec<f64> {
    if window.interval == Interval::Day {
        return daily.to_vec();
    }
    let starts = window.bucket_starts();
    starts
        .iter()
        .enumerate()
        .map(|(index, start)| {
            let from = usize::try_from(*start).unwrap_or(0);
            let to = starts
                .get(index + 1)
                .map_or(daily.len(), |next| usize::try_from(*next).unwrap_or(0))
                .min(daily.len());
            let days = daily.get(from..to).unwrap_or(&[]);
            if is_flow(kind) {
                let known: Vec<f64> = days.iter().copied().filter(|v| !v.is_nan()).collect();
                if known.is_empty() {
                    f64::NAN
                } else {
                    known.iter().sum()
                }
            } else {
                days.last().copied().unwrap_or(f64::NAN)
            }
        })
        .collect()
}

/// Keeps the `groups` largest groups (by absolute total); the others are summed into
/// `(other groups)` when values add up, left out otherwise. Returns how many were not kept.
fn fold(label_z: &mut BTreeMap<String, Vec<f64>>, groups: usize, additive: bool) -> u64 {
    if label_z.len() <= groups {
        return 0;
    }
    let mut sizes: Vec<(f64, String)> = label_z
        .iter()
        .map(|(name, values)| {
            let size: f64 = values.iter().filter(|v| !v.is_nan()).map(|v| v.abs()).sum();
            (size, name.clone())
        })
        .collect();
    sizes.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let dropped: Vec<String> = sizes
        .into_iter()
        .skip(groups)
        .map(|(_, name)| name)
        .collect();
    let mut other: Option<Vec<f64>> = None;
    for name in &dropped {
        if let Some(values) = label_z.remove(name) {
            if additive {
                let sum = other.get_or_insert_with(|| vec![0.0; values.len()]);
                for (cell, value) in sum.iter_mut().zip(values) {
                    if !value.is_nan() {
                        *cell += value;
                    }
                }
            }
        }
    }
    if let Some(other) = other {
        label_z.insert(OTHER_GROUPS.to_string(), other);
    }
    u64::try_from(dropped.len()).unwrap_or(u64::MAX)
}

/// What the jobs say now: when the subscriptions last synced, and whether every object's
/// backfill is done (a partial history undercounts the past).
fn with_jobs(mut series: Series, jobs: &[SyncJob], expected: usize) -> Series {
    series.meta.synced_at = jobs
        .iter()
        .filter_map(|job| job.last_synced_at)
        .min()
        .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
        .map(|at| at.to_rfc3339());
    series.meta.partial = jobs.len() < expected || jobs.iter().any(|job| !job.backfill_done);
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_additive_groups_are_folded_into_other_groups() {
        let mut groups: BTreeMap<String, Vec<f64>> = [
            ("a".to_string(), vec![5.0, 5.0]),
            ("b".to_string(), vec![1.0, f64::NAN]),
            ("c".to_string(), vec![-9.0, 0.0]),
        ]
        .into_iter()
        .collect();
        let mut kept = groups.clone();
        assert_eq!(fold(&mut groups, 2, true), 1);
        assert_eq!(groups[OTHER_GROUPS], vec![1.0, 0.0]);
        assert!(groups.contains_key("a") && groups.contains_key("c"));
        assert_eq!(fold(&mut kept, 2, false), 1);
        assert!(!kept.contains_key(OTHER_GROUPS) && !kept.contains_key("b"));
    }

    #[test]
    fn flows_add_their_days_and_states_keep_the_last() {
        let window = Window::with_interval(
            chrono_tz::UTC,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
            14,
            Interval::Week,
        );
        let daily: Vec<f64> = (0..window.days()).map(|day| day as f64).collect();
        let mrr = bucketed(&window, MetricKind::Mrr, &daily);
        let new = bucketed(&window, MetricKind::NewCustomers, &daily);
        assert_eq!(mrr.len(), window.buckets());
        assert_eq!(mrr[0], 6.0);
        assert_eq!(new[0], (0..7).sum::<i32>() as f64);
    }

    #[test]
    fn the_shared_kind_names_are_the_computed_kinds() {
        let computed: Vec<&str> = MetricKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(computed, allmetrics_common::SUBSCRIPTION_KINDS.to_vec());
    }

    #[test]
    fn group_fields_are_currency_plan_or_nothing() {
        assert_eq!(grouping_of("").ok(), Some(Grouping::None));
        assert_eq!(grouping_of("plan").ok(), Some(Grouping::Plan));
        assert!(grouping_of("status").is_err());
    }
}
