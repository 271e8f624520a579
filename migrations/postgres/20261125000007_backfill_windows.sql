-- An object's backfill is cut into windows of `created` time, each walked newest first by its own
-- cursor, so that one large object is read by several requests at once (up to the connection's
-- rate). A window holds the objects created in [created_gte, created_lt) (created_gte NULL:
-- unbounded below); `cursor` is the last object stored from it and `cursor_created` that
-- object's `created`. A window is deleted in the transaction that stores its last page: the
-- backfill is done when none is left. Windows split while they are walked, when the connection
-- has requests to spare.
CREATE TABLE sync_windows (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id         BIGINT NOT NULL REFERENCES sync_jobs (id) ON DELETE CASCADE,
    created_gte    BIGINT,
    created_lt     BIGINT NOT NULL,
    cursor         TEXT,
    cursor_created BIGINT
);
CREATE INDEX sync_windows_by_job ON sync_windows (job_id);

-- A backfill in progress continues as one window, from its cursor.
INSERT INTO sync_windows (job_id, created_gte, created_lt, cursor, cursor_created)
SELECT id, NULL, backfill_before, backfill_cursor, oldest_created
FROM sync_jobs WHERE NOT backfill_done AND backfill_before IS NOT NULL;

-- While the backfill runs, everything created at or after `covered_from` is stored: what is left
-- of every window lies below it. A chart whose window starts earlier is partial.
ALTER TABLE sync_jobs ADD COLUMN covered_from BIGINT;
UPDATE sync_jobs SET covered_from = oldest_created + 1
WHERE NOT backfill_done AND oldest_created IS NOT NULL;
ALTER TABLE sync_jobs DROP COLUMN backfill_cursor;
ALTER TABLE sync_jobs DROP COLUMN oldest_created;
