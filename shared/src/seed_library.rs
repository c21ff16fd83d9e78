//! The seed keyword library: industries and their keywords, the same reference data for every
//! account (a planner imports from it). Only active rows, of active industries, are shown.

use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;

use crate::{
    Result,
    db::{
        models::{Industry, SeedKeyword},
        schema::{industries, seed_keywords},
    },
    planner::Intent,
    tenant::Window,
};

/// One page of the active industries whose name matches `name_pattern` (ILIKE), by name, and
/// how many match.
pub fn industries(
    conn: &mut PgConnection,
    name_pattern: Option<String>,
    window: Window,
) -> Result<(Vec<Industry>, i64)> {
    let filtered = || {
        let mut query = industries::table.filter(industries::is_active.eq(true)).into_boxed::<Pg>();
        if let Some(pattern) = &name_pattern {
            query = query.filter(industries::name.ilike(pattern.clone()));
        }
        query
    };
    let count: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((industries::name, industries::id))
        .offset(window.offset)
        .limit(window.limit)
        .select(Industry::as_select())
        .load(conn)?;
    Ok((rows, count))
}

/// An active industry.
pub fn industry(conn: &mut PgConnection, id: i64) -> Result<Option<Industry>> {
    Ok(industries::table
        .find(id)
        .filter(industries::is_active.eq(true))
        .select(Industry::as_select())
        .first(conn)
        .optional()?)
}

/// The active industry with this slug.
pub fn industry_by_slug(conn: &mut PgConnection, slug: &str) -> Result<Option<Industry>> {
    Ok(industries::table
        .filter(industries::slug.eq(slug))
        .filter(industries::is_active.eq(true))
        .select(Industry::as_select())
        .first(conn)
        .optional()?)
}

/// Order of the seed keyword list: a sort key, `-` in front for descending.
#[derive(Debug, Default, Deserialize, Clone, Copy, utoipa::ToSchema)]
pub enum SeedOrdering {
    #[serde(rename = "keyword")]
    #[default]
    Keyword,
    #[serde(rename = "-keyword")]
    KeywordDesc,
    #[serde(rename = "volume")]
    Volume,
    #[serde(rename = "-volume")]
    VolumeDesc,
    #[serde(rename = "difficulty")]
    Difficulty,
    #[serde(rename = "-difficulty")]
    DifficultyDesc,
}

/// Which seed keywords a list shows, and in which order.
#[derive(Debug, Default, Clone)]
pub struct SeedFilter {
    pub industry_id: Option<i64>,
    pub intent: Option<Intent>,
    /// An ILIKE pattern on the keyword ([`crate::tenant::contains`]).
    pub keyword_pattern: Option<String>,
    pub volume: (Option<i32>, Option<i32>),
    pub difficulty: (Option<i16>, Option<i16>),
    pub ordering: SeedOrdering,
}

/// One page of the active seed keywords of active industries matching `filter`, and how many
/// match.
pub fn seed_keywords(
    conn: &mut PgConnection,
    filter: &SeedFilter,
    window: Window,
) -> Result<(Vec<SeedKeyword>, i64)> {
    use seed_keywords::{difficulty, id, keyword, volume};
    let filtered = || {
        let mut query = seed_keywords::table
            .inner_join(industries::table)
            .filter(seed_keywords::is_active.eq(true))
            .filter(industries::is_active.eq(true))
            .select(SeedKeyword::as_select())
            .into_boxed::<Pg>();
        if let Some(industry_id) = filter.industry_id {
            query = query.filter(seed_keywords::industry_id.eq(industry_id));
        }
        if let Some(intent) = filter.intent {
            query = query.filter(seed_keywords::intent.eq(intent));
        }
        if let Some(pattern) = &filter.keyword_pattern {
            query = query.filter(keyword.ilike(pattern.clone()));
        }
        if let Some(min) = filter.volume.0 {
            query = query.filter(volume.ge(min));
        }
        if let Some(max) = filter.volume.1 {
            query = query.filter(volume.le(max));
        }
        if let Some(min) = filter.difficulty.0 {
            query = query.filter(difficulty.ge(min));
        }
        if let Some(max) = filter.difficulty.1 {
            query = query.filter(difficulty.le(max));
        }
        query
    };
    let count: i64 = filtered().count().get_result(conn)?;
    use SeedOrdering as O;
    let ordered = match filter.ordering {
        O::Keyword => filtered().order((keyword.asc(), id)),
        O::KeywordDesc => filtered().order((keyword.desc(), id.desc())),
        O::Volume => filtered().order((volume.asc(), id)),
        O::VolumeDesc => filtered().order((volume.desc(), id.desc())),
        O::Difficulty => filtered().order((difficulty.asc(), id)),
        O::DifficultyDesc => filtered().order((difficulty.desc(), id.desc())),
    };
    let rows = ordered.offset(window.offset).limit(window.limit).load(conn)?;
    Ok((rows, count))
}

/// An active seed keyword.
pub fn seed_keyword(conn: &mut PgConnection, id: i64) -> Result<Option<SeedKeyword>> {
    Ok(seed_keywords::table
        .find(id)
        .filter(seed_keywords::is_active.eq(true))
        .select(SeedKeyword::as_select())
        .first(conn)
        .optional()?)
}
