//! SEO: `POST analytics/seo/audit/` has `worker-seo` audit a page (202 with the task); the
//! finished audits (`analytics/seo/audits/`), their history per site
//! (`analytics/seo/?start_date=&end_date=`: score over time, issues opened and fixed between
//! consecutive audits) and the latest score per site (`marketing/seo-score/`).

use std::collections::{BTreeMap, BTreeSet};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    db::models::SeoAuditSummary,
    seo_audits::{self, AuditFilter, HistoryPoint, Scored},
    tasks::{self, seo::AuditPayload},
};
use utoipa::{IntoParams, ToSchema};

use super::{
    billing::day_bounds,
    commands,
    planner::{Refs, check_refs},
};
use crate::{
    crud,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Page, PageParams},
    state::AppState,
};

/// The most audits the latest-score table reads.
const LATEST_AUDITS: i64 = 1_000;

pub fn configure_analytics(cfg: &mut ServiceConfig) {
    cfg.service(audit).service(list).service(retrieve).service(metrics);
}

pub fn configure_marketing(cfg: &mut ServiceConfig) {
    cfg.service(seo_score);
}

impl Validate for AuditPayload {}

/// Checks the request (URLs, the outbound guard, limits, the site) and enqueues `seo.audit`;
/// poll the task for the report. An `Idempotency-Key` header makes a retry return the same
/// task.
#[utoipa::path(
    tag = "seo",
    params(IdempotencyKey),
    request_body = AuditPayload,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/seo/audit")]
async fn audit(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<AuditPayload>,
) -> Result<HttpResponse, ApiError> {
    let task = commands::task_of::<tasks::SeoAudit>(&state, auth.account_id, &body.0)?;
    if let Some(site_id) = body.0.site_id {
        check_refs(&state, auth.scope(), Refs { site_id, sector_id: None, cluster_id: None }).await?;
    }
    commands::enqueue(&state, &auth, &req, task).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only audits of this site.
    site_id: Option<i64>,
    /// Only audits of this host (`example.com`).
    host: Option<String>,
}

/// The account's finished audits without their reports, newest first.
#[utoipa::path(
    tag = "seo",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<SeoAuditSummary>)),
)]
#[get("/seo/audits")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { site_id, host } = query.0;
    crud::list::<SeoAuditSummary>(&state, auth.scope(), AuditFilter { site_id, host }, &req, page).await
}

/// A finished audit with its report.
#[derive(Serialize, ToSchema)]
struct SeoAudit {
    #[serde(flatten)]
    summary: SeoAuditSummary,
    /// The full report, as `worker-seo` wrote it.
    report: Value,
}

/// The audit with its full report.
#[utoipa::path(
    tag = "seo",
    params(("id" = i64, Path, description = "The audit id.")),
    responses((status = 200, body = Data<SeoAudit>)),
)]
#[get("/seo/audits/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (scope, audit_id) = (auth.scope(), id.0);
    let (summary, report) = state
        .db(move |conn| seo_audits::with_report(conn, &scope, audit_id))
        .await?
        .ok_or(ApiError::NotFound { what: "audit" })?;
    Ok(response::ok(SeoAudit { summary, report }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MetricsQuery {
    /// The first day (`YYYY-MM-DD`, UTC) of the range.
    start_date: Option<NaiveDate>,
    /// The last day (`YYYY-MM-DD`, UTC) of the range (before `start_date`: an empty range).
    end_date: Option<NaiveDate>,
    /// Only this site.
    site_id: Option<i64>,
}

/// One audit in a site's history.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SeoHistoryPoint)]
struct Point {
    audit_id: i64,
    created_at: DateTime<Utc>,
    url: String,
    score: i16,
    category_scores: Value,
    issues: i32,
    /// Checks failing now that passed in the site's previous audit (`None` for the first).
    opened: Option<Vec<String>>,
    /// Checks that failed in the previous audit and pass now.
    fixed: Option<Vec<String>>,
}

/// The score history of one site (or host, for audits without a site) within the dates.
#[derive(Serialize, ToSchema)]
struct SeoSiteHistory {
    site_id: Option<i64>,
    /// The host, for audits without a site (null otherwise).
    host: Option<String>,
    /// Audits in the range.
    audits: usize,
    latest_score: Option<i16>,
    /// The latest score minus the first in the range.
    score_change: Option<i16>,
    issues_opened: usize,
    issues_fixed: usize,
    history: Vec<Point>,
}

/// `sites`: the score history of each site within the dates.
#[derive(Serialize, ToSchema)]
struct SeoHistory {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    sites: Vec<SeoSiteHistory>,
}

/// Score history per site (or host, for audits without a site) within the dates.
#[utoipa::path(
    tag = "seo",
    params(MetricsQuery),
    responses((status = 200, body = Data<SeoHistory>)),
)]
#[get("/seo")]
async fn metrics(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<MetricsQuery>,
) -> Result<HttpResponse, ApiError> {
    let MetricsQuery { start_date, end_date, site_id } = query.0;
    let (from, until) = day_bounds(start_date, end_date);
    let scope = auth.scope();
    let rows = state.db(move |conn| seo_audits::history(conn, &scope, site_id, until)).await?;
    let mut groups: BTreeMap<(Option<i64>, String), Vec<Point>> = BTreeMap::new();
    let mut previous: BTreeMap<(Option<i64>, String), BTreeSet<String>> = BTreeMap::new();
    for HistoryPoint {
        id,
        site_id: site,
        host,
        created_at,
        final_url: url,
        score,
        category_scores,
        issues,
        issue_ids,
    } in rows
    {
        let group = match site {
            Some(site) => (Some(site), String::new()),
            None => (None, host),
        };
        let now: BTreeSet<String> = issue_ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let before = previous.insert(group.clone(), now.clone());
        if from.is_some_and(|from| created_at < from) {
            continue;
        }
        let (opened, fixed) = match before {
            Some(before) => (
                Some(now.difference(&before).cloned().collect()),
                Some(before.difference(&now).cloned().collect()),
            ),
            None => (None, None),
        };
        groups.entry(group).or_default().push(Point {
            audit_id: id,
            created_at,
            url,
            score,
            category_scores,
            issues,
            opened,
            fixed,
        });
    }
    let sites: Vec<SeoSiteHistory> = groups
        .into_iter()
        .map(|((site_id, host), points)| {
            let first = points.first().map(|p| p.score);
            let last = points.last().map(|p| p.score);
            SeoSiteHistory {
                site_id,
                host: (!host.is_empty()).then_some(host),
                audits: points.len(),
                latest_score: last,
                score_change: first.zip(last).map(|(first, last)| last - first),
                issues_opened: points.iter().filter_map(|p| p.opened.as_ref()).map(Vec::len).sum(),
                issues_fixed: points.iter().filter_map(|p| p.fixed.as_ref()).map(Vec::len).sum(),
                history: points,
            }
        })
        .collect();
    Ok(response::ok(SeoHistory { start_date, end_date, sites }))
}

/// The latest score of one site (or host, for audits without a site).
#[derive(Serialize, ToSchema)]
struct SeoSiteScore {
    site_id: Option<i64>,
    host: String,
    score: i16,
    audited_at: DateTime<Utc>,
    audit_id: i64,
    /// The score of the audit before, if any.
    previous_score: Option<i16>,
    /// `score - previous_score`.
    change: Option<i64>,
}

/// The latest score per site and their rounded mean (`score`, null without audits).
#[derive(Serialize, ToSchema)]
struct SeoScores {
    score: Option<i64>,
    sites: Vec<SeoSiteScore>,
}

/// The latest score of each site (or host), with the change since its audit before.
#[utoipa::path(tag = "seo", responses((status = 200, body = Data<SeoScores>)))]
#[get("/seo-score")]
async fn seo_score(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let scope = auth.scope();
    let rows = state.db(move |conn| seo_audits::latest(conn, &scope, LATEST_AUDITS)).await?;
    let mut latest: BTreeMap<(Option<i64>, String), SeoSiteScore> = BTreeMap::new();
    for Scored { site_id, host, score, created_at, id } in rows {
        let key = match site_id {
            Some(site) => (Some(site), String::new()),
            None => (None, host.clone()),
        };
        match latest.get_mut(&key) {
            None => {
                latest.insert(
                    key,
                    SeoSiteScore {
                        site_id,
                        host,
                        score,
                        audited_at: created_at,
                        audit_id: id,
                        previous_score: None,
                        change: None,
                    },
                );
            }
            Some(entry) if entry.previous_score.is_none() => {
                entry.previous_score = Some(score);
                entry.change = Some(i64::from(entry.score) - i64::from(score));
            }
            Some(_) => {}
        }
    }
    let sites: Vec<SeoSiteScore> = latest.into_values().collect();
    let overall = (!sites.is_empty()).then(|| {
        let sum: i64 = sites.iter().map(|site| i64::from(site.score)).sum();
        (sum as f64 / sites.len() as f64).round() as i64
    });
    Ok(response::ok(SeoScores { score: overall, sites }))
}
