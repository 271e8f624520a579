//! The compact MRR timeline: each subscription's monthly value sampled at day ends, kept only where it
//! changes. It is what the daily metrics are derived from, and what a caller can store and merge: tracks
//! are independent, so recomputing the subscriptions that changed and [`MrrTimeline::merge`]-ing them into
//! a stored timeline gives the same series as recomputing everything.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::history::{Part, SubscriptionHistory};
use crate::series::SeriesError;
use crate::settings::Settings;

/// The length of the implicit day before the first day end: the baseline day 0's movements compare with is
/// the state at `day_ends[0] - BASELINE_DAY`. A caller that needs an exact boundary (a 23- or 25-hour day)
/// passes one more leading day end and drops the first value.
pub const BASELINE_DAY: i64 = 86_400;

/// A subscription's monthly value from the end of day `day` on (until the next point).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub day: usize,
    /// By price; empty when the subscription has no MRR.
    pub parts: Vec<Part>,
}

/// One subscription in the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionTrack {
    pub subscription: String,
    pub customer: String,
    pub currency: String,
    /// Prices that had MRR > 0 at any instant up to the baseline (for `new` vs `reactivation`).
    pub ever_before: Vec<String>,
    /// The value at the baseline (the end of the day before day 0).
    pub baseline: Vec<Part>,
    /// Ascending days, each value differing from the one before.
    pub points: Vec<TrackPoint>,
    /// The day the trial started, and the day it converted (if within the days).
    pub trial_started: Option<usize>,
    pub trial_converted: Option<usize>,
    /// The prices of the trial (for grouping trials by plan).
    pub trial_prices: Vec<String>,
}

/// The MRR timeline of many subscriptions over the same days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MrrTimeline {
    /// Ascending; day `i` covers `(day_ends[i - 1], day_ends[i]]`.
    pub day_ends: Vec<i64>,
    pub tracks: Vec<SubscriptionTrack>,
}

/// A customer's MRR in one currency from the end of day `day` on (the customer-level change points).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerChange {
    pub day: usize,
    pub customer: String,
    pub currency: String,
    pub mrr: i64,
}

/// The day containing `at`: `(day_ends[i - 1], day_ends[i]]`, day 0 starting at the baseline.
pub(crate) fn day_of(day_ends: &[i64], at: i64) -> Option<usize> {
    let baseline = day_ends.first()?.saturating_sub(BASELINE_DAY);
    if at <= baseline {
        return None;
    }
    let day = day_ends.partition_point(|&end| end < at);
    (day < day_ends.len()).then_some(day)
}

fn check_days(day_ends: &[i64]) -> Result<(), SeriesError> {
    if day_ends.is_empty() || day_ends.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(SeriesError::BadDayEnds);
    }
    Ok(())
}

impl SubscriptionTrack {
    /// Samples a history at the day ends.
    pub fn build(
        history: &SubscriptionHistory,
        day_ends: &[i64],
        settings: &Settings,
    ) -> Result<SubscriptionTrack, SeriesError> {
        check_days(day_ends)?;
        Ok(Self::sampled(history, day_ends, settings))
    }

    /// Samples histories at the same day ends (checked once, not once per history: ten thousand
    /// histories over two years spent a third of their time checking the days again).
    pub fn build_all<'a>(
        histories: impl IntoIterator<Item = &'a SubscriptionHistory>,
        day_ends: &[i64],
        settings: &Settings,
    ) -> Result<Vec<SubscriptionTrack>, SeriesError> {
        check_days(day_ends)?;
        Ok(histories
            .into_iter()
            .map(|history| Self::sampled(history, day_ends, settings))
            .collect())
    }

    /// Samples a history at day ends already checked.
    fn sampled(
        history: &SubscriptionHistory,
        day_ends: &[i64],
        settings: &Settings,
    ) -> SubscriptionTrack {
        let baseline_at = day_ends[0].saturating_sub(BASELINE_DAY);
        let last_end = day_ends[day_ends.len() - 1];
        let mut ever_before: Vec<String> = Vec::new();
        let mut baseline: Vec<Part> = Vec::new();
        let mut points: Vec<TrackPoint> = Vec::new();
        for step in history.mrr_steps(settings) {
            if step.from > last_end {
                break;
            }
            if step.from <= baseline_at {
                for part in &step.value.parts {
                    if part.mrr > 0 && !ever_before.contains(&part.price) {
                        ever_before.push(part.price.clone());
                    }
                }
                baseline = step.value.parts;
                continue;
            }
            let day = day_ends.partition_point(|&end| end < step.from);
            match points.last_mut() {
                Some(last) if last.day == day => last.parts = step.value.parts,
                _ => points.push(TrackPoint {
                    day,
                    parts: step.value.parts,
                }),
            }
        }
        // Drop points equal to the value before them (a change and its undoing within one day).
        let mut kept: Vec<TrackPoint> = Vec::with_capacity(points.len());
        for point in points {
            let before = kept.last().map_or(&baseline, |last| &last.parts);
            if *before != point.parts {
                kept.push(point);
            }
        }
        ever_before.sort();
        let trial_started = history.trial.and_then(|(start, _)| day_of(day_ends, start));
        let trial_converted = history
            .trial
            .filter(|_| history.trial_converted())
            .and_then(|(_, end)| day_of(day_ends, end));
        let mut trial_prices: Vec<String> = history
            .trial
            .and_then(|(start, _)| history.state_at(start))
            .map(|state| state.items.iter().map(|item| item.price.clone()).collect())
            .unwrap_or_default();
        trial_prices.sort();
        trial_prices.dedup();
        SubscriptionTrack {
            subscription: history.id.clone(),
            customer: history.customer.clone(),
            currency: history.currency().to_ascii_lowercase(),
            ever_before,
            baseline,
            points: kept,
            trial_started,
            trial_converted,
            trial_prices,
        }
    }
}

impl MrrTimeline {
    /// The timeline of `histories` over `day_ends` (ascending, at least one).
    pub fn build(
        histories: &[SubscriptionHistory],
        day_ends: &[i64],
        settings: &Settings,
    ) -> Result<MrrTimeline, SeriesError> {
        let tracks = SubscriptionTrack::build_all(histories, day_ends, settings)?;
        MrrTimeline::from_tracks(day_ends, tracks)
    }

    /// The timeline of tracks built apart (on several threads, say) over `day_ends`.
    pub fn from_tracks(
        day_ends: &[i64],
        tracks: Vec<SubscriptionTrack>,
    ) -> Result<MrrTimeline, SeriesError> {
        check_days(day_ends)?;
        Ok(MrrTimeline {
            day_ends: day_ends.to_vec(),
            tracks,
        })
    }

    /// Adds `other`'s tracks, replacing those of the same subscriptions. Both must cover the same days.
    pub fn merge(&mut self, other: MrrTimeline) -> Result<(), SeriesError> {
        if self.day_ends != other.day_ends {
            return Err(SeriesError::MismatchedDays);
        }
        let mut position: HashMap<String, usize> = self
            .tracks
            .iter()
            .enumerate()
            .map(|(i, track)| (track.subscription.clone(), i))
            .collect();
        for track in other.tracks {
            match position.get(&track.subscription) {
                Some(&i) => self.tracks[i] = track,
                None => {
                    position.insert(track.subscription.clone(), self.tracks.len());
                    self.tracks.push(track);
                }
            }
        }
        Ok(())
    }

    /// Per customer and currency, the days its native MRR (the sum of its subscriptions') changes, with the
    /// new value, in day order. The value at the baseline is the starting point and is not reported.
    pub fn customer_changes(&self) -> Vec<CustomerChange> {
        // (customer, currency) -> day -> delta of the sum of its subscriptions' totals.
        let mut deltas: BTreeMap<(&str, &str), BTreeMap<usize, i64>> = BTreeMap::new();
        let mut baselines: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for track in &self.tracks {
            let key = (track.customer.as_str(), track.currency.as_str());
            let total = |parts: &[Part]| parts.iter().map(|part| part.mrr).sum::<i64>();
            let mut before = total(&track.baseline);
            *baselines.entry(key).or_default() += before;
            let days = deltas.entry(key).or_default();
            for point in &track.points {
                let now = total(&point.parts);
                *days.entry(point.day).or_default() += now - before;
                before = now;
            }
        }
        let mut changes = Vec::new();
        for (key, days) in deltas {
            let mut value = baselines.get(&key).copied().unwrap_or(0);
            for (day, delta) in days {
                if delta != 0 {
                    value += delta;
                    changes.push(CustomerChange {
                        day,
                        customer: key.0.to_owned(),
                        currency: key.1.to_owned(),
                        mrr: value,
                    });
                }
            }
        }
        changes.sort_by(|a, b| {
            (a.day, &a.customer, &a.currency).cmp(&(b.day, &b.customer, &b.currency))
        });
        changes
    }
}
