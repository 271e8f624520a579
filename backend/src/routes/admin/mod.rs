pub mod create_user;
pub mod fx_rates;
pub mod list_users;
pub mod objects;
pub mod sources;
pub mod tokens;

use allmetrics_common::ObjectResponse;

use crate::domain::RoutingSource;
use crate::error::ApiError;

pub fn object_response(object: RoutingSource) -> ObjectResponse {
    ObjectResponse {
        name: object.object_name,
        label: object.label,
        enabled: object.enabled,
    }
}

/// 400 `invalid_name` unless the display name is 1..=100 characters once trimmed.
pub fn validate_display_name(name: &str, what: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            format!("The {what} must have 1 to 100 characters."),
        ));
    }
    Ok(name.to_string())
}
