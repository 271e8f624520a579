-- Report sources (Google Analytics 4): a connection reads one account chosen among those its
-- grant can read (a GA4 property); the choice, with what reading it needs (its time zone, currency
-- and creation time), is kept on the connection and survives reconnects.
ALTER TABLE connections ADD COLUMN account TEXT;

-- Google Analytics offers reports, not objects: one per grouping, `date` first.
DELETE FROM routing_sources
WHERE object_name = 'Report'
  AND data_source_id = (SELECT id FROM data_sources WHERE slug = 'google');

-- The demo of Google Analytics, served by the built-in sandbox.
INSERT INTO data_sources (slug, name, provider, enabled, created_at)
SELECT 'demo-analytics', 'Demo Analytics (sandbox)', 'demo-analytics', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE NOT EXISTS (SELECT 1 FROM data_sources WHERE slug = 'demo-analytics');

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'daily', 'Daily totals', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'device', 'By device category', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'channel', 'By default channel group', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'source', 'By session source', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'page', 'By page path', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By device, operating system and browser', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'daily', 'Daily totals', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'device', 'By device category', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'channel', 'By default channel group', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'source', 'By session source', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'page', 'By page path', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By device, operating system and browser', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
