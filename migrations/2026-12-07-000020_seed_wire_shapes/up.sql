-- The profile fields of seeds 003 (OmniSell) and 000 (agency): one row per user, made on the
-- first write; a user without one reads the defaults.
CREATE TABLE user_profiles (
    user_id                BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone                  TEXT        NOT NULL DEFAULT '',
    bio                    TEXT        NOT NULL DEFAULT '',
    company_name           TEXT        NOT NULL DEFAULT '',
    industry               TEXT        NOT NULL DEFAULT '',
    business_type          TEXT        NOT NULL DEFAULT 'individual'
        CHECK (business_type IN ('individual', 'business')),
    country                TEXT        NOT NULL DEFAULT '',
    city                   TEXT        NOT NULL DEFAULT '',
    currency               TEXT        NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    dark_mode              BOOLEAN     NOT NULL DEFAULT false,
    is_verified            BOOLEAN     NOT NULL DEFAULT false,
    onboarding_completed   BOOLEAN     NOT NULL DEFAULT false,
    ai_description_enabled BOOLEAN     NOT NULL DEFAULT true,
    ai_hashtags_enabled    BOOLEAN     NOT NULL DEFAULT true,
    ai_replies_enabled     BOOLEAN     NOT NULL DEFAULT true,
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Seed 001 sends `target_audience` as a JSON object; text written before becomes its
-- `description`.
ALTER TABLE social_posts ALTER COLUMN target_audience DROP DEFAULT;
ALTER TABLE social_posts ALTER COLUMN target_audience TYPE JSONB USING
    CASE WHEN target_audience = '' THEN '{}'::jsonb
         ELSE jsonb_build_object('description', target_audience) END;
ALTER TABLE social_posts ALTER COLUMN target_audience SET DEFAULT '{}'::jsonb;

-- The seeds' webhook paths (`odoo/webhook/`, `system/webhook/`, `webhooks/payment/`) carry no
-- key: a single-tenant install's operator marks one endpoint per source as the one they reach.
ALTER TABLE webhook_endpoints ADD COLUMN is_install_default BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX webhook_endpoints_install_default ON webhook_endpoints (source)
    WHERE is_install_default;
