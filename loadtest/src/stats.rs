//! Every request's route, outcome, start time and latency; summaries by route.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One request: `status` 0 when no answer came (connection refused, timeout).
#[derive(Clone, Debug)]
pub struct Sample {
    pub route: &'static str,
    pub status: u16,
    pub started: Duration,
    pub latency: Duration,
}

impl Sample {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Recorder {
    start: Instant,
    samples: Mutex<Vec<Sample>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            samples: Mutex::new(Vec::with_capacity(65_536)),
        }
    }

    /// Time since the load started.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn record(&self, route: &'static str, status: u16, started: Instant, latency: Duration) {
        let sample = Sample {
            route,
            status,
            started: started.saturating_duration_since(self.start),
            latency,
        };
        if let Ok(mut samples) = self.samples.lock() {
            samples.push(sample);
        }
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .map(|samples| samples.clone())
            .unwrap_or_default()
    }
}

/// The value below which `share` of the sorted latencies fall (nearest rank).
pub fn percentile(sorted: &[Duration], share: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub struct RouteSummary {
    pub requests: usize,
    pub errors: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Requests, errors and latencies by route, of the samples `keep` selects.
pub fn by_route(
    samples: &[Sample],
    keep: impl Fn(&Sample) -> bool,
) -> BTreeMap<&'static str, RouteSummary> {
    let mut latencies: BTreeMap<&'static str, (Vec<Duration>, usize)> = BTreeMap::new();
    for sample in samples.iter().filter(|sample| keep(sample)) {
        let entry = latencies.entry(sample.route).or_default();
        entry.0.push(sample.latency);
        if !sample.ok() {
            entry.1 += 1;
        }
    }
    latencies
        .into_iter()
        .map(|(route, (mut values, errors))| {
            values.sort();
            let summary = RouteSummary {
                requests: values.len(),
                errors,
                p50: percentile(&values, 0.50),
                p99: percentile(&values, 0.99),
                max: values.last().copied().unwrap_or_default(),
            };
            (route, summary)
        })
        .collect()
}

pub fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}
