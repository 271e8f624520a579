//! Client authentication at the token, revocation and deauthorization endpoints.
//!
//! Accepted: RFC 6749 2.3.1 HTTP Basic (`client_id:client_secret`, each form-urlencoded), Stripe's Basic
//! (the secret as user name, empty password: `curl -u sk_...:`), the secret as a Bearer token (Stripe's
//! deauthorize), or `client_secret` (and optionally `client_id`) in the body. Only one method per request.

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::store::constant_time_eq;
use super::{form_decode, OAuthError, Params};
use crate::config::SandboxConfig;

enum Presented {
    Basic { user: String, password: String },
    Bearer(String),
    Body { id: Option<String>, secret: String },
    Nothing,
}

fn presented(req: &HttpRequest, params: &Params) -> Result<Presented, OAuthError> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let body_secret = params.get("client_secret");
    let Some(authorization) = authorization else {
        return Ok(match body_secret {
            Some(secret) => Presented::Body {
                id: params.get("client_id").map(str::to_owned),
                secret: secret.to_owned(),
            },
            None => Presented::Nothing,
        });
    };
    if body_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "Use only one client authentication method (Authorization header or client_secret)",
        ));
    }
    let (scheme, credentials) = authorization.split_once(' ').unwrap_or((authorization, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let bad = || OAuthError::invalid_client("Malformed HTTP Basic credentials", true);
        let decoded = STANDARD.decode(credentials.trim()).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (user, password) = decoded.split_once(':').ok_or_else(bad)?;
        Ok(Presented::Basic {
            user: form_decode(user).ok_or_else(bad)?,
            password: form_decode(password).ok_or_else(bad)?,
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Presented::Bearer(credentials.trim().to_owned()))
    } else {
        Err(OAuthError::invalid_client(
            "Unsupported authentication scheme",
            false,
        ))
    }
}

/// Authenticates the one registered client; a `client_id` in the body must name it too.
pub(crate) fn authenticate_client(
    req: &HttpRequest,
    params: &Params,
    config: &SandboxConfig,
) -> Result<(), OAuthError> {
    let id_ok = |id: &str| constant_time_eq(id, &config.client_id);
    let secret_ok = |secret: &str| constant_time_eq(secret, &config.client_secret);
    let body_id_ok = params.get("client_id").is_none_or(id_ok);
    match presented(req, params)? {
        Presented::Basic { user, password } => {
            let rfc_style = id_ok(&user) && secret_ok(&password);
            let stripe_style = password.is_empty() && secret_ok(&user);
            if (rfc_style || stripe_style) && body_id_ok {
                Ok(())
            } else {
                Err(OAuthError::invalid_client(
                    "Client authentication failed",
                    true,
                ))
            }
        }
        Presented::Bearer(secret) if secret_ok(&secret) && body_id_ok => Ok(()),
        Presented::Body { id, secret } if secret_ok(&secret) && id.as_deref().is_none_or(id_ok) => {
            Ok(())
        }
        Presented::Nothing => Err(OAuthError::invalid_client(
            "Client authentication required (HTTP Basic or client_secret)",
            false,
        )),
        Presented::Bearer(_) | Presented::Body { .. } => Err(OAuthError::invalid_client(
            "Client authentication failed",
            false,
        )),
    }
}
