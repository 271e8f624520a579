-- Facebook Ads offers insights at a level or with a breakdown, not objects: one object each.
DELETE FROM routing_sources
WHERE object_name = 'Insights'
  AND data_source_id = (SELECT id FROM data_sources WHERE slug = 'facebook');

-- The demo of Facebook Ads, served by the built-in sandbox.
INSERT INTO data_sources (slug, name, provider, enabled, created_at)
SELECT 'demo-ads', 'Demo Ads (sandbox)', 'demo-ads', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE NOT EXISTS (SELECT 1 FROM data_sources WHERE slug = 'demo-ads');

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads', 'Ads (daily)', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'campaigns', 'Campaigns (daily)', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'account', 'Account totals (daily)', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'age_gender', 'By age and gender', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By publisher platform', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads_country', 'Ads by country', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads', 'Ads (daily)', 1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'campaigns', 'Campaigns (daily)', 1, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'account', 'Account totals (daily)', 1, 2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', 1, 3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'age_gender', 'By age and gender', 1, 4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By publisher platform', 1, 5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads_country', 'Ads by country', 1, 6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
