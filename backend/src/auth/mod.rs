//! Accounts and sessions: argon2id passwords, JWT access tokens, rotating refresh tokens,
//! browser cookies with CSRF protection, attempt limits.

pub mod accounts;
pub mod cookies;
pub mod extractor;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod session;

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
    /// Verified against for unknown emails, so that they take as long as wrong passwords.
    pub dummy_hash: String,
    pub refresh_ttl_days: u64,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
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
            key_checks: rate_limit::PerUserLimiter::new(10),
            dummy_hash: password::dummy_hash()?,
            refresh_ttl_days: settings.auth.refresh_token_ttl_days,
            secure_cookies: base_url.starts_with("https://"),
            trust_forwarded_for: settings.application.trust_forwarded_for,
        })
    }

    pub fn refresh_ttl_secs(&self) -> i64 {
        i64::try_from(self.refresh_ttl_days.saturating_mul(86_400)).unwrap_or(i64::MAX)
    }

    /// The client's address, for the attempt limits.
    pub fn client_ip(&self, request: &HttpRequest) -> String {
        if self.trust_forwarded_for {
            if let Some(address) = request.connection_info().realip_remote_addr() {
                return address.to_string();
            }
        }
        request
            .peer_addr()
            .map(|address| address.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}
