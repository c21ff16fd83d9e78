//! What a delivery does: a Gitea push re-audits the endpoint's site, an Odoo event about a
//! mirrored model syncs just that record, anything else runs the endpoint's command (if it has
//! one) or is only recorded.

use diesel::prelude::*;
use serde_json::Value;

use super::{DeliveryStatus, Receiving, Source};
use crate::{
    Result,
    db::schema::sites,
    net::OutboundGuard,
    tasks::{
        self, NewTask, OdooSync, Payload, SeoAudit,
        odoo::{SyncPayload, mirrored},
        seo::AuditPayload,
    },
};

/// What a delivery did.
pub struct Effect {
    pub status: DeliveryStatus,
    pub task: Option<NewTask>,
    pub detail: String,
    /// A re-audit of this site, which waits the push-audit interval after the last one.
    pub audited_site: Option<i64>,
}

impl Effect {
    pub fn recorded(detail: impl Into<String>) -> Self {
        Effect { status: DeliveryStatus::Recorded, task: None, detail: detail.into(), audited_site: None }
    }

    pub fn enqueued(task: NewTask, detail: impl Into<String>) -> Self {
        Effect {
            status: DeliveryStatus::Enqueued,
            task: Some(task),
            detail: detail.into(),
            audited_site: None,
        }
    }
}

/// The effect of `event` from `source` on `endpoint`. Every task it names was parsed by its
/// kind's payload type; a configured command that no longer parses is only recorded.
pub fn decide(
    conn: &mut PgConnection,
    endpoint: &Receiving,
    source: Source,
    event: &str,
    payload: &Value,
    outbound: &OutboundGuard,
) -> Result<Effect> {
    let account_id = endpoint.account_id;
    let command = |or: Effect| {
        let configured = endpoint
            .command
            .as_ref()
            .and_then(|(kind, payload)| tasks::command(account_id, kind, payload.clone(), outbound).ok());
        match configured {
            Some(task) => Effect::enqueued(task, "endpoint command"),
            None => or,
        }
    };
    Ok(match source {
        Source::Gitea if event == "push" => match site_audit(conn, endpoint, outbound)? {
            Some((site_id, task)) => {
                Effect { audited_site: Some(site_id), ..Effect::enqueued(task, "SEO re-audit") }
            }
            None => command(Effect::recorded("no site domain or command for this endpoint")),
        },
        Source::Odoo if let Some(task) = odoo_sync(account_id, payload, outbound) => {
            Effect::enqueued(task, "targeted Odoo sync")
        }
        Source::Payments => command(Effect::recorded(format!(
            "event `{event}` recorded; a tenant's payment events do not move credits"
        ))),
        Source::Gitea | Source::Odoo => command(Effect::recorded(format!("event `{event}` recorded"))),
    })
}

/// What identifies a Gitea push in its signed body: the repository, the ref and the commit
/// range.
pub fn push_range(payload: &Value) -> Option<String> {
    let repository = payload["repository"]["full_name"].as_str().unwrap_or_default();
    let (before, after) = (payload["before"].as_str()?, payload["after"].as_str()?);
    let reference = payload["ref"].as_str().unwrap_or_default();
    Some(format!("push:{repository}:{reference}:{before}..{after}"))
}

/// A sync of just the record an Odoo event names (`model` and `record_id` or `ids`), when
/// the model is mirrored.
fn odoo_sync(account_id: i64, payload: &Value, outbound: &OutboundGuard) -> Option<NewTask> {
    let model = payload["model"].as_str()?;
    mirrored(model)?;
    let ids: Vec<i64> = match payload["ids"].as_array() {
        Some(ids) => ids.iter().filter_map(Value::as_i64).collect(),
        None => payload["record_id"].as_i64().into_iter().collect(),
    };
    let sync = SyncPayload { models: vec![model.to_owned()], full: false, ids };
    if sync.ids.is_empty() || !sync.problems(outbound).is_empty() {
        return None;
    }
    Some(NewTask::of::<OdooSync>(account_id, &sync))
}

/// `seo.audit` of the endpoint's site's home page, when it has a site with a domain.
fn site_audit(
    conn: &mut PgConnection,
    endpoint: &Receiving,
    outbound: &OutboundGuard,
) -> Result<Option<(i64, NewTask)>> {
    let (Some(site_id), account_id) = (endpoint.site_id, endpoint.account_id) else { return Ok(None) };
    let domain: Option<String> = sites::table
        .find(site_id)
        .filter(sites::account_id.eq(account_id))
        .select(sites::domain)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    let Some(domain) = domain.map(|d| d.trim().trim_end_matches('/').to_owned()).filter(|d| !d.is_empty())
    else {
        return Ok(None);
    };
    let url = if domain.starts_with("http://") || domain.starts_with("https://") {
        domain
    } else {
        format!("https://{domain}/")
    };
    let payload = AuditPayload {
        url,
        keywords: Vec::new(),
        competitors: Vec::new(),
        site_id: Some(site_id),
        crawl: None,
    };
    if !payload.problems(outbound).is_empty() {
        return Ok(None);
    }
    Ok(Some((site_id, NewTask::of::<SeoAudit>(account_id, &payload))))
}
