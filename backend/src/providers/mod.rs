//! Providers. Each is one folder behind the [`Provider`] trait: its OAuth facts (the seed's
//! API_CREDENTIALS), its object catalogue, and the calls allmetrics makes to it. `registry.rs`
//! lists them explicitly; adding a provider touches its folder and one line there.

pub mod demo;
pub mod facebook;
pub mod generic;
pub mod google;
pub mod http;
pub mod money;
pub mod oauth;
pub mod reader;
pub mod registry;
pub mod report_days;
pub mod stripe;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::configuration::Settings;
use crate::domain::AuthKind;
pub use crate::domain::ProviderAccount;

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
    /// Where the provider's account API lives, when it is apart from the data API (Google's
    /// Admin API).
    pub admin_api_base: String,
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

/// The stored objects subscription metrics (MRR, churn...) are rebuilt from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionObjects {
    pub subscriptions: &'static str,
    pub invoices: &'static str,
    pub prices: &'static str,
}

impl SubscriptionObjects {
    pub fn names(&self) -> [&'static str; 3] {
        [self.subscriptions, self.invoices, self.prices]
    }
}

/// Every stored object of the names [`SubscriptionObjects`] gives.
#[derive(Debug, Clone, Default)]
pub struct StoredSubscriptions {
    pub subscriptions: Vec<serde_json::Value>,
    pub invoices: Vec<serde_json::Value>,
    pub prices: Vec<serde_json::Value>,
}

/// The exchange rates a provider serves today for a connection's account.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRates {
    /// When they were given, on the provider's clock (unix seconds): they are that UTC day's.
    pub at: i64,
    /// One unit of it buys `rate` units of each currency (lower case).
    pub base: String,
    /// The account's default currency, when the provider told it.
    pub account_currency: Option<String>,
    pub rates: Vec<(String, f64)>,
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
    fn default_admin_api_base(&self, base_url: &str) -> String {
        self.default_api_base(base_url)
    }
    fn catalogue(&self) -> &'static [CatalogueObject];

    /// Whether the built-in sandbox plays this provider (its callback URLs are registered there).
    fn is_sandbox(&self) -> bool {
        false
    }

    /// Client credentials to use when the configuration gives none (the sandbox's own client).
    fn builtin_credentials(&self, _settings: &Settings) -> Option<(String, SecretString)> {
        None
    }

    /// Whether the sync engine can read this provider's data (it has a [`reader::Reader`]).
    fn reads_data(&self) -> bool {
        false
    }

    /// The reader of one object of one connection; `None` when this provider's data cannot be
    /// read (yet): it then connects and charts nothing.
    fn reader(&self, _context: reader::ReaderContext<'_>) -> Option<Box<dyn reader::Reader>> {
        None
    }

    /// How an object's records are charted (records at an instant, or report rows of a day).
    fn object_schema(&self, _object_name: &str) -> ObjectSchema {
        ObjectSchema::Records
    }

    /// The objects this provider's subscription metrics are rebuilt from; `None` when it bills
    /// no subscriptions (subscription metrics are then refused).
    fn subscription_objects(&self) -> Option<SubscriptionObjects> {
        None
    }

    /// Each subscription's history (its items, status and discounts over time) from the stored
    /// objects; subscriptions it cannot read are left out.
    fn subscription_histories(
        &self,
        _stored: StoredSubscriptions,
    ) -> Vec<allmetrics_subscriptions::SubscriptionHistory> {
        Vec::new()
    }

    /// The subscriptions an invoice (an object of [`SubscriptionObjects::invoices`]) bills:
    /// when it changes, their histories are rebuilt.
    fn billed_subscriptions(&self, _invoice: &serde_json::Value) -> Vec<String> {
        Vec::new()
    }

    /// Today's exchange rates for the connection's account, when the provider serves them
    /// (`None` otherwise): the sync keeps them, asking at most once a day per connection.
    async fn exchange_rates(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        _token: &SecretString,
    ) -> Result<Option<ExchangeRates>, ProviderError> {
        Ok(None)
    }

    /// Whether a connection must choose one account of several (a GA4 property, an ad account)
    /// before anything is read.
    fn chooses_account(&self) -> bool {
        false
    }

    /// The accounts the connection can read, for the account picker.
    async fn list_accounts(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        _token: &SecretString,
    ) -> Result<Vec<ProviderAccount>, ProviderError> {
        Err(ProviderError::Unsupported("choosing an account"))
    }

    /// One account with what reading it needs (its time zone, currency, creation time).
    async fn account_details(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        _token: &SecretString,
        _account_id: &str,
    ) -> Result<ProviderAccount, ProviderError> {
        Err(ProviderError::Unsupported("choosing an account"))
    }

    /// Whether users may connect with an API key instead of OAuth (Stripe's restricted keys).
    fn supports_api_key(&self) -> bool {
        false
    }

    /// Checks an API key with one cheap read call; returns the account it belongs to when the
    /// key may tell it (so that a key of another account never mixes two accounts' data).
    async fn verify_api_key(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        _api_key: &SecretString,
    ) -> Result<Option<String>, ProviderError> {
        Err(ProviderError::Unsupported("API keys"))
    }

    /// Turns the code exchange's grant into the one to keep (Facebook: a long-lived token).
    async fn complete_grant(
        &self,
        _http: &reqwest::Client,
        _provider: &ResolvedProvider,
        grant: oauth::Grant,
    ) -> Result<oauth::Grant, ProviderError> {
        Ok(grant)
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

/// How an object's records are charted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectSchema {
    /// Records created at an instant (`created`, unix seconds): days are cut in the chart's time
    /// zone.
    Records,
    /// Report rows, one per day (stored at that day's 00:00 UTC) and dimension values: a row
    /// belongs to its day whatever time zone the chart asks for.
    Report(&'static ReportSpec),
}

/// A report object: its dimensions besides the date, and the rule for values that are not
/// additive (unique users): a day's total comes from `totals_object`, a group only from a report
/// whose dimensions are exactly that group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSpec {
    pub dimensions: &'static [&'static str],
    pub metrics: &'static [&'static str],
    pub non_additive: &'static [&'static str],
    pub totals_object: &'static str,
    /// Fields holding money in the account currency's minor units.
    pub money: &'static [&'static str],
    /// Ratios, charted as the sum of their numerator over the sum of their denominator (never
    /// as an average of per-row ratios).
    pub ratios: &'static [Ratio],
    /// `(id field, name field)`: groups by the id are labelled with the newest name of that id
    /// (a campaign renamed last week shows under its current name, and stays one group).
    pub labels: &'static [(&'static str, &'static str)],
}

/// A value computed from two additive fields of the same records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub name: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    /// The ratio is multiplied by this (100 for a percentage, 1,000 for a cost per mille).
    pub scale: u32,
}

/// What disconnecting knows about the connection being removed.
pub struct Disconnecting {
    pub auth_kind: AuthKind,
    pub account_id: Option<String>,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}
