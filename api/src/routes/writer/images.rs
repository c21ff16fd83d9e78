//! `/api/v1/writer/images/`: the images of content (a featured image, one per section, and
//! desktop/mobile variants), their files (`image_files`), `generate_images`, which has
//! `worker-content` draw them, and `auto_generate` (`auto_images`).

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use serde::{Deserialize, Serialize};
use shared::{
    db::models::{Content, Image},
    tasks::{GenerateImages, writer::GenerateImagesPayload},
    writer::{
        ImageStatus, ImageType,
        images::{self, ImageChange, ImageFilter, NewImage, Selection},
    },
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BatchIds, auto_images, image_files};
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Flat, Page, PageParams},
    routes::{
        commands,
        planner::{Refs, UpdatedCount, check_ids, check_refs, nullable},
    },
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    // The fixed paths first: `/images/content_images` must not be read as `/images/{id}`.
    cfg.service(content_images)
        .service(list)
        .service(create)
        .service(generate_images)
        .service(auto_images::auto_generate)
        .service(bulk_update)
        .service(image_files::file)
        .service(image_files::download)
        .service(retrieve)
        .service(update)
        .service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only images of this type.
    #[param(inline)]
    image_type: Option<ImageType>,
    /// Only images in this status.
    #[param(inline)]
    status: Option<ImageStatus>,
    /// Only images of this content.
    content_id: Option<i64>,
    /// Only images of this writer task.
    task_id: Option<i64>,
    /// Only images of this site.
    site_id: Option<i64>,
    /// Only images of this sector.
    sector_id: Option<i64>,
}

crud::routes! { row: Image, what: "image", tag: "writer", item: "/images/{id}" }

/// The account's images, newest first.
#[utoipa::path(
    tag = "writer",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Image>)),
)]
#[get("/images")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = ImageFilter {
        image_type: q.image_type,
        status: q.status,
        content_id: q.content_id,
        writer_task_id: q.task_id,
        site_id: q.site_id,
        sector_id: q.sector_id,
    };
    crud::list::<Image>(&state, auth.scope(), filter, &req, page).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ContentImagesQuery {
    /// The content whose images to list (required).
    #[param(required = true)]
    content_id: Option<i64>,
}

/// `GET /images/content_images`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WriterContentImages)]
struct ContentImages {
    /// In reading order.
    images: Vec<Image>,
}

/// A content item's images in reading order: `{"images": [...]}`.
#[utoipa::path(
    tag = "writer",
    params(ContentImagesQuery),
    responses(
        (status = 200, body = Data<ContentImages>),
        (status = 404, description = "No such content in the caller's account.", body = ErrorBody),
    ),
)]
#[get("/images/content_images")]
async fn content_images(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<ContentImagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let content_id =
        query.0.content_id.ok_or_else(|| ApiError::field("content_id", "This parameter is required."))?;
    let account = auth.account();
    crud::find::<Content>(&state, auth.scope(), content_id).await?;
    let images = state.db(move |conn| images::of_content(conn, account, content_id)).await?;
    Ok(response::ok(ContentImages { images }))
}

/// Create and update share one body; on create either `content_id` or `site_id` is required.
#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WriterImageInput)]
struct ImageInput {
    /// The content the image belongs to (its site and sector follow); fixed once set.
    content_id: Option<i64>,
    /// The site of an image without content.
    site_id: Option<i64>,
    /// A sector of the site; null clears it.
    #[serde(default, deserialize_with = "nullable")]
    sector_id: Option<Option<i64>>,
    /// `featured` by default.
    image_type: Option<ImageType>,
    /// What to draw (at most 4000 characters).
    prompt: Option<String>,
    /// The place among the content's images (0 to 1000).
    #[schema(minimum = 0, maximum = 1000)]
    position: Option<i32>,
    /// `pending` by default.
    status: Option<ImageStatus>,
}

impl Validate for ImageInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::optional_text(&mut errors, "prompt", self.prompt.as_deref(), 4_000);
        if self.position.is_some_and(|position| !(0..=1_000).contains(&position)) {
            validation::push(&mut errors, "position", "Must be between 0 and 1000.");
        }
        validation::finish(errors)
    }
}

/// Creates an image row (to be drawn by `generate_images`).
#[utoipa::path(
    tag = "writer",
    request_body = ImageInput,
    responses(
        (status = 201, body = Data<Image>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/images")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<ImageInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    // An image of a content item lives where the content does.
    let (refs, content_id, writer_task_id) = match input.content_id {
        Some(content_id) => {
            let content = crud::find::<Content>(&state, auth.scope(), content_id)
                .await
                .map_err(|_| ApiError::missing("content_id", "Content not found."))?;
            let refs = Refs { site_id: content.site_id, sector_id: content.sector_id, cluster_id: None };
            (refs, Some(content.id), content.writer_task_id)
        }
        None => {
            let site_id =
                input.site_id.ok_or_else(|| ApiError::field("site_id", "Send content_id or site_id."))?;
            let refs = Refs { site_id, sector_id: input.sector_id.flatten(), cluster_id: None };
            check_refs(&state, auth.scope(), refs).await?;
            (refs, None, None)
        }
    };
    let new = NewImage {
        site_id: refs.site_id,
        sector_id: refs.sector_id,
        content_id,
        writer_task_id,
        image_type: input.image_type.unwrap_or(ImageType::Featured),
        prompt: input.prompt.unwrap_or_default().trim().to_owned(),
        position: input.position.unwrap_or(0),
        status: input.status.unwrap_or(ImageStatus::Pending),
    };
    crud::create::<Image>(&state, auth.scope(), new).await
}

/// PUT and PATCH both apply the fields sent (partial update). An image stays with its content;
/// only an image without content may move to another site or sector.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The image id.")),
    request_body = ImageInput,
    responses(
        (status = 200, body = Data<Image>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[route("/images/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<ImageInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let current = crud::find::<Image>(&state, auth.scope(), id.0).await?;
    if input.content_id.is_some_and(|content_id| Some(content_id) != current.content_id) {
        return Err(ApiError::field("content_id", "An image cannot move to other content."));
    }
    let moves = input.site_id.is_some_and(|site_id| site_id != current.site_id)
        || input.sector_id.is_some_and(|sector_id| sector_id != current.sector_id);
    if moves {
        if current.content_id.is_some() {
            return Err(ApiError::field("site_id", "An image of content stays on the content's site."));
        }
        let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: None };
        let refs = was.changed(input.site_id, input.sector_id, None);
        check_refs(&state, auth.scope(), refs).await?;
    }
    let change = ImageChange {
        image_type: input.image_type,
        prompt: input.prompt.map(|prompt| prompt.trim().to_owned()),
        position: input.position,
        status: input.status,
        site_id: input.site_id,
        sector_id: input.sector_id,
    };
    crud::update::<Image>(&state, auth.scope(), current.id, change).await
}

/// Checks that every image is the caller's and that the account can pay for them, then
/// enqueues `writer.generate_images`: 202 with the task.
#[utoipa::path(
    tag = "writer",
    params(IdempotencyKey),
    request_body = BatchIds,
    responses(
        (status = 202, body = Accepted),
        (status = 402, description = "Not enough credits.", body = ErrorBody),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/images/generate_images")]
async fn generate_images(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<BatchIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.unique();
    crud::find_all::<Image>(&state, auth.scope(), &ids).await?;
    let count = ids.len() as u64;
    let payload = GenerateImagesPayload { image_ids: ids };
    commands::enqueue_paid::<GenerateImages>(&state, &auth, &req, &payload, count).await
}

/// `{ids, status}` or `{content_id, status}`: sets the status of the images named, or of all
/// images of one content item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WriterImageBulkStatus)]
struct BulkStatus {
    /// 1 to 1000 image ids; or send `content_id`.
    #[schema(min_items = 1, max_items = 1000)]
    ids: Option<Vec<i64>>,
    /// All images of this content; or send `ids`.
    content_id: Option<i64>,
    status: ImageStatus,
}

impl Validate for BulkStatus {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match (&self.ids, self.content_id) {
            (Some(ids), None) => check_ids(&mut errors, "ids", ids),
            (None, Some(_)) => {}
            _ => validation::push(&mut errors, "ids", "Send either ids or content_id."),
        }
        validation::finish(errors)
    }
}

/// Sets the status of the named images, or of all images of one content item; ids not found
/// are skipped.
#[utoipa::path(
    tag = "writer",
    request_body = BulkStatus,
    responses(
        (status = 200, body = Flat<UpdatedCount>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 404, description = "No such content in the caller's account.", body = ErrorBody),
    ),
)]
#[post("/images/bulk_update")]
async fn bulk_update(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkStatus>,
) -> Result<HttpResponse, ApiError> {
    let (scope, BulkStatus { ids, content_id, status }) = (auth.scope(), body.0);
    if let Some(content_id) = content_id {
        crud::find::<Content>(&state, scope.clone(), content_id).await?;
    }
    let selection = Selection { ids, content_id };
    let updated_count = state.db(move |conn| images::set_status(conn, &scope, selection, status)).await?;
    Ok(response::flat(UpdatedCount { updated_count }))
}
