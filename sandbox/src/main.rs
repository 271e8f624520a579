//! `allmetrics-sandbox`: the demo Stripe (OAuth server + `/v1` API), Google Analytics 4 (`/v1beta`) and
//! Facebook Ads (`/v25.0`) on its own port.

use std::time::Duration;

use allmetrics_sandbox::{Faults, SandboxConfig};
use clap::Parser;

/// Plays Stripe, Google Analytics 4 and Facebook Ads for allmetrics: an OAuth2 authorization server, a
/// Stripe-compatible API (/v1), a GA4 Data and Admin API (/v1beta) and Facebook's Graph login and Marketing API
/// (/v25.0) over generated data.
#[derive(Parser, Debug)]
#[command(name = "allmetrics-sandbox", version)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// 0 picks a free port (printed on start).
    #[arg(long, default_value_t = 8010)]
    port: u16,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of customers; the other objects scale from it.
    #[arg(long, default_value_t = 2000)]
    size: u64,
    /// Added to every /v1, /v1beta and /v25.0 request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second per credential before 429 (Stripe: 25 in test mode, 100 live).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Share of /v1, /v1beta and /v25.0 requests answered 500.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    error_rate: f64,
    /// Every Nth /v1 (and /v1beta, /v25.0) request starts a burst of 429s (Facebook: code 17).
    #[arg(long)]
    burst_every: Option<u32>,
    /// Length of each 429 burst.
    #[arg(long, default_value_t = 3)]
    burst_len: u32,
    /// Share of /v1, /v1beta and /v25.0 requests that hang for --timeout-ms before answering.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    timeout_rate: f64,
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    /// Share of 200 bodies cut in half.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    truncated_rate: f64,
    /// Share of 200 bodies replaced by non-JSON.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    malformed_rate: f64,
    #[arg(long, default_value = "sandbox_client")]
    client_id: String,
    #[arg(long, default_value = "sandbox_secret")]
    client_secret: String,
    /// Accepted as a secret key on /v1 (like Stripe's sk_test_...), and as an access token on /v1beta and
    /// /v25.0.
    #[arg(long)]
    api_key: Option<String>,
    /// Accepted on /v1 as a restricted key (like Stripe's rk_test_...): objects yes, events and webhook
    /// endpoints no (403).
    #[arg(long)]
    restricted_api_key: Option<String>,
    /// A registered OAuth redirect URI (repeatable; exact match required).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Access tokens expire after this many seconds (default: never, like Stripe Connect).
    #[arg(long)]
    token_ttl_secs: Option<u64>,
    /// Generate data up to this unix time instead of now.
    #[arg(long)]
    now: Option<i64>,
    /// Google Analytics tokens per property per hour (5x per day; default: GA's 40,000 and 200,000).
    #[arg(long)]
    analytics_tokens_per_hour: Option<u32>,
    /// Facebook calls per ad account per hour before error 80000 (default 10,000; the app: 4x).
    #[arg(long)]
    ads_calls_per_hour: Option<u32>,
    /// Longest insights time_range in days at level ad with a breakdown (3x otherwise).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(1..))]
    ads_max_range_days: u32,
}

/// A share of requests: a number from 0 to 1.
fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!("{text} is not a share between 0 and 1")),
    }
}

impl Args {
    fn config(self) -> SandboxConfig {
        SandboxConfig {
            seed: self.seed,
            size: self.size,
            client_id: self.client_id,
            client_secret: self.client_secret,
            api_key: self.api_key,
            restricted_api_key: self.restricted_api_key,
            webhooks: allmetrics_sandbox::WebhookConfig::default(),
            redirect_uris: self.redirect_uris,
            latency: Duration::from_millis(self.latency_ms),
            rate_limit_per_sec: self.rate_limit,
            faults: Faults {
                error_rate: self.error_rate,
                rate_limit_burst_every: self.burst_every,
                rate_limit_burst_len: self.burst_len,
                timeout_rate: self.timeout_rate,
                timeout: Duration::from_millis(self.timeout_ms),
                truncated_rate: self.truncated_rate,
                malformed_rate: self.malformed_rate,
            },
            access_token_ttl: self.token_ttl_secs.map(Duration::from_secs),
            now: self.now,
            analytics_tokens_per_hour: self.analytics_tokens_per_hour,
            ads_calls_per_hour: self.ads_calls_per_hour,
            ads_max_range_days: self.ads_max_range_days,
        }
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let host = args.host.clone();
    let port = args.port;
    allmetrics_sandbox::run(&host, port, args.config()).await
}
