-- Exchange rates for subscription metrics, and each connection's reporting currency.
--
-- `reporting_currency`: what the connection's subscription metrics are converted to (ISO 4217,
-- lower case); NULL: the account's default currency. `account_currency`: that default as the
-- provider last told it (Stripe's `default_currency`). `fx_rates_day`: the UTC day (YYYY-MM-DD)
-- whose rates a sync last asked the provider for; one run claims the day, so the provider is
-- asked at most once a day per connection.
ALTER TABLE connections ADD COLUMN reporting_currency TEXT;
ALTER TABLE connections ADD COLUMN account_currency TEXT;
ALTER TABLE connections ADD COLUMN fx_rates_day TEXT;

-- Daily rates, as Stripe states them: one unit of `base` buys `rate` units of `currency`, from
-- the start of `day` (UTC) until the next day with a rate. A connection's own rows come from its
-- provider (`connection_id`, deleted with it); the administrators' CSV has `connection_id` NULL
-- and is replaced whole. Ids only grow: the series cache keys on them.
CREATE TABLE fx_rates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id INTEGER REFERENCES connections (id) ON DELETE CASCADE,
    day           TEXT    NOT NULL,
    base          TEXT    NOT NULL CHECK (length(base) = 3),
    currency      TEXT    NOT NULL CHECK (length(currency) = 3 AND currency <> base),
    rate          REAL    NOT NULL CHECK (rate > 0)
);
CREATE UNIQUE INDEX fx_rates_of_connection ON fx_rates (connection_id, currency, day)
    WHERE connection_id IS NOT NULL;
CREATE UNIQUE INDEX fx_rates_of_admins ON fx_rates (currency, day) WHERE connection_id IS NULL;
