-- Operators: owners and admins of a system account may see and act on every tenant's
-- operational data (dead letters, bulk cancels, metrics).
ALTER TABLE accounts ADD COLUMN is_system BOOLEAN NOT NULL DEFAULT false;

-- Messages drained from the queues' dead-letter queues: a row is committed before the
-- message is acknowledged, so none is lost; the message id (the task id) keeps a redelivered
-- copy from making a second row.
CREATE TABLE dead_letters (
    id            BIGSERIAL PRIMARY KEY,
    queue         TEXT        NOT NULL,
    message_id    TEXT,
    task_id       UUID,
    kind          TEXT        NOT NULL DEFAULT '',
    account_id    BIGINT,
    error_code    TEXT        NOT NULL DEFAULT '',
    error_message TEXT        NOT NULL DEFAULT '',
    attempts      INTEGER,
    body          BYTEA       NOT NULL,
    dead_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dead_letters_message_idx ON dead_letters (queue, message_id);
CREATE INDEX dead_letters_queue_idx ON dead_letters (queue, id);
