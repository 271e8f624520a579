-- Personal API tokens for scripts and integrations. Only the SHA-256 of a token is kept (it holds
-- 256 random bits: a fast hash is enough, and lets each request find its token by index); the
-- token itself is shown once, when it is made. `prefix` is its first characters, to recognise it
-- in a list. Revoking deletes the row. Times are unix seconds.
CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    scope        TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    token_hash   TEXT   NOT NULL UNIQUE,
    prefix       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
