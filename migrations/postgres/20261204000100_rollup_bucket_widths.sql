-- Rollup cells of one width or another: hourly UTC buckets, a quarter as many rows to read as
-- 15-minute ones, serve every time zone offset by whole hours (and its daylight-saving days);
-- quarter-hour buckets are kept, for the same metric, only once a chart asks in a zone offset by
-- a half or a quarter hour. The rollups built so far are dropped: each saved metric's next chart
-- builds its rollup again (from the objects meanwhile).
DROP TABLE rollup_cells;
DROP TABLE rollup_definitions;

CREATE TABLE rollup_definitions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id BIGINT  NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    object_name   TEXT    NOT NULL,
    group_path    TEXT    NOT NULL,
    -- '' when the metric counts records only.
    value_path    TEXT    NOT NULL,
    -- '' for `created`.
    date_path     TEXT    NOT NULL,
    ready         BOOLEAN NOT NULL DEFAULT FALSE,
    -- While building: the cells hold exactly the objects created before this instant (the
    -- build goes forward in short transactions; writes keep what is built exact).
    built_until   BIGINT ,
    created_at    BIGINT  NOT NULL,
    -- The width of the cells' UTC buckets: an hour serves time zones offset by whole hours, a
    -- quarter hour the others.
    bucket_seconds BIGINT NOT NULL,
    UNIQUE (connection_id, object_name, group_path, value_path, date_path, bucket_seconds)
);

-- `grp` is '' for a missing or null group value and '=' followed by the value's text otherwise
-- (a key column cannot be NULL). `stale`: a removed value may have been the cell's smallest or
-- largest, which are read again from the store before the transaction ends.
CREATE TABLE rollup_cells (
    definition_id BIGINT  NOT NULL REFERENCES rollup_definitions (id) ON DELETE CASCADE,
    bucket        BIGINT  NOT NULL,
    grp           TEXT    NOT NULL,
    records       BIGINT  NOT NULL,
    total         DOUBLE PRECISION,
    numeric       BIGINT  NOT NULL,
    non_numeric   BIGINT  NOT NULL,
    smallest      DOUBLE PRECISION,
    largest       DOUBLE PRECISION,
    stale         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (definition_id, bucket, grp)
);
CREATE INDEX rollup_cells_empty ON rollup_cells (definition_id) WHERE records = 0;
CREATE INDEX rollup_cells_stale ON rollup_cells (definition_id) WHERE stale;
