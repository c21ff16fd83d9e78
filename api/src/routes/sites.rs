//! `/api/v1/auth/sites/`: the websites an account works on. Everyone in the account reads
//! them; editors and above change them.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::prelude::*;
use serde::Deserialize;
use shared::{
    auth::Role,
    db::{
        models::{Sector, Site},
        schema::{sectors, sites},
    },
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
    cfg.service(list).service(create).service(retrieve).service(update).service(remove).service(site_sectors);
}

/// Order of the site list: a sort key, `-` in front for descending.
#[derive(Debug, Deserialize, Clone, Copy, utoipa::ToSchema)]
enum SiteOrdering {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
    CreatedDesc,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only active (or only inactive) sites.
    is_active: Option<bool>,
    /// Sites whose name or domain contains this text, case-insensitively.
    search: Option<String>,
    /// The order of the rows (default `-created_at`).
    #[param(inline)]
    ordering: Option<SiteOrdering>,
}

/// The account's sites (newest first by default).
#[utoipa::path(
    tag = "sites",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Site>)),
)]
#[get("/sites")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { is_active, search, ordering } = query.0;
    let pattern = search_term(&search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q = sites::table.filter(sites::account_id.eq(auth.account_id)).into_boxed();
                if let Some(active) = is_active {
                    q = q.filter(sites::is_active.eq(active));
                }
                if let Some(pattern) = &pattern {
                    q = q.filter(sites::name.ilike(pattern.clone()).or(sites::domain.ilike(pattern.clone())));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let ordered = match ordering.unwrap_or(SiteOrdering::CreatedDesc) {
                SiteOrdering::Name => filtered().order((sites::name.asc(), sites::id)),
                SiteOrdering::NameDesc => filtered().order((sites::name.desc(), sites::id)),
                SiteOrdering::Created => filtered().order((sites::created_at.asc(), sites::id)),
                SiteOrdering::CreatedDesc => filtered().order((sites::created_at.desc(), sites::id.desc())),
            };
            let rows: Vec<Site> =
                ordered.offset(page.offset()).limit(page.size()).select(Site::as_select()).load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `name` is required.
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({"name": "Example shop", "domain": "shop.example.com", "industry": "retail"}))]
    SiteInput, NewSite {
        /// The name (trimmed, at most 200 characters); required on create.
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        @required name: String,
        /// Lower-case letters, digits and dashes, unique in the account (default: from the name).
        #[schema(pattern = "^[a-z0-9-]{1,100}$")]
        slug: Option<String>,
        /// The site's domain (at most 253 characters).
        #[schema(max_length = 253)]
        domain: Option<String>,
        /// At most 5,000 characters.
        #[schema(max_length = 5000)]
        description: Option<String>,
        /// At most 200 characters.
        #[schema(max_length = 200)]
        industry: Option<String>,
        /// Default true.
        is_active: Option<bool>,
    }
}

impl Validate for SiteInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        if let Some(slug) = &self.slug {
            validation::slug(&mut errors, "slug", slug);
        }
        validation::optional_text(&mut errors, "domain", self.domain.as_deref(), 253);
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 5_000);
        validation::optional_text(&mut errors, "industry", self.industry.as_deref(), 200);
        validation::finish(errors)
    }
}

/// Adds a site to the account.
#[utoipa::path(
    tag = "sites",
    request_body = NewSite,
    responses(
        (status = 201, body = Data<Site>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The account already has a site with this slug.", body = ErrorBody),
    ),
)]
#[post("/sites")]
async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<NewSite>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    let input = SiteInput::from(body.0);
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let slug = input.slug.clone().unwrap_or_else(|| validation::slugify_or(&name, "site"));
    let site = state
        .db(move |conn| {
            Ok(diesel::insert_into(sites::table)
                .values((
                    sites::account_id.eq(auth.account_id),
                    sites::name.eq(name),
                    sites::slug.eq(slug),
                    sites::domain.eq(input.domain.map(|d| d.trim().to_owned())),
                    sites::description.eq(input.description.unwrap_or_default()),
                    sites::industry.eq(input.industry),
                    sites::is_active.eq(input.is_active.unwrap_or(true)),
                ))
                .returning(Site::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(site))
}

/// The caller's site `site_id`, or 404 (also for another tenant's site).
pub async fn load(state: &AppState, account_id: i64, site_id: i64) -> Result<Site, ApiError> {
    find_owned!(state, sites, Site, account_id, site_id, "site")
}

/// One site.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    responses((status = 200, body = Data<Site>)),
)]
#[get("/sites/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(load(&state, auth.account_id, id.0).await?))
}

/// PUT and PATCH both apply the fields sent (partial update).
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    request_body = SiteInput,
    responses(
        (status = 200, body = Data<Site>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The account already has a site with this slug.", body = ErrorBody),
    ),
)]
#[route("/sites/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    body: ApiJson<SiteInput>,
) -> Result<HttpResponse, ApiError> {
    let (site_id, input) = (id.0, body.0);
    auth.require(Role::Editor)?;
    let account_id = auth.account_id;
    let site = state
        .db(move |conn| {
            Ok(diesel::update(sites::table.find(site_id).filter(sites::account_id.eq(account_id)))
                .set((
                    input.name.map(|name| sites::name.eq(name.trim().to_owned())),
                    input.slug.map(|slug| sites::slug.eq(slug)),
                    input.domain.map(|domain| sites::domain.eq(Some(domain.trim().to_owned()))),
                    input.description.map(|description| sites::description.eq(description)),
                    input.industry.map(|industry| sites::industry.eq(Some(industry))),
                    input.is_active.map(|active| sites::is_active.eq(active)),
                    sites::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Site::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "site" })?;
    Ok(response::ok(site))
}

/// Deletes a site with its sectors and its planner and writer rows.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[delete("/sites/{id}")]
async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Editor)?;
    delete_owned!(state, sites, auth.account_id, id.0, "site")
}

/// The site's sectors, oldest first.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id."), PageParams),
    responses((status = 200, body = Page<Sector>)),
)]
#[get("/sites/{id}/sectors")]
async fn site_sectors(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
    req: HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    let site = load(&state, auth.account_id, id.0).await?;
    let (rows, count) = state
        .db(move |conn| {
            let scoped = || {
                sectors::table
                    .filter(sectors::account_id.eq(site.account_id))
                    .filter(sectors::site_id.eq(site.id))
            };
            let count: i64 = scoped().count().get_result(conn)?;
            let rows: Vec<Sector> = scoped()
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
