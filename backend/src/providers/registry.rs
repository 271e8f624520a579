//! The providers allmetrics knows, listed explicitly, and how a data source's provider is
//! resolved with this server's configuration.

use std::sync::Mutex;

use secrecy::SecretString;

use super::demo::Demo;
use super::facebook::{DEMO_ADS, FACEBOOK};
use super::generic::GenericOAuth2;
use super::google::{DEMO_ANALYTICS, GOOGLE};
use super::stripe::Stripe;
use super::{ClientAuth, Provider, ResolvedProvider};
use crate::configuration::Settings;
use crate::domain::DataSource;

static PROVIDERS: &[&dyn Provider] = &[
    &Stripe,
    &GOOGLE,
    &FACEBOOK,
    &Demo,
    &DEMO_ANALYTICS,
    &DEMO_ADS,
    &GenericOAuth2,
];

/// Providers an embedding program adds at start-up (tests add ones with other API shapes).
static ADDED: Mutex<Vec<&'static dyn Provider>> = Mutex::new(Vec::new());

fn added() -> Vec<&'static dyn Provider> {
    match ADDED.lock() {
        Ok(added) => added.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// Adds a provider after the built-in ones; a kind already known is left as it is.
pub fn register(provider: &'static dyn Provider) {
    if self::provider(provider.kind()).is_some() {
        return;
    }
    match ADDED.lock() {
        Ok(mut added) => added.push(provider),
        Err(poisoned) => poisoned.into_inner().push(provider),
    }
}

pub fn provider(kind: &str) -> Option<&'static dyn Provider> {
    PROVIDERS
        .iter()
        .copied()
        .chain(added())
        .find(|provider| provider.kind() == kind)
}

pub fn kinds() -> impl Iterator<Item = &'static str> {
    PROVIDERS
        .iter()
        .copied()
        .chain(added())
        .map(|provider| provider.kind())
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .map(String::from)
        .collect()
}

fn split_params(value: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(value.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The exact callback URL of a slug: configured (absolute, or a path on this server), or
/// `/connect/oauth/callback/{slug}/` on this server.
pub fn redirect_uri(settings: &Settings, base_url: &str, slug: &str) -> String {
    let configured = settings
        .providers
        .get(slug)
        .and_then(|overrides| overrides.redirect_uri.as_deref());
    match configured {
        Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => uri.to_string(),
        Some(path) if !path.is_empty() => {
            format!("{base_url}/{}", path.trim_start_matches('/'))
        }
        _ => format!("{base_url}/connect/oauth/callback/{slug}/"),
    }
}

/// The provider of `source` with the configuration of its slug applied; `None` when the source
/// names a provider this build does not have.
pub fn resolve(
    settings: &Settings,
    base_url: &str,
    source: &DataSource,
) -> Option<ResolvedProvider> {
    let provider = provider(&source.provider)?;
    let overrides = settings
        .providers
        .get(&source.slug)
        .cloned()
        .unwrap_or_default();
    let mut oauth = provider.oauth_defaults(base_url);
    if let Some(url) = overrides.authorize_url {
        oauth.authorize_url = url;
    }
    if let Some(url) = overrides.token_url {
        oauth.token_url = url;
    }
    if let Some(url) = overrides.revoke_url {
        oauth.revoke_url = Some(url).filter(|url| !url.is_empty());
    }
    if let Some(scopes) = overrides.scopes {
        oauth.scopes = split_list(&scopes);
    }
    if let Some(params) = overrides.authorize_params {
        oauth.extra_authorize_params = split_params(&params);
    }
    if let Some(key) = overrides.user_key {
        oauth.user_key = Some(key).filter(|key| !key.is_empty());
    }
    if let Some(key) = overrides.access_token_key {
        oauth.access_token_key = key;
    }
    if let Some(pkce) = overrides.pkce {
        oauth.pkce = pkce;
    }
    match overrides.client_auth.as_deref() {
        Some("basic") => oauth.client_auth = ClientAuth::BasicAuth,
        Some("body") => oauth.client_auth = ClientAuth::RequestBody,
        _ => {}
    }
    let builtin = provider.builtin_credentials(settings);
    let (client_id, client_secret): (Option<String>, Option<SecretString>) =
        match (overrides.client_id, overrides.client_secret) {
            (Some(id), secret) => (Some(id), secret),
            (None, Some(secret)) => (None, Some(secret)),
            (None, None) => match builtin {
                Some((id, secret)) => (Some(id), Some(secret)),
                None => (None, None),
            },
        };
    let redirect_uri = redirect_uri(settings, base_url, &source.slug);
    Some(ResolvedProvider {
        slug: source.slug.clone(),
        provider,
        oauth,
        client_id,
        client_secret,
        api_base: overrides
            .api_base
            .unwrap_or_else(|| provider.default_api_base(base_url))
            .trim_end_matches('/')
            .to_string(),
        admin_api_base: overrides
            .admin_api_base
            .unwrap_or_else(|| provider.default_admin_api_base(base_url))
            .trim_end_matches('/')
            .to_string(),
        redirect_uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::ProviderSettings;
    use crate::domain::DataSourceId;

    fn source(slug: &str, provider: &str) -> DataSource {
        DataSource {
            id: DataSourceId(1),
            slug: slug.into(),
            name: slug.into(),
            provider: provider.into(),
            enabled: true,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn stripe_needs_credentials_and_keeps_the_seeds_shape() {
        let settings = Settings::default();
        let stripe = resolve(&settings, "http://h", &source("stripe", "stripe")).unwrap();
        assert!(!stripe.configured());
        assert_eq!(stripe.oauth.scopes, vec!["read_write"]);
        assert_eq!(stripe.oauth.user_key.as_deref(), Some("stripe_user_id"));
        assert_eq!(
            stripe.redirect_uri,
            "http://h/connect/oauth/callback/stripe/"
        );

        let mut settings = Settings::default();
        settings.providers.insert(
            "stripe".into(),
            ProviderSettings {
                client_id: Some("ca_1".into()),
                client_secret: Some(SecretString::from("sk_test_1")),
                scopes: Some("read_only".into()),
                redirect_uri: Some("/connect/oauth/callback/stripe/".into()),
                token_url: Some("http://127.0.0.1:9/oauth/token".into()),
                ..Default::default()
            },
        );
        let stripe = resolve(&settings, "https://m.example", &source("stripe", "stripe")).unwrap();
        assert!(stripe.configured());
        assert_eq!(stripe.oauth.scopes, vec!["read_only"]);
        assert_eq!(stripe.oauth.token_url, "http://127.0.0.1:9/oauth/token");
        assert_eq!(
            stripe.redirect_uri,
            "https://m.example/connect/oauth/callback/stripe/"
        );
    }

    #[test]
    fn the_demo_uses_the_built_in_sandbox_client_in_local_only() {
        let settings = Settings::default();
        let demo = resolve(&settings, "http://h", &source("demo", "demo")).unwrap();
        assert!(demo.configured());
        assert_eq!(demo.oauth.authorize_url, "http://h/sandbox/oauth/authorize");
        assert_eq!(demo.api_base, "http://h/sandbox");
        let production = Settings {
            environment: crate::configuration::Environment::Production,
            ..Settings::default()
        };
        assert!(!resolve(&production, "http://h", &source("demo", "demo"))
            .unwrap()
            .configured());
    }

    #[test]
    fn a_generic_provider_is_declared_entirely_in_configuration() {
        let mut settings = Settings::default();
        settings.providers.insert(
            "acme".into(),
            ProviderSettings {
                kind: Some("oauth2".into()),
                client_id: Some("id".into()),
                client_secret: Some(SecretString::from("secret")),
                authorize_url: Some("https://acme.example/authorize".into()),
                token_url: Some("https://acme.example/token".into()),
                scopes: Some("read:metrics, read:account".into()),
                user_key: Some("account_id".into()),
                client_auth: Some("basic".into()),
                authorize_params: Some("audience=api&prompt=consent".into()),
                ..Default::default()
            },
        );
        let acme = resolve(&settings, "http://h", &source("acme", "oauth2")).unwrap();
        assert!(acme.configured());
        assert_eq!(acme.oauth.scopes, vec!["read:metrics", "read:account"]);
        assert_eq!(acme.oauth.client_auth, ClientAuth::BasicAuth);
        assert_eq!(acme.oauth.user_key.as_deref(), Some("account_id"));
        assert_eq!(acme.oauth.extra_authorize_params.len(), 2);
        assert!(resolve(&settings, "http://h", &source("x", "unknown")).is_none());
    }
}
