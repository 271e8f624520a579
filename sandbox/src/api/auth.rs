//! Who is calling `/v1`, `/v1beta` or `/v25.0`: `Authorization: Bearer <key or access token>`, or HTTP Basic with
//! the key as user name (`curl -u sk_test_...:`), as Stripe accepts; the Graph API (`/v25.0`) also takes
//! `Authorization: OAuth <token>` and the `access_token` query parameter, as Facebook does. The configured API key
//! or a live access token passes.

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::errors::StripeError;
use crate::oauth::store::{constant_time_eq, TokenState};
use crate::State;

const NO_KEY: &str = "You did not provide an API key. You need to provide your API key in the \
Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See \
https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/// Where an API looks for the credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyStyle {
    /// Stripe's (and Google's): the `Authorization` header, Bearer or Basic.
    Header,
    /// Facebook's Graph API: `?access_token=` first, else `Authorization: OAuth|Bearer`.
    Graph,
}

fn presented_key(req: &HttpRequest, style: KeyStyle) -> Option<String> {
    if style == KeyStyle::Graph {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        if let Some((_, token)) = pairs
            .into_iter()
            .find(|(name, value)| name == "access_token" && !value.is_empty())
        {
            return Some(token);
        }
    }
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer")
        || (style == KeyStyle::Graph && scheme.eq_ignore_ascii_case("oauth"))
    {
        Some(credentials.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(STANDARD.decode(credentials).ok()?).ok()?;
        let user = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user);
        Some(user.to_owned())
    } else {
        None
    }
    .filter(|key| !key.is_empty())
}

/// `sk_test_****************************abcd`, as Stripe echoes keys in errors: the key type stays visible,
/// the last four characters too when the key is long enough, the rest is starred.
pub(crate) fn mask(key: &str) -> String {
    if !key.is_ascii() {
        return "*".repeat(key.chars().count());
    }
    const KEY_TYPES: [&str; 6] = [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ];
    let prefix = KEY_TYPES
        .iter()
        .find(|prefix| key.starts_with(*prefix))
        .map_or("", |prefix| prefix);
    let visible = if key.len() >= prefix.len() + 12 { 4 } else { 0 };
    let hidden = key.len() - prefix.len() - visible;
    format!(
        "{prefix}{}{}",
        "*".repeat(hidden),
        &key[key.len() - visible..]
    )
}

/// Who a request authenticated as.
pub(crate) struct Credential {
    /// The key or token itself (rate limits are kept per credential).
    pub key: String,
    /// A restricted key (`rk_test_...`): it reads objects but may not read events nor manage webhook
    /// endpoints.
    pub restricted: bool,
    /// An access token's scope; `None` for the API key, which may do everything.
    pub scope: Option<String>,
}

/// Why a credential was refused, for APIs that tell these apart (the Graph API's error codes and subcodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialProblem {
    Missing,
    Unknown,
    Expired,
    Revoked,
    /// A `Stripe-Account` the key cannot act on.
    WrongAccount,
}

/// A refused credential: why, and Stripe's words for it.
#[derive(Debug)]
pub(crate) struct CredentialError {
    pub problem: CredentialProblem,
    pub stripe: StripeError,
}

impl CredentialError {
    fn new(problem: CredentialProblem, stripe: StripeError) -> Self {
        CredentialError { problem, stripe }
    }
}

/// The credential the request authenticates with.
pub(crate) fn authenticate(
    state: &State,
    req: &HttpRequest,
    style: KeyStyle,
) -> Result<Credential, CredentialError> {
    let key = presented_key(req, style).ok_or_else(|| {
        CredentialError::new(
            CredentialProblem::Missing,
            StripeError::unauthorized(NO_KEY),
        )
    })?;
    let is_api_key = state
        .config
        .api_key
        .as_deref()
        .is_some_and(|api_key| constant_time_eq(api_key, &key));
    let restricted = state
        .config
        .restricted_api_key
        .as_deref()
        .is_some_and(|restricted_key| constant_time_eq(restricted_key, &key));
    let mut scope = None;
    if !is_api_key && !restricted {
        match state.tokens.access_token_scope(&key, state.clock.now()) {
            Ok(granted) => scope = Some(granted),
            Err(TokenState::Expired) => {
                return Err(CredentialError::new(
                    CredentialProblem::Expired,
                    StripeError::unauthorized(format!("Expired API Key provided: {}", mask(&key)))
                        .with_code("api_key_expired"),
                ))
            }
            Err(state @ (TokenState::Unknown | TokenState::Revoked)) => {
                let problem = if state == TokenState::Revoked {
                    CredentialProblem::Revoked
                } else {
                    CredentialProblem::Unknown
                };
                return Err(CredentialError::new(
                    problem,
                    StripeError::unauthorized(format!("Invalid API Key provided: {}", mask(&key))),
                ));
            }
        }
    }
    // A platform may act on a connected account with `Stripe-Account`; this sandbox has exactly one.
    if let Some(account) = req.headers().get("Stripe-Account") {
        let account = account.to_str().unwrap_or_default();
        if account != state.account.id {
            return Err(CredentialError::new(
                CredentialProblem::WrongAccount,
                StripeError::forbidden(format!(
                    "The provided key '{}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked.",
                    mask(&key)
                ))
                .with_code("account_invalid"),
            ));
        }
    }
    Ok(Credential {
        key,
        restricted,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_all_but_the_prefix_and_last_four() {
        assert_eq!(mask("sk_test_abcdefghijklmnop"), "sk_test_************mnop");
        assert_eq!(mask("sk_test_wrong_key_123456"), "sk_test_************3456");
        assert_eq!(mask("short"), "*****");
        assert_eq!(mask("sk_test_short"), "sk_test_*****");
        assert_eq!(mask("some_other_long_token"), "*****************oken");
        assert_eq!(mask("clé"), "***");
    }
}
