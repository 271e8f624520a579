-- PostgreSQL moves the objects' revisions into its time index (its planner, before the first
-- ANALYZE, preferred the smaller revisions index for "the newest objects"). SQLite's planner
-- reads the time index for them whatever its statistics: its indexes stay as they are.
SELECT 1;
