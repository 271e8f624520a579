//! The one error type at the HTTP edge. Every error answer has the contract's body:
//! `{"error": "<stable snake_case code>", "message": "...", "request_id": "..."}`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use allmetrics_common::ErrorBody;

use crate::request_context;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A client mistake with a stable code: 400, 401, 403, 404, 405, 409, 413, 415, 422, 503.
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// Too many requests; the client may retry after this many seconds.
    #[error("{message}")]
    RateLimited {
        /// `rate_limited`, or what exactly was too many.
        code: &'static str,
        retry_after_secs: u64,
        message: String,
    },
    /// Anything unexpected. Logged in full; the client only learns that it happened.
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn forbidden_with(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Client { code, .. } => code,
            ApiError::RateLimited { code, .. } => code,
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "Something went wrong on our side. Quote the request id when reporting it.".into()
            }
            other => other.to_string(),
        }
    }
}

/// The default code for an error status that was produced without an [`ApiError`] (the router's
/// 404 and 405, a body over the size limit, ...).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable_entity",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        status if status.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

/// A human sentence for a status produced without an [`ApiError`].
pub fn message_for_status(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "There is nothing at this address.".into(),
        StatusCode::METHOD_NOT_ALLOWED => "This address does not accept that method.".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".into(),
        status => status
            .canonical_reason()
            .unwrap_or("The request failed.")
            .to_string(),
    }
}

pub fn error_body(code: &str, message: String) -> ErrorBody {
    ErrorBody {
        error: code.to_string(),
        message,
        request_id: request_context::current_request_id(),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } => *status,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(error) = self {
            tracing::error!(error = format!("{error:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited {
            retry_after_secs, ..
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        response.json(error_body(self.code(), self.public_message()))
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> Self {
        match error {
            crate::db::DbError::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database is not answering; try again shortly.",
            ),
            crate::db::DbError::Timeout => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "query_timeout",
                "This chart took longer than the server allows to compute; try a shorter window \
                 or fewer groups, or save it as a metric (saved metrics are pre-aggregated).",
            ),
            other => ApiError::Internal(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_hide_their_details() {
        let error = ApiError::internal(anyhow::anyhow!("password=hunter2 leaked in a message"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.error, "internal_error");
        assert!(!body.message.contains("hunter2"));
    }

    #[actix_web::test]
    async fn rate_limited_errors_carry_retry_after() {
        let error = ApiError::RateLimited {
            code: "rate_limited",
            retry_after_secs: 7,
            message: "slow down".into(),
        };
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get("retry-after").unwrap(), "7");
    }
}
