use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's id. Typed so that a metric id can never be passed where a user id is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);
crate::db::row::transparent_type!(UserId(i64));

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

pub use allmetrics_common::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn to_response(&self) -> allmetrics_common::UserResponse {
        allmetrics_common::UserResponse {
            id: self.id.0,
            email: self.email.clone(),
            role: self.role,
            created_at: self.created_at.to_rfc3339(),
        }
    }
}

/// A user with the password hash, only for checking a login.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// What creating a user needs. `role: None` means "admin if this is the first user, else user".
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Option<Role>,
}

/// The form under which emails are compared: `Ann@Example.com` and `ann@example.com ` are one user.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
