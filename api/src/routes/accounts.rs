//! `/api/v1/auth/accounts/`: operators list, open, change and delete every account; an
//! account's owners and admins see theirs and may rename it.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::accounts::{self, AccountChange, AccountDetail, AccountStatus, Refused};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::admin::{is_operator, require_operator};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, ApiQuery, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    /// Accounts whose name contains this text (operators).
    search: Option<String>,
}

/// Every account (operators), or the caller's own (its owners and admins).
#[utoipa::path(
    tag = "accounts",
    params(PageParams, AccountQuery),
    responses(
        (status = 200, body = Page<AccountDetail>),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
    ),
)]
#[get("/accounts")]
async fn list(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let only = (!is_operator(&state, &auth).await?).then(|| auth.account());
    let (search, window) = (query.0.search, page.window());
    let (rows, count) = state.db(move |conn| accounts::list(conn, only, search.as_deref(), window)).await?;
    Ok(response::paginated(&req, page, count, rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountInput)]
struct NewAccount {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// The plan (default: `free`).
    plan_id: Option<i64>,
}

impl Validate for NewAccount {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::text(&mut errors, "name", &self.name, 200);
        validation::finish(errors)
    }
}

/// Opens an account on a plan, with its first month's credits; invite its owner next.
/// Operators only.
#[utoipa::path(
    tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, body = Data<AccountDetail>),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
        (status = 404, description = "No such active plan (`plan_id`).", body = ErrorBody),
    ),
)]
#[post("/accounts")]
async fn create(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &auth).await?;
    let NewAccount { name, plan_id } = body.0;
    let detail = state
        .db(move |conn| {
            if let Some(plan_id) = plan_id
                && shared::plans::get(conn, plan_id)?.is_none()
            {
                return Ok(None);
            }
            let account = shared::users::open_account(conn, name.trim(), plan_id)?;
            accounts::get(conn, account.id)
        })
        .await?
        .ok_or_else(|| ApiError::missing("plan_id", "No such plan."))?;
    Ok(response::created(detail))
}

/// An account an operator, or its own owner or admin, may see; 404 otherwise.
async fn visible(state: &AppState, auth: &Admin, id: i64) -> Result<AccountDetail, ApiError> {
    let mine = id == auth.account_id;
    if !mine && !is_operator(state, auth).await? {
        return Err(ApiError::NotFound { what: "account" });
    }
    state.db(move |conn| accounts::get(conn, id)).await?.ok_or(ApiError::NotFound { what: "account" })
}

/// An account with its plan and balance.
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "The account id.")),
    responses((status = 200, body = Data<AccountDetail>), (status = 404, body = ErrorBody)),
)]
#[get("/accounts/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(visible(&state, &auth, id.0).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountChangeInput)]
struct AccountInput {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    /// `active` or `suspended` (operators only): a suspended account's users are refused.
    status: Option<AccountStatus>,
}

impl Validate for AccountInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        validation::finish(errors)
    }
}

/// Renames an account (its owners and admins, or operators) or suspends and reactivates it
/// (operators).
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "The account id.")),
    request_body = AccountInput,
    responses(
        (status = 200, body = Data<AccountDetail>),
        (status = 403, description = "Only operators change `status`.", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
)]
#[route("/accounts/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
    body: ApiJson<AccountInput>,
) -> Result<HttpResponse, ApiError> {
    let current = visible(&state, &auth, id.0).await?;
    let AccountInput { name, status } = body.0;
    if status.is_some() {
        require_operator(&state, &auth).await?;
    }
    let change = AccountChange { name: name.map(|name| name.trim().to_owned()), status };
    let changed = state.db(move |conn| accounts::change(conn, current.id, change)).await?;
    Ok(response::ok(changed.ok_or(ApiError::NotFound { what: "account" })?))
}

/// Deletes an account and everything it owns. Operators only; system accounts stay (409).
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "The account id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Operators only (`not_operator`).", body = ErrorBody),
        (status = 409, description = "A system account (`system_account`).", body = ErrorBody),
    ),
)]
#[delete("/accounts/{id}")]
async fn remove(state: web::Data<AppState>, auth: Admin, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    visible(&state, &auth, id.0).await?;
    require_operator(&state, &auth).await?;
    let id = id.0;
    match state.db(move |conn| accounts::delete(conn, id)).await? {
        Ok(()) => {
            tracing::info!(account_id = id, by = auth.user_id, "account deleted");
            Ok(HttpResponse::NoContent().finish())
        }
        Err(Refused::NotFound) => Err(ApiError::NotFound { what: "account" }),
        Err(Refused::System) => Err(ApiError::conflict(
            "system_account",
            "id",
            "A system account holds the operators and cannot be deleted.",
        )),
    }
}
