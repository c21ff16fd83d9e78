//! `/api/v1/auth/plans/` (public, read-only) and `/api/v1/auth/subscriptions/`: operators
//! subscribe accounts to plans and move subscriptions through their lifecycle; an account's
//! owners and admins read theirs.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use shared::{
    ids::AccountId,
    plans::{
        self, Plan,
        subscriptions::{
            self, NewSubscription, Refused, Subscription, SubscriptionChange, SubscriptionStatus,
        },
    },
};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::admin::{is_operator, require_operator};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_plans)
        .service(retrieve_plan)
        .service(list)
        .service(create)
        .service(by_account)
        .service(retrieve)
        .service(update)
        .service(remove);
}

/// The plans on sale, cheapest first (no token needed).
#[utoipa::path(tag = "plans", security(()), params(PageParams), responses((status = 200, body = Page<Plan>)))]
#[get("/plans")]
async fn list_plans(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db(plans::list).await?;
    Ok(response::paginated_all(&req, page, rows))
}

/// A plan on sale (no token needed).
#[utoipa::path(
    tag = "plans",
    security(()),
    params(("id" = i64, Path, description = "The plan id.")),
    responses((status = 200, body = Data<Plan>), (status = 404, body = ErrorBody)),
)]
#[get("/plans/{id}")]
async fn retrieve_plan(state: web::Data<AppState>, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let plan =
        state.db(move |conn| plans::get(conn, id)).await?.ok_or(ApiError::NotFound { what: "plan" })?;
    Ok(response::ok(plan))
}

/// Whose subscriptions the caller may see: every account's (operators) or their own.
async fn scope(state: &AppState, auth: &Admin) -> Result<Option<AccountId>, ApiError> {
    Ok((!is_operator(state, auth).await?).then(|| auth.account()))
}

async fn page_of(
    state: &AppState,
    req: &HttpRequest,
    page: PageParams,
    account: Option<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let window = page.window();
    let (rows, count) = state.db(move |conn| subscriptions::list(conn, account, window)).await?;
    Ok(response::paginated(req, page, count, rows))
}

/// Subscriptions, newest first: every account's (operators) or the caller's account's.
#[utoipa::path(
    tag = "subscriptions",
    params(PageParams),
    responses(
        (status = 200, body = Page<Subscription>),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
    ),
)]
#[get("/subscriptions")]
async fn list(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    let account = scope(&state, &auth).await?;
    page_of(&state, &req, page, account).await
}

/// One account's subscriptions, newest first (operators, or that account's owners and admins).
#[utoipa::path(
    tag = "subscriptions",
    params(("id" = i64, Path, description = "The account id."), PageParams),
    responses((status = 200, body = Page<Subscription>), (status = 404, body = ErrorBody)),
)]
#[get("/subscriptions/by-account/{id}")]
async fn by_account(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
    account_id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let wanted = AccountId(account_id.0);
    if scope(&state, &auth).await?.is_some_and(|own| own != wanted) {
        return Err(ApiError::NotFound { what: "account" });
    }
    page_of(&state, &req, page, Some(wanted)).await
}

/// A subscription the caller may see, or 404.
#[utoipa::path(
    tag = "subscriptions",
    params(("id" = i64, Path, description = "The subscription id.")),
    responses((status = 200, body = Data<Subscription>), (status = 404, body = ErrorBody)),
)]
#[get("/subscriptions/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = (scope(&state, &auth).await?, id.0);
    let row = state
        .db(move |conn| subscriptions::get(conn, account, id))
        .await?
        .ok_or(ApiError::NotFound { what: "subscription" })?;
    Ok(response::ok(row))
}

/// 403 for a non-operator's own subscription, 404 for one they cannot see: another
/// account's subscription does not exist for them.
async fn require_operator_on(state: &AppState, auth: &Admin, id: i64) -> Result<(), ApiError> {
    let Some(own) = scope(state, auth).await? else { return Ok(()) };
    match state.db(move |conn| subscriptions::get(conn, Some(own), id)).await? {
        Some(_) => require_operator(state, auth).await,
        None => Err(ApiError::NotFound { what: "subscription" }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SubscriptionInput)]
struct NewSubscriptionInput {
    /// The subscribed account.
    account_id: i64,
    plan_id: i64,
    /// `trialing` or `active` (default).
    status: Option<SubscriptionStatus>,
    /// Default: now.
    current_period_start: Option<DateTime<Utc>>,
    /// Default: a month (or a year, for a yearly plan) after the start.
    current_period_end: Option<DateTime<Utc>>,
}

impl Validate for NewSubscriptionInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.status.is_some_and(|status| !status.is_current()) {
            validation::push(&mut errors, "status", "A new subscription is trialing or active.");
        }
        if let (Some(start), Some(end)) = (self.current_period_start, self.current_period_end)
            && end <= start
        {
            validation::push(&mut errors, "current_period_end", "Must be after current_period_start.");
        }
        validation::finish(errors)
    }
}

/// Subscribes an account to a plan: the account is on that plan at once, its limits and next
/// month's credits are the plan's. One current subscription per account (409 otherwise).
/// Operators only.
#[utoipa::path(
    tag = "subscriptions",
    request_body = NewSubscriptionInput,
    responses(
        (status = 201, body = Data<Subscription>),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
        (status = 404, description = "No such account (`account_id`) or plan (`plan_id`).", body = ErrorBody),
        (status = 409, description = "The account already has a current subscription (`already_subscribed`).", body = ErrorBody),
    ),
)]
#[post("/subscriptions")]
async fn create(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<NewSubscriptionInput>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let input = body.0;
    let (account_id, plan_id) = (input.account_id, input.plan_id);
    let (account, plan) = state
        .db(move |conn| Ok((shared::accounts::get(conn, account_id)?, plans::get(conn, plan_id)?)))
        .await?;
    account.ok_or_else(|| ApiError::missing("account_id", "No such account."))?;
    let plan = plan.ok_or_else(|| ApiError::missing("plan_id", "No such plan."))?;
    let start = input.current_period_start.unwrap_or_else(Utc::now);
    let length = if plan.billing_period == "year" { Duration::days(365) } else { Duration::days(30) };
    let new = NewSubscription {
        account_id,
        plan_id,
        status: input.status.unwrap_or(SubscriptionStatus::Active),
        current_period_start: start,
        current_period_end: input.current_period_end.unwrap_or(start + length),
    };
    let row = state.db(move |conn| subscriptions::create(conn, new)).await.map_err(|error| match error {
        ApiError::Conflict { .. } => ApiError::conflict(
            "already_subscribed",
            "account_id",
            "The account already has a current subscription.",
        ),
        other => other,
    })?;
    tracing::info!(subscription_id = row.id, account_id, plan_id, by = auth.user_id, "subscription created");
    Ok(response::created(row))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SubscriptionChangeInput)]
struct SubscriptionInput {
    plan_id: Option<i64>,
    /// The lifecycle's moves only: trialing → active | cancelled, active ⇄ past_due,
    /// active | past_due → cancelled (409 otherwise).
    status: Option<SubscriptionStatus>,
    current_period_end: Option<DateTime<Utc>>,
    cancel_at_period_end: Option<bool>,
}

impl Validate for SubscriptionInput {}

/// Changes a subscription's plan, status or period; the account's plan follows (a cancelled
/// one leaves it on `free`). Operators only.
#[utoipa::path(
    tag = "subscriptions",
    params(("id" = i64, Path, description = "The subscription id.")),
    request_body = SubscriptionInput,
    responses(
        (status = 200, body = Data<Subscription>),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
        (status = 409, description = "A move the lifecycle forbids (`illegal_transition`, naming both states).", body = ErrorBody),
    ),
)]
#[route("/subscriptions/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
    body: ApiJson<SubscriptionInput>,
) -> Result<HttpResponse, ApiError> {
    require_operator_on(&state, &auth, id.0).await?;
    let input = body.0;
    if let Some(plan_id) = input.plan_id
        && state.db(move |conn| plans::get(conn, plan_id)).await?.is_none()
    {
        return Err(ApiError::missing("plan_id", "No such plan."));
    }
    let change = SubscriptionChange {
        plan_id: input.plan_id,
        status: input.status,
        current_period_end: input.current_period_end,
        cancel_at_period_end: input.cancel_at_period_end,
    };
    let id = id.0;
    match state.db(move |conn| subscriptions::change(conn, id, change)).await? {
        Ok(row) => Ok(response::ok(row)),
        Err(Refused::NotFound) => Err(ApiError::NotFound { what: "subscription" }),
        Err(Refused::Illegal(illegal)) => Err(ApiError::conflict(
            "illegal_transition",
            "status",
            format!("A {} subscription cannot become {}.", illegal.from, illegal.to),
        )),
    }
}

/// Deletes a subscription; a current one leaves its account on `free`. Operators only.
#[utoipa::path(
    tag = "subscriptions",
    params(("id" = i64, Path, description = "The subscription id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
)]
#[delete("/subscriptions/{id}")]
async fn remove(state: web::Data<AppState>, auth: Admin, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    require_operator_on(&state, &auth, id.0).await?;
    let id = id.0;
    if state.db(move |conn| subscriptions::delete(conn, id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound { what: "subscription" })
    }
}
