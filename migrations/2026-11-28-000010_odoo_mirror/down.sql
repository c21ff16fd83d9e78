DROP TABLE odoo_sync_state; DROP TABLE odoo_records;
