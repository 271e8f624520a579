-- A stored object's revision grows by one every time its data is written again: whoever keeps
-- what it computed from the objects (the subscriptions' histories) reads the ids and revisions
-- alone, from this index, and reads again only the objects whose revision moved.
ALTER TABLE synced_objects ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
CREATE INDEX synced_objects_revisions ON synced_objects (connection_id, object_name) INCLUDE (object_id, revision);
