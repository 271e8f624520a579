//! Facebook's rate limiting, as usage headers and throttling errors.
//!
//! Calls are counted per hour of the sandbox's clock (UTC hour boundaries of `Clock::unix_now`, so
//! `Sandbox::advance_clock` by an hour starts afresh):
//!
//! - per ad account: every authenticated `/act_{id}/...` call, against `ads_calls_per_hour` (`None`: 10,000);
//! - per application: every authenticated Graph call (`/me...` and `/act_...`; not `/oauth/access_token`),
//!   against four times that.
//!
//! A call is refused, and not counted, when its account has already made its hourly calls (code 80000,
//! subcode 2446079) or the application has (code 4). Every answer carries the usage after it, in whole
//! percentages (`floor(calls * 100 / budget)`): `x-app-usage` always; `x-ad-account-usage` and
//! `x-business-use-case-usage` on `/act_{id}/...` calls. `total_time` is 3/4 and `total_cputime` 1/2 of the
//! call count's percentage (so `call_count` is always the highest). `reset_time_duration` is the seconds
//! left in the hour (0 before any call), `estimated_time_to_regain_access` the minutes left in it (rounded up)
//! once the account's usage is at 100%, i.e. its next call would be refused (0 below).

use std::sync::{Mutex, MutexGuard, PoisonError};

use actix_web::HttpResponse;
use serde_json::json;

/// The hourly calls per ad account when `ads_calls_per_hour` is unset: effectively unlimited.
pub(crate) const DEFAULT_CALLS_PER_HOUR: u64 = 10_000;
/// The application may make this many times one account's calls.
const APP_BUDGET_ACCOUNTS: u64 = 4;
const HOUR: i64 = 3_600;

#[derive(Default)]
struct Counts {
    hour: i64,
    app: u64,
    accounts: Vec<u64>,
}

pub(crate) struct Usage {
    per_hour: u64,
    counts: Mutex<Counts>,
}

/// The ad account a call is about, for its usage headers.
#[derive(Clone, Copy)]
pub(crate) struct AccountCall {
    pub index: usize,
    pub business_id: &'static str,
    /// `ads_insights` or `ads_management`.
    pub use_case: &'static str,
}

/// Usage after a call, ready to become headers.
pub(crate) struct Snapshot {
    per_hour: u64,
    app_calls: u64,
    account: Option<(AccountCall, u64)>,
    seconds_left: i64,
}

/// Why a call was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Throttled {
    Account,
    App,
}

fn percent(calls: u64, budget: u64, share: u64) -> u64 {
    calls.saturating_mul(share) / budget.max(1)
}

impl Snapshot {
    fn app_budget(&self) -> u64 {
        self.per_hour * APP_BUDGET_ACCOUNTS
    }

    /// `{"call_count":N,"total_cputime":N,"total_time":N}`
    pub(crate) fn app_usage(&self) -> String {
        let budget = self.app_budget();
        json!({
            "call_count": percent(self.app_calls, budget, 100),
            "total_cputime": percent(self.app_calls, budget, 50),
            "total_time": percent(self.app_calls, budget, 75),
        })
        .to_string()
    }

    fn reset_seconds(&self, calls: u64) -> i64 {
        if calls == 0 {
            0
        } else {
            self.seconds_left
        }
    }

    /// `{"acc_id_util_pct":N,"reset_time_duration":S,"ads_api_access_tier":"development_access"}`
    pub(crate) fn account_usage(&self) -> Option<String> {
        let (_, calls) = self.account?;
        Some(
            json!({
                "acc_id_util_pct": percent(calls, self.per_hour, 100),
                "reset_time_duration": self.reset_seconds(calls),
                "ads_api_access_tier": "development_access",
            })
            .to_string(),
        )
    }

    /// `{"<business id>":[{"type":"ads_insights","call_count":N,...,"estimated_time_to_regain_access":M}]}`
    pub(crate) fn business_usage(&self) -> Option<String> {
        let (call, calls) = self.account?;
        let regain_minutes = if calls >= self.per_hour {
            (self.seconds_left + 59) / 60
        } else {
            0
        };
        let mut usage = serde_json::Map::new();
        usage.insert(
            call.business_id.to_owned(),
            json!([{
                "type": call.use_case,
                "call_count": percent(calls, self.per_hour, 100),
                "total_cputime": percent(calls, self.per_hour, 50),
                "total_time": percent(calls, self.per_hour, 75),
                "estimated_time_to_regain_access": regain_minutes,
                "ads_api_access_tier": "development_access",
            }]),
        );
        Some(serde_json::Value::Object(usage).to_string())
    }

    /// Adds the usage headers to an answer.
    pub(crate) fn apply(&self, response: &mut HttpResponse) {
        let headers = response.headers_mut();
        let mut insert = |name: &'static str, value: String| {
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&value) {
                headers.insert(
                    actix_web::http::header::HeaderName::from_static(name),
                    value,
                );
            }
        };
        insert("x-app-usage", self.app_usage());
        if let Some(value) = self.account_usage() {
            insert("x-ad-account-usage", value);
        }
        if let Some(value) = self.business_usage() {
            insert("x-business-use-case-usage", value);
        }
    }
}

impl Usage {
    /// `per_hour`: calls per ad account per hour; `None` for [`DEFAULT_CALLS_PER_HOUR`].
    pub(crate) fn new(accounts: usize, per_hour: Option<u32>) -> Self {
        Usage {
            per_hour: per_hour.map_or(DEFAULT_CALLS_PER_HOUR, u64::from).max(1),
            counts: Mutex::new(Counts {
                hour: 0,
                app: 0,
                accounts: vec![0; accounts],
            }),
        }
    }

    fn counts(&self, now: i64) -> MutexGuard<'_, Counts> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let hour = now.div_euclid(HOUR);
        if counts.hour != hour {
            counts.hour = hour;
            counts.app = 0;
            counts.accounts.iter_mut().for_each(|calls| *calls = 0);
        }
        counts
    }

    fn snapshot(&self, counts: &Counts, account: Option<AccountCall>, now: i64) -> Snapshot {
        Snapshot {
            per_hour: self.per_hour,
            app_calls: counts.app,
            account: account.map(|call| {
                let calls = counts.accounts.get(call.index).copied().unwrap_or(0);
                (call, calls)
            }),
            seconds_left: HOUR - now.rem_euclid(HOUR),
        }
    }

    /// The usage now, without counting a call (for answers to calls that were not counted).
    pub(crate) fn peek(&self, account: Option<AccountCall>, now: i64) -> Snapshot {
        let counts = self.counts(now);
        self.snapshot(&counts, account, now)
    }

    /// Counts a call at `now` (unix seconds), or refuses it when its account or the application has used its
    /// hour. Either way, the usage to report.
    pub(crate) fn call(
        &self,
        account: Option<AccountCall>,
        now: i64,
    ) -> Result<Snapshot, (Throttled, Snapshot)> {
        let mut counts = self.counts(now);
        if let Some(call) = account {
            if counts.accounts.get(call.index).copied().unwrap_or(0) >= self.per_hour {
                return Err((Throttled::Account, self.snapshot(&counts, account, now)));
            }
        }
        if counts.app >= self.per_hour * APP_BUDGET_ACCOUNTS {
            return Err((Throttled::App, self.snapshot(&counts, account, now)));
        }
        counts.app += 1;
        if let Some(calls) = account.and_then(|call| counts.accounts.get_mut(call.index)) {
            *calls += 1;
        }
        Ok(self.snapshot(&counts, account, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const HOUR_START: i64 = 1_767_225_600;

    fn call(index: usize) -> Option<AccountCall> {
        Some(AccountCall {
            index,
            business_id: "77",
            use_case: "ads_insights",
        })
    }

    fn parse(text: Option<String>) -> Value {
        serde_json::from_str(&text.unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn accounts_are_throttled_at_their_hourly_calls_until_the_next_hour() {
        let usage = Usage::new(2, Some(4));
        let mut percents = Vec::new();
        for _ in 0..4 {
            let snapshot = usage.call(call(0), HOUR_START + 600).ok();
            let account = parse(snapshot.and_then(|s| s.account_usage()));
            percents.push(account["acc_id_util_pct"].as_u64().unwrap_or(999));
            assert_eq!(account["reset_time_duration"], 3000);
        }
        assert_eq!(percents, [25, 50, 75, 100]);
        let Err((why, snapshot)) = usage.call(call(0), HOUR_START + 600) else {
            panic!("a fifth call in the hour");
        };
        assert_eq!(why, Throttled::Account);
        let business = parse(snapshot.business_usage());
        assert_eq!(business["77"][0]["call_count"], 100);
        assert_eq!(business["77"][0]["estimated_time_to_regain_access"], 50);
        assert!(usage.call(call(1), HOUR_START + 600).is_ok(), "per account");
        let app = parse(Some(usage.peek(None, HOUR_START + 600).app_usage()));
        assert_eq!(
            app,
            json!({"call_count": 31, "total_cputime": 15, "total_time": 23})
        );
        let next_hour = usage.call(call(0), HOUR_START + 3600);
        let account = parse(next_hour.ok().and_then(|s| s.account_usage()));
        assert_eq!(account["acc_id_util_pct"], 25);
    }

    #[test]
    fn the_application_is_throttled_at_four_accounts_worth() {
        let usage = Usage::new(1, Some(2));
        for _ in 0..8 {
            assert!(usage.call(None, HOUR_START).is_ok());
        }
        assert_eq!(
            usage.call(None, HOUR_START).err().map(|e| e.0),
            Some(Throttled::App)
        );
        let fresh = Usage::new(1, None);
        let snapshot = fresh.call(call(0), HOUR_START).ok();
        let account = parse(snapshot.and_then(|s| s.account_usage()));
        assert_eq!(account["acc_id_util_pct"], 0);
    }
}
