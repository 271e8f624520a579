//! Daily exchange rates to a reporting currency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::series::SeriesError;

/// Rates to one reporting currency: for each currency, (instant, rate) pairs; the rate in force at an instant
/// is the latest one at or before it (the earliest one before all of them). The reporting currency itself is
/// always at 1 and needs no entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FxRates {
    reporting: String,
    rates: BTreeMap<String, BTreeMap<i64, f64>>,
    /// Every currency at 1: amounts are not converted (only whether they are zero counts).
    #[serde(default)]
    at_par: bool,
}

impl FxRates {
    /// No rates yet: only the reporting currency converts.
    pub fn new(reporting: &str) -> FxRates {
        FxRates {
            reporting: reporting.to_ascii_lowercase(),
            rates: BTreeMap::new(),
            at_par: false,
        }
    }

    /// Every currency at 1: for what does not depend on amounts (customers, subscribers, trials)
    /// when some currency has no rate.
    pub fn at_par(&self) -> FxRates {
        FxRates {
            reporting: self.reporting.clone(),
            rates: BTreeMap::new(),
            at_par: true,
        }
    }

    /// How many rates it holds, of every currency.
    pub fn len(&self) -> usize {
        self.rates.values().map(BTreeMap::len).sum()
    }

    /// Whether it holds no rate (only the reporting currency converts, or every one at par).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reporting currency (lower case).
    pub fn reporting(&self) -> &str {
        &self.reporting
    }

    /// One unit of `currency` is worth `rate` units of the reporting currency from `at` (typically a day
    /// boundary) until the next rate.
    pub fn insert(&mut self, currency: &str, at: i64, rate: f64) {
        self.rates
            .entry(currency.to_ascii_lowercase())
            .or_default()
            .insert(at, rate);
    }

    /// Builder form of [`FxRates::insert`].
    pub fn with(mut self, currency: &str, at: i64, rate: f64) -> FxRates {
        self.insert(currency, at, rate);
        self
    }

    /// The rate of `currency` at `at`: the latest at or before it, else the earliest known; an error when the
    /// currency has no rate at all.
    pub fn rate_at(&self, currency: &str, at: i64) -> Result<f64, SeriesError> {
        if self.at_par || currency.eq_ignore_ascii_case(&self.reporting) {
            return Ok(1.0);
        }
        let missing = || SeriesError::MissingRate {
            currency: currency.to_ascii_lowercase(),
        };
        let table = self
            .rates
            .get(&currency.to_ascii_lowercase())
            .ok_or_else(missing)?;
        table
            .range(..=at)
            .next_back()
            .or_else(|| table.iter().next())
            .map(|(_, rate)| *rate)
            .ok_or_else(missing)
    }

    /// The rates of `currency` at each of `instants` (ascending).
    pub fn rates_at(&self, currency: &str, instants: &[i64]) -> Result<Vec<f64>, SeriesError> {
        instants
            .iter()
            .map(|&at| self.rate_at(currency, at))
            .collect()
    }
}
