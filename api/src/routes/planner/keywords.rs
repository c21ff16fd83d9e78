//! `/api/v1/planner/keywords/`: CRUD, bulk actions and copying from the seed library. The
//! list's filters and ordering live in [`super::keyword_query`], which the CSV export shares.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use shared::db::{
    models::Keyword,
    schema::{keywords, seed_keywords},
};
use utoipa_actix_web::service_config::ServiceConfig;

use shared::planner::refresh_cluster_totals;

use super::{
    BulkIds, DeletedCount, Intent, KeywordStatus, Refs, UpdatedCount, check_ids, check_moved_refs,
    check_refs, id_list,
    keyword_query::{KeywordFilter, ordered},
    nullable,
};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    routes::common::deleted,
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(bulk_delete)
        .service(bulk_update_status)
        .service(bulk_add_from_seed)
        .service(retrieve)
        .service(update)
        .service(remove);
}

/// Longest keyword accepted, in characters.
pub const MAX_KEYWORD_LEN: usize = 255;

/// The account's keywords, filtered and ordered (newest first by default).
#[utoipa::path(
    tag = "planner",
    params(PageParams, KeywordFilter),
    responses((status = 200, body = Page<Keyword>)),
)]
#[get("/keywords")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<KeywordFilter>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.0;
    let (rows, count) = state
        .db(move |conn| {
            let count: i64 = filter.query(auth.account_id).count().get_result(conn)?;
            let rows: Vec<Keyword> = ordered(filter.query(auth.account_id), filter.ordering())
                .offset(page.offset())
                .limit(page.size())
                .select(Keyword::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `keyword` and `site_id` are required.
    #[serde(deny_unknown_fields)]
    KeywordInput, NewKeyword {
        /// The keyword (trimmed, at most 255 characters); required on create.
        #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
        @required keyword: String,
        /// One of the account's sites; required on create.
        @required site_id: i64,
        /// A sector of that site, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        sector_id: Option<Option<i64>>,
        /// A cluster of that site, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        cluster_id: Option<Option<i64>>,
        /// Monthly search volume (default 0).
        #[schema(minimum = 0)]
        volume: Option<i32>,
        /// Ranking difficulty (default 0).
        #[schema(minimum = 0, maximum = 100)]
        difficulty: Option<i16>,
        /// Default `informational`.
        intent: Option<Intent>,
        /// Default `active`.
        status: Option<KeywordStatus>,
    }
}

impl Validate for KeywordInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(keyword) = &self.keyword {
            validation::text(&mut errors, "keyword", keyword, MAX_KEYWORD_LEN);
        }
        if self.volume.is_some_and(|volume| volume < 0) {
            validation::push(&mut errors, "volume", "Must be 0 or more.");
        }
        if self.difficulty.is_some_and(|difficulty| !(0..=100).contains(&difficulty)) {
            validation::push(&mut errors, "difficulty", "Must be between 0 and 100.");
        }
        validation::finish(errors)
    }
}

/// Adds a keyword to a site (and optionally a sector and cluster of it).
#[utoipa::path(
    tag = "planner",
    request_body = NewKeyword,
    responses(
        (status = 201, body = Data<Keyword>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site (and sector) already has this keyword.", body = ErrorBody),
    ),
)]
#[post("/keywords")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewKeyword>,
) -> Result<HttpResponse, ApiError> {
    let input = KeywordInput::from(body.0);
    let keyword = input.keyword.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: input.cluster_id.flatten(),
    };
    check_refs(&state, auth.account_id, refs).await?;
    let row = state
        .db(move |conn| {
            conn.transaction::<_, shared::Error, _>(|conn| {
                let row = diesel::insert_into(keywords::table)
                    .values((
                        keywords::account_id.eq(auth.account_id),
                        keywords::site_id.eq(refs.site_id),
                        keywords::sector_id.eq(refs.sector_id),
                        keywords::cluster_id.eq(refs.cluster_id),
                        keywords::keyword.eq(keyword),
                        keywords::volume.eq(input.volume.unwrap_or(0)),
                        keywords::difficulty.eq(input.difficulty.unwrap_or(0)),
                        keywords::intent.eq(input.intent.unwrap_or(Intent::Informational).as_str()),
                        keywords::status.eq(input.status.unwrap_or(KeywordStatus::Active).as_str()),
                    ))
                    .returning(Keyword::as_returning())
                    .get_result(conn)?;
                refresh_cluster_totals(conn, &Vec::from_iter(row.cluster_id))?;
                Ok(row)
            })
        })
        .await?;
    Ok(response::created(row))
}

/// One keyword.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The keyword id.")),
    responses((status = 200, body = Data<Keyword>)),
)]
#[get("/keywords/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<Keyword>(&state, auth.account(), id.0).await
}

/// PUT and PATCH both apply the fields sent (partial update); the cluster totals follow.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The keyword id.")),
    request_body = KeywordInput,
    responses(
        (status = 200, body = Data<Keyword>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site (and sector) already has this keyword.", body = ErrorBody),
    ),
)]
#[route("/keywords/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<KeywordInput>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<Keyword>(&state, auth.account(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, account_id, was, refs).await?;
    let row = state
        .db(move |conn| {
            conn.transaction::<_, shared::Error, _>(|conn| {
                let row = diesel::update(
                    keywords::table.find(current.id).filter(keywords::account_id.eq(account_id)),
                )
                .set((
                    input.keyword.map(|keyword| keywords::keyword.eq(keyword.trim().to_owned())),
                    input.site_id.map(|site_id| keywords::site_id.eq(site_id)),
                    input.sector_id.map(|sector_id| keywords::sector_id.eq(sector_id)),
                    input.cluster_id.map(|cluster_id| keywords::cluster_id.eq(cluster_id)),
                    input.volume.map(|volume| keywords::volume.eq(volume)),
                    input.difficulty.map(|difficulty| keywords::difficulty.eq(difficulty)),
                    input.intent.map(|intent| keywords::intent.eq(intent.as_str())),
                    input.status.map(|status| keywords::status.eq(status.as_str())),
                    keywords::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Keyword::as_returning())
                .get_result(conn)
                .optional()?;
                if let Some(row) = &row {
                    let touched: Vec<i64> =
                        [current.cluster_id, row.cluster_id].into_iter().flatten().collect();
                    refresh_cluster_totals(conn, &touched)?;
                }
                Ok(row)
            })
        })
        .await?
        .ok_or(ApiError::NotFound { what: "keyword" })?;
    Ok(response::ok(row))
}

/// Deletes a keyword; its cluster's totals follow.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The keyword id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[delete("/keywords/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let rows = delete_keywords(&state, auth.account_id, vec![id.0]).await?;
    deleted(rows, "keyword")
}

/// Deletes the caller's keywords among `ids` and keeps their clusters' totals true.
async fn delete_keywords(state: &AppState, account_id: i64, ids: Vec<i64>) -> Result<usize, ApiError> {
    state
        .db(move |conn| {
            conn.transaction::<_, shared::Error, _>(|conn| {
                let clusters: Vec<Option<i64>> = diesel::delete(
                    keywords::table
                        .filter(keywords::account_id.eq(account_id))
                        .filter(keywords::id.eq_any(&ids)),
                )
                .returning(keywords::cluster_id)
                .get_results(conn)?;
                let touched: Vec<i64> = clusters.iter().copied().flatten().collect();
                refresh_cluster_totals(conn, &touched)?;
                Ok(clusters.len())
            })
        })
        .await
}

/// Deletes the caller's keywords among `ids`; the others are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Data<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/keywords/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = delete_keywords(&state, auth.account_id, body.0.ids).await?;
    Ok(response::ok(DeletedCount { deleted_count }))
}

/// New status for the caller's keywords among `ids`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = KeywordBulkStatus)]
#[serde(deny_unknown_fields)]
struct BulkStatus {
    /// The keywords (1 to 1000 ids); ids the account does not have are ignored.
    #[serde(deserialize_with = "id_list")]
    #[schema(min_items = 1, max_items = 1000)]
    ids: Vec<i64>,
    status: KeywordStatus,
}

impl Validate for BulkStatus {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_ids(&mut errors, "ids", &self.ids);
        validation::finish(errors)
    }
}

/// Sets the status of the caller's keywords among `ids`; the others are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkStatus,
    responses(
        (status = 200, body = Data<UpdatedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/keywords/bulk_update_status")]
async fn bulk_update_status(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkStatus>,
) -> Result<HttpResponse, ApiError> {
    let BulkStatus { ids, status } = body.0;
    let account_id = auth.account_id;
    let updated_count = state
        .db(move |conn| {
            Ok(diesel::update(
                keywords::table.filter(keywords::account_id.eq(account_id)).filter(keywords::id.eq_any(&ids)),
            )
            .set((keywords::status.eq(status.as_str()), keywords::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?)
        })
        .await?;
    Ok(response::ok(UpdatedCount { updated_count }))
}

/// Seed keywords to copy into a site (and sector) of the caller's.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FromSeed {
    /// Seed keywords (1 to 1000 ids); inactive or unknown ones are ignored.
    #[serde(deserialize_with = "id_list")]
    #[schema(min_items = 1, max_items = 1000)]
    seed_keyword_ids: Vec<i64>,
    site_id: i64,
    /// A sector of that site, or null for none.
    #[serde(default)]
    sector_id: Option<i64>,
}

/// The answer of `bulk_add_from_seed`: the keywords added (not those the site already had).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AddedFromSeed {
    added_count: usize,
    keywords: Vec<Keyword>,
}

impl Validate for FromSeed {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_ids(&mut errors, "seed_keyword_ids", &self.seed_keyword_ids);
        validation::finish(errors)
    }
}

/// Copies seed keywords (text, volume, difficulty, intent) into the planner. Seed keywords the
/// site (and sector) already has, by text, are skipped: repeating the call adds nothing.
#[utoipa::path(
    tag = "planner",
    request_body = FromSeed,
    responses(
        (status = 200, body = Data<AddedFromSeed>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/keywords/bulk_add_from_seed")]
async fn bulk_add_from_seed(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<FromSeed>,
) -> Result<HttpResponse, ApiError> {
    let FromSeed { seed_keyword_ids, site_id, sector_id } = body.0;
    check_refs(&state, auth.account_id, Refs { site_id, sector_id, cluster_id: None }).await?;
    let account_id = auth.account_id;
    let added = state
        .db(move |conn| {
            let seeds: Vec<(i64, String, i32, i16, String)> = seed_keywords::table
                .filter(seed_keywords::id.eq_any(&seed_keyword_ids))
                .filter(seed_keywords::is_active.eq(true))
                .order(seed_keywords::id)
                .select((
                    seed_keywords::id,
                    seed_keywords::keyword,
                    seed_keywords::volume,
                    seed_keywords::difficulty,
                    seed_keywords::intent,
                ))
                .load(conn)?;
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<_> = seeds
                .into_iter()
                .filter(|(_, keyword, ..)| seen.insert(keyword.to_lowercase()))
                .map(|(seed_id, keyword, volume, difficulty, intent)| {
                    (
                        keywords::account_id.eq(account_id),
                        keywords::site_id.eq(site_id),
                        keywords::sector_id.eq(sector_id),
                        keywords::seed_keyword_id.eq(Some(seed_id)),
                        keywords::keyword.eq(keyword),
                        keywords::volume.eq(volume),
                        keywords::difficulty.eq(difficulty),
                        keywords::intent.eq(intent),
                    )
                })
                .collect();
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            // A keyword already on the site and sector hits the unique index and is skipped.
            Ok(diesel::insert_into(keywords::table)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(Keyword::as_returning())
                .get_results::<Keyword>(conn)?)
        })
        .await?;
    Ok(response::ok(AddedFromSeed { added_count: added.len(), keywords: added }))
}
