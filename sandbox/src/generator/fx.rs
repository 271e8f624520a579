//! Daily exchange rates, as Stripe's `GET /v1/exchange_rates` serves them: a pure function of the seed and the
//! UTC day, so that the same day always answers the same rates and the next day answers others.
//!
//! Each currency's rate to USD is a mean-reverting random walk around a realistic centre: the logarithm's
//! deviation on day `d` is `Σ_k φ^k ε(d - k)` over the last [`MEMORY_DAYS`] days (ε a small uniform daily
//! shock drawn from the seed, the currency and the day), clamped to ±[`MAX_DEVIATION`]. Successive days share
//! all but one shock, so rates move a little each day, as markets do, and never drift away.

use crate::rng::{hash, unit_of};

/// The currencies served, with the units of each that one US dollar buys around 2026.
pub(crate) const CURRENCIES: [(&str, f64); 12] = [
    ("aud", 1.52),
    ("brl", 5.40),
    ("cad", 1.37),
    ("chf", 0.88),
    ("eur", 0.92),
    ("gbp", 0.79),
    ("inr", 83.5),
    ("jpy", 151.0),
    ("mxn", 17.9),
    ("nzd", 1.66),
    ("sek", 10.6),
    ("usd", 1.0),
];

/// How much of a day's shock is left the next day.
const PERSISTENCE: f64 = 0.95;
/// Days of shocks that still count (0.95^160 < 0.0003).
const MEMORY_DAYS: i64 = 160;
/// The largest daily shock to the logarithm of a rate (0.5%).
const SHOCK: f64 = 0.005;
/// The farthest a rate strays from its centre, as a logarithm (about ±8%).
const MAX_DEVIATION: f64 = 0.08;
const FX_SALT: u64 = 0x6678_7261_7465;
const SECONDS_PER_DAY: i64 = 86_400;

/// The UTC day (days since 1970-01-01) of a unix time.
pub(crate) fn day_of(unix: i64) -> i64 {
    unix.div_euclid(SECONDS_PER_DAY)
}

/// Whether the sandbox serves rates of `currency` (lower case).
pub(crate) fn is_supported(currency: &str) -> bool {
    CURRENCIES.iter().any(|(code, _)| *code == currency)
}

/// Units of `currency` one US dollar buys on `day`; `None` for a currency not served.
fn per_usd(seed: u64, currency: &str, day: i64) -> Option<f64> {
    let (index, (_, centre)) = CURRENCIES
        .iter()
        .enumerate()
        .find(|(_, (code, _))| *code == currency)?;
    if currency == "usd" {
        return Some(1.0);
    }
    let mut deviation = 0.0;
    let mut weight = 1.0;
    for back in 0..MEMORY_DAYS {
        let draw = unit_of(hash(&[seed, FX_SALT, index as u64, (day - back) as u64]));
        deviation += weight * SHOCK * (2.0 * draw - 1.0);
        weight *= PERSISTENCE;
    }
    Some(centre * deviation.clamp(-MAX_DEVIATION, MAX_DEVIATION).exp())
}

/// Units of `currency` that one unit of `base` buys on `day` (Stripe's `rates[currency]` of the exchange rate
/// object `base`), to six significant digits; `None` when either is not served.
pub(crate) fn rate(seed: u64, base: &str, currency: &str, day: i64) -> Option<f64> {
    let value = per_usd(seed, currency, day)? / per_usd(seed, base, day)?;
    Some(significant(value, 6))
}

/// Every served currency but `base` with its rate on `day`, by currency (Stripe's `rates` map).
pub(crate) fn rates(seed: u64, base: &str, day: i64) -> Option<Vec<(&'static str, f64)>> {
    if !is_supported(base) {
        return None;
    }
    CURRENCIES
        .iter()
        .filter(|(code, _)| *code != base)
        .map(|(code, _)| rate(seed, base, code, day).map(|rate| (*code, rate)))
        .collect()
}

fn significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 20_700; // 2026-09-03

    #[test]
    fn rates_are_a_function_of_seed_and_day() {
        assert_eq!(rate(7, "usd", "eur", DAY), rate(7, "usd", "eur", DAY));
        assert_ne!(rate(7, "usd", "eur", DAY), rate(8, "usd", "eur", DAY));
        assert_ne!(rate(7, "usd", "eur", DAY), rate(7, "usd", "eur", DAY + 1));
        assert_eq!(rate(7, "usd", "usd", DAY), Some(1.0));
        assert_eq!(rate(7, "usd", "xyz", DAY), None);
        assert_eq!(rates(7, "xyz", DAY), None);
    }

    #[test]
    fn rates_stay_near_realistic_values_and_move_a_little_each_day() {
        for (code, centre) in CURRENCIES {
            let mut previous: Option<f64> = None;
            for day in DAY..DAY + 1_000 {
                let value = rate(3, "usd", code, day).unwrap();
                assert!(value > 0.0 && value.is_finite());
                assert!(
                    (value / centre).ln().abs() <= MAX_DEVIATION + 1e-5,
                    "{code} {value}"
                );
                if let Some(previous) = previous {
                    // One new shock, the others fading: a day moves by about a percent at most.
                    assert!((value / previous).ln().abs() < 0.02, "{code} on day {day}");
                }
                previous = Some(value);
            }
        }
    }

    #[test]
    fn cross_rates_agree_with_the_dollar_rates() {
        let eur = rate(5, "usd", "eur", DAY).unwrap();
        let gbp = rate(5, "usd", "gbp", DAY).unwrap();
        let eur_gbp = rate(5, "eur", "gbp", DAY).unwrap();
        assert!((eur_gbp - gbp / eur).abs() / eur_gbp < 1e-5);
        let inverse = rate(5, "eur", "usd", DAY).unwrap();
        assert!((inverse * eur - 1.0).abs() < 1e-5);
        let all = rates(5, "eur", DAY).unwrap();
        assert_eq!(all.len(), CURRENCIES.len() - 1);
        assert!(all.iter().all(|(code, _)| *code != "eur"));
    }

    #[test]
    fn days_are_utc_days() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(86_399), 0);
        assert_eq!(day_of(86_400), 1);
        assert_eq!(day_of(-1), -1);
    }
}
