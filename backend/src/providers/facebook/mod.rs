//! Facebook Ads (and Demo Ads, the same played by the sandbox): Facebook Login with a long-lived
//! token (about 60 days, no refresh token), the ad-account picker, and daily insights read from
//! the Marketing API.

pub mod catalogue;
pub mod login;
pub mod reader;
pub mod usage;

use async_trait::async_trait;
use secrecy::SecretString;

use super::oauth::Grant;
use super::reader::{Reader, ReaderContext};
use super::{
    CatalogueObject, ClientAuth, OAuthSpec, ObjectSchema, Provider, ProviderAccount, ProviderError,
    ResolvedProvider,
};
use crate::configuration::Settings;

/// Facebook Ads, or its demo played by the built-in sandbox (mounted at `/sandbox`): the same
/// code; only where it lives differs.
pub struct FacebookAds {
    sandbox: bool,
}

pub static FACEBOOK: FacebookAds = FacebookAds { sandbox: false };
pub static DEMO_ADS: FacebookAds = FacebookAds { sandbox: true };

#[async_trait]
impl Provider for FacebookAds {
    fn kind(&self) -> &'static str {
        if self.sandbox {
            "demo-ads"
        } else {
            "facebook"
        }
    }

    fn default_name(&self) -> &'static str {
        if self.sandbox {
            "Demo Ads (sandbox)"
        } else {
            "Facebook Ads"
        }
    }

    fn oauth_defaults(&self, base_url: &str) -> OAuthSpec {
        let (authorize_url, token_url) = if self.sandbox {
            (
                format!("{base_url}/sandbox/oauth/authorize"),
                format!("{base_url}/sandbox/v25.0/oauth/access_token"),
            )
        } else {
            (
                "https://www.facebook.com/v25.0/dialog/oauth".into(),
                "https://graph.facebook.com/v25.0/oauth/access_token".into(),
            )
        };
        OAuthSpec {
            authorize_url,
            token_url,
            scopes: vec!["ads_read".into()],
            extra_authorize_params: Vec::new(),
            client_auth: ClientAuth::RequestBody,
            pkce: true,
            user_key: None,
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, base_url: &str) -> String {
        if self.sandbox {
            format!("{base_url}/sandbox")
        } else {
            "https://graph.facebook.com".into()
        }
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        catalogue::CATALOGUE
    }

    fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    fn builtin_credentials(&self, settings: &Settings) -> Option<(String, SecretString)> {
        self.sandbox
            .then(|| super::demo::sandbox_credentials(settings))
            .flatten()
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        let insights = catalogue::insights_named(context.object_name)?;
        reader::InsightsReader::new(context, insights)
            .map(|reader| Box::new(reader) as Box<dyn Reader>)
    }

    fn object_schema(&self, object_name: &str) -> ObjectSchema {
        catalogue::insights_named(object_name).map_or(ObjectSchema::Records, |insights| {
            ObjectSchema::Report(&insights.spec)
        })
    }

    fn chooses_account(&self) -> bool {
        true
    }

    async fn complete_grant(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        grant: Grant,
    ) -> Result<Grant, ProviderError> {
        login::long_lived(http, provider, grant).await
    }

    async fn list_accounts(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
    ) -> Result<Vec<ProviderAccount>, ProviderError> {
        login::ad_accounts(http, &provider.api_base, token).await
    }

    async fn account_details(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
        account_id: &str,
    ) -> Result<ProviderAccount, ProviderError> {
        login::ad_accounts(http, &provider.api_base, token)
            .await?
            .into_iter()
            .find(|account| account.id == account_id)
            .ok_or(ProviderError::Status {
                status: 404,
                message: "this ad account is not readable".into(),
            })
    }
}
