-- Credits are bought through the platform's own payment account, whose webhook secret only
-- operators hold. What a payment buys follows from its amount and currency matched to a
-- package below, never from metadata the payer could set; a payment credits once, whatever
-- events arrive for it, and refunds and disputes take the credits back — so a balance may now
-- fall below zero (commands are then refused with 402).
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_credits_check;

CREATE TABLE credit_packages (
    id           BIGSERIAL PRIMARY KEY,
    code         TEXT        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    name         TEXT        NOT NULL CHECK (name <> ''),
    credits      BIGINT      NOT NULL CHECK (credits > 0),
    -- The price in the currency's minor unit (cents), as the payment provider counts it.
    amount_minor BIGINT      NOT NULL CHECK (amount_minor > 0),
    currency     TEXT        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    active       BOOLEAN     NOT NULL DEFAULT true,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One active package per price, so an amount paid names what it bought.
CREATE UNIQUE INDEX credit_packages_price_key ON credit_packages (amount_minor, currency) WHERE active;

INSERT INTO credit_packages (code, name, credits, amount_minor, currency) VALUES
    ('starter', 'Starter', 1000, 1000, 'usd'),
    ('growth', 'Growth', 6000, 5000, 'usd'),
    ('scale', 'Scale', 15000, 10000, 'usd'),
    ('starter-eur', 'Starter', 1000, 900, 'eur'),
    ('growth-eur', 'Growth', 6000, 4500, 'eur');

-- One row per payment object: the PaymentIntent (or, without one, the Checkout Session or
-- Charge). Every event about it merges its facts here under a row lock, and the account's
-- credits move by the difference between what the facts make due and `credits_net`.
CREATE TABLE payments (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider         TEXT        NOT NULL DEFAULT 'stripe',
    reference        TEXT        NOT NULL,
    checkout_session TEXT,
    paid             BOOLEAN     NOT NULL DEFAULT false,
    amount_minor     BIGINT      NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    currency         TEXT        NOT NULL DEFAULT '',
    package_id       BIGINT      REFERENCES credit_packages (id) ON DELETE SET NULL,
    -- What the package gave when the payment was matched to it (later price edits leave it).
    credits_bought   BIGINT      NOT NULL DEFAULT 0 CHECK (credits_bought >= 0),
    refunded_minor   BIGINT      NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    disputed_minor   BIGINT      NOT NULL DEFAULT 0 CHECK (disputed_minor >= 0),
    dispute_won      BOOLEAN     NOT NULL DEFAULT false,
    credits_net      BIGINT      NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider, reference)
);
CREATE INDEX payments_account_idx ON payments (account_id, created_at DESC);

-- Every signed event received, once per event id: a redelivery does nothing.
CREATE TABLE payment_events (
    id          BIGSERIAL PRIMARY KEY,
    event_id    TEXT        NOT NULL UNIQUE,
    event_type  TEXT        NOT NULL,
    payment_id  BIGINT      REFERENCES payments (id) ON DELETE SET NULL,
    -- credited, reversed, unchanged or ignored.
    outcome     TEXT        NOT NULL,
    credits     BIGINT      NOT NULL DEFAULT 0,
    detail      TEXT        NOT NULL DEFAULT '',
    -- The raw body as signed (text: JSON may carry escapes jsonb refuses).
    body        TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
