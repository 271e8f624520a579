//! Google's error envelope: `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}`, the
//! `google.rpc.Status` of every Google REST API.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::json;

use crate::api::{Refusal, Refused};

const INVALID_CREDENTIALS: &str =
    "Request had invalid authentication credentials. Expected OAuth 2 access \
token, login cookie or other valid authentication credential. See \
https://developers.google.com/identity/sign-in/web/devconsole-project.";

#[derive(Debug)]
pub(crate) struct GoogleError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for `Retry-After` (the sandbox's rate limit and injected 429s; Google's quota errors have none).
    pub retry_after: Option<u64>,
}

impl GoogleError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        GoogleError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn permission_denied(message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn resource_exhausted(message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::TOO_MANY_REQUESTS, message)
    }

    /// What `admit` refused, in Google's words.
    pub(crate) fn from_refused(refused: &Refused) -> Self {
        match &refused.refusal {
            Refusal::Credential(error) if error.stripe.status == StatusCode::UNAUTHORIZED => {
                GoogleError::new(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS)
            }
            Refusal::Credential(error) => {
                GoogleError::new(error.stripe.status, error.stripe.message.clone())
            }
            Refusal::Scope => {
                GoogleError::permission_denied("Request had insufficient authentication scopes.")
            }
            Refusal::RateLimited(retry_after) => GoogleError {
                retry_after: Some(*retry_after),
                ..GoogleError::resource_exhausted(
                    "Too many requests from this credential (the sandbox's rate limit). Retry later.",
                )
            },
            Refusal::ServerError => GoogleError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error encountered.",
            ),
        }
    }

    /// The canonical code name of the HTTP status, as `google.rpc.Code` spells it.
    fn status_name(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ABORTED",
            429 => "RESOURCE_EXHAUSTED",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            _ => "INTERNAL",
        }
    }

    pub(crate) fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            ));
        }
        let body = json!({
            "error": {
                "code": self.status.as_u16(),
                "message": self.message,
                "status": self.status_name(),
            }
        });
        response
            .content_type("application/json; charset=UTF-8")
            .body(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_follow_google_rpc_codes() {
        let names: Vec<&str> = [400, 401, 403, 404, 429, 500]
            .into_iter()
            .map(|code| {
                GoogleError::new(
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "",
                )
                .status_name()
            })
            .collect();
        assert_eq!(
            names,
            [
                "INVALID_ARGUMENT",
                "UNAUTHENTICATED",
                "PERMISSION_DENIED",
                "NOT_FOUND",
                "RESOURCE_EXHAUSTED",
                "INTERNAL"
            ]
        );
    }
}
