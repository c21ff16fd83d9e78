-- Writer: generated content, its images, the author profiles and strategies that shape it, and
-- the WordPress connection of a site.

CREATE TABLE author_profiles (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    tone        TEXT        NOT NULL DEFAULT 'professional',
    persona     TEXT        NOT NULL DEFAULT '',
    language    TEXT        NOT NULL DEFAULT 'en',
    is_active   BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id)
);
CREATE INDEX author_profiles_account_idx ON author_profiles (account_id);

CREATE TABLE strategies (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT        NOT NULL,
    description     TEXT        NOT NULL DEFAULT '',
    target_audience TEXT        NOT NULL DEFAULT '',
    guidelines      TEXT        NOT NULL DEFAULT '',
    is_active       BOOLEAN     NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id)
);
CREATE INDEX strategies_account_idx ON strategies (account_id);

ALTER TABLE sites
    ADD COLUMN author_profile_id BIGINT,
    ADD COLUMN strategy_id BIGINT,
    ADD COLUMN wp_url TEXT,
    ADD COLUMN wp_username TEXT,
    -- nonce ‖ XChaCha20-Poly1305 ciphertext of the application password, bound to the site.
    ADD COLUMN wp_app_password BYTEA,
    ADD COLUMN wp_app_password_hint TEXT,
    ADD FOREIGN KEY (author_profile_id, account_id) REFERENCES author_profiles (id, account_id)
        ON DELETE SET NULL (author_profile_id),
    ADD FOREIGN KEY (strategy_id, account_id) REFERENCES strategies (id, account_id)
        ON DELETE SET NULL (strategy_id);

CREATE TABLE content (
    id                 BIGSERIAL PRIMARY KEY,
    account_id         BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id            BIGINT      NOT NULL,
    sector_id          BIGINT,
    -- One article per writer task: generating again replaces it.
    writer_task_id     BIGINT      UNIQUE REFERENCES writer_tasks (id) ON DELETE SET NULL,
    title              TEXT        NOT NULL,
    meta_title         TEXT        NOT NULL DEFAULT '' CHECK (char_length(meta_title) <= 60),
    meta_description   TEXT        NOT NULL DEFAULT '' CHECK (char_length(meta_description) <= 160),
    -- Sanitized before it is stored: allow-listed tags, no scripts, no event handlers.
    html_content       TEXT        NOT NULL DEFAULT '',
    word_count         INTEGER     NOT NULL DEFAULT 0,
    primary_keyword    TEXT        NOT NULL DEFAULT '',
    secondary_keywords JSONB       NOT NULL DEFAULT '[]',
    content_type       TEXT        NOT NULL DEFAULT 'post',
    status             TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'review', 'published', 'archived')),
    wp_post_id         BIGINT,
    wp_post_url        TEXT,
    published_at       TIMESTAMPTZ,
    task_id            UUID,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE
);
CREATE INDEX content_account_idx ON content (account_id, created_at DESC);

CREATE TABLE images (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id        BIGINT      NOT NULL,
    sector_id      BIGINT,
    content_id     BIGINT,
    writer_task_id BIGINT      REFERENCES writer_tasks (id) ON DELETE SET NULL,
    image_type     TEXT        NOT NULL DEFAULT 'featured'
                   CHECK (image_type IN ('featured', 'in_article', 'desktop', 'mobile')),
    position       INTEGER     NOT NULL DEFAULT 0,
    prompt         TEXT        NOT NULL DEFAULT '',
    status         TEXT        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'generated', 'failed', 'published')),
    -- Relative to the media directory; the API serves it.
    file_path      TEXT,
    mime_type      TEXT,
    width          INTEGER,
    height         INTEGER,
    wp_media_id    BIGINT,
    task_id        UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE,
    FOREIGN KEY (content_id, account_id) REFERENCES content (id, account_id) ON DELETE CASCADE
);
CREATE INDEX images_account_idx ON images (account_id, created_at DESC);
CREATE INDEX images_content_idx ON images (content_id) WHERE content_id IS NOT NULL;
