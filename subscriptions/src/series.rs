//! The daily metrics: one series per metric kind, with groups and a total.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::fx::FxRates;
use crate::history::SubscriptionHistory;
use crate::movements::{sweep, DayTotals, Split, MOVEMENTS};
use crate::settings::Settings;
use crate::timeline::MrrTimeline;

/// The metric kinds (their names are part of the API contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Mrr,
    Arr,
    MrrMovements,
    ActiveSubscribers,
    ActiveCustomers,
    NewCustomers,
    ChurnedCustomers,
    CustomerChurnRate,
    RevenueChurnRate,
    Arpu,
    Ltv,
    Trials,
}

impl MetricKind {
    pub const ALL: [MetricKind; 12] = [
        MetricKind::Mrr,
        MetricKind::Arr,
        MetricKind::MrrMovements,
        MetricKind::ActiveSubscribers,
        MetricKind::ActiveCustomers,
        MetricKind::NewCustomers,
        MetricKind::ChurnedCustomers,
        MetricKind::CustomerChurnRate,
        MetricKind::RevenueChurnRate,
        MetricKind::Arpu,
        MetricKind::Ltv,
        MetricKind::Trials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Mrr => "mrr",
            MetricKind::Arr => "arr",
            MetricKind::MrrMovements => "mrr_movements",
            MetricKind::ActiveSubscribers => "active_subscribers",
            MetricKind::ActiveCustomers => "active_customers",
            MetricKind::NewCustomers => "new_customers",
            MetricKind::ChurnedCustomers => "churned_customers",
            MetricKind::CustomerChurnRate => "customer_churn_rate",
            MetricKind::RevenueChurnRate => "revenue_churn_rate",
            MetricKind::Arpu => "arpu",
            MetricKind::Ltv => "ltv",
            MetricKind::Trials => "trials",
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MetricKind {
    type Err = SeriesError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MetricKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| SeriesError::UnknownKind(text.to_owned()))
    }
}

/// How a series is grouped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// No groups (but see `mrr_movements` and `trials`); amounts converted to the reporting currency.
    #[default]
    None,
    /// By currency, each group in its own currency, unconverted.
    Currency,
    /// By price id, converted to the reporting currency.
    Plan,
}

/// Why a series cannot be computed (all are the caller's mistake: a 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeriesError {
    /// A currency with MRR has no rate to the reporting currency.
    MissingRate {
        currency: String,
    },
    /// `day_ends` is empty or not strictly ascending.
    BadDayEnds,
    /// Timelines over different days cannot merge.
    MismatchedDays,
    UnknownKind(String),
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesError::MissingRate { currency } => {
                write!(
                    f,
                    "no exchange rate for {currency} to the reporting currency"
                )
            }
            SeriesError::BadDayEnds => f.write_str("day ends must be ascending and not empty"),
            SeriesError::MismatchedDays => f.write_str("timelines cover different days"),
            SeriesError::UnknownKind(kind) => write!(f, "unknown subscription metric kind {kind}"),
        }
    }
}

impl std::error::Error for SeriesError {}

/// One value of a series: money and counts are integers, rates and averages floats.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(value) => Some(value),
            Number::Float(_) => None,
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(value) => value as f64,
            Number::Float(value) => value,
        }
    }
}

/// A daily series: one value per day end, `None` where the value does not exist (a rate over zero).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub total: Vec<Option<Number>>,
    pub groups: BTreeMap<String, Vec<Option<Number>>>,
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator != 0.0).then(|| numerator / denominator)
}

/// The per-day values of `kind` from one group's samples (index 0 the baseline).
fn values(kind: MetricKind, samples: &[DayTotals], settings: &Settings) -> Vec<Option<Number>> {
    let window = usize::try_from(settings.churn_window_days)
        .unwrap_or(usize::MAX)
        .max(1);
    let days = 1..samples.len();
    let int = |f: &dyn Fn(&DayTotals) -> i64| -> Vec<Option<Number>> {
        days.clone()
            .map(|s| Some(Number::Int(f(&samples[s]))))
            .collect()
    };
    let customer_churn = |s: usize| -> Option<f64> {
        let before = s.checked_sub(window)?;
        let churned: i64 = samples[before + 1..=s]
            .iter()
            .map(|day| day.churned_customers)
            .sum();
        ratio(churned as f64, samples[before].customers as f64)
    };
    let revenue_churn = |s: usize| -> Option<f64> {
        let before = s.checked_sub(window)?;
        let lost: i64 = samples[before + 1..=s]
            .iter()
            .map(|day| {
                let m = day.movements;
                let lost = -(m[3] + m[4]);
                if settings.revenue_churn_net_of_expansion {
                    lost - m[1] - m[2]
                } else {
                    lost
                }
            })
            .sum();
        ratio(lost as f64, samples[before].mrr as f64)
    };
    let arpu = |s: usize| ratio(samples[s].mrr as f64, samples[s].customers as f64);
    let float = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<Option<Number>> {
        days.clone().map(|s| f(s).map(Number::Float)).collect()
    };
    match kind {
        MetricKind::Mrr => int(&|d| d.mrr),
        MetricKind::Arr => int(&|d| 12 * d.mrr),
        MetricKind::MrrMovements => int(&|d| d.movements.iter().sum()),
        MetricKind::ActiveSubscribers => int(&|d| d.subscribers),
        MetricKind::ActiveCustomers => int(&|d| d.customers),
        MetricKind::NewCustomers => int(&|d| d.new_customers),
        MetricKind::ChurnedCustomers => int(&|d| d.churned_customers),
        MetricKind::Trials => int(&|d| d.trials_started),
        MetricKind::CustomerChurnRate => float(&customer_churn),
        MetricKind::RevenueChurnRate => float(&revenue_churn),
        MetricKind::Arpu => float(&arpu),
        MetricKind::Ltv => float(&|s| {
            let churn = customer_churn(s).filter(|&rate| rate > 0.0)?;
            arpu(s).map(|arpu| arpu / churn)
        }),
    }
}

/// The series of `kind` from a timeline.
///
/// * `total` is always the ungrouped series, converted to the reporting currency (so rates are needed for
///   every currency with MRR), except grouped by currency: without the rates of some currency, its amounts
///   (MRR, ARR, ARPU, LTV, revenue churn, movements) are `None` and its counts still hold.
/// * Grouped by currency, each group is in its own currency, unconverted; by plan, each price's share of
///   its subscriptions' monthly values, converted (plan groups may differ from the total by rounding).
/// * `mrr_movements`: the groups are always the six movements `new`, `expansion`, `reactivation`
///   (positive), `contraction`, `churn` (negative) and `fx` of the converted total; the total is net new
///   MRR (their sum, the day's change of MRR). The grouping does not apply.
/// * `trials`: the total is trials started per day; ungrouped, the groups are `started` and `converted`
///   (trials whose subscription became paying at the trial's end, on that day); grouped by currency or
///   plan, the groups are trials started in each.
pub fn series_from_timeline(
    timeline: &MrrTimeline,
    kind: MetricKind,
    grouping: Grouping,
    fx: &FxRates,
    settings: &Settings,
) -> Result<Series, SeriesError> {
    let sweeps = Sweeps::run(timeline, grouping, fx)?;
    Ok(sweeps.series(kind, grouping, settings))
}

/// The day totals a grouping's series are derived from: the converted total's, and the groups'.
/// Every figure of a day is a sum over customers (movements are per customer), so the sweeps of
/// timelines of different customers over the same days [`Sweeps::add`] up to the sweep of their
/// union: a caller can sweep a large timeline in parts, on several threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweeps {
    total: Vec<DayTotals>,
    /// Whether the total's amounts are converted: grouped by currency without the rates of some
    /// currency, they are not (its counts still hold).
    converted: bool,
    groups: BTreeMap<String, Vec<DayTotals>>,
}

/// Whether a kind's value is an amount of money, or a ratio of amounts.
fn is_amount(kind: MetricKind) -> bool {
    matches!(
        kind,
        MetricKind::Mrr
            | MetricKind::Arr
            | MetricKind::MrrMovements
            | MetricKind::RevenueChurnRate
            | MetricKind::Arpu
            | MetricKind::Ltv
    )
}

impl Sweeps {
    /// Sweeps `timeline` for `grouping`'s series.
    pub fn run(
        timeline: &MrrTimeline,
        grouping: Grouping,
        fx: &FxRates,
    ) -> Result<Sweeps, SeriesError> {
        let (total, converted) = match sweep(timeline, Split::Total, fx) {
            Ok(mut total) => (total.remove("").unwrap_or_default(), true),
            // Grouped by currency, each group is in its own money and needs no rate: without
            // the rates of some currency, the total's counts hold, its amounts do not.
            Err(SeriesError::MissingRate { .. }) if grouping == Grouping::Currency => {
                let mut total = sweep(timeline, Split::Total, &fx.at_par())?;
                (total.remove("").unwrap_or_default(), false)
            }
            Err(error) => return Err(error),
        };
        let groups = match grouping {
            Grouping::None => BTreeMap::new(),
            Grouping::Currency => sweep(timeline, Split::Currency, fx)?,
            Grouping::Plan => sweep(timeline, Split::Plan, fx)?,
        };
        Ok(Sweeps {
            total,
            converted,
            groups,
        })
    }

    /// Adds the sweep of other customers over the same days and grouping.
    pub fn add(&mut self, other: Sweeps) -> Result<(), SeriesError> {
        fn add_days(days: &mut [DayTotals], others: &[DayTotals]) -> Result<(), SeriesError> {
            if days.len() != others.len() {
                return Err(SeriesError::MismatchedDays);
            }
            for (day, other) in days.iter_mut().zip(others) {
                day.add(other);
            }
            Ok(())
        }
        add_days(&mut self.total, &other.total)?;
        // Amounts summed from a part without some rate (at par) are not the total's either.
        self.converted &= other.converted;
        for (name, days) in other.groups {
            match self.groups.get_mut(&name) {
                Some(kept) => add_days(kept, &days)?,
                None => {
                    if days.len() != self.total.len() {
                        return Err(SeriesError::MismatchedDays);
                    }
                    self.groups.insert(name, days);
                }
            }
        }
        Ok(())
    }

    /// Every kind's series.
    pub fn all_series(
        &self,
        grouping: Grouping,
        settings: &Settings,
    ) -> BTreeMap<MetricKind, Series> {
        MetricKind::ALL
            .into_iter()
            .map(|kind| (kind, self.series(kind, grouping, settings)))
            .collect()
    }

    /// One kind's series.
    pub fn series(&self, kind: MetricKind, grouping: Grouping, settings: &Settings) -> Series {
        let samples = &self.total;
        let total = if self.converted || !is_amount(kind) {
            values(kind, samples, settings)
        } else {
            vec![None; samples.len().saturating_sub(1)]
        };
        if kind == MetricKind::MrrMovements && !self.converted {
            // The movements are the total's: without rates there are none.
            return Series {
                total,
                groups: BTreeMap::new(),
            };
        }
        let column = |f: &dyn Fn(&DayTotals) -> i64| -> Vec<Option<Number>> {
            samples
                .iter()
                .skip(1)
                .map(|day| Some(Number::Int(f(day))))
                .collect()
        };
        let mut groups = BTreeMap::new();
        match (kind, grouping) {
            (MetricKind::MrrMovements, _) => {
                for (index, name) in MOVEMENTS.iter().enumerate() {
                    groups.insert((*name).to_owned(), column(&|day| day.movements[index]));
                }
            }
            (MetricKind::Trials, Grouping::None) => {
                groups.insert("started".to_owned(), column(&|day| day.trials_started));
                groups.insert("converted".to_owned(), column(&|day| day.trials_converted));
            }
            (_, Grouping::None) => {}
            (_, Grouping::Currency | Grouping::Plan) => {
                for (name, samples) in &self.groups {
                    groups.insert(name.clone(), values(kind, samples, settings));
                }
            }
        }
        Series { total, groups }
    }
}

/// Every kind's series from a timeline (the sweeps are shared).
pub fn all_series_from_timeline(
    timeline: &MrrTimeline,
    grouping: Grouping,
    fx: &FxRates,
    settings: &Settings,
) -> Result<BTreeMap<MetricKind, Series>, SeriesError> {
    Ok(Sweeps::run(timeline, grouping, fx)?.all_series(grouping, settings))
}

/// The series of `kind` for `histories` over `day_ends` (ascending; day `i` covers
/// `(day_ends[i - 1], day_ends[i]]`): [`MrrTimeline::build`] then [`series_from_timeline`].
pub fn compute_series(
    histories: &[SubscriptionHistory],
    day_ends: &[i64],
    kind: MetricKind,
    grouping: Grouping,
    fx: &FxRates,
    settings: &Settings,
) -> Result<Series, SeriesError> {
    let timeline = MrrTimeline::build(histories, day_ends, settings)?;
    series_from_timeline(&timeline, kind, grouping, fx, settings)
}
