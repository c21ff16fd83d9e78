//! A fake Mastodon instance: `POST /api/v1/statuses` (with `Idempotency-Key`: the same key
//! answers the status it already made; `media_ids[]` from uploads), `POST /api/v2/media`
//! (images answered at once, videos `202` then processed on the next look),
//! `GET /api/v1/media/{id}`, `GET /api/v1/statuses/{id}` and
//! `GET /api/v1/accounts/verify_credentials`; a 429 carries `X-RateLimit-Reset` (ISO 8601).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, http::Method, web};
use serde_json::{Value, json};

use super::{Failure, FakePlatform, Gate, Platform, bearer, multipart_parts};

#[derive(Default)]
pub struct MastodonState {
    statuses: Vec<Value>,
    by_key: BTreeMap<String, Value>,
    media: Vec<Value>,
}

pub type FakeMastodon = FakePlatform<MastodonState>;

impl FakePlatform<MastodonState> {
    pub async fn start() -> Self {
        FakePlatform::serve("masto", MastodonState::default(), handle)
    }

    /// Statuses made, in order.
    pub fn statuses(&self) -> Vec<Value> {
        self.with(|state| state.statuses.clone())
    }

    /// Uploaded media, in order.
    pub fn media(&self) -> Vec<Value> {
        self.with(|state| state.media.clone())
    }

    /// Sets a status's counts, as readers would.
    pub fn react(&self, id: &str, favourites: i64, reblogs: i64, replies: i64) {
        self.with(|state| {
            if let Some(status) = state.statuses.iter_mut().find(|status| status["id"] == id) {
                status["favourites_count"] = json!(favourites);
                status["reblogs_count"] = json!(reblogs);
                status["replies_count"] = json!(replies);
            }
        });
    }
}

fn error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

async fn handle(
    request: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Platform<MastodonState>>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let write = request.method() == Method::POST;
    match inner.gate(bearer(&request).as_deref(), write).await {
        Gate::Unauthorized => return error(StatusCode::UNAUTHORIZED, "The access token is invalid"),
        Gate::Fail(Failure::RateLimited(wait)) => {
            let reset = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            return HttpResponse::TooManyRequests()
                .insert_header(("X-RateLimit-Limit", "300"))
                .insert_header(("X-RateLimit-Remaining", "0"))
                .insert_header((
                    "X-RateLimit-Reset",
                    reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ))
                .json(json!({ "error": "Too many requests" }));
        }
        Gate::Fail(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
        Gate::Pass => {}
    }
    let path = request.path().to_owned();
    let mut guard = inner.lock();
    let state = &mut guard.1;
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/api/v1/accounts/verify_credentials") => {
            HttpResponse::Ok().json(json!({ "id": "1", "username": "switchyard", "acct": "switchyard" }))
        }
        (Method::GET, path) if path.starts_with("/api/v1/statuses/") => {
            let id = &path["/api/v1/statuses/".len()..];
            match state.statuses.iter().find(|status| status["id"] == id) {
                Some(status) => HttpResponse::Ok().json(status),
                None => error(StatusCode::NOT_FOUND, "Record not found"),
            }
        }
        (Method::GET, path) if path.starts_with("/api/v1/media/") => {
            let id = &path["/api/v1/media/".len()..];
            match state.media.iter_mut().find(|media| media["id"] == id) {
                // A video is still processing the first time it is looked at.
                Some(media) if media["url"].is_null() => {
                    media["url"] = json!(format!("{}/system/media/{id}.mp4", inner.base));
                    HttpResponse::PartialContent().json(json!({ "id": id, "type": "video", "url": null }))
                }
                Some(media) => HttpResponse::Ok().json(media.clone()),
                None => error(StatusCode::NOT_FOUND, "Record not found"),
            }
        }
        (Method::POST, "/api/v2/media") => {
            let parts = multipart_parts(&request, &body);
            let Some(file) = parts.iter().find(|part| part.name == "file" && !part.data.is_empty()) else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: File can't be blank");
            };
            let kind = file.content_type.clone().unwrap_or_default();
            let id = format!("{}", 110_000_000_000_000_000u64 + state.media.len() as u64);
            let video = kind.starts_with("video/");
            if !video && !kind.starts_with("image/") {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Validation failed: File content type is invalid",
                );
            }
            let media = json!({
                "id": id,
                "type": if video { "video" } else { "image" },
                "url": if video { Value::Null } else { json!(format!("{}/system/media/{id}", inner.base)) },
                "bytes": file.data.len(),
            });
            state.media.push(media.clone());
            if video { HttpResponse::Accepted().json(media) } else { HttpResponse::Ok().json(media) }
        }
        (Method::POST, "/api/v1/statuses") => create_status(&request, &body, &inner.base, state),
        _ => error(StatusCode::NOT_FOUND, "Record not found"),
    }
}

fn create_status(request: &HttpRequest, body: &[u8], base: &str, state: &mut MastodonState) -> HttpResponse {
    use actix_web::http::StatusCode;
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = input["status"].as_str().unwrap_or_default().to_owned();
    let media_ids: Vec<String> = input["media_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if text.is_empty() && media_ids.is_empty() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: Text can't be blank");
    }
    if text.chars().count() > 500 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Text character limit of 500 exceeded",
        );
    }
    let mut attachments = Vec::new();
    for id in &media_ids {
        match state.media.iter().find(|media| &media["id"] == id) {
            Some(media) if !media["url"].is_null() => attachments.push(media.clone()),
            Some(_) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                );
            }
            None => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Validation failed: Media attachments are invalid",
                );
            }
        }
    }
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(existing) = key.as_ref().and_then(|key| state.by_key.get(key)) {
        return HttpResponse::Ok().json(existing.clone());
    }
    let id = format!("{}", 109_000_000_000_000_000u64 + state.statuses.len() as u64);
    let status = json!({
        "id": id,
        "uri": format!("{base}/users/switchyard/statuses/{id}"),
        "url": format!("{base}/@switchyard/{id}"),
        "content": format!("<p>{text}</p>"),
        "visibility": input["visibility"],
        "media_attachments": attachments,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "favourites_count": 0,
        "reblogs_count": 0,
        "replies_count": 0,
    });
    if let Some(key) = key {
        state.by_key.insert(key, status.clone());
    }
    state.statuses.push(status.clone());
    HttpResponse::Ok().json(status)
}
