-- Settings at five scopes (IGNY8's system, account, user, module and AI settings): a key and
-- a JSON value per owner. Which keys exist and what values they take is the registry in
-- shared/src/settings/registry.rs; the table holds who owns a row and that there is one row
-- per (scope, owner, module, key).
CREATE TABLE settings (
    id         BIGSERIAL PRIMARY KEY,
    scope      TEXT        NOT NULL CHECK (scope IN ('system', 'account', 'user', 'modules', 'ai')),
    -- NULL for the installation's own (system) settings only.
    account_id BIGINT      REFERENCES accounts (id) ON DELETE CASCADE,
    -- Set for user settings only.
    user_id    BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    -- Set for module settings only.
    module     TEXT        CHECK (module IN ('planner', 'writer', 'social', 'seo', 'odoo')),
    key        TEXT        NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    value      JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT settings_owner_account CHECK ((scope = 'system') = (account_id IS NULL)),
    CONSTRAINT settings_owner_user CHECK ((scope = 'user') = (user_id IS NOT NULL)),
    CONSTRAINT settings_owner_module CHECK ((scope = 'modules') = (module IS NOT NULL))
);
-- One row per (scope, owner, module, key); the NULLs of the other scopes count as equal
-- (PostgreSQL 13 has no NULLS NOT DISTINCT).
CREATE UNIQUE INDEX settings_owner_key ON settings
    (scope, COALESCE(account_id, 0), COALESCE(user_id, 0), COALESCE(module, ''), key);
-- An account's settings of a scope, listed or looked up by key.
CREATE INDEX settings_account_scope ON settings (account_id, scope, key) WHERE account_id IS NOT NULL;
