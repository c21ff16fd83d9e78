DROP TABLE site_user_access;
