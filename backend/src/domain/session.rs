use super::UserId;

/// A refresh token as stored: only its hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub id: i64,
    pub user_id: UserId,
    /// All tokens descending from one login share a family; reuse revokes the family.
    pub family_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub user_id: UserId,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: i64,
}
