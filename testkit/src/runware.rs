//! A fake Runware for tests: real HTTP on `127.0.0.1:<random port>`, Runware's REST wire
//! format, its error answers and scripted failures.
//!
//! - `POST /v1`: a JSON array of tasks. Each `imageInference` task is checked as Runware
//!   checks it (`taskUUID` a UUID, `positivePrompt` 2–3000 characters, `model` one of
//!   `set_models`, `width`/`height` multiples of 64 from 128 to 2048, `numberResults` 1–4)
//!   and answered `{"data": [{"taskType", "taskUUID", "imageUUID", "imageURL", "cost"}]}`,
//!   where `imageURL` is on this server and `cost` is sent when `includeCost` is. A task that
//!   fails a check gets `400 {"errors": [{"code", "message", "parameter", "taskType",
//!   "taskUUID"}]}` (`invalidModel`, `invalidWidth`, `invalidPositivePrompt`…).
//! - `GET /images/{imageUUID}.png`: the picture, a placeholder PNG at an eighth of the size
//!   asked for.
//!
//! Every `POST` needs `Authorization: Bearer <api_key()>`, else `401` with
//! `invalidApiKey`; authorised ones then take the next scripted `Failure`, if any.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, http::StatusCode, web};
use serde_json::{Value, json};
use shared::ai::{RunwareSettings, placeholder_png};
use uuid::Uuid;

/// What the next authorised `POST` gets instead of a normal answer.
#[derive(Clone, Debug)]
pub enum Failure {
    /// 429 with Runware's error body and `Retry-After: <seconds>`.
    RateLimited { retry_after_secs: u64 },
    /// 500 with Runware's error body.
    ServerError,
    /// 402: the account at Runware has no credit left.
    InsufficientCredits,
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// 200 whose `data` holds no result for the task.
    NoResult,
    /// 200 whose `imageURL` answers 404.
    BrokenImageUrl,
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub authorized: bool,
    /// The JSON body (`Null` for none or non-JSON).
    pub body: Value,
}

struct State {
    failures: VecDeque<Failure>,
    models: Vec<String>,
    /// The cost reported per image, as JSON number text.
    cost: String,
    /// Pictures drawn: image UUID → (prompt, width, height).
    drawn: HashMap<Uuid, (String, u32, u32)>,
    received: Vec<Received>,
}

struct Inner {
    api_key: String,
    base: String,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake; stops when dropped.
pub struct FakeRunware {
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl FakeRunware {
    /// Binds `127.0.0.1:0` and serves in the background.
    pub async fn start() -> Self {
        let (listener, port) = crate::serve::loopback_listener();
        let inner = Arc::new(Inner {
            api_key: format!("rw-fake-{}", Uuid::new_v4().simple()),
            base: format!("http://127.0.0.1:{port}"),
            state: Mutex::new(State {
                failures: VecDeque::new(),
                models: vec!["runware:100@1".to_owned(), "runware:101@1".to_owned()],
                cost: "0.0013".to_owned(),
                drawn: HashMap::new(),
                received: Vec::new(),
            }),
        });
        let handle = crate::serve::serve_fake(listener, inner.clone(), handle);
        Self { inner, handle }
    }

    /// `http://127.0.0.1:<port>/v1`
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.inner.base)
    }

    pub fn api_key(&self) -> &str {
        &self.inner.api_key
    }

    /// Settings for `RunwareProvider` pointing here, with test-friendly timings (2 s timeout,
    /// 2 retries, 10 ms base backoff).
    pub fn settings(&self) -> RunwareSettings {
        RunwareSettings {
            base_url: self.base_url(),
            timeout: Duration::from_secs(2),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(10),
            ..RunwareSettings::new(self.api_key())
        }
    }

    /// The next authorised `POST` fails this way.
    pub fn push_failure(&self, failure: Failure) {
        self.inner.state().failures.push_back(failure);
    }

    /// The models `imageInference` accepts.
    pub fn set_models(&self, models: &[&str]) {
        self.inner.state().models = models.iter().map(|m| (*m).to_owned()).collect();
    }

    /// The cost each image reports, as JSON number text (`"0.0013"` by default).
    pub fn set_cost(&self, cost: &str) {
        self.inner.state().cost = cost.to_owned();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.inner.state().received.clone()
    }

    /// The `imageInference` tasks received so far.
    pub fn tasks(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .filter_map(|r| r.body.as_array().cloned())
            .flatten()
            .collect()
    }
}

impl Drop for FakeRunware {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn handle(request: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let expected = format!("Bearer {}", inner.api_key);
    let authorized = request.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some(&expected);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (method, path) = (request.method().as_str().to_owned(), request.path().to_owned());
    let failure = {
        let mut state = inner.state();
        state.received.push(Received {
            method: method.clone(),
            path: path.clone(),
            authorized,
            body: body.clone(),
        });
        if authorized && method == "POST" { state.failures.pop_front() } else { None }
    };
    if method == "GET"
        && let Some(name) = path.strip_prefix("/images/").and_then(|name| name.strip_suffix(".png"))
    {
        return picture(&inner, name);
    }
    if (method.as_str(), path.as_str()) != ("POST", "/v1") {
        return errors(
            404,
            &[problem("notFound", &format!("Unknown endpoint {method} {path}."), None, &Value::Null)],
        );
    }
    if !authorized {
        let task = body.get(0).cloned().unwrap_or(Value::Null);
        return errors(
            401,
            &[problem(
                "invalidApiKey",
                "Invalid API key. Get one at https://my.runware.ai/signup",
                Some("apiKey"),
                &task,
            )],
        );
    }
    let mut broken_url = false;
    match failure {
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::RateLimited { retry_after_secs }) => {
            let mut response =
                errors(429, &[problem("rateLimitExceeded", "Too many requests.", None, &Value::Null)]);
            if let Ok(value) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(Failure::ServerError) => {
            return errors(
                500,
                &[problem("internalError", "An unexpected error occurred.", None, &Value::Null)],
            );
        }
        Some(Failure::InsufficientCredits) => {
            return errors(
                402,
                &[problem(
                    "insufficientCredits",
                    "Insufficient credits. Top up your account.",
                    None,
                    &Value::Null,
                )],
            );
        }
        Some(Failure::NoResult) => return HttpResponse::Ok().json(json!({ "data": [] })),
        Some(Failure::BrokenImageUrl) => broken_url = true,
        None => {}
    }
    let Some(tasks) = body.as_array().filter(|tasks| !tasks.is_empty()) else {
        return errors(
            400,
            &[problem(
                "invalidPayload",
                "The request body must be a non-empty JSON array of tasks.",
                None,
                &Value::Null,
            )],
        );
    };
    let mut data = Vec::new();
    for task in tasks {
        match infer(&inner, task, broken_url) {
            Ok(result) => data.push(result),
            Err(problem) => return errors(400, &[problem]),
        }
    }
    HttpResponse::Ok().json(json!({ "data": data }))
}

/// One `imageInference` task's result, or the error Runware gives it.
fn infer(inner: &Inner, task: &Value, broken_url: bool) -> Result<Value, Value> {
    if task["taskType"] != "imageInference" {
        return Err(problem("invalidTaskType", "Unsupported taskType.", Some("taskType"), task));
    }
    if task["taskUUID"].as_str().and_then(|uuid| Uuid::parse_str(uuid).ok()).is_none() {
        return Err(problem("invalidTaskUUID", "taskUUID must be a UUID v4 string.", Some("taskUUID"), task));
    }
    let prompt = task["positivePrompt"].as_str().unwrap_or_default();
    if !(2..=3000).contains(&prompt.chars().count()) {
        return Err(problem(
            "invalidPositivePrompt",
            "Invalid value for 'positivePrompt' parameter. It must be between 2 and 3000 characters.",
            Some("positivePrompt"),
            task,
        ));
    }
    let model = task["model"].as_str().unwrap_or_default();
    let mut state = inner.state();
    if !state.models.iter().any(|known| known == model) {
        return Err(problem(
            "invalidModel",
            &format!("Invalid value for 'model' parameter. The model '{model}' does not exist."),
            Some("model"),
            task,
        ));
    }
    let side = |name: &str| task[name].as_u64().filter(|n| (128..=2048).contains(n) && n % 64 == 0);
    let (Some(width), Some(height)) = (side("width"), side("height")) else {
        let parameter = if side("width").is_none() { "width" } else { "height" };
        return Err(problem(
            if parameter == "width" { "invalidWidth" } else { "invalidHeight" },
            &format!(
                "Invalid value for '{parameter}' parameter. It must be a multiple of 64 between 128 and 2048."
            ),
            Some(parameter),
            task,
        ));
    };
    if task["numberResults"].as_u64().is_some_and(|n| !(1..=4).contains(&n)) {
        return Err(problem(
            "invalidNumberResults",
            "numberResults must be 1 to 4.",
            Some("numberResults"),
            task,
        ));
    }
    let image_uuid = Uuid::new_v4();
    let (width, height) = (u32::try_from(width).unwrap_or(128), u32::try_from(height).unwrap_or(128));
    if !broken_url {
        state.drawn.insert(image_uuid, (prompt.to_owned(), width, height));
    }
    let mut result = json!({
        "taskType": "imageInference",
        "taskUUID": task["taskUUID"],
        "imageUUID": image_uuid,
        "imageURL": format!("{}/images/{image_uuid}.png", inner.base),
        "seed": 42,
    });
    if task["includeCost"] == true
        && let Ok(cost) = serde_json::from_str::<Value>(&state.cost)
    {
        result["cost"] = cost;
    }
    Ok(result)
}

fn picture(inner: &Inner, name: &str) -> HttpResponse {
    let drawn = Uuid::parse_str(name).ok().and_then(|uuid| inner.state().drawn.get(&uuid).cloned());
    match drawn {
        Some((prompt, width, height)) => HttpResponse::Ok().content_type("image/png").body(placeholder_png(
            &prompt,
            (width / 8).max(1),
            (height / 8).max(1),
        )),
        None => HttpResponse::NotFound().finish(),
    }
}

fn problem(code: &str, message: &str, parameter: Option<&str>, task: &Value) -> Value {
    let mut problem = json!({ "code": code, "message": message });
    if let Some(parameter) = parameter {
        problem["parameter"] = json!(parameter);
    }
    if let Some(task_type) = task.get("taskType") {
        problem["taskType"] = task_type.clone();
    }
    if let Some(uuid) = task.get("taskUUID") {
        problem["taskUUID"] = uuid.clone();
    }
    problem
}

fn errors(status: u16, problems: &[Value]) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(json!({ "errors": problems }))
}
