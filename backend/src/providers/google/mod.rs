//! Google Analytics 4: Google's OAuth with offline access and PKCE, the property picker (Admin
//! API), and reports read through the Data API's `runReport`.

pub mod admin;
pub mod catalogue;
pub mod reader;

use async_trait::async_trait;
use secrecy::SecretString;

use super::reader::{Reader, ReaderContext};
use super::{
    CatalogueObject, ClientAuth, OAuthSpec, ObjectSchema, Provider, ProviderAccount, ProviderError,
    ResolvedProvider,
};

pub struct Google;

/// Google's authorization: offline access (a refresh token), PKCE, the read-only scope.
pub fn oauth_spec(authorize_url: String, token_url: String, revoke_url: String) -> OAuthSpec {
    OAuthSpec {
        authorize_url,
        token_url,
        scopes: vec!["https://www.googleapis.com/auth/analytics.readonly".into()],
        // Without these Google issues no refresh token.
        extra_authorize_params: vec![
            ("access_type".into(), "offline".into()),
            ("prompt".into(), "consent".into()),
        ],
        client_auth: ClientAuth::RequestBody,
        pkce: true,
        user_key: None,
        access_token_key: "access_token".into(),
        revoke_url: Some(revoke_url),
    }
}

/// What Google Analytics and its demo share: reports, the property picker.
pub fn reader(context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
    let report = catalogue::report_named(context.object_name)?;
    reader::ReportReader::new(context, report).map(|reader| Box::new(reader) as Box<dyn Reader>)
}

pub fn object_schema(object_name: &str) -> ObjectSchema {
    catalogue::report_named(object_name).map_or(ObjectSchema::Records, |report| {
        ObjectSchema::Report(&report.spec)
    })
}

#[async_trait]
impl Provider for Google {
    fn kind(&self) -> &'static str {
        "google"
    }

    fn default_name(&self) -> &'static str {
        "Google Analytics"
    }

    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        oauth_spec(
            "https://accounts.google.com/o/oauth2/v2/auth".into(),
            "https://oauth2.googleapis.com/token".into(),
            "https://oauth2.googleapis.com/revoke".into(),
        )
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        "https://analyticsdata.googleapis.com".into()
    }

    fn default_admin_api_base(&self, _base_url: &str) -> String {
        "https://analyticsadmin.googleapis.com".into()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        catalogue::CATALOGUE
    }

    fn reads_data(&self) -> bool {
        true
    }

    fn reader(&self, context: ReaderContext<'_>) -> Option<Box<dyn Reader>> {
        reader(context)
    }

    fn object_schema(&self, object_name: &str) -> ObjectSchema {
        object_schema(object_name)
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
        admin::properties(http, &provider.admin_api_base, token).await
    }

    async fn account_details(
        &self,
        http: &reqwest::Client,
        provider: &ResolvedProvider,
        token: &SecretString,
        account_id: &str,
    ) -> Result<ProviderAccount, ProviderError> {
        admin::property(http, &provider.admin_api_base, token, account_id).await
    }
}
