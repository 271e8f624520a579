//! The caller's personal API tokens. Only a signed-in session manages them: no token can make,
//! list or revoke tokens.

pub mod create;
pub mod delete;
pub mod list;

use crate::error::ApiError;

pub fn token_not_found(id: i64) -> ApiError {
    ApiError::not_found("token_not_found", format!("There is no API token {id}."))
}
