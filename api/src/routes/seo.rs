//! SEO: `POST analytics/seo/audit/` has `worker-seo` audit a page (202 with the task); the
//! finished audits (`analytics/seo/audits/`), their history per site
//! (`analytics/seo/?start_date=&end_date=`: score over time, issues opened and fixed between
//! consecutive audits) and the latest score per site (`marketing/seo-score/`).

use std::collections::{BTreeMap, BTreeSet};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{
    auth::Role,
    db::{models::SeoAuditSummary, schema::seo_audits},
    tasks::{
        NewTask,
        seo::{AUDIT, AuditPayload},
    },
};

use super::{
    billing::day_bounds,
    commands,
    planner::{Refs, check_refs},
};
use crate::{
    error::{ApiError, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, PathId, Validate},
    response::{self, PageParams},
    state::AppState,
};

pub fn configure_analytics(cfg: &mut ServiceConfig) {
    cfg.map(|cfg| cfg.service(audit).service(list).service(retrieve).service(metrics));
}

pub fn configure_marketing(cfg: &mut ServiceConfig) {
    cfg.map(|cfg| cfg.service(seo_score));
}

impl Validate for AuditPayload {}

/// Checks the request (URLs, the outbound guard, limits, the site) and enqueues `seo.audit`.
#[post("/seo/audit")]
async fn audit(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: ApiJson<AuditPayload>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let payload = body.0;
    let mut errors = FieldErrors::new();
    for (field, problem) in payload.problems(&state.config.ai.outbound) {
        errors.entry(field).or_default().push(problem);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    if let Some(site_id) = payload.site_id {
        check_refs(&state, auth.account_id, Refs { site_id, sector_id: None, cluster_id: None }).await?;
    }
    let task =
        NewTask::new(auth.account_id, AUDIT, serde_json::to_value(&payload).map_err(ApiError::internal)?);
    commands::enqueue(&state, &auth, &req, task).await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    site_id: Option<i64>,
    host: Option<String>,
}

#[get("/seo/audits")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { site_id, host } = query.0;
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q: seo_audits::BoxedQuery<'static, Pg> =
                    seo_audits::table.filter(seo_audits::account_id.eq(auth.account_id)).into_boxed();
                if let Some(site_id) = site_id {
                    q = q.filter(seo_audits::site_id.eq(site_id));
                }
                if let Some(host) = &host {
                    q = q.filter(seo_audits::host.eq(host.trim().to_lowercase()));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<SeoAuditSummary> = filtered()
                .order((seo_audits::created_at.desc(), seo_audits::id.desc()))
                .offset(page.offset())
                .limit(page.size())
                .select(SeoAuditSummary::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// The audit with its full report.
#[get("/seo/audits/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, audit_id) = (auth.account_id, id.0);
    let (summary, report): (SeoAuditSummary, Value) = state
        .db(move |conn| {
            Ok(seo_audits::table
                .find(audit_id)
                .filter(seo_audits::account_id.eq(account_id))
                .select((SeoAuditSummary::as_select(), seo_audits::report))
                .first(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "audit" })?;
    let mut body = serde_json::to_value(&summary).map_err(ApiError::internal)?;
    if let Some(fields) = body.as_object_mut() {
        fields.insert("report".into(), report);
    }
    Ok(response::ok(body))
}

#[derive(Debug, Deserialize)]
struct MetricsQuery {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    site_id: Option<i64>,
}

/// One audit in a site's history.
#[derive(Debug, Serialize)]
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

/// Score history per site (or host, for audits without a site) within the dates.
#[get("/seo")]
async fn metrics(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<MetricsQuery>,
) -> Result<HttpResponse, ApiError> {
    let MetricsQuery { start_date, end_date, site_id } = query.0;
    let (from, until) = day_bounds(start_date, end_date)?;
    type Row = (i64, Option<i64>, String, DateTime<Utc>, String, i16, Value, i32, Value);
    let account_id = auth.account_id;
    let rows: Vec<Row> = state
        .db(move |conn| {
            let mut q = seo_audits::table.filter(seo_audits::account_id.eq(account_id)).into_boxed();
            if let Some(site_id) = site_id {
                q = q.filter(seo_audits::site_id.eq(site_id));
            }
            // The audit just before the range is read too: the first point in range needs it
            // for its opened and fixed issues.
            if let Some(until) = until {
                q = q.filter(seo_audits::created_at.lt(until));
            }
            Ok(q.order((seo_audits::created_at, seo_audits::id))
                .select((
                    seo_audits::id,
                    seo_audits::site_id,
                    seo_audits::host,
                    seo_audits::created_at,
                    seo_audits::final_url,
                    seo_audits::score,
                    seo_audits::category_scores,
                    seo_audits::issues,
                    seo_audits::issue_ids,
                ))
                .load(conn)?)
        })
        .await?;
    let mut groups: BTreeMap<(Option<i64>, String), Vec<Point>> = BTreeMap::new();
    let mut previous: BTreeMap<(Option<i64>, String), BTreeSet<String>> = BTreeMap::new();
    for (id, site, host, created_at, url, score, category_scores, issues, issue_ids) in rows {
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
    let sites: Vec<Value> = groups
        .into_iter()
        .map(|((site_id, host), points)| {
            let first = points.first().map(|p| p.score);
            let last = points.last().map(|p| p.score);
            json!({
                "site_id": site_id,
                "host": if host.is_empty() { Value::Null } else { json!(host) },
                "audits": points.len(),
                "latest_score": last,
                "score_change": first.zip(last).map(|(first, last)| last - first),
                "issues_opened": points.iter().filter_map(|p| p.opened.as_ref()).map(Vec::len).sum::<usize>(),
                "issues_fixed": points.iter().filter_map(|p| p.fixed.as_ref()).map(Vec::len).sum::<usize>(),
                "history": points,
            })
        })
        .collect();
    Ok(response::ok(json!({ "start_date": start_date, "end_date": end_date, "sites": sites })))
}

/// The latest score of each site (or host), with the change since its audit before.
#[get("/seo-score")]
async fn seo_score(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let account_id = auth.account_id;
    type Latest = (Option<i64>, String, i16, DateTime<Utc>, i64);
    let rows: Vec<Latest> = state
        .db(move |conn| {
            Ok(seo_audits::table
                .filter(seo_audits::account_id.eq(account_id))
                .order((seo_audits::created_at.desc(), seo_audits::id.desc()))
                .select((
                    seo_audits::site_id,
                    seo_audits::host,
                    seo_audits::score,
                    seo_audits::created_at,
                    seo_audits::id,
                ))
                .limit(1_000)
                .load(conn)?)
        })
        .await?;
    let mut latest: BTreeMap<(Option<i64>, String), Value> = BTreeMap::new();
    for (site_id, host, score, created_at, id) in rows {
        let key = match site_id {
            Some(site) => (Some(site), String::new()),
            None => (None, host.clone()),
        };
        match latest.get_mut(&key) {
            None => {
                latest.insert(
                    key,
                    json!({ "site_id": site_id, "host": host, "score": score, "audited_at": created_at,
                            "audit_id": id, "previous_score": null, "change": null }),
                );
            }
            Some(entry) if entry["previous_score"].is_null() => {
                let current = entry["score"].as_i64().unwrap_or_default();
                entry["previous_score"] = json!(score);
                entry["change"] = json!(current - i64::from(score));
            }
            Some(_) => {}
        }
    }
    let sites: Vec<Value> = latest.into_values().collect();
    let overall = (!sites.is_empty()).then(|| {
        let sum: i64 = sites.iter().filter_map(|site| site["score"].as_i64()).sum();
        (sum as f64 / sites.len() as f64).round() as i64
    });
    Ok(response::ok(json!({ "score": overall, "sites": sites })))
}
