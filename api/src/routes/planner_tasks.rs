//! The planner's AI commands: `keywords/auto_cluster/` and `clusters/auto_generate_ideas/`.
//! Each checks what it can up front (the keywords or clusters are the caller's, the account
//! can pay) and answers 202 with the task to poll; `worker-clustering` does the work.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use shared::{
    net::OutboundGuard,
    planner::{
        Cluster,
        keywords::{self, Selection, SelectionProblem},
    },
    settings,
    tasks::{
        AutoCluster, GenerateIdeas, Payload,
        planner::{AutoClusterPayload, ClusterMode, GenerateIdeasPayload, MAX_CLUSTER_KEYWORDS},
    },
    tenant::Scoped,
};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, Editor, IdempotencyKey, Validate},
    response::Accepted,
    routes::commands,
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(auto_cluster).service(auto_generate_ideas);
}

/// What to cluster: keyword ids, or a site (and sector) whose active keywords to cluster.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AutoClusterInput {
    /// The keywords to cluster (1 to 10,000 ids, all on one site); without them, every active
    /// keyword of `site_id` (and `sector_id`).
    #[schema(min_items = 1, max_items = 10000)]
    ids: Option<Vec<i64>>,
    /// The site whose keywords to cluster; required without `ids`.
    site_id: Option<i64>,
    /// Narrows the keywords to this sector.
    sector_id: Option<i64>,
    /// How many clusters to make; the algorithm decides when absent.
    #[schema(minimum = 1, maximum = 1000)]
    cluster_count: Option<u32>,
    /// Default `semantic`.
    #[serde(default)]
    mode: ClusterMode,
}

impl Validate for AutoClusterInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match &self.ids {
            Some(ids) if ids.is_empty() || ids.len() > MAX_CLUSTER_KEYWORDS => validation::push(
                &mut errors,
                "ids",
                format!("Send 1 to {MAX_CLUSTER_KEYWORDS} keyword ids, or none to cluster a whole site."),
            ),
            None if self.site_id.is_none() => validation::push(
                &mut errors,
                "site_id",
                "Send keyword ids or the site whose keywords to cluster.",
            ),
            _ => {}
        }
        if let Some(count) = self.cluster_count
            && !(1..=shared::tasks::planner::MAX_CLUSTER_COUNT).contains(&count)
        {
            validation::push(&mut errors, "cluster_count", "Must be between 1 and 1000.");
        }
        validation::finish(errors)
    }
}

/// The keywords the input names (or its site's active ones), or why they cannot be clustered.
async fn select_keywords(
    state: &AppState,
    auth: &Editor,
    input: &AutoClusterInput,
) -> Result<Selection, ApiError> {
    let (scope, ids, site_id, sector_id) = (auth.scope(), input.ids.clone(), input.site_id, input.sector_id);
    let selected = state
        .db(move |conn| {
            keywords::select_for_clustering(
                conn,
                &scope,
                ids.as_deref(),
                site_id,
                sector_id,
                MAX_CLUSTER_KEYWORDS,
            )
        })
        .await?;
    selected.map_err(|problem| match problem {
        SelectionProblem::Missing(ids) => {
            ApiError::missing("ids", format!("No such keywords: {}.", list(&ids)))
        }
        SelectionProblem::Nothing => ApiError::conflict(
            "nothing_to_cluster",
            "site_id",
            "This site (or sector) has no active keywords to cluster.",
        ),
        SelectionProblem::TooMany => ApiError::field(
            "site_id",
            format!("More than {MAX_CLUSTER_KEYWORDS} keywords; send ids or a sector."),
        ),
        SelectionProblem::ManySites => ApiError::field("ids", "The keywords must all belong to one site."),
    })
}

/// `1, 2, 3`.
fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Groups keywords into clusters with AI (a `planner.auto_cluster` task), after checking the
/// keywords and that the account can pay for them. Send an `Idempotency-Key` to make retries
/// safe.
#[utoipa::path(
    tag = "planner",
    params(IdempotencyKey),
    request_body = AutoClusterInput,
    responses(
        (status = 202, body = Accepted),
        (status = 402, description = "The account has too few credits.", body = ErrorBody),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/keywords/auto_cluster")]
async fn auto_cluster(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<AutoClusterInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let selection = select_keywords(&state, &auth, &input).await?;
    let keywords = selection.keyword_ids.len() as u64;
    let payload = AutoClusterPayload {
        site_id: selection.site_id,
        sector_id: selection.sector_id,
        keyword_ids: selection.keyword_ids,
        cluster_count: input.cluster_count,
        mode: input.mode,
    };
    commands::enqueue_paid::<AutoCluster>(&state, &auth, &req, &payload, keywords).await
}

/// The clusters to write content ideas for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GenerateIdeasInput {
    /// The clusters (1 to 20 distinct ids).
    #[schema(min_items = 1, max_items = 20)]
    ids: Vec<i64>,
    /// Ideas per cluster (default: the planner's `ideas_per_cluster` setting, else 3).
    #[schema(minimum = 1, maximum = 10)]
    ideas_per_cluster: Option<u32>,
}

impl Validate for GenerateIdeasInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let payload = self.payload();
        let mut errors = FieldErrors::new();
        // Ideas name no address: any guard judges them alike.
        for (field, problem) in payload.problems(&OutboundGuard::default()) {
            let field = if field == "cluster_ids" { "ids" } else { field.as_str() };
            validation::push(&mut errors, field, problem);
        }
        validation::finish(errors)
    }
}

impl GenerateIdeasInput {
    fn payload(&self) -> GenerateIdeasPayload {
        let mut cluster_ids = self.ids.clone();
        cluster_ids.sort_unstable();
        cluster_ids.dedup();
        GenerateIdeasPayload { cluster_ids, ideas_per_cluster: self.ideas_per_cluster.unwrap_or(3) }
    }
}

/// Writes content ideas for clusters with AI (a `planner.generate_ideas` task), after
/// checking the clusters and that the account can pay for them. Send an `Idempotency-Key` to
/// make retries safe.
#[utoipa::path(
    tag = "planner",
    params(IdempotencyKey),
    request_body = GenerateIdeasInput,
    responses(
        (status = 202, body = Accepted),
        (status = 402, description = "The account has too few credits.", body = ErrorBody),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/clusters/auto_generate_ideas")]
async fn auto_generate_ideas(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<GenerateIdeasInput>,
) -> Result<HttpResponse, ApiError> {
    let mut payload = body.payload();
    if body.ideas_per_cluster.is_none() {
        let owner = settings::Owner::Modules(auth.account());
        let setting = settings::PLANNER_IDEAS_PER_CLUSTER;
        let count = state.db(move |conn| settings::get(conn, owner, setting)).await?;
        payload.ideas_per_cluster = u32::try_from(count).map_err(ApiError::internal)?;
    }
    let (scope, ids) = (auth.scope(), payload.cluster_ids.clone());
    let found: Vec<i64> = state
        .db(move |conn| Cluster::find_many(conn, &scope, &ids))
        .await?
        .into_iter()
        .map(|cluster| cluster.id)
        .collect();
    let missing: Vec<i64> = payload.cluster_ids.iter().copied().filter(|id| !found.contains(id)).collect();
    if !missing.is_empty() {
        return Err(ApiError::missing("ids", format!("No such clusters: {}.", list(&missing))));
    }
    let ideas = u64::from(payload.ideas_per_cluster) * payload.cluster_ids.len() as u64;
    commands::enqueue_paid::<GenerateIdeas>(&state, &auth, &req, &payload, ideas).await
}
