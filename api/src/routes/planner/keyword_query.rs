//! The keyword list's query: filters, search and ordering, and the keyset that continues
//! an ordered scan. The list, a cluster's keywords and the CSV export all read through it, so
//! they always agree on what matches and in which order.

use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;
use shared::db::{models::Keyword, schema::keywords};
use utoipa::openapi::{
    RefOr,
    schema::{ObjectBuilder, Schema, Type},
};

use super::{Intent, KeywordStatus};
use crate::routes::common::search_term;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordSort {
    Created,
    Volume,
    Difficulty,
    Keyword,
}

/// `ordering`: a sort key, `-` in front for descending. The seed's `seed_keyword__volume` and
/// `seed_keyword__difficulty` name the keyword's own copies of those figures.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct KeywordOrdering {
    pub sort: KeywordSort,
    pub descending: bool,
}

impl Default for KeywordOrdering {
    fn default() -> Self {
        KeywordOrdering { sort: KeywordSort::Created, descending: true }
    }
}

/// The accepted sort keys, each also with `-` in front.
const SORT_KEYS: [(&str, KeywordSort); 7] = [
    ("created_at", KeywordSort::Created),
    ("volume", KeywordSort::Volume),
    ("seed_keyword__volume", KeywordSort::Volume),
    ("difficulty", KeywordSort::Difficulty),
    ("seed_keyword__difficulty", KeywordSort::Difficulty),
    ("keyword", KeywordSort::Keyword),
    ("seed_keyword__keyword", KeywordSort::Keyword),
];

impl TryFrom<String> for KeywordOrdering {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let (descending, name) = match value.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, value.as_str()),
        };
        let Some(&(_, sort)) = SORT_KEYS.iter().find(|(key, _)| *key == name) else {
            return Err(format!(
                "Unknown ordering `{value}`; use created_at, volume, difficulty or keyword, \
                 with `-` in front for descending."
            ));
        };
        Ok(KeywordOrdering { sort, descending })
    }
}

/// Documented as the string enum it is read from: every sort key, ascending and descending.
impl utoipa::PartialSchema for KeywordOrdering {
    fn schema() -> RefOr<Schema> {
        let names = SORT_KEYS.iter().flat_map(|(key, _)| [key.to_string(), format!("-{key}")]);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "A sort key, `-` in front for descending (default `-created_at`). The \
                 `seed_keyword__` keys sort by the keyword's own copies of those figures.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for KeywordOrdering {}

/// The list's query parameters, shared with the CSV export.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeywordFilter {
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

pub type BoxedKeywords = keywords::BoxedQuery<'static, Pg>;

impl KeywordFilter {
    pub fn ordering(&self) -> KeywordOrdering {
        self.ordering.unwrap_or_default()
    }

    /// The caller's keywords matching every filter and the search, unordered.
    pub fn query(&self, account_id: i64) -> BoxedKeywords {
        let mut q = keywords::table.filter(keywords::account_id.eq(account_id)).into_boxed();
        if let Some(status) = self.status {
            q = q.filter(keywords::status.eq(status.as_str()));
        }
        if let Some(cluster_id) = self.cluster_id {
            q = q.filter(keywords::cluster_id.eq(cluster_id));
        }
        for intent in [self.intent, self.seed_intent].into_iter().flatten() {
            q = q.filter(keywords::intent.eq(intent.as_str()));
        }
        if let Some(seed_keyword_id) = self.seed_keyword_id {
            q = q.filter(keywords::seed_keyword_id.eq(seed_keyword_id));
        }
        if let Some(min) = self.difficulty_min {
            q = q.filter(keywords::difficulty.ge(min));
        }
        if let Some(max) = self.difficulty_max {
            q = q.filter(keywords::difficulty.le(max));
        }
        if let Some(min) = self.volume_min {
            q = q.filter(keywords::volume.ge(min));
        }
        if let Some(max) = self.volume_max {
            q = q.filter(keywords::volume.le(max));
        }
        if let Some(site_id) = self.site_id {
            q = q.filter(keywords::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            q = q.filter(keywords::sector_id.eq(sector_id));
        }
        if let Some(pattern) = search_term(&self.search) {
            q = q.filter(keywords::keyword.ilike(pattern));
        }
        q
    }
}

/// Orders by the sort key, then by id in the same direction, so pages and keyset batches agree.
pub fn ordered(q: BoxedKeywords, ordering: KeywordOrdering) -> BoxedKeywords {
    use KeywordSort as S;
    match (ordering.sort, ordering.descending) {
        (S::Created, false) => q.order((keywords::created_at.asc(), keywords::id.asc())),
        (S::Created, true) => q.order((keywords::created_at.desc(), keywords::id.desc())),
        (S::Volume, false) => q.order((keywords::volume.asc(), keywords::id.asc())),
        (S::Volume, true) => q.order((keywords::volume.desc(), keywords::id.desc())),
        (S::Difficulty, false) => q.order((keywords::difficulty.asc(), keywords::id.asc())),
        (S::Difficulty, true) => q.order((keywords::difficulty.desc(), keywords::id.desc())),
        (S::Keyword, false) => q.order((keywords::keyword.asc(), keywords::id.asc())),
        (S::Keyword, true) => q.order((keywords::keyword.desc(), keywords::id.desc())),
    }
}

/// The rows that come after `last` in [`ordered`]'s order: the keyset of the next batch.
pub fn after(q: BoxedKeywords, ordering: KeywordOrdering, last: &Keyword) -> BoxedKeywords {
    macro_rules! past {
        ($column:expr, $value:expr) => {
            if ordering.descending {
                q.filter($column.lt($value).or($column.eq($value).and(keywords::id.lt(last.id))))
            } else {
                q.filter($column.gt($value).or($column.eq($value).and(keywords::id.gt(last.id))))
            }
        };
    }
    match ordering.sort {
        KeywordSort::Created => past!(keywords::created_at, last.created_at),
        KeywordSort::Volume => past!(keywords::volume, last.volume),
        KeywordSort::Difficulty => past!(keywords::difficulty, last.difficulty),
        KeywordSort::Keyword => past!(keywords::keyword, last.keyword.clone()),
    }
}
