use serde::{Deserialize, Serialize};

/// The body of every error answer: a stable snake_case code for programs, a sentence for people,
/// and the request id to quote when reporting a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "error": "unknown_source",
    "message": "There is no data source `stripe`.",
    "request_id": "6f1c2a9e-3b7d-4e0a-9a51-2f5d8c7e4b10"
})))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_json`.
    #[cfg_attr(feature = "openapi", schema(example = "not_found"))]
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
    /// The id of the request, also sent in the `x-request-id` header.
    pub request_id: String,
}
