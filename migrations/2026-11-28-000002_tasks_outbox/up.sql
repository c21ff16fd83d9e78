-- The central record of background work. Postgres is the source of truth; RabbitMQ only
-- carries the task id.
CREATE TABLE tasks (
    id                  UUID PRIMARY KEY,
    account_id          BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind                TEXT        NOT NULL,
    queue               TEXT        NOT NULL,
    state               TEXT        NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED')),
    phase               TEXT        NOT NULL DEFAULT 'QUEUED',
    percentage          SMALLINT    NOT NULL DEFAULT 0 CHECK (percentage BETWEEN 0 AND 100),
    message             TEXT        NOT NULL DEFAULT '',
    payload             JSONB       NOT NULL,
    result              JSONB,
    error               JSONB,
    attempts            INTEGER     NOT NULL DEFAULT 0,
    max_attempts        INTEGER     NOT NULL CHECK (max_attempts > 0),
    idempotency_key     TEXT,
    -- SHA-256 of (kind, payload): a reused Idempotency-Key with another request is refused.
    request_fingerprint TEXT,
    parent_id           UUID REFERENCES tasks (id) ON DELETE SET NULL,
    created_by          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- The worker process currently running the task (see worker_heartbeats).
    worker_id           UUID,
    -- Bumped by every write; the ETag of the polling endpoints.
    revision            BIGINT      NOT NULL DEFAULT 0,
    cancel_requested    BOOLEAN     NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
)
-- Each row is updated several times (claim, progress, outcome): free space on every page
-- keeps those updates HOT (no index writes).
WITH (fillfactor = 50);
CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_account_created_idx ON tasks (account_id, created_at DESC);

-- Commands waiting to be published. Written in the same transaction as the task row, so a
-- committed task always reaches the broker, even when the broker was down at enqueue time.
-- The relay deletes a row once the broker has confirmed it: every row here is unsent.
CREATE TABLE outbox (
    id               BIGSERIAL PRIMARY KEY,
    task_id          UUID        NOT NULL,
    routing_key      TEXT        NOT NULL,
    body             JSONB       NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    publish_attempts INTEGER     NOT NULL DEFAULT 0,
    last_error       TEXT
);

-- One row per running worker process, refreshed every few seconds.
CREATE TABLE worker_heartbeats (
    id           UUID PRIMARY KEY,
    kind         TEXT        NOT NULL,
    hostname     TEXT        NOT NULL,
    pid          INTEGER     NOT NULL,
    version      TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    in_flight    INTEGER     NOT NULL DEFAULT 0,
    processed    BIGINT      NOT NULL DEFAULT 0
);

-- The effect of the diagnostic `system.ping` task, written in the same transaction as its
-- SUCCESS; `writes` counts how often that happened (it must stay 1).
CREATE TABLE diagnostic_pings (
    task_id      UUID PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    steps        INTEGER     NOT NULL,
    attempts     INTEGER     NOT NULL,
    writes       INTEGER     NOT NULL DEFAULT 1,
    completed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
