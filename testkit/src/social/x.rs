//! A fake X (API v2) for the account `@switchyard`: `GET /2/users/me`, `POST /2/media/upload`
//! (multipart `media` + `media_category`, images only), `POST /2/tweets` (280 characters, no
//! duplicate text, `media.media_ids` from uploads), `GET /2/tweets/{id}` with `public_metrics`
//! and `GET /2/users/{id}/tweets` (`max_results`, `start_time`). Errors come as X's problem
//! documents; a 429 carries `x-rate-limit-reset` (Unix seconds).

use actix_web::{HttpRequest, HttpResponse, http::Method, http::StatusCode, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Failure, FakePlatform, Gate, Platform, bearer, multipart_parts};

/// The id of the account every token belongs to.
pub const USER_ID: &str = "2244994945";

const MAX_CHARS: usize = 280;
const INVALID_REQUEST: &str = "https://api.twitter.com/2/problems/invalid-request";

#[derive(Default)]
pub struct XState {
    tweets: Vec<Value>,
    media: Vec<Value>,
}

pub type FakeX = FakePlatform<XState>;

impl FakePlatform<XState> {
    pub async fn start() -> Self {
        FakePlatform::serve("x", XState::default(), handle)
    }

    /// Tweets made, in order, each with its `public_metrics` and any `attachments.media_keys`.
    pub fn tweets(&self) -> Vec<Value> {
        self.with(|state| state.tweets.clone())
    }

    /// Uploaded media, in order, each with its `size`, `content_type` and `media_category`.
    pub fn media(&self) -> Vec<Value> {
        self.with(|state| state.media.clone())
    }

    /// Sets a tweet's counts, as readers would.
    pub fn react(&self, id: &str, likes: i64, retweets: i64, replies: i64, impressions: i64) {
        self.with(|state| {
            if let Some(tweet) = state.tweets.iter_mut().find(|tweet| tweet["id"] == id) {
                let metrics = &mut tweet["public_metrics"];
                metrics["like_count"] = json!(likes);
                metrics["retweet_count"] = json!(retweets);
                metrics["reply_count"] = json!(replies);
                metrics["impression_count"] = json!(impressions);
            }
        });
    }
}

/// X's RFC 7807-style answer for everything that is not a parameter problem.
fn problem(status: StatusCode, title: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "title": title, "detail": detail, "type": "about:blank", "status": status.as_u16(),
    }))
}

/// X's 400 naming the parameter at fault and the value it was given.
fn invalid(parameter: &str, value: Value, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "errors": [{ "parameters": { parameter: [value] }, "message": message }],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST,
    }))
}

/// A lookup of something that does not exist: X answers `200` with only `errors`.
fn not_found(resource_type: &str, id: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "errors": [{
        "value": id,
        "detail": format!("Could not find {resource_type} with id: [{id}]."),
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": "id",
        "resource_id": id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }]}))
}

fn rate_limited(wait: std::time::Duration) -> HttpResponse {
    let reset = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    // Rounded up, so a client sleeping until the reset never wakes before it.
    let reset = reset.timestamp() + i64::from(reset.timestamp_subsec_nanos() > 0);
    HttpResponse::TooManyRequests()
        .insert_header(("x-rate-limit-limit", "100"))
        .insert_header(("x-rate-limit-remaining", "0"))
        .insert_header(("x-rate-limit-reset", reset.to_string()))
        .json(json!({
            "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429,
        }))
}

async fn handle(request: HttpRequest, body: web::Bytes, inner: web::Data<Platform<XState>>) -> HttpResponse {
    let write = matches!(*request.method(), Method::POST | Method::PUT);
    match inner.gate(bearer(&request).as_deref(), write).await {
        Gate::Unauthorized => return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized"),
        Gate::Fail(Failure::RateLimited(wait)) => return rate_limited(wait),
        Gate::Fail(_) => {
            let detail = "Something went wrong. Try again later.";
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", detail);
        }
        Gate::Pass => {}
    }
    let query = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let param = |name: &str| query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let path = request.path().to_owned();
    let mut guard = inner.lock();
    let state = &mut guard.1;
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/2/users/me") => HttpResponse::Ok()
            .json(json!({ "data": { "id": USER_ID, "name": "Switchyard", "username": "switchyard" } })),
        (Method::POST, "/2/media/upload") => upload(&request, &body, state),
        (Method::POST, "/2/tweets") => create_tweet(&body, state),
        (Method::GET, path) if let Some(id) = path.strip_prefix("/2/tweets/") => {
            match state.tweets.iter().find(|tweet| tweet["id"] == id) {
                Some(tweet) => HttpResponse::Ok().json(json!({ "data": tweet })),
                None => not_found("tweet", id),
            }
        }
        (Method::GET, path)
            if let Some(user) =
                path.strip_prefix("/2/users/").and_then(|rest| rest.strip_suffix("/tweets")) =>
        {
            match user {
                USER_ID => timeline(param("max_results"), param("start_time"), state),
                other => not_found("user", other),
            }
        }
        _ => problem(StatusCode::NOT_FOUND, "Not Found Error", &format!("No route for {path}")),
    }
}

fn upload(request: &HttpRequest, body: &[u8], state: &mut XState) -> HttpResponse {
    let parts = multipart_parts(request, body);
    let category = parts.iter().find(|part| part.name == "media_category");
    let category = category.map(|part| String::from_utf8_lossy(&part.data).into_owned()).unwrap_or_default();
    if category.is_empty() {
        return invalid("media_category", json!(""), "The `media_category` field is required.");
    }
    let Some(file) = parts.iter().find(|part| part.name == "media" && !part.data.is_empty()) else {
        return invalid("media", json!(""), "The `media` field is required.");
    };
    let kind = file.content_type.clone().unwrap_or_default();
    if !kind.starts_with("image/") {
        return invalid("media", json!(kind), "The media type is not supported.");
    }
    let id = (1_880_000_000_000_000_001u64 + state.media.len() as u64).to_string();
    let size = file.data.len();
    state.media.push(json!({
        "id": id, "media_key": format!("3_{id}"), "size": size,
        "content_type": kind, "media_category": category,
    }));
    HttpResponse::Ok().json(json!({
        "data": { "id": id, "media_key": format!("3_{id}"), "size": size, "expires_after_secs": 86400 },
    }))
}

fn create_tweet(body: &[u8], state: &mut XState) -> HttpResponse {
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return invalid("body", json!(String::from_utf8_lossy(body)), "The request body is not valid JSON.");
    };
    let text = input["text"].as_str().unwrap_or_default().to_owned();
    let no_media = Vec::new();
    let media_ids = match &input["media"]["media_ids"] {
        Value::Null => &no_media,
        Value::Array(ids) => ids,
        other => {
            return invalid("media.media_ids", other.clone(), "`media_ids` must be a list of media ids.");
        }
    };
    if text.is_empty() && media_ids.is_empty() {
        return invalid("text", json!(text), "Tweet text or media is required.");
    }
    if text.chars().count() > MAX_CHARS {
        return invalid("text", json!(text), "The `text` field is too long.");
    }
    let mut media_keys = Vec::new();
    for id in media_ids {
        match state.media.iter().find(|media| id.is_string() && &media["id"] == id) {
            Some(media) => media_keys.push(media["media_key"].clone()),
            None => return invalid("media.media_ids", id.clone(), "Your media IDs are invalid."),
        }
    }
    if !text.is_empty() && state.tweets.iter().any(|tweet| tweet["text"] == text.as_str()) {
        return HttpResponse::Forbidden().json(json!({
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank", "title": "Forbidden", "status": 403,
        }));
    }
    let id = (1_860_000_000_000_000_001u64 + state.tweets.len() as u64).to_string();
    let mut tweet = json!({
        "id": id,
        "text": text,
        "edit_history_tweet_ids": [id],
        "created_at": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "public_metrics": {
            "retweet_count": 0, "reply_count": 0, "like_count": 0,
            "quote_count": 0, "bookmark_count": 0, "impression_count": 0,
        },
    });
    if !media_keys.is_empty() {
        tweet["attachments"] = json!({ "media_keys": media_keys });
    }
    state.tweets.push(tweet);
    HttpResponse::Created()
        .json(json!({ "data": { "id": id, "text": text, "edit_history_tweet_ids": [id] } }))
}

/// The account's tweets, newest first.
fn timeline(max_results: Option<&str>, start_time: Option<&str>, state: &XState) -> HttpResponse {
    let max = match max_results.map(str::parse::<usize>) {
        None => 10,
        Some(Ok(max)) if (5..=100).contains(&max) => max,
        Some(_) => {
            let message = "The `max_results` query parameter value is not between 5 and 100";
            return invalid("max_results", json!(max_results), message);
        }
    };
    let since = match start_time.map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(since)) => Some(since),
        Some(Err(_)) => return invalid("start_time", json!(start_time), "Invalid `start_time`."),
    };
    let made_since = |tweet: &&Value| {
        let created = tweet["created_at"].as_str().and_then(|at| DateTime::parse_from_rfc3339(at).ok());
        since.is_none_or(|since| created.is_some_and(|created| created >= since))
    };
    let data: Vec<Value> = state
        .tweets
        .iter()
        .rev()
        .filter(made_since)
        .take(max)
        .map(|tweet| {
            json!({
                "id": tweet["id"], "text": tweet["text"],
                "created_at": tweet["created_at"], "edit_history_tweet_ids": tweet["edit_history_tweet_ids"],
            })
        })
        .collect();
    let (Some(newest), Some(oldest)) = (data.first(), data.last()) else {
        return HttpResponse::Ok().json(json!({ "meta": { "result_count": 0 } }));
    };
    let meta = json!({ "result_count": data.len(), "newest_id": newest["id"], "oldest_id": oldest["id"] });
    HttpResponse::Ok().json(json!({ "data": data, "meta": meta }))
}
