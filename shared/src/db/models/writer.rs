use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::{author_profiles, content, images, strategies};

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = author_profiles, check_for_backend(diesel::pg::Pg))]
pub struct AuthorProfile {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub description: String,
    pub tone: String,
    pub persona: String,
    pub language: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = strategies, check_for_backend(diesel::pg::Pg))]
pub struct Strategy {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub description: String,
    pub target_audience: String,
    pub guidelines: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = content, check_for_backend(diesel::pg::Pg))]
pub struct Content {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub writer_task_id: Option<i64>,
    pub title: String,
    pub meta_title: String,
    pub meta_description: String,
    pub html_content: String,
    pub word_count: i32,
    pub primary_keyword: String,
    pub secondary_keywords: serde_json::Value,
    pub content_type: String,
    pub status: crate::writer::ContentStatus,
    pub wp_post_id: Option<i64>,
    pub wp_post_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = images, check_for_backend(diesel::pg::Pg))]
pub struct Image {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub content_id: Option<i64>,
    pub writer_task_id: Option<i64>,
    pub image_type: crate::writer::ImageType,
    pub position: i32,
    pub prompt: String,
    pub status: crate::writer::ImageStatus,
    pub file_path: Option<String>,
    pub mime_type: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub wp_media_id: Option<i64>,
    pub wp_media_url: Option<String>,
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
