//! `/system/webhooks/…`: an account's endpoints (the signing secret shown once, sealed at
//! rest) and their deliveries.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    auth::random_token,
    db::schema::{webhook_deliveries, webhook_endpoints},
    tasks::{self},
    webhooks::Source,
};
use utoipa::ToSchema;

use super::owner_of;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, PathId, Validate},
    response::{self, Data, Page, PageParams},
    routes::planner::{Refs, check_refs},
    state::AppState,
    validation,
};

/// A webhook endpoint as stored (without its secret).
#[derive(Debug, Serialize, Queryable, ToSchema)]
#[schema(as = WebhookEndpointRow)]
struct EndpointView {
    id: i64,
    source: String,
    key: String,
    site_id: Option<i64>,
    /// The task kind the endpoint enqueues when the delivery has no effect of its own.
    command_kind: Option<String>,
    command_payload: Option<Value>,
    /// Deliveries refused for their signature.
    rejected_count: i64,
    last_rejected_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

fn view_columns() -> (
    webhook_endpoints::id,
    webhook_endpoints::source,
    webhook_endpoints::key,
    webhook_endpoints::site_id,
    webhook_endpoints::command_kind,
    webhook_endpoints::command_payload,
    webhook_endpoints::rejected_count,
    webhook_endpoints::last_rejected_at,
    webhook_endpoints::created_at,
) {
    use webhook_endpoints as w;
    (
        w::id,
        w::source,
        w::key,
        w::site_id,
        w::command_kind,
        w::command_payload,
        w::rejected_count,
        w::last_rejected_at,
        w::created_at,
    )
}

/// An endpoint with the URL to give the sender.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookEndpoint {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// Where the sender posts deliveries.
    #[schema(example = "/api/v1/webhooks/gitea/3kq9.../")]
    url: String,
}

impl From<EndpointView> for WebhookEndpoint {
    fn from(endpoint: EndpointView) -> Self {
        let url = format!("/api/v1/webhooks/{}/{}/", endpoint.source, endpoint.key);
        WebhookEndpoint { endpoint, url }
    }
}

/// A new endpoint: the only answer that shows its signing secret.
#[derive(Debug, Serialize, ToSchema)]
struct NewWebhookEndpoint {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`); not shown again.
    secret: String,
}

/// The account's webhook endpoints, by id (admin or owner).
#[utoipa::path(
    tag = "webhooks",
    responses(
        (status = 200, body = Data<Vec<WebhookEndpoint>>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[get("/webhooks")]
pub(super) async fn list(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, ApiError> {
    let rows: Vec<EndpointView> = state
        .db(move |conn| {
            Ok(webhook_endpoints::table
                .filter(webhook_endpoints::account_id.eq(auth.account_id))
                .order(webhook_endpoints::id)
                .select(view_columns())
                .load(conn)?)
        })
        .await?;
    Ok(response::ok(rows.into_iter().map(WebhookEndpoint::from).collect::<Vec<_>>()))
}

/// A command (task kind and payload) to enqueue for deliveries without an effect of their own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookCommandInput)]
struct CommandInput {
    /// A task kind (`seo.audit`, `odoo.sync`, …).
    #[schema(schema_with = crate::openapi::task_kind)]
    kind: String,
    /// The kind's payload.
    #[serde(default)]
    payload: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookEndpointInput)]
struct EndpointInput {
    /// `odoo`, `gitea` or `payments`.
    #[schema(example = "gitea", pattern = "^(odoo|gitea|payments)$")]
    source: String,
    /// One of the account's sites (Gitea pushes re-audit its domain).
    site_id: Option<i64>,
    command: Option<CommandInput>,
}

impl Validate for EndpointInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if Source::parse(&self.source).is_none() {
            validation::push(&mut errors, "source", "Must be one of odoo, gitea, payments.");
        }
        validation::finish(errors)
    }
}

/// Creates an endpoint (admin or owner); the answer is the only time the secret is shown.
#[utoipa::path(
    tag = "webhooks",
    request_body = EndpointInput,
    responses(
        (status = 201, body = Data<NewWebhookEndpoint>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[post("/webhooks")]
pub(super) async fn create(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<EndpointInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let account_id = auth.account_id;
    if let Some(site_id) = input.site_id {
        check_refs(&state, account_id, Refs { site_id, sector_id: None, cluster_id: None }).await?;
    }
    if let Some(command) = &input.command {
        // Checked the way the handler will read it.
        tasks::command(account_id, &command.kind, command.payload.clone(), &state.config.ai.outbound)
            .map_err(|problems| ApiError::from(problems.under("command")))?;
    }
    let key = random_token(32);
    let secret = format!("whsec_{}", random_token(40));
    let sealed = state.config.secret_box.seal(&secret, &owner_of(&key)).map_err(ApiError::internal)?;
    let view: EndpointView = state
        .db(move |conn| {
            use webhook_endpoints as w;
            Ok(diesel::insert_into(w::table)
                .values((
                    w::account_id.eq(account_id),
                    w::source.eq(&input.source),
                    w::key.eq(&key),
                    w::secret.eq(sealed),
                    w::site_id.eq(input.site_id),
                    w::command_kind.eq(input.command.as_ref().map(|c| c.kind.clone())),
                    w::command_payload.eq(input.command.map(|c| c.payload)),
                ))
                .returning(view_columns())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(NewWebhookEndpoint { endpoint: view.into(), secret }))
}

/// Deletes an endpoint (admin or owner); its URL stops accepting deliveries.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[delete("/webhooks/{id}")]
pub(super) async fn remove(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    delete_owned!(state, webhook_endpoints, auth.account_id, id.0, "webhook endpoint")
}

/// A stored delivery: what arrived and what it did.
#[derive(Debug, Serialize, Queryable, ToSchema)]
#[schema(as = WebhookDelivery)]
struct DeliveryView {
    id: i64,
    /// The sender's delivery id (a replay of it is a duplicate).
    delivery_id: String,
    event: String,
    /// `processed`, `enqueued`, `recorded` or `ignored`.
    status: String,
    /// The task the delivery enqueued, if any.
    task_id: Option<uuid::Uuid>,
    detail: String,
    /// The headers kept (content type, user agent, signature and the sender's own).
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    headers: Value,
    /// The raw body.
    body: String,
    received_at: DateTime<Utc>,
}

/// An endpoint's deliveries, newest first (admin or owner).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint id."), PageParams),
    responses(
        (status = 200, body = Page<DeliveryView>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[get("/webhooks/{id}/deliveries")]
pub(super) async fn deliveries(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, endpoint_id) = (auth.account_id, id.0);
    let (rows, count) = state
        .db(move |conn| {
            // Someone else's endpoint (or none) is not found, not an empty list.
            let owned: bool = diesel::select(diesel::dsl::exists(
                webhook_endpoints::table
                    .find(endpoint_id)
                    .filter(webhook_endpoints::account_id.eq(account_id)),
            ))
            .get_result(conn)?;
            if !owned {
                return Ok(None);
            }
            let filtered = || -> webhook_deliveries::BoxedQuery<'static, Pg> {
                webhook_deliveries::table
                    .filter(webhook_deliveries::account_id.eq(account_id))
                    .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
                    .into_boxed()
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<DeliveryView> = filtered()
                .order(webhook_deliveries::id.desc())
                .offset(page.offset())
                .limit(page.size())
                .select((
                    webhook_deliveries::id,
                    webhook_deliveries::delivery_id,
                    webhook_deliveries::event,
                    webhook_deliveries::status,
                    webhook_deliveries::task_id,
                    webhook_deliveries::detail,
                    webhook_deliveries::headers,
                    webhook_deliveries::body,
                    webhook_deliveries::received_at,
                ))
                .load(conn)?;
            Ok(Some((rows, count)))
        })
        .await?
        .ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    Ok(response::paginated(&req, page, count, rows))
}
