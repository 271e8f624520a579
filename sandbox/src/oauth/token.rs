//! `POST /oauth/token` (code exchange and refresh), `POST /oauth/revoke` (RFC 7009) and
//! `POST /oauth/deauthorize` (Stripe Connect's disconnect).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::client_auth::authenticate_client;
use super::store::Granted;
use super::{random_secret, OAuthError, Params};
use crate::State;

/// Parses the form body, rejects repeated parameters and authenticates the client.
fn authenticated_params(
    state: &State,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Params, OAuthError> {
    let params = Params::parse(body)?;
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(format!(
            "The parameter {name} was sent more than once"
        )));
    }
    authenticate_client(req, &params, &state.config)?;
    Ok(params)
}

/// Stripe's access tokens are secret keys (`sk_test_...`); refresh tokens start with `rt_`.
fn new_token_pair() -> Result<(String, String), OAuthError> {
    Ok((random_secret("sk_test_", 48)?, random_secret("rt_", 48)?))
}

fn token_response(state: &State, tokens: (String, String), granted: Granted) -> HttpResponse {
    let (access_token, refresh_token) = tokens;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "refresh_token": refresh_token,
        "scope": granted.scope,
        "livemode": false,
        "stripe_user_id": state.account.id,
        "stripe_publishable_key": state.account.publishable_key,
    });
    if let Some(ttl) = state.config.access_token_ttl {
        body["expires_in"] = ttl.as_secs().max(1).into();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

fn exchange(state: &State, req: &HttpRequest, body: &[u8]) -> Result<HttpResponse, OAuthError> {
    let params = authenticated_params(state, req, body)?;
    let client_id = state.config.client_id.as_str();
    let ttl = state.config.access_token_ttl;
    let now = state.clock.now();
    let invalid_grant =
        |error: super::store::GrantError| OAuthError::new("invalid_grant", error.description());
    match params.get("grant_type") {
        Some("authorization_code") => {
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            let tokens = new_token_pair()?;
            let granted = state
                .tokens
                .redeem_code(
                    code,
                    client_id,
                    params.get("redirect_uri"),
                    params.get("code_verifier"),
                    (tokens.0.clone(), Some(tokens.1.clone())),
                    ttl,
                    now,
                )
                .map_err(invalid_grant)?;
            Ok(token_response(state, tokens, granted))
        }
        Some("refresh_token") => {
            let refresh_token = params
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
            let tokens = new_token_pair()?;
            let granted = state
                .tokens
                .refresh(
                    refresh_token,
                    client_id,
                    params.get("scope"),
                    tokens.clone(),
                    ttl,
                    now,
                )
                .map_err(|error| match error {
                    super::store::GrantError::ScopeTooBroad => {
                        OAuthError::new("invalid_scope", error.description())
                    }
                    super::store::GrantError::Unknown => {
                        OAuthError::new("invalid_grant", "Refresh token does not exist")
                    }
                    other => invalid_grant(other),
                })?;
            Ok(token_response(state, tokens, granted))
        }
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type \"{other}\" is not supported"),
        )),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    }
}

/// `POST /oauth/token`
pub(crate) async fn token(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    exchange(&state, &req, &body).unwrap_or_else(|error| error.response())
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token existed.
pub(crate) async fn revoke(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let outcome = authenticated_params(&state, &req, &body).and_then(|params| {
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        state.tokens.revoke_token(token);
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish())
    });
    outcome.unwrap_or_else(|error| error.response())
}

/// `POST /oauth/deauthorize`: disconnects the account, revoking every token issued for it.
pub(crate) async fn deauthorize(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let outcome = authenticated_params(&state, &req, &body).and_then(|params| {
        match params.get("client_id") {
            None => return Err(OAuthError::invalid_request("client_id is required")),
            Some(id) if id != state.config.client_id => {
                return Err(OAuthError::invalid_client(
                    format!("No such application: '{id}'"),
                    false,
                ))
            }
            Some(_) => {}
        }
        match params.get("stripe_user_id") {
            None => Err(OAuthError::invalid_request("stripe_user_id is required")),
            Some(account) if account != state.account.id => Err(OAuthError::invalid_request(format!(
                "This application is not connected to stripe account {account}, or that account does not exist."
            ))),
            Some(account) => {
                state.tokens.revoke_all();
                Ok(HttpResponse::Ok()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(json!({ "stripe_user_id": account })))
            }
        }
    });
    outcome.unwrap_or_else(|error| error.response())
}
