-- Objects deleted at the provider stay as tombstones: `deleted_at` is when (the provider's time);
-- charts leave them out from then on, histories can still be computed. `changed_at` is the time
-- of the newest change applied to the object (the provider's event time): an older change that
-- arrives later (a late webhook, a replayed page of events) never takes the object back.
-- `change_id` is that change's id: the same change read again (delivered by a webhook, then
-- listed by the feed) is recognised and costs nothing.
ALTER TABLE synced_objects ADD COLUMN deleted_at BIGINT;
ALTER TABLE synced_objects ADD COLUMN changed_at BIGINT;
ALTER TABLE synced_objects ADD COLUMN change_id TEXT;

-- Where each object's change feed was read to: the newest change applied (its time and id) and
-- when, on the provider's clock, the feed was last read to its end. A position older than the
-- provider keeps its changes means the object is re-read in full.
ALTER TABLE sync_jobs ADD COLUMN feed_created BIGINT;
ALTER TABLE sync_jobs ADD COLUMN feed_event_id TEXT;
ALTER TABLE sync_jobs ADD COLUMN feed_checked_at BIGINT;
-- The provider's time when the last full re-read started (at most one a day when the feed
-- cannot be read at all).
ALTER TABLE sync_jobs ADD COLUMN full_read_at BIGINT;
-- How the last run read (backfill, events, webhook, full re-read, recent window), how many
-- requests it made, and what the user should know about it.
ALTER TABLE sync_jobs ADD COLUMN read_mode TEXT;
ALTER TABLE sync_jobs ADD COLUMN run_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_jobs ADD COLUMN read_note TEXT;

-- The webhook endpoint of a connection: the unguessable id in its URL, the signing secret the
-- provider made (encrypted like tokens), and the provider's id of the endpoint when allmetrics
-- created it.
CREATE TABLE connection_webhooks (
    connection_id        BIGINT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    webhook_id           TEXT   NOT NULL UNIQUE,
    secret_enc           TEXT,
    provider_endpoint_id TEXT,
    created_at           BIGINT NOT NULL
);

-- Changes pushed by webhooks, kept until the object's sync job applies them (within seconds):
-- the answer to the provider never waits for the work. One row per event: a delivery repeated
-- stores nothing new.
CREATE TABLE webhook_inbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id BIGINT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    object_name   TEXT   NOT NULL,
    event_id      TEXT   NOT NULL,
    created       BIGINT NOT NULL,
    payload       JSONB  NOT NULL,
    received_at   BIGINT NOT NULL,
    UNIQUE (connection_id, event_id)
);
CREATE INDEX webhook_inbox_by_object ON webhook_inbox (connection_id, object_name, id);
