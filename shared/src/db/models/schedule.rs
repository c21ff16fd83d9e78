use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema::schedules;

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = schedules, check_for_backend(diesel::pg::Pg))]
pub struct Schedule {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    pub payload: Value,
    pub enabled: bool,
    pub last_fire_at: Option<DateTime<Utc>>,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// On the tenant CRUD kit in `crate::schedules::owned`, with its forms and filter.
