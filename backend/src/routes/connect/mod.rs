//! The seed's connect URLs: a browser navigates them, so failures are answered with a page for
//! browsers and with the JSON error for API clients.

pub mod authorize;
pub mod callback;
pub mod query;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;
use crate::request_context::current_request_id;

/// Whether the request comes from a browser navigation (it accepts HTML).
/// Sends the browser to resume its session (from the refresh cookie, or by signing in), then
/// back to `next`.
pub fn resume_session(next: &str) -> actix_web::HttpResponse {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    actix_web::HttpResponse::Found()
        .insert_header((header::LOCATION, format!("/api/v1/auth/resume?next={next}")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub fn wants_html(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The error as a page for browsers, or as the contract's JSON for API clients.
pub fn error_response(request: &HttpRequest, error: ApiError) -> HttpResponse {
    if !wants_html(request) {
        return error.error_response();
    }
    let message = match &error {
        ApiError::Internal(_) => "Something went wrong on our side.".to_string(),
        other => other.to_string(),
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Connecting failed · allmetrics</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; \
         padding: 0 1rem\"><h1>Connecting failed</h1><p role=\"alert\">{}</p>\
         <p><a href=\"/sources\">Back to your sources</a></p>\
         <p style=\"color: #697386\">Error <code>{}</code> · request <code>{}</code></p>\
         </body></html>",
        escape_html(&message),
        error.code(),
        escape_html(&current_request_id()),
    );
    HttpResponse::build(error.status_code())
        .content_type("text/html; charset=utf-8")
        .body(page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped() {
        assert_eq!(
            super::escape_html("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
