//! The planner's task kinds, run by `worker-clustering`.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::{net::OutboundGuard, problems::Problems};

/// The most keywords one clustering task takes.
pub const MAX_CLUSTER_KEYWORDS: usize = 10_000;
pub const MAX_CLUSTER_COUNT: u32 = 1_000;
pub const MAX_IDEAS_PER_CLUSTER: u32 = 10;
pub const MAX_IDEA_CLUSTERS: usize = 20;

/// How keywords become vectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClusterMode {
    /// Sentence embeddings: the provider's when configured, else the bundled model.
    #[default]
    Semantic,
    /// TF-IDF over words and character n-grams: fast, for very large sets.
    Lexical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoClusterPayload {
    pub site_id: i64,
    #[serde(default)]
    pub sector_id: Option<i64>,
    /// The keywords to cluster, resolved by the API from ids or from the site/sector scope.
    pub keyword_ids: Vec<i64>,
    /// Honoured exactly when set; otherwise the algorithm decides.
    #[serde(default)]
    pub cluster_count: Option<u32>,
    #[serde(default)]
    pub mode: ClusterMode,
}

impl Payload for AutoClusterPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        if self.keyword_ids.is_empty() {
            problems.push("keyword_ids", "must name at least one keyword".to_owned());
        } else if self.keyword_ids.len() > MAX_CLUSTER_KEYWORDS {
            problems.push("keyword_ids", format!("must name at most {MAX_CLUSTER_KEYWORDS} keywords"));
        }
        if let Some(count) = self.cluster_count
            && !(1..=MAX_CLUSTER_COUNT).contains(&count)
        {
            problems.push("cluster_count", format!("must be between 1 and {MAX_CLUSTER_COUNT}"));
        }
        problems
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateIdeasPayload {
    pub cluster_ids: Vec<i64>,
    #[serde(default = "default_ideas_per_cluster")]
    pub ideas_per_cluster: u32,
}

fn default_ideas_per_cluster() -> u32 {
    3
}

impl Payload for GenerateIdeasPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        if self.cluster_ids.is_empty() || self.cluster_ids.len() > MAX_IDEA_CLUSTERS {
            problems.push("cluster_ids", format!("must name 1 to {MAX_IDEA_CLUSTERS} clusters"));
        }
        if !(1..=MAX_IDEAS_PER_CLUSTER).contains(&self.ideas_per_cluster) {
            problems.push("ideas_per_cluster", format!("must be between 1 and {MAX_IDEAS_PER_CLUSTER}"));
        }
        problems
    }
}
