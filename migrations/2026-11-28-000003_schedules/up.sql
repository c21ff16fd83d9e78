-- Cron schedules: each fires a command (a task kind and its payload) for its account.
CREATE TABLE schedules (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    cron         TEXT        NOT NULL,
    timezone     TEXT        NOT NULL DEFAULT 'UTC',
    kind         TEXT        NOT NULL,
    payload      JSONB       NOT NULL DEFAULT '{}',
    enabled      BOOLEAN     NOT NULL DEFAULT true,
    last_fire_at TIMESTAMPTZ,
    -- NULL while disabled; the scheduler picks rows whose time has come.
    next_fire_at TIMESTAMPTZ,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX schedules_account_idx ON schedules (account_id);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled;

-- One row per fired slot. The primary key is what makes a slot fire once, whatever the
-- number of scheduler processes: it is inserted in the transaction that enqueues the task.
CREATE TABLE schedule_fires (
    schedule_id BIGINT      NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     TIMESTAMPTZ NOT NULL,
    task_id     UUID,
    fired_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, fire_at)
);
