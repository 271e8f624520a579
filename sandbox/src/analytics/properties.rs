//! The fixed Google Analytics 4 accounts and properties of the sandbox, and the calendar they report in.
//!
//! Time zones are reported by IANA name, but "today" and every date are computed with a fixed UTC offset per
//! property (no daylight saving time): -8 h for `America/Los_Angeles`, +1 h for `Europe/Paris`, +9 h for
//! `Asia/Tokyo` (their standard times).

use crate::generator::calendar::{civil_from_days, days_from_civil};

pub(crate) const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// How a currency's minor units are written as a decimal amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Currency {
    Usd,
    Eur,
    Jpy,
}

impl Currency {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Jpy => "JPY",
        }
    }

    /// `minor` units as an exact decimal string: cents with two decimals, yen with none.
    pub(crate) fn format(self, minor: u64) -> String {
        match self {
            Currency::Usd | Currency::Eur => format!("{}.{:02}", minor / 100, minor % 100),
            Currency::Jpy => minor.to_string(),
        }
    }
}

/// One property's fixed facts.
struct Spec {
    id: u64,
    name: &'static str,
    account: u64,
    time_zone: &'static str,
    utc_offset_hours: i64,
    currency: Currency,
    industry: &'static str,
    /// Created this many days before the sandbox's now.
    age_days: i64,
    /// Audience: relative weights of desktop, mobile, tablet, and of the countries in `generator` order
    /// (United States, France, Japan, Germany, United Kingdom, Brazil, India, Canada).
    devices: [u32; 3],
    countries: [u32; 8],
}

const ACCOUNTS: [(u64, &str); 2] = [(1000, "Demo Company"), (1001, "Demo Japan")];

const SPECS: [Spec; 3] = [
    Spec {
        id: 250_001,
        name: "Demo Web Store",
        account: 1000,
        time_zone: "America/Los_Angeles",
        utc_offset_hours: -8,
        currency: Currency::Usd,
        industry: "SHOPPING",
        age_days: 400,
        devices: [55, 38, 7],
        countries: [45, 6, 6, 8, 10, 7, 10, 8],
    },
    Spec {
        id: 250_002,
        name: "Demo Mobile App",
        account: 1000,
        time_zone: "Europe/Paris",
        utc_offset_hours: 1,
        currency: Currency::Eur,
        industry: "TECHNOLOGY",
        age_days: 120,
        devices: [3, 80, 17],
        countries: [12, 45, 3, 12, 10, 5, 6, 7],
    },
    Spec {
        id: 250_003,
        name: "Demo Tokyo Shop",
        account: 1001,
        time_zone: "Asia/Tokyo",
        utc_offset_hours: 9,
        currency: Currency::Jpy,
        industry: "SHOPPING",
        age_days: 60,
        devices: [40, 52, 8],
        countries: [8, 3, 70, 3, 4, 2, 6, 4],
    },
];

/// A property as the handlers use it: the spec plus its instants and its first and last local days.
pub(crate) struct Property {
    /// Position in [`Properties`] (quota and concurrency are kept per index).
    pub index: usize,
    pub id: u64,
    pub name: &'static str,
    pub account: u64,
    pub account_name: &'static str,
    pub time_zone: &'static str,
    pub utc_offset: i64,
    pub currency: Currency,
    pub industry: &'static str,
    pub devices: [u32; 3],
    pub countries: [u32; 8],
    pub create_time: i64,
    /// Local days since 1970-01-01: the creation date and "today" in the property's time zone.
    pub first_day: i64,
    pub last_day: i64,
}

impl Property {
    /// `properties/250001`
    pub(crate) fn resource_name(&self) -> String {
        format!("properties/{}", self.id)
    }

    /// The Admin API's `Property` resource.
    pub(crate) fn admin_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.resource_name(),
            "propertyType": "PROPERTY_TYPE_ORDINARY",
            "createTime": rfc3339(self.create_time),
            // Set up once, the day after creation, and never touched again.
            "updateTime": rfc3339(self.create_time + DAY),
            "parent": format!("accounts/{}", self.account),
            "displayName": self.name,
            "industryCategory": self.industry,
            "timeZone": self.time_zone,
            "currencyCode": self.currency.code(),
            "serviceLevel": "GOOGLE_ANALYTICS_STANDARD",
            "account": format!("accounts/{}", self.account),
        })
    }

    pub(crate) fn public(&self) -> crate::AnalyticsProperty {
        crate::AnalyticsProperty {
            id: self.id.to_string(),
            display_name: self.name.to_owned(),
            account_id: self.account.to_string(),
            account_name: self.account_name.to_owned(),
            time_zone: self.time_zone.to_owned(),
            utc_offset_seconds: self.utc_offset,
            currency: self.currency.code().to_owned(),
            create_time: self.create_time,
            first_date: iso_date(self.first_day),
            last_date: iso_date(self.last_day),
        }
    }
}

/// Every property, in id order.
pub(crate) struct Properties(Vec<Property>);

impl Properties {
    /// The properties of a sandbox whose data ends at `now` (unix seconds).
    pub(crate) fn new(now: i64) -> Self {
        let properties = SPECS
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let utc_offset = spec.utc_offset_hours * HOUR;
                let create_time = now - spec.age_days * DAY;
                Property {
                    index,
                    id: spec.id,
                    name: spec.name,
                    account: spec.account,
                    account_name: ACCOUNTS
                        .iter()
                        .find(|(id, _)| *id == spec.account)
                        .map_or("", |(_, name)| name),
                    time_zone: spec.time_zone,
                    utc_offset,
                    currency: spec.currency,
                    industry: spec.industry,
                    devices: spec.devices,
                    countries: spec.countries,
                    create_time,
                    first_day: (create_time + utc_offset).div_euclid(DAY),
                    last_day: (now + utc_offset).div_euclid(DAY),
                }
            })
            .collect();
        Properties(properties)
    }

    pub(crate) fn all(&self) -> &[Property] {
        &self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The property with this decimal id (exactly as written: no sign, no leading zeros).
    pub(crate) fn find(&self, id: &str) -> Option<&Property> {
        self.0.iter().find(|property| property.id.to_string() == id)
    }

    /// The Admin API's account summaries, one per account, with their properties.
    pub(crate) fn account_summaries(&self) -> Vec<serde_json::Value> {
        ACCOUNTS
            .iter()
            .map(|(account, name)| {
                let properties: Vec<serde_json::Value> = self
                    .0
                    .iter()
                    .filter(|property| property.account == *account)
                    .map(|property| {
                        serde_json::json!({
                            "property": property.resource_name(),
                            "displayName": property.name,
                            "propertyType": "PROPERTY_TYPE_ORDINARY",
                            "parent": format!("accounts/{account}"),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": format!("accountSummaries/{account}"),
                    "account": format!("accounts/{account}"),
                    "displayName": name,
                    "propertySummaries": properties,
                })
            })
            .collect()
    }
}

/// `2026-01-01`
pub(crate) fn iso_date(day: i64) -> String {
    let (year, month, day) = civil_from_days(day);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `20260101`, the `date` dimension's value.
pub(crate) fn compact_date(day: i64) -> String {
    let (year, month, day) = civil_from_days(day);
    format!("{year:04}{month:02}{day:02}")
}

/// `2026-01-01T08:00:00Z`
pub(crate) fn rfc3339(unix: i64) -> String {
    let seconds = unix.rem_euclid(DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(unix.div_euclid(DAY)),
        seconds / HOUR,
        seconds % HOUR / 60,
        seconds % 60
    )
}

/// Days since 1970-01-01 of a strict `YYYY-MM-DD` that names a real date.
pub(crate) fn parse_iso_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 2026-02-30 would roll over into March: it is not a date.
    (civil_from_days(days) == (year, month, day)).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z
    const NOW: i64 = 1_767_225_600;

    #[test]
    fn properties_start_at_their_age_and_end_today_in_their_zone() {
        let properties = Properties::new(NOW);
        let dates: Vec<(String, String)> = properties
            .all()
            .iter()
            .map(|p| (iso_date(p.first_day), iso_date(p.last_day)))
            .collect();
        // Midnight UTC is still the previous day in Los Angeles.
        assert_eq!(
            dates,
            [
                ("2024-11-26".to_owned(), "2025-12-31".to_owned()),
                ("2025-09-03".to_owned(), "2026-01-01".to_owned()),
                ("2025-11-02".to_owned(), "2026-01-01".to_owned()),
            ]
        );
        assert!(properties.find("250002").is_some());
        assert!(properties.find("0250002").is_none());
        assert!(properties.find("250004").is_none());
    }

    #[test]
    fn dates_format_and_parse() {
        assert_eq!(rfc3339(NOW + 8 * HOUR + 61), "2026-01-01T08:01:01Z");
        assert_eq!(compact_date(NOW / DAY), "20260101");
        assert_eq!(parse_iso_date("2026-01-01"), Some(NOW / DAY));
        assert_eq!(
            parse_iso_date("2024-02-29").map(iso_date).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "2026-01-0x",
            "+026-01-01",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn currencies_format_minor_units_exactly() {
        assert_eq!(Currency::Usd.format(123_405), "1234.05");
        assert_eq!(Currency::Eur.format(7), "0.07");
        assert_eq!(Currency::Usd.format(0), "0.00");
        assert_eq!(Currency::Jpy.format(123_405), "123405");
    }
}
