//! `/api/v1/auth/sectors/`: sectors (topics) of a site. A sector always belongs to a site of
//! the same account; the database enforces it with a composite foreign key.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use serde::Deserialize;
use shared::{
    db::models::{Sector, Site},
    sites::{SectorFilter, SectorInsertForm, SectorUpdateForm},
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
    let filter = SectorFilter { site_id, is_active, name: tenant::contains(search.as_deref()) };
    crud::list::<Sector>(&state, auth.scope(), filter, &req, page).await
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
    crud::find::<Site>(state, auth.scope(), site_id)
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
    auth: Editor,
    body: ApiJson<NewSector>,
) -> Result<HttpResponse, ApiError> {
    let NewSector { site_id, name, slug, description, is_active } = body.0;
    check_site(&state, &auth, site_id).await?;
    let name = name.trim().to_owned();
    let form = SectorInsertForm {
        site_id,
        slug: slug.unwrap_or_else(|| validation::slugify_or(&name, "sector")),
        name,
        description: description.unwrap_or_default(),
        is_active: is_active.unwrap_or(true),
    };
    crud::create::<Sector>(&state, auth.scope(), form).await
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
    crud::retrieve::<Sector>(&state, auth.scope(), id.0).await
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
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<SectorInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    if let Some(site_id) = input.site_id {
        check_site(&state, &auth, site_id).await?;
    }
    let form = SectorUpdateForm {
        site_id: input.site_id,
        name: input.name.map(|name| name.trim().to_owned()),
        slug: input.slug,
        description: input.description,
        is_active: input.is_active,
    };
    crud::update::<Sector>(&state, auth.scope(), id.0, form).await
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
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    crud::delete::<Sector>(&state, auth.scope(), id.0).await
}
