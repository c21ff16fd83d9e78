//! A fake OpenAI-compatible server for tests: real HTTP on
//! `127.0.0.1:<random port>`, the real wire format, scripted failures.
//!
//! - `POST /v1/chat/completions`: answers from the queue of scripted answers
//!   (`push_answer`), else from the `answer_with` closure, else an echo of the last user
//!   message (as `{"reply": ...}` when `response_format` is `json_object`).
//! - `POST /v1/embeddings`: hashed bag-of-words vectors (64 dimensions, or `dimensions`),
//!   unit length, `usage.prompt_tokens` = `ai::estimate_tokens` summed. The `data` list is
//!   returned in reverse order with correct `index` fields, as the protocol allows, so a
//!   client that ignores `index` is caught.
//! - `POST /v1/images/generations`: one image per request as `b64_json` (a placeholder PNG
//!   at an eighth of the requested `size`, or the bytes queued with `push_image` or given by
//!   `answer_images_with`), with
//!   `usage` like GPT image models report it.
//! - `GET /v1/models`: the models in `set_models` (by default gpt-4o-mini and
//!   text-embedding-3-small).
//!
//! Every request needs `Authorization: Bearer <api_key()>` (else 401 with OpenAI's error
//! JSON) and is recorded (`requests()`); authorised requests then take the next scripted
//! `Failure`, if any, else the one `fail_when` picks for their body.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use actix_web::{
    HttpRequest, HttpResponse,
    dev::ServerHandle,
    http::{
        StatusCode,
        header::{HeaderName, HeaderValue},
    },
    web,
};
use serde_json::{Value, json};

use base64::Engine;

use shared::ai::{MAX_EMBEDDING_BATCH, OpenAiSettings, estimate_tokens, hashed_embedding, placeholder_png};

const DEFAULT_DIMENSIONS: usize = 64;

/// What the next request gets instead of a normal answer.
#[derive(Clone, Debug)]
pub enum Failure {
    /// 429 with OpenAI's rate-limit error body.
    RateLimited { retry_after: Option<RetryAfter> },
    /// 500 with OpenAI's server-error body.
    ServerError,
    /// Any status, with an OpenAI error body.
    Status(u16),
    /// 200 whose body is not JSON.
    MalformedBody,
    /// 200 with a well-formed chat completion that has no choices.
    NoChoices,
    /// Waits this long, then answers normally (longer than the client's timeout to test it).
    Slow(Duration),
}

/// How a 429 says when to come back.
#[derive(Clone, Copy, Debug)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`
    Seconds(u64),
    /// `Retry-After: <HTTP date>`
    Date(SystemTime),
    /// `retry-after-ms: <ms>` (OpenAI and Azure send it besides `Retry-After`).
    Millis(u64),
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Including the `/v1` prefix, e.g. `/v1/chat/completions`.
    pub path: String,
    pub authorized: bool,
    /// The JSON body (`Null` for none or non-JSON).
    pub body: Value,
    pub at: Instant,
}

type Answerer = Box<dyn Fn(&Value) -> String + Send + Sync>;
type ImageAnswerer = Box<dyn Fn(&Value) -> Option<Vec<u8>> + Send + Sync>;
type FailWhen = Box<dyn Fn(&Value) -> Option<Failure> + Send + Sync>;

#[derive(Default)]
struct State {
    failures: VecDeque<Failure>,
    answers: VecDeque<String>,
    images: VecDeque<Vec<u8>>,
    image_answerer: Option<ImageAnswerer>,
    fail_when: Option<FailWhen>,
    answerer: Option<Answerer>,
    models: Vec<String>,
    received: Vec<Received>,
}

struct Inner {
    api_key: String,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide every later assertion behind a poison error.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake; stops when dropped.
pub struct FakeOpenAi {
    base_url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl FakeOpenAi {
    /// Binds `127.0.0.1:0` and serves in the background.
    pub async fn start() -> Self {
        let api_key = format!("sk-fake-{}", uuid::Uuid::new_v4().simple());
        let inner = Arc::new(Inner {
            api_key,
            state: Mutex::new(State {
                models: vec!["gpt-4o-mini".to_owned(), "text-embedding-3-small".to_owned()],
                ..State::default()
            }),
        });
        let (listener, port) = crate::serve::loopback_listener();
        let handle = crate::serve::serve_fake(listener, inner.clone(), handle);
        Self { base_url: format!("http://127.0.0.1:{port}/v1"), inner, handle }
    }

    /// `http://127.0.0.1:<port>/v1`
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key(&self) -> &str {
        &self.inner.api_key
    }

    /// Settings for `OpenAiProvider` pointing here, with test-friendly timings (2 s timeout,
    /// 2 retries, 10 ms base backoff).
    pub fn settings(&self) -> OpenAiSettings {
        OpenAiSettings {
            base_url: self.base_url.clone(),
            timeout: Duration::from_secs(2),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(10),
            ..OpenAiSettings::new(self.api_key())
        }
    }

    /// The next authorised request fails this way.
    pub fn push_failure(&self, failure: Failure) {
        self.inner.state().failures.push_back(failure);
    }

    /// The next `times` authorised requests fail this way.
    pub fn push_failures(&self, failure: Failure, times: usize) {
        let mut state = self.inner.state();
        state.failures.extend(std::iter::repeat_n(failure, times));
    }

    /// Authorised requests with no queued failure fail the way `decide` says for their body
    /// (`None`: answer normally); for failures tied to one item of a batch.
    pub fn fail_when(&self, decide: impl Fn(&Value) -> Option<Failure> + Send + Sync + 'static) {
        self.inner.state().fail_when = Some(Box::new(decide));
    }

    /// The next chat completion answers with this content.
    pub fn push_answer(&self, content: impl Into<String>) {
        self.inner.state().answers.push_back(content.into());
    }

    /// The next image generation answers with these bytes (base64-encoded), whatever they are.
    pub fn push_image(&self, bytes: impl Into<Vec<u8>>) {
        self.inner.state().images.push_back(bytes.into());
    }

    /// Image generations with no queued image answer with the bytes `answer` gives for the
    /// request body, or the placeholder when it gives `None`.
    pub fn answer_images_with(&self, answer: impl Fn(&Value) -> Option<Vec<u8>> + Send + Sync + 'static) {
        self.inner.state().image_answerer = Some(Box::new(answer));
    }

    /// Chat completions with no queued answer are answered by `answer` from the request body.
    pub fn answer_with(&self, answer: impl Fn(&Value) -> String + Send + Sync + 'static) {
        self.inner.state().answerer = Some(Box::new(answer));
    }

    /// What `GET /v1/models` lists.
    pub fn set_models(&self, models: &[&str]) {
        self.inner.state().models = models.iter().map(|m| (*m).to_owned()).collect();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.inner.state().received.clone()
    }

    /// Requests so far to `path` (e.g. `/v1/chat/completions`).
    pub fn count(&self, path: &str) -> usize {
        self.inner.state().received.iter().filter(|r| r.path == path).count()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        // `stop` sends the command at once; its future only waits for completion.
        drop(self.handle.stop(false));
    }
}

async fn handle(request: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let expected = format!("Bearer {}", inner.api_key);
    let authorized = request.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some(&expected);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = request.path().to_owned();
    let method = request.method().as_str().to_owned();
    let failure = {
        let mut state = inner.state();
        state.received.push(Received {
            method: method.clone(),
            path: path.clone(),
            authorized,
            body: body.clone(),
            at: Instant::now(),
        });
        if !authorized {
            None
        } else if let Some(failure) = state.failures.pop_front() {
            Some(failure)
        } else {
            state.fail_when.as_ref().and_then(|decide| decide(&body))
        }
    };
    if !authorized {
        return error(401, "Incorrect API key provided.", "invalid_request_error", Some("invalid_api_key"));
    }
    match failure {
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(failure) => return fail(&failure),
        None => {}
    }
    match (method.as_str(), path.as_str()) {
        ("POST", "/v1/chat/completions") => chat(&inner, &body),
        ("POST", "/v1/embeddings") => embeddings(&body),
        ("POST", "/v1/images/generations") => images(&inner, &body),
        ("GET", "/v1/models") => models(&inner),
        _ => error(
            404,
            &format!("Unknown request URL: {method} {path}."),
            "invalid_request_error",
            Some("unknown_url"),
        ),
    }
}

fn fail(failure: &Failure) -> HttpResponse {
    match failure {
        Failure::RateLimited { retry_after } => {
            let mut response = error(
                429,
                "Rate limit reached for requests. Please try again later.",
                "requests",
                Some("rate_limit_exceeded"),
            );
            let header = match retry_after {
                Some(RetryAfter::Seconds(seconds)) => Some(("retry-after", seconds.to_string())),
                Some(RetryAfter::Date(at)) => Some(("retry-after", http_date(*at))),
                Some(RetryAfter::Millis(ms)) => Some(("retry-after-ms", ms.to_string())),
                None => None,
            };
            if let Some((name, value)) = header
                && let Ok(value) = HeaderValue::from_str(&value)
            {
                response.headers_mut().insert(HeaderName::from_static(name), value);
            }
            response
        }
        Failure::ServerError => {
            error(500, "The server had an error while processing your request.", "server_error", None)
        }
        Failure::Status(status) => {
            error(*status, &format!("Scripted failure {status}."), "invalid_request_error", None)
        }
        Failure::MalformedBody => HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"id\": \"chatcmpl-broken\", \"choices\": [ this is not JSON"),
        Failure::NoChoices => HttpResponse::Ok().json(json!({
            "id": "chatcmpl-empty", "object": "chat.completion", "created": now_secs(),
            "model": "gpt-4o-mini", "choices": [],
            "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
        })),
        Failure::Slow(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}}))
}

fn chat(inner: &Inner, body: &Value) -> HttpResponse {
    let model = body["model"].as_str().unwrap_or_default();
    let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
        return error(400, "'messages' must be a non-empty array.", "invalid_request_error", None);
    };
    if model.is_empty() {
        return error(400, "you must provide a model parameter", "invalid_request_error", None);
    }
    let json_mode = body["response_format"]["type"] == "json_object";
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let content = {
        let mut state = inner.state();
        match state.answers.pop_front() {
            Some(answer) => answer,
            None => match &state.answerer {
                Some(answer) => answer(body),
                None if json_mode => json!({ "reply": last_user }).to_string(),
                None => last_user,
            },
        }
    };
    let prompt: String = messages.iter().filter_map(|m| m["content"].as_str()).collect::<Vec<_>>().join("\n");
    let (prompt_tokens, completion_tokens) = (estimate_tokens(&prompt), estimate_tokens(&content));
    HttpResponse::Ok().json(json!({
        "id": format!("chatcmpl-fake-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": now_secs(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "finish_reason": "stop",
            "logprobs": null,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }))
}

fn embeddings(body: &Value) -> HttpResponse {
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect()
        }
        _ => {
            return error(
                400,
                "'input' must be a string or an array of strings.",
                "invalid_request_error",
                None,
            );
        }
    };
    if inputs.is_empty() || inputs.len() > MAX_EMBEDDING_BATCH {
        return error(400, "'input' must hold 1 to 2048 items.", "invalid_request_error", None);
    }
    let dimensions =
        body["dimensions"].as_u64().and_then(|d| usize::try_from(d).ok()).unwrap_or(DEFAULT_DIMENSIONS);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(index, text)| {
            json!({"object": "embedding", "index": index, "embedding": hashed_embedding(text, dimensions)})
        })
        .collect();
    let tokens: u32 = inputs.iter().map(|text| estimate_tokens(text)).sum();
    HttpResponse::Ok().json(json!({
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
}

fn images(inner: &Inner, body: &Value) -> HttpResponse {
    let prompt = body["prompt"].as_str().unwrap_or_default();
    if prompt.trim().is_empty() {
        return error(
            400,
            "'prompt' is required.",
            "invalid_request_error",
            Some("missing_required_parameter"),
        );
    }
    if prompt.chars().count() > 32_000 {
        return error(400, "'prompt' is too long.", "invalid_request_error", Some("string_above_max_length"));
    }
    if body["n"].as_u64().is_some_and(|n| !(1..=10).contains(&n)) {
        return error(400, "'n' must be between 1 and 10.", "invalid_request_error", None);
    }
    let size = body["size"].as_str().unwrap_or("1024x1024");
    let Some((width, height)) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .filter(|(w, h)| (256..=4096).contains(w) && (256..=4096).contains(h))
    else {
        return error(
            400,
            &format!("Invalid size '{size}'."),
            "invalid_request_error",
            Some("invalid_value"),
        );
    };
    let scripted = {
        let mut state = inner.state();
        match state.images.pop_front() {
            Some(bytes) => Some(bytes),
            None => state.image_answerer.as_ref().and_then(|answer| answer(body)),
        }
    };
    let bytes = scripted.unwrap_or_else(|| placeholder_png(prompt, width / 8, height / 8));
    let tokens = estimate_tokens(prompt);
    HttpResponse::Ok().json(json!({
        "created": now_secs(),
        "data": [{ "b64_json": base64::engine::general_purpose::STANDARD.encode(bytes) }],
        "background": "opaque",
        "output_format": "png",
        "size": size,
        "quality": "medium",
        "usage": {
            "input_tokens": tokens,
            "output_tokens": 1056,
            "total_tokens": tokens + 1056,
            "input_tokens_details": { "text_tokens": tokens, "image_tokens": 0 },
        },
    }))
}

fn models(inner: &Inner) -> HttpResponse {
    let data: Vec<Value> = inner
        .state()
        .models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}))
        .collect();
    HttpResponse::Ok().json(json!({"object": "list", "data": data}))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// RFC 7231 IMF-fixdate, e.g. `Wed, 21 Oct 2015 07:28:00 GMT`.
fn http_date(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
