-- The ids of the objects each write of a job (a stored page, a batch of changes) wrote, under the
-- data version it gave the job: whoever keeps what it computed from the objects at one version
-- (the subscriptions' histories) reads which objects were written since from here, instead of
-- the id and revision of every object. Only a job's last writes are kept.
CREATE TABLE object_writes (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES sync_jobs (id) ON DELETE CASCADE,
    data_version BIGINT NOT NULL,
    object_ids TEXT NOT NULL
);
CREATE INDEX object_writes_by_version ON object_writes (job_id, data_version);
