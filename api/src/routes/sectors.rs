//! `/api/v1/auth/sectors/`: sectors (topics) of a site. A sector always belongs to a site of
//! the same account; the database enforces it with a composite foreign key.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::prelude::*;
use serde::Deserialize;
use shared::{
    auth::Role,
    db::{models::Sector, schema::sectors},
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::common::search_term;
use crate::forms::input_forms;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only sectors of this site.
    site_id: Option<i64>,
    /// Only active (or only inactive) sectors.
    is_active: Option<bool>,
    /// Sectors whose name contains this text, case-insensitively.
    search: Option<String>,
}

/// The account's sectors, oldest first.
#[utoipa::path(
    tag = "sites",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Sector>)),
)]
#[get("/sectors")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { site_id, is_active, search } = query.0;
    let pattern = search_term(&search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q = sectors::table.filter(sectors::account_id.eq(auth.account_id)).into_boxed();
                if let Some(site_id) = site_id {
                    q = q.filter(sectors::site_id.eq(site_id));
                }
                if let Some(active) = is_active {
                    q = q.filter(sectors::is_active.eq(active));
                }
                if let Some(pattern) = &pattern {
                    q = q.filter(sectors::name.ilike(pattern.clone()));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<Sector> = filtered()
                .order(sectors::id)
                .offset(page.offset())
                .limit(page.size())
                .select(Sector::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `site_id` and `name` are required.
    #[serde(deny_unknown_fields)]
    SectorInput, NewSector {
        /// One of the account's sites; required on create.
        @required site_id: i64,
        /// The name (trimmed, at most 200 characters); required on create.
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        @required name: String,
        /// Lower-case letters, digits and dashes, unique on the site (default: from the name).
        #[schema(pattern = "^[a-z0-9-]{1,100}$")]
        slug: Option<String>,
        /// At most 5,000 characters.
        #[schema(max_length = 5000)]
        description: Option<String>,
        /// Default true.
        is_active: Option<bool>,
    }
}

impl Validate for SectorInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        if let Some(slug) = &self.slug {
            validation::slug(&mut errors, "slug", slug);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 5_000);
        validation::finish(errors)
    }
}

/// The site must be one of the caller's: another tenant's site is "not found" in `site_id`.
async fn check_site(state: &AppState, auth: &AuthUser, site_id: i64) -> Result<(), ApiError> {
    super::sites::load(state, auth.account_id, site_id)
        .await
        .map(|_| ())
        .map_err(|_| ApiError::missing("site_id", "Site not found."))
}

/// Adds a sector to one of the account's sites.
#[utoipa::path(
    tag = "sites",
    request_body = NewSector,
    responses(
        (status = 201, body = Data<Sector>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site already has a sector with this slug.", body = ErrorBody),
    ),
)]
#[post("/sectors")]
async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<NewSector>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let input = SectorInput::from(body.0);
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let site_id = input.site_id.unwrap_or_default();
    check_site(&state, &auth, site_id).await?;
    let slug = input.slug.unwrap_or_else(|| validation::slugify_or(&name, "sector"));
    let sector = state
        .db(move |conn| {
            Ok(diesel::insert_into(sectors::table)
                .values((
                    sectors::account_id.eq(auth.account_id),
                    sectors::site_id.eq(site_id),
                    sectors::name.eq(name),
                    sectors::slug.eq(slug),
                    sectors::description.eq(input.description.unwrap_or_default()),
                    sectors::is_active.eq(input.is_active.unwrap_or(true)),
                ))
                .returning(Sector::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(sector))
}

/// One sector.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The sector id.")),
    responses((status = 200, body = Data<Sector>)),
)]
#[get("/sectors/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, sector_id) = (auth.account_id, id.0);
    let sector = find_owned!(state, sectors, Sector, account_id, sector_id, "sector")?;
    Ok(response::ok(sector))
}

/// PUT and PATCH both apply the fields sent (partial update).
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The sector id.")),
    request_body = SectorInput,
    responses(
        (status = 200, body = Data<Sector>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The site already has a sector with this slug.", body = ErrorBody),
        (status = 422, description = "Moving the sector to another site while planner or writer rows use it.", body = ErrorBody),
    ),
)]
#[route("/sectors/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    body: ApiJson<SectorInput>,
) -> Result<HttpResponse, ApiError> {
    let (sector_id, input) = (id.0, body.0);
    auth.require(Role::Editor)?;
    if let Some(site_id) = input.site_id {
        check_site(&state, &auth, site_id).await?;
    }
    let account_id = auth.account_id;
    let sector = state
        .db(move |conn| {
            Ok(diesel::update(sectors::table.find(sector_id).filter(sectors::account_id.eq(account_id)))
                .set((
                    input.site_id.map(|site_id| sectors::site_id.eq(site_id)),
                    input.name.map(|name| sectors::name.eq(name.trim().to_owned())),
                    input.slug.map(|slug| sectors::slug.eq(slug)),
                    input.description.map(|description| sectors::description.eq(description)),
                    input.is_active.map(|active| sectors::is_active.eq(active)),
                    sectors::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Sector::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "sector" })?;
    Ok(response::ok(sector))
}

/// Deletes a sector and the planner and writer rows in it.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The sector id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[delete("/sectors/{id}")]
async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    delete_owned!(state, sectors, auth.account_id, id.0, "sector")
}
