DROP INDEX webhook_endpoints_install_default;
ALTER TABLE webhook_endpoints DROP COLUMN is_install_default;
ALTER TABLE social_posts ALTER COLUMN target_audience DROP DEFAULT;
ALTER TABLE social_posts ALTER COLUMN target_audience TYPE TEXT USING
    coalesce(target_audience ->> 'description', '');
ALTER TABLE social_posts ALTER COLUMN target_audience SET DEFAULT '';
DROP TABLE user_profiles;
