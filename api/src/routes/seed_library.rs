//! `/api/v1/auth/industries/` and `/api/v1/auth/seed-keywords/`: the read-only seed keyword
//! library. It is the same reference data for everyone and holds nothing of any tenant, so,
//! as in the seed (AllowAny), it answers with or without a token; anonymous callers are held
//! to the anonymous rate limit. Only active rows are shown.

use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;
use shared::db::{
    models::{Industry, SeedKeyword},
    schema::{industries, seed_keywords},
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::common::search_term;
use crate::{
    error::ApiError,
    extract::{ApiQuery, PathId},
    response::{self, Data, Page, PageParams},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_industries)
        .service(retrieve_industry)
        .service(list_seed_keywords)
        .service(retrieve_seed_keyword);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IndustryQuery {
    /// Industries whose name contains this text, case-insensitively.
    search: Option<String>,
}

/// The active industries of the seed library, by name. No token needed.
#[utoipa::path(
    tag = "seed-library",
    security(()),
    params(PageParams, IndustryQuery),
    responses((status = 200, body = Page<Industry>)),
)]
#[get("/industries")]
async fn list_industries(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<IndustryQuery>,
) -> Result<HttpResponse, ApiError> {
    let pattern = search_term(&query.0.search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q = industries::table.filter(industries::is_active.eq(true)).into_boxed::<Pg>();
                if let Some(pattern) = &pattern {
                    q = q.filter(industries::name.ilike(pattern.clone()));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<Industry> = filtered()
                .order((industries::name, industries::id))
                .offset(page.offset())
                .limit(page.size())
                .select(Industry::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// One active industry. No token needed.
#[utoipa::path(
    tag = "seed-library",
    security(()),
    params(("id" = i64, Path, description = "The industry id.")),
    responses((status = 200, body = Data<Industry>)),
)]
#[get("/industries/{id}")]
async fn retrieve_industry(state: web::Data<AppState>, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let row = state
        .db(move |conn| {
            Ok(industries::table
                .find(id)
                .filter(industries::is_active.eq(true))
                .select(Industry::as_select())
                .first(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "industry" })?;
    Ok(response::ok(row))
}

/// Order of the seed keyword list: a sort key, `-` in front for descending.
#[derive(Debug, Deserialize, Clone, Copy, utoipa::ToSchema)]
enum SeedOrdering {
    #[serde(rename = "keyword")]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SeedQuery {
    /// Only keywords of this industry.
    industry_id: Option<i64>,
    /// Only keywords with this search intent.
    #[param(inline)]
    intent: Option<super::planner::Intent>,
    /// Keywords containing this text, case-insensitively.
    search: Option<String>,
    /// Only keywords with at least this search volume.
    volume_min: Option<i32>,
    /// Only keywords with at most this search volume (not below `volume_min`).
    volume_max: Option<i32>,
    /// Only keywords at least this difficult.
    #[param(minimum = -32768, maximum = 32767)]
    difficulty_min: Option<i16>,
    /// Only keywords at most this difficult (not below `difficulty_min`).
    #[param(minimum = -32768, maximum = 32767)]
    difficulty_max: Option<i16>,
    /// The order of the rows (default `keyword`).
    #[param(inline)]
    ordering: Option<SeedOrdering>,
}

/// The active seed keywords of active industries, filtered and ordered. No token needed.
#[utoipa::path(
    tag = "seed-library",
    security(()),
    params(PageParams, SeedQuery),
    responses((status = 200, body = Page<SeedKeyword>)),
)]
#[get("/seed-keywords")]
async fn list_seed_keywords(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<SeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let pattern = search_term(&q.search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut f = seed_keywords::table
                    .inner_join(industries::table)
                    .filter(seed_keywords::is_active.eq(true))
                    .filter(industries::is_active.eq(true))
                    .select(SeedKeyword::as_select())
                    .into_boxed::<Pg>();
                if let Some(industry_id) = q.industry_id {
                    f = f.filter(seed_keywords::industry_id.eq(industry_id));
                }
                if let Some(intent) = q.intent {
                    f = f.filter(seed_keywords::intent.eq(intent.as_str()));
                }
                if let Some(pattern) = &pattern {
                    f = f.filter(seed_keywords::keyword.ilike(pattern.clone()));
                }
                if let Some(min) = q.volume_min {
                    f = f.filter(seed_keywords::volume.ge(min));
                }
                if let Some(max) = q.volume_max {
                    f = f.filter(seed_keywords::volume.le(max));
                }
                if let Some(min) = q.difficulty_min {
                    f = f.filter(seed_keywords::difficulty.ge(min));
                }
                if let Some(max) = q.difficulty_max {
                    f = f.filter(seed_keywords::difficulty.le(max));
                }
                f
            };
            let count: i64 = filtered().count().get_result(conn)?;
            use SeedOrdering as O;
            use seed_keywords::{difficulty, id, keyword, volume};
            let ordered = match q.ordering.unwrap_or(O::Keyword) {
                O::Keyword => filtered().order((keyword.asc(), id)),
                O::KeywordDesc => filtered().order((keyword.desc(), id.desc())),
                O::Volume => filtered().order((volume.asc(), id)),
                O::VolumeDesc => filtered().order((volume.desc(), id.desc())),
                O::Difficulty => filtered().order((difficulty.asc(), id)),
                O::DifficultyDesc => filtered().order((difficulty.desc(), id.desc())),
            };
            let rows: Vec<SeedKeyword> = ordered.offset(page.offset()).limit(page.size()).load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// One active seed keyword. No token needed.
#[utoipa::path(
    tag = "seed-library",
    security(()),
    params(("id" = i64, Path, description = "The seed keyword id.")),
    responses((status = 200, body = Data<SeedKeyword>)),
)]
#[get("/seed-keywords/{id}")]
async fn retrieve_seed_keyword(
    state: web::Data<AppState>,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let row = state
        .db(move |conn| {
            Ok(seed_keywords::table
                .find(id)
                .filter(seed_keywords::is_active.eq(true))
                .select(SeedKeyword::as_select())
                .first(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "seed keyword" })?;
    Ok(response::ok(row))
}
