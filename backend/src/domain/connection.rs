use chrono::{DateTime, Utc};

use super::{DataSourceId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    OAuth,
    ApiKey,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::OAuth => "oauth",
            AuthKind::ApiKey => "api_key",
        }
    }

    pub fn from_stored(value: &str) -> Self {
        match value {
            "api_key" => AuthKind::ApiKey,
            _ => AuthKind::OAuth,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    Active,
    /// The provider refused the token (revoked, expired refresh): the user must connect again.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    pub fn from_stored(value: &str) -> Self {
        match value {
            "active" => ConnectionStatus::Active,
            _ => ConnectionStatus::NeedsReconnect,
        }
    }
}

/// An account a connection can read (a GA4 property, an ad account), as the account picker
/// lists it and as the chosen one is kept on the connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderAccount {
    pub id: String,
    pub name: String,
    /// The account (or business) it belongs to, for display.
    #[serde(default)]
    pub parent: Option<String>,
    /// IANA name: the days of its reports are cut in it.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// ISO 4217, as the provider gives it.
    #[serde(default)]
    pub currency: Option<String>,
    /// Unix seconds: its history starts there.
    #[serde(default)]
    pub created: Option<i64>,
}

/// A user's connection to a data source (the seed's UserAuthSources). Tokens stay encrypted here;
/// only the code that calls the provider decrypts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: UserId,
    pub data_source_id: DataSourceId,
    pub slug: String,
    /// The data source's provider kind (registry key).
    pub provider: String,
    pub auth_kind: AuthKind,
    /// The provider's account id (the seed's `access_id`), e.g. Stripe's `acct_...`.
    pub account_id: Option<String>,
    pub access_token_enc: String,
    pub refresh_token_enc: Option<String>,
    /// Unix seconds; `None` for tokens that do not expire.
    pub expires_at: Option<i64>,
    pub scopes: String,
    /// The provider's token response without its secret fields (the seed's `objects_json`).
    pub token_response: serde_json::Value,
    pub status: ConnectionStatus,
    /// The account chosen to read, for providers that offer several (a reconnect keeps it).
    pub account: Option<ProviderAccount>,
    /// What its subscription metrics are converted to (lower case); `None`: the account's
    /// default currency.
    pub reporting_currency: Option<String>,
    /// The account's default currency as the provider last told it (Stripe's
    /// `default_currency`), lower case.
    pub account_currency: Option<String>,
    /// How its subscription metrics are defined.
    pub subscription_settings: allmetrics_common::SubscriptionSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything an (re)connect stores; replaces the previous connection of that user and source.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub user_id: UserId,
    pub data_source_id: DataSourceId,
    pub auth_kind: AuthKind,
    pub account_id: Option<String>,
    pub access_token_enc: String,
    pub refresh_token_enc: Option<String>,
    pub expires_at: Option<i64>,
    pub scopes: String,
    pub token_response: serde_json::Value,
}

/// New tokens after a refresh or a key rotation.
#[derive(Debug, Clone)]
pub struct ConnectionTokens {
    pub access_token_enc: String,
    pub refresh_token_enc: Option<String>,
    pub expires_at: Option<i64>,
}

/// A pending OAuth authorization, found by the hash of its `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    pub state_hash: String,
    pub user_id: UserId,
    pub slug: String,
    pub pkce_verifier_enc: Option<String>,
    pub redirect_uri: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A token that cannot be refreshed is `expiring` this long before it expires: the user should
/// reconnect soon (syncs go on until it really expires).
pub const EXPIRING_SECS: i64 = 7 * 86_400;

fn now() -> i64 {
    Utc::now().timestamp()
}

impl Connection {
    /// Whether its token has expired and cannot be refreshed (Facebook's long-lived tokens).
    pub fn token_expired(&self, now: i64) -> bool {
        self.refresh_token_enc.is_none() && self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether its token, which cannot be refreshed, expires within `seconds`.
    pub fn token_expires_within(&self, now: i64, seconds: i64) -> bool {
        self.refresh_token_enc.is_none()
            && self
                .expires_at
                .is_some_and(|at| at.saturating_sub(now) < seconds)
    }

    /// As the API shows it; `chooses_account`: the provider reads one account chosen among
    /// several, so the connection waits for the choice (`needs_account`).
    pub fn to_response(&self, chooses_account: bool) -> allmetrics_common::ConnectionResponse {
        let status = match self.status {
            ConnectionStatus::Active if self.token_expired(now()) => "needs_reconnect",
            ConnectionStatus::Active if chooses_account && self.account.is_none() => {
                "needs_account"
            }
            ConnectionStatus::Active if self.token_expires_within(now(), EXPIRING_SECS) => {
                "expiring"
            }
            status => status.as_str(),
        };
        allmetrics_common::ConnectionResponse {
            source: self.slug.clone(),
            auth_kind: self.auth_kind.as_str().into(),
            account_id: self.account_id.clone(),
            status: status.into(),
            account: self.account.as_ref().map(ProviderAccount::to_response),
            reporting_currency: self.reporting_currency.clone(),
            subscription_settings: self.subscription_settings.clone(),
            scopes: self.scopes.clone(),
            expires_at: self
                .expires_at
                .and_then(|at| DateTime::<Utc>::from_timestamp(at, 0))
                .map(|at| at.to_rfc3339()),
            connected_at: self.created_at.to_rfc3339(),
            updated_at: self.updated_at.to_rfc3339(),
        }
    }
}

impl ProviderAccount {
    pub fn to_response(&self) -> allmetrics_common::AccountResponse {
        allmetrics_common::AccountResponse {
            id: self.id.clone(),
            name: self.name.clone(),
            parent: self.parent.clone(),
            time_zone: self.time_zone.clone(),
            currency: self.currency.clone(),
        }
    }
}
