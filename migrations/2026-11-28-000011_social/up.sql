-- Social publishing: connected platform accounts (tokens sealed at rest) and posts, published
-- by `social.publish` on worker-social when due.
CREATE TABLE social_accounts (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    platform      TEXT        NOT NULL CHECK (platform IN ('sandbox', 'x', 'mastodon', 'linkedin', 'facebook', 'instagram')),
    handle        TEXT        NOT NULL,
    -- The platform API's base URL (a Mastodon instance; tests point it at a fake server).
    base_url      TEXT        NOT NULL DEFAULT '',
    -- nonce ‖ XChaCha20-Poly1305 ciphertext of the access token, bound to this row's account.
    token         BYTEA       NOT NULL,
    token_hint    TEXT        NOT NULL DEFAULT '',
    status        TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'disconnected')),
    connected_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id)
);
CREATE INDEX social_accounts_account_idx ON social_accounts (account_id);

CREATE TABLE social_posts (
    id                 BIGSERIAL PRIMARY KEY,
    account_id         BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    social_account_id  BIGINT      NOT NULL,
    platform           TEXT        NOT NULL,
    content            TEXT        NOT NULL,
    media              JSONB       NOT NULL DEFAULT '[]',
    target_audience    TEXT        NOT NULL DEFAULT '',
    scheduled_at       TIMESTAMPTZ NOT NULL,
    status             TEXT        NOT NULL DEFAULT 'scheduled'
                       CHECK (status IN ('scheduled', 'queued', 'publishing', 'published', 'failed', 'cancelled')),
    -- Sent to the platform as its idempotency key, set before the call.
    publish_marker     UUID,
    remote_id          TEXT,
    remote_url         TEXT,
    error_code         TEXT,
    error_message      TEXT,
    task_id            UUID,
    published_at       TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (social_account_id, account_id) REFERENCES social_accounts (id, account_id) ON DELETE CASCADE
);
CREATE INDEX social_posts_account_idx ON social_posts (account_id, scheduled_at);
CREATE INDEX social_posts_due_idx ON social_posts (scheduled_at) WHERE status = 'scheduled';
