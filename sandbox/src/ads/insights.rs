//! `GET /act_{id}/insights`: the request's parameters (`fields`, `level`, `breakdowns`, `time_increment`,
//! `time_range` or `date_preset`), parsed and checked; `rows` aggregates and renders the answer.
//!
//! Defaults, as Facebook's: `level=account`, no breakdown, the whole range as one row (`all_days`), the range
//! `last_30d` (the 30 days before the account's today), the fields `impressions,spend`. `time_range` may be
//! JSON (`{"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}`) or `time_range[since]` and `time_range[until]`; it wins
//! over `date_preset`. Repeated parameters, unknown fields and breakdowns, and parameters the sandbox does not
//! implement (`filtering`, `sort`, ...) are refused with code 100 rather than ignored.

use serde_json::Value;

use super::accounts::Account;
use super::errors::FacebookError;
use super::generator::{Cell, AGES, GENDERS, PLATFORMS};
use crate::analytics::properties::{iso_date, parse_iso_date, DAY};
use crate::generator::calendar::add_months;

/// How far back `since` may go: 37 months before the account's today, as Facebook allows.
const MAX_MONTHS_BACK: i64 = 37;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Account,
    Campaign,
    AdSet,
    Ad,
}

impl Level {
    fn parse(text: &str) -> Option<Level> {
        match text {
            "account" => Some(Level::Account),
            "campaign" => Some(Level::Campaign),
            "adset" => Some(Level::AdSet),
            "ad" => Some(Level::Ad),
            _ => None,
        }
    }
}

/// The breakdowns the sandbox serves, in their canonical (output and sort) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Breakdown {
    Country,
    Age,
    Gender,
    PublisherPlatform,
}

impl Breakdown {
    const ALL: [Breakdown; 4] = [
        Breakdown::Country,
        Breakdown::Age,
        Breakdown::Gender,
        Breakdown::PublisherPlatform,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Breakdown::Country => "country",
            Breakdown::Age => "age",
            Breakdown::Gender => "gender",
            Breakdown::PublisherPlatform => "publisher_platform",
        }
    }

    /// The cell's value index for this breakdown.
    pub(crate) fn of(self, cell: &Cell) -> u8 {
        match self {
            Breakdown::Country => cell.country,
            Breakdown::Age => cell.age,
            Breakdown::Gender => cell.gender,
            Breakdown::PublisherPlatform => cell.platform,
        }
    }

    pub(crate) fn value(self, account: &Account, index: u8) -> &'static str {
        let index = usize::from(index);
        match self {
            Breakdown::Country => account.countries.get(index).map_or("", |(code, _)| code),
            Breakdown::Age => AGES.get(index).copied().unwrap_or(""),
            Breakdown::Gender => GENDERS.get(index).copied().unwrap_or(""),
            Breakdown::PublisherPlatform => PLATFORMS.get(index).copied().unwrap_or(""),
        }
    }
}

/// The combinations `breakdowns` may name (in any order).
const COMBINATIONS: [&[Breakdown]; 4] = [
    &[],
    &[Breakdown::Country],
    &[Breakdown::Age, Breakdown::Gender],
    &[Breakdown::PublisherPlatform],
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Metric {
    Spend,
    Impressions,
    Clicks,
    Reach,
    Frequency,
    Ctr,
    Cpc,
    Cpm,
    Actions,
    ActionValues,
}

impl Metric {
    const ALL: [Metric; 10] = [
        Metric::Spend,
        Metric::Impressions,
        Metric::Clicks,
        Metric::Reach,
        Metric::Frequency,
        Metric::Ctr,
        Metric::Cpc,
        Metric::Cpm,
        Metric::Actions,
        Metric::ActionValues,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Metric::Spend => "spend",
            Metric::Impressions => "impressions",
            Metric::Clicks => "clicks",
            Metric::Reach => "reach",
            Metric::Frequency => "frequency",
            Metric::Ctr => "ctr",
            Metric::Cpc => "cpc",
            Metric::Cpm => "cpm",
            Metric::Actions => "actions",
            Metric::ActionValues => "action_values",
        }
    }
}

/// Fields every row has when its level has them; asking for them changes nothing.
const IDENTITY_FIELDS: [&str; 11] = [
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "date_start",
    "date_stop",
];

/// Parameters that would change the answer in ways the sandbox does not implement: refused, not ignored.
const UNSUPPORTED: [&str; 6] = [
    "filtering",
    "sort",
    "time_ranges",
    "summary",
    "default_summary",
    "action_breakdowns",
];

/// A parsed insights request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InsightsRequest {
    pub level: Level,
    /// In canonical order.
    pub breakdowns: Vec<Breakdown>,
    pub metrics: Vec<Metric>,
    /// Local days, inclusive, as requested (possibly outside the account's data).
    pub since: i64,
    pub until: i64,
    /// `time_increment=1`: a row per day; otherwise one row for the whole range.
    pub daily: bool,
}

impl InsightsRequest {
    /// The longest range allowed: `max_range_days` at level ad with a breakdown, three times that otherwise.
    pub(crate) fn max_days(&self, max_range_days: u32) -> i64 {
        let days = i64::from(max_range_days.max(1));
        if self.level == Level::Ad && !self.breakdowns.is_empty() {
            days
        } else {
            3 * days
        }
    }
}

fn invalid(message: impl Into<String>) -> FacebookError {
    FacebookError::invalid_parameter(message)
}

fn metrics(fields: Option<&str>) -> Result<Vec<Metric>, FacebookError> {
    let mut metrics = Vec::new();
    let Some(fields) = fields.filter(|fields| !fields.trim().is_empty()) else {
        return Ok(vec![Metric::Impressions, Metric::Spend]);
    };
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if IDENTITY_FIELDS.contains(&field) {
            continue;
        }
        let metric = Metric::ALL
            .into_iter()
            .find(|metric| metric.name() == field)
            .ok_or_else(|| {
                invalid(format!(
                    "{field} is not valid for fields param. The sandbox serves {}, and {}.",
                    IDENTITY_FIELDS.join(", "),
                    Metric::ALL.map(Metric::name).join(", ")
                ))
            })?;
        if !metrics.contains(&metric) {
            metrics.push(metric);
        }
    }
    Ok(metrics)
}

fn breakdowns(text: Option<&str>) -> Result<Vec<Breakdown>, FacebookError> {
    let names: Vec<&str> = text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    let mut breakdowns = Vec::new();
    for name in &names {
        let breakdown = Breakdown::ALL
            .into_iter()
            .find(|breakdown| breakdown.name() == *name)
            .ok_or_else(|| {
                invalid(format!(
                    "The sandbox does not support the breakdown {name}: use country, age,gender or publisher_platform."
                ))
            })?;
        if !breakdowns.contains(&breakdown) {
            breakdowns.push(breakdown);
        }
    }
    breakdowns.sort();
    if !COMBINATIONS.contains(&breakdowns.as_slice()) {
        return Err(invalid(format!(
            "Current combination of data breakdown columns ({}) is invalid. The sandbox supports country; age,gender; publisher_platform.",
            names.join(", ")
        )));
    }
    Ok(breakdowns)
}

fn date(text: &str, name: &str) -> Result<i64, FacebookError> {
    parse_iso_date(text).ok_or_else(|| {
        invalid(format!(
            "Param {name} must be a date as YYYY-MM-DD, not \"{text}\""
        ))
    })
}

/// `{"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}`
fn time_range(text: &str) -> Result<(i64, i64), FacebookError> {
    let malformed = || {
        invalid("Param time_range must be a JSON object {\"since\":\"YYYY-MM-DD\",\"until\":\"YYYY-MM-DD\"}")
    };
    let value: Value = serde_json::from_str(text).map_err(|_| malformed())?;
    let bound = |name: &str| -> Result<i64, FacebookError> {
        let text = value
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(malformed)?;
        date(text, &format!("time_range[{name}]"))
    };
    Ok((bound("since")?, bound("until")?))
}

/// `today`, `yesterday` or `last_Nd` (the N days before today), relative to the account's today.
fn date_preset(text: &str, today: i64) -> Result<(i64, i64), FacebookError> {
    let days = match text {
        "today" => return Ok((today, today)),
        "yesterday" => return Ok((today - 1, today - 1)),
        "last_3d" => 3,
        "last_7d" => 7,
        "last_14d" => 14,
        "last_28d" => 28,
        "last_30d" => 30,
        "last_90d" => 90,
        other => {
            return Err(invalid(format!(
                "The sandbox does not support date_preset={other}: use today, yesterday, last_3d, last_7d, \
                 last_14d, last_28d, last_30d, last_90d, or a time_range."
            )))
        }
    };
    Ok((today - days, today - 1))
}

/// Parses the query parameters of an insights request on `account`. The range limit is checked separately
/// (see [`InsightsRequest::max_days`]): it is a different error.
pub(crate) fn parse(
    pairs: &[(String, String)],
    account: &Account,
) -> Result<InsightsRequest, FacebookError> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if let Some((name, _)) = pairs
        .iter()
        .enumerate()
        .find(|(i, (name, _))| pairs[..*i].iter().any(|(earlier, _)| earlier == name))
        .map(|(_, pair)| pair)
    {
        return Err(invalid(format!("Param {name} was sent more than once")));
    }
    for name in UNSUPPORTED {
        if name == "action_breakdowns" && matches!(get(name), None | Some("action_type")) {
            continue;
        }
        if get(name).is_some() {
            return Err(invalid(format!(
                "The sandbox does not support the parameter {name}."
            )));
        }
    }
    let metrics = metrics(get("fields"))?;
    let level = match get("level") {
        None | Some("") => Level::Account,
        Some(text) => Level::parse(text).ok_or_else(|| {
            invalid(format!(
                "Param level must be one of {{ad, adset, campaign, account}}, not \"{text}\""
            ))
        })?,
    };
    let breakdowns = breakdowns(get("breakdowns"))?;
    let daily = match get("time_increment") {
        None | Some("") | Some("all_days") => false,
        Some("1") => true,
        Some(other) => {
            return Err(invalid(format!(
                "The sandbox supports time_increment=1 or all_days, not \"{other}\""
            )))
        }
    };
    let today = account.last_day;
    let (since, until) = match (
        get("time_range"),
        get("time_range[since]"),
        get("time_range[until]"),
    ) {
        (Some(text), _, _) => time_range(text)?,
        (None, Some(since), Some(until)) => (
            date(since, "time_range[since]")?,
            date(until, "time_range[until]")?,
        ),
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(invalid("Param time_range needs both since and until"))
        }
        (None, None, None) => date_preset(get("date_preset").unwrap_or("last_30d"), today)?,
    };
    if since > until {
        return Err(invalid("Param time_range: since must not be after until"));
    }
    let earliest = add_months(today * DAY, -MAX_MONTHS_BACK).div_euclid(DAY);
    if since < earliest {
        return Err(FacebookError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            3018,
            format!(
                "(#3018) The start date of the time range cannot be beyond 37 months from the current date \
                 (the earliest is {})",
                iso_date(earliest)
            ),
        ));
    }
    Ok(InsightsRequest {
        level,
        breakdowns,
        metrics,
        since,
        until,
        daily,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads::accounts::Accounts;

    const NOW: i64 = 1_767_225_600;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    fn request(query: &str) -> Result<InsightsRequest, String> {
        let accounts = Accounts::new(42, NOW);
        parse(&pairs(query), &accounts.all()[0]).map_err(|error| error.message)
    }

    #[test]
    fn requests_parse_like_the_graph_api() {
        let parsed = request(
            "fields=spend,ad_name,actions,spend&level=ad&breakdowns=gender,age&time_increment=1\
             &time_range=%7B%22since%22%3A%222025-12-01%22%2C%22until%22%3A%222025-12-31%22%7D",
        )
        .unwrap_or_else(|message| panic!("{message}"));
        assert_eq!(parsed.level, Level::Ad);
        assert_eq!(parsed.breakdowns, [Breakdown::Age, Breakdown::Gender]);
        assert_eq!(parsed.metrics, [Metric::Spend, Metric::Actions]);
        assert!(parsed.daily);
        assert_eq!(parsed.until - parsed.since, 30);
        assert_eq!(parsed.max_days(31), 31);
        let defaults = request("").unwrap_or_else(|message| panic!("{message}"));
        // The US account's today is 2025-12-31: last_30d is the 30 days before it.
        assert_eq!(
            (iso_date(defaults.since), iso_date(defaults.until)),
            ("2025-12-01".to_owned(), "2025-12-30".to_owned())
        );
        assert_eq!((defaults.level, defaults.daily), (Level::Account, false));
        assert_eq!(defaults.metrics, [Metric::Impressions, Metric::Spend]);
        assert_eq!(defaults.max_days(31), 93);
        let split = request("time_range[since]=2025-01-01&time_range[until]=2025-01-02")
            .unwrap_or_else(|message| panic!("{message}"));
        assert_eq!(split.until - split.since, 1);
    }

    #[test]
    fn bad_requests_are_explained() {
        for (query, expected) in [
            ("fields=spend,bogus", "bogus is not valid for fields param"),
            ("level=creative", "Param level must be one of"),
            ("breakdowns=region", "does not support the breakdown region"),
            (
                "breakdowns=country,age",
                "combination of data breakdown columns (country, age)",
            ),
            ("time_increment=7", "time_increment=1 or all_days"),
            ("time_range=2025-01-01", "must be a JSON object"),
            (
                "time_range=%7B%22since%22%3A%222025-02-30%22%2C%22until%22%3A%222025-03-01%22%7D",
                "time_range[since]",
            ),
            (
                "time_range=%7B%22since%22%3A%222025-02-02%22%2C%22until%22%3A%222025-02-01%22%7D",
                "since must not be after until",
            ),
            (
                "time_range=%7B%22since%22%3A%222020-01-01%22%2C%22until%22%3A%222020-01-02%22%7D",
                "37 months",
            ),
            ("time_range[since]=2025-01-01", "both since and until"),
            ("date_preset=maximum", "date_preset=maximum"),
            (
                "filtering=%5B%5D",
                "does not support the parameter filtering",
            ),
            (
                "level=ad&level=campaign",
                "Param level was sent more than once",
            ),
        ] {
            let message = request(query).err().unwrap_or_default();
            assert!(message.contains(expected), "{query}: {message}");
        }
        assert!(request("action_breakdowns=action_type").is_ok());
    }
}
