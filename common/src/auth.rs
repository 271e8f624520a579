use serde::{Deserialize, Serialize};

/// What a user may do. The first user to register is `admin` in `local`; in `production` the
/// first admin comes from the setup token or the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    /// Unknown stored values are read as the least privileged role.
    pub fn from_stored(value: &str) -> Self {
        match value {
            "admin" => Role::Admin,
            _ => Role::User,
        }
    }
}

/// `POST /api/v1/auth/register` and `POST /api/v1/auth/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    #[cfg_attr(feature = "openapi", schema(example = "ann@example.com"))]
    pub email: String,
    #[cfg_attr(
        feature = "openapi",
        schema(format = Password, example = "correct horse battery staple")
    )]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `POST /api/v1/auth/register`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    #[cfg_attr(feature = "openapi", schema(example = "bob@example.com"))]
    pub email: String,
    /// 10 to 1,024 characters, and not one of the 1,000 most common passwords.
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = Password,
            min_length = 10,
            max_length = 1024,
            example = "correct horse battery staple"
        )
    )]
    pub password: String,
    /// The one-time token a production server prints at its first start, while it has no
    /// administrator: the account made with it is `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_token: Option<String>,
}

impl std::fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field(
                "setup_token",
                &self.setup_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// `POST /api/v1/admin/users`: an admin creates an account (also when registration is closed).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    #[cfg_attr(feature = "openapi", schema(example = "cleo@example.com"))]
    pub email: String,
    /// 10 to 1,024 characters, and not one of the 1,000 most common passwords.
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = Password,
            min_length = 10,
            max_length = 1024,
            example = "correct horse battery staple"
        )
    )]
    pub password: String,
    /// Default `user`.
    #[serde(default)]
    pub role: Option<Role>,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("role", &self.role)
            .finish()
    }
}

/// `POST /api/v1/auth/refresh`. Browsers may send an empty body instead: the refresh cookie is
/// used then (with the CSRF header).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { refresh_token: [redacted] }")
    }
}

/// A signed-in session: a short-lived bearer token and the single-use token that renews it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: every refresh returns a new one. Reusing an old one ends the session.
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A user as the API shows it: `POST /api/v1/auth/register`, `GET /api/v1/me`, admin listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// RFC 3339.
    pub created_at: String,
}
