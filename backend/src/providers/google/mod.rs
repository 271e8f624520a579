//! Google Analytics (Data API): Google's OAuth with offline access and PKCE.

use async_trait::async_trait;

use super::{CatalogueObject, ClientAuth, OAuthSpec, Provider};

pub struct Google;

const CATALOGUE: &[CatalogueObject] = &[CatalogueObject {
    name: "Report",
    label: "Analytics report (daily)",
    list_path: "/v1beta/properties/{property}:runReport",
}];

#[async_trait]
impl Provider for Google {
    fn kind(&self) -> &'static str {
        "google"
    }

    fn default_name(&self) -> &'static str {
        "Google Analytics"
    }

    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
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
            revoke_url: Some("https://oauth2.googleapis.com/revoke".into()),
        }
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        "https://analyticsdata.googleapis.com".into()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        CATALOGUE
    }
}
