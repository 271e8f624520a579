//! The administrators' exchange rates as CSV: a header `date,currency,rate`, then one line per
//! day and currency, e.g. `2026-11-30,eur,0.92`: on that day (UTC) one unit of the base (USD
//! unless the upload names another) buys `rate` units of `currency`, as Stripe's exchange rates
//! state it. Blank lines are skipped; fields may be quoted; nothing else is taken.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::domain::fx::{currency_code, valid_day, valid_rate, MAX_RATE, MIN_RATE};
use crate::domain::DailyRate;

/// The most lines one upload may hold (about 270 years of a currency, or 30 currencies over
/// nine years).
pub const MAX_ROWS: usize = 100_000;

const HEADER: [&str; 3] = ["date", "currency", "rate"];

/// What is wrong, and on which line (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> CsvError {
    CsvError {
        line,
        message: message.into(),
    }
}

/// Every rate of the file, against `base` (a currency code in lower case).
pub fn parse(body: &[u8], base: &str) -> Result<Vec<DailyRate>, CsvError> {
    let text = std::str::from_utf8(body).map_err(|invalid| {
        let before = body.get(..invalid.valid_up_to()).unwrap_or_default();
        let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
        error(line, "the file is not UTF-8 text")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix('\r').unwrap_or(line)));
    let header: Vec<String> = lines
        .next()
        .map(|(_, line)| fields(line).map(|f| f.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    if header != HEADER {
        return Err(error(
            1,
            "the first line must be the header `date,currency,rate`",
        ));
    }
    let mut rates = Vec::new();
    let mut seen: HashSet<(NaiveDate, String)> = HashSet::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        if rates.len() == MAX_ROWS {
            return Err(error(line, format!("at most {MAX_ROWS} rates per upload")));
        }
        let rate = parse_line(text, base).map_err(|message| error(line, message))?;
        if !seen.insert((rate.day, rate.currency.clone())) {
            return Err(error(
                line,
                format!("a second rate of `{}` on {}", rate.currency, rate.day),
            ));
        }
        rates.push(rate);
    }
    Ok(rates)
}

/// A line's fields, trimmed and unquoted.
fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|field| {
        let field = field.trim();
        field
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(field)
            .trim()
    })
}

fn parse_line(line: &str, base: &str) -> Result<DailyRate, String> {
    let fields: Vec<&str> = fields(line).collect();
    let [date, currency, rate] = fields.as_slice() else {
        return Err(format!(
            "expected 3 fields (date,currency,rate), found {}",
            fields.len()
        ));
    };
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .filter(|day| valid_day(*day))
        .ok_or_else(|| format!("`{date}` is not a date from 1970 to 2199 (YYYY-MM-DD)"))?;
    let currency = currency_code(currency)
        .ok_or_else(|| format!("`{currency}` is not a currency code (three letters)"))?;
    if currency == base {
        return Err(format!(
            "`{currency}` is the base: its rate is 1 by definition"
        ));
    }
    let rate = rate
        .parse::<f64>()
        .ok()
        .filter(|rate| valid_rate(*rate))
        .ok_or_else(|| format!("`{rate}` is not a rate between {MIN_RATE} and {MAX_RATE}"))?;
    Ok(DailyRate {
        day,
        base: base.to_string(),
        currency,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rates_against_the_base() {
        let body = "\u{feff}Date,Currency,Rate\r\n2026-11-30,EUR,0.92\r\n\r\n\"2026-12-01\",\"gbp\",\"0.79\"\n";
        let rates = parse(body.as_bytes(), "usd").unwrap();
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[0].currency, "eur");
        assert_eq!(rates[0].base, "usd");
        assert_eq!(rates[0].rate, 0.92);
        assert_eq!(rates[1].day, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(parse(b"date,currency,rate", "usd").unwrap(), Vec::new());
    }

    #[test]
    fn names_the_line_of_each_mistake() {
        let cases: [(&str, usize); 12] = [
            ("", 1),
            ("day,currency,rate\n2026-01-01,eur,1", 1),
            ("date,currency,rate\n2026-01-01,eur", 2),
            ("date,currency,rate\n2026-01-01,eur,1,2", 2),
            ("date,currency,rate\n2026-01-01,eur,1\n2026-02-30,eur,1", 3),
            ("date,currency,rate\n1969-12-31,eur,1", 2),
            ("date,currency,rate\n2026-01-01,euro,1", 2),
            ("date,currency,rate\n2026-01-01,usd,1", 2),
            ("date,currency,rate\n2026-01-01,eur,0", 2),
            ("date,currency,rate\n2026-01-01,eur,NaN", 2),
            ("date,currency,rate\n2026-01-01,eur,-1\n", 2),
            (
                "date,currency,rate\n2026-01-01,eur,1\n\n2026-01-01,EUR,2",
                4,
            ),
        ];
        for (body, line) in cases {
            let error = parse(body.as_bytes(), "usd").unwrap_err();
            assert_eq!(error.line, line, "{body:?}: {error}");
        }
        let error = parse(b"date,currency,rate\n2026-01-01,eur,\xff", "usd").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn refuses_more_than_the_most_rows() {
        let mut body = String::from("date,currency,rate\n");
        let first = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for offset in 0..=MAX_ROWS {
            let day = first + chrono::Duration::days(i64::try_from(offset / 2).unwrap());
            let currency = if offset % 2 == 0 { "eur" } else { "gbp" };
            body.push_str(&format!("{day},{currency},1.5\n"));
        }
        let error = parse(body.as_bytes(), "usd").unwrap_err();
        assert_eq!(error.line, MAX_ROWS + 2);
    }
}
