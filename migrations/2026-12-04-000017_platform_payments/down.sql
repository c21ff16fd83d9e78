DROP TABLE payment_events;
DROP TABLE payments;
DROP TABLE credit_packages;
UPDATE accounts SET credits = 0 WHERE credits < 0;
ALTER TABLE accounts ADD CONSTRAINT accounts_credits_check CHECK (credits >= 0);
