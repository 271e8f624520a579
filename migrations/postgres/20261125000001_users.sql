-- Accounts. Emails are unique case-insensitively through email_normalized (trimmed, lowercased).
CREATE TABLE users (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email            TEXT        NOT NULL,
    email_normalized TEXT        NOT NULL UNIQUE,
    password_hash    TEXT        NOT NULL,
    role             TEXT        NOT NULL CHECK (role IN ('admin', 'user')),
    created_at       TIMESTAMPTZ NOT NULL
);
