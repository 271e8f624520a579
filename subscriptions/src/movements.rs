//! The daily sweep over the timeline: customer-level MRR movements and the counts, per group.
//!
//! Each day only the customers whose subscriptions changed are looked at, plus, on a day a rate changes,
//! every customer with MRR (their converted value changed): linear in changes + days x active customers.
//!
//! For a customer (within a group), with `prev` its subscriptions' native values at the end of the day
//! before and `now` at the end of the day, each converted at today's rate `r` and rounded per subscription:
//! `fx = Σ conv(prev, r) - yesterday's converted value`, and the rest `Σ conv(now, r) - Σ conv(prev, r)` is
//! `new` (no MRR before, never had any), `reactivation` (no MRR before, had some once), `churn` (MRR before,
//! none now), or `expansion` / `contraction` (MRR before and now, up / down). So the movements of a day sum
//! to the change of the converted MRR exactly.

use std::collections::{BTreeMap, HashMap};

use crate::fx::FxRates;
use crate::history::Part;
use crate::money::convert;
use crate::series::SeriesError;
use crate::timeline::{MrrTimeline, SubscriptionTrack, BASELINE_DAY};

/// The movement groups of `mrr_movements`, in this order in [`DayTotals::movements`].
pub const MOVEMENTS: [&str; 6] = [
    "new",
    "expansion",
    "reactivation",
    "contraction",
    "churn",
    "fx",
];
const NEW: usize = 0;
const EXPANSION: usize = 1;
const REACTIVATION: usize = 2;
const CONTRACTION: usize = 3;
const CHURN: usize = 4;
const FX: usize = 5;

/// One group's figures at one sample (a day end, or the baseline).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayTotals {
    /// MRR at the end of the day (converted, or native when split by currency).
    pub mrr: i64,
    /// Subscriptions with MRR > 0.
    pub subscribers: i64,
    /// Customers with MRR > 0.
    pub customers: i64,
    /// The day's movements, in [`MOVEMENTS`] order (contraction and churn negative).
    pub movements: [i64; 6],
    pub new_customers: i64,
    pub churned_customers: i64,
    pub trials_started: i64,
    pub trials_converted: i64,
}

impl DayTotals {
    /// Adds the figures of other customers on the same day.
    pub fn add(&mut self, other: &DayTotals) {
        self.mrr += other.mrr;
        self.subscribers += other.subscribers;
        self.customers += other.customers;
        for (movement, other) in self.movements.iter_mut().zip(other.movements) {
            *movement += other;
        }
        self.new_customers += other.new_customers;
        self.churned_customers += other.churned_customers;
        self.trials_started += other.trials_started;
        self.trials_converted += other.trials_converted;
    }
}

/// How subscriptions are split into groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One group `""`, converted to the reporting currency.
    Total,
    /// By currency, each in its own currency (unconverted).
    Currency,
    /// By price id, converted.
    Plan,
}

#[derive(Clone, Copy)]
struct Member {
    track: usize,
    currency: usize,
    value: i64,
}

struct Pair {
    group: usize,
    members: Vec<Member>,
    snapshot: Option<Vec<Member>>,
    dirty: bool,
    converted: i64,
    ever: bool,
}

struct Sweep<'a> {
    split: Split,
    group_names: Vec<String>,
    group_index: HashMap<String, usize>,
    days: Vec<Vec<DayTotals>>,
    running: Vec<DayTotals>,
    samples: usize,
    customers: HashMap<&'a str, usize>,
    pair_index: HashMap<(usize, usize), usize>,
    pairs: Vec<Pair>,
}

impl<'a> Sweep<'a> {
    fn group(&mut self, name: &str) -> usize {
        if let Some(&index) = self.group_index.get(name) {
            return index;
        }
        let index = self.group_names.len();
        self.group_names.push(name.to_owned());
        self.group_index.insert(name.to_owned(), index);
        self.days.push(vec![DayTotals::default(); self.samples]);
        self.running.push(DayTotals::default());
        index
    }

    fn customer(&mut self, name: &'a str) -> usize {
        let next = self.customers.len();
        *self.customers.entry(name).or_insert(next)
    }

    fn pair(&mut self, group: usize, customer: usize) -> usize {
        if let Some(&index) = self.pair_index.get(&(group, customer)) {
            return index;
        }
        let index = self.pairs.len();
        self.pairs.push(Pair {
            group,
            members: Vec::new(),
            snapshot: None,
            dirty: false,
            converted: 0,
            ever: false,
        });
        self.pair_index.insert((group, customer), index);
        index
    }

    /// A track's contributions to groups: (group, native value > 0).
    fn contributions(&mut self, track: &SubscriptionTrack, parts: &[Part]) -> Vec<(usize, i64)> {
        let total: i64 = parts.iter().map(|part| part.mrr).sum();
        match self.split {
            Split::Total if total > 0 => vec![(self.group(""), total)],
            Split::Currency if total > 0 => vec![(self.group(&track.currency), total)],
            Split::Total | Split::Currency => Vec::new(),
            Split::Plan => parts
                .iter()
                .filter(|part| part.mrr > 0)
                .map(|part| (self.group(&part.price), part.mrr))
                .collect(),
        }
    }

    /// The groups a list of prices (ever had MRR, or a trial's) falls in.
    fn groups_of(&mut self, track: &SubscriptionTrack, prices: &[String]) -> Vec<usize> {
        match self.split {
            Split::Total => vec![self.group("")],
            Split::Currency => vec![self.group(&track.currency)],
            Split::Plan => prices.iter().map(|price| self.group(price)).collect(),
        }
    }

    fn mark(&mut self, pair: usize, snapshot: bool) {
        let pair = &mut self.pairs[pair];
        if !pair.dirty {
            pair.dirty = true;
            if snapshot {
                pair.snapshot = Some(pair.members.clone());
            }
        } else if snapshot && pair.snapshot.is_none() {
            // Marked for a rate change first: members are still yesterday's.
            pair.snapshot = Some(pair.members.clone());
        }
    }

    fn record(&mut self, sample: usize) {
        for (group, running) in self.running.iter().enumerate() {
            let day = &mut self.days[group][sample];
            day.mrr = running.mrr;
            day.subscribers = running.subscribers;
            day.customers = running.customers;
        }
    }
}

/// Sweeps the timeline: per group, `day_ends.len() + 1` samples (index 0 the baseline, `i + 1` day `i`).
/// Rates are needed for every currency with MRR unless split by currency.
pub fn sweep(
    timeline: &MrrTimeline,
    split: Split,
    fx: &FxRates,
) -> Result<BTreeMap<String, Vec<DayTotals>>, SeriesError> {
    let day_ends = &timeline.day_ends;
    let Some(&first_end) = day_ends.first() else {
        return Err(SeriesError::BadDayEnds);
    };
    let n = day_ends.len();
    let mut instants = Vec::with_capacity(n + 1);
    instants.push(first_end.saturating_sub(BASELINE_DAY));
    instants.extend_from_slice(day_ends);
    let convert_to_reporting = split != Split::Currency;

    let mut sweep = Sweep {
        split,
        group_names: Vec::new(),
        group_index: HashMap::new(),
        days: Vec::new(),
        running: Vec::new(),
        samples: n + 1,
        customers: HashMap::new(),
        pair_index: HashMap::new(),
        pairs: Vec::new(),
    };
    if split == Split::Total {
        sweep.group("");
    }

    // Currencies, and their rates at each sample (only for currencies with MRR).
    let mut currency_index: HashMap<&str, usize> = HashMap::new();
    let mut rates: Vec<Vec<f64>> = Vec::new();
    let mut track_currency = Vec::with_capacity(timeline.tracks.len());
    let mut track_customer = Vec::with_capacity(timeline.tracks.len());
    for track in &timeline.tracks {
        let next = currency_index.len();
        let currency = *currency_index
            .entry(track.currency.as_str())
            .or_insert(next);
        if currency == rates.len() {
            rates.push(Vec::new());
        }
        let has_value = !track.baseline.is_empty() || !track.points.is_empty();
        if has_value && rates[currency].is_empty() {
            rates[currency] = if convert_to_reporting {
                fx.rates_at(&track.currency, &instants)?
            } else {
                vec![1.0; n + 1]
            };
        }
        track_currency.push(currency);
        track_customer.push(sweep.customer(track.customer.as_str()));
    }
    // Per sample, the currencies whose rate moved since the sample before: only the customers
    // holding one of them have an `fx` movement that day (most days move every foreign rate, none
    // of the reporting currency's subscriptions).
    let rate_changed: Vec<Vec<bool>> = (0..=n)
        .map(|s| {
            rates
                .iter()
                .map(|r| s > 0 && r.len() > s && r[s].to_bits() != r[s - 1].to_bits())
                .collect()
        })
        .collect();

    // The baseline.
    let mut contributions: Vec<Vec<(usize, i64)>> = Vec::with_capacity(timeline.tracks.len());
    for (t, track) in timeline.tracks.iter().enumerate() {
        let contribution = sweep.contributions(track, &track.baseline);
        for &(group, value) in &contribution {
            let pair = sweep.pair(group, track_customer[t]);
            sweep.pairs[pair].members.push(Member {
                track: t,
                currency: track_currency[t],
                value,
            });
            sweep.running[group].subscribers += 1;
        }
        contributions.push(contribution);
        if !track.ever_before.is_empty() {
            for group in sweep.groups_of(track, &track.ever_before) {
                let pair = sweep.pair(group, track_customer[t]);
                sweep.pairs[pair].ever = true;
            }
        }
    }
    let converted = |members: &[Member], sample: usize| -> i64 {
        members
            .iter()
            .map(|m| convert(m.value, rates[m.currency][sample]))
            .sum()
    };
    for pair in &mut sweep.pairs {
        pair.converted = converted(&pair.members, 0);
        sweep.running[pair.group].mrr += pair.converted;
        if !pair.members.is_empty() {
            sweep.running[pair.group].customers += 1;
            pair.ever = true;
        }
    }
    sweep.record(0);

    // What happens on each day.
    let mut points_by_day: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut trials_by_day: Vec<Vec<(usize, bool)>> = vec![Vec::new(); n];
    for (t, track) in timeline.tracks.iter().enumerate() {
        for (k, point) in track.points.iter().enumerate() {
            if let Some(day) = points_by_day.get_mut(point.day) {
                day.push((t, k));
            }
        }
        for (day, converted) in [(track.trial_started, false), (track.trial_converted, true)] {
            if let Some(list) = day.and_then(|day| trials_by_day.get_mut(day)) {
                list.push((t, converted));
            }
        }
    }

    let mut dirty: Vec<usize> = Vec::new();
    for day in 0..n {
        let sample = day + 1;
        for &(t, k) in &points_by_day[day] {
            let track = &timeline.tracks[t];
            let new = sweep.contributions(track, &track.points[k].parts);
            let old = std::mem::take(&mut contributions[t]);
            for &(group, _) in &old {
                let pair = sweep.pair(group, track_customer[t]);
                if !sweep.pairs[pair].dirty {
                    dirty.push(pair);
                }
                sweep.mark(pair, true);
                sweep.pairs[pair].members.retain(|m| m.track != t);
                sweep.running[group].subscribers -= 1;
            }
            for &(group, value) in &new {
                let pair = sweep.pair(group, track_customer[t]);
                if !sweep.pairs[pair].dirty {
                    dirty.push(pair);
                }
                sweep.mark(pair, true);
                sweep.pairs[pair].members.push(Member {
                    track: t,
                    currency: track_currency[t],
                    value,
                });
                sweep.running[group].subscribers += 1;
            }
            contributions[t] = new;
        }
        let moved = &rate_changed[sample];
        if moved.contains(&true) {
            for pair in 0..sweep.pairs.len() {
                let holds_moved = sweep.pairs[pair]
                    .members
                    .iter()
                    .any(|member| moved[member.currency]);
                if holds_moved && !sweep.pairs[pair].dirty {
                    dirty.push(pair);
                    sweep.mark(pair, false);
                }
            }
        }
        for &p in &dirty {
            let pair = &mut sweep.pairs[p];
            let now_positive = !pair.members.is_empty();
            let now = converted(&pair.members, sample);
            // Without a snapshot only the rates moved: the members are the same.
            let (at_today_rate, prev_positive) = match &pair.snapshot {
                Some(prev) => (converted(prev, sample), !prev.is_empty()),
                None => (now, now_positive),
            };
            let totals = &mut sweep.days[pair.group][sample];
            let running = &mut sweep.running[pair.group];
            totals.movements[FX] += at_today_rate - pair.converted;
            let change = now - at_today_rate;
            match (prev_positive, now_positive) {
                (false, true) if pair.ever => {
                    totals.movements[REACTIVATION] += change;
                    running.customers += 1;
                }
                (false, true) => {
                    totals.movements[NEW] += change;
                    totals.new_customers += 1;
                    running.customers += 1;
                }
                (true, false) => {
                    totals.movements[CHURN] += change;
                    totals.churned_customers += 1;
                    running.customers -= 1;
                }
                (true, true) if change > 0 => totals.movements[EXPANSION] += change,
                (true, true) => totals.movements[CONTRACTION] += change,
                (false, false) => {}
            }
            running.mrr += now - pair.converted;
            pair.converted = now;
            pair.ever |= now_positive;
            pair.dirty = false;
            pair.snapshot = None;
        }
        dirty.clear();
        for &(t, converted) in &trials_by_day[day] {
            let track = &timeline.tracks[t];
            for group in sweep.groups_of(track, &track.trial_prices) {
                let totals = &mut sweep.days[group][sample];
                if converted {
                    totals.trials_converted += 1;
                } else {
                    totals.trials_started += 1;
                }
            }
        }
        sweep.record(sample);
    }
    Ok(sweep.group_names.into_iter().zip(sweep.days).collect())
}
