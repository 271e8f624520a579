//! The administrators' exchange rates, for subscription metrics of every connection whose own
//! provider lacks a day or a currency.

pub mod get;
pub mod replace;

use allmetrics_common::FxRatesSummary;

use crate::domain::RatesSummary;

pub fn summary_response(summary: RatesSummary) -> FxRatesSummary {
    let day = |day: chrono::NaiveDate| day.format("%Y-%m-%d").to_string();
    FxRatesSummary {
        rates: summary.rates,
        bases: summary.bases,
        currencies: summary.currencies,
        first_day: summary.first_day.map(day),
        last_day: summary.last_day.map(day),
    }
}
