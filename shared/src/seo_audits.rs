//! Finished SEO audits: written once by `worker-seo` ([`reserve_id`], [`record`]) and read
//! back by the account: listed, one with its report, the history of a site's scores and the
//! latest score of each site.

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde_json::Value;

use crate::{
    Result,
    db::{models::SeoAuditSummary, schema::seo_audits},
    tenant::{ListFilter, Scope},
};

crate::owned_table! { SeoAuditSummary { table: seo_audits, what: "audit", nullable_site: site_id, filter: AuditFilter } }

/// A finished audit, its id reserved before the report that links to it was written.
#[derive(Debug, Insertable)]
#[diesel(table_name = seo_audits)]
pub struct NewAudit {
    pub id: i64,
    pub account_id: i64,
    pub site_id: Option<i64>,
    pub task_id: uuid::Uuid,
    pub url: String,
    pub final_url: String,
    pub host: String,
    pub keywords: Value,
    pub score: i16,
    pub category_scores: Value,
    pub issue_ids: Value,
    pub issues: i32,
    pub pages_audited: i32,
    pub report: Value,
}

/// The id the next audit will have, so that the task's result can link to it.
pub fn reserve_id(conn: &mut PgConnection) -> Result<i64> {
    Ok(diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('seo_audits_id_seq')"))
        .get_result(conn)?)
}

/// Stores the audit of a task; false when that task's audit was already stored (a
/// redelivered task writes, and is charged, once).
pub fn record(conn: &mut PgConnection, audit: NewAudit) -> Result<bool> {
    Ok(diesel::insert_into(seo_audits::table)
        .values(audit)
        .on_conflict(seo_audits::task_id)
        .do_nothing()
        .execute(conn)?
        > 0)
}

/// Which audits a listing covers; newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub site_id: Option<i64>,
    /// Compared lower-cased.
    pub host: Option<String>,
}

type Query = seo_audits::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for AuditFilter {
    fn narrow(&self, mut query: Query) -> Query {
        if let Some(site_id) = self.site_id {
            query = query.filter(seo_audits::site_id.eq(site_id));
        }
        if let Some(host) = &self.host {
            query = query.filter(seo_audits::host.eq(host.trim().to_lowercase()));
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        query.order((seo_audits::created_at.desc(), seo_audits::id.desc()))
    }
}

/// The account's audit `id` with its report.
pub fn with_report(
    conn: &mut PgConnection,
    scope: &Scope,
    id: i64,
) -> Result<Option<(SeoAuditSummary, Value)>> {
    Ok(seo_audits::table
        .find(id)
        .filter(crate::visible!(seo_audits, scope, site_id?))
        .select((SeoAuditSummary::as_select(), seo_audits::report))
        .first(conn)
        .optional()?)
}

/// An audit as a point of its site's history.
#[derive(Queryable, Selectable)]
#[diesel(table_name = seo_audits, check_for_backend(diesel::pg::Pg))]
pub struct HistoryPoint {
    pub id: i64,
    pub site_id: Option<i64>,
    pub host: String,
    pub created_at: DateTime<Utc>,
    pub final_url: String,
    pub score: i16,
    pub category_scores: Value,
    pub issues: i32,
    /// The ids of the issues found (a JSON array of strings).
    pub issue_ids: Value,
}

/// The account's audits before `until` (all when open), of `site_id` or every site, oldest
/// first.
pub fn history(
    conn: &mut PgConnection,
    scope: &Scope,
    site_id: Option<i64>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<HistoryPoint>> {
    let mut query = seo_audits::table.filter(crate::visible!(seo_audits, scope, site_id?)).into_boxed();
    if let Some(site_id) = site_id {
        query = query.filter(seo_audits::site_id.eq(site_id));
    }
    if let Some(until) = until {
        query = query.filter(seo_audits::created_at.lt(until));
    }
    Ok(query.order((seo_audits::created_at, seo_audits::id)).select(HistoryPoint::as_select()).load(conn)?)
}

/// An audit's score, for the latest-score table.
#[derive(Queryable, Selectable)]
#[diesel(table_name = seo_audits, check_for_backend(diesel::pg::Pg))]
pub struct Scored {
    pub site_id: Option<i64>,
    pub host: String,
    pub score: i16,
    pub created_at: DateTime<Utc>,
    pub id: i64,
}

/// The account's latest audits (at most `limit`), newest first.
pub fn latest(conn: &mut PgConnection, scope: &Scope, limit: i64) -> Result<Vec<Scored>> {
    Ok(seo_audits::table
        .filter(crate::visible!(seo_audits, scope, site_id?))
        .order((seo_audits::created_at.desc(), seo_audits::id.desc()))
        .select(Scored::as_select())
        .limit(limit)
        .load(conn)?)
}
