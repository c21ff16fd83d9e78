//! Social publishing, run by `worker-social`.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::{net::OutboundGuard, problems::Problems};

/// Publishes one due post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishPayload {
    pub post_id: i64,
}

impl Payload for PublishPayload {}

/// Platform-fitted variants and hashtags of a text, or of a content item's article.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposePayload {
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub text: String,
    #[serde(default)]
    pub content_id: Option<i64>,
    #[schema(min_items = 1, max_items = 6, value_type = Vec<crate::social::Platform>)]
    pub platforms: Vec<String>,
    #[serde(default = "default_hashtags")]
    #[schema(maximum = 30)]
    pub max_hashtags: usize,
}

fn default_hashtags() -> usize {
    5
}

impl Payload for ComposePayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        if self.text.trim().is_empty() == self.content_id.is_none() {
            problems.push("text", "send either text or content_id".to_owned());
        }
        if self.text.chars().count() > 20_000 {
            problems.push("text", "must be at most 20,000 characters".to_owned());
        }
        if self.platforms.is_empty() || self.platforms.len() > 6 {
            problems.push("platforms", "name 1 to 6 platforms".to_owned());
        }
        for platform in &self.platforms {
            if crate::social::Platform::parse(platform).is_none() {
                problems.push("platforms", format!("`{platform}` is not a platform"));
            }
        }
        if self.max_hashtags > 30 {
            problems.push("max_hashtags", "must be at most 30".to_owned());
        }
        problems
    }
}

/// Refreshes the counts of the account's posts published in the last `days` (default 30).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsightsPayload {
    #[serde(default)]
    pub days: Option<u32>,
}

impl Payload for InsightsPayload {}
