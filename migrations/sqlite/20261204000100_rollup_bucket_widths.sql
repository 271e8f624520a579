-- Rollup cells of one width or another: hourly UTC buckets, a quarter as many rows to read as
-- 15-minute ones, serve every time zone offset by whole hours (and its daylight-saving days);
-- quarter-hour buckets are kept, for the same metric, only once a chart asks in a zone offset by
-- a half or a quarter hour. The rollups built so far are dropped: each saved metric's next chart
-- builds its rollup again (from the objects meanwhile).
DROP TABLE rollup_cells;
DROP TABLE rollup_definitions;

CREATE TABLE rollup_definitions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    object_name   TEXT    NOT NULL,
    group_path    TEXT    NOT NULL,
    -- '' when the metric counts records only.
    value_path    TEXT    NOT NULL,
    -- '' for `created`.
    date_path     TEXT    NOT NULL,
    ready         INTEGER NOT NULL DEFAULT 0,
    -- While building: the cells hold exactly the objects created before this instant (the
    -- build goes forward in short transactions; writes keep what is built exact).
    built_until   INTEGER,
    created_at    INTEGER NOT NULL,
    -- The width of the cells' UTC buckets: an hour serves time zones offset by whole hours, a
    -- quarter hour the others.
    bucket_seconds INTEGER NOT NULL,
    UNIQUE (connection_id, object_name, group_path, value_path, date_path, bucket_seconds)
);

-- `grp` is '' for a missing or null group value and '=' followed by the value's text otherwise
-- (a key column cannot be NULL). `stale`: a removed value may have been the cell's smallest or
-- largest, which are read again from the store before the transaction ends.
CREATE TABLE rollup_cells (
    definition_id INTEGER NOT NULL REFERENCES rollup_definitions (id) ON DELETE CASCADE,
    bucket        INTEGER NOT NULL,
    grp           TEXT    NOT NULL,
    records       INTEGER NOT NULL,
    total         REAL,
    numeric       INTEGER NOT NULL,
    non_numeric   INTEGER NOT NULL,
    smallest      REAL,
    largest       REAL,
    stale         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (definition_id, bucket, grp)
) WITHOUT ROWID;
CREATE INDEX rollup_cells_empty ON rollup_cells (definition_id) WHERE records = 0;
CREATE INDEX rollup_cells_stale ON rollup_cells (definition_id) WHERE stale = 1;
