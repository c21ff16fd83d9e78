//! `/api/v1/auth/industries/` and `/api/v1/auth/seed-keywords/`: the read-only seed keyword
//! library. It is the same reference data for everyone and holds nothing of any tenant, so,
//! as in the seed (AllowAny), it answers with or without a token; anonymous callers are held
//! to the anonymous rate limit. Only active rows are shown.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use shared::{
    db::models::{Industry, SeedKeyword},
    seed_library::{self, SeedFilter, SeedOrdering},
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
    let (pattern, window) = (search_term(&query.0.search), page.window());
    let (rows, count) = state.db(move |conn| seed_library::industries(conn, pattern, window)).await?;
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
        .db(move |conn| seed_library::industry(conn, id))
        .await?
        .ok_or(ApiError::NotFound { what: "industry" })?;
    Ok(response::ok(row))
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
    let filter = SeedFilter {
        industry_id: q.industry_id,
        intent: q.intent,
        keyword_pattern: search_term(&q.search),
        volume: (q.volume_min, q.volume_max),
        difficulty: (q.difficulty_min, q.difficulty_max),
        ordering: q.ordering.unwrap_or_default(),
    };
    let window = page.window();
    let (rows, count) = state.db(move |conn| seed_library::seed_keywords(conn, &filter, window)).await?;
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
        .db(move |conn| seed_library::seed_keyword(conn, id))
        .await?
        .ok_or(ApiError::NotFound { what: "seed keyword" })?;
    Ok(response::ok(row))
}
