ALTER TABLE social_posts DROP COLUMN likes, DROP COLUMN shares, DROP COLUMN replies,
    DROP COLUMN impressions, DROP COLUMN insights_at;
