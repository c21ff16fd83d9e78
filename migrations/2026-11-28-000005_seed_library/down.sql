DELETE FROM seed_keywords;
DELETE FROM industries;
