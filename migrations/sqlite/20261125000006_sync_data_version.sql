-- Bumped with every page stored: computed series are cached under it, so a cached answer is
-- never older than the data, on any replica.
ALTER TABLE sync_jobs ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;
