//! `/api/v1/auth/sites/`: the websites an account works on. Everyone in the account reads
//! them; editors and above change them.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::{
    db::models::{Sector, Site},
    sites::{SectorFilter, SelectedSector, SiteFilter, SiteInsertForm, SiteOrdering, SiteUpdateForm},
    tenant,
};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(retrieve)
        .service(update)
        .service(remove)
        .service(site_sectors)
        .service(set_active)
        .service(select_sectors);
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
    let filter = SiteFilter {
        is_active,
        name_or_domain: tenant::contains(search.as_deref()),
        ordering: ordering.unwrap_or_default(),
    };
    crud::list::<Site>(&state, auth.scope(), filter, &req, page).await
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

impl SiteInput {
    fn update_form(self) -> SiteUpdateForm {
        SiteUpdateForm {
            name: self.name.map(|name| name.trim().to_owned()),
            slug: self.slug,
            domain: self.domain.map(|domain| Some(domain.trim().to_owned())),
            description: self.description,
            industry: self.industry.map(Some),
            is_active: self.is_active,
        }
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
    auth: Editor,
    body: ApiJson<NewSite>,
) -> Result<HttpResponse, ApiError> {
    let NewSite { name, slug, domain, description, industry, is_active } = body.0;
    let name = name.trim().to_owned();
    let form = SiteInsertForm {
        slug: slug.unwrap_or_else(|| validation::slugify_or(&name, "site")),
        name,
        domain: domain.map(|domain| domain.trim().to_owned()),
        description: description.unwrap_or_default(),
        industry,
        is_active: is_active.unwrap_or(true),
    };
    crud::create_limited::<Site>(&state, auth.scope(), shared::plans::Limited::Sites, form).await
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
    crud::retrieve::<Site>(&state, auth.scope(), id.0).await
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
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<SiteInput>,
) -> Result<HttpResponse, ApiError> {
    crud::update::<Site>(&state, auth.scope(), id.0, body.0.update_form()).await
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
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    crud::delete::<Site>(&state, auth.scope(), id.0).await
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
    let site = crud::find::<Site>(&state, auth.scope(), id.0).await?;
    let filter = SectorFilter { site_id: Some(site.id), ..SectorFilter::default() };
    crud::list::<Sector>(&state, auth.scope(), filter, &req, page).await
}

/// Makes the site the account's active one: it becomes active and the account's other sites
/// inactive (their rows stay).
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    responses(
        (status = 200, body = Data<Site>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/sites/{id}/set_active")]
async fn set_active(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = (auth.account(), id.0);
    auth.require_site(id)?;
    let site = state
        .db(move |conn| shared::sites::set_active(conn, account, id))
        .await?
        .ok_or(ApiError::NotFound { what: "site" })?;
    Ok(response::ok(site))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"industry_slug": "retail", "sector_slugs": ["shoes", "bags"]}))]
struct SelectSectors {
    /// One of the seed library's industries; becomes the site's industry.
    industry_slug: Option<String>,
    /// The site's sectors from now on (1 to 5 slugs): existing ones are reactivated, new ones
    /// made (named from the slug), the others deactivated.
    #[schema(min_items = 1, max_items = 5)]
    sector_slugs: Vec<String>,
}

impl Validate for SelectSectors {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let max = shared::sites::MAX_ACTIVE_SECTORS;
        if self.sector_slugs.is_empty() || self.sector_slugs.len() > max {
            validation::push(&mut errors, "sector_slugs", format!("Give 1 to {max} sector slugs."));
        }
        for slug in &self.sector_slugs {
            validation::slug(&mut errors, "sector_slugs", slug);
        }
        validation::finish(errors)
    }
}

/// A slug as a sector's name: `home-garden` → "Home garden".
fn name_of(slug: &str) -> String {
    let spaced = slug.replace('-', " ");
    let mut chars = spaced.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Chooses the site's sectors (and industry): answers the active sectors.
#[utoipa::path(
    tag = "sites",
    params(("id" = i64, Path, description = "The site id.")),
    request_body = SelectSectors,
    responses(
        (status = 200, body = Data<Vec<Sector>>),
        (status = 400, description = "No or more than 5 slugs, a malformed slug (`sector_slugs`) or an unknown industry (`industry_slug`).", body = ErrorBody),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/sites/{id}/select_sectors")]
async fn select_sectors(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<SelectSectors>,
) -> Result<HttpResponse, ApiError> {
    let SelectSectors { industry_slug, sector_slugs } = body.0;
    let mut seen = std::collections::HashSet::new();
    let selected: Vec<SelectedSector> = sector_slugs
        .into_iter()
        .filter(|slug| seen.insert(slug.clone()))
        .map(|slug| SelectedSector { name: name_of(&slug), slug })
        .collect();
    let (account, site_id) = (auth.account(), id.0);
    auth.require_site(site_id)?;
    let sectors = state
        .db(move |conn| {
            let industry = match industry_slug.as_deref().map(str::trim) {
                Some(slug) => match shared::seed_library::industry_by_slug(conn, slug)? {
                    Some(industry) => Some(industry.name),
                    None => return Ok(Err(ApiError::field("industry_slug", "No such industry."))),
                },
                None => None,
            };
            Ok(shared::sites::select_sectors(conn, account, site_id, industry, selected)?
                .ok_or(ApiError::NotFound { what: "site" }))
        })
        .await??;
    Ok(response::ok(sectors))
}
