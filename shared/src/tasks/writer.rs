//! The writer's task kinds, run by `worker-content`.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::{net::OutboundGuard, problems::Problems};

/// The seed's cap on one batch.
pub const MAX_BATCH: usize = 50;

fn batch_problems(field: &'static str, ids: &[i64]) -> Problems {
    let mut problems = Problems::new();
    if ids.is_empty() || ids.len() > MAX_BATCH {
        problems.push(field, format!("must name 1 to {MAX_BATCH} items"));
    }
    problems
}

/// Articles for writer tasks; each item succeeds or fails on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateContentPayload {
    pub writer_task_ids: Vec<i64>,
}

impl Payload for GenerateContentPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        batch_problems("writer_task_ids", &self.writer_task_ids)
    }
}

/// Image prompts (featured + one per H2) for content items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePromptsPayload {
    pub content_ids: Vec<i64>,
}

impl Payload for ImagePromptsPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        batch_problems("content_ids", &self.content_ids)
    }
}

/// Images for image rows that have a prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateImagesPayload {
    pub image_ids: Vec<i64>,
}

impl Payload for GenerateImagesPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
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

impl Payload for PublishWordpressPayload {}

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
