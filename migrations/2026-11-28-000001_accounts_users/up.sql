-- Tenancy: every tenant-owned row carries account_id, and every query filters by it.

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT        NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    account_id        BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email             TEXT        NOT NULL,
    -- NULL until an invited user accepts the invitation and chooses a password.
    password_hash     TEXT,
    role              TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    first_name        TEXT        NOT NULL DEFAULT '',
    last_name         TEXT        NOT NULL DEFAULT '',
    is_active         BOOLEAN     NOT NULL DEFAULT true,
    -- SHA-256 of the invitation token; the token itself is only ever shown once.
    invite_token_hash TEXT,
    invite_expires_at TIMESTAMPTZ,
    last_login_at     TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Logins are by email across all accounts, so an address belongs to one user only.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_account_idx ON users (account_id);
CREATE UNIQUE INDEX users_invite_token_key ON users (invite_token_hash) WHERE invite_token_hash IS NOT NULL;

-- One session per login; every refresh token of the session shares it (the "token family").
-- Access tokens carry the session id so that logout and reuse detection revoke them too.
CREATE TABLE auth_sessions (
    id             UUID PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY,
    session_id  UUID        NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE sites (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    slug        TEXT        NOT NULL,
    domain      TEXT,
    description TEXT        NOT NULL DEFAULT '',
    industry    TEXT,
    is_active   BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, slug),
    -- Lets sectors reference (site, account) so a sector can never hang off another tenant's site.
    UNIQUE (id, account_id)
);

CREATE TABLE sectors (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_id     BIGINT      NOT NULL,
    name        TEXT        NOT NULL,
    slug        TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    is_active   BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (site_id, slug),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE CASCADE
);
CREATE INDEX sectors_account_idx ON sectors (account_id);
