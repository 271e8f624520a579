//! The fetch helper every call goes through.
//!
//! - Cookies carry the session (same-origin `fetch` sends them); tokens are never stored by the
//!   app.
//! - Writes echo the readable `allmetrics_csrf` cookie in `x-csrf-token`.
//! - A 401 triggers one refresh (`POST /api/v1/auth/refresh`, empty body: the refresh cookie),
//!   shared by every call that fails at the same time (refresh tokens are single use; the browser
//!   shim holds the one request in flight), then one retry. When the refresh fails, the
//!   session-expired handler runs: the app sends the user to sign in, keeping the page they
//!   wanted.
//! - Errors carry the API's `message`, which is what the user sees.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use allmetrics_common::ErrorBody;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::browser;

pub const CSRF_COOKIE: &str = "allmetrics_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a failed call tells the user: the API's own message when it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The API's error code (`not_found`, ...), or `network_error`, `http_error`,
    /// `unreadable_response`.
    pub code: String,
    pub message: String,
    /// HTTP status; 0 when the server was not reached.
    pub status: u16,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiFailure {}

impl ApiFailure {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            code: code.into(),
            message: message.into(),
            status: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// How a call treats an expired session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Refresh on 401; when that fails, the user is sent to sign in.
    Required,
    /// Refresh on 401, but stay put when that fails (the start-up `GET /api/v1/me`).
    Probe,
    /// No refresh (sign in, register).
    Public,
}

thread_local! {
    static GENERATION: Cell<u64> = const { Cell::new(0) };
    static ON_EXPIRED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// What to do when the session cannot be renewed (set once by the app root).
pub fn on_session_expired(handler: impl Fn() + 'static) {
    ON_EXPIRED.with(|cell| *cell.borrow_mut() = Some(Rc::new(handler)));
}

fn session_expired() {
    let handler = ON_EXPIRED.with(|cell| cell.borrow().clone());
    if let Some(handler) = handler {
        handler();
    }
}

fn network_failure(error: gloo_net::Error) -> ApiFailure {
    ApiFailure::new(
        "network_error",
        format!("The server could not be reached ({error}). Check your connection and try again."),
    )
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    let builder = match method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Put => Request::put(url),
        Method::Patch => Request::patch(url),
        Method::Delete => Request::delete(url),
    }
    .header("accept", "application/json");
    match (method, browser::cookie(CSRF_COOKIE)) {
        (Method::Get, _) | (_, None) => builder,
        (_, Some(token)) => builder.header(CSRF_HEADER, &token),
    }
}

async fn send(method: Method, url: &str, body: Option<&str>) -> Result<Response, ApiFailure> {
    let builder = builder(method, url);
    let request = match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => builder.build(),
    }
    .map_err(network_failure)?;
    request.send().await.map_err(network_failure)
}

/// Renews the session with the refresh cookie. Concurrent callers share one request.
pub async fn refresh_session() -> bool {
    let ok = browser::refresh_session().await;
    if ok {
        GENERATION.with(|g| g.set(g.get() + 1));
    }
    ok
}

async fn execute(
    method: Method,
    url: &str,
    body: Option<&str>,
    session: Session,
) -> Result<Response, ApiFailure> {
    let generation = GENERATION.with(Cell::get);
    let mut response = send(method, url, body).await?;
    // A dashboard asks for all its charts at once; the server computes a few of one user's at
    // a time and asks the others to come back (429 with Retry-After).
    for _ in 0..5 {
        if response.status() != 429 || method != Method::Get {
            break;
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|seconds| seconds.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .clamp(1, 10);
        browser::sleep(wait * 1000).await;
        response = send(method, url, body).await?;
    }
    if response.status() != 401 || session == Session::Public {
        return Ok(response);
    }
    // Another call may have renewed the session while this one was in flight.
    let renewed = GENERATION.with(Cell::get) != generation || refresh_session().await;
    if renewed {
        let retry = send(method, url, body).await?;
        if retry.status() == 401 && session == Session::Required {
            session_expired();
        }
        return Ok(retry);
    }
    if session == Session::Required {
        session_expired();
    }
    Ok(response)
}

async fn failure(response: Response) -> ApiFailure {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => ApiFailure {
            code: body.error,
            message: body.message,
            status,
        },
        Err(_) => ApiFailure {
            code: "http_error".into(),
            message: match status {
                404 => "This is not available on the server (404).".into(),
                502..=504 => format!("The server is unavailable ({status}). Try again shortly."),
                _ => format!("The server answered {status}."),
            },
            status,
        },
    }
}

/// The one non-generic request path: every typed call shares this code and only adds its own
/// JSON decoding (keeps the wasm small).
async fn call_text(
    method: Method,
    url: String,
    body: Option<String>,
    session: Session,
) -> Result<String, ApiFailure> {
    let response = execute(method, &url, body.as_deref(), session).await?;
    if !response.ok() {
        return Err(failure(response).await);
    }
    let status = response.status();
    if status == 204 {
        return Ok(String::new());
    }
    response.text().await.map_err(|error| ApiFailure {
        code: "unreadable_response".into(),
        message: format!("The server's answer could not be read: {error}"),
        status,
    })
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiFailure> {
    serde_json::from_str(text).map_err(|error| ApiFailure {
        code: "unreadable_response".into(),
        message: format!("The server's answer could not be read: {error}"),
        status: 200,
    })
}

/// A call whose answer is JSON.
pub fn call<T: DeserializeOwned>(
    method: Method,
    url: String,
    body: Option<String>,
    session: Session,
) -> impl Future<Output = Result<T, ApiFailure>> {
    let text = call_text(method, url, body, session);
    async move { decode(&text.await?) }
}

/// A call whose answer has no body (204).
pub fn call_empty(
    method: Method,
    url: String,
    body: Option<String>,
    session: Session,
) -> impl Future<Output = Result<(), ApiFailure>> {
    let text = call_text(method, url, body, session);
    async move { text.await.map(|_| ()) }
}

/// A request body as JSON.
pub fn json<B: Serialize>(body: &B) -> Option<String> {
    serde_json::to_string(body).ok()
}

pub fn get<T: DeserializeOwned>(
    url: impl Into<String>,
) -> impl Future<Output = Result<T, ApiFailure>> {
    call(Method::Get, url.into(), None, Session::Required)
}

pub fn post<B: Serialize, T: DeserializeOwned>(
    url: impl Into<String>,
    body: &B,
) -> impl Future<Output = Result<T, ApiFailure>> {
    call(Method::Post, url.into(), json(body), Session::Required)
}

pub fn put<B: Serialize, T: DeserializeOwned>(
    url: impl Into<String>,
    body: &B,
) -> impl Future<Output = Result<T, ApiFailure>> {
    call(Method::Put, url.into(), json(body), Session::Required)
}

pub fn patch<B: Serialize, T: DeserializeOwned>(
    url: impl Into<String>,
    body: &B,
) -> impl Future<Output = Result<T, ApiFailure>> {
    call(Method::Patch, url.into(), json(body), Session::Required)
}

pub fn delete(url: impl Into<String>) -> impl Future<Output = Result<(), ApiFailure>> {
    call_empty(Method::Delete, url.into(), None, Session::Required)
}

/// A path segment from user data (`/api/v1/sources/{slug}`).
pub fn segment(text: &str) -> String {
    frontend_logic::url::encode_component(text)
}
