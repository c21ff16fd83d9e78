//! `/api/v1/planner/clusters/`: groups of keywords. `keywords_count` and `volume` are kept
//! true by the keyword handlers (see [`shared::planner::refresh_cluster_totals`]); deleting a cluster
//! leaves its keywords unclustered (the foreign key sets their `cluster_id` to null).

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;
use shared::{
    db::{
        models::{Cluster, Keyword},
        schema::clusters,
    },
    planner::keywords::KeywordFilter,
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BulkIds, DeletedCount, Intent, Refs, check_refs, keyword_query::KeywordQuery, nullable};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    routes::common::{deleted, search_term},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(bulk_delete)
        .service(retrieve)
        .service(cluster_keywords)
        .service(update)
        .service(remove);
}

/// Status of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum ClusterStatus {
    Active,
    Archived,
}

impl ClusterStatus {
    fn as_str(self) -> &'static str {
        match self {
            ClusterStatus::Active => "active",
            ClusterStatus::Archived => "archived",
        }
    }
}

/// Order of the cluster list: a sort key, `-` in front for descending.
#[derive(Debug, Deserialize, Clone, Copy, utoipa::ToSchema)]
enum ClusterOrdering {
    #[serde(rename = "keywords_count")]
    KeywordsCount,
    #[serde(rename = "-keywords_count")]
    KeywordsCountDesc,
    #[serde(rename = "volume")]
    Volume,
    #[serde(rename = "-volume")]
    VolumeDesc,
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
    CreatedDesc,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only clusters with this status.
    #[param(inline)]
    status: Option<ClusterStatus>,
    /// Only clusters of this site.
    site_id: Option<i64>,
    /// Only clusters of this sector.
    sector_id: Option<i64>,
    /// Only clusters with this search intent.
    #[param(inline)]
    intent: Option<Intent>,
    /// Clusters whose name contains this text, case-insensitively.
    search: Option<String>,
    /// The order of the rows (default `-created_at`).
    #[param(inline)]
    ordering: Option<ClusterOrdering>,
}

/// The account's clusters, filtered and ordered (newest first by default).
#[utoipa::path(
    tag = "planner",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Cluster>)),
)]
#[get("/clusters")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { status, site_id, sector_id, intent, search, ordering } = query.0;
    let pattern = search_term(&search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q: clusters::BoxedQuery<'static, Pg> =
                    clusters::table.filter(clusters::account_id.eq(auth.account_id)).into_boxed();
                if let Some(status) = status {
                    q = q.filter(clusters::status.eq(status.as_str()));
                }
                if let Some(site_id) = site_id {
                    q = q.filter(clusters::site_id.eq(site_id));
                }
                if let Some(sector_id) = sector_id {
                    q = q.filter(clusters::sector_id.eq(sector_id));
                }
                if let Some(intent) = intent {
                    q = q.filter(clusters::intent.eq(intent.as_str()));
                }
                if let Some(pattern) = &pattern {
                    q = q.filter(clusters::name.ilike(pattern.clone()));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            use ClusterOrdering as O;
            let ordered = match ordering.unwrap_or(O::CreatedDesc) {
                O::KeywordsCount => filtered().order((clusters::keywords_count.asc(), clusters::id)),
                O::KeywordsCountDesc => {
                    filtered().order((clusters::keywords_count.desc(), clusters::id.desc()))
                }
                O::Volume => filtered().order((clusters::volume.asc(), clusters::id)),
                O::VolumeDesc => filtered().order((clusters::volume.desc(), clusters::id.desc())),
                O::Created => filtered().order((clusters::created_at.asc(), clusters::id)),
                O::CreatedDesc => filtered().order((clusters::created_at.desc(), clusters::id.desc())),
                O::Name => filtered().order((clusters::name.asc(), clusters::id)),
                O::NameDesc => filtered().order((clusters::name.desc(), clusters::id.desc())),
            };
            let rows: Vec<Cluster> =
                ordered.offset(page.offset()).limit(page.size()).select(Cluster::as_select()).load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `name` and `site_id` are required. A cluster
    /// stays on its site: its keywords are on it.
    #[serde(deny_unknown_fields)]
    ClusterInput, NewCluster {
        /// The name (trimmed, at most 200 characters), unique on the site and sector; required
        /// on create.
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        @required name: String,
        /// One of the account's sites; required on create, and on update only the cluster's own.
        @required site_id: i64,
        /// A sector of that site, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        sector_id: Option<Option<i64>>,
        /// At most 5,000 characters.
        #[schema(max_length = 5000)]
        description: Option<String>,
        /// The search intent, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        intent: Option<Option<Intent>>,
        /// Default `active`.
        status: Option<ClusterStatus>,
    }
}

impl Validate for ClusterInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 5_000);
        validation::finish(errors)
    }
}

/// Adds a cluster to a site (and optionally a sector of it).
#[utoipa::path(
    tag = "planner",
    request_body = NewCluster,
    responses(
        (status = 201, body = Data<Cluster>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site (and sector) already has a cluster of this name.", body = ErrorBody),
    ),
)]
#[post("/clusters")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewCluster>,
) -> Result<HttpResponse, ApiError> {
    let input = ClusterInput::from(body.0);
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let site_id = input.site_id.unwrap_or_default();
    let sector_id = input.sector_id.flatten();
    check_refs(&state, auth.account_id, Refs { site_id, sector_id, cluster_id: None }).await?;
    let row = state
        .db(move |conn| {
            Ok(diesel::insert_into(clusters::table)
                .values((
                    clusters::account_id.eq(auth.account_id),
                    clusters::site_id.eq(site_id),
                    clusters::sector_id.eq(sector_id),
                    clusters::name.eq(name),
                    clusters::description.eq(input.description.unwrap_or_default().trim().to_owned()),
                    clusters::intent.eq(input.intent.flatten().map(Intent::as_str)),
                    clusters::status.eq(input.status.unwrap_or(ClusterStatus::Active).as_str()),
                ))
                .returning(Cluster::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
}

/// One cluster.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The cluster id.")),
    responses((status = 200, body = Data<Cluster>)),
)]
#[get("/clusters/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<Cluster>(&state, auth.account(), id.0).await
}

/// The cluster's keywords, with the keyword list's filters and ordering (`cluster_id` is the
/// path's).
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The cluster id."), PageParams, KeywordQuery),
    responses((status = 200, body = Page<Keyword>)),
)]
#[get("/clusters/{id}/keywords")]
async fn cluster_keywords(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<KeywordQuery>,
) -> Result<HttpResponse, ApiError> {
    let cluster = crud::find::<Cluster>(&state, auth.account(), id.0).await?;
    let filter = KeywordFilter { cluster_id: Some(cluster.id), ..KeywordFilter::from(query.0) };
    crud::list::<Keyword>(&state, auth.account(), filter, &req, page).await
}

/// PUT and PATCH both apply the fields sent (partial update). A cluster stays on its site.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The cluster id.")),
    request_body = ClusterInput,
    responses(
        (status = 200, body = Data<Cluster>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site (and sector) already has a cluster of this name.", body = ErrorBody),
    ),
)]
#[route("/clusters/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<ClusterInput>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<Cluster>(&state, auth.account(), id.0).await?;
    if input.site_id.is_some_and(|site_id| site_id != current.site_id) {
        return Err(ApiError::field("site_id", "A cluster cannot move to another site."));
    }
    if let Some(sector_id) = input.sector_id
        && sector_id != current.sector_id
    {
        check_refs(&state, account_id, Refs { site_id: current.site_id, sector_id, cluster_id: None })
            .await?;
    }
    let row = state
        .db(move |conn| {
            Ok(diesel::update(clusters::table.find(current.id).filter(clusters::account_id.eq(account_id)))
                .set((
                    input.name.map(|name| clusters::name.eq(name.trim().to_owned())),
                    input.sector_id.map(|sector_id| clusters::sector_id.eq(sector_id)),
                    input
                        .description
                        .map(|description| clusters::description.eq(description.trim().to_owned())),
                    input.intent.map(|intent| clusters::intent.eq(intent.map(Intent::as_str))),
                    input.status.map(|status| clusters::status.eq(status.as_str())),
                    clusters::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Cluster::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "cluster" })?;
    Ok(response::ok(row))
}

/// Deletes a cluster; its keywords stay, unclustered.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The cluster id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[delete("/clusters/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let rows = delete_clusters(&state, auth.account_id, vec![id.0]).await?;
    deleted(rows, "cluster")
}

async fn delete_clusters(state: &AppState, account_id: i64, ids: Vec<i64>) -> Result<usize, ApiError> {
    state
        .db(move |conn| {
            Ok(diesel::delete(
                clusters::table.filter(clusters::account_id.eq(account_id)).filter(clusters::id.eq_any(&ids)),
            )
            .execute(conn)?)
        })
        .await
}

/// Deletes the caller's clusters among `ids` (their keywords stay, unclustered); the others
/// are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Data<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/clusters/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = delete_clusters(&state, auth.account_id, body.0.ids).await?;
    Ok(response::ok(DeletedCount { deleted_count }))
}
