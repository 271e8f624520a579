-- The one-time token that makes the first administrator of a production server. At most one
-- exists (`id` is always 1), whatever the number of replicas; it is kept as its SHA-256, expires,
-- and is deleted when used.
CREATE TABLE setup_token (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    token_hash TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
