//! An image's file: where to download it, and the bytes themselves (only ever served as an
//! image type).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use shared::db::models::Image;
use utoipa::ToSchema;

use crate::{
    crud,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, PathId},
    response::{self, Data},
    state::AppState,
};

/// The image and its file's bytes, or 404 when it has no file (or the file is gone).
async fn image_file(state: &AppState, auth: &AuthUser, id: i64) -> Result<(Image, Vec<u8>), ApiError> {
    let image = crud::find::<Image>(state, auth.scope(), id).await?;
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
pub(super) async fn file(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let image = crud::find::<Image>(&state, auth.scope(), id.0).await?;
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
pub(super) async fn download(
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
