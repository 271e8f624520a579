//! How numbers, money, changes and times read on screen.

/// Value fields that hold money in the provider's minor units (cents).
pub const AMOUNT_FIELDS: [&str; 7] = [
    "amount",
    "amount_due",
    "amount_paid",
    "total",
    "amount_refunded",
    "net",
    "fee",
];

/// Stripe's zero-decimal currencies: their minor unit is the unit.
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Currencies whose minor unit is a thousandth (as the server converts them).
const THREE_DECIMAL: [&str; 7] = ["bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"];

/// Whether a value field is money in minor units (`amount`, `balance_transaction.fee`, ...).
pub fn is_amount_field(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    AMOUNT_FIELDS.contains(&last)
}

/// What the numbers of a series are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Counts, or plain quantities.
    Number,
    /// Money in minor units: shown divided by 100 with 2 decimals.
    MinorUnits,
}

/// Counts are plain numbers whatever the field; sums, averages, minima and maxima of an
/// amount-like field are money.
pub fn value_kind(operator: &str, value_field: Option<&str>) -> ValueKind {
    match (operator, value_field) {
        ("count" | "count_distinct", _) => ValueKind::Number,
        (_, Some(field)) if is_amount_field(field) => ValueKind::MinorUnits,
        _ => ValueKind::Number,
    }
}

/// What the numbers of a series are, once its meta is known: a report source tells the currency
/// of its money fields (`meta.currency`, e.g. GA4's `totalRevenue`), which makes them money
/// whatever the field is called. Counts stay plain numbers.
pub fn series_kind(operator: &str, value_field: Option<&str>, currency: Option<&str>) -> ValueKind {
    match (operator, currency) {
        ("count" | "count_distinct", _) => ValueKind::Number,
        (_, Some(code)) if is_currency_code(code) => ValueKind::MinorUnits,
        _ => value_kind(operator, value_field),
    }
}

/// `1234567` -> `1,234,567`.
fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `units` counted in `10^-decimals` (e.g. cents for 2), rounded to a whole count and written
/// with thousands separators: `format_units(-123450.0, 2)` is `-1,234.50`. Integer arithmetic
/// only (no float formatting code in the wasm). Non-finite values read as 0.
pub fn format_units(units: f64, decimals: usize) -> String {
    let units = if units.is_finite() { units } else { 0.0 };
    // Saturating cast: absurdly large values stay finite text.
    let count = units.abs().round() as u128;
    let scale = 10u128.pow(decimals.min(30) as u32);
    let whole = (count / scale).to_string();
    let mut out = String::new();
    if units < 0.0 && count != 0 {
        out.push('-');
    }
    out.push_str(&group_digits(&whole));
    if decimals > 0 {
        out.push('.');
        out.push_str(&format!("{:0width$}", count % scale, width = decimals));
    }
    out
}

/// A number with thousands separators and exactly `decimals` decimals (`-1,234.50`).
/// Non-finite values read as 0.
pub fn format_fixed(value: f64, decimals: usize) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    format_units(value * 10f64.powi(decimals.min(30) as i32), decimals)
}

/// A plain number: whole numbers without decimals, others with 2 (`1,234`, `12.35`).
pub fn format_number(value: f64) -> String {
    if value.is_finite() && (value - value.round()).abs() < 1e-9 {
        format_fixed(value.round(), 0)
    } else {
        format_fixed(value, 2)
    }
}

/// Whether a group name looks like an ISO 4217 currency code (`usd`, `EUR`).
pub fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic())
}

fn currency_symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "usd" => "$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        "cad" => "CA$",
        "aud" => "A$",
        "nzd" => "NZ$",
        "inr" => "₹",
        "krw" => "₩",
        "brl" => "R$",
        "mxn" => "MX$",
        "cny" => "CN¥",
        _ => return None,
    })
}

/// Digits of a currency's minor unit: 0 for zero-decimal currencies (JPY, KRW, ...), 3 for the
/// dinars and rials the server stores in thousandths (KWD, BHD, ...), else 2 (also when the
/// currency is unknown).
pub fn minor_unit_digits(currency: Option<&str>) -> usize {
    let code = currency
        .filter(|code| is_currency_code(code))
        .map(str::to_ascii_lowercase);
    match code.as_deref() {
        Some(code) if ZERO_DECIMAL.contains(&code) => 0,
        Some(code) if THREE_DECIMAL.contains(&code) => 3,
        _ => 2,
    }
}

/// An amount in minor units: `$12.34` for known currencies, `12.34 CHF` for other codes,
/// `12.34` without one. Zero-decimal currencies (JPY, KRW, ...) are not divided.
pub fn format_money(minor: f64, currency: Option<&str>) -> String {
    let code = currency
        .filter(|code| is_currency_code(code))
        .map(str::to_ascii_lowercase);
    let amount = format_units(minor, minor_unit_digits(code.as_deref()));
    match code {
        Some(code) => match currency_symbol(&code) {
            Some(symbol) => match amount.strip_prefix('-') {
                Some(positive) => format!("-{symbol}{positive}"),
                None => format!("{symbol}{amount}"),
            },
            None => format!("{amount} {}", code.to_ascii_uppercase()),
        },
        None => amount,
    }
}

/// A value of a series as people read it; `group` is the group's name (a currency code gives the
/// money its symbol).
pub fn format_value(value: f64, kind: ValueKind, group: Option<&str>) -> String {
    match kind {
        ValueKind::Number => format_number(value),
        ValueKind::MinorUnits => format_money(value, group),
    }
}

/// A short number for axis ticks: `950`, `1.5k`, `12k`, `3.4M`, `0.25`.
pub fn format_compact(value: f64) -> String {
    if !value.is_finite() {
        return "0".into();
    }
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e12 {
        (value / 1e12, "T")
    } else if magnitude >= 1e9 {
        (value / 1e9, "B")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let decimals = if (scaled - scaled.round()).abs() < 1e-9 {
        0
    } else if (scaled * 10.0 - (scaled * 10.0).round()).abs() < 1e-9 {
        1
    } else {
        2
    };
    let number = format_fixed(scaled, decimals);
    format!("{number}{suffix}")
}

/// An axis tick: money ticks are in major units (of `currency` when known: yen are not divided).
pub fn format_axis(value: f64, kind: ValueKind, currency: Option<&str>) -> String {
    match kind {
        ValueKind::Number => format_compact(value),
        ValueKind::MinorUnits => {
            format_compact(value / 10f64.powi(minor_unit_digits(currency) as i32))
        }
    }
}

/// `just now`, `4 min ago`, `3 h ago`, `2 days ago` (times in seconds since the epoch).
pub fn relative_time(now: i64, then: i64) -> String {
    let seconds = now - then;
    if seconds < 45 {
        return "just now".into();
    }
    let minutes = (seconds + 30) / 60;
    if minutes < 60 {
        return format!("{minutes} min ago");
    }
    let hours = (seconds + 1800) / 3600;
    if hours < 24 {
        return format!("{hours} h ago");
    }
    let days = (seconds + 43_200) / 86_400;
    if days == 1 {
        "1 day ago".into()
    } else if days < 60 {
        format!("{days} days ago")
    } else {
        format!("{} months ago", days / 30)
    }
}

/// Direction of a change against the previous window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Down,
    Flat,
}

/// A change against the previous window: `+12.5%`, `-4%`, `no change`, `new` (from zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub text: String,
    pub trend: Trend,
}

pub fn change(current: f64, previous: f64) -> Change {
    let (current, previous) = (finite(current), finite(previous));
    if previous == 0.0 {
        return if current == 0.0 {
            Change {
                text: "no change".into(),
                trend: Trend::Flat,
            }
        } else {
            Change {
                text: "new".into(),
                trend: if current > 0.0 {
                    Trend::Up
                } else {
                    Trend::Down
                },
            }
        };
    }
    let percent = (current - previous) / previous.abs() * 100.0;
    let rounded = if percent.abs() >= 10.0 {
        percent.round()
    } else {
        (percent * 10.0).round() / 10.0
    };
    if rounded == 0.0 {
        return Change {
            text: "no change".into(),
            trend: Trend::Flat,
        };
    }
    let sign = if rounded > 0.0 { "+" } else { "" };
    Change {
        text: format!("{sign}{}%", format_number_trimmed(rounded)),
        trend: if rounded > 0.0 {
            Trend::Up
        } else {
            Trend::Down
        },
    }
}

fn finite(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

/// `12.5` -> `12.5`, `12.0` -> `12`, with separators.
fn format_number_trimmed(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format_fixed(value, 0)
    } else {
        format_fixed(value, 1)
    }
}

/// `1 record`, `1,234 records`.
pub fn plural(count: u64, one: &str, many: &str) -> String {
    let word = if count == 1 { one } else { many };
    format!("{} {word}", format_fixed(count as f64, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_amount_fields() {
        for field in AMOUNT_FIELDS {
            assert!(is_amount_field(field), "{field}");
        }
        assert!(is_amount_field("balance_transaction.fee"));
        assert!(!is_amount_field("currency"));
        assert!(!is_amount_field("amount_captured_flag.x"));
        assert_eq!(value_kind("sum", Some("amount")), ValueKind::MinorUnits);
        assert_eq!(value_kind("average", Some("total")), ValueKind::MinorUnits);
        assert_eq!(value_kind("count", Some("amount")), ValueKind::Number);
        assert_eq!(
            value_kind("count_distinct", Some("amount")),
            ValueKind::Number
        );
        assert_eq!(value_kind("sum", Some("quantity")), ValueKind::Number);
        assert_eq!(value_kind("sum", None), ValueKind::Number);
    }

    #[test]
    fn money_from_the_series_currency() {
        // GA4's revenue is not an amount-like name, but the series says its currency.
        assert_eq!(
            series_kind("sum", Some("totalRevenue"), Some("usd")),
            ValueKind::MinorUnits
        );
        assert_eq!(
            series_kind("sum", Some("totalRevenue"), None),
            ValueKind::Number
        );
        assert_eq!(
            series_kind("sum", Some("amount"), None),
            ValueKind::MinorUnits
        );
        assert_eq!(
            series_kind("count_distinct", Some("totalRevenue"), Some("usd")),
            ValueKind::Number
        );
        assert_eq!(
            series_kind("sum", Some("sessions"), Some("(none)")),
            ValueKind::Number
        );
        assert_eq!(minor_unit_digits(Some("JPY")), 0);
        assert_eq!(minor_unit_digits(Some("eur")), 2);
        assert_eq!(minor_unit_digits(None), 2);
        assert_eq!(minor_unit_digits(Some("KWD")), 3);
    }

    #[test]
    fn formats_fixed_numbers_with_separators() {
        assert_eq!(format_fixed(0.0, 2), "0.00");
        assert_eq!(format_fixed(999.0, 0), "999");
        assert_eq!(format_fixed(1000.0, 0), "1,000");
        assert_eq!(format_fixed(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(format_fixed(-1234.5, 2), "-1,234.50");
        assert_eq!(format_fixed(-0.001, 2), "0.00");
        assert_eq!(format_fixed(f64::NAN, 2), "0.00");
        assert_eq!(format_fixed(f64::INFINITY, 0), "0");
        assert_eq!(format_fixed(0.125, 2), "0.13");
        assert_eq!(format_fixed(1e30, 0).len(), 41);
        assert_eq!(format_units(123_450.0, 2), "1,234.50");
        assert_eq!(format_units(-5.0, 2), "-0.05");
        assert_eq!(format_units(-0.4, 2), "0.00");
        assert_eq!(format_units(7.0, 0), "7");
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(12_345.0), "12,345");
        assert_eq!(format_number(2.5), "2.50");
        assert_eq!(format_number(1.0 / 3.0), "0.33");
    }

    #[test]
    fn formats_minor_units_as_money() {
        assert_eq!(format_money(1234.0, Some("usd")), "$12.34");
        assert_eq!(format_money(1234.0, Some("USD")), "$12.34");
        assert_eq!(format_money(123_456_789.0, Some("eur")), "€1,234,567.89");
        assert_eq!(format_money(5.0, Some("gbp")), "£0.05");
        assert_eq!(format_money(-1234.0, Some("usd")), "-$12.34");
        assert_eq!(format_money(1234.0, Some("chf")), "12.34 CHF");
        assert_eq!(format_money(1234.0, Some("jpy")), "¥1,234");
        assert_eq!(format_money(1_234_567.0, Some("kwd")), "1,234.567 KWD");
        assert_eq!(format_money(1234.0, Some("(none)")), "12.34");
        assert_eq!(format_money(1234.0, Some("succeeded")), "12.34");
        assert_eq!(format_money(1234.0, None), "12.34");
        assert_eq!(format_money(1234.5, Some("usd")), "$12.35");
        assert_eq!(
            format_value(1234.0, ValueKind::MinorUnits, Some("cad")),
            "CA$12.34"
        );
        assert_eq!(
            format_value(1234.0, ValueKind::Number, Some("usd")),
            "1,234"
        );
    }

    #[test]
    fn formats_compact_axis_ticks() {
        assert_eq!(format_compact(0.0), "0");
        assert_eq!(format_compact(950.0), "950");
        assert_eq!(format_compact(2500.0), "2,500");
        assert_eq!(format_compact(15_000.0), "15k");
        assert_eq!(format_compact(12_500.0), "12.5k");
        assert_eq!(format_compact(1_234_567.0), "1.23M");
        assert_eq!(format_compact(1_500_000.0), "1.5M");
        assert_eq!(format_compact(2_000_000_000.0), "2B");
        assert_eq!(format_compact(0.25), "0.25");
        assert_eq!(format_compact(0.5), "0.5");
        assert_eq!(format_compact(-3_000_000.0), "-3M");
        assert_eq!(format_compact(f64::NAN), "0");
        assert_eq!(format_axis(250_000.0, ValueKind::MinorUnits, None), "2,500");
        assert_eq!(format_axis(50.0, ValueKind::MinorUnits, Some("usd")), "0.5");
        assert_eq!(
            format_axis(25_000.0, ValueKind::MinorUnits, Some("jpy")),
            "25k"
        );
        assert_eq!(format_axis(25_000.0, ValueKind::Number, Some("usd")), "25k");
    }

    #[test]
    fn says_how_long_ago() {
        let now = 1_000_000;
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now, now + 30), "just now");
        assert_eq!(relative_time(now, now - 44), "just now");
        assert_eq!(relative_time(now, now - 240), "4 min ago");
        assert_eq!(relative_time(now, now - 59 * 60), "59 min ago");
        assert_eq!(relative_time(now, now - 3 * 3600), "3 h ago");
        assert_eq!(relative_time(now, now - 86_400), "1 day ago");
        assert_eq!(relative_time(now, now - 5 * 86_400), "5 days ago");
        assert_eq!(relative_time(now, now - 90 * 86_400), "3 months ago");
    }

    #[test]
    fn describes_changes() {
        assert_eq!(change(110.0, 100.0).text, "+10%");
        assert_eq!(change(110.0, 100.0).trend, Trend::Up);
        assert_eq!(change(95.5, 100.0).text, "-4.5%");
        assert_eq!(change(95.5, 100.0).trend, Trend::Down);
        assert_eq!(change(100.0, 100.0).trend, Trend::Flat);
        assert_eq!(change(100.01, 100.0).text, "no change");
        assert_eq!(change(5.0, 0.0).text, "new");
        assert_eq!(change(0.0, 0.0).text, "no change");
        assert_eq!(change(0.0, 50.0).text, "-100%");
        assert_eq!(change(3000.0, 100.0).text, "+2,900%");
        assert_eq!(change(-5.0, -10.0).text, "+50%");
        assert_eq!(change(f64::NAN, 1.0).text, "-100%");
    }

    #[test]
    fn pluralises() {
        assert_eq!(plural(1, "record", "records"), "1 record");
        assert_eq!(plural(0, "record", "records"), "0 records");
        assert_eq!(plural(12_345, "record", "records"), "12,345 records");
    }
}
