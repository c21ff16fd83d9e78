//! `/api/v1/auth/site-access/`: which sites an editor or viewer reaches (IGNY8's
//! `SiteUserAccessViewSet`; owners and admins only). The rules are `shared::site_access`'s: a
//! user with grants reaches only those sites, everywhere the API reads site-owned rows.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::site_access::{self, GrantFilter, Refused, SiteGrant};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, ApiQuery, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(grant).service(retrieve).service(update).service(revoke);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GrantQuery {
    /// Only this user's grants.
    user: Option<i64>,
    /// Only the grants of this site.
    site: Option<i64>,
}

/// The account's site grants, oldest first.
#[utoipa::path(
    tag = "site-access",
    params(PageParams, GrantQuery),
    responses(
        (status = 200, body = Page<SiteGrant>),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
    ),
)]
#[get("/site-access")]
async fn list(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<GrantQuery>,
) -> Result<HttpResponse, ApiError> {
    let (account, window) = (auth.account(), page.window());
    let filter = GrantFilter { user_id: query.0.user, site_id: query.0.site };
    let (rows, count) = state.db(move |conn| site_access::list(conn, account, &filter, window)).await?;
    Ok(response::paginated(&req, page, count, rows))
}

/// A grant: `user` reaches `site` (`user_id` and `site_id` are read too).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GrantInput {
    /// An editor or viewer of the account; required on create, unchangeable after.
    #[serde(alias = "user_id")]
    user: Option<i64>,
    /// A site of the account; required.
    #[serde(alias = "site_id")]
    site: Option<i64>,
}

impl Validate for GrantInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.site.is_none() {
            validation::push(&mut errors, "site", "This field is required.");
        }
        validation::finish(errors)
    }
}

/// Grants a user access to a site (owners and admins). A user's first grant limits them to
/// it; more grants add sites.
#[utoipa::path(
    tag = "site-access",
    request_body = GrantInput,
    responses(
        (status = 201, body = Data<SiteGrant>),
        (status = 400, description = "A field is missing, or the user is an owner or admin (`user`).", body = ErrorBody),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
        (status = 404, description = "No such user or site in the account (`user`, `site`).", body = ErrorBody),
        (status = 409, description = "The user already has this site (`already_granted`).", body = ErrorBody),
    ),
)]
#[post("/site-access")]
async fn grant(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<GrantInput>,
) -> Result<HttpResponse, ApiError> {
    let Some(user_id) = body.0.user else { return Err(ApiError::field("user", "This field is required.")) };
    let site_id = body.0.site.unwrap_or_default();
    let (account, granted_by) = (auth.account(), auth.user_id);
    let granted =
        state.db(move |conn| site_access::grant(conn, account, user_id, site_id, granted_by)).await?;
    Ok(response::created(granted.map_err(refused)?))
}

/// One grant of the account.
#[utoipa::path(
    tag = "site-access",
    params(("id" = i64, Path, description = "The grant id.")),
    responses(
        (status = 200, body = Data<SiteGrant>),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
        (status = 404, description = "No such grant in the account.", body = ErrorBody),
    ),
)]
#[get("/site-access/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = (auth.account(), id.0);
    let found = state.db(move |conn| site_access::get(conn, account, id)).await?;
    Ok(response::ok(found.ok_or(ApiError::NotFound { what: "site access" })?))
}

/// Moves a grant to another site of the account; its user stays (PUT and PATCH alike).
#[utoipa::path(
    tag = "site-access",
    params(("id" = i64, Path, description = "The grant id.")),
    request_body = GrantInput,
    responses(
        (status = 200, body = Data<SiteGrant>),
        (status = 400, description = "`site` is missing, or `user` names another user.", body = ErrorBody),
        (status = 404, description = "No such grant or site in the account.", body = ErrorBody),
        (status = 409, description = "The user already has that site (`already_granted`).", body = ErrorBody),
    ),
)]
#[route("/site-access/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
    body: ApiJson<GrantInput>,
) -> Result<HttpResponse, ApiError> {
    let (account, id, input) = (auth.account(), id.0, body.0);
    let current = state
        .db(move |conn| site_access::get(conn, account, id))
        .await?
        .ok_or(ApiError::NotFound { what: "site access" })?;
    if input.user.is_some_and(|user| user != current.user) {
        return Err(ApiError::field(
            "user",
            "A grant stays with its user: revoke it and grant the other user.",
        ));
    }
    let site_id = input.site.unwrap_or_default();
    let moved = state.db(move |conn| site_access::move_to(conn, account, id, site_id)).await?;
    Ok(response::ok(moved.map_err(refused)?))
}

/// Revokes a grant. A user's last grant is kept (409 `last_site_access`): without grants the
/// user would reach every site.
#[utoipa::path(
    tag = "site-access",
    params(("id" = i64, Path, description = "The grant id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 403, description = "Owners and admins only.", body = ErrorBody),
        (status = 404, description = "No such grant in the account.", body = ErrorBody),
        (status = 409, description = "The user's last grant (`last_site_access`).", body = ErrorBody),
    ),
)]
#[delete("/site-access/{id}")]
async fn revoke(state: web::Data<AppState>, auth: Admin, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let (account, id) = (auth.account(), id.0);
    state.db(move |conn| site_access::revoke(conn, account, id)).await?.map_err(refused)?;
    Ok(HttpResponse::NoContent().finish())
}

fn refused(refused: Refused) -> ApiError {
    match refused {
        Refused::UserNotFound => ApiError::missing("user", "User not found."),
        Refused::ReachesEverySite => {
            ApiError::field("user", "Owners and admins reach every site; grant sites to editors and viewers.")
        }
        Refused::SiteNotFound => ApiError::missing("site", "Site not found."),
        Refused::AlreadyGranted => {
            ApiError::conflict("already_granted", "site", "The user already has access to this site.")
        }
        Refused::LastGrant => ApiError::conflict(
            "last_site_access",
            "id",
            "This is the user's last site: without it they would reach every site. Grant another site first, or remove the user.",
        ),
        Refused::NotFound => ApiError::NotFound { what: "site access" },
    }
}
