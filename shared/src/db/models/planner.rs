use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{industries, seed_keywords, writer_tasks};

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = industries, check_for_backend(diesel::pg::Pg))]
pub struct Industry {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = seed_keywords, check_for_backend(diesel::pg::Pg))]
pub struct SeedKeyword {
    pub id: i64,
    pub industry_id: i64,
    pub keyword: String,
    pub volume: i32,
    pub difficulty: i16,
    pub intent: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = writer_tasks, check_for_backend(diesel::pg::Pg))]
pub struct WriterTask {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub idea_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub keywords: serde_json::Value,
    pub content_type: String,
    pub content_structure: String,
    pub outline: serde_json::Value,
    pub word_count: i32,
    pub status: crate::writer::TaskStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
