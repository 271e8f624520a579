-- Metrics are saved queries (the seed's metrics page); dashboards order them. Both belong to one
-- user. Every user has one home dashboard (the partial unique index keeps it one).
CREATE TABLE metrics (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    object_name TEXT NOT NULL,
    operator    TEXT NOT NULL,
    field_name  TEXT NOT NULL,
    value_field TEXT,
    date_field  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX metrics_by_user ON metrics (user_id);

CREATE TABLE dashboards (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    default_total_days INTEGER NOT NULL DEFAULT 30,
    is_home            INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL
);
CREATE INDEX dashboards_by_user ON dashboards (user_id);
CREATE UNIQUE INDEX dashboards_one_home ON dashboards (user_id) WHERE is_home;

CREATE TABLE dashboard_metrics (
    dashboard_id INTEGER NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    metric_id    INTEGER NOT NULL REFERENCES metrics (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (dashboard_id, metric_id)
);
