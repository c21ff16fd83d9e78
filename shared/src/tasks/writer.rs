//! The writer's task kinds, run by `worker-content`.

use serde::{Deserialize, Serialize};

pub const GENERATE_CONTENT: &str = "writer.generate_content";
pub const IMAGE_PROMPTS: &str = "writer.image_prompts";
pub const GENERATE_IMAGES: &str = "writer.generate_images";
pub const PUBLISH_WORDPRESS: &str = "writer.publish_wordpress";

/// The seed's cap on one batch.
pub const MAX_BATCH: usize = 50;

fn batch_problems(field: &'static str, ids: &[i64]) -> Vec<(&'static str, String)> {
    if ids.is_empty() || ids.len() > MAX_BATCH {
        vec![(field, format!("must name 1 to {MAX_BATCH} items"))]
    } else {
        Vec::new()
    }
}

/// Articles for writer tasks; each item succeeds or fails on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateContentPayload {
    pub writer_task_ids: Vec<i64>,
}

impl GenerateContentPayload {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        batch_problems("writer_task_ids", &self.writer_task_ids)
    }
}

/// Image prompts (featured + one per H2) for content items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePromptsPayload {
    pub content_ids: Vec<i64>,
}

impl ImagePromptsPayload {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        batch_problems("content_ids", &self.content_ids)
    }
}

/// Images for image rows that have a prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateImagesPayload {
    pub image_ids: Vec<i64>,
}

impl GenerateImagesPayload {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        batch_problems("image_ids", &self.image_ids)
    }
}

/// Publishes (or updates) one content item on its site's WordPress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishWordpressPayload {
    pub content_id: i64,
    /// The post's state on the site.
    #[serde(default)]
    pub status: WordPressStatus,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordPressStatus {
    #[default]
    Publish,
    Draft,
}

impl WordPressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WordPressStatus::Publish => "publish",
            WordPressStatus::Draft => "draft",
        }
    }
}
