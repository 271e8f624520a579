//! From the stored daily rates to the rates one series converts with.

use std::collections::BTreeMap;

use allmetrics_subscriptions::FxRates;
use chrono::NaiveDate;

use crate::domain::{DailyRate, StoredRates};

/// The rates to `reporting` of each of `currencies`: a day's rate comes from the connection's
/// own rates of that day, else from the administrators'; either may state it against another
/// base (a cross rate then: one unit of `c` is worth `rate[reporting] / rate[c]` units of the
/// reporting currency, the base itself at 1). A currency with no rate at all is left out (the
/// series then answers `missing_fx_rate` if it needs it).
///
/// A rate applies from the start of its day (UTC) until the next day with a rate, the earliest
/// one before all of them. A series takes each day's value at the day's end, an instant that is
/// already the next day's start: the rate is placed one second into its day, so that the value
/// of a day is converted at that day's rate, not the next one's.
pub fn reporting_rates(reporting: &str, currencies: &[String], stored: &StoredRates) -> FxRates {
    let own = by_day(&stored.own);
    let admins = by_day(&stored.admins);
    let mut days: Vec<NaiveDate> = own.keys().chain(admins.keys()).copied().collect();
    days.sort_unstable();
    days.dedup();
    let mut rates = FxRates::new(reporting);
    for day in days {
        let at = day_start(day).saturating_add(1);
        for currency in currencies.iter().filter(|c| *c != reporting) {
            let rate = [&own, &admins]
                .iter()
                .find_map(|source| cross_rate(source.get(&day)?, currency, reporting));
            if let Some(rate) = rate {
                rates.insert(currency, at, rate);
            }
        }
    }
    rates
}

fn by_day(rates: &[DailyRate]) -> BTreeMap<NaiveDate, Vec<&DailyRate>> {
    let mut days: BTreeMap<NaiveDate, Vec<&DailyRate>> = BTreeMap::new();
    for rate in rates {
        days.entry(rate.day).or_default().push(rate);
    }
    days
}

/// Units of `to` one unit of `from` buys, from one day's rates (the first base, by name, that
/// states both).
fn cross_rate(day: &[&DailyRate], from: &str, to: &str) -> Option<f64> {
    let mut bases: Vec<&str> = day.iter().map(|rate| rate.base.as_str()).collect();
    bases.sort_unstable();
    bases.dedup();
    bases.into_iter().find_map(|base| {
        let of = |currency: &str| {
            if currency == base {
                return Some(1.0);
            }
            day.iter()
                .find(|rate| rate.base == base && rate.currency == currency)
                .map(|rate| rate.rate)
        };
        let value = of(to)? / of(from)?;
        (value.is_finite() && value > 0.0).then_some(value)
    })
}

/// 00:00 UTC of `day`, unix seconds.
fn day_start(day: NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn rate(on: &str, base: &str, currency: &str, rate: f64) -> DailyRate {
        DailyRate {
            day: day(on),
            base: base.into(),
            currency: currency.into(),
            rate,
        }
    }

    fn at(text: &str, hour: i64) -> i64 {
        day_start(day(text)) + hour * 3_600
    }

    #[test]
    fn a_rate_against_the_reporting_currency_is_inverted() {
        // One US dollar buys 0.8 euros: one euro is worth 1.25 dollars.
        let stored = StoredRates {
            own: vec![rate("2026-01-01", "usd", "eur", 0.8)],
            admins: Vec::new(),
        };
        let rates = reporting_rates("usd", &["eur".into()], &stored);
        assert_eq!(rates.rate_at("eur", at("2026-01-01", 12)).unwrap(), 1.25);
        // Reporting in euros, a dollar is worth 0.8 euros.
        let rates = reporting_rates("eur", &["usd".into()], &stored);
        assert_eq!(rates.rate_at("usd", at("2026-01-01", 12)).unwrap(), 0.8);
    }

    #[test]
    fn other_bases_give_cross_rates() {
        let stored = StoredRates {
            own: vec![
                rate("2026-01-01", "usd", "eur", 0.8),
                rate("2026-01-01", "usd", "gbp", 0.5),
            ],
            admins: Vec::new(),
        };
        let rates = reporting_rates("eur", &["gbp".into()], &stored);
        assert_eq!(rates.rate_at("gbp", at("2026-01-01", 1)).unwrap(), 1.6);
        assert!(rates.rate_at("jpy", at("2026-01-01", 1)).is_err());
    }

    #[test]
    fn each_rate_applies_from_its_day_until_the_next_and_the_first_before_all() {
        let stored = StoredRates {
            own: vec![
                rate("2026-01-02", "usd", "eur", 0.8),
                rate("2026-01-05", "usd", "eur", 0.5),
            ],
            admins: Vec::new(),
        };
        let rates = reporting_rates("eur", &["usd".into()], &stored);
        let of = |at: i64| rates.rate_at("usd", at).unwrap();
        assert_eq!(of(at("2025-06-01", 0)), 0.8);
        assert_eq!(of(at("2026-01-04", 23)), 0.8);
        // The end of 2026-01-04 (the next day's first instant) is still 2026-01-04's value.
        assert_eq!(of(at("2026-01-05", 0)), 0.8);
        assert_eq!(of(at("2026-01-05", 6)), 0.5);
        assert_eq!(of(at("2027-01-01", 0)), 0.5);
    }

    #[test]
    fn the_connections_rates_come_first_and_the_administrators_fill_in() {
        let stored = StoredRates {
            own: vec![rate("2026-01-02", "usd", "eur", 0.8)],
            admins: vec![
                rate("2026-01-01", "usd", "eur", 0.7),
                rate("2026-01-02", "usd", "eur", 0.6),
                rate("2026-01-02", "usd", "gbp", 0.5),
            ],
        };
        let rates = reporting_rates("usd", &["eur".into(), "gbp".into()], &stored);
        let eur = |at: i64| rates.rate_at("eur", at).unwrap();
        assert_eq!(eur(at("2026-01-01", 12)), 1.0 / 0.7);
        assert_eq!(eur(at("2026-01-02", 12)), 1.0 / 0.8);
        assert_eq!(rates.rate_at("gbp", at("2026-01-02", 12)).unwrap(), 2.0);
    }
}
