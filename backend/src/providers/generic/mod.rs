//! A generic OAuth2 provider declared entirely in configuration (the seed's promise: "just update
//! API_CREDENTIALS"): `APP_PROVIDERS__<SLUG>__KIND=oauth2` with its URLs, scopes, keys and
//! credentials. Its objects are the routing sources an admin adds.

use async_trait::async_trait;

use super::{CatalogueObject, ClientAuth, OAuthSpec, Provider};

pub struct GenericOAuth2;

#[async_trait]
impl Provider for GenericOAuth2 {
    fn kind(&self) -> &'static str {
        "oauth2"
    }

    fn default_name(&self) -> &'static str {
        "OAuth2 provider"
    }

    /// Nothing is known until configured: empty endpoints leave the source unconfigured.
    fn oauth_defaults(&self, _base_url: &str) -> OAuthSpec {
        OAuthSpec {
            authorize_url: String::new(),
            token_url: String::new(),
            scopes: Vec::new(),
            extra_authorize_params: Vec::new(),
            client_auth: ClientAuth::RequestBody,
            pkce: true,
            user_key: None,
            access_token_key: "access_token".into(),
            revoke_url: None,
        }
    }

    fn default_api_base(&self, _base_url: &str) -> String {
        String::new()
    }

    fn catalogue(&self) -> &'static [CatalogueObject] {
        &[]
    }
}
