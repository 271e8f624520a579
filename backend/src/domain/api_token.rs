use super::{Role, UserId};

pub use allmetrics_common::ApiTokenScope;

/// A personal API token's id. Typed so that no other id can be passed where it is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiTokenId(pub i64);
crate::db::row::transparent_type!(ApiTokenId(i64));

/// A personal API token as stored: its hash, never the token. Times are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub scope: ApiTokenScope,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A token found by its hash, with what authentication needs of its owner.
#[derive(Debug, Clone)]
pub struct ApiTokenOwner {
    pub token: ApiToken,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    pub name: String,
    pub scope: ApiTokenScope,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl ApiToken {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn to_response(&self) -> allmetrics_common::ApiTokenResponse {
        let time = |seconds: i64| {
            chrono::DateTime::from_timestamp(seconds, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        allmetrics_common::ApiTokenResponse {
            id: self.id.0,
            user_id: self.user_id.0,
            name: self.name.clone(),
            scope: self.scope,
            prefix: self.prefix.clone(),
            created_at: time(self.created_at),
            expires_at: self.expires_at.map(time),
            last_used_at: self.last_used_at.map(time),
        }
    }
}
