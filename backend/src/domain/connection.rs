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

/// A user's connection to a data source (the seed's UserAuthSources). Tokens stay encrypted here;
/// only the code that calls the provider decrypts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: UserId,
    pub data_source_id: DataSourceId,
    pub slug: String,
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

impl Connection {
    pub fn to_response(&self) -> allmetrics_common::ConnectionResponse {
        allmetrics_common::ConnectionResponse {
            source: self.slug.clone(),
            auth_kind: self.auth_kind.as_str().into(),
            account_id: self.account_id.clone(),
            status: self.status.as_str().into(),
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
