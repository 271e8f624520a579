//! OAuth 2.0 with the `oauth2` crate: the authorize URL (state + PKCE S256), the code exchange
//! and refresh (keeping every extra field of the token response, such as Stripe's
//! `stripe_user_id`), and revocation (RFC 7009).

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{ClientAuth, ProviderError, ResolvedProvider};

/// Every field of a token response beyond the standard ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraFields {
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl ExtraTokenFields for ExtraFields {}

type GrantResponse = StandardTokenResponse<ExtraFields, BasicTokenType>;

type OAuthClient<HasAuthUrl = EndpointNotSet, HasTokenUrl = EndpointNotSet> = oauth2::Client<
    BasicErrorResponse,
    GrantResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// What the provider granted, secrets kept secret.
pub struct Grant {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
    pub scopes: Vec<String>,
    /// The provider's account id, read with the provider's `user_key`.
    pub account_id: Option<String>,
    /// The whole token response without its secret fields (the seed's `objects_json`).
    pub response_without_secrets: serde_json::Value,
}

/// Why a token endpoint call failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The provider answered with an RFC 6749 error (`invalid_grant`, `invalid_client`, ...).
    #[error("the provider refused: {code}")]
    Refused {
        code: String,
        description: Option<String>,
    },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl TokenError {
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, TokenError::Refused { code, .. } if code == "invalid_grant")
    }
}

fn configuration_error(what: &str) -> ProviderError {
    ProviderError::BadResponse(format!("the provider's {what} is not a valid URL"))
}

fn client(provider: &ResolvedProvider) -> Result<OAuthClient, ProviderError> {
    let mut client = OAuthClient::new(ClientId::new(
        provider.client_id.clone().unwrap_or_default(),
    ))
    .set_auth_type(match provider.oauth.client_auth {
        ClientAuth::RequestBody => AuthType::RequestBody,
        ClientAuth::BasicAuth => AuthType::BasicAuth,
    })
    .set_redirect_uri(
        RedirectUrl::new(provider.redirect_uri.clone())
            .map_err(|_| configuration_error("redirect URI"))?,
    );
    if let Some(secret) = &provider.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
    }
    Ok(client)
}

/// The provider's authorize URL for this `state`, and the PKCE verifier to keep when the provider
/// takes PKCE.
pub fn authorize_url(
    provider: &ResolvedProvider,
    state: &str,
) -> Result<(String, Option<SecretString>), ProviderError> {
    let client = client(provider)?.set_auth_uri(
        AuthUrl::new(provider.oauth.authorize_url.clone())
            .map_err(|_| configuration_error("authorize URL"))?,
    );
    let state = state.to_string();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(provider.oauth.scopes.iter().cloned().map(Scope::new));
    for (name, value) in &provider.oauth.extra_authorize_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    let verifier = if provider.oauth.pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(SecretString::from(verifier.secret().to_string()))
    } else {
        None
    };
    let (url, _) = request.url();
    Ok((url.to_string(), verifier))
}

fn token_client(
    provider: &ResolvedProvider,
) -> Result<OAuthClient<EndpointNotSet, oauth2::EndpointSet>, ProviderError> {
    Ok(client(provider)?.set_token_uri(
        TokenUrl::new(provider.oauth.token_url.clone())
            .map_err(|_| configuration_error("token URL"))?,
    ))
}

fn token_error(
    error: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
    provider: &ResolvedProvider,
) -> TokenError {
    let name = provider.provider.default_name();
    match error {
        RequestTokenError::ServerResponse(response) => TokenError::Refused {
            code: response.error().as_ref().to_string(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(oauth2::HttpClientError::Reqwest(error)) => {
            ProviderError::from_reqwest(*error, name).into()
        }
        RequestTokenError::Request(other) => {
            ProviderError::Unreachable(format!("{name} ({other})")).into()
        }
        // The raw body may hold tokens: it is neither kept nor logged.
        RequestTokenError::Parse(error, _) => {
            ProviderError::BadResponse(format!("{name}'s token response: {}", error.path())).into()
        }
        RequestTokenError::Other(message) => {
            // oauth2 says "Server returned error response" for a non-2xx status whose body is
            // not an RFC 6749 error: keep only the status line it quotes.
            ProviderError::BadResponse(message.chars().take(120).collect()).into()
        }
    }
}

/// Keys of a token response that are secret and must not be stored in the clear.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("token") || name.contains("secret") || name == "code"
}

fn into_grant(response: GrantResponse, provider: &ResolvedProvider) -> Result<Grant, TokenError> {
    let extra = &response.extra_fields().fields;
    let access_token = if provider.oauth.access_token_key == "access_token" {
        response.access_token().secret().to_string()
    } else {
        extra
            .get(&provider.oauth.access_token_key)
            .and_then(|value| value.as_str())
            .map(String::from)
            .ok_or_else(|| {
                ProviderError::BadResponse(format!(
                    "the token response has no `{}`",
                    provider.oauth.access_token_key
                ))
            })?
    };
    let account_id = provider.oauth.user_key.as_ref().and_then(|key| {
        extra.get(key).and_then(|value| match value {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
    });
    let mut without_secrets = serde_json::to_value(&response)
        .map_err(|error| ProviderError::BadResponse(error.to_string()))?;
    if let Some(object) = without_secrets.as_object_mut() {
        // The configured token field is a secret whatever its name.
        object.retain(|name, _| !is_secret_field(name) && *name != provider.oauth.access_token_key);
    }
    Ok(Grant {
        access_token: SecretString::from(access_token),
        refresh_token: response
            .refresh_token()
            .map(|token| SecretString::from(token.secret().to_string())),
        expires_in: response.expires_in(),
        scopes: response
            .scopes()
            .map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect())
            .or_else(|| {
                // Stripe and others answer `scope` as one string.
                extra
                    .get("scope")
                    .and_then(|value| value.as_str())
                    .map(|scope| scope.split_whitespace().map(String::from).collect())
            })
            .unwrap_or_default(),
        account_id,
        response_without_secrets: without_secrets,
    })
}

/// Exchanges an authorization code (with the PKCE verifier when one was used).
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    code: &str,
    pkce_verifier: Option<SecretString>,
) -> Result<Grant, TokenError> {
    let client = token_client(provider)?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
    if let Some(verifier) = pkce_verifier {
        request =
            request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_string()));
    }
    let response = request
        .request_async(http)
        .await
        .map_err(|error| token_error(error, provider))?;
    into_grant(response, provider)
}

/// Uses a refresh token. Providers that do not rotate refresh tokens answer without one: the
/// caller keeps the old one then.
pub async fn refresh(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    refresh_token: &SecretString,
) -> Result<Grant, TokenError> {
    let client = token_client(provider)?;
    let token = RefreshToken::new(refresh_token.expose_secret().to_string());
    let response = client
        .exchange_refresh_token(&token)
        .request_async(http)
        .await
        .map_err(|error| token_error(error, provider))?;
    into_grant(response, provider)
}

/// RFC 7009 revocation.
pub async fn revoke(
    http: &reqwest::Client,
    url: &str,
    token: &SecretString,
) -> Result<(), ProviderError> {
    let response = http
        .post(url)
        .form(&[("token", token.expose_secret())])
        .send()
        .await
        .map_err(|error| ProviderError::from_reqwest(error, "the revocation endpoint"))?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        status => Err(ProviderError::Status {
            status,
            message: "revocation was refused".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret_field;

    #[test]
    fn secret_fields_are_recognised() {
        for secret in ["access_token", "refresh_token", "id_token", "client_secret"] {
            assert!(is_secret_field(secret), "{secret}");
        }
        for public in [
            "stripe_user_id",
            "stripe_publishable_key",
            "scope",
            "livemode",
            "expires_in",
            "token_type",
        ] {
            assert!(!is_secret_field(public), "{public}");
        }
    }
}
