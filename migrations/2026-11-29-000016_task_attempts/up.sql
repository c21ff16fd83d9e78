-- One row per attempt of a task: who ran it, when, and how it ended. Kept by a trigger on
-- the task row's own transitions, so every path that moves a task (claims, batched
-- successes, retries, cancels, a dead worker's task given up, a dead letter requeued) is
-- recorded the same way, in the same transaction as the change itself.
CREATE TABLE task_attempts (
    task_id     UUID        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt     INTEGER     NOT NULL,
    worker_id   UUID,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    -- running, succeeded, failed, retry, cancelled, interrupted (its worker died).
    outcome     TEXT        NOT NULL DEFAULT 'running',
    error       TEXT,
    PRIMARY KEY (task_id, attempt)
);
CREATE INDEX task_attempts_finished_idx ON task_attempts (finished_at) WHERE outcome = 'retry';
CREATE INDEX tasks_account_finished_idx ON tasks (account_id, finished_at) WHERE finished_at IS NOT NULL;

CREATE FUNCTION record_task_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.attempts > OLD.attempts THEN
        -- A new claim while the previous attempt is still open: that one's worker died.
        UPDATE task_attempts SET finished_at = now(), outcome = 'interrupted'
         WHERE task_id = NEW.id AND finished_at IS NULL;
        INSERT INTO task_attempts (task_id, attempt, worker_id)
        VALUES (NEW.id, NEW.attempts, NEW.worker_id)
        ON CONFLICT (task_id, attempt) DO NOTHING;
    ELSIF NEW.state IS DISTINCT FROM OLD.state
          AND NEW.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'RETRY', 'PENDING') THEN
        UPDATE task_attempts
           SET finished_at = now(),
               outcome = CASE NEW.state
                   WHEN 'SUCCESS' THEN 'succeeded'
                   WHEN 'FAILURE' THEN 'failed'
                   WHEN 'REVOKED' THEN 'cancelled'
                   WHEN 'RETRY' THEN 'retry'
                   ELSE 'interrupted' END,
               error = COALESCE(NEW.error ->> 'message', NEW.error ->> 'code')
         WHERE task_id = NEW.id AND finished_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_record_attempt
    AFTER UPDATE OF attempts, state ON tasks
    FOR EACH ROW
    WHEN (NEW.attempts IS DISTINCT FROM OLD.attempts OR NEW.state IS DISTINCT FROM OLD.state)
    EXECUTE FUNCTION record_task_attempt();
