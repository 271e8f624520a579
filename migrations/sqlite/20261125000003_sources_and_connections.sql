-- Data sources (the seed's DataSource), the objects each offers (RoutingSource), the users'
-- connections to them (UserAuthSources), and the pending OAuth authorizations.

CREATE TABLE data_sources (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    -- The provider implementation (registry key): stripe, google, facebook, demo, oauth2.
    provider   TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT    NOT NULL
);

CREATE TABLE routing_sources (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    data_source_id INTEGER NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    object_name    TEXT    NOT NULL,
    label          TEXT    NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    position       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    UNIQUE (data_source_id, object_name)
);

-- One per user and data source, updated in place on reconnect. Tokens are AES-256-GCM
-- ciphertexts (see crypto.rs); token_response is the provider's answer without its secrets.
CREATE TABLE connections (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data_source_id    INTEGER NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    auth_kind         TEXT    NOT NULL CHECK (auth_kind IN ('oauth', 'api_key')),
    account_id        TEXT,
    access_token_enc  TEXT    NOT NULL,
    refresh_token_enc TEXT,
    expires_at        INTEGER,
    scopes            TEXT    NOT NULL DEFAULT '',
    token_response    TEXT    NOT NULL DEFAULT '{}',
    status            TEXT    NOT NULL CHECK (status IN ('active', 'needs_reconnect')),
    -- While set in the future, one replica is refreshing the token: the others wait for it
    -- (a rotating refresh token used twice would be refused).
    refresh_lease_until INTEGER,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (user_id, data_source_id)
);
CREATE INDEX connections_expiry ON connections (expires_at) WHERE expires_at IS NOT NULL;

-- A pending authorization: the state is stored hashed, single use (deleted when presented),
-- bound to the user and the data source, with the PKCE verifier (encrypted).
CREATE TABLE oauth_states (
    state_hash       TEXT    PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug             TEXT    NOT NULL,
    pkce_verifier_enc TEXT,
    redirect_uri     TEXT    NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

INSERT INTO data_sources (slug, name, provider, enabled, created_at) VALUES
    ('stripe', 'Stripe', 'stripe', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('google', 'Google Analytics', 'google', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('facebook', 'Facebook Ads', 'facebook', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('demo', 'Demo (sandbox)', 'demo', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Customer', 'Customers', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Charge', 'Charges', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Invoice', 'Invoices', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Subscription', 'Subscriptions', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'PaymentIntent', 'Payment intents', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Refund', 'Refunds', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'BalanceTransaction', 'Balance transactions', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Payout', 'Payouts', 1, 7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Dispute', 'Disputes', 1, 8, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Product', 'Products', 1, 9, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'stripe'), 'Price', 'Prices', 1, 10, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Customer', 'Customers', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Charge', 'Charges', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Invoice', 'Invoices', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Subscription', 'Subscriptions', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'PaymentIntent', 'Payment intents', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Refund', 'Refunds', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'BalanceTransaction', 'Balance transactions', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Payout', 'Payouts', 1, 7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Dispute', 'Disputes', 1, 8, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Product', 'Products', 1, 9, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ((SELECT id FROM data_sources WHERE slug = 'demo'), 'Price', 'Prices', 1, 10, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'google'), 'Report', 'Analytics report (daily)', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at) VALUES
    ((SELECT id FROM data_sources WHERE slug = 'facebook'), 'Insights', 'Ads insights (daily)', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
