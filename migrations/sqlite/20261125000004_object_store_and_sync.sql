-- The local object store: every object synced from a provider, one row per (connection, object
-- name, object id), upserted so re-reading never duplicates. `created` (unix seconds) is indexed
-- with the connection and the object for range queries by time.
CREATE TABLE synced_objects (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    object_name   TEXT    NOT NULL,
    object_id     TEXT    NOT NULL,
    created       INTEGER NOT NULL,
    data          TEXT    NOT NULL,
    synced_at     INTEGER NOT NULL,
    PRIMARY KEY (connection_id, object_name, object_id)
);
CREATE INDEX synced_objects_by_time ON synced_objects (connection_id, object_name, created);

-- One sync job per connection and object: the backfill's checkpoint (the last object stored, in
-- a listing bounded above by backfill_before so that new objects do not shift its pages), the
-- schedule of incremental syncs, progress for the status endpoint, and the lease that lets only
-- one replica run it at a time.
CREATE TABLE sync_jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id    INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    object_name      TEXT    NOT NULL,
    backfill_before  INTEGER,
    backfill_cursor  TEXT,
    backfill_done    INTEGER NOT NULL DEFAULT 0,
    oldest_created   INTEGER,
    objects_synced   INTEGER NOT NULL DEFAULT 0,
    incremental_from INTEGER,
    last_synced_at   INTEGER,
    last_error       TEXT,
    failures         INTEGER NOT NULL DEFAULT 0,
    next_run_at      INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER,
    UNIQUE (connection_id, object_name)
);
CREATE INDEX sync_jobs_due ON sync_jobs (next_run_at);
