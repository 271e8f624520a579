//! Insights rows: the aggregation of cells, and the rows as the Graph API writes them.
//!
//! Rows are grouped by day (`time_increment=1`; without it, the whole range is one row per group), by the
//! level's object and by the breakdown values; every additive metric is the sum of the group's cells, so a
//! coarser row is exactly the sum of the finer ones. Rows are ALWAYS sorted by `date_start`, then by the level's
//! id (`ad_id` at level ad; all ids are 17 digits, so string and numeric order agree), then by the breakdown
//! values in the order `country`, `age`, `gender`, `publisher_platform` (byte order); a group without delivery
//! has no row. `reach` is a concave function of the row's impressions (see [`reach`]); ratios are computed per
//! row from its sums.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::accounts::{Account, Currency};
use super::generator::{cells, Additive};
use super::insights::{InsightsRequest, Level, Metric};
use crate::analytics::properties::iso_date;

/// One row before rendering: its day (daily rows), its object at the level, its breakdown values (indices, in
/// the request's breakdown order) and the sums of its cells.
pub(crate) struct Row {
    day: Option<i64>,
    object: usize,
    values: [u8; 2],
    sums: Additive,
}

/// Every row of the report, in the report's order.
pub(crate) fn run(seed: u64, account: &Account, request: &InsightsRequest) -> Vec<Row> {
    let mut sums: HashMap<(Option<i64>, usize, [u8; 2]), Additive> = HashMap::new();
    let start = request.since.max(account.first_day);
    let end = request.until.min(account.last_day);
    for day in start..=end {
        let day_key = request.daily.then_some(day);
        for ad in &account.ads {
            let object = match request.level {
                Level::Account => 0,
                Level::Campaign => ad.campaign,
                Level::AdSet => ad.ad_set,
                Level::Ad => ad.index,
            };
            for cell in cells(seed, account, ad, day) {
                let mut values = [0u8; 2];
                for (slot, breakdown) in values.iter_mut().zip(&request.breakdowns) {
                    *slot = breakdown.of(&cell);
                }
                *sums.entry((day_key, object, values)).or_default() += cell.metrics;
            }
        }
    }
    let mut rows: Vec<Row> = sums
        .into_iter()
        .map(|((day, object, values), sums)| Row {
            day,
            object,
            values,
            sums,
        })
        .collect();
    rows.sort_by_cached_key(|row| {
        let values: Vec<&str> = request
            .breakdowns
            .iter()
            .zip(row.values)
            .map(|(breakdown, value)| breakdown.value(account, value))
            .collect();
        (
            row.day,
            object_id(account, request.level, row.object),
            values,
        )
    });
    rows
}

fn object_id(account: &Account, level: Level, object: usize) -> &str {
    let id = match level {
        Level::Account => None,
        Level::Campaign => account.campaigns.get(object).map(|c| c.id.as_str()),
        Level::AdSet => account.ad_sets.get(object).map(|s| s.id.as_str()),
        Level::Ad => account.ads.get(object).map(|a| a.id.as_str()),
    };
    id.unwrap_or("")
}

/// Reach of a row with `impressions` impressions: `ceil(i * 0.6 / (1 + ln(1 + i) / 10))`, at least 1 when
/// there are impressions. It is concave with f(0) = 0, and for rows of 30 impressions or more
/// f(a) + f(b) - f(a + b) > 1.2, so even after rounding up any row made of several non-empty finer rows reaches
/// strictly fewer people than their sum; every cell has at least 30 impressions (see `generator`).
pub(crate) fn reach(impressions: u64) -> u64 {
    if impressions == 0 {
        return 0;
    }
    let i = impressions as f64;
    ((i * 0.6 / (1.0 + (1.0 + i).ln() / 10.0)).ceil() as u64).max(1)
}

/// `numerator / denominator` rounded half up to 6 decimals, trailing zeros dropped: `77.567568`, `2.1325`, `3`.
fn decimal(numerator: u128, denominator: u128) -> String {
    let denominator = denominator.max(1);
    let micros = (numerator * 2_000_000 + denominator) / (2 * denominator);
    let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `[{"action_type": ..., "value": ...}]` without the zero entries; `None` when all are zero.
fn action_list(entries: &[(&str, u64)], render: impl Fn(u64) -> String) -> Option<Value> {
    let list: Vec<Value> = entries
        .iter()
        .filter(|(_, value)| *value > 0)
        .map(|(kind, value)| json!({ "action_type": kind, "value": render(*value) }))
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// The value of a metric for a row's sums; `None` when Facebook leaves it out (no clicks: no `cpc`; no
/// actions: no `actions`).
fn metric_value(metric: Metric, sums: &Additive, currency: Currency) -> Option<Value> {
    let unit = 10u128.pow(currency.decimals());
    let (impressions, clicks, spend) = (
        u128::from(sums.impressions),
        u128::from(sums.clicks),
        u128::from(sums.spend),
    );
    let text = match metric {
        Metric::Spend => currency.format(sums.spend),
        Metric::Impressions => sums.impressions.to_string(),
        Metric::Clicks => sums.clicks.to_string(),
        Metric::Reach => reach(sums.impressions).to_string(),
        Metric::Frequency => decimal(impressions, u128::from(reach(sums.impressions))),
        Metric::Ctr => decimal(clicks * 100, impressions),
        Metric::Cpc if clicks == 0 => return None,
        Metric::Cpc => decimal(spend, clicks * unit),
        Metric::Cpm => decimal(spend * 1000, impressions * unit),
        Metric::Actions => {
            return action_list(
                &[
                    ("link_click", sums.link_clicks),
                    ("add_to_cart", sums.add_to_cart),
                    ("purchase", sums.purchases),
                    ("lead", sums.leads),
                ],
                |value| value.to_string(),
            )
        }
        Metric::ActionValues => {
            return action_list(
                &[
                    ("add_to_cart", sums.add_to_cart_value),
                    ("purchase", sums.purchase_value),
                ],
                |value| currency.format(value),
            )
        }
    };
    Some(Value::String(text))
}

/// A row as the Graph API writes it.
pub(crate) fn render(account: &Account, request: &InsightsRequest, row: &Row) -> Value {
    let mut fields = Map::new();
    let mut put = |name: &str, value: Value| {
        fields.insert(name.to_owned(), value);
    };
    put("account_id", account.number.to_string().into());
    put("account_name", account.name.into());
    put("account_currency", account.currency.code().into());
    let (start, stop) = match row.day {
        Some(day) => (day, day),
        None => (request.since, request.until),
    };
    put("date_start", iso_date(start).into());
    put("date_stop", iso_date(stop).into());
    let (campaign, ad_set, ad) = match request.level {
        Level::Account => (None, None, None),
        Level::Campaign => (Some(row.object), None, None),
        Level::AdSet => (
            account.ad_sets.get(row.object).map(|s| s.campaign),
            Some(row.object),
            None,
        ),
        Level::Ad => account.ads.get(row.object).map_or((None, None, None), |a| {
            (Some(a.campaign), Some(a.ad_set), Some(row.object))
        }),
    };
    if let Some(campaign) = campaign.and_then(|c| account.campaigns.get(c)) {
        put("campaign_id", campaign.id.clone().into());
        // The name the campaign had on the row's last day with data.
        put(
            "campaign_name",
            campaign.name_on(stop.min(account.last_day)).into(),
        );
    }
    if let Some(ad_set) = ad_set.and_then(|s| account.ad_sets.get(s)) {
        put("adset_id", ad_set.id.clone().into());
        put("adset_name", ad_set.name.into());
    }
    if let Some(ad) = ad.and_then(|a| account.ads.get(a)) {
        put("ad_id", ad.id.clone().into());
        put("ad_name", ad.name.into());
    }
    for (breakdown, value) in request.breakdowns.iter().zip(row.values) {
        put(breakdown.name(), breakdown.value(account, value).into());
    }
    for metric in &request.metrics {
        if let Some(value) = metric_value(*metric, &row.sums, account.currency) {
            put(metric.name(), value);
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_is_strictly_subadditive_for_rows_of_30_impressions_or_more() {
        assert_eq!(reach(0), 0);
        assert_eq!(reach(1), 1);
        for a in 30..600 {
            for b in (a..5000).step_by(11) {
                assert!(reach(a) + reach(b) > reach(a + b), "{a} {b}");
            }
        }
        assert!(reach(5_000_000) + reach(30) > reach(5_000_030));
    }

    #[test]
    fn ratios_round_to_six_decimals_without_trailing_zeros() {
        assert_eq!(decimal(1435, 1850), "0.775676");
        assert_eq!(decimal(9, 185 * 100), "0.000486");
        assert_eq!(decimal(21325, 10_000), "2.1325");
        assert_eq!(decimal(6, 2), "3");
        assert_eq!(decimal(0, 7), "0");
        assert_eq!(decimal(2, 3), "0.666667");
    }
}
