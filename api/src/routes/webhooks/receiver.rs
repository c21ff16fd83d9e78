//! `POST /api/v1/webhooks/{source}/{key}/`: a signed delivery from Odoo, Gitea or a payment
//! provider, checked, stored once and acted on (see [`shared::webhooks::effects`]).

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::webhooks::{
    self, DeliveryStatus, Receiving, SignatureError, Source,
    deliveries::{self, Incoming, Recorded},
    effects, endpoints,
};
use utoipa::ToSchema;

use super::owner_of;
use crate::{
    error::{ApiError, ErrorBody},
    extract::{JSON_LIMIT, refuse_nul},
    response::{self, Data},
    state::AppState,
};

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
    status: DeliveryStatus,
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
    let endpoint = state
        .db(move |conn| endpoints::receiving(conn, source, &key))
        .await?
        .ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    accept(&state, source, endpoint, &req, body).await
}

/// Seed 001's Odoo path: a delivery to the install's default Odoo endpoint, checked and acted
/// on as at its keyed URL.
#[utoipa::path(
    tag = "webhooks",
    security(()),
    params(("X-Odoo-Signature" = String, Header, description = "Hex HMAC-SHA256 of the body.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, body = Data<WebhookAnswer>),
        (status = 404, description = "No Odoo endpoint is the install's default.", body = ErrorBody),
    ),
)]
#[post("/webhook")]
pub(super) async fn odoo_default(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive_default(&state, Source::Odoo, &req, body).await
}

/// Seed 001's Gitea path (`system/webhook/`): a delivery to the install's default Gitea
/// endpoint, checked and acted on as at its keyed URL.
#[utoipa::path(
    tag = "webhooks",
    security(()),
    params(("X-Gitea-Signature" = String, Header, description = "Hex HMAC-SHA256 of the body.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, body = Data<WebhookAnswer>),
        (status = 404, description = "No Gitea endpoint is the install's default.", body = ErrorBody),
    ),
)]
#[post("/webhook")]
pub(super) async fn gitea_default(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive_default(&state, Source::Gitea, &req, body).await
}

/// Seed 003's payment path: a delivery to the install's default payments endpoint, checked
/// and acted on as at its keyed URL.
#[utoipa::path(
    tag = "webhooks",
    security(()),
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex>`.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, body = Data<WebhookAnswer>),
        (status = 404, description = "No payments endpoint is the install's default.", body = ErrorBody),
    ),
)]
#[post("/webhooks/payment")]
pub(super) async fn payments_default(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive_default(&state, Source::Payments, &req, body).await
}

async fn receive_default(
    state: &AppState,
    source: Source,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let endpoint = state
        .db(move |conn| endpoints::install_default(conn, source))
        .await?
        .ok_or(ApiError::NotFound { what: "default webhook endpoint" })?;
    accept(state, source, endpoint, req, body).await
}

/// Checks a delivery to `endpoint`, stores it once and acts on it.
async fn accept(
    state: &AppState,
    source: Source,
    endpoint: Receiving,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = crate::body::read_limited(body, JSON_LIMIT, "body").await?;
    let secret = state
        .config
        .secret_box
        .open(&endpoint.secret, &owner_of(&endpoint.key))
        .map_err(ApiError::internal)?;
    if let Err(error) = verify(source, secret.as_bytes(), &body, req) {
        let endpoint_id = endpoint.id;
        state.db(move |conn| endpoints::count_rejection(conn, endpoint_id)).await?;
        tracing::info!(source = source.as_str(), endpoint_id, code = error.code(), "webhook refused");
        return Err(ApiError::unauthorized(error.code(), error.to_string()));
    }
    let payload: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::field("body", "The body is not JSON."))?;
    refuse_nul(&payload)?;
    let (delivery_id, event) = identify(source, req, &payload)?;
    let incoming = Incoming {
        endpoint_id: endpoint.id,
        account_id: endpoint.account_id,
        source,
        content_key: (source == Source::Gitea && event == "push")
            .then(|| effects::push_range(&payload))
            .flatten(),
        delivery_id: delivery_id.clone(),
        event,
        headers: kept_headers(req),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (outbound, audit_interval) = (state.config.ai.outbound.clone(), state.config.push_audit_interval);
    let recorded = state
        .db(move |conn| {
            let effect = effects::decide(conn, &endpoint, source, &incoming.event, &payload, &outbound)?;
            deliveries::record(conn, incoming, effect, audit_interval)
        })
        .await?;
    let Some(Recorded { status, enqueued }) = recorded else {
        return Ok(response::ok(WebhookAnswer::Duplicate(Duplicate { status: "duplicate" })));
    };
    let task_id = enqueued.as_ref().map(|enqueued| enqueued.task.id);
    if let Some(outbox_id) = enqueued.and_then(|enqueued| enqueued.outbox_id) {
        state.relay.notify([outbox_id]);
    }
    Ok(response::ok(WebhookAnswer::Stored(Stored { status, delivery_id, task_id })))
}

fn verify(source: Source, secret: &[u8], body: &[u8], req: &HttpRequest) -> Result<(), SignatureError> {
    let header = req.headers().get(source.signature_header()).and_then(|value| value.to_str().ok());
    match source {
        Source::Odoo | Source::Gitea => webhooks::verify_body(secret, body, header),
        Source::Payments => webhooks::verify_payment(secret, body, header, Utc::now().timestamp()),
    }
}

/// A refused delivery leaves a count and a time, nothing else.
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
