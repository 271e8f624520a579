//! How malformed input is answered: 400 with a precise, stable code, never a 500.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use crate::error::ApiError;

pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .error_handler(|error, _request: &HttpRequest| json_error(error).into())
}

/// Parses a JSON body read by hand (for endpoints whose body is optional), answering exactly as
/// the [`Json`] extractor would.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| json_error(JsonPayloadError::Deserialize(error)))?;
    from_object(value)
}

/// A request body that must be a JSON object: serde alone would also read a struct from an
/// array of its fields in order (`[null, null]`), which no client means.
fn from_object<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "The JSON body must be an object.",
        ));
    }
    serde_json::from_value(value).map_err(|error| json_error(JsonPayloadError::Deserialize(error)))
}

/// The JSON body of a request, as `web::Json` reads it (same limit, content type and error
/// answers), but only from a JSON object.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            Ok(Json(from_object(value)?))
        })
    }
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonPayloadError::Deserialize(error) if error.is_data() => ApiError::bad_request(
            "invalid_body",
            format!("The JSON body is not valid: {error}"),
        ),
        JsonPayloadError::Deserialize(error) => ApiError::bad_request(
            "invalid_json",
            format!("The body is not well-formed JSON: {error}"),
        ),
        other => ApiError::bad_request(
            "invalid_json",
            format!("The body could not be read: {other}"),
        ),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _request| {
        let message = match error {
            QueryPayloadError::Deserialize(error) => error.to_string(),
            other => other.to_string(),
        };
        ApiError::bad_request("invalid_query", format!("Invalid query string: {message}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _request| {
        let message = match error {
            PathError::Deserialize(error) => error.to_string(),
            other => other.to_string(),
        };
        ApiError::bad_request("invalid_path", format!("Invalid path parameter: {message}")).into()
    })
}
