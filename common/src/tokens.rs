//! Personal API tokens: `GET|POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`, and the admins'
//! `GET /api/v1/admin/tokens`.

use serde::{Deserialize, Serialize};

/// What a token may do: `read` answers only `GET` requests; `write` also creates, changes and
/// deletes (an administrator's `write` token reaches the admin routes). No token manages tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ApiTokenScope {
    Read,
    Write,
}

impl ApiTokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenScope::Read => "read",
            ApiTokenScope::Write => "write",
        }
    }

    /// Unknown stored values are read as the narrower scope.
    pub fn from_stored(value: &str) -> Self {
        match value {
            "write" => ApiTokenScope::Write,
            _ => ApiTokenScope::Read,
        }
    }
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiTokenRequest {
    /// What the token is for, 1 to 100 characters.
    #[cfg_attr(feature = "openapi", schema(example = "nightly export"))]
    pub name: String,
    pub scope: ApiTokenScope,
    /// Days until it stops working, 1 to 3,650; without it, it works until revoked.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650, example = 90))]
    pub expires_in_days: Option<u32>,
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenResponse {
    pub id: i64,
    /// Its owner.
    pub user_id: i64,
    pub name: String,
    pub scope: ApiTokenScope,
    /// The token's first characters, to recognise it.
    #[cfg_attr(feature = "openapi", schema(example = "am_pat_Xk3f"))]
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; null when it does not expire.
    pub expires_at: Option<String>,
    /// RFC 3339, to the minute; null until it is first used.
    pub last_used_at: Option<String>,
}

/// `POST /api/v1/tokens`: the token, shown this once, and what the list will show of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiTokenResponse {
    /// Send it as `Authorization: Bearer <token>`. It cannot be shown again.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "am_pat_Xk3fQ0c1y8b2mLwT9sZpR4nV7hJ6eA5uD2gK1oI3qWE")
    )]
    pub token: String,
    pub api_token: ApiTokenResponse,
}

impl std::fmt::Debug for CreatedApiTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiTokenResponse")
            .field("token", &"[redacted]")
            .field("api_token", &self.api_token)
            .finish()
    }
}
