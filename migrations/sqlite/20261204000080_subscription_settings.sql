-- How a connection's subscription metrics are defined where the leading tools differ (when a
-- cancellation churns, which discounts and statuses count, the churn window): a JSON object of
-- the settings that differ from the defaults; NULL, every default.
ALTER TABLE connections ADD COLUMN subscription_settings TEXT;
