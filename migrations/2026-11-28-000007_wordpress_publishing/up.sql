-- Publishing to WordPress: where an uploaded image lives on the site (inserted into the post
-- body on every publish, so an update needs no second upload).
ALTER TABLE images ADD COLUMN wp_media_url TEXT;
