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
    /// Set when the backfill has stored every window (the windows are deleted as they finish).
    pub backfill_done: bool,
    /// While the backfill runs, everything created at or after this is stored: a chart whose
    /// window starts earlier is partial.
    pub covered_from: Option<i64>,
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
    /// Where the object's change feed was read to.
    pub feed: FeedPosition,
    /// The provider's time when the last full re-read started.
    pub full_read_at: Option<i64>,
    /// How the last complete run read, and with how many requests.
    pub last_read: Option<RunRead>,
}

/// Where an object's change feed was read to: the newest change applied, and when (provider
/// time) the feed was last read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedPosition {
    pub created: Option<i64>,
    pub event_id: Option<String>,
    pub checked_at: Option<i64>,
}

/// How a run read an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// The first full read.
    Backfill,
    /// The provider's change feed.
    Events,
    /// Only changes pushed by webhooks.
    Webhook,
    /// Everything again: the feed's position was older than the provider keeps changes, or the
    /// feed cannot be read (at most once a day then).
    FullReread,
    /// The objects created in a recent window (objects without a change feed).
    RecentWindow,
}

impl ReadMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadMode::Backfill => "backfill",
            ReadMode::Events => "events",
            ReadMode::Webhook => "webhook",
            ReadMode::FullReread => "full_reread",
            ReadMode::RecentWindow => "recent_window",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        [
            ReadMode::Backfill,
            ReadMode::Events,
            ReadMode::Webhook,
            ReadMode::FullReread,
            ReadMode::RecentWindow,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == value)
    }
}

/// How a complete run read, for the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRead {
    pub mode: ReadMode,
    /// Requests made to the provider, retries included.
    pub requests: i64,
    /// What the user should know (why a full re-read ran, why the feed is not used).
    pub note: Option<String>,
}

/// What a completed run records besides its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    pub read: RunRead,
    pub feed: FeedPosition,
    pub full_read_at: Option<i64>,
}

/// A change to apply to one stored object, on the provider's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectChange {
    pub object_id: String,
    /// When the change happened: a stored object changed later is left alone.
    pub at: i64,
    /// The provider's id of the change (`None`: the object was read again).
    pub change_id: Option<String>,
    /// The object after the change (for a deletion, its last state when known).
    pub object: Option<StoredObject>,
    pub deleted: bool,
}

impl SyncJob {
    /// Whether everything created at or after `from` is stored.
    pub fn has_stored_from(&self, from: i64) -> bool {
        self.backfill_done || self.covered_from.is_some_and(|covered| covered <= from)
    }
}

/// An object as stored: its id, its `created` time, the provider's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub object_id: String,
    pub created: i64,
    pub data: serde_json::Value,
}

/// A stored object with its revision: a number that grows every time its data is written
/// again, so that a reader who kept what it built from it knows when to read it again. Its data
/// is the stored JSON text (checked, not parsed): a reader of tens of thousands parses them on
/// every core, off the request threads.
#[derive(Debug, Clone)]
pub struct RevisedObject {
    pub object_id: String,
    pub revision: i64,
    pub data: Box<serde_json::value::RawValue>,
}

impl RevisedObject {
    /// The data as a JSON value.
    pub fn value(&self) -> serde_json::Value {
        // The text was checked as JSON when it was read.
        serde_json::from_str(self.data.get()).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BackfillWindowId(pub i64);

/// A slice of an object's backfill: the objects created in `[created_gte, created_lt)`, listed
/// newest first and walked by a cursor of its own, so that several slices of one object are
/// read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillWindow {
    pub id: BackfillWindowId,
    /// `None`: unbounded below.
    pub created_gte: Option<i64>,
    pub created_lt: i64,
    /// The last object stored from this window: the walk resumes after it.
    pub cursor: Option<String>,
    /// That object's `created`: what is left of the window was created at or before it.
    pub cursor_created: Option<i64>,
}

/// What a page moves, stored in the same transaction as the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCheckpoint {
    /// A page of an incremental sync: no checkpoint moves.
    Incremental,
    /// A page of a backfill window.
    Window {
        /// The window after this page: its cursor, and its lower bound if a part was split off.
        window: BackfillWindow,
        /// The window has no more pages: it is deleted.
        done: bool,
        /// The older part `[created_gte, created_lt)` given to a new window of its own.
        split_off: Option<(Option<i64>, i64)>,
    },
}

/// What storing a page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredPage {
    /// How many of the page's objects were new.
    pub new_objects: u64,
    /// The window created for the split-off part.
    pub split_off: Option<BackfillWindowId>,
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
    /// Set when the run completed.
    pub progress: Option<RunProgress>,
}
