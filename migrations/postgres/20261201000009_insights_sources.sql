-- Facebook Ads offers insights at a level or with a breakdown, not objects: one object each.
DELETE FROM routing_sources
WHERE object_name = 'Insights'
  AND data_source_id = (SELECT id FROM data_sources WHERE slug = 'facebook');

-- The demo of Facebook Ads, served by the built-in sandbox.
INSERT INTO data_sources (slug, name, provider, enabled, created_at)
SELECT 'demo-ads', 'Demo Ads (sandbox)', 'demo-ads', TRUE, now()
WHERE NOT EXISTS (SELECT 1 FROM data_sources WHERE slug = 'demo-ads');

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads', 'Ads (daily)', TRUE, 0, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'campaigns', 'Campaigns (daily)', TRUE, 1, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'account', 'Account totals (daily)', TRUE, 2, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', TRUE, 3, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'age_gender', 'By age and gender', TRUE, 4, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By publisher platform', TRUE, 5, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads_country', 'Ads by country', TRUE, 6, now() FROM data_sources WHERE slug = 'facebook'
ON CONFLICT (data_source_id, object_name) DO NOTHING;

INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads', 'Ads (daily)', TRUE, 0, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'campaigns', 'Campaigns (daily)', TRUE, 1, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'account', 'Account totals (daily)', TRUE, 2, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'country', 'By country', TRUE, 3, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'age_gender', 'By age and gender', TRUE, 4, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'platform', 'By publisher platform', TRUE, 5, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
INSERT INTO routing_sources (data_source_id, object_name, label, enabled, position, created_at)
SELECT id, 'ads_country', 'Ads by country', TRUE, 6, now() FROM data_sources WHERE slug = 'demo-ads'
ON CONFLICT (data_source_id, object_name) DO NOTHING;
