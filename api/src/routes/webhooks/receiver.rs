//! `/webhooks/{source}/{key}`: a delivery checked before anything is stored, stored once per
//! delivery id, and its effect decided in the same transaction.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Duration as Span;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::{
    db::schema::{sites, tasks as task_rows, webhook_deliveries, webhook_endpoints},
    net::OutboundGuard,
    tasks::{
        self, NewTask, OdooSync, Payload, SeoAudit, TaskKind,
        odoo::{SyncPayload, mirrored},
        seo::AuditPayload,
    },
    webhooks::{self, SignatureError, Source},
};
use utoipa::ToSchema;

use super::owner_of;
use crate::{
    error::{ApiError, ErrorBody},
    extract::{JSON_LIMIT, refuse_nul},
    response::{self, Data},
    state::AppState,
};

/// The endpoint a delivery is for.
struct Endpoint {
    id: i64,
    account_id: i64,
    secret: Vec<u8>,
    site_id: Option<i64>,
    command: Option<(String, Value)>,
}

/// What a delivery did.
struct Effect {
    status: &'static str,
    task: Option<NewTask>,
    detail: String,
    /// A re-audit of this site, which waits `PUSH_AUDIT_INTERVAL_SECS` after the last one.
    audited_site: Option<i64>,
}

impl Effect {
    fn recorded(detail: impl Into<String>) -> Self {
        Effect { status: "recorded", task: None, detail: detail.into(), audited_site: None }
    }

    fn enqueued(task: NewTask, detail: impl Into<String>) -> Self {
        Effect { status: "enqueued", task: Some(task), detail: detail.into(), audited_site: None }
    }
}

/// What became of a delivery: its effect, or a replay that did nothing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
enum WebhookAnswer {
    Stored(Stored),
    Duplicate(Duplicate),
}

/// A delivery stored now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookReceipt)]
struct Stored {
    /// `enqueued` (see `task_id`) or `recorded`.
    status: &'static str,
    delivery_id: String,
    /// The task enqueued, or null.
    task_id: Option<uuid::Uuid>,
}

/// A delivery id seen before: nothing was done again.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookDuplicate)]
struct Duplicate {
    /// `duplicate`.
    status: &'static str,
}

/// Receives a delivery from Odoo, Gitea or a payment provider, authenticated by its signature
/// (no token): `X-Odoo-Signature` or `X-Gitea-Signature` carry the hex HMAC-SHA256 of the raw
/// body with the endpoint's secret (optionally `sha256=`-prefixed); payments send
/// `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, within five
/// minutes of now. The delivery id comes from `X-Gitea-Delivery`, `X-Odoo-Delivery` (or the
/// body's `id`) or, for payments, the body's `id`; the event from `X-Gitea-Event`,
/// `X-Odoo-Event` (or the body's `event`) or the body's `type`. A replayed delivery id (or
/// Gitea push of the same commit range) answers `duplicate` and does nothing. Payment events
/// here only run the endpoint's command: credits are bought through
/// `/api/v1/billing/payments/webhook/`.
#[utoipa::path(
    tag = "webhooks",
    security(()),
    params(
        ("source" = String, Path, pattern = "^(odoo|gitea|payments)$", description = "`odoo`, `gitea` or `payments`."),
        ("key" = String, Path, description = "The endpoint's key, from its URL."),
        ("X-Gitea-Signature" = Option<String>, Header, nullable = false, description = "Gitea: hex HMAC-SHA256 of the body."),
        ("X-Gitea-Delivery" = Option<String>, Header, nullable = false, description = "Gitea: the delivery id."),
        ("X-Gitea-Event" = Option<String>, Header, nullable = false, description = "Gitea: the event (`push` re-audits the linked site)."),
        ("X-Odoo-Signature" = Option<String>, Header, nullable = false, description = "Odoo: hex HMAC-SHA256 of the body."),
        ("X-Odoo-Delivery" = Option<String>, Header, nullable = false, description = "Odoo: the delivery id (else the body's `id`)."),
        ("X-Odoo-Event" = Option<String>, Header, nullable = false, description = "Odoo: the event (else the body's `event`)."),
        ("Stripe-Signature" = Option<String>, Header, nullable = false, description = "Payments: `t=<unix seconds>,v1=<hex>`."),
    ),
    request_body(content = Object, content_type = "application/json", description = "The sender's JSON event, signed as it is sent."),
    responses(
        (status = 200, body = Data<WebhookAnswer>),
        (status = 400, description = "The body is not JSON, has no delivery id, or holds NUL in a text (named).", body = ErrorBody),
        (status = 401, description = "The signature is missing, wrong (`missing_signature`, `invalid_signature`) or stale (`stale_signature`).", body = ErrorBody),
    ),
)]
#[post("/webhooks/{source}/{key}")]
pub(super) async fn receive(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (source, key) = path.into_inner();
    let source = Source::parse(&source).ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    let endpoint = find_endpoint(&state, source, &key).await?;
    let body = crate::body::read_limited(body, JSON_LIMIT, "body").await?;
    let secret =
        state.config.secret_box.open(&endpoint.secret, &owner_of(&key)).map_err(ApiError::internal)?;
    if let Err(error) = verify(source, secret.as_bytes(), &body, &req) {
        reject(&state, endpoint.id).await?;
        tracing::info!(
            source = source.as_str(),
            endpoint_id = endpoint.id,
            code = error.code(),
            "webhook refused"
        );
        return Err(ApiError::unauthorized(error.code(), error.to_string()));
    }
    let payload: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::field("body", "The body is not JSON."))?;
    refuse_nul(&payload)?;
    let (delivery_id, event) = identify(source, &req, &payload)?;
    let content_key = (source == Source::Gitea && event == "push").then(|| push_range(&payload)).flatten();
    let effect = effect(&state, source, &endpoint, &event, &payload).await?;
    let headers = kept_headers(&req);
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let account_id = endpoint.account_id;
    let audit_interval = state.config.push_audit_interval;
    let stored = state
        .db(move |conn| {
            conn.transaction(|conn| {
                use webhook_deliveries as d;
                let mut effect = effect;
                if let Some(site_id) = effect.audited_site
                    && let Some(last) = recent_site_audit(conn, account_id, site_id, audit_interval)?
                {
                    effect =
                        Effect::recorded(format!("re-audit skipped: site {site_id} was audited at {last}"));
                }
                // Either a known delivery id or a known commit range makes it a duplicate.
                let inserted: Option<i64> = diesel::insert_into(d::table)
                    .values((
                        d::endpoint_id.eq(endpoint.id),
                        d::account_id.eq(account_id),
                        d::source.eq(source.as_str()),
                        d::delivery_id.eq(&delivery_id),
                        d::event.eq(&event),
                        d::headers.eq(headers),
                        d::body.eq(body_text),
                        d::status.eq(effect.status),
                        d::detail.eq(&effect.detail),
                        d::content_key.eq(content_key),
                    ))
                    .on_conflict_do_nothing()
                    .returning(d::id)
                    .get_result(conn)
                    .optional()?;
                let Some(row) = inserted else { return Ok(None) };
                let enqueued = match effect.task {
                    Some(task) => {
                        let enqueued = tasks::enqueue(conn, task)?;
                        diesel::update(d::table.find(row))
                            .set(d::task_id.eq(enqueued.task.id))
                            .execute(conn)?;
                        Some(enqueued)
                    }
                    None => None,
                };
                Ok(Some((effect.status, enqueued, delivery_id)))
            })
        })
        .await?;
    let Some((status, enqueued, delivery_id)) = stored else {
        return Ok(response::ok(WebhookAnswer::Duplicate(Duplicate { status: "duplicate" })));
    };
    let task_id = enqueued.as_ref().map(|enqueued| enqueued.task.id);
    if let Some(outbox_id) = enqueued.and_then(|enqueued| enqueued.outbox_id) {
        state.relay.notify([outbox_id]);
    }
    Ok(response::ok(WebhookAnswer::Stored(Stored { status, delivery_id, task_id })))
}

async fn find_endpoint(state: &AppState, source: Source, key: &str) -> Result<Endpoint, ApiError> {
    let key = key.to_owned();
    type Row = (i64, i64, Vec<u8>, Option<i64>, Option<String>, Option<Value>);
    let row: Option<Row> = state
        .db(move |conn| {
            use webhook_endpoints as w;
            Ok(w::table
                .filter(w::key.eq(key))
                .filter(w::source.eq(source.as_str()))
                .select((w::id, w::account_id, w::secret, w::site_id, w::command_kind, w::command_payload))
                .first(conn)
                .optional()?)
        })
        .await?;
    let (id, account_id, secret, site_id, kind, payload) =
        row.ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    Ok(Endpoint {
        id,
        account_id,
        secret,
        site_id,
        command: kind.map(|kind| (kind, payload.unwrap_or(Value::Null))),
    })
}

fn verify(source: Source, secret: &[u8], body: &[u8], req: &HttpRequest) -> Result<(), SignatureError> {
    let header = req.headers().get(source.signature_header()).and_then(|value| value.to_str().ok());
    match source {
        Source::Odoo | Source::Gitea => webhooks::verify_body(secret, body, header),
        Source::Payments => webhooks::verify_payment(secret, body, header, Utc::now().timestamp()),
    }
}

/// A refused delivery leaves a count and a time, nothing else.
async fn reject(state: &AppState, endpoint_id: i64) -> Result<(), ApiError> {
    state
        .db(move |conn| {
            use webhook_endpoints as w;
            diesel::update(w::table.find(endpoint_id))
                .set((w::rejected_count.eq(w::rejected_count + 1), w::last_rejected_at.eq(diesel::dsl::now)))
                .execute(conn)?;
            Ok(())
        })
        .await
}

/// The delivery id (what makes a replay a replay) and the event.
fn identify(source: Source, req: &HttpRequest, payload: &Value) -> Result<(String, String), ApiError> {
    let header = |name: &str| {
        req.headers().get(name).and_then(|value| value.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    };
    let text = |value: &Value| match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let (delivery, event) = match source {
        Source::Gitea => {
            (header("x-gitea-delivery").map(str::to_owned), header("x-gitea-event").map(str::to_owned))
        }
        Source::Odoo => (
            header("x-odoo-delivery").map(str::to_owned).or_else(|| text(&payload["id"])),
            header("x-odoo-event").map(str::to_owned).or_else(|| text(&payload["event"])),
        ),
        Source::Payments => (text(&payload["id"]), text(&payload["type"])),
    };
    let delivery =
        delivery.ok_or_else(|| ApiError::field("delivery_id", "The delivery has no id (header or body)."))?;
    if delivery.chars().count() > 200 {
        return Err(ApiError::field("delivery_id", "The delivery id is longer than 200 characters."));
    }
    Ok((delivery, event.unwrap_or_default()))
}

/// The headers worth keeping with a delivery.
fn kept_headers(req: &HttpRequest) -> Value {
    let mut kept = Map::new();
    for (name, value) in req.headers() {
        let name = name.as_str();
        let wanted = matches!(name, "content-type" | "user-agent" | "stripe-signature")
            || name.starts_with("x-gitea-")
            || name.starts_with("x-odoo-")
            || name.starts_with("x-github-");
        if wanted && let Ok(value) = value.to_str() {
            kept.insert(name.to_owned(), json!(value));
        }
    }
    Value::Object(kept)
}

async fn effect(
    state: &AppState,
    source: Source,
    endpoint: &Endpoint,
    event: &str,
    payload: &Value,
) -> Result<Effect, ApiError> {
    let account_id = endpoint.account_id;
    let configured = || {
        endpoint.command.as_ref().and_then(|(kind, payload)| {
            tasks::command(account_id, kind, payload.clone(), &state.config.ai.outbound).ok()
        })
    };
    let command = |or: Effect| match configured() {
        Some(task) => Effect::enqueued(task, "endpoint command"),
        None => or,
    };
    Ok(match source {
        Source::Gitea if event == "push" => match site_audit(state, endpoint).await? {
            Some((site_id, task)) => {
                Effect { audited_site: Some(site_id), ..Effect::enqueued(task, "SEO re-audit") }
            }
            None => command(Effect::recorded("no site domain or command for this endpoint")),
        },
        Source::Odoo if let Some(task) = odoo_sync(account_id, payload, &state.config.ai.outbound) => {
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
fn push_range(payload: &Value) -> Option<String> {
    let repository = payload["repository"]["full_name"].as_str().unwrap_or_default();
    let (before, after) = (payload["before"].as_str()?, payload["after"].as_str()?);
    let reference = payload["ref"].as_str().unwrap_or_default();
    Some(format!("push:{repository}:{reference}:{before}..{after}"))
}

/// When the site was last audited, if within `interval` (its row locked, so two pushes at
/// once do not both pass).
fn recent_site_audit(
    conn: &mut PgConnection,
    account_id: i64,
    site_id: i64,
    interval: std::time::Duration,
) -> shared::Result<Option<DateTime<Utc>>> {
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
async fn site_audit(state: &AppState, endpoint: &Endpoint) -> Result<Option<(i64, NewTask)>, ApiError> {
    let (Some(site_id), account_id) = (endpoint.site_id, endpoint.account_id) else { return Ok(None) };
    let domain: Option<String> = state
        .db(move |conn| {
            Ok(sites::table
                .find(site_id)
                .filter(sites::account_id.eq(account_id))
                .select(sites::domain)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten())
        })
        .await?;
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
    if !payload.problems(&state.config.ai.outbound).is_empty() {
        return Ok(None);
    }
    Ok(Some((site_id, NewTask::of::<SeoAudit>(account_id, &payload))))
}
