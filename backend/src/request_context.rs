//! Per-request plumbing that every route shares: the request id (in the `x-request-id` header and
//! in error bodies), trailing-slash tolerance, and JSON bodies for errors the framework produces
//! itself (the router's 404 and 405, oversized bodies).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use tracing_actix_web::RequestId;

use crate::error::{code_for_status, error_body, message_for_status};

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served, or `unknown` outside of one.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Paths whose trailing slash is meaningful and must be left alone.
fn keeps_trailing_slash(path: &str) -> bool {
    path == "/" || path.starts_with("/docs/")
}

/// `/connect/authorize/stripe/` and `/connect/authorize/stripe` are the same resource (the seed's
/// URLs end in a slash; generated clients do not).
fn trim_trailing_slash(request: &mut ServiceRequest) {
    let path = request.path();
    if !path.ends_with('/') || keeps_trailing_slash(path) {
        return;
    }
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let path_and_query = match request.query_string() {
        "" => trimmed.to_string(),
        query => format!("{trimmed}?{query}"),
    };
    let mut parts = request.head().uri.clone().into_parts();
    let Ok(path_and_query) = path_and_query.parse() else {
        return;
    };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        request.match_info_mut().get_mut().update(&uri);
        request.head_mut().uri = uri;
    }
}

/// Framework errors come as empty or plain-text bodies; give them the contract's JSON body.
/// Bodies a handler wrote on purpose (JSON errors, HTML error pages) are left as they are.
fn is_framework_error(response: &ServiceResponse<BoxBody>) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .map(|value| value.starts_with("text/plain"))
            .unwrap_or(true),
    }
}

/// Runs first, before anything holds a copy of the request (the router needs it unshared).
pub async fn normalize_path(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    trim_trailing_slash(&mut request);
    next.call(request).await
}

pub async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.to_string())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

    let result =
        REQUEST_ID
            .scope(request_id.clone(), async move {
                match next.call(request).await {
                    Ok(response) => {
                        let response = response.map_into_boxed_body();
                        if is_framework_error(&response) {
                            let status = response.status();
                            Ok(response.into_response(HttpResponse::build(status).json(
                                error_body(code_for_status(status), message_for_status(status)),
                            )))
                        } else {
                            Ok(response)
                        }
                    }
                    // Rendered here, inside the scope, so that the body carries the request id.
                    Err(error) => {
                        let rendered = error.as_response_error().error_response();
                        Err(InternalError::from_response(error, rendered).into())
                    }
                }
            })
            .await;

    let header_value = HeaderValue::from_str(&request_id).ok();
    result.map(|mut response| {
        if let Some(value) = header_value {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        response
    })
}
