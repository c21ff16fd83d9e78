//! `/api/v1/planner/keywords/`: CRUD (the bulk actions are [`super::keyword_bulk`]'s). The
//! list's query lives in [`super::keyword_query`], which the CSV export shares; the rules
//! (cluster totals follow every write) are `shared::planner::keywords`'.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use shared::planner::{
    Keyword, KeywordStatus,
    keywords::{self, KeywordFilter, KeywordInsertForm, KeywordUpdateForm, MAX_KEYWORD_LEN},
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Intent, Refs, check_moved_refs, check_refs, keyword_query::KeywordQuery, nullable};
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
        .configure(super::keyword_bulk::configure)
        .service(retrieve)
        .service(update)
        .service(remove);
}

/// The account's keywords, filtered and ordered (newest first by default).
#[utoipa::path(
    tag = "planner",
    params(PageParams, KeywordQuery),
    responses((status = 200, body = Page<Keyword>)),
)]
#[get("/keywords")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<KeywordQuery>,
) -> Result<HttpResponse, ApiError> {
    crud::list::<Keyword>(&state, auth.scope(), KeywordFilter::from(query.0), &req, page).await
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
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: input.cluster_id.flatten(),
    };
    check_refs(&state, auth.scope(), refs).await?;
    let form = KeywordInsertForm {
        site_id: refs.site_id,
        sector_id: refs.sector_id,
        cluster_id: refs.cluster_id,
        seed_keyword_id: None,
        keyword: input.keyword.as_deref().map(str::trim).unwrap_or_default().to_owned(),
        volume: input.volume.unwrap_or(0),
        difficulty: input.difficulty.unwrap_or(0),
        intent: input.intent.unwrap_or(Intent::Informational),
        status: input.status.unwrap_or(KeywordStatus::Active),
    };
    let account = auth.account();
    Ok(response::created(state.db(move |conn| keywords::create(conn, account, form)).await?))
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
    crud::retrieve::<Keyword>(&state, auth.scope(), id.0).await
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
    let (scope, input) = (auth.scope(), body.0);
    let current = crud::find::<Keyword>(&state, scope.clone(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, auth.scope(), was, refs).await?;
    let form = KeywordUpdateForm {
        keyword: input.keyword.map(|keyword| keyword.trim().to_owned()),
        site_id: input.site_id,
        sector_id: input.sector_id,
        cluster_id: input.cluster_id,
        volume: input.volume,
        difficulty: input.difficulty,
        intent: input.intent,
        status: input.status,
    };
    let row = state
        .db(move |conn| keywords::update(conn, &scope, current.id, form))
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
    let scope = auth.scope();
    deleted(state.db(move |conn| keywords::delete(conn, &scope, &[id.0])).await?, "keyword")
}
