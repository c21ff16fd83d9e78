//! `/system/webhooks/…`: an account's endpoints (the signing secret shown once, sealed at
//! rest) and their deliveries.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    auth::random_token,
    tasks,
    webhooks::{self, Delivery, Endpoint, NewEndpoint, Source, endpoints},
};
use utoipa::ToSchema;

use super::owner_of;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, PathId, Validate},
    response::{self, Data, Page, PageParams},
    routes::{
        admin::{is_operator, not_operator},
        planner::{Refs, check_refs},
    },
    state::AppState,
    validation,
};

/// An endpoint with the URL to give the sender.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookEndpoint {
    #[serde(flatten)]
    endpoint: Endpoint,
    /// Where the sender posts deliveries.
    #[schema(example = "/api/v1/webhooks/gitea/3kq9.../")]
    url: String,
}

impl From<Endpoint> for WebhookEndpoint {
    fn from(endpoint: Endpoint) -> Self {
        WebhookEndpoint { url: endpoint.url(), endpoint }
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
    let rows = state.db(move |conn| endpoints::list(conn, auth.account())).await?;
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
        check_refs(&state, auth.scope(), Refs { site_id, sector_id: None, cluster_id: None }).await?;
    }
    if let Some(command) = &input.command {
        // Checked the way the handler will read it.
        tasks::command(account_id, &command.kind, command.payload.clone(), &state.config.ai.outbound)
            .map_err(|problems| ApiError::from(problems.under("command")))?;
    }
    let key = random_token(32);
    let secret = format!("whsec_{}", random_token(40));
    let sealed = state.config.secret_box.seal(&secret, &owner_of(&key)).map_err(ApiError::internal)?;
    let source = Source::parse(&input.source)
        .ok_or_else(|| ApiError::field("source", "Must be one of odoo, gitea, payments."))?;
    let new = NewEndpoint {
        source,
        key,
        sealed_secret: sealed,
        site_id: input.site_id,
        command: input.command.map(|command| (command.kind, command.payload)),
    };
    let endpoint = state.db(move |conn| endpoints::create(conn, auth.account(), new)).await?;
    Ok(response::created(NewWebhookEndpoint { endpoint: endpoint.into(), secret }))
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
    crud::delete::<Endpoint>(&state, auth.scope(), id.0).await
}

/// An endpoint's deliveries, newest first (admin or owner).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint id."), PageParams),
    responses(
        (status = 200, body = Page<Delivery>),
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
    let (account, endpoint_id, window) = (auth.account(), id.0, page.window());
    let (rows, count) = state
        .db(move |conn| webhooks::deliveries::page(conn, account, endpoint_id, window))
        .await?
        .ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    Ok(response::paginated(&req, page, count, rows))
}

/// Makes an endpoint (of any account) the one its source's keyless seed path reaches
/// (`odoo/webhook/`, `system/webhook/`, `webhooks/payment/`), for a single-tenant install;
/// the source's previous default stops being one. Operators only.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint id.")),
    responses(
        (status = 200, body = Data<WebhookEndpoint>),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
    ),
)]
#[put("/webhooks/{id}/install-default")]
pub(super) async fn make_install_default(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    set_install_default(&state, &auth, id.0, true).await
}

/// Stops an endpoint being its source's install default: the keyless path answers 404 again.
/// Operators only.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint id.")),
    responses(
        (status = 200, body = Data<WebhookEndpoint>),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
    ),
)]
#[delete("/webhooks/{id}/install-default")]
pub(super) async fn clear_install_default(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    set_install_default(&state, &auth, id.0, false).await
}

async fn set_install_default(
    state: &AppState,
    auth: &Admin,
    id: i64,
    default: bool,
) -> Result<HttpResponse, ApiError> {
    if !is_operator(state, auth).await? {
        // Another account's endpoint does not exist for a tenant; its own is not its to bind.
        crud::find::<Endpoint>(state, auth.scope(), id).await?;
        return Err(not_operator());
    }
    let endpoint = state
        .db(move |conn| endpoints::set_install_default(conn, id, default))
        .await?
        .ok_or(ApiError::NotFound { what: "webhook endpoint" })?;
    tracing::info!(endpoint_id = id, default, by = auth.user_id, "webhook install default changed");
    Ok(response::ok(WebhookEndpoint::from(endpoint)))
}
