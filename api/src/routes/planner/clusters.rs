//! `/api/v1/planner/clusters/`: groups of keywords. `keywords_count` and `volume` are kept
//! true by the keyword writes (see [`shared::planner::refresh_cluster_totals`]); deleting a
//! cluster leaves its keywords unclustered (the foreign key sets their `cluster_id` to null).

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::{
    planner::{
        Cluster, ClusterStatus, Keyword,
        clusters::{ClusterFilter, ClusterInsertForm, ClusterOrdering, ClusterUpdateForm},
        keywords::KeywordFilter,
    },
    tenant,
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BulkIds, DeletedCount, Intent, Refs, check_refs, keyword_query::KeywordQuery, nullable};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Flat, Page, PageParams},
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
    let filter = ClusterFilter {
        status,
        site_id,
        sector_id,
        intent,
        name: tenant::contains(search.as_deref()),
        ordering: ordering.unwrap_or_default(),
    };
    crud::list::<Cluster>(&state, auth.scope(), filter, &req, page).await
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
    let site_id = input.site_id.unwrap_or_default();
    let sector_id = input.sector_id.flatten();
    check_refs(&state, auth.scope(), Refs { site_id, sector_id, cluster_id: None }).await?;
    let form = ClusterInsertForm {
        site_id,
        sector_id,
        name: input.name.as_deref().map(str::trim).unwrap_or_default().to_owned(),
        description: input.description.unwrap_or_default().trim().to_owned(),
        intent: input.intent.flatten(),
        status: input.status.unwrap_or(ClusterStatus::Active),
    };
    crud::create_limited::<Cluster>(&state, auth.scope(), shared::plans::Limited::Clusters, form).await
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
    crud::retrieve::<Cluster>(&state, auth.scope(), id.0).await
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
    let cluster = crud::find::<Cluster>(&state, auth.scope(), id.0).await?;
    let filter = KeywordFilter { cluster_id: Some(cluster.id), ..KeywordFilter::from(query.0) };
    crud::list::<Keyword>(&state, auth.scope(), filter, &req, page).await
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
    let input = body.0;
    let current = crud::find::<Cluster>(&state, auth.scope(), id.0).await?;
    if input.site_id.is_some_and(|site_id| site_id != current.site_id) {
        return Err(ApiError::field("site_id", "A cluster cannot move to another site."));
    }
    if let Some(sector_id) = input.sector_id
        && sector_id != current.sector_id
    {
        let refs = Refs { site_id: current.site_id, sector_id, cluster_id: None };
        check_refs(&state, auth.scope(), refs).await?;
    }
    let form = ClusterUpdateForm {
        name: input.name.map(|name| name.trim().to_owned()),
        sector_id: input.sector_id,
        description: input.description.map(|description| description.trim().to_owned()),
        intent: input.intent,
        status: input.status,
    };
    crud::update::<Cluster>(&state, auth.scope(), current.id, form).await
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
    crud::delete::<Cluster>(&state, auth.scope(), id.0).await
}

/// Deletes the caller's clusters among `ids` (their keywords stay, unclustered); the others
/// are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Flat<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/clusters/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = crud::delete_many::<Cluster>(&state, auth.scope(), body.0.ids).await?;
    Ok(response::flat(DeletedCount { deleted_count }))
}
