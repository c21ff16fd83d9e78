-- The platform's own id of a connected account (a Facebook Page id, an Instagram user id, a
-- LinkedIn author URN, an X user id), and when a post's first publish attempt began: a post
-- found on a platform without idempotency keys is only ours if it was made after that.
ALTER TABLE social_accounts ADD COLUMN platform_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE social_posts ADD COLUMN publish_started_at TIMESTAMPTZ;
