ALTER TABLE credit_usage_logs ALTER COLUMN cost_usd TYPE DOUBLE PRECISION;
DROP TABLE plan_credit_grants;
DROP TABLE subscriptions;
ALTER TABLE accounts ADD COLUMN plan_credits_per_month INTEGER NOT NULL DEFAULT 1000;
UPDATE accounts SET plan_credits_per_month = plans.monthly_credits FROM plans WHERE plans.id = accounts.plan_id;
ALTER TABLE accounts DROP COLUMN plan_id;
DROP TABLE plans;
