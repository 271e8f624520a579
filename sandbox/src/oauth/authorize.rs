//! `GET /oauth/authorize` shows the consent page; `POST /oauth/authorize` (the page's form) redirects back to
//! the client with a code or `error=access_denied`.
//!
//! RFC 6749 4.1.2.1: when the client or its redirect URI cannot be verified, the user sees an error page and is
//! NOT redirected (that would make the server an open redirector); every other error goes back to the client
//! as `?error=...&state=...`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::store::{has_scope, valid_pkce_string, CodeGrant};
use super::{random_secret, Params};
use crate::State;

/// Stripe Connect's two scopes, Google's read-only Analytics scope (for `/v1beta`), and Facebook's `ads_read`
/// and `read_insights` (for `/v25.0`).
const SCOPES: [&str; 5] = [
    "read_only",
    "read_write",
    super::ANALYTICS_READONLY,
    super::ADS_READ,
    "read_insights",
];

/// A scope list with only known scopes, normalized: single spaces, no repeats. Scopes are separated by spaces
/// (RFC 6749 3.3) or by commas (Facebook's login dialog), or both.
fn parse_scope(requested: &str) -> Result<String, String> {
    let mut scopes: Vec<&str> = Vec::new();
    for scope in requested
        .split([' ', ','])
        .filter(|scope| !scope.is_empty())
    {
        if !SCOPES.contains(&scope) {
            return Err(format!(
                "Invalid scope \"{scope}\"; use read_only, read_write, {}, ads_read or read_insights",
                super::ANALYTICS_READONLY
            ));
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err("The scope is empty".into());
    }
    Ok(scopes.join(" "))
}

/// What the consent page says the application asks for (HTML): the Stripe account `account` names, the
/// Google Analytics properties, the Facebook ad accounts, as the scope says.
fn access_description(scope: &str, account: &str) -> String {
    let account = escape_html(account);
    let mut parts: Vec<String> = Vec::new();
    if has_scope(scope, "read_write") {
        parts.push(format!(
            "read and write access to the sandbox Stripe account <code>{account}</code>"
        ));
    } else if has_scope(scope, "read_only") {
        parts.push(format!(
            "read-only access to the sandbox Stripe account <code>{account}</code>"
        ));
    }
    if has_scope(scope, super::ANALYTICS_READONLY) {
        parts.push("read-only access to the sandbox's Google Analytics properties".to_owned());
    }
    if has_scope(scope, super::ADS_READ) || has_scope(scope, "read_insights") {
        parts.push(
            "read-only access to the sandbox's Facebook ad accounts and their insights".to_owned(),
        );
    }
    parts.join(", and ")
}

/// A verified authorization request.
struct AuthRequest {
    client_id: String,
    /// Where to send the user back (the registered URI when the request named none).
    redirect_uri: String,
    /// The redirect URI exactly as sent, which the token request must repeat.
    redirect_uri_sent: Option<String>,
    scope: String,
    state: Option<String>,
    challenge: Option<String>,
    challenge_method: Option<String>,
}

enum Refusal {
    /// The client or redirect URI is not trusted: explain on a page.
    Page(String),
    /// Tell the client through its redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

fn verify(state: &State, params: &Params) -> Result<AuthRequest, Refusal> {
    let config = &state.config;
    if let Some(name @ ("client_id" | "redirect_uri")) = params.repeated() {
        return Err(Refusal::Page(format!(
            "The parameter {name} was sent more than once."
        )));
    }
    let client_id = match params.get("client_id") {
        None => return Err(Refusal::Page("The request has no client_id.".into())),
        Some(id) if id != config.client_id => {
            return Err(Refusal::Page(format!("Unknown client_id \"{id}\".")))
        }
        Some(id) => id.to_owned(),
    };
    let redirect_uri_sent = params.get("redirect_uri").map(str::to_owned);
    let redirect_uri = match &redirect_uri_sent {
        Some(uri)
            if config
                .redirect_uris
                .iter()
                .any(|registered| registered == uri) =>
        {
            uri.clone()
        }
        Some(uri) => {
            return Err(Refusal::Page(format!(
                "The redirect_uri \"{uri}\" is not registered for this client."
            )))
        }
        None => match config.redirect_uris.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(Refusal::Page(
                    "This client has no registered redirect URI.".into(),
                ))
            }
            _ => {
                return Err(Refusal::Page(
                    "The request has no redirect_uri and the client registered several.".into(),
                ))
            }
        },
    };
    let client_state = params.get("state").map(str::to_owned);
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: client_state.clone(),
        error,
        description,
    };
    if let Some(name) = params.repeated() {
        return Err(refuse(
            "invalid_request",
            format!("The parameter {name} was sent more than once"),
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => {
            return Err(refuse(
                "invalid_request",
                "response_type is required".into(),
            ))
        }
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("response_type \"{other}\" is not supported; use \"code\""),
            ))
        }
    }
    // Google's `access_type=offline`, `prompt=consent`, `include_granted_scopes`, ... are accepted and ignored:
    // refresh tokens are always issued and consent is always asked.
    let scope = parse_scope(params.get("scope").unwrap_or("read_only"))
        .map_err(|description| refuse("invalid_scope", description))?;
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    match (challenge, method) {
        (None, None) | (Some(_), Some("S256")) => {}
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method was sent without code_challenge".into(),
            ))
        }
        // RFC 7636 4.3: a missing method means "plain", which this server does not support.
        (Some(_), _) => {
            return Err(refuse(
                "invalid_request",
                "Only code_challenge_method=S256 is supported".into(),
            ))
        }
    }
    if challenge.is_some_and(|c| !valid_pkce_string(c)) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]".into(),
        ));
    }
    Ok(AuthRequest {
        client_id,
        redirect_uri,
        redirect_uri_sent,
        scope,
        state: client_state,
        challenge: challenge.map(str::to_owned),
        challenge_method: method.map(str::to_owned),
    })
}

/// `redirect_uri` with the parameters appended to its query.
fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> HttpResponse {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    HttpResponse::Found()
        .insert_header((
            header::LOCATION,
            format!("{redirect_uri}{separator}{query}"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refusal_response(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Page(message) => error_page(&message),
        Refusal::Redirect {
            redirect_uri,
            state,
            error,
            description,
        } => {
            let mut params = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(state) = &state {
                params.push(("state", state));
            }
            redirect(&redirect_uri, &params)
        }
    }
}

pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn html(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #1a1a2e; }}\n\
         .card {{ border: 1px solid #d0d0e0; border-radius: 8px; padding: 1.5rem; }}\n\
         button {{ font: inherit; padding: 0.5rem 1.25rem; margin-right: 0.5rem; border-radius: 6px; border: 1px solid #635bff; cursor: pointer; }}\n\
         #approve {{ background: #635bff; color: #fff; }}\n#deny {{ background: #fff; color: #635bff; }}\n\
         button:focus-visible {{ outline: 3px solid #f5a623; outline-offset: 2px; }}\n\
         code {{ background: #f0f0f7; padding: 0 0.25rem; }}\n</style>\n</head>\n<body>\n<main class=\"card\">\n{body}\n</main>\n</body>\n</html>\n",
        title = escape_html(title),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(page)
}

fn error_page(message: &str) -> HttpResponse {
    html(
        StatusCode::BAD_REQUEST,
        "Sandbox authorization error",
        &format!(
            "<h1>Authorization error</h1>\n<p role=\"alert\">{}</p>\n\
             <p>You were not sent back to the application because the request could not be verified.</p>",
            escape_html(message)
        ),
    )
}

fn hidden(name: &str, value: Option<&str>) -> String {
    value.map_or_else(String::new, |value| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape_html(value)
        )
    })
}

/// `GET /oauth/authorize`
pub(crate) async fn consent_page(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let params = match Params::parse(req.query_string().as_bytes()) {
        Ok(params) => params,
        Err(_) => return error_page("The query string is malformed."),
    };
    let request = match verify(&state, &params) {
        Ok(request) => request,
        Err(refusal) => return refusal_response(refusal),
    };
    let access = access_description(&request.scope, &state.account.id);
    let fields = [
        hidden("response_type", Some("code")),
        hidden("client_id", Some(&request.client_id)),
        hidden("redirect_uri", request.redirect_uri_sent.as_deref()),
        hidden("scope", Some(&request.scope)),
        hidden("state", request.state.as_deref()),
        hidden("code_challenge", request.challenge.as_deref()),
        hidden("code_challenge_method", request.challenge_method.as_deref()),
    ]
    .concat();
    // The form posts to "authorize", relative to this page, so it works under any mount prefix.
    let body = format!(
        "<h1>Sandbox wants to connect to allmetrics</h1>\n\
         <p>The application <code>{client}</code> asks for {access} (demo data, test mode).</p>\n\
         <p>You will be sent back to <code>{redirect}</code>.</p>\n\
         <form method=\"post\" action=\"authorize\">\n{fields}\
         <button type=\"submit\" id=\"approve\" name=\"decision\" value=\"approve\" autofocus>Approve</button>\n\
         <button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\n</form>",
        client = escape_html(&request.client_id),
        redirect = escape_html(&request.redirect_uri),
    );
    html(StatusCode::OK, "Connect Sandbox to allmetrics", &body)
}

/// `POST /oauth/authorize`: the consent form's answer. Everything is verified again (the form is just input).
pub(crate) async fn decide(state: web::Data<State>, body: web::Bytes) -> HttpResponse {
    let params = match Params::parse(&body) {
        Ok(params) => params,
        Err(_) => return error_page("The form data is malformed."),
    };
    let request = match verify(&state, &params) {
        Ok(request) => request,
        Err(refusal) => return refusal_response(refusal),
    };
    let client_state = request.state.as_deref();
    match params.get("decision") {
        Some("approve") => {
            let code = match random_secret("ac_", 32) {
                Ok(code) => code,
                Err(error) => return error.response(),
            };
            state.tokens.issue_code(
                code.clone(),
                CodeGrant {
                    client_id: request.client_id.clone(),
                    redirect_uri: request.redirect_uri_sent.clone(),
                    scope: request.scope.clone(),
                    challenge: request.challenge.clone(),
                },
                state.clock.now(),
            );
            let mut params = vec![("code", code.as_str()), ("scope", request.scope.as_str())];
            if let Some(client_state) = client_state {
                params.push(("state", client_state));
            }
            redirect(&request.redirect_uri, &params)
        }
        Some("deny") => {
            let mut params = vec![
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
            ];
            if let Some(client_state) = client_state {
                params.push(("state", client_state));
            }
            redirect(&request.redirect_uri, &params)
        }
        _ => refusal_response(Refusal::Redirect {
            redirect_uri: request.redirect_uri,
            state: request.state,
            error: "invalid_request",
            description: "decision must be approve or deny".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{access_description, escape_html, parse_scope};

    #[test]
    fn scopes_are_known_space_separated_names() {
        let analytics = super::super::ANALYTICS_READONLY;
        assert_eq!(parse_scope("read_only").as_deref(), Ok("read_only"));
        assert_eq!(parse_scope(analytics).as_deref(), Ok(analytics));
        assert_eq!(
            parse_scope(&format!("{analytics}  read_write {analytics}")),
            Ok(format!("{analytics} read_write"))
        );
        assert!(parse_scope("read_only everything").is_err());
        assert!(parse_scope(" ").is_err());
        assert!(parse_scope(",").is_err());
        assert_eq!(parse_scope("ads_read").as_deref(), Ok("ads_read"));
        assert_eq!(
            parse_scope("ads_read,read_insights").as_deref(),
            Ok("ads_read read_insights")
        );
        assert_eq!(
            parse_scope("read_insights, ads_read ads_read").as_deref(),
            Ok("read_insights ads_read")
        );
    }

    #[test]
    fn consent_names_every_api_asked_for() {
        assert_eq!(
            access_description("read_only", "acct_1"),
            "read-only access to the sandbox Stripe account <code>acct_1</code>"
        );
        let both = access_description(
            &format!("ads_read {}", super::super::ANALYTICS_READONLY),
            "acct_1",
        );
        assert!(both.contains("Google Analytics") && both.contains("Facebook ad accounts"));
        assert!(!both.contains("Stripe"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
