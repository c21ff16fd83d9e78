-- Failed sign-ins per target email (whether or not a user has it, so an unknown address is
-- throttled exactly like a known one). A run of failures locks the email for a doubling
-- time; a correct password then waits like a wrong one. A successful sign-in clears the row
-- and tells its user how many attempts failed since the last one.
CREATE TABLE login_throttles (
    email           TEXT        PRIMARY KEY CHECK (email = lower(email)),
    failures        INTEGER     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_failed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until    TIMESTAMPTZ
);
CREATE INDEX login_throttles_last_failed_idx ON login_throttles (last_failed_at);
