-- Incoming webhooks. An endpoint belongs to an account: its URL carries a random key and its
-- secret is sealed at rest. Deliveries are stored raw, once per (endpoint, delivery id), so
-- a replayed delivery has no second effect; refused ones only move a counter.
CREATE TABLE webhook_endpoints (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    source           TEXT        NOT NULL CHECK (source IN ('odoo', 'gitea', 'payments')),
    key              TEXT        NOT NULL UNIQUE,
    -- nonce ‖ XChaCha20-Poly1305 ciphertext of the signing secret, bound to the key.
    secret           BYTEA       NOT NULL,
    -- Gitea: the site whose SEO audit a push re-runs.
    site_id          BIGINT,
    -- A command enqueued for every accepted delivery (when the source has no built-in effect).
    command_kind     TEXT,
    command_payload  JSONB,
    rejected_count   BIGINT      NOT NULL DEFAULT 0,
    last_rejected_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, account_id) REFERENCES sites (id, account_id) ON DELETE SET NULL (site_id)
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id);

CREATE TABLE webhook_deliveries (
    id          BIGSERIAL PRIMARY KEY,
    endpoint_id BIGINT      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    source      TEXT        NOT NULL,
    delivery_id TEXT        NOT NULL,
    event       TEXT        NOT NULL DEFAULT '',
    headers     JSONB       NOT NULL DEFAULT '{}',
    body        TEXT        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('recorded', 'enqueued', 'processed', 'ignored')),
    task_id     UUID,
    detail      TEXT        NOT NULL DEFAULT '',
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, delivery_id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, received_at DESC);
