//! How the sync engine reads a provider's data without knowing its API. A provider hands the
//! engine a [`Reader`] per (connection, object): the windows a backfill starts with, the window an
//! incremental pass re-reads, one page of a window from an opaque cursor, and the rate it may go
//! at. The engine stores every page with the cursor that follows it, so any reader resumes exactly
//! where it stopped.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use super::ResolvedProvider;
use crate::configuration::SyncSettings;
use crate::domain::{Connection, StoredObject};

/// A slice of an object's records, `[from, until)` in the provider's time (unix seconds: when a
/// record was created, or the start of the day it reports on), and where reading it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadWindow {
    /// `None`: unbounded below.
    pub from: Option<i64>,
    pub until: i64,
    /// Where the next page starts (the reader's own cursor); `None`: at the beginning.
    pub cursor: Option<String>,
}

/// One page of a window.
#[derive(Debug, Default)]
pub struct Page {
    pub objects: Vec<StoredObject>,
    /// Where the next page of the window starts; `None` when the window is read to its end.
    pub next: Option<String>,
    /// For readers that walk a window newest first by time: every record of the window not read
    /// yet has a time at or before this. The engine then cuts what is left in two to read both
    /// parts at once.
    pub reached: Option<i64>,
    /// The provider asks to slow down: wait this long before the next request (a quota running
    /// low). A long wait ends the run; it resumes from its checkpoint after it.
    pub slow_down: Option<Duration>,
}

/// What a connection may ask of its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    pub requests_per_sec: u32,
    /// Requests in flight at once for the whole connection, whatever the object.
    pub concurrent_requests: usize,
    /// Records a full page holds.
    pub page_size: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Too many requests: wait (the provider may say how long) and try again.
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// The token is revoked or expired: the user must reconnect.
    #[error("the provider refused the token")]
    Unauthorized,
    /// This object cannot be read with this connection; retrying will not help.
    #[error("{provider} answered {status}: {message}")]
    Refused {
        provider: String,
        status: u16,
        message: String,
    },
    /// 5xx, timeouts, broken connections, malformed pages: worth retrying.
    #[error("{0}")]
    Transient(String),
    /// The provider refuses to answer for so long a time range: ask for less.
    #[error("{0} asks for a shorter time range")]
    RangeTooLarge(String),
}

impl FetchError {
    /// A failed request, as the engine retries it.
    pub fn from_reqwest(provider: &str, error: &reqwest::Error) -> Self {
        FetchError::Transient(if error.is_timeout() {
            format!("{provider} did not answer in time")
        } else {
            format!("{provider} could not be reached")
        })
    }

    /// A page that is not what the provider documents.
    pub fn malformed(why: impl std::fmt::Display) -> Self {
        FetchError::Transient(format!("malformed page: {why}"))
    }
}

/// A provider's answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// `Retry-After`, when given.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Sends a request and reads its answer; a failure to reach the provider is worth retrying.
pub async fn send(provider: &str, request: reqwest::RequestBuilder) -> Result<Answer, FetchError> {
    let response = request
        .send()
        .await
        .map_err(|error| FetchError::from_reqwest(provider, &error))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let retry_after = retry_after(&headers);
    let body = response
        .bytes()
        .await
        .map_err(|_| FetchError::Transient(format!("{provider}'s answer was cut short")))?;
    Ok(Answer {
        status,
        headers,
        retry_after,
        body: body.to_vec(),
    })
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// What a failed answer means for the engine: 401 a refused token, 429 a wait, 400/403/404
    /// an object this connection cannot read, anything else worth retrying.
    pub fn failure(&self, provider: &str) -> FetchError {
        match self.status {
            401 => FetchError::Unauthorized,
            429 => FetchError::RateLimited {
                retry_after: self.retry_after,
            },
            400 | 403 | 404 => FetchError::Refused {
                provider: provider.to_string(),
                status: self.status,
                message: error_message(&self.body),
            },
            status => FetchError::Transient(format!("{provider} answered {status}")),
        }
    }
}

/// The `error.message` of a JSON error body (Stripe's and Google's shape), shortened.
pub fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| "no explanation given".into())
        .chars()
        .take(300)
        .collect()
}

/// `Retry-After` in seconds (fractions allowed), bounded; anything else is ignored.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite())
        .map(|seconds| Duration::from_secs_f64(seconds.clamp(0.0, 3_600.0)))
}

/// Reads one object of one connection.
#[async_trait]
pub trait Reader: Send + Sync {
    fn limits(&self) -> ReadLimits;

    /// The windows a backfill of the records before `before` (unix seconds) starts with, newest
    /// first. Called once, when the backfill starts; its windows are stored and resumed.
    async fn backfill_windows(&self, before: i64) -> Result<Vec<ReadWindow>, FetchError>;

    /// The window an incremental pass re-reads, given when the previous complete run started.
    fn incremental_window(&self, previous_run: i64, now: i64) -> ReadWindow;

    /// One page of `window`, from its cursor.
    async fn page(&self, window: &ReadWindow) -> Result<Page, FetchError>;

    /// How long the provider keeps this object's changes, when it has a feed of them: syncs
    /// after the backfill then read the changes instead of re-reading a recent window.
    fn change_retention(&self) -> Option<Duration> {
        None
    }

    /// One page of the changes at or after `since` (provider time), newest first.
    async fn changes(&self, _since: i64, _cursor: Option<&str>) -> Result<ChangePage, FetchError> {
        Err(FetchError::Refused {
            provider: "this provider".into(),
            status: 404,
            message: "it has no change feed".into(),
        })
    }

    /// The record as it is now (when a change does not say enough).
    async fn current(&self, _object_id: &str) -> Result<Current, FetchError> {
        Err(FetchError::Refused {
            provider: "this provider".into(),
            status: 404,
            message: "its records cannot be read one by one".into(),
        })
    }

    /// The provider's time now, as its answers gave it.
    fn provider_now(&self) -> Option<i64> {
        None
    }

    /// The change a webhook delivered, when it is one to this reader's object.
    fn pushed_change(&self, _payload: &serde_json::Value) -> Option<Change> {
        None
    }
}

/// One change a provider reports for one record, on the provider's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The provider's id of the change (an event id).
    pub id: String,
    /// When it happened (unix seconds, provider time).
    pub at: i64,
    pub object_id: String,
    /// The record after the change; for a deletion, its last state when the provider gives it.
    pub object: Option<StoredObject>,
    pub deleted: bool,
}

/// One page of a change feed, newest first.
#[derive(Debug, Default)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Where the next (older) page starts; `None` at the end.
    pub next: Option<String>,
}

/// What reading one record again found.
#[derive(Debug, Clone, PartialEq)]
pub enum Current {
    Live(StoredObject),
    /// Deleted at the provider (or gone: never created, or removed for good).
    Deleted,
}

/// The provider's clock as its answers give it (`Date`), kept as an offset from ours so that it
/// reads "now" between answers. Syncs judge what is recent and what is too old on it: a provider
/// whose clock runs ahead of the server's (a sandbox moved forward) is read correctly.
#[derive(Debug, Default)]
pub struct ProviderClock {
    /// Provider time minus server time, in seconds; `i64::MIN` until an answer gave it.
    offset: std::sync::atomic::AtomicI64,
    known: std::sync::atomic::AtomicBool,
}

impl ProviderClock {
    /// Notes the `Date` of an answer.
    pub fn observe(&self, headers: &reqwest::header::HeaderMap) {
        let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| chrono::DateTime::parse_from_rfc2822(value).ok())
        else {
            return;
        };
        let offset = date.timestamp() - chrono::Utc::now().timestamp();
        self.offset
            .store(offset, std::sync::atomic::Ordering::Relaxed);
        self.known.store(true, std::sync::atomic::Ordering::Release);
    }

    /// The provider's time now, when an answer told it.
    pub fn now(&self) -> Option<i64> {
        self.known
            .load(std::sync::atomic::Ordering::Acquire)
            .then(|| {
                chrono::Utc::now()
                    .timestamp()
                    .saturating_add(self.offset.load(std::sync::atomic::Ordering::Relaxed))
            })
    }
}

/// What a provider builds a reader from.
pub struct ReaderContext<'a> {
    pub http: &'a reqwest::Client,
    pub provider: &'a ResolvedProvider,
    pub connection: &'a Connection,
    pub token: SecretString,
    pub object_name: &'a str,
    pub settings: &'a SyncSettings,
}
