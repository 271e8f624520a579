use super::ConnectionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyncJobId(pub i64);

/// The sync of one object of one connection: its backfill checkpoint, schedule and progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncJob {
    pub id: SyncJobId,
    pub connection_id: ConnectionId,
    pub object_name: String,
    /// The backfill lists objects created before this (unix seconds), fixed when it starts, so
    /// that objects created meanwhile do not shift its pages (incremental syncs pick them up).
    pub backfill_before: Option<i64>,
    /// The last object the backfill stored: it resumes after it.
    pub backfill_cursor: Option<String>,
    pub backfill_done: bool,
    /// The oldest `created` stored: a window starting earlier is partial while the backfill runs.
    pub oldest_created: Option<i64>,
    pub objects_synced: i64,
    /// Incremental syncs re-read from here (unix seconds).
    pub incremental_from: Option<i64>,
    pub last_synced_at: Option<i64>,
    pub last_error: Option<String>,
    /// Consecutive failed runs (backs off the schedule).
    pub failures: i32,
    pub next_run_at: i64,
    /// Changes whenever objects are stored: what a cached series depends on.
    pub data_version: i64,
}

/// An object as stored: its id, its `created` time, the provider's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub object_id: String,
    pub created: i64,
    pub data: serde_json::Value,
}

/// What a page moves the job's checkpoint to, stored in the same transaction as the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageCheckpoint {
    pub backfill_before: Option<i64>,
    pub backfill_cursor: Option<String>,
    pub backfill_done: bool,
}

/// How a run ended, recorded when the job's lease is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub next_run_at: i64,
    pub last_error: Option<String>,
    pub failures: i32,
    /// Set when the run completed: the next incremental sync reads from here.
    pub incremental_from: Option<i64>,
    pub last_synced_at: Option<i64>,
}
