-- What the platforms report about published posts, pulled by `social.pull_insights`.
ALTER TABLE social_posts
    ADD COLUMN likes       INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN shares      INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN replies     INTEGER NOT NULL DEFAULT 0,
    -- Only where the platform counts them (X).
    ADD COLUMN impressions INTEGER,
    ADD COLUMN insights_at TIMESTAMPTZ;
