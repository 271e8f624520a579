//! Providers. Each is one folder behind the [`Provider`] trait: its OAuth facts (the seed's
//! API_CREDENTIALS), its object catalogue, and the calls allmetrics makes to it. `registry.rs`
//! lists them explicitly; adding a provider touches its folder and one line there.

pub mod demo;
pub mod facebook;
pub mod generic;
pub mod google;
pub mod http;
pub mod oauth;
pub mod registry;
pub mod stripe;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::configuration::Settings;
use crate::domain::AuthKind;

/// How the client authenticates at the token endpoint (RFC 6749 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    RequestBody,
    /// HTTP Basic.
    BasicAuth,
}

/// A provider's OAuth facts; configuration can override every one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSpec {
    pub authorize_url: String,
    pub token_url: String,
    pub scopes: Vec<String>,
    pub extra_authorize_params: Vec<(String, String)>,
    pub client_auth: ClientAuth,
    pub pkce: bool,
    /// Field of the token response holding the account id (the seed's `user_key`).
    pub user_key: Option<String>,
    /// Field of the token response holding the access token (the seed's `access_token_key`).
    pub access_token_key: String,
    /// Where tokens are revoked (RFC 7009), if the provider has such an endpoint.
    pub revoke_url: Option<String>,
}

/// An object a provider offers, as seeded into the routing sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueObject {
    /// The routing-source name, e.g. `Charge`.
    pub name: &'static str,
    pub label: &'static str,
    /// The list endpoint, relative to the API base, e.g. `/v1/charges`.
    pub list_path: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{0} does not answer in time")]
    Timeout(String),
    #[error("{0} cannot be reached")]
    Unreachable(String),
    #[error("the provider refused the credentials")]
    Unauthorized,
    #[error("the provider answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the provider's answer is not understood: {0}")]
    BadResponse(String),
    #[error("this provider does not support {0}")]
    Unsupported(&'static str),
}

impl ProviderError {
    pub fn from_reqwest(error: reqwest::Error, what: &str) -> Self {
        if error.is_timeout() {
            ProviderError::Timeout(what.to_string())
        } else if error.is_connect() || error.is_request() {
            ProviderError::Unreachable(what.to_string())
        } else {
            ProviderError::BadResponse(error.without_url().to_string())
        }
    }
}

/// A provider with this server's configuration applied: what the connect flow works with.
#[derive(Clone)]
pub struct ResolvedProvider {
    pub slug: String,
    pub provider: &'static dyn Provider,
    pub oauth: OAuthSpec,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub api_base: String,
    pub redirect_uri: String,
}

impl ResolvedProvider {
    /// Whether the server has what connecting needs (client credentials and endpoints).
    pub fn configured(&self) -> bool {
        self.client_id.as_deref().is_some_and(|id| !id.is_empty())
            && self.client_secret.is_some()
            && !self.oauth.authorize_url.is_empty()
            && !self.oauth.token_url.is_empty()
    }
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The registry key, stored in `data_sources.provider`.
    fn kind(&self) -> &'static str;
    fn default_name(&self) -> &'static str;
    /// The provider's own endpoints; `base_url` is this server's public URL (the sandbox lives
    /// under it).
    fn oauth_defaults(&self, base_url: &str) -> OAuthSpec;
    fn default_api_base(&self, base_url: &str) -> String;
    fn catalogue(&self) -> &'static [CatalogueObject];

    /// Client credentials to use when the configuration gives none (the sandbox's own client).
    fn builtin_credentials(&self, _settings: &Settings) -> Option<(String, SecretString)> {
        None
    }

    /// Whether the sync engine can read this provider's objects through a Stripe-style list API.
    fn has_list_api(&self) -> bool {
        false
    }

    /// Whether users may connect with an API key instead of OAuth (Stripe's restricted keys).
    fn supports_api_key(&self) -> bool {
        false
    }

    /// Checks an API key with one cheap read call.
    async fn verify_api_key(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        _api_key: &SecretString,
    ) -> Result<(), ProviderError> {
        Err(ProviderError::Unsupported("API keys"))
    }

    /// Tells the provider the connection is gone (deauthorize, revoke) where it can. By default
    /// the refresh token (or else the access token) is revoked at the revocation endpoint.
    async fn disconnect(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        connection: &Disconnecting,
    ) -> Result<(), ProviderError> {
        match (&provider.oauth.revoke_url, connection.auth_kind) {
            (Some(url), AuthKind::OAuth) => {
                let token = connection
                    .refresh_token
                    .as_ref()
                    .unwrap_or(&connection.access_token);
                oauth::revoke(http, url, token).await
            }
            _ => Ok(()),
        }
    }
}

/// What disconnecting knows about the connection being removed.
pub struct Disconnecting {
    pub auth_kind: AuthKind,
    pub account_id: Option<String>,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}
