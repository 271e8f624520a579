//! Accounts and sessions: argon2id passwords, JWT access tokens, rotating refresh tokens,
//! browser cookies with CSRF protection, attempt limits.

pub mod accounts;
pub mod api_token;
pub mod client_address;
pub mod cookies;
pub mod extractor;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod setup_token;

pub use accounts::{create_account, validate_email};
pub use extractor::{AdminUser, AuthUser};

use actix_web::HttpRequest;

use crate::configuration::Settings;

/// Everything authentication needs, built once at start-up.
pub struct AuthState {
    pub jwt: jwt::JwtKeys,
    pub limiter: rate_limit::AttemptLimiter,
    /// API keys checked at the provider, per user: 10 a minute.
    pub key_checks: rate_limit::PerUserLimiter,
    /// Requests per personal API token and minute.
    pub api_token_requests: rate_limit::PerUserLimiter,
    /// Verified against for unknown emails, so that they take as long as wrong passwords.
    pub dummy_hash: String,
    pub refresh_ttl_days: u64,
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<client_address::Network>,
}

impl AuthState {
    pub fn new(settings: &Settings, base_url: &str) -> anyhow::Result<Self> {
        let secret = crate::secrets::jwt_secret(settings)?;
        Ok(Self {
            jwt: jwt::JwtKeys::new(&secret, settings.auth.access_token_ttl_secs),
            limiter: rate_limit::AttemptLimiter::new(
                settings.auth.attempts_per_minute_per_ip,
                settings.auth.attempts_per_minute_per_email,
            ),
            key_checks: rate_limit::PerUserLimiter::new(settings.auth.key_checks_per_minute),
            api_token_requests: rate_limit::PerUserLimiter::new(
                settings.auth.api_token_requests_per_minute,
            ),
            dummy_hash: password::dummy_hash()?,
            refresh_ttl_days: settings.auth.refresh_token_ttl_days,
            secure_cookies: base_url.starts_with("https://"),
            trusted_proxies: client_address::parse_networks(&settings.application.trusted_proxies)
                .map_err(|error| anyhow::anyhow!("application.trusted_proxies: {error}"))?,
        })
    }

    pub fn refresh_ttl_secs(&self) -> i64 {
        i64::try_from(self.refresh_ttl_days.saturating_mul(86_400)).unwrap_or(i64::MAX)
    }

    /// The client's address, for the attempt limits.
    pub fn client_ip(&self, request: &HttpRequest) -> String {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .collect();
        client_address::client_address(
            request.peer_addr().map(|address| address.ip()),
            &forwarded,
            &self.trusted_proxies,
        )
    }
}
