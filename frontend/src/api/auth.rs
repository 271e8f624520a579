//! `/api/v1/auth/*` and `/api/v1/me`.

use std::future::Future;

use allmetrics_common::{Credentials, RegisterRequest, TokenResponse, UserResponse};

use super::client::{call, call_empty, json, ApiFailure, Method, Session};

/// `POST /api/v1/auth/register` -> 201.
pub fn register(
    request: &RegisterRequest,
) -> impl Future<Output = Result<UserResponse, ApiFailure>> {
    call(
        Method::Post,
        "/api/v1/auth/register".into(),
        json(request),
        Session::Public,
    )
}

/// `POST /api/v1/auth/login`: sets the session cookies. The tokens in the answer are not kept.
pub fn login(credentials: &Credentials) -> impl Future<Output = Result<TokenResponse, ApiFailure>> {
    call(
        Method::Post,
        "/api/v1/auth/login".into(),
        json(credentials),
        Session::Public,
    )
}

/// `POST /api/v1/auth/logout` -> 204.
pub fn logout() -> impl Future<Output = Result<(), ApiFailure>> {
    call_empty(
        Method::Post,
        "/api/v1/auth/logout".into(),
        None,
        Session::Probe,
    )
}

/// `GET /api/v1/me`, renewing the session if needed, without sending anyone to sign in.
pub fn me() -> impl Future<Output = Result<UserResponse, ApiFailure>> {
    call(Method::Get, "/api/v1/me".into(), None, Session::Probe)
}
