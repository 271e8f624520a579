-- Refresh tokens, stored as SHA-256 hashes. A login starts a family; every refresh marks the
-- presented token used and adds the next one to the family. Presenting a used token again means it
-- was stolen: the whole family is revoked. Times compared in SQL are unix seconds.
CREATE TABLE refresh_tokens (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT        NOT NULL,
    token_hash TEXT        NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at BIGINT      NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
