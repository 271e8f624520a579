//! Facebook's rate limiting, read from the usage headers it sends on every answer (errors too):
//! `x-business-use-case-usage`, `x-ad-account-usage`, `x-app-usage`, each a percentage of a
//! budget. Above 75% the reader slows down; above 95% it stops until the budget comes back (the
//! run ends and resumes from its checkpoints); throttling errors (codes 4, 17, 32, 613,
//! 80000-80014) wait as long.

use std::time::Duration;

use serde_json::Value;

/// Slow down above this share of a budget...
const SLOW_DOWN_PERCENT: f64 = 75.0;
/// ... and stop above this one.
const STOP_PERCENT: f64 = 95.0;
/// The pause between requests while slowing down.
const SLOW_DOWN_WAIT: Duration = Duration::from_secs(2);
/// How long to stop when Facebook does not say.
const DEFAULT_STOP: Duration = Duration::from_secs(300);

/// The highest use of any budget, and how long until access is regained if Facebook said.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Usage {
    pub percent: f64,
    pub regain: Option<Duration>,
}

fn header_json(headers: &reqwest::header::HeaderMap, name: &str) -> Option<Value> {
    serde_json::from_str(headers.get(name)?.to_str().ok()?).ok()
}

fn percentages(value: &Value, names: &[&str]) -> f64 {
    names
        .iter()
        .filter_map(|name| value[*name].as_f64())
        .fold(0.0, f64::max)
}

pub fn read(headers: &reqwest::header::HeaderMap) -> Usage {
    let mut usage = Usage::default();
    let mut regain = |seconds: f64| {
        if seconds > 0.0 && seconds.is_finite() {
            let wait = Duration::from_secs_f64(seconds.min(86_400.0));
            usage.regain = Some(usage.regain.map_or(wait, |known| known.max(wait)));
        }
    };
    let mut percent = 0.0f64;
    if let Some(app) = header_json(headers, "x-app-usage") {
        percent = percent.max(percentages(
            &app,
            &["call_count", "total_cputime", "total_time"],
        ));
    }
    if let Some(account) = header_json(headers, "x-ad-account-usage") {
        percent = percent.max(percentages(&account, &["acc_id_util_pct"]));
        if percent >= STOP_PERCENT {
            regain(account["reset_time_duration"].as_f64().unwrap_or(0.0));
        }
    }
    if let Some(business) = header_json(headers, "x-business-use-case-usage") {
        for uses in business
            .as_object()
            .into_iter()
            .flat_map(|by_id| by_id.values())
        {
            for used in uses.as_array().into_iter().flatten() {
                percent = percent.max(percentages(
                    used,
                    &["call_count", "total_cputime", "total_time"],
                ));
                // Minutes.
                regain(
                    used["estimated_time_to_regain_access"]
                        .as_f64()
                        .unwrap_or(0.0)
                        * 60.0,
                );
            }
        }
    }
    usage.percent = percent;
    usage
}

impl Usage {
    /// The wait before the next request: none, a short pause, or until the budget is back.
    pub fn slow_down(&self) -> Option<Duration> {
        if self.percent >= STOP_PERCENT {
            Some(self.regain.unwrap_or(DEFAULT_STOP))
        } else if self.percent >= SLOW_DOWN_PERCENT {
            Some(SLOW_DOWN_WAIT)
        } else {
            None
        }
    }

    /// How long a throttling error asks to wait.
    pub fn throttled_wait(&self) -> Duration {
        self.regain.unwrap_or(DEFAULT_STOP)
    }
}

/// Facebook's error codes that mean "too many calls, wait".
pub fn is_throttling(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 613 | 80_000..=80_014)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> reqwest::header::HeaderMap {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn usage_slows_down_then_stops() {
        let calm = read(&headers(&[(
            "x-app-usage",
            r#"{"call_count":10,"total_cputime":3,"total_time":4}"#,
        )]));
        assert_eq!(calm.slow_down(), None);
        let busy = read(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":80,"reset_time_duration":0}"#,
        )]));
        assert_eq!(busy.slow_down(), Some(SLOW_DOWN_WAIT));
        let full = read(&headers(&[(
            "x-business-use-case-usage",
            r#"{"123":[{"type":"ads_insights","call_count":98,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":3}]}"#,
        )]));
        assert_eq!(full.slow_down(), Some(Duration::from_secs(180)));
        assert_eq!(
            read(&headers(&[("x-app-usage", "not json")])),
            Usage::default()
        );
        assert!(is_throttling(80_004) && is_throttling(613) && !is_throttling(190));
    }
}
