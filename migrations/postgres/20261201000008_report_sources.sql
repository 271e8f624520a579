-- Report sources (Google Analytics 4): a connection reads one account chosen among those its
-- grant can read (a GA4 property); the choice, with what reading it needs (its time zone, currency
-- and creation time), is kept on the connection and survives reconnects.
ALTER TABLE connections ADD COLUMN account JSONB;

-- Google Analytics offers reports, not objects: one per grouping, `date` first.
DELETE FROM routing_sources
WHERE object_name = 'Report'
  AND data_source_id = (SELECT id FROM data_sources WHERE slug = 'google');

-- The demo of Google Analytics, served by the built-in sandbox.
INSERT INTO data_sources (slug, name, provider, enabled, created_at)
SELECT 'demo-analytics', 'Demo Analytics (sandbox)', 'demo-analytics', TRUE, now()
WHERE NOT EXISTS (SELECT 1 FROM data_sources WHERE slug = 'demo-analytics');

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'daily', 'Daily totals', TRUE, 0, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'device', 'By device category', TRUE, 1, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', TRUE, 2, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'channel', 'By default channel group', TRUE, 3, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'source', 'By session source', TRUE, 4, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'page', 'By page path', TRUE, 5, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By device, operating system and browser', TRUE, 6, now() FROM data_sources WHERE slug = 'google'
ON CONFLICT (data_source_id, object_name) DO NOTHING;

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'daily', 'Daily totals', TRUE, 0, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'device', 'By device category', TRUE, 1, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', TRUE, 2, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'channel', 'By default channel group', TRUE, 3, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'source', 'By session source', TRUE, 4, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'page', 'By page path', TRUE, 5, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By device, operating system and browser', TRUE, 6, now() FROM data_sources WHERE slug = 'demo-analytics'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
