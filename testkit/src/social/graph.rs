//! A fake Meta Graph API with one Facebook Page ([`PAGE_ID`]) and one Instagram professional
//! account ([`INSTAGRAM_ID`]), at the root (a `/vNN.N` prefix is accepted and ignored).
//! Facebook: `POST /{page}/feed` (a message and/or `attached_media[i]` naming unpublished
//! photos), `POST /{page}/photos` (published, or unpublished for attaching), `POST /{page}/videos`,
//! and `GET` of the page, a post, or `/{page}/feed` and `/{page}/published_posts` (`since`, `limit`).
//! Instagram publishes in two steps: `POST /{ig}/media` makes a container (an image, a `REELS`
//! video still processing on its first status read, or a `CAROUSEL` of item containers), then
//! `POST /{ig}/media_publish` publishes it once; `GET` reads the account, a container's status,
//! a media or `/{ig}/media`. Writes carry form-urlencoded bodies; every error has Graph's
//! `{"error":{...}}` shape, and a rate limit names its wait in `X-Business-Use-Case-Usage`.

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse,
    http::{Method, StatusCode},
    web,
};
use serde_json::{Value, json};

use super::{Failure, FakePlatform, Gate, Platform, bearer};

pub const PAGE_ID: &str = "1000000001";
pub const INSTAGRAM_ID: &str = "17841400000000001";

const OAUTH: &str = "OAuthException";
const GRAPH_TIME: &str = "%Y-%m-%dT%H:%M:%S%z";
const CAPTION_LIMIT: usize = 2200;

#[derive(Default)]
pub struct GraphState {
    posts: Vec<Value>,
    photos: Vec<Value>,
    containers: Vec<Value>,
    media: Vec<Value>,
    /// Posts, photos and videos draw from one sequence so their ids never collide.
    facebook_ids: u64,
}

impl GraphState {
    fn next_facebook_id(&mut self) -> String {
        self.facebook_ids += 1;
        (122_100_000_000_000_000 + self.facebook_ids).to_string()
    }
}

pub type FakeGraph = FakePlatform<GraphState>;

impl FakePlatform<GraphState> {
    pub async fn start() -> Self {
        FakePlatform::serve("graph", GraphState::default(), handle)
    }

    /// Facebook posts, in the order made.
    pub fn posts(&self) -> Vec<Value> {
        self.with(|state| state.posts.clone())
    }

    /// Facebook photos uploaded, published or not, in order.
    pub fn photos(&self) -> Vec<Value> {
        self.with(|state| state.photos.clone())
    }

    /// Published Instagram media, in order.
    pub fn instagram_media(&self) -> Vec<Value> {
        self.with(|state| state.media.clone())
    }

    /// Instagram containers, in order.
    pub fn containers(&self) -> Vec<Value> {
        self.with(|state| state.containers.clone())
    }

    /// Sets a Facebook post's or an Instagram media's counts, as readers would (Instagram has no shares).
    pub fn react(&self, id: &str, likes: i64, shares: i64, comments: i64) {
        self.with(|state| {
            if let Some(post) = state.posts.iter_mut().find(|post| post["id"] == id) {
                post["reactions"]["summary"]["total_count"] = json!(likes);
                post["shares"]["count"] = json!(shares);
                post["comments"]["summary"]["total_count"] = json!(comments);
            } else if let Some(media) = state.media.iter_mut().find(|media| media["id"] == id) {
                media["like_count"] = json!(likes);
                media["comments_count"] = json!(comments);
            }
        });
    }
}

type Params = BTreeMap<String, String>;
type Reply = Result<Value, GraphError>;

/// A Graph error answer: its HTTP status and `{"error":{...}}` body.
struct GraphError(StatusCode, Value);

impl GraphError {
    fn respond(self) -> HttpResponse {
        HttpResponse::build(self.0).json(self.1)
    }
}

fn error_body(code: u32, subcode: Option<u32>, kind: &str, message: &str) -> Value {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let mut error =
        json!({ "message": message, "type": kind, "code": code, "fbtrace_id": format!("A{}", &trace[..10]) });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    json!({ "error": error })
}

fn bad_request(code: u32, subcode: Option<u32>, message: &str) -> GraphError {
    GraphError(StatusCode::BAD_REQUEST, error_body(code, subcode, OAUTH, message))
}

fn invalid(message: &str) -> GraphError {
    bad_request(100, None, &format!("(#100) {message}"))
}

fn unsupported(method: &Method, id: &str) -> GraphError {
    let message = format!(
        "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing \
         permissions, or does not support this operation.",
        method.as_str().to_lowercase()
    );
    GraphError(StatusCode::BAD_REQUEST, error_body(100, Some(33), "GraphMethodException", &message))
}

fn rate_limited(wait: Duration) -> HttpResponse {
    let usage = json!({ (PAGE_ID): [{
        "type": "pages", "call_count": 100, "total_cputime": 25, "total_time": 25,
        "estimated_time_to_regain_access": wait.as_secs().div_ceil(60),
    }] });
    HttpResponse::BadRequest()
        .insert_header(("X-Business-Use-Case-Usage", usage.to_string()))
        .json(error_body(32, None, OAUTH, "(#32) Page request limit reached"))
}

fn server_error() -> HttpResponse {
    let mut body =
        error_body(2, None, OAUTH, "An unexpected error has occurred. Please retry your request later.");
    body["error"]["is_transient"] = json!(true);
    HttpResponse::InternalServerError().json(body)
}

/// Query and body parameters together: Graph reads either, the body winning.
fn params(request: &HttpRequest, body: &[u8]) -> Result<Params, GraphError> {
    let unparsable = |_| invalid("The request parameters could not be parsed");
    let mut params: Params = serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
        .map_err(unparsable)?
        .into_iter()
        .collect();
    params.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).map_err(unparsable)?);
    Ok(params)
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, GraphError> {
    match params.get(name).map(String::as_str) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(invalid(&format!("The parameter {name} is required"))),
    }
}

fn number<T: FromStr>(params: &Params, name: &str) -> Result<Option<T>, GraphError> {
    params
        .get(name)
        .map(|value| value.parse().map_err(|_| invalid(&format!("Param {name} must be a number"))))
        .transpose()
}

fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

async fn handle(
    request: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Platform<GraphState>>,
) -> HttpResponse {
    let write = request.method() == Method::POST;
    match inner.gate(bearer(&request).as_deref(), write).await {
        Gate::Unauthorized => {
            return bad_request(
                190,
                Some(460),
                "Error validating access token: The session has been invalidated because the user changed \
                 their password or Facebook has changed the session for security reasons.",
            )
            .respond();
        }
        Gate::Fail(Failure::RateLimited(wait)) => return rate_limited(wait),
        Gate::Fail(_) => return server_error(),
        Gate::Pass => {}
    }
    let params = match params(&request, &body) {
        Ok(params) => params,
        Err(error) => return error.respond(),
    };
    let mut segments: Vec<&str> = request.path().split('/').filter(|segment| !segment.is_empty()).collect();
    if segments.first().is_some_and(|segment| is_version(segment)) {
        segments.remove(0);
    }
    let method = request.method();
    let mut guard = inner.lock();
    let state = &mut guard.1;
    let reply = match (method.as_str(), segments.as_slice()) {
        ("GET", [PAGE_ID]) => Ok(json!({ "id": PAGE_ID, "name": "Switchyard Page" })),
        ("GET", [INSTAGRAM_ID]) => Ok(json!({ "id": INSTAGRAM_ID, "username": "switchyard" })),
        ("GET", [PAGE_ID, "feed" | "published_posts"]) => list_posts(state, &params),
        ("GET", [INSTAGRAM_ID, "media"]) => list_media(state, &params),
        ("GET", [id]) => lookup(state, id),
        ("POST", [PAGE_ID, "feed"]) => create_feed_post(state, &params),
        ("POST", [PAGE_ID, "photos"]) => upload_photo(state, &params),
        ("POST", [PAGE_ID, "videos"]) => upload_video(state, &params),
        ("POST", [INSTAGRAM_ID, "media"]) => create_container(state, &params),
        ("POST", [INSTAGRAM_ID, "media_publish"]) => publish(state, &params),
        _ => Err(unsupported(method, &segments.join("/"))),
    };
    match reply {
        Ok(value) => HttpResponse::Ok().json(value),
        Err(error) => error.respond(),
    }
}

fn graph_time() -> String {
    chrono::Utc::now().format(GRAPH_TIME).to_string()
}

/// Any object this fake made, by id; reading a processing container's status moves it on.
fn lookup(state: &mut GraphState, id: &str) -> Reply {
    let find = |objects: &[Value]| objects.iter().find(|object| object["id"] == id).cloned();
    if let Some(object) = find(&state.posts).or_else(|| find(&state.media)).or_else(|| find(&state.photos)) {
        return Ok(object);
    }
    let Some(container) = state.containers.iter_mut().find(|container| container["id"] == id) else {
        return Err(unsupported(&Method::GET, id));
    };
    let status = container["status_code"].clone();
    if status == "IN_PROGRESS" {
        container["status_code"] = json!("FINISHED");
    }
    Ok(json!({ "id": id, "status_code": status }))
}

// ---- Facebook Page ----

fn new_post(id: &str, message: Option<&str>, attachments: Vec<String>) -> Value {
    let number = id.rsplit('_').next().unwrap_or(id);
    let mut post = json!({
        "id": id,
        "created_time": graph_time(),
        "permalink_url": format!("https://www.facebook.com/{PAGE_ID}/posts/{number}"),
        "shares": { "count": 0 },
        "reactions": { "data": [], "summary": { "total_count": 0 } },
        "comments": { "data": [], "summary": { "total_count": 0 } },
    });
    if let Some(message) = message.filter(|message| !message.is_empty()) {
        post["message"] = json!(message);
    }
    if !attachments.is_empty() {
        post["attachments"] = json!(attachments);
    }
    post
}

/// The photo ids of `attached_media[i]`, in index order; each must be an unpublished photo.
fn attached_media(state: &GraphState, params: &Params) -> Result<Vec<String>, GraphError> {
    let mut attached = Vec::new();
    for (key, value) in params {
        let Some(index) = key.strip_prefix("attached_media[").and_then(|rest| rest.strip_suffix(']')) else {
            continue;
        };
        let index: usize =
            index.parse().map_err(|_| invalid(&format!("Param {key} is not a valid parameter")))?;
        let fbid = serde_json::from_str::<Value>(value)
            .ok()
            .and_then(|v| v["media_fbid"].as_str().map(str::to_owned));
        let Some(fbid) = fbid else {
            return Err(invalid(&format!("Param {key} must be a JSON object with a media_fbid")));
        };
        if !state.photos.iter().any(|photo| photo["id"] == fbid.as_str() && photo["published"] == false) {
            return Err(invalid(&format!("Param {key} has an invalid media_fbid: {fbid}")));
        }
        attached.push((index, fbid));
    }
    attached.sort();
    Ok(attached.into_iter().map(|(_, fbid)| fbid).collect())
}

fn create_feed_post(state: &mut GraphState, params: &Params) -> Reply {
    let attached = attached_media(state, params)?;
    let message = params.get("message").map(String::as_str).filter(|message| !message.is_empty());
    if message.is_none() && attached.is_empty() {
        return Err(invalid("The parameter message or attached_media is required"));
    }
    let id = format!("{PAGE_ID}_{}", state.next_facebook_id());
    state.posts.push(new_post(&id, message, attached));
    Ok(json!({ "id": id }))
}

fn upload_photo(state: &mut GraphState, params: &Params) -> Reply {
    let url = required(params, "url")?;
    if url::Url::parse(url).is_err() {
        return Err(invalid("Param url must be a valid URL"));
    }
    let message = params.get("message").map(String::as_str);
    let published = params.get("published").is_none_or(|published| published != "false");
    let id = state.next_facebook_id();
    let mut photo = json!({ "id": id, "url": url, "message": message, "published": published });
    if !published {
        state.photos.push(photo);
        return Ok(json!({ "id": id }));
    }
    // As on Facebook, a published photo's post is numbered after the photo.
    let post_id = format!("{PAGE_ID}_{id}");
    photo["post_id"] = json!(post_id);
    state.photos.push(photo);
    state.posts.push(new_post(&post_id, message, vec![id.clone()]));
    Ok(json!({ "id": id, "post_id": post_id }))
}

fn upload_video(state: &mut GraphState, params: &Params) -> Reply {
    let file_url = required(params, "file_url")?;
    if url::Url::parse(file_url).is_err() {
        return Err(invalid("Param file_url must be a valid URL"));
    }
    let id = state.next_facebook_id();
    state.posts.push(new_post(&id, params.get("description").map(String::as_str), vec![id.clone()]));
    Ok(json!({ "id": id }))
}

fn list_posts(state: &GraphState, params: &Params) -> Reply {
    let since: Option<i64> = number(params, "since")?;
    let limit = number(params, "limit")?.unwrap_or(25);
    let created = |post: &Value| {
        post["created_time"]
            .as_str()
            .and_then(|time| chrono::DateTime::parse_from_str(time, GRAPH_TIME).ok())
            .map_or(0, |time| time.timestamp())
    };
    let data: Vec<Value> = state
        .posts
        .iter()
        .rev()
        .filter(|post| since.is_none_or(|since| created(post) >= since))
        .take(limit)
        .cloned()
        .collect();
    Ok(json!({ "data": data, "paging": {} }))
}

// ---- Instagram ----

fn image_container(params: &Params) -> Reply {
    let url = required(params, "image_url")?;
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    if !(path.ends_with(".jpg") || path.ends_with(".jpeg")) {
        return Err(bad_request(9004, Some(2207052), "Only photo or video can be accepted as media type."));
    }
    Ok(json!({ "media_type": "IMAGE", "image_url": url, "status_code": "FINISHED" }))
}

fn carousel_container(state: &GraphState, params: &Params) -> Reply {
    let children: Vec<&str> =
        required(params, "children")?.split(',').map(str::trim).filter(|child| !child.is_empty()).collect();
    if !(2..=10).contains(&children.len()) {
        return Err(invalid("Param children must name between 2 and 10 containers"));
    }
    for child in &children {
        if !state.containers.iter().any(|c| c["id"] == *child && c["is_carousel_item"] == true) {
            return Err(invalid(&format!("Param children: {child} is not a carousel item container")));
        }
    }
    Ok(json!({ "media_type": "CAROUSEL", "children": children, "status_code": "FINISHED" }))
}

fn create_container(state: &mut GraphState, params: &Params) -> Reply {
    let caption = params.get("caption");
    if caption.is_some_and(|caption| caption.chars().count() > CAPTION_LIMIT) {
        return Err(invalid(&format!("Param caption must be at most {CAPTION_LIMIT} characters long")));
    }
    let mut container = match params.get("media_type").map(String::as_str) {
        None => image_container(params)?,
        // VIDEO is what carousel items use for a video; both process the same way.
        Some(kind @ ("REELS" | "VIDEO")) => {
            json!({ "media_type": kind, "video_url": required(params, "video_url")?, "status_code": "IN_PROGRESS" })
        }
        Some("CAROUSEL") => carousel_container(state, params)?,
        Some(_) => return Err(invalid("Param media_type must be one of {CAROUSEL, REELS, VIDEO}")),
    };
    let id = (17_890_000_000_000_001 + state.containers.len() as u64).to_string();
    container["id"] = json!(id);
    container["caption"] = json!(caption);
    container["is_carousel_item"] = json!(params.get("is_carousel_item").is_some_and(|item| item == "true"));
    state.containers.push(container);
    Ok(json!({ "id": id }))
}

/// A base-64 rendering of the media number, shaped like Instagram's shortcodes.
fn shortcode(mut number: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut code = Vec::new();
    while number > 0 {
        code.push(char::from(ALPHABET[(number % 64) as usize]));
        number /= 64;
    }
    code.into_iter().rev().collect()
}

fn publish(state: &mut GraphState, params: &Params) -> Reply {
    let creation_id = required(params, "creation_id")?;
    let Some(container) = state.containers.iter_mut().find(|container| container["id"] == creation_id) else {
        return Err(invalid(&format!(
            "Param creation_id: {creation_id} is not a media container of this account"
        )));
    };
    if container["is_carousel_item"] == true {
        return Err(invalid("A carousel item can only be published inside a carousel"));
    }
    // Still processing, or already published: a container publishes once.
    if container["status_code"] != "FINISHED" {
        return Err(bad_request(9007, Some(2207027), "Media ID is not available"));
    }
    container["status_code"] = json!("PUBLISHED");
    let (media_type, product) = match container["media_type"].as_str() {
        Some("IMAGE") => ("IMAGE", "FEED"),
        Some("CAROUSEL") => ("CAROUSEL_ALBUM", "FEED"),
        _ => ("VIDEO", "REELS"),
    };
    let number = 17_920_000_000_000_001 + state.media.len() as u64;
    let media = json!({
        "id": number.to_string(),
        "caption": container["caption"],
        "media_type": media_type,
        "media_product_type": product,
        "permalink": format!("https://www.instagram.com/p/{}/", shortcode(number)),
        "timestamp": graph_time(),
        "like_count": 0,
        "comments_count": 0,
    });
    state.media.push(media);
    Ok(json!({ "id": number.to_string() }))
}

fn list_media(state: &GraphState, params: &Params) -> Reply {
    let limit = number(params, "limit")?.unwrap_or(25);
    let data: Vec<Value> = state.media.iter().rev().take(limit).cloned().collect();
    Ok(json!({ "data": data, "paging": {} }))
}
