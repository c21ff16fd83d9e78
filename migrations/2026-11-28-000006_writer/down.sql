DROP TABLE images;
DROP TABLE content;
ALTER TABLE sites
    DROP COLUMN author_profile_id, DROP COLUMN strategy_id, DROP COLUMN wp_url, DROP COLUMN wp_username,
    DROP COLUMN wp_app_password, DROP COLUMN wp_app_password_hint;
DROP TABLE strategies;
DROP TABLE author_profiles;
