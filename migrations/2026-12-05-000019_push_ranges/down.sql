ALTER TABLE webhook_deliveries DROP COLUMN content_key;
