-- The W3C trace id of the request that enqueued the command: the relay sends it as the
-- message's `traceparent`, and the worker's spans carry it.
ALTER TABLE outbox ADD COLUMN trace_id TEXT;
