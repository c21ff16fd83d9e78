//! A fake WordPress REST API for tests: real HTTP on
//! `127.0.0.1:<random port>`, WordPress's routes, answers and error bodies
//! (`{"code", "message", "data": {"status"}}`), posts and media kept in memory.
//!
//! - `GET /wp-json/wp/v2/users/me`
//! - `POST /wp-json/wp/v2/media` (raw body, `Content-Disposition: attachment; filename=...`,
//!   fields such as `alt_text` in the query string)
//! - `POST /wp-json/wp/v2/posts`, `POST|PUT|PATCH /wp-json/wp/v2/posts/{id}`,
//!   `GET /wp-json/wp/v2/posts?slug=...`
//!
//! Every route needs HTTP Basic auth with the username and application password (spaces in
//! the password are ignored, as WordPress does); without it 401 `incorrect_password`.
//! Authorised requests take the next scripted `Failure` first, if any.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, http::StatusCode, web};
use base64::Engine;
use serde_json::{Value, json};

/// What the next authorised request gets instead of a normal answer.
#[derive(Clone, Debug)]
pub enum Failure {
    /// This status with a WordPress error body.
    Status(u16),
    /// 503 with `Retry-After: <seconds>`.
    Unavailable { retry_after_secs: u64 },
    /// 200 with an HTML page (a security plugin's challenge, a disabled REST API).
    Html,
    /// Waits this long, then answers normally.
    Slow(Duration),
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// The path under `/wp-json/wp/v2`, e.g. `/posts/5`.
    pub route: String,
    pub query: String,
    pub authorized: bool,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    /// The JSON body (`Null` for none or non-JSON).
    pub json: Value,
    pub body_len: usize,
}

#[derive(Default)]
struct State {
    failures: VecDeque<Failure>,
    posts: BTreeMap<i64, Value>,
    media: BTreeMap<i64, Value>,
    next_id: i64,
    received: Vec<Received>,
}

struct Inner {
    base_url: String,
    username: String,
    password: String,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake; stops when dropped.
pub struct FakeWordPress {
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl FakeWordPress {
    pub async fn start() -> Self {
        let (listener, port) = crate::serve::loopback_listener();
        let inner = Arc::new(Inner {
            base_url: format!("http://127.0.0.1:{port}"),
            username: "editor".to_owned(),
            password: "abcd EFGH 1234 ijkl MNOP 5678".to_owned(),
            state: Mutex::new(State { next_id: 100, ..State::default() }),
        });
        let handle = crate::serve::serve_fake(listener, inner.clone(), handle);
        Self { inner, handle }
    }

    /// `http://127.0.0.1:<port>`: what a site's `wp_url` is set to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// As WordPress shows it, in groups of four.
    pub fn app_password(&self) -> &str {
        &self.inner.password
    }

    pub fn push_failure(&self, failure: Failure) {
        self.inner.state().failures.push_back(failure);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.inner.state().received.clone()
    }

    /// Every post, by id, as the site stores it.
    pub fn posts(&self) -> BTreeMap<i64, Value> {
        self.inner.state().posts.clone()
    }

    pub fn media(&self) -> BTreeMap<i64, Value> {
        self.inner.state().media.clone()
    }

    /// Deletes a post as an editor would on the site.
    pub fn delete_post(&self, id: i64) {
        self.inner.state().posts.remove(&id);
    }
}

impl Drop for FakeWordPress {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn wp_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status_code)
        .json(json!({ "code": code, "message": message, "data": { "status": status } }))
}

fn authorized(inner: &Inner, request: &HttpRequest) -> bool {
    let Some(encoded) = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
    else {
        return false;
    };
    let Some(decoded) = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    let expected: String = inner.password.chars().filter(|c| !c.is_whitespace()).collect();
    decoded.split_once(':').is_some_and(|(user, password)| {
        user == inner.username
            && password.chars().filter(|c| !c.is_whitespace()).collect::<String>() == expected
    })
}

async fn handle(request: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let Some(route) = request.path().strip_prefix("/wp-json/wp/v2").map(str::to_owned) else {
        return wp_error(404, "rest_no_route", "No route was found matching the URL and request method.");
    };
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let is_authorized = authorized(&inner, &request);
    let method = request.method().as_str().to_owned();
    let query = request.query_string().to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let failure = {
        let mut state = inner.state();
        state.received.push(Received {
            method: method.clone(),
            route: route.clone(),
            query: query.clone(),
            authorized: is_authorized,
            content_type: header("content-type"),
            content_disposition: header("content-disposition"),
            json: json.clone(),
            body_len: body.len(),
        });
        if is_authorized { state.failures.pop_front() } else { None }
    };
    if !is_authorized {
        return wp_error(
            401,
            "incorrect_password",
            "The provided password is an invalid application password.",
        );
    }
    match failure {
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::Status(status)) => return wp_error(status, "scripted_failure", "Scripted failure."),
        Some(Failure::Unavailable { retry_after_secs }) => {
            return HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", retry_after_secs.to_string()))
                .content_type("text/html")
                .body("<html><body>Service Unavailable</body></html>");
        }
        Some(Failure::Html) => {
            return HttpResponse::Ok()
                .content_type("text/html")
                .body("<html><body>Please log in</body></html>");
        }
        None => {}
    }
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
    let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["users", "me"]) => HttpResponse::Ok().json(json!({
            "id": 1, "name": "Editor", "slug": inner.username, "roles": ["editor"],
        })),
        ("POST", ["media"]) => upload(&inner, &header, &body, param("alt_text")),
        ("POST", ["posts"]) => save_post(&inner, None, &json),
        ("POST" | "PUT" | "PATCH", ["posts", id]) => match id.parse::<i64>() {
            Ok(id) => save_post(&inner, Some(id), &json),
            Err(_) => {
                wp_error(404, "rest_no_route", "No route was found matching the URL and request method.")
            }
        },
        ("GET", ["posts"]) => {
            let slug = param("slug");
            let posts: Vec<Value> = inner
                .state()
                .posts
                .values()
                .filter(|post| slug.as_deref().is_none_or(|slug| post["slug"] == slug))
                .cloned()
                .collect();
            HttpResponse::Ok().json(posts)
        }
        _ => wp_error(404, "rest_no_route", "No route was found matching the URL and request method."),
    }
}

fn upload(
    inner: &Inner,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    alt_text: Option<String>,
) -> HttpResponse {
    let Some(filename) = header("content-disposition")
        .and_then(|value| value.split("filename=").nth(1).map(|name| name.trim_matches('"').to_owned()))
        .filter(|name| !name.is_empty())
    else {
        return wp_error(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.");
    };
    if body.is_empty() {
        return wp_error(400, "rest_upload_no_data", "No data supplied.");
    }
    let mime_type = header("content-type").unwrap_or_default();
    if !mime_type.starts_with("image/") {
        return wp_error(
            500,
            "rest_upload_sideload_error",
            "Sorry, you are not allowed to upload this file type.",
        );
    }
    let mut state = inner.state();
    state.next_id += 1;
    let id = state.next_id;
    let media = json!({
        "id": id,
        "source_url": format!("{}/wp-content/uploads/2026/11/{filename}", inner.base_url),
        "mime_type": mime_type,
        "media_type": "image",
        "alt_text": alt_text.unwrap_or_default(),
        "bytes": body.len(),
    });
    state.media.insert(id, media.clone());
    HttpResponse::Created().json(media)
}

fn save_post(inner: &Inner, id: Option<i64>, input: &Value) -> HttpResponse {
    let text = |field: &str| input[field].as_str().map(str::to_owned);
    let mut state = inner.state();
    let featured = input["featured_media"].as_i64().unwrap_or(0);
    if featured != 0 && !state.media.contains_key(&featured) {
        return wp_error(400, "rest_invalid_featured_media", "Invalid featured media ID.");
    }
    if let Some(status) = text("status")
        && !["publish", "future", "draft", "pending", "private"].contains(&status.as_str())
    {
        return wp_error(400, "rest_invalid_param", "Invalid parameter(s): status");
    }
    let (id, mut post, created) = match id {
        Some(id) => match state.posts.get(&id) {
            Some(post) => (id, post.clone(), false),
            None => return wp_error(404, "rest_post_invalid_id", "Invalid post ID."),
        },
        None => {
            if text("title").unwrap_or_default().is_empty() && text("content").unwrap_or_default().is_empty()
            {
                return wp_error(400, "empty_content", "Content, title, and excerpt are empty.");
            }
            state.next_id += 1;
            let id = state.next_id;
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
            (
                id,
                json!({ "id": id, "date_gmt": now, "status": "draft", "slug": "", "featured_media": 0 }),
                true,
            )
        }
    };
    for field in ["title", "content", "excerpt"] {
        if let Some(value) = text(field) {
            post[field] = json!({ "raw": value, "rendered": value });
        }
    }
    if let Some(status) = text("status") {
        post["status"] = json!(status);
    }
    if input.get("featured_media").is_some() {
        post["featured_media"] = json!(featured);
    }
    if let Some(slug) = text("slug").filter(|slug| !slug.is_empty()) {
        // WordPress keeps slugs unique by suffixing -2, -3...
        let taken = |candidate: &str| {
            state.posts.values().any(|other| other["id"] != id && other["slug"] == candidate)
        };
        let mut candidate = slug.clone();
        let mut suffix = 2;
        while taken(&candidate) {
            candidate = format!("{slug}-{suffix}");
            suffix += 1;
        }
        post["slug"] = json!(candidate);
    }
    post["link"] = json!(match post["status"].as_str() {
        Some("publish") => format!("{}/{}/", inner.base_url, post["slug"].as_str().unwrap_or_default()),
        _ => format!("{}/?p={id}", inner.base_url),
    });
    state.posts.insert(id, post.clone());
    if created { HttpResponse::Created().json(post) } else { HttpResponse::Ok().json(post) }
}
