//! `/api/v1/planner/keywords/bulk_*`: deleting and re-statusing many keywords at once, and
//! copying keywords from the seed library. Ids the caller does not have are ignored.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use shared::planner::{Keyword, KeywordStatus, keywords};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BulkIds, DeletedCount, Refs, UpdatedCount, check_ids, check_refs, id_list};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, Editor, Validate},
    response::{self, Data, Flat},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(bulk_delete).service(bulk_update_status).service(bulk_add_from_seed);
}

/// Deletes the caller's keywords among `ids`; the others are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Flat<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/keywords/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let (scope, ids) = (auth.scope(), body.0.ids);
    let deleted_count = state.db(move |conn| keywords::delete(conn, &scope, &ids)).await?;
    Ok(response::flat(DeletedCount { deleted_count }))
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
        (status = 200, body = Flat<UpdatedCount>),
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
    let scope = auth.scope();
    let updated_count = state.db(move |conn| keywords::set_status(conn, &scope, &ids, status)).await?;
    Ok(response::flat(UpdatedCount { updated_count }))
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
    check_refs(&state, auth.scope(), Refs { site_id, sector_id, cluster_id: None }).await?;
    let account = auth.account();
    let added = state
        .db(move |conn| keywords::add_from_seed(conn, account, &seed_keyword_ids, site_id, sector_id))
        .await?;
    Ok(response::ok(AddedFromSeed { added_count: added.len(), keywords: added }))
}
