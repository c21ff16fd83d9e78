DROP TABLE blog_posts;
DROP FUNCTION blog_search_config(TEXT);
DROP TABLE blog_categories;
DROP TABLE public_sites;
