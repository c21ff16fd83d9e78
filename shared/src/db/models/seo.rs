use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::seo_audits;

/// A finished audit without its report (lists, history).
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = seo_audits, check_for_backend(diesel::pg::Pg))]
pub struct SeoAuditSummary {
    pub id: i64,
    pub site_id: Option<i64>,
    pub task_id: Uuid,
    pub url: String,
    pub final_url: String,
    pub host: String,
    pub keywords: Value,
    pub score: i16,
    pub category_scores: Value,
    pub issues: i32,
    pub pages_audited: i32,
    pub created_at: DateTime<Utc>,
}
