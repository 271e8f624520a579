-- A metric is a count or sum of stored objects (`objects`, the seed's metrics) or a subscription
-- metric computed from the subscriptions' histories (`mrr`, `mrr_movements`, ...), whose
-- object_name and operator are empty.
ALTER TABLE metrics ADD COLUMN kind TEXT NOT NULL DEFAULT 'objects';
