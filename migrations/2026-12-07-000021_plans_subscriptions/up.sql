-- IGNY8's plans: what an account pays for, the credits it is granted each month and the
-- limits its creates are held to. Read-only reference rows; `free` is every account's plan
-- until a subscription says otherwise.
CREATE TABLE plans (
    id               BIGSERIAL     PRIMARY KEY,
    slug             TEXT          NOT NULL UNIQUE,
    name             TEXT          NOT NULL,
    price            NUMERIC(10,2) NOT NULL CHECK (price >= 0),
    currency         TEXT          NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    billing_period   TEXT          NOT NULL DEFAULT 'month' CHECK (billing_period IN ('month', 'year')),
    monthly_credits  INTEGER       NOT NULL CHECK (monthly_credits >= 0),
    max_sites        INTEGER       NOT NULL CHECK (max_sites >= 0),
    max_users        INTEGER       NOT NULL CHECK (max_users >= 0),
    max_keywords     INTEGER       NOT NULL CHECK (max_keywords >= 0),
    max_clusters     INTEGER       NOT NULL CHECK (max_clusters >= 0),
    max_ideas        INTEGER       NOT NULL CHECK (max_ideas >= 0),
    max_ai_requests  INTEGER       NOT NULL CHECK (max_ai_requests >= 0),
    features         JSONB         NOT NULL DEFAULT '[]',
    is_active        BOOLEAN       NOT NULL DEFAULT true,
    sort_order       INTEGER       NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ   NOT NULL DEFAULT now()
);

INSERT INTO plans (slug, name, price, monthly_credits, max_sites, max_users, max_keywords,
                   max_clusters, max_ideas, max_ai_requests, features, sort_order) VALUES
    ('free', 'Free', 0.00, 1000, 2, 3, 2000, 200, 1000, 2000,
     '["Keyword planner", "AI clustering", "Content ideas"]', 0),
    ('starter', 'Starter', 29.00, 5000, 3, 5, 10000, 1000, 5000, 10000,
     '["Everything in Free", "AI writer", "Image generation", "WordPress publishing"]', 1),
    ('growth', 'Growth', 99.00, 20000, 10, 15, 50000, 5000, 25000, 50000,
     '["Everything in Starter", "SEO audits", "Social scheduling", "Priority queue"]', 2),
    ('agency', 'Agency', 299.00, 75000, 50, 50, 250000, 25000, 100000, 250000,
     '["Everything in Growth", "Odoo sync", "Client portal", "Dedicated support"]', 3);

ALTER TABLE accounts ADD COLUMN plan_id BIGINT REFERENCES plans (id);
UPDATE accounts SET plan_id = (SELECT id FROM plans WHERE slug = 'free');
ALTER TABLE accounts ALTER COLUMN plan_id SET NOT NULL;
ALTER TABLE accounts ALTER COLUMN plan_id SET DEFAULT 1;
-- The plan is the one place monthly credits are written.
ALTER TABLE accounts DROP COLUMN plan_credits_per_month;

-- An account's subscriptions over time; at most one is current (active, trialing or past due).
CREATE TABLE subscriptions (
    id                   BIGSERIAL   PRIMARY KEY,
    account_id           BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan_id              BIGINT      NOT NULL REFERENCES plans (id),
    status               TEXT        NOT NULL DEFAULT 'active'
        CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled')),
    current_period_start TIMESTAMPTZ NOT NULL DEFAULT now(),
    current_period_end   TIMESTAMPTZ NOT NULL,
    cancel_at_period_end BOOLEAN     NOT NULL DEFAULT false,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (current_period_end > current_period_start)
);
CREATE UNIQUE INDEX subscriptions_one_current ON subscriptions (account_id)
    WHERE status IN ('trialing', 'active', 'past_due');
CREATE INDEX subscriptions_account ON subscriptions (account_id, id);

-- A month's plan credits, granted once: the key is the proof.
CREATE TABLE plan_credit_grants (
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    month      DATE        NOT NULL CHECK (extract(day FROM month) = 1),
    plan_id    BIGINT      NOT NULL REFERENCES plans (id),
    credits    INTEGER     NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, month)
);
-- Accounts that exist now had this month's credits at sign-up.
INSERT INTO plan_credit_grants (account_id, month, plan_id, credits)
    SELECT id, date_trunc('month', now() AT TIME ZONE 'UTC')::date, plan_id, 0 FROM accounts;

-- A provider's cost is money: exact, not binary floating point.
ALTER TABLE credit_usage_logs ALTER COLUMN cost_usd TYPE NUMERIC(14,6) USING round(cost_usd::numeric, 6);
