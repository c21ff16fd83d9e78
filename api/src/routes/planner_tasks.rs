//! The planner's AI commands: `keywords/auto_cluster/` and `clusters/auto_generate_ideas/`.
//! Each checks what it can up front (the keywords or clusters are the caller's, the account
//! can pay) and answers 202 with the task to poll; `worker-clustering` does the work.

use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel::prelude::*;
use serde::Deserialize;
use shared::{
    db::schema::{clusters, keywords},
    net::OutboundGuard,
    tasks::{
        AutoCluster, GenerateIdeas, Payload,
        planner::{AutoClusterPayload, ClusterMode, GenerateIdeasPayload, MAX_CLUSTER_KEYWORDS},
    },
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

/// The keywords one auto_cluster run covers, all on one site.
struct Selection {
    site_id: i64,
    sector_id: Option<i64>,
    keyword_ids: Vec<i64>,
}

async fn select_keywords(
    state: &AppState,
    account_id: i64,
    input: &AutoClusterInput,
) -> Result<Selection, ApiError> {
    let (ids, site_id, sector_id) = (input.ids.clone(), input.site_id, input.sector_id);
    let rows: Vec<(i64, i64, Option<i64>)> = state
        .db(move |conn| {
            let mut query = keywords::table
                .filter(keywords::account_id.eq(account_id))
                .select((keywords::id, keywords::site_id, keywords::sector_id))
                .order(keywords::id)
                .into_boxed();
            match &ids {
                Some(ids) => query = query.filter(keywords::id.eq_any(ids.clone())),
                None => query = query.filter(keywords::status.eq("active")),
            }
            if let Some(site_id) = site_id {
                query = query.filter(keywords::site_id.eq(site_id));
            }
            if let Some(sector_id) = sector_id {
                query = query.filter(keywords::sector_id.eq(sector_id));
            }
            // One more than allowed tells "too many" apart from "exactly the limit".
            Ok(query.limit(MAX_CLUSTER_KEYWORDS as i64 + 1).load(conn)?)
        })
        .await?;
    if let Some(ids) = &input.ids {
        let found: std::collections::HashSet<i64> = rows.iter().map(|row| row.0).collect();
        let missing: Vec<String> = ids.iter().filter(|id| !found.contains(id)).map(i64::to_string).collect();
        if !missing.is_empty() {
            return Err(ApiError::missing("ids", format!("No such keywords: {}.", missing.join(", "))));
        }
    }
    if rows.is_empty() {
        return Err(ApiError::conflict(
            "nothing_to_cluster",
            "site_id",
            "This site (or sector) has no active keywords to cluster.",
        ));
    }
    if rows.len() > MAX_CLUSTER_KEYWORDS {
        return Err(ApiError::field(
            "site_id",
            format!("More than {MAX_CLUSTER_KEYWORDS} keywords; send ids or a sector."),
        ));
    }
    let site_id = rows[0].1;
    if rows.iter().any(|row| row.1 != site_id) {
        return Err(ApiError::field("ids", "The keywords must all belong to one site."));
    }
    let sector_id = input.sector_id.or_else(|| {
        let first = rows[0].2;
        rows.iter().all(|row| row.2 == first).then_some(first).flatten()
    });
    Ok(Selection { site_id, sector_id, keyword_ids: rows.into_iter().map(|row| row.0).collect() })
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
    let selection = select_keywords(&state, auth.account_id, &input).await?;
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
    /// Ideas per cluster (default 3).
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
    let payload = body.payload();
    let (account_id, ids) = (auth.account_id, payload.cluster_ids.clone());
    let found: Vec<i64> = state
        .db(move |conn| {
            Ok(clusters::table
                .filter(clusters::account_id.eq(account_id))
                .filter(clusters::id.eq_any(ids))
                .select(clusters::id)
                .load(conn)?)
        })
        .await?;
    let missing: Vec<String> =
        payload.cluster_ids.iter().filter(|id| !found.contains(id)).map(i64::to_string).collect();
    if !missing.is_empty() {
        return Err(ApiError::missing("ids", format!("No such clusters: {}.", missing.join(", "))));
    }
    let ideas = u64::from(payload.ideas_per_cluster) * payload.cluster_ids.len() as u64;
    commands::enqueue_paid::<GenerateIdeas>(&state, &auth, &req, &payload, ideas).await
}
