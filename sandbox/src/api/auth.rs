//! Who is calling `/v1` or `/v1beta`: `Authorization: Bearer <key or access token>`, or HTTP Basic with the key as user
//! name (`curl -u sk_test_...:`), as Stripe accepts. The configured API key or a live access token passes.

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

fn presented_key(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
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
fn mask(key: &str) -> String {
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
    /// An access token's scope; `None` for the API key, which may do everything.
    pub scope: Option<String>,
}

/// The credential the request authenticates with.
pub(crate) fn authenticate(state: &State, req: &HttpRequest) -> Result<Credential, StripeError> {
    let key = presented_key(req).ok_or_else(|| StripeError::unauthorized(NO_KEY))?;
    let is_api_key = state
        .config
        .api_key
        .as_deref()
        .is_some_and(|api_key| constant_time_eq(api_key, &key));
    let mut scope = None;
    if !is_api_key {
        match state.tokens.access_token_scope(&key, state.clock.now()) {
            Ok(granted) => scope = Some(granted),
            Err(TokenState::Expired) => {
                return Err(StripeError::unauthorized(format!(
                    "Expired API Key provided: {}",
                    mask(&key)
                ))
                .with_code("api_key_expired"))
            }
            Err(TokenState::Unknown) => {
                return Err(StripeError::unauthorized(format!(
                    "Invalid API Key provided: {}",
                    mask(&key)
                )))
            }
        }
    }
    // A platform may act on a connected account with `Stripe-Account`; this sandbox has exactly one.
    if let Some(account) = req.headers().get("Stripe-Account") {
        let account = account.to_str().unwrap_or_default();
        if account != state.account.id {
            return Err(StripeError::forbidden(format!(
                "The provided key '{}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked.",
                mask(&key)
            ))
            .with_code("account_invalid"));
        }
    }
    Ok(Credential { key, scope })
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
