//! Stripe's error envelope: `{"error": {"type": ..., "message": ..., "code"?: ..., "param"?: ...}}`.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

#[derive(Debug)]
pub(crate) struct StripeError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub code: Option<&'static str>,
    pub param: Option<String>,
    pub retry_after: Option<u64>,
}

impl StripeError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        StripeError {
            status,
            kind,
            message: message.into(),
            code: None,
            param: None,
            retry_after: None,
        }
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        StripeError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        StripeError::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        StripeError::new(StatusCode::FORBIDDEN, "invalid_request_error", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        StripeError::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
    }

    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        StripeError {
            code: Some("rate_limit"),
            retry_after: Some(retry_after),
            ..StripeError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
            )
        }
    }

    pub(crate) fn api_error() -> Self {
        StripeError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred while processing your request (injected by the sandbox).",
        )
    }

    /// "No such customer: 'cus_...'" (Stripe's `resource_missing`).
    pub(crate) fn no_such(status: StatusCode, object: &str, id: &str, param: &str) -> Self {
        StripeError {
            code: Some("resource_missing"),
            param: Some(param.to_owned()),
            ..StripeError::new(
                status,
                "invalid_request_error",
                format!("No such {object}: '{id}'"),
            )
        }
    }

    pub(crate) fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn response(&self, request_id: &str) -> HttpResponse {
        let mut error = Map::new();
        if let Some(code) = self.code {
            error.insert("code".into(), code.into());
        }
        error.insert("message".into(), self.message.clone().into());
        if let Some(param) = &self.param {
            error.insert("param".into(), param.clone().into());
        }
        error.insert(
            "request_log_url".into(),
            format!("https://dashboard.stripe.com/test/logs/{request_id}").into(),
        );
        error.insert("type".into(), self.kind.into());
        let mut response = HttpResponse::build(self.status);
        response.insert_header(("Request-Id", request_id));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"Stripe\""));
        }
        response.json(json!({ "error": Value::Object(error) }))
    }
}
