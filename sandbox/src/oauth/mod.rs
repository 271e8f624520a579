//! The OAuth 2.0 authorization server (RFC 6749 authorization code grant, RFC 7636 PKCE S256, RFC 7009
//! revocation), shaped like Stripe Connect's: `/oauth/authorize`, `/oauth/token`, `/oauth/deauthorize`.
//! It also grants Google's Analytics scope, which `/v1beta` requires of access tokens, and Facebook's `ads_read`,
//! which `/v25.0` requires (Facebook's code exchange itself is `crate::ads`'s `/v25.0/oauth/access_token`).

mod authorize;
mod client_auth;
pub(crate) mod store;
mod token;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::generator::ids::ALPHABET;

/// Google's read-only Analytics scope: Data API reports and Admin API reads.
pub(crate) const ANALYTICS_READONLY: &str = "https://www.googleapis.com/auth/analytics.readonly";

/// Facebook's permission to read ad accounts and their insights (Marketing API).
pub(crate) const ADS_READ: &str = "ads_read";

pub(crate) fn scope() -> actix_web::Scope {
    web::scope("/oauth")
        .service(
            web::resource("/authorize")
                .route(web::get().to(authorize::consent_page))
                .route(web::post().to(authorize::decide)),
        )
        .service(web::resource("/token").route(web::post().to(token::token)))
        .service(web::resource("/revoke").route(web::post().to(token::revoke)))
        .service(web::resource("/deauthorize").route(web::post().to(token::deauthorize)))
}

/// Request parameters in order, as sent (query string or form body).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(encoded: &[u8]) -> Result<Params, OAuthError> {
        serde_urlencoded::from_bytes(encoded)
            .map(Params)
            .map_err(|_| OAuthError::invalid_request("The request body is not valid form data"))
    }

    /// RFC 6749 3.1: a parameter sent without a value is treated as omitted.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// RFC 6749 3.1: parameters must not be repeated. The first repeated name, if any.
    pub(crate) fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(position, (key, _))| {
            self.0[..position]
                .iter()
                .any(|(earlier, _)| earlier == key)
                .then_some(key.as_str())
        })
    }
}

/// An RFC 6749 5.2 error response.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
    /// RFC 6749 5.2: a 401 answer to HTTP Basic credentials carries `WWW-Authenticate`.
    basic_challenge: bool,
}

impl OAuthError {
    pub(crate) fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new("invalid_request", description)
    }

    pub(crate) fn invalid_client(description: impl Into<String>, basic_challenge: bool) -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            basic_challenge,
            ..OAuthError::new("invalid_client", description)
        }
    }

    pub(crate) fn server_error() -> Self {
        OAuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..OAuthError::new("server_error", "The sandbox could not generate a token")
        }
    }

    pub(crate) fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.basic_challenge {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"allmetrics-sandbox\", charset=\"UTF-8\"",
            ));
        }
        response.json(json!({ "error": self.code, "error_description": self.description }))
    }
}

/// `prefix` + `length` base62 characters from the OS CSPRNG (62^22 > 2^128).
pub(crate) fn random_secret(prefix: &str, length: usize) -> Result<String, OAuthError> {
    let mut secret = String::with_capacity(prefix.len() + length);
    secret.push_str(prefix);
    let mut produced = 0;
    let mut buffer = [0u8; 64];
    while produced < length {
        getrandom::getrandom(&mut buffer).map_err(|_| OAuthError::server_error())?;
        // Bytes of 248 and above would bias the modulo; skip them.
        for &byte in buffer.iter().filter(|&&byte| byte < 248) {
            if produced == length {
                break;
            }
            secret.push(char::from(ALPHABET[usize::from(byte % 62)]));
            produced += 1;
        }
    }
    Ok(secret)
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space). `None` on bad escapes or
/// invalid UTF-8.
pub(crate) fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        match bytes[position] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = text.get(position + 1..position + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                position += 2;
            }
            byte => decoded.push(byte),
        }
        position += 1;
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_treat_empty_as_absent_and_spot_repeats() {
        let params = Params::parse(b"a=1&b=&c=x+y%21&a=2").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y!"));
        assert_eq!(params.repeated(), Some("a"));
        assert_eq!(Params::parse(b"a=1&b=2").unwrap().repeated(), None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%+1"), None);
        assert_eq!(form_decode("%C3%A9").as_deref(), Some("é"));
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let a = random_secret("ac_", 32).unwrap();
        let b = random_secret("ac_", 32).unwrap();
        assert_eq!(a.len(), 35);
        assert_ne!(a, b);
        assert!(a[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
