//! Google Analytics 4 (and Demo Analytics, the same played by the sandbox): Google's OAuth with
//! offline access and PKCE, the property picker (Admin API), and reports read through the Data
//! API's `runReport`.

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
use crate::configuration::Settings;

/// Google Analytics, or its demo played by the built-in sandbox (mounted at `/sandbox`, over
/// generated properties): the same code, Google's OAuth with PKCE, the Admin API's property
/// picker, `runReport`; only where it lives differs.
pub struct GoogleAnalytics {
    sandbox: bool,
}

pub static GOOGLE: GoogleAnalytics = GoogleAnalytics { sandbox: false };
pub static DEMO_ANALYTICS: GoogleAnalytics = GoogleAnalytics { sandbox: true };

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

#[async_trait]
impl Provider for GoogleAnalytics {
    fn kind(&self) -> &'static str {
        if self.sandbox {
            "demo-analytics"
        } else {
            "google"
        }
    }

    fn default_name(&self) -> &'static str {
        if self.sandbox {
            "Demo Analytics (sandbox)"
        } else {
            "Google Analytics"
        }
    }

    fn oauth_defaults(&self, base_url: &str) -> OAuthSpec {
        if self.sandbox {
            oauth_spec(
                format!("{base_url}/sandbox/oauth/authorize"),
                format!("{base_url}/sandbox/oauth/token"),
                format!("{base_url}/sandbox/oauth/revoke"),
            )
        } else {
            oauth_spec(
                "https://accounts.google.com/o/oauth2/v2/auth".into(),
                "https://oauth2.googleapis.com/token".into(),
                "https://oauth2.googleapis.com/revoke".into(),
            )
        }
    }

    fn default_api_base(&self, base_url: &str) -> String {
        if self.sandbox {
            format!("{base_url}/sandbox")
        } else {
            "https://analyticsdata.googleapis.com".into()
        }
    }

    fn default_admin_api_base(&self, base_url: &str) -> String {
        if self.sandbox {
            format!("{base_url}/sandbox")
        } else {
            "https://analyticsadmin.googleapis.com".into()
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
        let report = catalogue::report_named(context.object_name)?;
        reader::ReportReader::new(context, report).map(|reader| Box::new(reader) as Box<dyn Reader>)
    }

    fn object_schema(&self, object_name: &str) -> ObjectSchema {
        catalogue::report_named(object_name).map_or(ObjectSchema::Records, |report| {
            ObjectSchema::Report(&report.spec)
        })
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
