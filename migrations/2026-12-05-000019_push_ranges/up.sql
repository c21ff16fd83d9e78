-- A Gitea delivery id is not signed, so a captured push replayed under a new one would start
-- another audit. The signed body's repository and commit range identify the push itself.
ALTER TABLE webhook_deliveries ADD COLUMN content_key TEXT;
CREATE UNIQUE INDEX webhook_deliveries_content_key ON webhook_deliveries (endpoint_id, content_key)
    WHERE content_key IS NOT NULL;
