//! Facebook Ads (Marketing API): Facebook Login; tokens expire and have no refresh token.

use async_trait::async_trait;

use super::{CatalogueObject, ClientAuth, OAuthSpec, Provider};

pub struct Facebook;

const CATALOGUE: &[CatalogueObject] = &[CatalogueObject {
    name: "Insights",
    label: "Ads insights (daily)",
    list_path: "/v25.0/act_{account}/insights",
}];

#[async_trait]
impl Provider for Facebook {
    fn kind(&self) -> &'static str {
        "facebook"
    }

    fn default_name(&self) -> &'static str {
        "Facebook Ads"
    }

    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: "https://www.facebook.com/v25.0/dialog/oauth".into(),
            token_url: "https://graph.facebook.com/v25.0/oauth/access_token".into(),
            scopes: vec!["ads_read".into()],
            extra_authorize_params: Vec::new(),
            client_auth: ClientAuth::RequestBody,
            pkce: false,
            user_key: None,
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        "https://graph.facebook.com".into()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        CATALOGUE
    }
}
