//! Exchange rates and currencies, as the store keeps them and the API takes them.

use chrono::NaiveDate;

/// The smallest and largest rate taken: any real pair of currencies is far within (one US dollar
/// buys about 25,000 Vietnamese dong; one dong, 0.00004 dollars).
pub const MIN_RATE: f64 = 1e-9;
pub const MAX_RATE: f64 = 1e9;

/// One day's rate, as Stripe states it: one unit of `base` buys `rate` units of `currency`, from
/// the start of `day` (UTC) until the next day with a rate.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRate {
    pub day: NaiveDate,
    /// ISO 4217, lower case.
    pub base: String,
    /// ISO 4217, lower case; never the base.
    pub currency: String,
    pub rate: f64,
}

/// A connection's rates and the administrators', of some currencies, oldest day first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredRates {
    pub own: Vec<DailyRate>,
    pub admins: Vec<DailyRate>,
}

/// What the administrators' rates hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatesSummary {
    pub rates: u64,
    pub bases: Vec<String>,
    pub currencies: Vec<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}

/// What a connection's converted series depend on besides its objects: they change whenever a
/// rate is stored or replaced (row ids only grow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatesVersion {
    pub own_last_id: Option<i64>,
    pub admin_rates: i64,
    pub admin_last_id: Option<i64>,
}

/// A currency code (three ASCII letters, any case) in lower case; `None` for anything else.
pub fn currency_code(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 3 && text.bytes().all(|byte| byte.is_ascii_alphabetic()))
        .then(|| text.to_ascii_lowercase())
}

/// Whether a rate is one to keep: finite and within [`MIN_RATE`]..=[`MAX_RATE`].
pub fn valid_rate(rate: f64) -> bool {
    rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&rate)
}

/// Whether a day may carry a rate: 1970 to 2199 (anything else is a typing mistake).
pub fn valid_day(day: NaiveDate) -> bool {
    use chrono::Datelike;
    (1970..2200).contains(&day.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters_in_lower_case() {
        assert_eq!(currency_code("EUR").as_deref(), Some("eur"));
        assert_eq!(currency_code(" usd ").as_deref(), Some("usd"));
        for bad in ["", "eu", "euro", "e1r", "ü€r", "us d"] {
            assert_eq!(currency_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn absurd_rates_and_days_are_refused() {
        assert!(valid_rate(0.92) && valid_rate(25_000.0));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e10, 1e-12] {
            assert!(!valid_rate(bad), "{bad}");
        }
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert!(valid_day(day(2026, 12, 3)));
        assert!(!valid_day(day(1969, 12, 31)) && !valid_day(day(2200, 1, 1)));
    }
}
