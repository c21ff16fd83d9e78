ALTER TABLE images DROP COLUMN wp_media_url;
