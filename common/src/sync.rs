use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /api/v1/connections/{slug}/sync`: what the sync has stored so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncStatus {
    /// `backfilling` (history still being read), `idle`, `needs_reconnect`, or `not_synced`.
    pub state: String,
    /// Progress per object name.
    pub objects: BTreeMap<String, ObjectSyncStatus>,
    /// RFC 3339.
    pub last_synced_at: Option<String>,
    /// The first error of any object, in words.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectSyncStatus {
    /// Objects stored.
    pub synced: i64,
    /// Whether the whole history has been read.
    pub done: bool,
    pub last_error: Option<String>,
    pub last_synced_at: Option<String>,
}
