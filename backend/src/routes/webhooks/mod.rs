//! Where providers push changes.

pub mod stripe;

use actix_web::http::StatusCode;

use crate::error::ApiError;
use crate::providers::stripe::webhook::SignatureError;
use crate::webhooks::WebhookError;

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        let message = error.to_string();
        match error {
            WebhookError::UnknownEndpoint => ApiError::not_found("unknown_webhook", message),
            WebhookError::NotConfigured => ApiError::bad_request("webhook_not_configured", message),
            WebhookError::Signature(SignatureError::Stale) => {
                ApiError::bad_request("stale_signature", message)
            }
            WebhookError::Signature(_) => ApiError::bad_request("invalid_signature", message),
            WebhookError::NotAnEvent => ApiError::bad_request("invalid_event", message),
            WebhookError::InvalidSecret => ApiError::bad_request("invalid_webhook_secret", message),
            WebhookError::NotSupported => {
                ApiError::new(StatusCode::BAD_REQUEST, "webhooks_not_supported", message)
            }
            WebhookError::Storage(error) => error.into(),
            WebhookError::Crypto(message) => ApiError::internal(anyhow::anyhow!(message)),
        }
    }
}
