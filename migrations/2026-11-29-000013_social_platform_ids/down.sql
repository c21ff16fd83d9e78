ALTER TABLE social_posts DROP COLUMN publish_started_at;
ALTER TABLE social_accounts DROP COLUMN platform_user_id;
