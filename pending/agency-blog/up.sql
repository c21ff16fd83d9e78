-- The agency's public site (seeds 000/001): the account that publishes one, its blog and news.
-- A visitor's request names the site by slug (`X-Public-Site` or `?public_site=`), or reaches
-- the install's default site (`PUBLIC_SITE`).
CREATE TABLE public_sites (
    account_id BIGINT      PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    slug       TEXT        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,100}$'),
    name       TEXT        NOT NULL,
    -- `contact/location/`: address, phone, email, coordinates, opening hours.
    location   JSONB       NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE blog_categories (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    slug        TEXT        NOT NULL CHECK (slug ~ '^[a-z0-9-]{1,100}$'),
    description TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT blog_categories_slug_once UNIQUE (account_id, slug),
    -- Lets a post's category be checked to be of the post's account by the foreign key.
    CONSTRAINT blog_categories_of_account UNIQUE (account_id, id)
);

-- The text search configuration of a post's language: stemming for the languages Postgres
-- ships, plain words for the others.
CREATE FUNCTION blog_search_config(language TEXT) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE split_part(lower(language), '-', 1)
        WHEN 'en' THEN 'english'::regconfig
        WHEN 'fr' THEN 'french'::regconfig
        WHEN 'de' THEN 'german'::regconfig
        WHEN 'es' THEN 'spanish'::regconfig
        WHEN 'it' THEN 'italian'::regconfig
        WHEN 'pt' THEN 'portuguese'::regconfig
        WHEN 'nl' THEN 'dutch'::regconfig
        ELSE 'simple'::regconfig
    END
$$;

CREATE TABLE blog_posts (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind           TEXT        NOT NULL DEFAULT 'blog' CHECK (kind IN ('blog', 'news')),
    -- A news item's type (announcement, press, event, …); empty for blog posts.
    news_type      TEXT        NOT NULL DEFAULT '',
    title          TEXT        NOT NULL,
    slug           TEXT        NOT NULL CHECK (slug ~ '^[a-z0-9-]{1,120}$'),
    excerpt        TEXT        NOT NULL DEFAULT '',
    -- Sanitized HTML (the writer's allow-list).
    content        TEXT        NOT NULL DEFAULT '',
    author_id      BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    category_id    BIGINT,
    tags           TEXT[]      NOT NULL DEFAULT '{}',
    seo_metadata   JSONB       NOT NULL DEFAULT '{}',
    language       TEXT        NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}(-[A-Za-z0-9]{2,8})?$'),
    status         TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'published')),
    publish_at     TIMESTAMPTZ,
    published_at   TIMESTAMPTZ,
    translation_of BIGINT      REFERENCES blog_posts (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Tags are text in HTML's default parser, so the content's markup is not indexed.
    search         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(blog_search_config(language), title), 'A')
        || setweight(to_tsvector(blog_search_config(language), excerpt), 'B')
        || setweight(to_tsvector(blog_search_config(language), content), 'C')
    ) STORED,
    CONSTRAINT blog_posts_slug_once UNIQUE (account_id, slug),
    CONSTRAINT blog_posts_category_of_account FOREIGN KEY (account_id, category_id)
        REFERENCES blog_categories (account_id, id) ON DELETE SET NULL (category_id),
    CONSTRAINT blog_posts_scheduled_has_time CHECK (status <> 'scheduled' OR publish_at IS NOT NULL),
    CONSTRAINT blog_posts_published_has_time CHECK (status <> 'published' OR published_at IS NOT NULL),
    CONSTRAINT blog_posts_one_translation UNIQUE (translation_of, language)
);
CREATE INDEX blog_posts_public ON blog_posts (account_id, kind, published_at DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX blog_posts_search ON blog_posts USING gin (search);
CREATE INDEX blog_posts_tags ON blog_posts USING gin (tags);
-- The scheduler's look for due posts.
CREATE INDEX blog_posts_due ON blog_posts (publish_at) WHERE status = 'scheduled';
