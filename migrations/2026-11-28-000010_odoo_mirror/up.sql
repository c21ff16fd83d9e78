-- The Odoo mirror: records pulled by `odoo.sync`, one row per (account, model, Odoo id), and
-- per model the cursor of the incremental pull (Odoo's write_date and id of the last record).
CREATE TABLE odoo_records (
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    model      TEXT        NOT NULL,
    odoo_id    BIGINT      NOT NULL,
    name       TEXT        NOT NULL DEFAULT '',
    data       JSONB       NOT NULL,
    -- Odoo's own, UTC, as Odoo writes it: "YYYY-MM-DD HH:MM:SS".
    write_date TEXT        NOT NULL DEFAULT '',
    active     BOOLEAN     NOT NULL DEFAULT true,
    -- Gone from Odoo (found by a full resync).
    deleted    BOOLEAN     NOT NULL DEFAULT false,
    synced_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, model, odoo_id)
);
CREATE INDEX odoo_records_listing_idx ON odoo_records (account_id, model, write_date DESC);

CREATE TABLE odoo_sync_state (
    account_id        BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    model             TEXT        NOT NULL,
    cursor_write_date TEXT,
    cursor_id         BIGINT      NOT NULL DEFAULT 0,
    last_run_at       TIMESTAMPTZ,
    last_status       TEXT,
    last_error        TEXT,
    last_task_id      UUID,
    last_synced       INTEGER     NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, model)
);
