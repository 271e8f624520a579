//! Normalizing amounts to a month, exactly, and rounding half to even.

use serde::{Deserialize, Serialize};

/// A price's billing interval unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    /// Stripe's `recurring.interval`.
    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// The factor turning one period of `count` intervals into a month: a month is a twelfth of a year,
    /// a year has 52 weeks and 365 days.
    pub fn to_month(self, count: u32) -> Fraction {
        let count = i128::from(count.max(1));
        match self {
            Interval::Day => Fraction::new(365, 12 * count),
            Interval::Week => Fraction::new(52, 12 * count),
            Interval::Month => Fraction::new(1, count),
            Interval::Year => Fraction::new(1, 12 * count),
        }
    }

    /// The instant `count` intervals after `at` (calendar months for months and years, in UTC).
    pub fn add_to(self, at: i64, count: u32) -> i64 {
        let count = count.max(1);
        match self {
            Interval::Day => at.saturating_add(86_400 * i64::from(count)),
            Interval::Week => at.saturating_add(7 * 86_400 * i64::from(count)),
            Interval::Month => add_months(at, count),
            Interval::Year => add_months(at, count.saturating_mul(12)),
        }
    }
}

/// `months` calendar months after `at` (UTC; the day is clamped to the month's last day, as Stripe does).
pub fn add_months(at: i64, months: u32) -> i64 {
    chrono::DateTime::from_timestamp(at, 0)
        .and_then(|time| time.checked_add_months(chrono::Months::new(months)))
        .map_or(i64::MAX, |time| time.timestamp())
}

/// An exact fraction of minor units (denominator positive, reduced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Fraction {
    /// `num / den`; a zero denominator gives zero.
    pub fn new(num: i128, den: i128) -> Fraction {
        if den == 0 {
            return Fraction { num: 0, den: 1 };
        }
        let sign = if den < 0 { -1 } else { 1 };
        let divisor = gcd(num, den).max(1);
        Fraction {
            num: sign * num / divisor,
            den: sign * den / divisor,
        }
    }

    pub fn integer(value: i64) -> Fraction {
        Fraction::new(i128::from(value), 1)
    }

    pub fn zero() -> Fraction {
        Fraction::new(0, 1)
    }

    /// The largest integer not above the fraction.
    pub fn floor(self) -> i64 {
        let floor = self.num.div_euclid(self.den);
        i64::try_from(floor).unwrap_or(if floor < 0 { i64::MIN } else { i64::MAX })
    }

    pub fn is_positive(self) -> bool {
        self.num > 0
    }

    /// The nearest integer, ties to the even one.
    pub fn round_half_even(self) -> i64 {
        let quotient = self.num.div_euclid(self.den);
        let twice_rest = 2 * self.num.rem_euclid(self.den);
        let rounded = match twice_rest.cmp(&self.den) {
            std::cmp::Ordering::Less => quotient,
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal if quotient % 2 == 0 => quotient,
            std::cmp::Ordering::Equal => quotient + 1,
        };
        i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
    }
}

impl std::ops::Add for Fraction {
    type Output = Fraction;

    fn add(self, other: Fraction) -> Fraction {
        Fraction::new(
            self.num * other.den + other.num * self.den,
            self.den * other.den,
        )
    }
}

impl std::ops::Sub for Fraction {
    type Output = Fraction;

    fn sub(self, other: Fraction) -> Fraction {
        self + Fraction::new(-other.num, other.den)
    }
}

impl std::ops::Mul for Fraction {
    type Output = Fraction;

    fn mul(self, other: Fraction) -> Fraction {
        Fraction::new(self.num * other.num, self.den * other.den)
    }
}

/// Division (by zero gives zero).
impl std::ops::Div for Fraction {
    type Output = Fraction;

    fn div(self, other: Fraction) -> Fraction {
        Fraction::new(self.num * other.den, self.den * other.num)
    }
}

/// `amount` converted at `rate`, rounded half to even to the minor unit.
pub fn convert(amount: i64, rate: f64) -> i64 {
    round_half_even(amount as f64 * rate) as i64
}

/// `value` rounded half to even (zero may lose its sign). Below 2^51 in magnitude, adding and taking away 1.5 x 2^52
/// does it in two additions: the sum's last bit is the unit, and IEEE addition rounds to the
/// nearest, ties to even (`round_ties_even` is a call into libm on x86-64 without SSE4.1, and
/// a sweep converts every foreign subscription every day).
fn round_half_even(value: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    if value.abs() < 2_251_799_813_685_248.0 {
        (value + SHIFT) - SHIFT
    } else {
        value.round_ties_even()
    }
}

/// The multiplier left by a `percent_off` (Stripe allows two decimals): 20 -> 80/100.
pub fn percent_left(percent_off: f64) -> Fraction {
    let hundredths = ((percent_off * 100.0).round() as i128).clamp(0, 10_000);
    Fraction::new(10_000 - hundredths, 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Mul;

    #[test]
    fn rounding_half_to_even_matches_the_standard_library() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.49999999999999994,
            1e15 + 0.5,
            2_251_799_813_685_247.5,
            -2_251_799_813_685_247.5,
            2_251_799_813_685_248.0,
            4.5e15 + 1.0,
            9.2e18,
            -9.2e18,
        ];
        for _ in 0..100_000 {
            let amount = (next() % 2_000_000_000) as i64 - 1_000_000_000;
            let rate = (next() % 4_000_000) as f64 / 1_000_000.0;
            values.push(amount as f64 * rate);
            values.push(amount as f64 + 0.5);
        }
        // Equal as numbers (a negative value that rounds to zero may give +0 for -0).
        for value in values {
            assert_eq!(round_half_even(value), value.round_ties_even(), "{value}");
        }
    }

    #[test]
    fn months_from_intervals() {
        // 1,200 a year -> 100 a month; 1,000 a quarter -> 333.33...; 52 weeks of 12 -> 52 a month.
        let year = Fraction::integer(1_200).mul(Interval::Year.to_month(1));
        assert_eq!(year.round_half_even(), 100);
        let quarter = Fraction::integer(100_000).mul(Interval::Month.to_month(3));
        assert_eq!(quarter.round_half_even(), 33_333);
        let week = Fraction::integer(12).mul(Interval::Week.to_month(1));
        assert_eq!(week.round_half_even(), 52);
        let day = Fraction::integer(12).mul(Interval::Day.to_month(1));
        assert_eq!(day.round_half_even(), 365);
    }

    #[test]
    fn half_even() {
        assert_eq!(Fraction::new(5, 2).round_half_even(), 2);
        assert_eq!(Fraction::new(7, 2).round_half_even(), 4);
        assert_eq!(Fraction::new(-5, 2).round_half_even(), -2);
        assert_eq!(Fraction::new(26, 10).round_half_even(), 3);
        // 0.5-cent monthly values: 1,001 cents every two months = 500.5 -> 500; 1,003 -> 501.5 -> 502.
        assert_eq!(
            Fraction::integer(1_001)
                .mul(Interval::Month.to_month(2))
                .round_half_even(),
            500
        );
        assert_eq!(
            Fraction::integer(1_003)
                .mul(Interval::Month.to_month(2))
                .round_half_even(),
            502
        );
        assert_eq!(convert(5, 0.5), 2);
        assert_eq!(convert(7, 0.5), 4);
        assert_eq!(convert(1_000, 1.1), 1_100);
    }

    #[test]
    fn calendar_months() {
        // 2024-01-31 + 1 month = 2024-02-29 (clamped); + 12 months = 2025-01-31.
        let jan31 = 1_706_659_200;
        assert_eq!(add_months(jan31, 1), 1_709_164_800);
        assert_eq!(Interval::Year.add_to(jan31, 1), 1_738_281_600);
        assert_eq!(percent_left(20.0), Fraction::new(4, 5));
    }
}
