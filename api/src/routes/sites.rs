//! `/api/v1/auth/sites/`: the websites an account works on. Everyone in the account reads
//! them; editors and above change them.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::{
    db::models::{Sector, Site},
    sites::{SectorFilter, SiteFilter, SiteInsertForm, SiteOrdering, SiteUpdateForm},
    tenant,
};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{Data, Page, PageParams},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove).service(site_sectors);
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
    crud::list::<Site>(&state, auth.account(), filter, &req, page).await
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
    crud::create::<Site>(&state, auth.account(), form).await
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
    crud::retrieve::<Site>(&state, auth.account(), id.0).await
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
    crud::update::<Site>(&state, auth.account(), id.0, body.0.update_form()).await
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
    crud::delete::<Site>(&state, auth.account(), id.0).await
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
    let site = crud::find::<Site>(&state, auth.account(), id.0).await?;
    let filter = SectorFilter { site_id: Some(site.id), ..SectorFilter::default() };
    crud::list::<Sector>(&state, auth.account(), filter, &req, page).await
}
