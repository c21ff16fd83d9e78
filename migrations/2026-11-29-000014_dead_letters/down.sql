DROP TABLE dead_letters;
ALTER TABLE accounts DROP COLUMN is_system;
