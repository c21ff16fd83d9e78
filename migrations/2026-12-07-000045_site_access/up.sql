-- Per-user site access (IGNY8's SiteUserAccess). Owners and admins always reach every site
-- of their account; an editor or viewer with at least one row here reaches only the sites
-- listed, and every site-scoped query (sites, sectors, keywords, clusters, ideas, writer
-- tasks, content, images) is narrowed to them. A user with no row reaches every site.
CREATE TABLE site_user_access (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id    BIGINT      NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    granted_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    granted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT site_user_access_once UNIQUE (user_id, site_id)
);
-- The caller's sites, read on every request of a limited user.
CREATE INDEX site_user_access_account ON site_user_access (account_id, id);
