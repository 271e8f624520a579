//! Demo Analytics: Google Analytics 4 played by the built-in sandbox (mounted at `/sandbox`), over
//! generated properties. It goes through exactly the code of the real provider: Google's OAuth
//! with PKCE, the Admin API's property picker, `runReport`.

use async_trait::async_trait;
use secrecy::SecretString;

use super::reader::{Reader, ReaderContext};
use super::{
    google, CatalogueObject, OAuthSpec, ObjectSchema, Provider, ProviderAccount, ProviderError,
    ResolvedProvider,
};
use crate::configuration::Settings;

pub struct DemoAnalytics;

#[async_trait]
impl Provider for DemoAnalytics {
    fn kind(&self) -> &'static str {
        "demo-analytics"
    }

    fn default_name(&self) -> &'static str {
        "Demo Analytics (sandbox)"
    }

    fn oauth_defaults(&self, base_url: &str) -> OAuthSpec {
        google::oauth_spec(
            format!("{base_url}/sandbox/oauth/authorize"),
            format!("{base_url}/sandbox/oauth/token"),
            format!("{base_url}/sandbox/oauth/revoke"),
        )
    }

    fn default_api_base(&self, base_url: &str) -> String {
        format!("{base_url}/sandbox")
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        google::catalogue::CATALOGUE
    }

    fn is_sandbox(&self) -> bool {
        true
    }

    fn builtin_credentials(&self, settings: &Settings) -> Option<(String, SecretString)> {
        super::demo::sandbox_credentials(settings)
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        google::reader(context)
    }

    fn object_schema(&self, object_name: &str) -> ObjectSchema {
        google::object_schema(object_name)
    }

    fn chooses_account(&self) -> bool {
        true
    }

    async fn list_accounts(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
    ) -> Result<Vec<ProviderAccount>, ProviderError> {
        google::admin::properties(http, &provider.admin_api_base, token).await
    }

    async fn account_details(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
        account_id: &str,
    ) -> Result<ProviderAccount, ProviderError> {
        google::admin::property(http, &provider.admin_api_base, token, account_id).await
    }
}
