//! Stripe: Connect OAuth (Standard accounts) or a restricted API key, and the list API.

pub mod events;
pub mod exchange_rates;
pub mod reader;
pub mod subscriptions;
pub mod webhook;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::reader::{Reader, ReaderContext};
use super::{
    CatalogueObject, ClientAuth, Disconnecting, OAuthSpec, Provider, ProviderError,
    ResolvedProvider,
};
use crate::domain::AuthKind;

pub struct Stripe;

/// Stripe's objects and their list endpoints (newest first, `starting_after` paging).
pub const CATALOGUE: &[CatalogueObject] = &[
    CatalogueObject {
        name: "Customer",
        label: "Customers",
        list_path: "/v1/customers",
    },
    CatalogueObject {
        name: "Charge",
        label: "Charges",
        list_path: "/v1/charges",
    },
    CatalogueObject {
        name: "Invoice",
        label: "Invoices",
        list_path: "/v1/invoices",
    },
    CatalogueObject {
        name: "Subscription",
        label: "Subscriptions",
        list_path: "/v1/subscriptions",
    },
    CatalogueObject {
        name: "PaymentIntent",
        label: "Payment intents",
        list_path: "/v1/payment_intents",
    },
    CatalogueObject {
        name: "Refund",
        label: "Refunds",
        list_path: "/v1/refunds",
    },
    CatalogueObject {
        name: "BalanceTransaction",
        label: "Balance transactions",
        list_path: "/v1/balance_transactions",
    },
    CatalogueObject {
        name: "Payout",
        label: "Payouts",
        list_path: "/v1/payouts",
    },
    CatalogueObject {
        name: "Dispute",
        label: "Disputes",
        list_path: "/v1/disputes",
    },
    CatalogueObject {
        name: "Product",
        label: "Products",
        list_path: "/v1/products",
    },
    CatalogueObject {
        name: "Price",
        label: "Prices",
        list_path: "/v1/prices",
    },
];

#[async_trait]
impl Provider for Stripe {
    fn kind(&self) -> &'static str {
        "stripe"
    }

    fn default_name(&self) -> &'static str {
        "Stripe"
    }

    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: "https://connect.stripe.com/oauth/authorize".into(),
            token_url: "https://connect.stripe.com/oauth/token".into(),
            // As in the seed; `read_only` is for platforms Stripe approved as extensions.
            scopes: vec!["read_write".into()],
            extra_authorize_params: Vec::new(),
            // The platform's secret key is the client secret, sent in the body.
            client_auth: ClientAuth::RequestBody,
            // Stripe Connect does not support PKCE.
            pkce: false,
            user_key: Some("stripe_user_id".into()),
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        "https://api.stripe.com".into()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        CATALOGUE
    }

    fn subscription_objects(&self) -> Option<crate::providers::SubscriptionObjects> {
        Some(subscriptions::OBJECTS)
    }

    fn subscription_histories(
        &self,
        stored: crate::providers::StoredSubscriptions,
    ) -> Vec<allmetrics_subscriptions::SubscriptionHistory> {
        subscriptions::histories(stored)
    }

    fn billed_subscriptions(&self, invoice: &serde_json::Value) -> Vec<String> {
        allmetrics_subscriptions::invoice_subscriptions(invoice)
    }

    fn supports_api_key(&self) -> bool {
        true
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        Some(Box::new(reader::ListReader::new(context)))
    }

    async fn exchange_rates(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
    ) -> Result<Option<crate::providers::ExchangeRates>, ProviderError> {
        exchange_rates::fetch(http, &provider.api_base, token)
            .await
            .map(Some)
    }

    async fn verify_api_key(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        api_key: &SecretString,
    ) -> Result<Option<String>, ProviderError> {
        verify_key(http, &provider.api_base, api_key).await
    }

    async fn disconnect(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        connection: &Disconnecting,
    ) -> Result<(), ProviderError> {
        deauthorize(http, provider, connection).await
    }
}

/// Checks a key and finds its account: `GET /v1/account` names it. A restricted key may lack
/// that permission: then one customer is listed (or refused, which still proves the key exists),
/// and the account stays unknown.
pub async fn verify_key(
    http: &reqwest::Client,
    api_base: &str,
    api_key: &SecretString,
) -> Result<Option<String>, ProviderError> {
    let api_base = api_base.trim_end_matches('/');
    let get = |path: &str| {
        http.get(format!("{api_base}{path}"))
            .bearer_auth(api_key.expose_secret())
            .send()
    };
    let response = get("/v1/account")
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "Stripe"))?;
    match response.status().as_u16() {
        200..=299 => {
            let account: serde_json::Value = response
                .json()
                .await
                .map_err(|error| ProviderError::BadResponse(error.without_url().to_string()))?;
            return Ok(account["id"].as_str().map(String::from));
        }
        401 => return Err(ProviderError::Unauthorized),
        _ => {}
    }
    let response = get("/v1/customers?limit=1")
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "Stripe"))?;
    match response.status().as_u16() {
        200..=299 | 403 => Ok(None),
        401 => Err(ProviderError::Unauthorized),
        status => Err(ProviderError::Status {
            status,
            message: "the key could not be checked".into(),
        }),
    }
}

/// `POST /oauth/deauthorize` with the platform key: Stripe disconnects the account from the
/// platform. API-key connections have nothing to deauthorize.
pub async fn deauthorize(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    connection: &Disconnecting,
) -> Result<(), ProviderError> {
    let (AuthKind::OAuth, Some(account_id), Some(client_id), Some(secret)) = (
        connection.auth_kind,
        connection.account_id.as_deref(),
        provider.client_id.as_deref(),
        provider.client_secret.as_ref(),
    ) else {
        return Ok(());
    };
    let url = format!(
        "{}/deauthorize",
        provider.oauth.token_url.trim_end_matches("/token")
    );
    let response = http
        .post(url)
        .basic_auth(secret.expose_secret(), Option::<&str>::None)
        .form(&[("client_id", client_id), ("stripe_user_id", account_id)])
        .send()
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "Stripe"))?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        status => Err(ProviderError::Status {
            status,
            message: "deauthorize was refused".into(),
        }),
    }
}
