DROP TABLE seo_audits;
