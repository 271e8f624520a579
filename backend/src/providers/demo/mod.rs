//! Demo: the built-in sandbox (mounted at `/sandbox`), a Stripe-compatible provider with generated
//! data. It goes through exactly the code of a real provider: OAuth with PKCE, the token endpoint,
//! the list API, deauthorize.

use async_trait::async_trait;
use secrecy::SecretString;

use super::reader::{Reader, ReaderContext};
use super::{
    stripe, CatalogueObject, ClientAuth, Disconnecting, OAuthSpec, Provider, ProviderError,
    ResolvedProvider,
};
use crate::configuration::Settings;

pub struct Demo;

#[async_trait]
impl Provider for Demo {
    fn kind(&self) -> &'static str {
        "demo"
    }

    fn default_name(&self) -> &'static str {
        "Demo (sandbox)"
    }

    fn oauth_defaults(&self, base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: format!("{base_url}/sandbox/oauth/authorize"),
            token_url: format!("{base_url}/sandbox/oauth/token"),
            scopes: vec!["read_only".into()],
            extra_authorize_params: Vec::new(),
            // The other client authentication style than Stripe's, so that both are exercised.
            client_auth: ClientAuth::BasicAuth,
            pkce: true,
            user_key: Some("stripe_user_id".into()),
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, base_url: &str) -> String {
        format!("{base_url}/sandbox")
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        stripe::CATALOGUE
    }

    fn subscription_objects(&self) -> Option<crate::providers::SubscriptionObjects> {
        Some(super::stripe::subscriptions::OBJECTS)
    }

    fn subscription_histories(
        &self,
        stored: crate::providers::StoredSubscriptions,
    ) -> Vec<allmetrics_subscriptions::SubscriptionHistory> {
        super::stripe::subscriptions::histories(stored)
    }

    fn billed_subscriptions(&self, invoice: &serde_json::Value) -> Vec<String> {
        allmetrics_subscriptions::invoice_subscriptions(invoice)
    }

    fn is_sandbox(&self) -> bool {
        true
    }

    fn builtin_credentials(&self, settings: &Settings) -> Option<(String, SecretString)> {
        sandbox_credentials(settings)
    }

    fn supports_api_key(&self) -> bool {
        true
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        Some(Box::new(stripe::reader::ListReader::new(context)))
    }

    async fn exchange_rates(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
    ) -> Result<Option<crate::providers::ExchangeRates>, ProviderError> {
        stripe::exchange_rates::fetch(http, &provider.api_base, token)
            .await
            .map(Some)
    }

    async fn verify_api_key(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        api_key: &SecretString,
    ) -> Result<Option<String>, ProviderError> {
        stripe::verify_key(http, &provider.api_base, api_key).await
    }

    async fn disconnect(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        connection: &Disconnecting,
    ) -> Result<(), ProviderError> {
        stripe::deauthorize(http, provider, connection).await
    }
}

/// The built-in sandbox's OAuth client, where the sandbox runs (`local`).
pub fn sandbox_credentials(settings: &Settings) -> Option<(String, SecretString)> {
    settings.sandbox.enabled_in(settings.environment).then(|| {
        (
            settings.sandbox.client_id.clone(),
            settings.sandbox.client_secret.clone(),
        )
    })
}
