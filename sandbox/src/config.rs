//! What a sandbox serves and how badly it behaves.

use std::time::Duration;

/// Everything a [`crate::Sandbox`] is built from. `Default` gives the demo setup: seed 42, 2,000 customers,
/// the OAuth client `sandbox_client` / `sandbox_secret`, no registered redirect URI, no latency, no rate limit,
/// no faults, tokens that never expire, Google Analytics' standard quotas, 10,000 Facebook calls per ad account
/// per hour and insights ranges of 31 days at level ad with a breakdown (93 otherwise).
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Seeds the generated data, the account id and the fault draws.
    pub seed: u64,
    /// Number of customers; the other object counts scale from it.
    pub size: u64,
    /// The one OAuth client the authorization server knows.
    pub client_id: String,
    /// That client's secret (also the "platform secret key" of `/oauth/deauthorize`).
    pub client_secret: String,
    /// A secret key accepted on `/v1` the way Stripe accepts `sk_test_...` keys.
    pub api_key: Option<String>,
    /// A restricted key accepted on `/v1` the way Stripe accepts `rk_test_...` keys: it reads every object,
    /// but has no permission on events (`/v1/events` answers 403) nor webhook endpoints.
    pub restricted_api_key: Option<String>,
    /// How webhook deliveries behave (timeout, retries, concurrency).
    pub webhooks: WebhookConfig,
    /// Registered redirect URIs; `/oauth/authorize` requires an exact match. Empty accepts none.
    pub redirect_uris: Vec<String>,
    /// Added to every `/v1`, `/v1beta` and `/v25.0` Graph request.
    pub latency: Duration,
    /// Token bucket per credential (access token or API key); above it `/v1` and `/v1beta` answer 429 with
    /// `Retry-After`, `/v25.0` Facebook's code 17 (HTTP 400, with `Retry-After`).
    /// Stripe allows 25 reads/s in test mode and 100/s in live mode.
    pub rate_limit_per_sec: Option<u32>,
    /// Fault injection on `/v1`, `/v1beta` and `/v25.0`, all off by default.
    pub faults: Faults,
    /// `None`: access tokens never expire (like Stripe Connect). `Some`: `expires_in` is reported and enforced.
    pub access_token_ttl: Option<Duration>,
    /// Unix seconds the data is generated up to; `None` takes the current time when the sandbox starts.
    pub now: Option<i64>,
    /// Google Analytics tokens per property per hour (`/v1beta/...:runReport`); the daily budget is five times
    /// as many. `None`: GA's standard property, 40,000 per hour and 200,000 per day.
    pub analytics_tokens_per_hour: Option<u32>,
    /// Facebook calls per ad account per hour (`/v25.0/act_{id}/...`; the application may make four times as
    /// many in all). At 100% the account's calls answer error 80000 until the next hour of the sandbox's clock.
    /// `None`: 10,000, effectively unlimited.
    pub ads_calls_per_hour: Option<u32>,
    /// The longest `time_range` (in days, both ends included) an insights request at level `ad` with a
    /// breakdown may ask for; other insights requests may ask for three times as many. Longer ranges answer
    /// Facebook's "Please reduce the amount of data" (code 1, subcode 1504044). Default 31.
    pub ads_max_range_days: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            size: 2000,
            client_id: "sandbox_client".to_owned(),
            client_secret: "sandbox_secret".to_owned(),
            api_key: None,
            restricted_api_key: None,
            webhooks: WebhookConfig::default(),
            redirect_uris: Vec::new(),
            latency: Duration::ZERO,
            rate_limit_per_sec: None,
            faults: Faults::default(),
            access_token_ttl: None,
            now: None,
            analytics_tokens_per_hour: None,
            ads_calls_per_hour: None,
            ads_max_range_days: 31,
        }
    }
}

/// Fault injection on `/v1`, `/v1beta` and `/v25.0`. Every draw is a function of the seed and a counter of the API's
/// requests (each API counts its own), so a test that sends its requests one after another sees the same faults
/// on every run.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of requests answered 500 with Stripe's `api_error`.
    pub error_rate: f64,
    /// Every Nth request starts a burst of 429s ...
    pub rate_limit_burst_every: Option<u32>,
    /// ... this many requests long (the Nth included).
    pub rate_limit_burst_len: u32,
    /// Share of requests that hang for `timeout`, then answer normally.
    pub timeout_rate: f64,
    /// How long a "timed out" request hangs.
    pub timeout: Duration,
    /// Share of 200 bodies cut in half (invalid JSON with a consistent Content-Length).
    pub truncated_rate: f64,
    /// Share of 200 bodies replaced by something that is not JSON (still 200, still `application/json`).
    pub malformed_rate: f64,
}

/// How the sandbox delivers webhooks. Stripe retries for three days with exponential backoff; the sandbox
/// compresses that to seconds so tests see retries happen.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// A delivery not answered within this is a failure (Stripe: 10 s).
    pub timeout: Duration,
    /// Delay before the first retry; doubled for each next one, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts per event and endpoint, the first included; after the last the delivery is given up.
    pub max_attempts: u32,
    /// Deliveries in flight at once, all endpoints together.
    pub concurrency: usize,
    /// How often the delivery task looks for new events when nothing wakes it.
    pub poll_interval: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: Duration::from_secs(10),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_attempts: 8,
            concurrency: 16,
            poll_interval: Duration::from_secs(1),
        }
    }
}
