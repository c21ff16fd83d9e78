DROP TABLE sectors;
DROP TABLE sites;
DROP TABLE refresh_tokens;
DROP TABLE auth_sessions;
DROP TABLE users;
DROP TABLE accounts;
