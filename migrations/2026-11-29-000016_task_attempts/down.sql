DROP TRIGGER tasks_record_attempt ON tasks;
DROP FUNCTION record_task_attempt();
DROP INDEX tasks_account_finished_idx;
DROP TABLE task_attempts;
