//! `/api/v1/tokens*`: the user's personal API tokens.

use std::future::Future;

use allmetrics_common::{ApiTokenResponse, CreateApiTokenRequest, CreatedApiTokenResponse};

use super::client::{delete, get, post, ApiFailure};

pub fn list_tokens() -> impl Future<Output = Result<Vec<ApiTokenResponse>, ApiFailure>> {
    get("/api/v1/tokens")
}

pub fn create_token(
    request: &CreateApiTokenRequest,
) -> impl Future<Output = Result<CreatedApiTokenResponse, ApiFailure>> {
    post("/api/v1/tokens", request)
}

pub fn delete_token(id: i64) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!("/api/v1/tokens/{id}"))
}
