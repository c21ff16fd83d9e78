//! Deliveries as stored: what arrived, whether it was a replay, and the task it enqueued.

use chrono::{DateTime, Duration as Span, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Effect, Source};
use crate::{
    Result,
    db::schema::{sites, tasks as task_rows, webhook_deliveries, webhook_endpoints},
    db::text_enum::text_enum,
    ids::AccountId,
    tasks::{self, Enqueued, SeoAudit, TaskKind},
    tenant::Window,
};

text_enum! {
    /// What a stored delivery did.
    pub enum DeliveryStatus {
        /// Kept, nothing run.
        Recorded = "recorded",
        /// A task was enqueued (its id is on the delivery).
        Enqueued = "enqueued",
        /// Acted on in place.
        Processed = "processed",
        /// Not for us.
        Ignored = "ignored",
    }
}

/// A stored delivery: what arrived and what it did.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
#[schema(as = WebhookDelivery)]
pub struct Delivery {
    pub id: i64,
    /// The sender's delivery id (a replay of it is a duplicate).
    pub delivery_id: String,
    pub event: String,
    pub status: DeliveryStatus,
    /// The task the delivery enqueued, if any.
    pub task_id: Option<uuid::Uuid>,
    pub detail: String,
    /// The headers kept (content type, user agent, signature and the sender's own).
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub headers: Value,
    /// The raw body.
    pub body: String,
    pub received_at: DateTime<Utc>,
}

/// One page of the deliveries of the account's endpoint, newest first, and how many there are;
/// `None` when the account has no such endpoint (not an empty list).
pub fn page(
    conn: &mut PgConnection,
    account: AccountId,
    endpoint_id: i64,
    window: Window,
) -> Result<Option<(Vec<Delivery>, i64)>> {
    let owned: bool = diesel::select(diesel::dsl::exists(
        webhook_endpoints::table.find(endpoint_id).filter(webhook_endpoints::account_id.eq(account)),
    ))
    .get_result(conn)?;
    if !owned {
        return Ok(None);
    }
    let filtered = || -> webhook_deliveries::BoxedQuery<'static, Pg> {
        webhook_deliveries::table
            .filter(webhook_deliveries::account_id.eq(account))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .into_boxed()
    };
    let count: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(webhook_deliveries::id.desc())
        .offset(window.offset)
        .limit(window.limit)
        .select(Delivery::as_select())
        .load(conn)?;
    Ok(Some((rows, count)))
}

/// A delivery that passed its signature check, about to be stored.
pub struct Incoming {
    pub endpoint_id: i64,
    pub account_id: i64,
    pub source: Source,
    pub delivery_id: String,
    pub event: String,
    pub headers: Value,
    pub body: String,
    /// What else makes it a replay (a Gitea push's commit range).
    pub content_key: Option<String>,
}

/// A delivery stored now, and the task it enqueued.
pub struct Recorded {
    pub status: DeliveryStatus,
    pub enqueued: Option<Enqueued>,
}

/// Stores the delivery and runs its effect in one transaction; `None` for a replay (a known
/// delivery id or commit range), which does nothing. A site re-audit within `audit_interval`
/// of the last one is recorded instead of enqueued.
pub fn record(
    conn: &mut PgConnection,
    incoming: Incoming,
    effect: Effect,
    audit_interval: std::time::Duration,
) -> Result<Option<Recorded>> {
    conn.transaction(|conn| {
        use webhook_deliveries as d;
        let mut effect = effect;
        if let Some(site_id) = effect.audited_site
            && let Some(last) = recent_site_audit(conn, incoming.account_id, site_id, audit_interval)?
        {
            effect = Effect::recorded(format!("re-audit skipped: site {site_id} was audited at {last}"));
        }
        let inserted: Option<i64> = diesel::insert_into(d::table)
            .values((
                d::endpoint_id.eq(incoming.endpoint_id),
                d::account_id.eq(incoming.account_id),
                d::source.eq(incoming.source.as_str()),
                d::delivery_id.eq(&incoming.delivery_id),
                d::event.eq(&incoming.event),
                d::headers.eq(incoming.headers),
                d::body.eq(incoming.body),
                d::status.eq(effect.status),
                d::detail.eq(&effect.detail),
                d::content_key.eq(incoming.content_key),
            ))
            .on_conflict_do_nothing()
            .returning(d::id)
            .get_result(conn)
            .optional()?;
        let Some(row) = inserted else { return Ok(None) };
        let enqueued = match effect.task {
            Some(task) => {
                let enqueued = tasks::enqueue(conn, task)?;
                diesel::update(d::table.find(row)).set(d::task_id.eq(enqueued.task.id)).execute(conn)?;
                Some(enqueued)
            }
            None => None,
        };
        Ok(Some(Recorded { status: effect.status, enqueued }))
    })
}

/// When the site was last audited, if within `interval` (its row locked, so two pushes at
/// once do not both pass).
fn recent_site_audit(
    conn: &mut PgConnection,
    account_id: i64,
    site_id: i64,
    interval: std::time::Duration,
) -> Result<Option<DateTime<Utc>>> {
    sites::table.find(site_id).select(sites::id).for_update().first::<i64>(conn).optional()?;
    let since = Utc::now() - Span::from_std(interval).unwrap_or(Span::MAX);
    Ok(task_rows::table
        .filter(task_rows::account_id.eq(account_id))
        .filter(task_rows::kind.eq(SeoAudit::NAME))
        .filter(task_rows::payload.contains(json!({ "site_id": site_id })))
        .filter(task_rows::created_at.gt(since))
        .select(task_rows::created_at)
        .order(task_rows::created_at.desc())
        .first(conn)
        .optional()?)
}
