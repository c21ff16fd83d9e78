DROP TABLE diagnostic_pings;
DROP TABLE worker_heartbeats;
DROP TABLE outbox;
DROP TABLE tasks;
