-- Data sources (the seed's DataSource), the objects each offers (RoutingSource), the users'
-- connections to them (UserAuthSources), and the pending OAuth authorizations.

CREATE TABLE data_sources (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       TEXT        NOT NULL UNIQUE,
    name       TEXT        NOT NULL,
    -- The provider implementation (registry key): stripe, google, facebook, demo, oauth2.
    provider   TEXT        NOT NULL,
    enabled    BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE routing_sources (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    data_source_id BIGINT      NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    object_name    TEXT        NOT NULL,
    label          TEXT        NOT NULL,
    enabled        BOOLEAN     NOT NULL DEFAULT TRUE,
    position       INTEGER     NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (data_source_id, object_name)
);

-- One per user and data source, updated in place on reconnect. Tokens are AES-256-GCM
-- ciphertexts (see crypto.rs); token_response is the provider's answer without its secrets.
CREATE TABLE connections (
    id                BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data_source_id    BIGINT      NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    auth_kind         TEXT        NOT NULL CHECK (auth_kind IN ('oauth', 'api_key')),
    account_id        TEXT,
    access_token_enc  TEXT        NOT NULL,
    refresh_token_enc TEXT,
    expires_at        BIGINT,
    scopes            TEXT        NOT NULL DEFAULT '',
    token_response    JSONB       NOT NULL DEFAULT '{}',
    status            TEXT        NOT NULL CHECK (status IN ('active', 'needs_reconnect')),
    -- While set in the future, one replica is refreshing the token: the others wait for it
    -- (a rotating refresh token used twice would be refused).
    refresh_lease_until BIGINT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, data_source_id)
);
CREATE INDEX connections_expiry ON connections (expires_at) WHERE expires_at IS NOT NULL;

-- A pending authorization: the state is stored hashed, single use (deleted when presented),
-- bound to the user and the data source, with the PKCE verifier (encrypted).
CREATE TABLE oauth_states (
    state_hash        TEXT   PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug              TEXT   NOT NULL,
    pkce_verifier_enc TEXT,
    redirect_uri      TEXT   NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

INSERT INTO data_sources (slug, name, provider, enabled, created_at) VALUES
    ('stripe', 'Stripe', 'stripe', TRUE, now()),
    ('google', 'Google Analytics', 'google', TRUE, now()),
    ('facebook', 'Facebook Ads', 'facebook', TRUE, now()),
    ('demo', 'Demo (sandbox)', 'demo', TRUE, now());

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Customer', 'Customers', TRUE, 0, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Charge', 'Charges', TRUE, 1, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Invoice', 'Invoices', TRUE, 2, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Subscription', 'Subscriptions', TRUE, 3, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'PaymentIntent', 'Payment intents', TRUE, 4, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Refund', 'Refunds', TRUE, 5, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'BalanceTransaction', 'Balance transactions', TRUE, 6, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Payout', 'Payouts', TRUE, 7, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Dispute', 'Disputes', TRUE, 8, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Product', 'Products', TRUE, 9, now()),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Price', 'Prices', TRUE, 10, now());

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Customer', 'Customers', TRUE, 0, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Charge', 'Charges', TRUE, 1, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Invoice', 'Invoices', TRUE, 2, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Subscription', 'Subscriptions', TRUE, 3, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'PaymentIntent', 'Payment intents', TRUE, 4, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Refund', 'Refunds', TRUE, 5, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'BalanceTransaction', 'Balance transactions', TRUE, 6, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Payout', 'Payouts', TRUE, 7, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Dispute', 'Disputes', TRUE, 8, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Product', 'Products', TRUE, 9, now()),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Price', 'Prices', TRUE, 10, now());

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'google'), 'Report', 'Analytics report (daily)', TRUE, 0, now());

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'facebook'), 'Insights', 'Ads insights (daily)', TRUE, 0, now());
