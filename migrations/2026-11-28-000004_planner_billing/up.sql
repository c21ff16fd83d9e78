-- Planner (keywords, clusters, ideas), the writer-task rows ideas are queued into, the seed
-- keyword library, credits, per-account AI integration settings and prompts.

-- A keyword's sector must be on the keyword's own site: (sector, site) pairs are referenced.
ALTER TABLE sectors ADD CONSTRAINT sectors_id_site_key UNIQUE (id, site_id);

CREATE TABLE industries (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE,
    slug        TEXT        NOT NULL UNIQUE,
    description TEXT        NOT NULL DEFAULT '',
    is_active   BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE seed_keywords (
    id          BIGSERIAL PRIMARY KEY,
    industry_id BIGINT      NOT NULL REFERENCES industries (id) ON DELETE CASCADE,
    keyword     TEXT        NOT NULL,
    volume      INTEGER     NOT NULL DEFAULT 0 CHECK (volume >= 0),
    difficulty  SMALLINT    NOT NULL DEFAULT 0 CHECK (difficulty BETWEEN 0 AND 100),
    intent      TEXT        NOT NULL DEFAULT 'informational'
                CHECK (intent IN ('informational', 'commercial', 'transactional', 'navigational')),
    is_active   BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX seed_keywords_industry_keyword_key ON seed_keywords (industry_id, lower(keyword));

CREATE TABLE clusters (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id        BIGINT      NOT NULL,
    sector_id      BIGINT,
    name           TEXT        NOT NULL,
    description    TEXT        NOT NULL DEFAULT '',
    intent         TEXT        CHECK (intent IN ('informational', 'commercial', 'transactional', 'navigational')),
    status         TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    -- 'auto' clusters belong to auto_cluster runs: a re-run may empty and remove them.
    source         TEXT        NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'auto')),
    keywords_count INTEGER     NOT NULL DEFAULT 0,
    volume         BIGINT      NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX clusters_name_key ON clusters (site_id, coalesce(sector_id, 0), lower(name));
CREATE INDEX clusters_account_idx ON clusters (account_id, created_at DESC);

CREATE TABLE keywords (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id         BIGINT      NOT NULL,
    sector_id       BIGINT,
    seed_keyword_id BIGINT      REFERENCES seed_keywords (id) ON DELETE SET NULL,
    cluster_id      BIGINT,
    keyword         TEXT        NOT NULL,
    volume          INTEGER     NOT NULL DEFAULT 0 CHECK (volume >= 0),
    difficulty      SMALLINT    NOT NULL DEFAULT 0 CHECK (difficulty BETWEEN 0 AND 100),
    intent          TEXT        NOT NULL DEFAULT 'informational'
                    CHECK (intent IN ('informational', 'commercial', 'transactional', 'navigational')),
    status          TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'archived')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE,
    -- A keyword only ever joins a cluster of its own account; deleting the cluster unassigns it.
    FOREIGN KEY (cluster_id, account_id) REFERENCES clusters (id, account_id) ON DELETE SET NULL (cluster_id)
);
CREATE UNIQUE INDEX keywords_site_keyword_key ON keywords (site_id, coalesce(sector_id, 0), lower(keyword));
CREATE INDEX keywords_account_idx ON keywords (account_id, created_at DESC);
CREATE INDEX keywords_cluster_idx ON keywords (cluster_id) WHERE cluster_id IS NOT NULL;

CREATE TABLE content_ideas (
    id                   BIGSERIAL PRIMARY KEY,
    account_id           BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id              BIGINT      NOT NULL,
    sector_id            BIGINT,
    cluster_id           BIGINT,
    idea_title           TEXT        NOT NULL,
    description          TEXT        NOT NULL DEFAULT '',
    content_type         TEXT        NOT NULL DEFAULT 'post',
    content_structure    TEXT        NOT NULL DEFAULT 'article',
    target_keywords      JSONB       NOT NULL DEFAULT '[]',
    outline              JSONB       NOT NULL DEFAULT '[]',
    estimated_word_count INTEGER     NOT NULL DEFAULT 0,
    status               TEXT        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'scheduled', 'published')),
    -- The generate_ideas task that wrote it; makes a redelivered task's insert a no-op.
    task_id              UUID,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (id, account_id),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE,
    FOREIGN KEY (cluster_id, account_id) REFERENCES clusters (id, account_id) ON DELETE SET NULL (cluster_id)
);
CREATE INDEX content_ideas_account_idx ON content_ideas (account_id, created_at DESC);

-- Writer tasks (the writer module's own endpoints come later; ideas are queued into it now).
CREATE TABLE writer_tasks (
    id                BIGSERIAL PRIMARY KEY,
    account_id        BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id           BIGINT      NOT NULL,
    sector_id         BIGINT,
    cluster_id        BIGINT,
    idea_id           BIGINT,
    title             TEXT        NOT NULL,
    description       TEXT        NOT NULL DEFAULT '',
    keywords          JSONB       NOT NULL DEFAULT '[]',
    content_type      TEXT        NOT NULL DEFAULT 'post',
    content_structure TEXT        NOT NULL DEFAULT 'article',
    outline           JSONB       NOT NULL DEFAULT '[]',
    word_count        INTEGER     NOT NULL DEFAULT 0,
    status            TEXT        NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'in_progress', 'review', 'completed', 'archived')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sector_id, site_id) REFERENCES sectors (id, site_id) ON DELETE CASCADE,
    FOREIGN KEY (cluster_id, account_id) REFERENCES clusters (id, account_id) ON DELETE SET NULL (cluster_id),
    FOREIGN KEY (idea_id, account_id) REFERENCES content_ideas (id, account_id) ON DELETE SET NULL (idea_id)
);
-- An idea is queued to the writer once.
CREATE UNIQUE INDEX writer_tasks_idea_key ON writer_tasks (idea_id) WHERE idea_id IS NOT NULL;
CREATE INDEX writer_tasks_account_idx ON writer_tasks (account_id, created_at DESC);

-- Credits: the balance lives on the account; every change is a transaction row, and every AI
-- operation a usage row, written in the same database transaction as the balance change.
ALTER TABLE accounts
    ADD COLUMN credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
    ADD COLUMN plan_credits_per_month INTEGER NOT NULL DEFAULT 1000;

CREATE TABLE credit_transactions (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    transaction_type TEXT        NOT NULL
                     CHECK (transaction_type IN ('purchase', 'subscription', 'refund', 'deduction', 'adjustment')),
    amount           BIGINT      NOT NULL,
    balance_after    BIGINT      NOT NULL,
    description      TEXT        NOT NULL DEFAULT '',
    task_id          UUID,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX credit_transactions_account_idx ON credit_transactions (account_id, created_at DESC);

CREATE TABLE credit_usage_logs (
    id                  BIGSERIAL PRIMARY KEY,
    account_id          BIGINT           NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    operation_type      TEXT             NOT NULL,
    credits_used        BIGINT           NOT NULL CHECK (credits_used >= 0),
    cost_usd            DOUBLE PRECISION NOT NULL DEFAULT 0,
    model_used          TEXT             NOT NULL DEFAULT '',
    tokens_input        INTEGER          NOT NULL DEFAULT 0,
    tokens_output       INTEGER          NOT NULL DEFAULT 0,
    units               INTEGER          NOT NULL DEFAULT 0,
    task_id             UUID,
    related_object_type TEXT,
    related_object_id   TEXT,
    created_at          TIMESTAMPTZ      NOT NULL DEFAULT now()
);
-- A task charges once per operation, however often it is delivered.
CREATE UNIQUE INDEX credit_usage_logs_task_key ON credit_usage_logs (task_id, operation_type) WHERE task_id IS NOT NULL;
CREATE INDEX credit_usage_logs_account_idx ON credit_usage_logs (account_id, created_at DESC);

CREATE TABLE integration_settings (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    integration_type TEXT        NOT NULL,
    -- Everything but the secret, e.g. {"model": "gpt-4o-mini", "base_url": "..."}.
    config           JSONB       NOT NULL DEFAULT '{}',
    -- nonce ‖ XChaCha20-Poly1305 ciphertext of the API key, bound to account and type.
    secret           BYTEA,
    secret_hint      TEXT,
    is_active        BOOLEAN     NOT NULL DEFAULT true,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, integration_type)
);

CREATE TABLE ai_prompts (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prompt_type  TEXT        NOT NULL,
    prompt_value TEXT        NOT NULL,
    is_active    BOOLEAN     NOT NULL DEFAULT true,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, prompt_type)
);
