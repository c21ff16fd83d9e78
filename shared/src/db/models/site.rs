use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{sectors, sites};

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sites, check_for_backend(diesel::pg::Pg))]
pub struct Site {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub slug: String,
    pub domain: Option<String>,
    pub description: String,
    pub industry: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sectors, check_for_backend(diesel::pg::Pg))]
pub struct Sector {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
