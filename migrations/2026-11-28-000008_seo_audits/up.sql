-- SEO audits: one row per finished `seo.audit` task, with the full report and what the
-- history views need without opening it (score, category scores, the failed checks).
CREATE TABLE seo_audits (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id         BIGINT,
    -- Written in the task's SUCCESS transaction: a redelivered task finds its row.
    task_id         UUID        NOT NULL UNIQUE,
    url             TEXT        NOT NULL,
    final_url       TEXT        NOT NULL,
    -- The history of a site without a site id is kept by host.
    host            TEXT        NOT NULL,
    keywords        JSONB       NOT NULL DEFAULT '[]',
    score           SMALLINT    NOT NULL CHECK (score BETWEEN 0 AND 100),
    category_scores JSONB       NOT NULL DEFAULT '{}',
    -- ["check_id", ...] of the audited page(s) that did not pass, for issues opened and fixed.
    issue_ids       JSONB       NOT NULL DEFAULT '[]',
    issues          INTEGER     NOT NULL DEFAULT 0,
    pages_audited   INTEGER     NOT NULL DEFAULT 1,
    report          JSONB       NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE SET NULL (site_id)
);
CREATE INDEX seo_audits_account_idx ON seo_audits (account_id, created_at DESC);
CREATE INDEX seo_audits_history_idx ON seo_audits (account_id, host, created_at);
