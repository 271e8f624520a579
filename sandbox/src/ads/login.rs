//! Facebook Login's token endpoint: `GET` (or `POST`, form) `/v25.0/oauth/access_token`.
//!
//! - Code exchange: `client_id`, `client_secret`, `redirect_uri`, `code` (+ `code_verifier` when the consent
//!   request had a PKCE challenge; `grant_type=authorization_code` may be sent or not) ->
//!   `{"access_token":"EAA...","token_type":"bearer","expires_in":5400}`: a short-lived token, and no refresh
//!   token, as Facebook issues.
//! - Long-lived exchange: `grant_type=fb_exchange_token`, `client_id`, `client_secret`,
//!   `fb_exchange_token=<a live token>` -> a new token of the same scope living 60 days (5,184,000 s); the
//!   old one stays live until it expires.
//!
//! The consent page is the sandbox's `/oauth/authorize`, which issues the codes. Parameters may come in the
//! query string, the form body, or both; the client may also authenticate with HTTP Basic. Tokens expire on
//! the sandbox's clock. Errors are Facebook's (code 100 for codes, 101 and 1 for the client, 190 for tokens).

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use super::errors::FacebookError;
use crate::api::auth::CredentialProblem;
use crate::oauth::store::{constant_time_eq, GrantError, TokenState};
use crate::oauth::{form_decode, random_secret, Params};
use crate::State;

/// A short-lived token from a code: an hour and a half.
pub(crate) const SHORT_LIVED: Duration = Duration::from_secs(5_400);
/// A long-lived token from `fb_exchange_token`: 60 days.
pub(crate) const LONG_LIVED: Duration = Duration::from_secs(5_184_000);

fn invalid(message: &str) -> FacebookError {
    FacebookError::invalid_parameter(message)
}

/// `client_id` and `client_secret` from the parameters, or from HTTP Basic.
fn client(req: &HttpRequest, params: &Params) -> (Option<String>, Option<String>) {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|decoded| {
            let (user, password) = decoded.split_once(':')?;
            Some((form_decode(user)?, form_decode(password)?))
        });
    let (basic_id, basic_secret) =
        basic.map_or((None, None), |(id, secret)| (Some(id), Some(secret)));
    (
        params.get("client_id").map(str::to_owned).or(basic_id),
        params
            .get("client_secret")
            .map(str::to_owned)
            .or(basic_secret),
    )
}

fn authenticate_client(
    state: &State,
    req: &HttpRequest,
    params: &Params,
) -> Result<(), FacebookError> {
    let (id, secret) = client(req, params);
    let bad_request = StatusCode::BAD_REQUEST;
    match id {
        None => {
            return Err(FacebookError::new(
                bad_request,
                101,
                "Missing client_id parameter.",
            ))
        }
        Some(id) if !constant_time_eq(&id, &state.config.client_id) => {
            return Err(FacebookError::new(
                bad_request,
                101,
                "Error validating application. Invalid application ID.",
            ))
        }
        Some(_) => {}
    }
    match secret {
        None => Err(FacebookError::new(
            bad_request,
            101,
            "Missing client_secret parameter.",
        )),
        Some(secret) if !constant_time_eq(&secret, &state.config.client_secret) => Err(
            FacebookError::new(bad_request, 1, "Error validating client secret."),
        ),
        Some(_) => Ok(()),
    }
}

fn grant_error(error: GrantError) -> FacebookError {
    let code_error = |subcode: u32, message: &str| invalid_code(message).with_subcode(subcode);
    match error {
        GrantError::Unknown | GrantError::WrongClient => invalid_code("Invalid verification code format."),
        GrantError::Expired => code_error(36_007, "This authorization code has expired."),
        GrantError::Reused => code_error(36_009, "This authorization code has been used."),
        GrantError::RedirectUriMismatch => code_error(
            36_008,
            "Error validating verification code. Please make sure your redirect_uri is identical to the one \
             you used in the OAuth dialog request",
        ),
        GrantError::VerifierMissing
        | GrantError::VerifierMismatch
        | GrantError::VerifierUnexpected
        | GrantError::ScopeTooBroad => invalid_code(error.description()),
    }
}

/// Facebook's code errors are code 100 without the `(#100)` prefix.
fn invalid_code(message: &str) -> FacebookError {
    FacebookError::new(StatusCode::BAD_REQUEST, 100, message)
}

fn token_response(token: &str, ttl: Duration) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            json!({ "access_token": token, "token_type": "bearer", "expires_in": ttl.as_secs() })
                .to_string(),
        )
}

fn new_token() -> Result<String, FacebookError> {
    random_secret("EAA", 96).map_err(|_| FacebookError::forced(2))
}

/// Answers `/v25.0/oauth/access_token` (without the usage headers, which the caller adds).
pub(crate) fn access_token(
    state: &State,
    req: &HttpRequest,
    body: &[u8],
) -> Result<HttpResponse, FacebookError> {
    let mut encoded = req.query_string().as_bytes().to_vec();
    if !body.is_empty() {
        if !encoded.is_empty() {
            encoded.push(b'&');
        }
        encoded.extend_from_slice(body);
    }
    let params = Params::parse(&encoded).map_err(|_| invalid("The parameters are malformed"))?;
    if let Some(name) = params.repeated() {
        return Err(invalid(&format!("Param {name} was sent more than once")));
    }
    authenticate_client(state, req, &params)?;
    let now = state.clock.now();
    match params.get("grant_type") {
        None | Some("authorization_code") => {
            let code = params
                .get("code")
                .ok_or_else(|| invalid("Missing code parameter."))?;
            let token = new_token()?;
            state
                .tokens
                .redeem_code(
                    code,
                    &state.config.client_id,
                    params.get("redirect_uri"),
                    params.get("code_verifier"),
                    (token.clone(), None),
                    Some(SHORT_LIVED),
                    now,
                )
                .map_err(grant_error)?;
            Ok(token_response(&token, SHORT_LIVED))
        }
        Some("fb_exchange_token") => {
            let short = params
                .get("fb_exchange_token")
                .ok_or_else(|| invalid("Missing fb_exchange_token parameter."))?;
            let token = new_token()?;
            state
                .tokens
                .extend(short, token.clone(), LONG_LIVED, now)
                .map_err(|error| {
                    FacebookError::invalid_token(match error {
                        TokenState::Expired => CredentialProblem::Expired,
                        TokenState::Revoked => CredentialProblem::Revoked,
                        TokenState::Unknown => CredentialProblem::Unknown,
                    })
                })?;
            Ok(token_response(&token, LONG_LIVED))
        }
        Some(other) => Err(invalid(&format!(
            "Unsupported grant_type \"{other}\": use authorization_code (or none) or fb_exchange_token"
        ))),
    }
}
