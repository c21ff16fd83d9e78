//! The keyword list's query parameters. The list, a cluster's keywords and the CSV export all
//! read them into one [`KeywordFilter`] (`shared::planner::keywords`), so they always agree on
//! what matches and in which order.

use serde::Deserialize;
use shared::{
    planner::{
        Intent, KeywordStatus,
        keywords::{KeywordFilter, KeywordOrdering},
    },
    tenant,
};

/// The list's query parameters, shared with the CSV export.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeywordQuery {
    /// Only keywords with this status.
    #[param(inline)]
    pub status: Option<KeywordStatus>,
    /// Only keywords in this cluster.
    pub cluster_id: Option<i64>,
    /// Only keywords with this search intent.
    #[param(inline)]
    pub intent: Option<Intent>,
    /// The same as `intent` (the seed's name for it).
    #[serde(rename = "seed_keyword__intent")]
    #[param(inline)]
    pub seed_intent: Option<Intent>,
    /// Only keywords copied from this seed keyword.
    pub seed_keyword_id: Option<i64>,
    /// Only keywords at least this difficult.
    #[param(minimum = -32768, maximum = 32767)]
    pub difficulty_min: Option<i16>,
    /// Only keywords at most this difficult (not below `difficulty_min`).
    #[param(minimum = -32768, maximum = 32767)]
    pub difficulty_max: Option<i16>,
    /// Only keywords with at least this search volume.
    pub volume_min: Option<i32>,
    /// Only keywords with at most this search volume (not below `volume_min`).
    pub volume_max: Option<i32>,
    /// Only keywords of this site.
    pub site_id: Option<i64>,
    /// Only keywords of this sector.
    pub sector_id: Option<i64>,
    /// Keywords containing this text, case-insensitively.
    pub search: Option<String>,
    /// The order of the rows.
    #[param(inline)]
    pub ordering: Option<KeywordOrdering>,
}

impl From<KeywordQuery> for KeywordFilter {
    fn from(query: KeywordQuery) -> Self {
        KeywordFilter {
            status: query.status,
            cluster_id: query.cluster_id,
            intents: [query.intent, query.seed_intent].into_iter().flatten().collect(),
            seed_keyword_id: query.seed_keyword_id,
            difficulty_min: query.difficulty_min,
            difficulty_max: query.difficulty_max,
            volume_min: query.volume_min,
            volume_max: query.volume_max,
            site_id: query.site_id,
            sector_id: query.sector_id,
            keyword: tenant::contains(query.search.as_deref()),
            ordering: query.ordering.unwrap_or_default(),
        }
    }
}
