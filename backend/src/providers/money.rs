//! Money as providers send it (decimal strings in the account's currency) turned into integers of
//! the currency's minor unit, exactly, as Stripe's amounts already are: charts then add integers
//! and never drift by a float's rounding.

/// Digits after the decimal point of a currency's minor unit (ISO 4217). Most have two.
pub fn minor_unit_digits(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let code = currency.to_ascii_uppercase();
    if ZERO.contains(&code.as_str()) {
        0
    } else if THREE.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// `"12.5"` in USD -> 1250; `"1234"` in JPY -> 1234; `"0.125"` in KWD -> 125. Digits beyond the
/// minor unit are rounded half away from zero (providers send them for computed figures).
/// `None` when the text is not a plain decimal number or does not fit.
pub fn to_minor_units(text: &str, currency: &str) -> Option<i64> {
    let digits = minor_unit_digits(currency) as usize;
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let kept: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(digits)
        .collect();
    let round_up = fraction
        .as_bytes()
        .get(digits)
        .is_some_and(|digit| *digit >= b'5');
    let mut value: i64 = 0;
    for c in whole.chars().chain(kept.chars()) {
        value = value
            .checked_mul(10)?
            .checked_add(i64::from(c.to_digit(10)?))?;
    }
    if round_up {
        value = value.checked_add(1)?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_become_exact_minor_units() {
        assert_eq!(to_minor_units("12.5", "usd"), Some(1250));
        assert_eq!(to_minor_units("12.50", "EUR"), Some(1250));
        assert_eq!(to_minor_units("0.01", "USD"), Some(1));
        assert_eq!(to_minor_units("1234", "JPY"), Some(1234));
        assert_eq!(to_minor_units("1234.4", "JPY"), Some(1234));
        assert_eq!(to_minor_units("0.125", "KWD"), Some(125));
        assert_eq!(to_minor_units("1.005", "USD"), Some(101));
        assert_eq!(to_minor_units("-3.2", "USD"), Some(-320));
        assert_eq!(to_minor_units("7", "USD"), Some(700));
        assert_eq!(to_minor_units(".5", "USD"), Some(50));
        for bad in [
            "",
            ".",
            "1e3",
            "abc",
            "1.2.3",
            "--1",
            "99999999999999999999",
        ] {
            assert_eq!(to_minor_units(bad, "USD"), None, "{bad}");
        }
    }
}
