//! A fake LinkedIn (versioned REST API) for one member who administers one organization:
//! `GET /v2/userinfo`, `POST /rest/images?action=initializeUpload` then `PUT` of the bytes to
//! the upload URL it gives, `POST /rest/posts` (`201`, the share's URN only in `x-restli-id`),
//! `GET /rest/posts/{urn}`, `GET /rest/posts?q=author` and `GET /rest/socialActions/{urn}`.
//! Every `/rest/` call needs `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`; URNs in
//! paths and queries come percent-encoded. A 429 carries `Retry-After` (seconds).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, http::Method, http::StatusCode, web};
use serde_json::{Value, json};

use super::{Failure, FakePlatform, Gate, Platform, bearer};

/// The member every token belongs to (OpenID `sub` `782bbtaQ`).
pub const PERSON_URN: &str = "urn:li:person:782bbtaQ";
/// The company page the member administers.
pub const ORGANIZATION_URN: &str = "urn:li:organization:5515715";

const MAX_COMMENTARY: usize = 3000;

#[derive(Default)]
pub struct LinkedInState {
    posts: Vec<Value>,
    images: Vec<Value>,
    /// Likes and comments by share URN, kept apart so posts keep the API's shape.
    reactions: BTreeMap<String, (i64, i64)>,
}

pub type FakeLinkedIn = FakePlatform<LinkedInState>;

impl FakePlatform<LinkedInState> {
    pub async fn start() -> Self {
        FakePlatform::serve("linkedin", LinkedInState::default(), handle)
    }

    /// Posts made, in order, as `GET /rest/posts/{urn}` answers them.
    pub fn posts(&self) -> Vec<Value> {
        self.with(|state| state.posts.clone())
    }

    /// Images registered, in order: `id` (URN), `owner`, `status` and uploaded `bytes`.
    pub fn images(&self) -> Vec<Value> {
        self.with(|state| state.images.clone())
    }

    /// Sets a post's likes and comments, as readers would.
    pub fn react(&self, urn: &str, likes: i64, comments: i64) {
        self.with(|state| {
            state.reactions.insert(urn.to_owned(), (likes, comments));
        });
    }
}

/// LinkedIn's error document: `status` plus whatever `code`, `serviceErrorCode` and `message`.
fn error(status: StatusCode, mut body: Value) -> HttpResponse {
    body["status"] = json!(status.as_u16());
    HttpResponse::build(status).json(body)
}

fn message(status: StatusCode, message: &str) -> HttpResponse {
    error(status, json!({ "message": message }))
}

fn access_denied(resource: &str) -> HttpResponse {
    let message = format!("Not enough permissions to access: {resource}");
    error(
        StatusCode::FORBIDDEN,
        json!({ "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": message }),
    )
}

fn not_found(what: &str) -> HttpResponse {
    error(StatusCode::NOT_FOUND, json!({ "code": "NOT_FOUND", "message": format!("Not Found: {what}") }))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Percent-decodes a path segment. Form decoding would also turn `+` into a space and split at
/// `=` or `&`, none of which a URN contains unencoded.
fn decode(segment: &str) -> String {
    url::form_urlencoded::parse(segment.as_bytes())
        .next()
        .map(|(urn, _)| urn.into_owned())
        .unwrap_or_default()
}

fn may_act_as(urn: &str) -> bool {
    urn == PERSON_URN || urn == ORGANIZATION_URN
}

/// What the versioned API asks of every `/rest/` call before it looks at it.
fn check_versioning(request: &HttpRequest) -> Option<HttpResponse> {
    let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
    let Some(version) = header("linkedin-version") else {
        let message =
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.";
        return Some(error(
            StatusCode::BAD_REQUEST,
            json!({ "code": "VERSION_MISSING", "message": message }),
        ));
    };
    if version.len() != 6 || !version.bytes().all(|byte| byte.is_ascii_digit()) {
        let message = format!("Requested version {version} is not active");
        return Some(error(
            StatusCode::UPGRADE_REQUIRED,
            json!({ "code": "NONEXISTENT_VERSION", "message": message }),
        ));
    }
    if header("x-restli-protocol-version") != Some("2.0.0") {
        return Some(message(StatusCode::BAD_REQUEST, "X-Restli-Protocol-Version 2.0.0 is required"));
    }
    None
}

async fn handle(
    request: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Platform<LinkedInState>>,
) -> HttpResponse {
    let write = matches!(*request.method(), Method::POST | Method::PUT);
    match inner.gate(bearer(&request).as_deref(), write).await {
        Gate::Unauthorized => {
            let code = "INVALID_ACCESS_TOKEN";
            let body = json!({ "serviceErrorCode": 65600, "code": code, "message": "Invalid access token" });
            return error(StatusCode::UNAUTHORIZED, body);
        }
        Gate::Fail(Failure::RateLimited(wait)) => {
            // Rounded up, so a client waiting this long never comes back early.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let message =
                "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.";
            return HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", seconds.to_string()))
                .json(json!({ "status": 429, "message": message }));
        }
        Gate::Fail(_) => return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        Gate::Pass => {}
    }
    let path = request.path().to_owned();
    if path.starts_with("/rest/")
        && let Some(refusal) = check_versioning(&request)
    {
        return refusal;
    }
    let query = web::Query::<BTreeMap<String, String>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let mut guard = inner.lock();
    let state = &mut guard.1;
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/v2/userinfo") => HttpResponse::Ok().json(json!({
            "sub": "782bbtaQ", "name": "Switchyard Marketing", "given_name": "Switchyard",
            "family_name": "Marketing", "email_verified": true,
        })),
        (Method::POST, "/rest/images")
            if query.get("action").map(String::as_str) == Some("initializeUpload") =>
        {
            initialize_upload(&body, &inner.base, state)
        }
        (Method::PUT, path) if let Some(n) = path.strip_prefix("/upload/images/") => {
            let urn = format!("urn:li:image:C4E10AQ{n}");
            match state.images.iter_mut().find(|image| image["id"] == urn.as_str()) {
                None => not_found(&urn),
                Some(_) if body.is_empty() => message(StatusCode::BAD_REQUEST, "The upload has no content"),
                Some(image) => {
                    image["status"] = json!("AVAILABLE");
                    image["bytes"] = json!(body.len());
                    HttpResponse::Created().finish()
                }
            }
        }
        (Method::POST, "/rest/posts") => create_post(&body, state),
        (Method::GET, "/rest/posts") => posts_by_author(&query, state),
        (Method::GET, path) if let Some(urn) = path.strip_prefix("/rest/posts/") => {
            let urn = decode(urn);
            match state.posts.iter().find(|post| post["id"] == urn.as_str()) {
                Some(post) => HttpResponse::Ok().json(post),
                None => not_found(&urn),
            }
        }
        (Method::GET, path) if let Some(urn) = path.strip_prefix("/rest/socialActions/") => {
            let urn = decode(urn);
            if !state.posts.iter().any(|post| post["id"] == urn.as_str()) {
                return not_found(&urn);
            }
            let (likes, comments) = state.reactions.get(&urn).copied().unwrap_or_default();
            HttpResponse::Ok().json(json!({
                "target": urn,
                "likesSummary": { "totalLikes": likes, "likedByCurrentUser": false },
                "commentsSummary": {
                    "aggregatedTotalComments": comments, "totalFirstLevelComments": comments,
                },
            }))
        }
        _ => not_found(&path),
    }
}

fn initialize_upload(body: &[u8], base: &str, state: &mut LinkedInState) -> HttpResponse {
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let owner = input["initializeUploadRequest"]["owner"].as_str().unwrap_or_default();
    if !may_act_as(owner) {
        return access_denied("images.ACTION.initializeUpload");
    }
    let n = state.images.len() + 1;
    let urn = format!("urn:li:image:C4E10AQ{n}");
    state.images.push(json!({ "id": urn, "owner": owner, "status": "WAITING_UPLOAD", "bytes": 0 }));
    HttpResponse::Ok().json(json!({ "value": {
        "uploadUrlExpiresAt": now_ms() + 24 * 60 * 60 * 1000,
        "uploadUrl": format!("{base}/upload/images/{n}"),
        "image": urn,
    }}))
}

/// The image URNs a post's `content` refers to, single or multi-image.
fn content_images(content: &Value) -> Vec<&Value> {
    let single = content["media"]["id"].is_string().then(|| &content["media"]["id"]);
    let multi = content["multiImage"]["images"].as_array().into_iter().flatten().map(|image| &image["id"]);
    single.into_iter().chain(multi).collect()
}

fn create_post(body: &[u8], state: &mut LinkedInState) -> HttpResponse {
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return message(StatusCode::BAD_REQUEST, "Unable to parse the request body as JSON");
    };
    for field in ["author", "commentary", "lifecycleState"] {
        if !input[field].is_string() {
            let text =
                format!("ERROR :: /{field} :: field is required but not found and has no default value\n");
            return message(StatusCode::UNPROCESSABLE_ENTITY, &text);
        }
    }
    if !may_act_as(input["author"].as_str().unwrap_or_default()) {
        return access_denied("partnerApiPostsExternal.CREATE.20241101");
    }
    if input["commentary"].as_str().unwrap_or_default().chars().count() > MAX_COMMENTARY {
        let text =
            format!("ERROR :: /commentary :: length of commentary exceeds {MAX_COMMENTARY} characters\n");
        return message(StatusCode::UNPROCESSABLE_ENTITY, &text);
    }
    for image in content_images(&input["content"]) {
        let known = state.images.iter().find(|known| &known["id"] == image);
        if known.is_none_or(|known| known["status"] != "AVAILABLE") {
            let text =
                format!("Media asset {} is not found or not ready", image.as_str().unwrap_or("(no id)"));
            return message(StatusCode::BAD_REQUEST, &text);
        }
    }
    let urn = format!("urn:li:share:{}", 7_260_000_000_000_000_001u64 + state.posts.len() as u64);
    let now = now_ms();
    let mut post = json!({
        "id": urn,
        "author": input["author"],
        "commentary": input["commentary"],
        "visibility": input["visibility"],
        "distribution": input["distribution"],
        "lifecycleState": input["lifecycleState"],
        "isReshareDisabledByAuthor": input["isReshareDisabledByAuthor"].as_bool().unwrap_or(false),
        "createdAt": now,
        "publishedAt": now,
        "lastModifiedAt": now,
    });
    if !input["content"].is_null() {
        post["content"] = input["content"].clone();
    }
    state.posts.push(post);
    HttpResponse::Created().insert_header(("x-restli-id", urn)).finish()
}

/// `q=author`: the author's posts, newest first.
fn posts_by_author(query: &BTreeMap<String, String>, state: &LinkedInState) -> HttpResponse {
    if query.get("q").map(String::as_str) != Some("author") {
        return message(StatusCode::BAD_REQUEST, "Invalid query parameters passed to request");
    }
    let Some(author) = query.get("author") else {
        return message(StatusCode::BAD_REQUEST, "The author query parameter is required");
    };
    let number =
        |name: &str, default: usize| query.get(name).map_or(Some(default), |value| value.parse().ok());
    let (Some(start), Some(count)) = (number("start", 0), number("count", 10)) else {
        return message(StatusCode::BAD_REQUEST, "start and count must be non-negative integers");
    };
    let elements: Vec<&Value> = state
        .posts
        .iter()
        .rev()
        .filter(|post| post["author"] == author.as_str())
        .skip(start)
        .take(count)
        .collect();
    HttpResponse::Ok().json(json!({
        "elements": elements,
        "paging": { "start": start, "count": count, "links": [] },
    }))
}
