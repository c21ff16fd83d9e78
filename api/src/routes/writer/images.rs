//! `/api/v1/writer/images/`: the images of content (a featured image, one per section, and
//! desktop/mobile variants), their files, and `generate_images`, which has `worker-content`
//! draw them.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use shared::{
    db::{
        models::{Content, Image},
        schema::images,
    },
    tasks::{GenerateImages, writer::GenerateImagesPayload},
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BatchIds, ensure_found, text_enum};
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Page, PageParams},
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
        .service(bulk_update)
        .service(file)
        .service(download)
        .service(retrieve)
        .service(update)
        .service(remove);
}

text_enum!(
    /// What an image is for.
    #[schema(as = WriterImageType)]
    ImageType {
    Featured => "featured",
    InArticle => "in_article",
    Desktop => "desktop",
    Mobile => "mobile",
});

text_enum!(
    /// Where an image stands.
    #[schema(as = WriterImageStatus)]
    ImageStatus {
    Pending => "pending",
    Generated => "generated",
    Failed => "failed",
    Published => "published",
});

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
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                use images as i;
                let mut query: i::BoxedQuery<'static, Pg> =
                    i::table.filter(i::account_id.eq(auth.account_id)).into_boxed();
                if let Some(image_type) = q.image_type {
                    query = query.filter(i::image_type.eq(image_type.as_str()));
                }
                if let Some(status) = q.status {
                    query = query.filter(i::status.eq(status.as_str()));
                }
                if let Some(content_id) = q.content_id {
                    query = query.filter(i::content_id.eq(content_id));
                }
                if let Some(task_id) = q.task_id {
                    query = query.filter(i::writer_task_id.eq(task_id));
                }
                if let Some(site_id) = q.site_id {
                    query = query.filter(i::site_id.eq(site_id));
                }
                if let Some(sector_id) = q.sector_id {
                    query = query.filter(i::sector_id.eq(sector_id));
                }
                query
            };
            let count: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<Image> = filtered()
                .order((images::created_at.desc(), images::id.desc()))
                .offset(page.offset())
                .limit(page.size())
                .select(Image::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
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
    let content = crud::find::<Content>(&state, auth.account(), content_id).await?;
    let rows: Vec<Image> = state
        .db(move |conn| {
            Ok(images::table
                .filter(images::account_id.eq(content.account_id))
                .filter(images::content_id.eq(content.id))
                .order((images::position, images::id))
                .select(Image::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(response::ok(ContentImages { images: rows }))
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
            let content = crud::find::<Content>(&state, auth.account(), content_id)
                .await
                .map_err(|_| ApiError::missing("content_id", "Content not found."))?;
            let refs = Refs { site_id: content.site_id, sector_id: content.sector_id, cluster_id: None };
            (refs, Some(content.id), content.writer_task_id)
        }
        None => {
            let site_id =
                input.site_id.ok_or_else(|| ApiError::field("site_id", "Send content_id or site_id."))?;
            let refs = Refs { site_id, sector_id: input.sector_id.flatten(), cluster_id: None };
            check_refs(&state, auth.account_id, refs).await?;
            (refs, None, None)
        }
    };
    let row = state
        .db(move |conn| {
            use images as i;
            Ok(diesel::insert_into(i::table)
                .values((
                    i::account_id.eq(auth.account_id),
                    i::site_id.eq(refs.site_id),
                    i::sector_id.eq(refs.sector_id),
                    i::content_id.eq(content_id),
                    i::writer_task_id.eq(writer_task_id),
                    i::image_type.eq(input.image_type.unwrap_or(ImageType::Featured).as_str()),
                    i::prompt.eq(input.prompt.unwrap_or_default().trim().to_owned()),
                    i::position.eq(input.position.unwrap_or(0)),
                    i::status.eq(input.status.unwrap_or(ImageStatus::Pending).as_str()),
                ))
                .returning(Image::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
}

/// One image.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The image id.")),
    responses((status = 200, body = Data<Image>)),
)]
#[get("/images/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<Image>(&state, auth.account(), id.0).await
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
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<Image>(&state, auth.account(), id.0).await?;
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
        check_refs(&state, account_id, refs).await?;
    }
    let row = state
        .db(move |conn| {
            use images as i;
            Ok(diesel::update(i::table.find(current.id).filter(i::account_id.eq(account_id)))
                .set((
                    input.image_type.map(|image_type| i::image_type.eq(image_type.as_str())),
                    input.prompt.map(|prompt| i::prompt.eq(prompt.trim().to_owned())),
                    input.position.map(|position| i::position.eq(position)),
                    input.status.map(|status| i::status.eq(status.as_str())),
                    input.site_id.map(|site_id| i::site_id.eq(site_id)),
                    input.sector_id.map(|sector_id| i::sector_id.eq(sector_id)),
                    i::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Image::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "image" })?;
    Ok(response::ok(row))
}

/// Deletes an image.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The image id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[delete("/images/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    crud::delete::<Image>(&state, auth.account(), id.0).await
}

/// The image and its file's bytes, or 404 when it has no file (or the file is gone).
async fn image_file(state: &AppState, auth: &AuthUser, id: i64) -> Result<(Image, Vec<u8>), ApiError> {
    let image = crud::find::<Image>(state, auth.account(), id).await?;
    let key = image.file_path.clone().ok_or(ApiError::NotFound { what: "image file" })?;
    let bytes = state.media.get(&key).await.map_err(|error| {
        tracing::warn!(%error, image_id = image.id, "image file unreadable");
        ApiError::NotFound { what: "image file" }
    })?;
    let bytes = bytes.ok_or(ApiError::NotFound { what: "image file" })?;
    Ok((image, bytes))
}

/// `GET /images/{id}/file`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WriterImageFile)]
struct ImageFile {
    /// Where to download the file: `/api/v1/writer/images/{id}/download/`.
    image_url: String,
    mime_type: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
}

/// `{"image_url": "/api/v1/writer/images/{id}/download/"}` when the image has a file.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The image id.")),
    responses(
        (status = 200, body = Data<ImageFile>),
        (status = 404, description = "No such image, or it has no file.", body = ErrorBody),
    ),
)]
#[get("/images/{id}/file")]
async fn file(state: web::Data<AppState>, auth: AuthUser, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let image = crud::find::<Image>(&state, auth.account(), id.0).await?;
    let key = image.file_path.as_deref().ok_or(ApiError::NotFound { what: "image file" })?;
    // A key that cannot be a file of ours is the same as no file.
    if !state.media.exists(key).await.unwrap_or(false) {
        return Err(ApiError::NotFound { what: "image file" });
    }
    Ok(response::ok(ImageFile {
        image_url: format!("/api/v1/writer/images/{}/download/", image.id),
        mime_type: image.mime_type,
        width: image.width,
        height: image.height,
    }))
}

/// The file itself, with the image type the worker read from its bytes.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The image id.")),
    responses(
        (status = 200, description = "The image file.", content(
            ("image/png"), ("image/jpeg"), ("image/webp"), ("image/gif"), ("application/octet-stream"),
        )),
        (status = 404, description = "No such image, or it has no file.", body = ErrorBody),
    ),
)]
#[get("/images/{id}/download")]
async fn download(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let (image, bytes) = image_file(&state, &auth, id.0).await?;
    // Only image types: a file is never served as HTML or script from our origin.
    let mime = image.mime_type.filter(|mime| {
        mime.starts_with("image/") && actix_web::http::header::HeaderValue::from_str(mime).is_ok()
    });
    Ok(HttpResponse::Ok()
        .content_type(mime.unwrap_or_else(|| "application/octet-stream".to_owned()))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
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
    let (account_id, wanted) = (auth.account_id, ids.clone());
    let found: Vec<i64> = state
        .db(move |conn| {
            Ok(images::table
                .filter(images::account_id.eq(account_id))
                .filter(images::id.eq_any(wanted))
                .select(images::id)
                .load(conn)?)
        })
        .await?;
    ensure_found(&ids, &found, "images")?;
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
        (status = 200, body = Data<UpdatedCount>),
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
    let (account_id, BulkStatus { ids, content_id, status }) = (auth.account_id, body.0);
    if let Some(content_id) = content_id {
        crud::find::<Content>(&state, auth.account(), content_id).await?;
    }
    let updated_count = state
        .db(move |conn| {
            use images as i;
            let mut target = i::table.filter(i::account_id.eq(account_id)).into_boxed();
            if let Some(ids) = ids {
                target = target.filter(i::id.eq_any(ids));
            }
            if let Some(content_id) = content_id {
                target = target.filter(i::content_id.eq(content_id));
            }
            let chosen: Vec<i64> = target.select(i::id).load(conn)?;
            Ok(diesel::update(i::table.filter(i::id.eq_any(chosen)))
                .set((i::status.eq(status.as_str()), i::updated_at.eq(diesel::dsl::now)))
                .execute(conn)?)
        })
        .await?;
    Ok(response::ok(UpdatedCount { updated_count }))
}
